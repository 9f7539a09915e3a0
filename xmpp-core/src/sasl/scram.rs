//! SCRAM (RFC 5802) with SHA-1 and SHA-256 (RFC 7677), with and without
//! channel binding (`-PLUS`; RFC 5802 §6, types `tls-exporter` of RFC 9266
//! and `tls-server-end-point` of RFC 5929), in both roles.
//!
//! Message flow (RFC 5802 §3, §7):
//!
//! ```text
//! client-first  = gs2-header "n=" user ",r=" c-nonce [ "," ext ]
//! server-first  = "r=" c-nonce s-nonce ",s=" salt ",i=" iterations [ "," ext ]
//! client-final  = "c=" base64(gs2-header [cb-data]) ",r=" nonce [ "," ext ] ",p=" proof
//! server-final  = "v=" signature  |  "e=" server-error
//! ```
//!
//! The server never learns the password; it stores `StoredKey` and
//! `ServerKey` ([`ScramCredentials`]). Unknown users get a fake salt and fake
//! keys derived from [`CredentialStore::unknown_user_secret`], so that the
//! exchange runs exactly as for a wrong password.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::crypto::{ct_eq, h, hi, hmac, xor};
use super::gs2::{self, CbFlag, ParseError};
use super::{
    ChannelBinding, CredentialStore, DEFAULT_MAX_ITERATIONS, DEFAULT_MIN_ITERATIONS,
    FailureCondition, Mechanism, SaslError, SaslFailure, ScramHash, ServerStep, prep,
};

/// What a SCRAM server stores for one user and one hash function
/// (RFC 5802 §3): the salt, the iteration count, `StoredKey = H(ClientKey)`
/// and `ServerKey = HMAC(SaltedPassword, "Server Key")`.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramCredentials {
    /// The salt.
    pub salt: Vec<u8>,
    /// The PBKDF2 iteration count.
    pub iterations: u32,
    /// `StoredKey`.
    pub stored_key: Vec<u8>,
    /// `ServerKey`.
    pub server_key: Vec<u8>,
}

impl fmt::Debug for ScramCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramCredentials")
            .field("salt_len", &self.salt.len())
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// `ClientKey`, `StoredKey` and `ServerKey` from a `SaltedPassword`.
struct Keys {
    client_key: Vec<u8>,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
}

impl Keys {
    fn from_salted_password(hash: ScramHash, salted_password: &[u8]) -> Self {
        let client_key = hmac(hash, salted_password, b"Client Key");
        let stored_key = h(hash, &client_key);
        let server_key = hmac(hash, salted_password, b"Server Key");
        Keys {
            client_key,
            stored_key,
            server_key,
        }
    }
}

impl ScramCredentials {
    /// Derives the stored keys from a password (server side, e.g. at
    /// registration or password change). The password is prepared with the
    /// PRECIS `OpaqueString` profile. Fails for an empty or unpreparable
    /// password, an empty salt, or fewer than [`DEFAULT_MIN_ITERATIONS`]
    /// iterations.
    pub fn derive(
        hash: ScramHash,
        password: &str,
        salt: &[u8],
        iterations: u32,
    ) -> Result<Self, SaslError> {
        if iterations < DEFAULT_MIN_ITERATIONS {
            return Err(SaslError::IterationCountTooLow {
                got: iterations,
                min: DEFAULT_MIN_ITERATIONS,
            });
        }
        if salt.is_empty() {
            return Err(SaslError::InvalidSalt);
        }
        let password = prep::password(password).ok_or(SaslError::InvalidPassword)?;
        Ok(Self::from_prepared(hash, &password, salt, iterations))
    }

    /// Derivation without the policy checks, for an already prepared
    /// password; `iterations` must be positive.
    pub(crate) fn from_prepared(
        hash: ScramHash,
        prepared_password: &str,
        salt: &[u8],
        iterations: u32,
    ) -> Self {
        let salted = hi(hash, prepared_password.as_bytes(), salt, iterations);
        let keys = Keys::from_salted_password(hash, &salted);
        ScramCredentials {
            salt: salt.to_vec(),
            iterations,
            stored_key: keys.stored_key,
            server_key: keys.server_key,
        }
    }

