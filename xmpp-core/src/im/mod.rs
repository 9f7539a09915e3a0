//! Instant messaging and presence service logic (RFC 6121) as a Sans-IO
//! hub: the rules of who receives which stanza.
//!
//! - [`Hub`]: session events and stanzas in, [`Delivery`] values out.
//!   Rosters and subscriptions (§2, §3), presence (§4), message routing
//!   with forking and a sticky resource, offline storage with XEP-0203
//!   delay stamps (§8, XEP-0160), the server's own answers (XEP-0030,
//!   XEP-0199, XEP-0092) and the per-user session limit.
//! - The authorization policy is [`presence_model::authz`]: the hub asks
//!   it about every subscription request, every message and every
//!   presence it sends to a watcher.
//! - [`Roster`], [`RosterItem`], [`Subscription`]: roster data.
//! - [`RosterStore`], [`OfflineStore`] (and
//!   [`presence_model::authz::PolicyStore`]): storage behind traits, with
//!   in-memory implementations.
//! - [`HubConfig`]: domain, limits and switches.
//!
//! Where each rule lives (private functions of the hub):
//!
//! | rule | where |
//! |---|---|
//! | roster get/set/remove, pushes, versioning, groups, names (§2) | `roster_get`, `roster_set`, `roster_remove` |
//! | subscription state machine, pre-approval, pending requests (§3) | `outbound_*`, `inbound_*` |
//! | authorization policy, contact and watcher limits (REQUIREMENTS §1, §4) | [`presence_model::authz`] calls in `inbound_subscribe`, `check_im`, `can_see` |
//! | initial, broadcast, directed and unavailable presence, probes, priority (§4) | `on_presence`, `broadcast`, [`Hub::session_ended`] |
//! | message routing, forking with a sticky resource, offline storage (§8, XEP-0160, XEP-0203) | `on_message`, `store_offline` |
//! | answers for the server itself: disco, ping, version (XEP-0030, -0199, -0092) | `server_iq` |
//! | sessions per user | `Hub::session_bound` |
//!
//! ```
//! use std::time::{Instant, SystemTime};
//! use presence_model::authz::InMemoryPolicyStore;
//! use xmpp_core::im::{Hub, HubConfig, InMemoryOfflineStore, InMemoryRosterStore, Now};
//! use xmpp_core::jid::Jid;
//! use xmpp_core::xml::Element;
//!
//! let mut hub = Hub::new(
//!     HubConfig::new("example.net"),
//!     InMemoryRosterStore::new(),
//!     InMemoryOfflineStore::new(),
//!     InMemoryPolicyStore::new(),
//!     |_: &Jid| true,
//! );
//! let now = Now::new(Instant::now(), SystemTime::now());
//! let ann = Jid::new("ann@example.net/pad").unwrap();
//! hub.session_bound(now, &ann).unwrap();
//! let ping = Element::new("iq", "jabber:client")
//!     .with_attr("type", "get")
//!     .with_attr("id", "p1")
//!     .with_child(Element::new("ping", "urn:xmpp:ping"));
//! let out = hub.handle_stanza(now, &ann, ping);
//! assert_eq!(out[0].to, ann);
//! assert_eq!(out[0].stanza.attr("type"), Some("result"));
//! ```

mod config;
mod hub;
mod roster;
mod store;
mod time;

pub use config::{HubConfig, OfflineConfig, RosterLimits};
pub use hub::{Delivery, Hub, ImError, Now};
pub use roster::{Roster, RosterItem, Subscription};
pub use store::{
    Accounts, InMemoryOfflineStore, InMemoryRosterStore, OfflineStore, RosterStore, StoreError,
};
pub use time::xep0082_datetime;
