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
