//! Sans-IO XMPP core (RFC 6120, RFC 6121, RFC 7622).
//!
//! - [`xml`]: stream framing, parsing into [`xml::Element`], serialization.
//! - [`jid`]: JIDs (RFC 7622) and XEP-0106 escaping.
//! - [`sasl`]: SASL mechanisms for both roles (RFC 4422, 5802, 7677, 7628).
//! - [`stanza`]: typed message, presence and iq views, stanza errors.
//! - [`stream`]: stream negotiation engines for client and server.
//! - [`stream_error`]: stream error conditions (RFC 6120 §4.9).
//! - [`im`]: the IM and presence hub (RFC 6121): rosters, subscriptions,
//!   presence, message routing and offline storage, as a Sans-IO engine.
//! - [`ns`]: namespace names.
#![deny(missing_docs)]

pub mod im;
pub mod jid;
pub mod ns;
pub mod sasl;
pub mod stanza;
pub mod stream;
pub mod stream_error;
pub mod xml;

pub use jid::{Jid, JidError};
pub use stream_error::{StreamError, StreamErrorCondition};
