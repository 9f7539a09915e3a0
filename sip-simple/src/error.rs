//! Errors of message parsing and framing (RFC 3261 §7, §18.3, §21.4) and
//! of the transaction layer (§17), each mapped to the answer SIP expects.

use thiserror::Error;

/// Why a SIP message was refused by the parser or the framer.
///
/// [`status_code`](ParseError::status_code) gives the response a server
/// should send when the refused message was a request; refused responses are
/// dropped, and a stream connection that produced any error should be closed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The start line is not a Request-Line or Status-Line.
    #[error("malformed start line")]
    BadStartLine,
    /// The SIP-Version is not SIP/2.0.
    #[error("unsupported SIP version")]
    UnsupportedVersion,
    /// The Request-URI is malformed or not allowed in a Request-URI.
    #[error("malformed Request-URI")]
    BadRequestUri,
    /// The status code is not three digits in 100..=699.
    #[error("status code out of range")]
    BadStatusCode,
    /// A header line could not be parsed; the name says which.
    #[error("malformed {0} header")]
    BadHeader(String),
    /// A header section line has no colon or an invalid name.
    #[error("malformed header line")]
    BadHeaderLine,
    /// The start line and headers are not UTF-8 text.
    #[error("header section is not UTF-8")]
    NotUtf8,
    /// The end of the header section was not found.
    #[error("header section not terminated")]
    Unterminated,
    /// The message is larger than the limit.
    #[error("message exceeds the size limit")]
    MessageTooLarge,
    /// More header lines than the limit.
    #[error("too many header lines")]
    TooManyHeaders,
    /// A single line longer than the limit.
    #[error("header line too long")]
    HeaderLineTooLong,
    /// Content-Length over the body limit.
    #[error("body exceeds the size limit")]
    BodyTooLarge,
    /// Content-Length is missing on a stream transport (§18.3).
    #[error("Content-Length is mandatory on stream transports")]
    MissingContentLength,
    /// Content-Length is malformed, negative or conflicting.
    #[error("bad Content-Length")]
    BadContentLength,
    /// Content-Length promises more octets than the datagram holds.
    #[error("body shorter than Content-Length")]
    TruncatedBody,
    /// CSeq method differs from the Request-Line method (§8.1.1.5).
    #[error("CSeq method does not match the request method")]
    CSeqMethodMismatch,
    /// Same as `CSeqMethodMismatch`, but for an extension method this element
    /// does not implement (answered 501 as RFC 4475 §3.1.2.18 suggests).
    #[error("unknown method with a mismatching CSeq method")]
    UnknownMethodMismatch,
}

impl ParseError {
    /// The SIP status code to answer a refused request with.
    pub fn status_code(&self) -> u16 {
        match self {
            ParseError::UnsupportedVersion => 505,
            ParseError::MessageTooLarge
            | ParseError::TooManyHeaders
            | ParseError::HeaderLineTooLong => 513,
            ParseError::BodyTooLarge => 413,
            ParseError::UnknownMethodMismatch => 501,
            _ => 400,
        }
    }

    pub(crate) fn header(name: &str) -> ParseError {
        ParseError::BadHeader(name.to_owned())
    }
}

/// Why the transaction layer refused an operation asked by the transaction
/// user.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TransactionError {
    /// The request has no Via header to carry the branch.
    #[error("request has no Via header")]
    MissingVia,
    /// The message lacks a header the transaction layer needs.
    #[error("message lacks the {0} header")]
    MissingHeader(&'static str),
    /// INVITE transactions are not handled by this engine.
    #[error("INVITE transactions are not supported")]
    InviteNotSupported,
    /// No transaction has this key.
    #[error("no such transaction")]
    NoSuchTransaction,
    /// The message given is a request where a response was expected or the
    /// other way round.
    #[error("wrong kind of message")]
    WrongMessageKind,
    /// The table is full.
    #[error("transaction table is full")]
    TableFull,
}