    /// Fake credentials for a user that does not exist: stable per
    /// (secret, hash, username), indistinguishable from real ones without the
    /// secret, and matching no password (the keys are not derived from one).
    pub(crate) fn fake(store: &dyn CredentialStore, hash: ScramHash, username: &str) -> Self {
        let secret = store.unknown_user_secret();
        let label = |what: &str| {
            let mut v = Vec::with_capacity(what.len() + username.len() + 8);
            v.extend_from_slice(what.as_bytes());
            v.push(0);
            v.extend_from_slice(match hash {
                ScramHash::Sha1 => b"sha1",
                ScramHash::Sha256 => b"sha256",
            });
            v.push(0);
            v.extend_from_slice(username.as_bytes());
            v
        };
        let mut salt = hmac(ScramHash::Sha256, secret, &label("fake salt"));
        salt.truncate(16);
        let iterations = match store.unknown_user_iterations(hash) {
            0 => DEFAULT_MIN_ITERATIONS,
            n => n,
        };
        ScramCredentials {
            salt,
            iterations,
            stored_key: hmac(hash, secret, &label("fake stored key")),
            server_key: hmac(hash, secret, &label("fake server key")),
        }
    }

    /// Whether `prepared_password` matches these credentials (used by PLAIN):
    /// recomputes `StoredKey` with the stored salt and iteration count and
    /// compares in constant time.
    pub(crate) fn matches_password(&self, hash: ScramHash, prepared_password: &str) -> bool {
        let iterations = self.iterations.max(1);
        let salted = hi(hash, prepared_password.as_bytes(), &self.salt, iterations);
        let keys = Keys::from_salted_password(hash, &salted);
        ct_eq(&keys.stored_key, &self.stored_key)
    }
}

