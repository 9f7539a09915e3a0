//! Errors of the MUC engine, each mapped to the stanza error it is answered
//! with (RFC 6120 §8.3, XEP-0045 §7.2 "Error conditions").

use thiserror::Error;

/// Why a request to a room or to the service was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MucError {
    /// Malformed or contradictory request.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The sender lacks the privilege (banned user, visitor speaking, ...).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The action is never allowed for this actor/target combination.
    #[error("not allowed: {0}")]
    NotAllowed(&'static str),
    /// The room, occupant or nickname does not exist (or is locked).
    #[error("item not found: {0}")]
    ItemNotFound(&'static str),
    /// The nickname is in use or reserved, or the last owner would go.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A password is required or was wrong.
    #[error("not authorized: {0}")]
    NotAuthorized(&'static str),
    /// Members-only room and the user is not a member.
    #[error("registration required")]
    RegistrationRequired,
    /// The room is full.
    #[error("service unavailable: {0}")]
    ServiceUnavailable(&'static str),
    /// A value is not acceptable (form field, empty nick, non-occupant).
    #[error("not acceptable: {0}")]
    NotAcceptable(&'static str),
    /// A service limit was reached (rooms per service, persistent rooms).
    #[error("resource constraint: {0}")]
    ResourceConstraint(&'static str),
    /// Storage failed.
    #[error("internal server error: {0}")]
    InternalServerError(&'static str),
    /// Request the service does not implement.
    #[error("feature not implemented: {0}")]
    FeatureNotImplemented(&'static str),
    /// A JID in the request is invalid.
    #[error("jid malformed")]
    JidMalformed,
}

impl MucError {
    /// The defined condition element name (RFC 6120 §8.3.3).
    pub fn condition(&self) -> &'static str {
        match self {
            MucError::BadRequest(_) => "bad-request",
            MucError::Forbidden(_) => "forbidden",
            MucError::NotAllowed(_) => "not-allowed",
            MucError::ItemNotFound(_) => "item-not-found",
            MucError::Conflict(_) => "conflict",
            MucError::NotAuthorized(_) => "not-authorized",
            MucError::RegistrationRequired => "registration-required",
            MucError::ServiceUnavailable(_) => "service-unavailable",
            MucError::NotAcceptable(_) => "not-acceptable",
            MucError::ResourceConstraint(_) => "resource-constraint",
            MucError::InternalServerError(_) => "internal-server-error",
            MucError::FeatureNotImplemented(_) => "feature-not-implemented",
            MucError::JidMalformed => "jid-malformed",
        }
    }

    /// The error type attribute (RFC 6120 §8.3.2).
    pub fn error_type(&self) -> &'static str {
        match self {
            MucError::BadRequest(_) | MucError::NotAcceptable(_) | MucError::JidMalformed => {
                "modify"
            }
            MucError::NotAuthorized(_)
            | MucError::Forbidden(_)
            | MucError::RegistrationRequired => "auth",
            MucError::ServiceUnavailable(_) | MucError::ResourceConstraint(_) => "wait",
            _ => "cancel",
        }
    }
}

/// Failure of a [`crate::RoomStore`] or of decoding a stored record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed (I/O, connection lost, ...).
    #[error("storage backend: {0}")]
    Backend(String),
    /// A stored record could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(&'static str),
}
