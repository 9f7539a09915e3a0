//! XEP-0198 stream management as a Sans-IO engine, client and server roles.
//!
//! This crate will hold the stanza counters (modulo 2^32), the unacked
//! queue, the acknowledgement policy, the resumption registry and the
//! timeout policy (bounce or offline storage) described in
//! `REQUIREMENTS.md` section 2. It builds on [`xmpp_core`].
#![deny(missing_docs)]