/// `posit-number`: a positive decimal number without leading zeros.
fn parse_positive(s: &str) -> Option<u32> {
    let first = *s.as_bytes().first()?;
    if !(b'1'..=b'9').contains(&first) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn failure(condition: FailureCondition, text: &str) -> SaslFailure {
    SaslFailure::with_text(condition, text)
}

fn parse_failure(e: ParseError) -> SaslFailure {
    match e {
        ParseError::Malformed(t) => failure(FailureCondition::MalformedRequest, t),
        ParseError::Encoding(_) => failure(FailureCondition::IncorrectEncoding, "invalid-encoding"),
    }
}

/// State of an exchange after the server-first message.
struct Exchange {
    gs2_header: String,
    client_first_bare: String,
    server_first: String,
    nonce: String,
    username: String,
    authzid: Option<String>,
    credentials: ScramCredentials,
    known_user: bool,
}

enum ServerState {
    ClientFirst,
    ClientFinal(Box<Exchange>),
    Done,
}

/// Server role of SCRAM.
pub(crate) struct ScramServer {
    hash: ScramHash,
    plus: bool,
    binding: ChannelBinding,
    server_nonce: String,
    state: ServerState,
}

impl ScramServer {
    /// A server for SCRAM with `hash`, with channel binding if `plus`, on a
    /// connection offering `binding`.
    pub(crate) fn new(
        hash: ScramHash,
        plus: bool,
        binding: ChannelBinding,
        server_nonce: &str,
    ) -> Result<Self, SaslFailure> {
        if !gs2::is_valid_nonce(server_nonce) {
            return Err(failure(
                FailureCondition::TemporaryAuthFailure,
                "server nonce is not printable ASCII",
            ));
        }
        if plus && !binding.is_available() {
            return Err(failure(
                FailureCondition::InvalidMechanism,
                "channel binding is not available on this connection",
            ));
        }
        Ok(ScramServer {
            hash,
            plus,
            binding,
            server_nonce: server_nonce.to_owned(),
            state: ServerState::ClientFirst,
        })
    }

    /// Processes one client message.
    pub(crate) fn step(
        &mut self,
        store: &dyn CredentialStore,
        input: &[u8],
    ) -> Result<ServerStep, SaslFailure> {
        match std::mem::replace(&mut self.state, ServerState::Done) {
            ServerState::ClientFirst => {
                let ex = self.client_first(store, input)?;
                let out = ex.server_first.clone().into_bytes();
                self.state = ServerState::ClientFinal(Box::new(ex));
                Ok(ServerStep::Challenge(out))
            }
            ServerState::ClientFinal(ex) => self.client_final(store, &ex, input),
            ServerState::Done => Err(failure(
                FailureCondition::MalformedRequest,
                "authentication exchange already finished",
            )),
        }
    }

    fn client_first(
        &self,
        store: &dyn CredentialStore,
        input: &[u8],
    ) -> Result<Exchange, SaslFailure> {
        let msg = std::str::from_utf8(input)
            .map_err(|_| failure(FailureCondition::IncorrectEncoding, "invalid-encoding"))?;
        let (header, bare) = gs2::parse_header(msg).map_err(parse_failure)?;
        match (&header.flag, self.plus) {
            (CbFlag::Used(_), false) => {
                return Err(failure(
                    FailureCondition::MalformedRequest,
                    "channel binding requested with a mechanism without -PLUS",
                ));
            }
            (CbFlag::ClientOnly, false) if self.binding.is_available() => {
                // RFC 5802 §6: the client thinks we do not support channel
                // binding although we advertised -PLUS: possible downgrade.
                return Err(failure(
                    FailureCondition::NotAuthorized,
                    "server-does-support-channel-binding",
                ));
            }
            (CbFlag::Used(name), true) if Some(name.as_str()) != self.binding.type_name() => {
                return Err(failure(
                    FailureCondition::NotAuthorized,
                    "unsupported-channel-binding-type",
                ));
            }
            (CbFlag::NotSupported | CbFlag::ClientOnly, true) => {
                return Err(failure(
                    FailureCondition::MalformedRequest,
                    "a -PLUS mechanism requires the p= channel-binding flag",
                ));
            }
            _ => {}
        }

        let mut parts = bare.split(',');
        let first = parts.next().unwrap_or_default();
        if first.starts_with("m=") {
            return Err(failure(
                FailureCondition::MalformedRequest,
                "extensions-not-supported",
            ));
        }
        let raw_user = first.strip_prefix("n=").ok_or(failure(
            FailureCondition::MalformedRequest,
            "missing username attribute",
        ))?;
        let client_nonce = parts
            .next()
            .and_then(|p| p.strip_prefix("r="))
            .ok_or(failure(
                FailureCondition::MalformedRequest,
                "missing nonce attribute",
            ))?;
        if !gs2::is_valid_nonce(client_nonce) {
            return Err(failure(FailureCondition::MalformedRequest, "invalid nonce"));
        }
        if !parts.all(gs2::is_extension) {
            return Err(failure(
                FailureCondition::MalformedRequest,
                "invalid extension attribute",
            ));
        }
        let username = gs2::unescape(raw_user)
            .ok()
            .and_then(|u| prep::username(&u))
            .ok_or(failure(
                FailureCondition::NotAuthorized,
                "invalid-username-encoding",
            ))?;

        let (credentials, known_user) = match store.scram_credentials(&username, self.hash) {
            Some(c) if c.iterations > 0 => (c, true),
            Some(_) => {
                return Err(failure(
                    FailureCondition::TemporaryAuthFailure,
                    "stored credentials are unusable",
                ));
            }
            None => (ScramCredentials::fake(store, self.hash, &username), false),
        };
        let nonce = format!("{client_nonce}{}", self.server_nonce);
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&credentials.salt),
            credentials.iterations
        );
        Ok(Exchange {
            gs2_header: header.raw.to_owned(),
            client_first_bare: bare.to_owned(),
            server_first,
            nonce,
            username,
            authzid: header.authzid,
            credentials,
            known_user,
        })
    }

    fn client_final(
        &self,
        store: &dyn CredentialStore,
        ex: &Exchange,
        input: &[u8],
    ) -> Result<ServerStep, SaslFailure> {
        let msg = std::str::from_utf8(input)
            .map_err(|_| failure(FailureCondition::IncorrectEncoding, "invalid-encoding"))?;
        let malformed = |t| failure(FailureCondition::MalformedRequest, t);
        let (without_proof, proof_attr) = msg
            .rsplit_once(',')
            .ok_or(malformed("missing proof attribute"))?;
        let proof_b64 = proof_attr
            .strip_prefix("p=")
            .ok_or(malformed("proof must be the last attribute"))?;
        let mut parts = without_proof.split(',');
        let cb_b64 = parts
            .next()
            .and_then(|p| p.strip_prefix("c="))
            .ok_or(malformed("missing channel-binding attribute"))?;
        let nonce = parts
            .next()
            .and_then(|p| p.strip_prefix("r="))
            .ok_or(malformed("missing nonce attribute"))?;
        if !parts.all(gs2::is_extension) {
            return Err(malformed("invalid extension attribute"));
        }
        let encoding = || failure(FailureCondition::IncorrectEncoding, "invalid-encoding");
        let cb = B64.decode(cb_b64).map_err(|_| encoding())?;
        let proof = B64.decode(proof_b64).map_err(|_| encoding())?;

        let mut expected_cb = ex.gs2_header.as_bytes().to_vec();
        if self.plus {
            expected_cb.extend_from_slice(self.binding.data().unwrap_or_default());
        }
        if cb != expected_cb {
            return Err(failure(
                FailureCondition::NotAuthorized,
                "channel-bindings-dont-match",
            ));
        }
        if nonce != ex.nonce {
            return Err(failure(FailureCondition::NotAuthorized, "nonce mismatch"));
        }

        let auth_message = format!(
            "{},{},{}",
            ex.client_first_bare, ex.server_first, without_proof
        );
        let creds = &ex.credentials;
        let client_signature = hmac(self.hash, &creds.stored_key, auth_message.as_bytes());
        let client_key = xor(&proof, &client_signature);
        let proof_ok = proof.len() == self.hash.output_len()
            && ct_eq(&h(self.hash, &client_key), &creds.stored_key);
        // Evaluate both without short-circuiting on the user's existence.
        if !(proof_ok & ex.known_user) {
            return Err(failure(FailureCondition::NotAuthorized, "invalid-proof"));
        }
        store.account_status(&ex.username)?;
        if let Some(authzid) = &ex.authzid
            && !store.may_authorize(&ex.username, authzid)
        {
            return Err(SaslFailure::new(FailureCondition::InvalidAuthzid));
        }
        let server_signature = hmac(self.hash, &creds.server_key, auth_message.as_bytes());
        Ok(ServerStep::Success {
            username: ex.username.clone(),
            authzid: ex.authzid.clone(),
            additional_data: Some(format!("v={}", B64.encode(server_signature)).into_bytes()),
        })
    }
}

