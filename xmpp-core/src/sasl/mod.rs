//! SASL authentication for XMPP (RFC 6120 §6, RFC 4422): mechanism logic only.
//!
//! The stream engine wraps the bytes produced here in `<auth/>`, `<challenge/>`,
//! `<response/>`, `<success/>` and `<failure/>` elements and does the base64
//! transfer encoding itself (helpers: [`encode_payload`], [`decode_payload`]);
//! everything else in this module works on the raw (decoded) octet strings.
//! It is Sans-IO: no randomness (nonces are passed in by the caller), no
//! clocks, no I/O.
//!
//! Mechanisms, in both the client and the server role:
//!
//! * `PLAIN` (RFC 4616), verified on the server against salted SCRAM keys so the
//!   credential store never holds clear-text passwords;
//! * `SCRAM-SHA-1`, `SCRAM-SHA-256` (RFC 5802, RFC 7677) and their `-PLUS`
//!   variants with the `tls-exporter` (RFC 9266) and `tls-server-end-point`
//!   (RFC 5929) channel-binding types, whose data the TLS layer supplies;
//! * `OAUTHBEARER` (RFC 7628), with token verification delegated to
//!   [`CredentialStore::verify_token`];
//! * `EXTERNAL` (RFC 4422 Appendix A, XEP-0178), with the identity taken from
//!   the client certificate by the caller.
//!
//! # String preparation
//!
//! RFC 5802 asks for SASLprep (RFC 4013), which RFC 7613 and then RFC 8265
//! replaced with PRECIS profiles for usernames and passwords (the handling
//! XMPP itself uses since RFC 7622). In place of SASLprep this module prepares
//! authentication identities with the `UsernameCaseMapped` profile (the
//! profile XMPP localparts use, RFC 7622 §3.3) and passwords with the
//! `OpaqueString` profile, on both the client and the server side (the
//! `precis-profiles` crate). For ASCII input this is the identity on
//! passwords and lower-casing on user names. The authorization identity (in
//! XMPP a JID) is passed through unchanged; checking it is up to
//! [`CredentialStore::may_authorize`].
//!
//! # User enumeration
//!
//! A failed user lookup is not distinguishable from a wrong password: SCRAM
//! announces a fake salt and iteration count derived from the user name and
//! [`CredentialStore::unknown_user_secret`] (stable across attempts) and fails
//! only at the proof with the same `invalid-proof` answer; PLAIN runs the same
//! key derivation against fake keys. Account state
//! ([`CredentialStore::account_status`]) is only consulted after the
//! credentials were verified.
//!
//! # Example
//!
//! ```
//! use xmpp_core::sasl::*;
//!
//! struct Users(ScramCredentials);
//! impl CredentialStore for Users {
//!     fn scram_credentials(&self, user: &str, hash: ScramHash) -> Option<ScramCredentials> {
//!         (user == "juliet" && hash == ScramHash::Sha256).then(|| self.0.clone())
//!     }
//! }
//! let keys = ScramCredentials::derive(ScramHash::Sha256, "balcony", b"16 random octets", 4096)?;
//! let store = Users(keys);
//!
//! let mech = Mechanism::ScramSha256;
//! let mut client =
//!     ClientSession::new(mech, "juliet", "balcony", None, "c-nonce", ChannelBinding::None, false)?;
//! let mut server = ServerSession::new(mech, ChannelBinding::None, "s-nonce", None).unwrap();
//!
//! let mut input = client.initial_response()?;
//! let (user, additional_data) = loop {
//!     match server.step(&store, input.as_deref()).unwrap() {
//!         ServerStep::Challenge(c) => input = Some(client.step(&c)?),
//!         ServerStep::Success { username, additional_data, .. } => break (username, additional_data),
//!     }
//! };
//! client.finish(additional_data.as_deref())?; // checks the server's signature
//! assert_eq!(user, "juliet");
//! # Ok::<(), SaslError>(())
//! ```
//!
//! # Limits
//!
//! Every message received from the peer is bounded by a configurable size
//! ([`DEFAULT_MAX_MESSAGE_SIZE`] by default, see
//! [`ServerSession::with_max_message_size`] and
//! [`ClientSession::with_max_message_size`]). The SCRAM client refuses
//! iteration counts outside a configurable range
//! ([`DEFAULT_MIN_ITERATIONS`]..=[`DEFAULT_MAX_ITERATIONS`]).

