//! Sans-IO XMPP core (RFC 6120, RFC 6121, RFC 7622).
//!
//! - [`xml`]: stream framing, parsing into [`xml::Element`], serialization.
//! - [`jid`]: JIDs (RFC 7622) and XEP-0106 escaping.
//! - [`stream_error`]: stream error conditions (RFC 6120 §4.9).
//! - [`ns`]: namespace names.
#![deny(missing_docs)]

pub mod jid;
pub mod ns;
pub mod stream_error;
pub mod xml;

pub use jid::{Jid, JidError};
pub use stream_error::{StreamError, StreamErrorCondition};
