//! Sans-IO XMPP core.
#![deny(missing_docs)]
pub mod jid;
pub use jid::{Jid, JidError};
