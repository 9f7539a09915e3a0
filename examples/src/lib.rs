//! Shared pieces of the example servers: random identifiers, TLS setup
//! (loaded or generated certificates), an in-memory user store and the
//! disk store that keeps the IM hub's rosters, offline messages and
//! policies, and the MUC service's persistent rooms.
//!
//! Only the examples know a runtime; everything protocol-related lives
//! in the engine crates.
#![deny(missing_docs)]

pub mod ids;
pub mod store;
pub mod tls;
pub mod users;