mod client;
mod crypto;
mod external;
mod gs2;
mod oauthbearer;
mod plain;
mod prep;
mod scram;
mod server;

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

pub use client::ClientSession;
pub use scram::ScramCredentials;
pub use server::{ServerSession, ServerStep};

/// Largest message accepted from the peer by default, in octets (after base64
/// decoding). Configurable per session.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 4096;

/// Smallest SCRAM iteration count accepted by default: the server-side
/// [`ScramCredentials::derive`] refuses fewer, and the client refuses a server
/// that announces fewer (RFC 7677 §4 asks for at least 4096).
pub const DEFAULT_MIN_ITERATIONS: u32 = 4096;

/// Largest SCRAM iteration count the client accepts by default, so that a
/// hostile server cannot make the client spin on PBKDF2 for minutes.
pub const DEFAULT_MAX_ITERATIONS: u32 = 1 << 22;

/// A SASL mechanism supported by this module (RFC 6120 §6.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// `PLAIN` (RFC 4616): clear-text password, only safe under TLS.
    Plain,
    /// `SCRAM-SHA-1` (RFC 5802).
    ScramSha1,
    /// `SCRAM-SHA-1-PLUS` (RFC 5802 with channel binding).
    ScramSha1Plus,
    /// `SCRAM-SHA-256` (RFC 7677).
    ScramSha256,
    /// `SCRAM-SHA-256-PLUS` (RFC 7677 with channel binding).
    ScramSha256Plus,
    /// `OAUTHBEARER` (RFC 7628).
    OAuthBearer,
    /// `EXTERNAL` (RFC 4422 Appendix A), e.g. a TLS client certificate.
    External,
}

impl Mechanism {
    /// Every mechanism, strongest first: the default client preference order.
    pub const PREFERENCE_ORDER: [Mechanism; 7] = [
        Mechanism::ScramSha256Plus,
        Mechanism::ScramSha1Plus,
        Mechanism::ScramSha256,
        Mechanism::ScramSha1,
        Mechanism::External,
        Mechanism::OAuthBearer,
        Mechanism::Plain,
    ];

