//! XEP-0198 Stream Management for both roles, as Sans-IO layers over the
//! `xmpp-core` stream engines: acknowledgements, resumption after a lost
//! connection, and the server's resumption registry with the product's
//! timeout policy (REQUIREMENTS §2).
//!
//! - [`wire`]: the XEP-0198 elements.
//! - [`counter`]: counters modulo 2^32 and the unacknowledged queue.
//! - [`server`]: [`server::Registry`] (one per server) and
//!   [`server::SmStream`] (one per connection).
//! - [`client`]: [`client::ClientSm`], the client role, which outlives
//!   connections and resends what the server did not handle.
//! - [`policy`]: what happens to stanzas of sessions that expire.
//!
//! Only `message`, `presence` and `iq` are counted; counts wrap at 2^32
//! and are never reset by a resumption.
#![deny(missing_docs)]

pub mod client;
pub mod counter;
pub mod policy;
pub mod server;
pub mod wire;

pub use client::{ClientEvent, ClientSm, ClientSmConfig};
pub use counter::{AckError, Unacked};
pub use policy::{Disposition, TimeoutPolicy};
pub use server::{Expired, Registry, RegistryEvent, SendError, ServerConfig, SmStream};
pub use wire::SmElement;
