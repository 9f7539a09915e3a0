//! Errors found while framing or parsing an XML stream, each mapped to
//! the stream error condition RFC 6120 §4.9.3 prescribes for it.

use crate::stream_error::StreamErrorCondition;

/// Which configured limit an input broke (see [`super::Limits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// A top-level element (stanza) larger than `max_stanza_bytes`.
    StanzaBytes,
    /// The stream header larger than `max_header_bytes`.
    HeaderBytes,
    /// Elements nested deeper than `max_depth`.
    Depth,
    /// More than `max_attributes` attributes on one element.
    Attributes,
    /// An attribute value longer than `max_attribute_bytes`.
    AttributeBytes,
    /// Character data in one element longer than `max_text_bytes`.
    TextBytes,
}

/// A violation of XML well-formedness, of the XMPP restrictions on XML
/// (RFC 6120 §11.1), or of a configured limit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// The input is not well-formed XML (or not valid UTF-8).
    #[error("not well-formed: {0}")]
    NotWellFormed(String),
    /// A construct XMPP forbids: comment, processing instruction, DTD,
    /// entity declaration or reference to an undefined entity.
    #[error("restricted XML: {0}")]
    RestrictedXml(&'static str),
    /// A prefix used without a namespace declaration in scope.
    #[error("undeclared namespace prefix `{0}`")]
    BadNamespacePrefix(String),
    /// The stream namespace or content namespace is wrong.
    #[error("invalid namespace: {0}")]
    InvalidNamespace(String),
    /// The stream header is not a `<stream:stream>` start tag.
    #[error("bad format: {0}")]
    BadFormat(String),
    /// The XML declaration names an encoding other than UTF-8.
    #[error("unsupported encoding `{0}`")]
    UnsupportedEncoding(String),
    /// A configured limit was exceeded.
    #[error("limit exceeded: {0:?}")]
    LimitExceeded(Limit),
}

impl XmlError {
    /// The stream error condition to send the peer for this error.
    pub fn condition(&self) -> StreamErrorCondition {
        match self {
            XmlError::NotWellFormed(_) => StreamErrorCondition::NotWellFormed,
            XmlError::RestrictedXml(_) => StreamErrorCondition::RestrictedXml,
            XmlError::BadNamespacePrefix(_) => StreamErrorCondition::BadNamespacePrefix,
            XmlError::InvalidNamespace(_) => StreamErrorCondition::InvalidNamespace,
            XmlError::BadFormat(_) => StreamErrorCondition::BadFormat,
            XmlError::UnsupportedEncoding(_) => StreamErrorCondition::UnsupportedEncoding,
            XmlError::LimitExceeded(_) => StreamErrorCondition::PolicyViolation,
        }
    }

    pub(crate) fn nwf(msg: impl Into<String>) -> Self {
        XmlError::NotWellFormed(msg.into())
    }
}