    /// The registered SASL mechanism name (as sent in `<mechanism/>`).
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::ScramSha1Plus => "SCRAM-SHA-1-PLUS",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha256Plus => "SCRAM-SHA-256-PLUS",
            Mechanism::OAuthBearer => "OAUTHBEARER",
            Mechanism::External => "EXTERNAL",
        }
    }

    /// Parses a mechanism name. SASL names are upper-case ASCII (RFC 4422
    /// §3.1); the match is exact.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::PREFERENCE_ORDER
            .into_iter()
            .find(|m| m.name() == name)
    }

    /// Whether this is a `-PLUS` mechanism, which requires TLS channel binding.
    pub fn needs_channel_binding(&self) -> bool {
        matches!(self, Mechanism::ScramSha1Plus | Mechanism::ScramSha256Plus)
    }

    /// The SCRAM hash function if this is a SCRAM mechanism.
    pub fn scram_hash(&self) -> Option<ScramHash> {
        match self {
            Mechanism::ScramSha1 | Mechanism::ScramSha1Plus => Some(ScramHash::Sha1),
            Mechanism::ScramSha256 | Mechanism::ScramSha256Plus => Some(ScramHash::Sha256),
            _ => None,
        }
    }

    /// Whether the mechanism sends a secret (password or bearer token) in the
    /// clear or relies on TLS state, so that it must only be used under TLS.
    pub fn requires_tls(&self) -> bool {
        matches!(
            self,
            Mechanism::Plain
                | Mechanism::OAuthBearer
                | Mechanism::External
                | Mechanism::ScramSha1Plus
                | Mechanism::ScramSha256Plus
        )
    }

    /// Relative strength among the password-based mechanisms (PLAIN and the
    /// SCRAM family), higher is stronger; `None` for the others, which use a
    /// different kind of credential and are not comparable.
    pub fn password_strength(&self) -> Option<u8> {
        match self {
            Mechanism::Plain => Some(1),
            Mechanism::ScramSha1 => Some(2),
            Mechanism::ScramSha256 => Some(3),
            Mechanism::ScramSha1Plus => Some(4),
            Mechanism::ScramSha256Plus => Some(5),
            Mechanism::OAuthBearer | Mechanism::External => None,
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The hash function of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScramHash {
    /// SHA-1 (`SCRAM-SHA-1`, RFC 5802).
    Sha1,
    /// SHA-256 (`SCRAM-SHA-256`, RFC 7677).
    Sha256,
}

impl ScramHash {
    /// Output length of the hash (and of every SCRAM key and proof), in octets.
    pub fn output_len(&self) -> usize {
        match self {
            ScramHash::Sha1 => 20,
            ScramHash::Sha256 => 32,
        }
    }
}

/// The channel binding the TLS layer can offer for this connection.
///
/// On the server, a value other than [`ChannelBinding::None`] means the
/// `-PLUS` mechanisms are advertised (see [`server_mechanisms`]); on the
/// client it is the data for a `-PLUS` mechanism.
#[derive(Clone, PartialEq, Eq)]
pub enum ChannelBinding {
    /// No channel binding available (no TLS, or the TLS layer cannot export it).
    None,
    /// `tls-exporter` (RFC 9266): the 32 octets exported with the label
    /// `EXPORTER-Channel-Binding` and an empty context.
    TlsExporter(Vec<u8>),
    /// `tls-server-end-point` (RFC 5929 §4): the hash of the server certificate.
    TlsServerEndPoint(Vec<u8>),
}

impl ChannelBinding {
    /// The channel-binding type name used in the SCRAM `p=` flag, or `None`.
    pub fn type_name(&self) -> Option<&'static str> {
        match self {
            ChannelBinding::None => None,
            ChannelBinding::TlsExporter(_) => Some("tls-exporter"),
            ChannelBinding::TlsServerEndPoint(_) => Some("tls-server-end-point"),
        }
    }

    /// The binding data, or `None`.
    pub fn data(&self) -> Option<&[u8]> {
        match self {
            ChannelBinding::None => None,
            ChannelBinding::TlsExporter(d) | ChannelBinding::TlsServerEndPoint(d) => Some(d),
        }
    }

    /// Whether any channel binding is available.
    pub fn is_available(&self) -> bool {
        !matches!(self, ChannelBinding::None)
    }
}

impl fmt::Debug for ChannelBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelBinding::None => f.write_str("None"),
            ChannelBinding::TlsExporter(d) => write!(f, "TlsExporter({} octets)", d.len()),
            ChannelBinding::TlsServerEndPoint(d) => {
                write!(f, "TlsServerEndPoint({} octets)", d.len())
            }
        }
    }
}

