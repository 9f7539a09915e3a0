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
//!
//! # Wiring a server
//!
//! One [`Registry`] per server (behind a lock if connections run on
//! several tasks), one [`SmStream`] per connection, and
//! [`ServerConfig::feature`] in the core engine's `post_auth_features`:
//!
//! ```text
//! // per connection
//! let mut sm = SmStream::new(&registry);
//! while let Some(out) = engine.poll_output() {
//!     if let Output::Event(ev) = out {
//!         let Some(ev) = sm.on_event(now, &mut registry, &mut engine, ev, |full| online(full))
//!         else { continue };              // XEP-0198 element, already answered
//!         // Event::Bound also comes out of a successful <resume/>.
//!         hub.on_event(ev);
//!     }
//! }
//! sm.send(now, &mut registry, &mut engine, &stanza)   // instead of engine.send_stanza
//!     .map_err(|SendError::Undeliverable(b)| hub.reroute(b));
//! // timers: min(engine timeout, sm.next_timeout()); then sm.handle_timeout(..)
//! // socket EOF/error: sm.connection_lost(now, &mut registry)
//!
//! // server-wide timer
//! registry.handle_timeout(now, |full| other_resource_online(full));
//! while let Some(ev) = registry.poll_event() { /* Expired: route Bounce/Offline */ }
//! // a stanza for a full JID without a live connection:
//! registry.enqueue(now, &full, bytes)        // Err(bytes) => offline storage
//! ```
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
