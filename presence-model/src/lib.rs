//! Protocol-neutral presence: presentities, sources, composition,
//! authorization policy, watchers, throttling, and the XMPP <-> PIDF
//! mapping.
//!
//! This crate knows nothing of sockets or of either wire protocol's
//! syntax; `xmpp-core` and `sip-simple` map their presence into it.
#![deny(missing_docs)]

pub mod address;
pub mod authz;
