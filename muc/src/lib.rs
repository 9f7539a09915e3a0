//! XEP-0045 multi-user chat: rooms (occupants, roles, affiliations,
//! configuration, history, moderation, invitations) and the service that
//! hosts them, as a Sans-IO fan-out engine.
//!
//! - [`MucService`]: the entry point. The host passes every stanza
//!   addressed to the service's domain to [`MucService::handle_stanza`]
//!   with the current `Instant` and wall-clock time, and writes out the
//!   returned [`Delivery`] values; it calls [`MucService::session_ended`]
//!   when a client's session goes away.
//! - [`Room`]: one room's state, readable for inspection.
//! - [`model`]: roles, affiliations and the permission rules of §5.
//! - [`config`]: service limits and the `muc#roomconfig` form (§10.2).
//! - [`store`]: the persistence trait for persistent rooms and archives.
//! - [`Delivery`] / [`Payload`]: a stanza serialized once, with a slot for
//!   the recipient's address, so a message to 1000 occupants costs one
//!   serialization and 1000 reference-count increments.
//!
//! No clocks, sockets or randomness inside: time comes in as arguments,
//! and the occupant-id secret is injected through [`ServiceConfig`].
//!
//! # Hosting
//!
//! A server routes every stanza whose `to` domain is the service's
//! domain into the engine, and writes each delivery to the session (full
//! JID) or user (bare JID, for invitations) it is addressed to:
//!
//! ```
//! use std::time::{Instant, SystemTime};
//! use bytes::BytesMut;
//! use muc::{MemoryStore, MucService, ServiceConfig};
//! use xmpp_core::{Jid, xml::Element};
//!
//! let mut svc = MucService::new(
//!     Jid::new("conference.example.org")?,
//!     ServiceConfig { occupant_id_secret: b"from the key store".to_vec(), ..Default::default() },
//!     MemoryStore::default(),
//! ).expect("store loads");
//! // For each stanza from an authenticated session `from`:
//! let from = Jid::new("ann@example.org/laptop")?;
//! let stanza = Element::new("presence", "jabber:client")
//!     .with_attr("to", "lobby@conference.example.org/ann");
//! let mut wire = BytesMut::new();
//! for d in svc.handle_stanza(Instant::now(), SystemTime::now(), &from, stanza) {
//!     // Look up the session of `d.to` and append the stanza to its
//!     // output: `<presence to="ann@example.org/laptop" from=...>`.
//!     d.write_to(&mut wire);
//! }
//! assert!(wire.starts_with(b"<presence to=\"ann@example.org/laptop\""));
//! // When a session closes:
//! let gone = svc.session_ended(Instant::now(), SystemTime::now(), &from);
//! assert!(gone.is_empty(), "ann was alone; the temporary room is gone");
//! # Ok::<(), xmpp_core::JidError>(())
//! ```
#![deny(missing_docs)]

pub mod config;
mod delivery;
mod error;
pub mod model;
pub mod ns;
mod room;
mod service;
mod stanza;
pub mod store;
pub mod time;

pub use config::{CreationPolicy, RoomConfig, ServiceConfig, Whois};
pub use delivery::{Delivery, Payload};
pub use error::{MucError, StoreError};
pub use model::{Affiliation, Role};
pub use room::{Occupant, Room};
pub use service::MucService;
pub use stanza::status;
pub use store::{
    AffiliationEntry, ArchiveQuery, ArchivedMessage, MemoryStore, RoomStore, StoredRoom,
};
