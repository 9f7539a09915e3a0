//! Shared pieces of the example servers: random identifiers, TLS setup
//! (loaded or generated certificates) and an in-memory user store.
//!
//! Only the examples know a runtime; everything protocol-related lives
//! in the engine crates.

pub mod ids;
pub mod tls;
pub mod users;