/// A SASL failure condition (RFC 6120 §6.5), the child element of `<failure/>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureCondition {
    /// `<aborted/>`: the client sent `<abort/>` (§6.5.1).
    Aborted,
    /// `<account-disabled/>` (§6.5.2).
    AccountDisabled,
    /// `<credentials-expired/>` (§6.5.3).
    CredentialsExpired,
    /// `<encryption-required/>`: the mechanism is only allowed under TLS (§6.5.4).
    EncryptionRequired,
    /// `<incorrect-encoding/>`: bad base64, or a bad encoding inside the
    /// mechanism's own message (§6.5.5).
    IncorrectEncoding,
    /// `<invalid-authzid/>` (§6.5.6).
    InvalidAuthzid,
    /// `<invalid-mechanism/>` (§6.5.7).
    InvalidMechanism,
    /// `<malformed-request/>` (§6.5.8).
    MalformedRequest,
    /// `<mechanism-too-weak/>` (§6.5.9).
    MechanismTooWeak,
    /// `<not-authorized/>`: wrong credentials or unknown user (§6.5.10).
    NotAuthorized,
    /// `<temporary-auth-failure/>` (§6.5.11).
    TemporaryAuthFailure,
}

impl FailureCondition {
    /// All conditions, in RFC 6120 §6.5 order.
    pub const ALL: [FailureCondition; 11] = [
        FailureCondition::Aborted,
        FailureCondition::AccountDisabled,
        FailureCondition::CredentialsExpired,
        FailureCondition::EncryptionRequired,
        FailureCondition::IncorrectEncoding,
        FailureCondition::InvalidAuthzid,
        FailureCondition::InvalidMechanism,
        FailureCondition::MalformedRequest,
        FailureCondition::MechanismTooWeak,
        FailureCondition::NotAuthorized,
        FailureCondition::TemporaryAuthFailure,
    ];

    /// The element name of the condition.
    pub fn as_str(&self) -> &'static str {
        match self {
            FailureCondition::Aborted => "aborted",
            FailureCondition::AccountDisabled => "account-disabled",
            FailureCondition::CredentialsExpired => "credentials-expired",
            FailureCondition::EncryptionRequired => "encryption-required",
            FailureCondition::IncorrectEncoding => "incorrect-encoding",
            FailureCondition::InvalidAuthzid => "invalid-authzid",
            FailureCondition::InvalidMechanism => "invalid-mechanism",
            FailureCondition::MalformedRequest => "malformed-request",
            FailureCondition::MechanismTooWeak => "mechanism-too-weak",
            FailureCondition::NotAuthorized => "not-authorized",
            FailureCondition::TemporaryAuthFailure => "temporary-auth-failure",
        }
    }

    /// Parses an element name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for FailureCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed authentication on the server side: the content of `<failure/>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SASL failure: {condition}{}", text.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
pub struct SaslFailure {
    /// The defined condition.
    pub condition: FailureCondition,
    /// Optional human-readable text (`<text/>`). For SCRAM it carries the
    /// RFC 5802 `server-error-value` when one applies (for example
    /// `invalid-proof`); it never reveals whether the user exists.
    pub text: Option<String>,
}

impl SaslFailure {
    /// A failure without text.
    pub fn new(condition: FailureCondition) -> Self {
        SaslFailure {
            condition,
            text: None,
        }
    }

    /// A failure with text.
    pub fn with_text(condition: FailureCondition, text: impl Into<String>) -> Self {
        SaslFailure {
            condition,
            text: Some(text.into()),
        }
    }
}

