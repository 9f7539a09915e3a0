//! Sans-IO XMPP core.
#![deny(missing_docs)]
pub mod sasl;
