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
