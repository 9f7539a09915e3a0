//! Settings of the [`super::Hub`]: the served domain, the authorization
//! settings shared with SIP, offline storage, session and roster limits.
//!
//! # Defaults
//!
//! | setting | default | source |
//! |---|---|---|
//! | offline storage | on | product: "Suppress Offline Instant Messaging" off |
//! | offline messages per user | 100 | product |
//! | offline messages per node | 30 000 | product |
//! | sessions per user | 10 | product states none: chosen |
//! | contacts, watchers | 200 each | product (see [`ServiceConfig`]) |
//! | item name, group name | 255 bytes | product roster field limits |
//! | groups per item | 32 | chosen: bounds peer input |
//! | pending inbound requests per user | 500 | chosen: bounds peer input |
//! | directed-presence recipients remembered per session | 1000 | chosen: bounds peer input |

use std::collections::BTreeSet;

use presence_model::address::Domain;
use presence_model::authz::{Limit, ServiceConfig};

/// Bounds on what a client may put in a roster item (RFC 6121 §2.3.3
/// lets the server refuse oversized values with `<not-acceptable/>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RosterLimits {
    /// Longest item name in bytes. Default 255.
    pub max_name_len: usize,
    /// Longest group name in bytes. Default 255.
    pub max_group_len: usize,
    /// Most groups on one item. Default 32.
    pub max_groups: usize,
    /// Most pending inbound subscription requests kept per user; further
    /// requests are dropped. Default 500.
    pub max_pending_in: usize,
    /// Most entities one session's directed presence is remembered for
    /// (they get its unavailable presence at the end, RFC 6121 §4.6.3);
    /// beyond it directed presence is still delivered but not remembered.
    /// Default 1000.
    pub max_directed: usize,
}

impl Default for RosterLimits {
    fn default() -> Self {
        Self {
            max_name_len: 255,
            max_group_len: 255,
            max_groups: 32,
            max_pending_in: 500,
            max_directed: 1000,
        }
    }
}

/// Offline message storage (RFC 6121 §8.5.2.2.1, XEP-0160).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OfflineConfig {
    /// "Suppress Offline Instant Messaging": when on, a message for a user
    /// with no available resource is refused with `<service-unavailable/>`
    /// instead of stored. Off by default.
    pub suppress: bool,
    /// Most messages stored for one user. Default 100.
    pub per_user: Limit,
    /// Most messages stored on this node in all. Default 30 000.
    pub per_node: Limit,
}

impl Default for OfflineConfig {
    fn default() -> Self {
        Self {
            suppress: false,
            per_user: Limit::Max(100),
            per_node: Limit::Max(30_000),
        }
    }
}

/// Everything the hub is configured with.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HubConfig {
    /// The XMPP domain served (a JID domainpart).
    pub domain: String,
    /// Authorization switches and limits, shared with the SIP side.
    /// [`HubConfig::new`] makes `domain` its only local domain.
    pub authz: ServiceConfig,
    /// Offline storage.
    pub offline: OfflineConfig,
    /// "Maximum number of logon sessions per user". Default 10.
    pub max_sessions_per_user: Limit,
    /// Roster input bounds.
    pub roster: RosterLimits,
    /// Remote domains with a configured route (a server-to-server link the
    /// application provides); stanzas for any other remote domain are
    /// answered with `<remote-server-not-found/>`. Empty by default.
    pub remote_routes: BTreeSet<String>,
    /// Services hosted beside the domain (for example a XEP-0045
    /// `conference.` subdomain), listed in the domain's disco#items.
    pub disco_items: Vec<String>,
    /// Software name answered to XEP-0092 queries.
    pub software_name: String,
    /// Software version answered to XEP-0092 queries.
    pub software_version: String,
}

impl HubConfig {
    /// The defaults for serving `domain`.
    pub fn new(domain: impl Into<String>) -> Self {
        let domain = domain.into();
        let authz = ServiceConfig::new(Domain::parse(&domain).ok());
        Self {
            domain,
            authz,
            offline: OfflineConfig::default(),
            max_sessions_per_user: Limit::Max(10),
            roster: RosterLimits::default(),
            remote_routes: BTreeSet::new(),
            disco_items: Vec::new(),
            software_name: "imp".to_owned(),
            software_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}