enum ClientState {
    Initial,
    SentFirst { bare: String },
    SentFinal { server_signature: Vec<u8> },
    Verified { server_signature: Vec<u8> },
    Done,
}

/// Client role of SCRAM.
pub(crate) struct ScramClient {
    hash: ScramHash,
    username: String,
    password: String,
    gs2_header: String,
    cb_data: Vec<u8>,
    client_nonce: String,
    pub(crate) min_iterations: u32,
    pub(crate) max_iterations: u32,
    state: ClientState,
}

impl fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramClient")
            .field("hash", &self.hash)
            .field("username", &self.username)
            .field("gs2_header", &self.gs2_header)
            .finish_non_exhaustive()
    }
}

impl ScramClient {
    /// A client for the SCRAM `mechanism` (whose hash is `hash`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        mechanism: Mechanism,
        hash: ScramHash,
        authcid: &str,
        password: &str,
        authzid: Option<&str>,
        nonce: &str,
        binding: &ChannelBinding,
        client_supports_plus_but_server_did_not_offer: bool,
    ) -> Result<Self, SaslError> {
        let username = prep::username(authcid).ok_or(SaslError::InvalidUsername)?;
        let password = prep::password(password).ok_or(SaslError::InvalidPassword)?;
        if !gs2::is_valid_nonce(nonce) {
            return Err(SaslError::InvalidNonce);
        }
        let (flag, cb_data) = if mechanism.needs_channel_binding() {
            match (binding.type_name(), binding.data()) {
                (Some(name), Some(data)) => (CbFlag::Used(name.to_owned()), data.to_vec()),
                _ => return Err(SaslError::ChannelBindingRequired(mechanism)),
            }
        } else if client_supports_plus_but_server_did_not_offer {
            (CbFlag::ClientOnly, Vec::new())
        } else {
            (CbFlag::NotSupported, Vec::new())
        };
        Ok(ScramClient {
            hash,
            username,
            password,
            gs2_header: gs2::header(&flag, authzid),
            cb_data,
            client_nonce: nonce.to_owned(),
            min_iterations: DEFAULT_MIN_ITERATIONS,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            state: ClientState::Initial,
        })
    }

    /// The client-first message.
    pub(crate) fn initial(&mut self) -> Result<Vec<u8>, SaslError> {
        if !matches!(self.state, ClientState::Initial) {
            return Err(SaslError::UnexpectedMessage);
        }
        let bare = format!("n={},r={}", gs2::escape(&self.username), self.client_nonce);
        let msg = format!("{}{bare}", self.gs2_header);
        self.state = ClientState::SentFirst { bare };
        Ok(msg.into_bytes())
    }

    /// Answers a server challenge: the server-first message, or (for servers
    /// that send it as a challenge) the server-final message, which is
    /// verified and answered with an empty response.
    pub(crate) fn step(&mut self, challenge: &[u8]) -> Result<Vec<u8>, SaslError> {
        match std::mem::replace(&mut self.state, ClientState::Done) {
            ClientState::SentFirst { bare } => {
                let (out, server_signature) = self.client_final(&bare, challenge)?;
                self.state = ClientState::SentFinal { server_signature };
                Ok(out)
            }
            ClientState::SentFinal { server_signature } => {
                verify_server_final(&server_signature, challenge)?;
                self.state = ClientState::Verified { server_signature };
                Ok(Vec::new())
            }
            _ => Err(SaslError::UnexpectedMessage),
        }
    }

    /// Checks the additional data of `<success/>`.
    pub(crate) fn finish(&mut self, additional_data: Option<&[u8]>) -> Result<(), SaslError> {
        match std::mem::replace(&mut self.state, ClientState::Done) {
            ClientState::SentFinal { server_signature } => match additional_data {
                Some(d) => verify_server_final(&server_signature, d),
                None => Err(SaslError::MissingServerSignature),
            },
            ClientState::Verified { server_signature } => match additional_data {
                Some(d) if !d.is_empty() => verify_server_final(&server_signature, d),
                _ => Ok(()),
            },
            _ => Err(SaslError::UnexpectedMessage),
        }
    }

    fn client_final(&self, bare: &str, challenge: &[u8]) -> Result<(Vec<u8>, Vec<u8>), SaslError> {
        let server_first = std::str::from_utf8(challenge)
            .map_err(|_| SaslError::MalformedMessage("server-first message is not UTF-8"))?;
        if let Some(e) = server_first.strip_prefix("e=") {
            return Err(SaslError::ServerError(e.to_owned()));
        }
        let mut parts = server_first.split(',');
        let first = parts.next().unwrap_or_default();
        if first.starts_with("m=") {
            return Err(SaslError::UnsupportedExtension);
        }
        let nonce = first
            .strip_prefix("r=")
            .ok_or(SaslError::MalformedMessage("missing nonce attribute"))?;
        if !gs2::is_valid_nonce(nonce)
            || nonce.len() <= self.client_nonce.len()
            || !nonce.starts_with(&self.client_nonce)
        {
            return Err(SaslError::NonceMismatch);
        }
        let salt = parts
            .next()
            .and_then(|p| p.strip_prefix("s="))
            .ok_or(SaslError::MalformedMessage("missing salt attribute"))?;
        let salt = B64
            .decode(salt)
            .map_err(|_| SaslError::MalformedMessage("salt is not valid base64"))?;
        if salt.is_empty() {
            return Err(SaslError::InvalidSalt);
        }
        let iterations = parts
            .next()
            .and_then(|p| p.strip_prefix("i="))
            .ok_or(SaslError::MalformedMessage("missing iteration count"))?;
        let iterations = parse_positive(iterations)
            .ok_or(SaslError::MalformedMessage("invalid iteration count"))?;
        if iterations < self.min_iterations {
            return Err(SaslError::IterationCountTooLow {
                got: iterations,
                min: self.min_iterations,
            });
        }
        if iterations > self.max_iterations {
            return Err(SaslError::IterationCountTooHigh {
                got: iterations,
                max: self.max_iterations,
            });
        }
        if !parts.all(gs2::is_extension) {
            return Err(SaslError::MalformedMessage("invalid extension attribute"));
        }

        let mut cbind_input = self.gs2_header.as_bytes().to_vec();
        cbind_input.extend_from_slice(&self.cb_data);
        let without_proof = format!("c={},r={nonce}", B64.encode(&cbind_input));
        let auth_message = format!("{bare},{server_first},{without_proof}");
        let salted = hi(self.hash, self.password.as_bytes(), &salt, iterations);
        let keys = Keys::from_salted_password(self.hash, &salted);
        let client_signature = hmac(self.hash, &keys.stored_key, auth_message.as_bytes());
        let proof = xor(&keys.client_key, &client_signature);
        let server_signature = hmac(self.hash, &keys.server_key, auth_message.as_bytes());
        let out = format!("{without_proof},p={}", B64.encode(proof));
        Ok((out.into_bytes(), server_signature))
    }
}

