//! Sans-IO XMPP core (RFC 6120, RFC 6121, RFC 7622).
//!
//! - [`xml`]: stream framing, parsing into [`xml::Element`], serialization.
//! - [`stream_error`]: stream error conditions (RFC 6120 §4.9).
//! - [`ns`]: namespace names.
#![deny(missing_docs)]

pub mod ns;
pub mod stanza;
pub mod stream_error;
pub mod xml;

pub use stream_error::{StreamError, StreamErrorCondition};