/// Errors on the client side, and from credential derivation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    /// The authentication identity is empty or rejected by the PRECIS
    /// `UsernameCaseMapped` profile.
    #[error("username is empty or not allowed by the PRECIS UsernameCaseMapped profile")]
    InvalidUsername,
    /// The password is empty or rejected by the PRECIS `OpaqueString` profile.
    #[error("password is empty or not allowed by the PRECIS OpaqueString profile")]
    InvalidPassword,
    /// The authorization identity contains a NUL character.
    #[error("authorization identity is not valid")]
    InvalidAuthzid,
    /// The bearer token is empty or not an RFC 6750 `b64token`.
    #[error("bearer token is empty or contains characters outside the b64token syntax")]
    InvalidToken,
    /// The nonce is empty or contains characters outside printable ASCII
    /// (without `,`), RFC 5802 §7.
    #[error("nonce is empty or contains characters other than printable ASCII without ','")]
    InvalidNonce,
    /// The salt is empty.
    #[error("salt is empty")]
    InvalidSalt,
    /// The iteration count is below the accepted minimum.
    #[error("iteration count {got} is below the minimum {min}")]
    IterationCountTooLow {
        /// The iteration count received or requested.
        got: u32,
        /// The minimum in force.
        min: u32,
    },
    /// The iteration count is above the accepted maximum.
    #[error("iteration count {got} is above the maximum {max}")]
    IterationCountTooHigh {
        /// The iteration count received.
        got: u32,
        /// The maximum in force.
        max: u32,
    },
    /// A `-PLUS` mechanism was chosen without channel-binding data.
    #[error("mechanism {0} requires channel-binding data")]
    ChannelBindingRequired(Mechanism),
    /// A message from the server is larger than the configured limit.
    #[error("server message of {size} octets exceeds the limit of {limit}")]
    MessageTooLarge {
        /// Size of the message.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A message from the server does not follow the mechanism's syntax.
    #[error("malformed server message: {0}")]
    MalformedMessage(&'static str),
    /// The server nonce does not start with the client nonce, or adds nothing.
    #[error("server nonce does not extend the client nonce")]
    NonceMismatch,
    /// The server sent a mandatory extension (`m=`) this implementation does
    /// not support.
    #[error("server sent an unsupported mandatory extension")]
    UnsupportedExtension,
    /// The server answered with a SCRAM `e=` server-error attribute.
    #[error("server reported error: {0}")]
    ServerError(String),
    /// The SCRAM server signature does not verify: the server is not authentic.
    #[error("server signature does not verify: the server is not authentic")]
    ServerSignatureMismatch,
    /// The server reported success without proving knowledge of the
    /// credentials (no SCRAM server signature).
    #[error("server did not send its signature")]
    MissingServerSignature,
    /// The server rejected the bearer token; the payload is the RFC 7628 §3.2.2
    /// JSON error document.
    #[error("server rejected the bearer token: {0}")]
    OAuthBearerRejected(String),
    /// A message arrived (or a method was called) at a point where the
    /// mechanism does not expect it.
    #[error("unexpected step in the authentication exchange")]
    UnexpectedMessage,
    /// The mechanism is not usable in this configuration.
    #[error("mechanism {0} cannot be used here")]
    MechanismUnavailable(Mechanism),
}

/// Success for mechanisms that define no additional data with `<success/>`:
/// absent or empty data is fine, anything else is a protocol violation.
pub(crate) fn expect_no_additional_data(additional_data: Option<&[u8]>) -> Result<(), SaslError> {
    match additional_data {
        Some(d) if !d.is_empty() => Err(SaslError::MalformedMessage(
            "unexpected additional data with success",
        )),
        _ => Ok(()),
    }
}

/// What the server looks users up in (implemented by the application).
pub trait CredentialStore {
    /// The salted SCRAM keys of `username` (already prepared with the PRECIS
    /// `UsernameCaseMapped` profile) for `hash`, or `None` if the user does not
    /// exist or has no keys for that hash. `PLAIN` tries SHA-256 keys first,
    /// then SHA-1 keys.
    fn scram_credentials(&self, username: &str, hash: ScramHash) -> Option<ScramCredentials>;

    /// Token check for `OAUTHBEARER`: returns the authenticated user name for a
    /// valid `token`. Default: `None` (reject).
    fn verify_token(&self, token: &str, authzid: Option<&str>) -> Option<String> {
        let _ = (token, authzid);
        None
    }

    /// Whether `authcid` may act as `authzid` (default: only itself).
    fn may_authorize(&self, authcid: &str, authzid: &str) -> bool {
        authcid == authzid
    }

    /// Called after the credentials of `username` were verified, before
    /// success is reported: lets the application refuse a valid login with
    /// `account-disabled`, `credentials-expired` or `temporary-auth-failure`.
    /// Because it only runs after successful verification it reveals nothing
    /// to someone who does not know the password. Default: `Ok(())`.
    fn account_status(&self, username: &str) -> Result<(), SaslFailure> {
        let _ = username;
        Ok(())
    }

    /// Server secret from which the fake salt and keys used for unknown users
    /// are derived, so that a failed lookup runs the same protocol as a wrong
    /// password and the fake salt of a name stays stable across attempts.
    /// Implementations should return a random value of at least 16 octets
    /// that stays fixed for the deployment; the default (empty) still makes
    /// the salt stable but lets an attacker who knows this code predict it.
    fn unknown_user_secret(&self) -> &[u8] {
        &[]
    }

    /// Iteration count announced for unknown users; should match what real
    /// users get. Default: [`DEFAULT_MIN_ITERATIONS`].
    fn unknown_user_iterations(&self, hash: ScramHash) -> u32 {
        let _ = hash;
        DEFAULT_MIN_ITERATIONS
    }
}

/// The mechanisms a server should advertise, strongest first.
///
/// The `-PLUS` variants are listed when TLS is active and channel binding is
/// available; the SCRAM family always; `PLAIN` under TLS, or without TLS only if
/// `allow_plain_without_tls`. `OAUTHBEARER` and `EXTERNAL` depend on
/// application configuration (a token verifier, a client certificate) and are
/// appended by the caller when they apply (see [`Mechanism::requires_tls`]).
pub fn server_mechanisms(
    tls_active: bool,
    channel_binding: &ChannelBinding,
    allow_plain_without_tls: bool,
) -> Vec<Mechanism> {
    let mut out = Vec::with_capacity(5);
    if tls_active && channel_binding.is_available() {
        out.push(Mechanism::ScramSha256Plus);
        out.push(Mechanism::ScramSha1Plus);
    }
    out.push(Mechanism::ScramSha256);
    out.push(Mechanism::ScramSha1);
    if tls_active || allow_plain_without_tls {
        out.push(Mechanism::Plain);
    }
    out
}

/// Server side: validates the mechanism named in `<auth mechanism='...'/>`
/// against what was advertised, giving the RFC 6120 §6.5 condition to answer
/// with otherwise: `encryption-required` for a TLS-only mechanism requested
/// without TLS, `mechanism-too-weak` for a password mechanism weaker than the
/// strongest advertised one, `invalid-mechanism` for anything else.
pub fn accept_mechanism(
    name: &str,
    advertised: &[Mechanism],
    tls_active: bool,
) -> Result<Mechanism, SaslFailure> {
    let Some(mechanism) = Mechanism::from_name(name) else {
        return Err(SaslFailure::new(FailureCondition::InvalidMechanism));
    };
    if advertised.contains(&mechanism) {
        return Ok(mechanism);
    }
    if !tls_active && mechanism.requires_tls() {
        return Err(SaslFailure::new(FailureCondition::EncryptionRequired));
    }
    if let Some(strength) = mechanism.password_strength() {
        let strongest = advertised
            .iter()
            .filter_map(Mechanism::password_strength)
            .max();
        if strongest.is_some_and(|s| s > strength) {
            return Err(SaslFailure::new(FailureCondition::MechanismTooWeak));
        }
    }
    Err(SaslFailure::new(FailureCondition::InvalidMechanism))
}

/// Encodes a SASL payload for the character data of `<auth/>`,
/// `<challenge/>`, `<response/>` or `<success/>` (RFC 6120 §6.4.2): base64
/// (RFC 4648 §4, with padding, no line breaks), an empty payload as `=`.
pub fn encode_payload(payload: &[u8]) -> String {
    if payload.is_empty() {
        "=".to_owned()
    } else {
        B64.encode(payload)
    }
}

/// Decodes the character data of a SASL element (RFC 6120 §6.4.2): `=` is an
/// empty payload; anything that is not strict base64 fails with
/// `incorrect-encoding`. Text whose decoded size would exceed `max_decoded`
/// octets fails with `malformed-request` before decoding. (Whether the
/// element had any character data at all, i.e. `None` versus `Some(&[])` for
/// [`ServerSession::step`], is for the caller to tell.)
pub fn decode_payload(text: &str, max_decoded: usize) -> Result<Vec<u8>, SaslFailure> {
    if text == "=" {
        return Ok(Vec::new());
    }
    if text.len() / 4 > max_decoded / 3 + 1 {
        return Err(SaslFailure::with_text(
            FailureCondition::MalformedRequest,
            "message exceeds the size limit",
        ));
    }
    let out = B64
        .decode(text)
        .map_err(|_| SaslFailure::new(FailureCondition::IncorrectEncoding))?;
    if out.len() > max_decoded {
        return Err(SaslFailure::with_text(
            FailureCondition::MalformedRequest,
            "message exceeds the size limit",
        ));
    }
    Ok(out)
}

/// Client side: whether the server's mechanism list contains a `-PLUS`
/// mechanism. A client that has channel-binding data but sees none should set
/// `client_supports_plus_but_server_did_not_offer` in [`ClientSession::new`]
/// (RFC 5802 §6 downgrade protection).
pub fn offers_channel_binding(offered: &[&str]) -> bool {
    offered
        .iter()
        .filter_map(|n| Mechanism::from_name(n))
        .any(|m| m.needs_channel_binding())
}

/// Client side: picks the first mechanism of `client_prefers` (ordered
/// strongest first, e.g. [`Mechanism::PREFERENCE_ORDER`]) that the server
/// offers, skipping `-PLUS` mechanisms when no channel binding is available.
pub fn select_mechanism(
    offered: &[&str],
    client_prefers: &[Mechanism],
    tls_channel_binding_available: bool,
) -> Option<Mechanism> {
    client_prefers.iter().copied().find(|m| {
        (!m.needs_channel_binding() || tls_channel_binding_available)
            && offered.iter().any(|o| *o == m.name())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mechanism_names_round_trip() {
        for m in Mechanism::PREFERENCE_ORDER {
            assert_eq!(Mechanism::from_name(m.name()), Some(m));
        }
        assert_eq!(Mechanism::from_name("scram-sha-1"), None);
        assert_eq!(Mechanism::from_name("DIGEST-MD5"), None);
        assert!(Mechanism::ScramSha1Plus.needs_channel_binding());
        assert!(!Mechanism::ScramSha256.needs_channel_binding());
        assert_eq!(Mechanism::ScramSha256Plus.to_string(), "SCRAM-SHA-256-PLUS");
    }

    #[test]
    fn failure_condition_names_round_trip() {
        for c in FailureCondition::ALL {
            assert_eq!(FailureCondition::from_name(c.as_str()), Some(c));
        }
        assert_eq!(FailureCondition::from_name("bad-request"), None);
        assert_eq!(
            SaslFailure::with_text(FailureCondition::NotAuthorized, "invalid-proof").to_string(),
            "SASL failure: not-authorized (invalid-proof)"
        );
    }

    #[test]
    fn advertising_depends_on_tls_and_binding() {
        let cb = ChannelBinding::TlsExporter(vec![7; 32]);
        assert_eq!(
            server_mechanisms(true, &cb, false),
            vec![
                Mechanism::ScramSha256Plus,
                Mechanism::ScramSha1Plus,
                Mechanism::ScramSha256,
                Mechanism::ScramSha1,
                Mechanism::Plain
            ]
        );
        assert_eq!(
            server_mechanisms(false, &ChannelBinding::None, false),
            vec![Mechanism::ScramSha256, Mechanism::ScramSha1]
        );
        assert_eq!(
            server_mechanisms(false, &cb, true),
            vec![
                Mechanism::ScramSha256,
                Mechanism::ScramSha1,
                Mechanism::Plain
            ]
        );
    }

    #[test]
    fn accept_mechanism_conditions() {
        let plain_tls = server_mechanisms(false, &ChannelBinding::None, false);
        assert_eq!(
            accept_mechanism("SCRAM-SHA-1", &plain_tls, false),
            Ok(Mechanism::ScramSha1)
        );
        let cond = |r: Result<Mechanism, SaslFailure>| r.err().map(|f| f.condition);
        assert_eq!(
            cond(accept_mechanism("PLAIN", &plain_tls, false)),
            Some(FailureCondition::EncryptionRequired)
        );
        assert_eq!(
            cond(accept_mechanism("X-UNKNOWN", &plain_tls, false)),
            Some(FailureCondition::InvalidMechanism)
        );
        let only256 = [Mechanism::ScramSha256];
        assert_eq!(
            cond(accept_mechanism("SCRAM-SHA-1", &only256, true)),
            Some(FailureCondition::MechanismTooWeak)
        );
        assert_eq!(
            cond(accept_mechanism("PLAIN", &only256, true)),
            Some(FailureCondition::MechanismTooWeak)
        );
        assert_eq!(
            cond(accept_mechanism("EXTERNAL", &only256, true)),
            Some(FailureCondition::InvalidMechanism)
        );
        assert_eq!(
            cond(accept_mechanism("SCRAM-SHA-256-PLUS", &only256, true)),
            Some(FailureCondition::InvalidMechanism)
        );
    }

    #[test]
    fn payload_transfer_encoding() {
        assert_eq!(encode_payload(b""), "=");
        assert_eq!(encode_payload(b"\0u\0p"), "AHUAcA==");
        assert_eq!(decode_payload("=", 10), Ok(Vec::new()));
        assert_eq!(decode_payload("AHUAcA==", 10), Ok(b"\0u\0p".to_vec()));
        let cond = |r: Result<Vec<u8>, SaslFailure>| r.err().map(|f| f.condition);
        for bad in ["AHUAcA", "AHU AcA==", "AHUAcA==\n", "====", "*"] {
            assert_eq!(
                cond(decode_payload(bad, 10)),
                Some(FailureCondition::IncorrectEncoding),
                "{bad:?}"
            );
        }
        assert_eq!(
            cond(decode_payload("AHUAcA==", 3)),
            Some(FailureCondition::MalformedRequest)
        );
        let long = "QUFB".repeat(100);
        assert_eq!(
            cond(decode_payload(&long, 30)),
            Some(FailureCondition::MalformedRequest)
        );
        assert_eq!(decode_payload(&long, 300).map(|v| v.len()), Ok(300));
    }

    #[test]
    fn selection_prefers_strongest_usable() {
        let offered = [
            "PLAIN",
            "SCRAM-SHA-1",
            "SCRAM-SHA-256",
            "SCRAM-SHA-256-PLUS",
        ];
        assert_eq!(
            select_mechanism(&offered, &Mechanism::PREFERENCE_ORDER, true),
            Some(Mechanism::ScramSha256Plus)
        );
        assert_eq!(
            select_mechanism(&offered, &Mechanism::PREFERENCE_ORDER, false),
            Some(Mechanism::ScramSha256)
        );
        assert_eq!(
            select_mechanism(&offered, &[Mechanism::Plain, Mechanism::ScramSha1], false),
            Some(Mechanism::Plain)
        );
        assert_eq!(
            select_mechanism(&["GSSAPI"], &Mechanism::PREFERENCE_ORDER, true),
            None
        );
        assert!(offers_channel_binding(&offered));
        assert!(!offers_channel_binding(&["SCRAM-SHA-1", "PLAIN", "X-PLUS"]));
    }
}