/// Checks a server-final message against the expected `ServerSignature`.
fn verify_server_final(expected: &[u8], msg: &[u8]) -> Result<(), SaslError> {
    let msg = std::str::from_utf8(msg)
        .map_err(|_| SaslError::MalformedMessage("server-final message is not UTF-8"))?;
    let first = msg.split(',').next().unwrap_or_default();
    if let Some(e) = first.strip_prefix("e=") {
        return Err(SaslError::ServerError(e.to_owned()));
    }
    let v = first
        .strip_prefix("v=")
        .ok_or(SaslError::MalformedMessage("missing verifier attribute"))?;
    let v = B64
        .decode(v)
        .map_err(|_| SaslError::MalformedMessage("verifier is not valid base64"))?;
    if ct_eq(&v, expected) {
        Ok(())
    } else {
        Err(SaslError::ServerSignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_numbers() {
        assert_eq!(parse_positive("4096"), Some(4096));
        assert_eq!(parse_positive("1"), Some(1));
        assert_eq!(parse_positive("0"), None);
        assert_eq!(parse_positive("0100"), None);
        assert_eq!(parse_positive("+5"), None);
        assert_eq!(parse_positive(""), None);
        assert_eq!(parse_positive("99999999999"), None);
    }

    #[test]
    fn derive_enforces_policy() {
        assert_eq!(
            ScramCredentials::derive(ScramHash::Sha256, "pw", b"salt", 100),
            Err(SaslError::IterationCountTooLow {
                got: 100,
                min: 4096
            })
        );
        assert_eq!(
            ScramCredentials::derive(ScramHash::Sha256, "pw", b"", 4096),
            Err(SaslError::InvalidSalt)
        );
        assert_eq!(
            ScramCredentials::derive(ScramHash::Sha256, "", b"salt", 4096),
            Err(SaslError::InvalidPassword)
        );
        let c = ScramCredentials::derive(ScramHash::Sha1, "pw", b"salt", 4096).unwrap();
        assert_eq!(c.stored_key.len(), 20);
        assert!(c.matches_password(ScramHash::Sha1, "pw"));
        assert!(!c.matches_password(ScramHash::Sha1, "pW"));
        assert!(!format!("{c:?}").contains("stored_key"));
    }

    struct Secret(&'static [u8]);
    impl CredentialStore for Secret {
        fn scram_credentials(&self, _: &str, _: ScramHash) -> Option<ScramCredentials> {
            None
        }
        fn unknown_user_secret(&self) -> &[u8] {
            self.0
        }
    }

    #[test]
    fn fake_credentials_are_stable_and_secret_dependent() {
        let a = ScramCredentials::fake(&Secret(b"k1"), ScramHash::Sha256, "ghost");
        let b = ScramCredentials::fake(&Secret(b"k1"), ScramHash::Sha256, "ghost");
        let c = ScramCredentials::fake(&Secret(b"k2"), ScramHash::Sha256, "ghost");
        let d = ScramCredentials::fake(&Secret(b"k1"), ScramHash::Sha256, "other");
        assert_eq!(a, b);
        assert_ne!(a.salt, c.salt);
        assert_ne!(a.salt, d.salt);
        assert_eq!(a.salt.len(), 16);
        assert_eq!(a.iterations, DEFAULT_MIN_ITERATIONS);
        assert_eq!(a.stored_key.len(), 32);
        let s1 = ScramCredentials::fake(&Secret(b"k1"), ScramHash::Sha1, "ghost");
        assert_eq!(s1.stored_key.len(), 20);
    }
}
