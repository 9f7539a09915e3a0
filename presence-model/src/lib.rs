//! Protocol-neutral presence: presentities, sources, composition,
//! authorization policy, watchers, throttling, and the XMPP <-> PIDF
//! mapping.
//!
//! This crate knows nothing of sockets or of either wire protocol's
//! syntax; `xmpp-core` and `sip-simple` map their presence into it.
//!
//! # Modules
//!
//! - [`address`]: the protocol-neutral `user@domain` identity of a
//!   presentity or watcher, compared case-insensitively.
//! - [`authz`]: who may see a user's availability and send them instant
//!   messages (per-user allowed/blocked lists, default policy, "ask me",
//!   the service-wide auto-authorization switch, federation rules), the
//!   contact and watcher limits, and ad-hoc subscriptions. Every rule is a
//!   pure function; the ad-hoc table is a Sans-IO state machine driven by
//!   `handle_timeout(now)` / `poll_timeout()`.
#![deny(missing_docs)]

pub mod address;
pub mod authz;
