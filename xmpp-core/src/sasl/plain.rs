//! `PLAIN` (RFC 4616): `[authzid] NUL authcid NUL passwd`.
//!
//! The server verifies the password against the salted SCRAM keys of the
//! store ([`ScramCredentials`]: it re-derives `StoredKey` with the stored salt
//! and iteration count), so no clear-text password needs to be kept. Unknown
//! users go through the same derivation with fake credentials, so that the
//! answer and its timing do not reveal whether the user exists.

use std::fmt;

use super::scram::ScramCredentials;
use super::{
    CredentialStore, FailureCondition, SaslError, SaslFailure, ScramHash, ServerStep,
    expect_no_additional_data, prep,
};

/// Server role of PLAIN.
#[derive(Debug, Default)]
pub(crate) struct PlainServer;

impl PlainServer {
    /// Verifies the single PLAIN message.
    pub(crate) fn step(
        &mut self,
        store: &dyn CredentialStore,
        input: &[u8],
    ) -> Result<ServerStep, SaslFailure> {
        let malformed = |t| SaslFailure::with_text(FailureCondition::MalformedRequest, t);
        let mut fields = input.split(|b| *b == 0);
        let (Some(authzid), Some(authcid), Some(password), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(malformed("expected authzid NUL authcid NUL password"));
        };
        let text = |b| std::str::from_utf8(b).map_err(|_| malformed("field is not UTF-8"));
        let (authzid, authcid, password) = (text(authzid)?, text(authcid)?, text(password)?);
        if authcid.is_empty() {
            return Err(malformed("empty authentication identity"));
        }
        if password.is_empty() {
            return Err(malformed("empty password"));
        }
        let not_authorized = || SaslFailure::new(FailureCondition::NotAuthorized);
        let username = prep::username(authcid).ok_or_else(not_authorized)?;
        let password = prep::password(password).ok_or_else(not_authorized)?;

        let found = store
            .scram_credentials(&username, ScramHash::Sha256)
            .map(|c| (ScramHash::Sha256, c))
            .or_else(|| {
                store
                    .scram_credentials(&username, ScramHash::Sha1)
                    .map(|c| (ScramHash::Sha1, c))
            });
        let (hash, credentials, known) = match found {
            Some((hash, c)) => (hash, c, true),
            None => (
                ScramHash::Sha256,
                ScramCredentials::fake(store, ScramHash::Sha256, &username),
                false,
            ),
        };
        // Always run the derivation, then combine without short-circuiting.
        let matches = credentials.matches_password(hash, &password);
        if !(matches & known) {
            return Err(not_authorized());
        }
        store.account_status(&username)?;
        let authzid = (!authzid.is_empty()).then(|| authzid.to_owned());
        if let Some(a) = &authzid
            && !store.may_authorize(&username, a)
        {
            return Err(SaslFailure::new(FailureCondition::InvalidAuthzid));
        }
        Ok(ServerStep::Success {
            username,
            authzid,
            additional_data: None,
        })
    }
}

/// Client role of PLAIN.
pub(crate) struct PlainClient {
    message: Option<Vec<u8>>,
    sent: bool,
}

impl fmt::Debug for PlainClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlainClient")
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl PlainClient {
    /// Prepares the PLAIN message.
    pub(crate) fn new(
        authcid: &str,
        password: &str,
        authzid: Option<&str>,
    ) -> Result<Self, SaslError> {
        let authcid = prep::username(authcid).ok_or(SaslError::InvalidUsername)?;
        let password = prep::password(password).ok_or(SaslError::InvalidPassword)?;
        let mut message = Vec::with_capacity(authcid.len() + password.len() + 2);
        if let Some(a) = authzid {
            message.extend_from_slice(a.as_bytes());
        }
        message.push(0);
        message.extend_from_slice(authcid.as_bytes());
        message.push(0);
        message.extend_from_slice(password.as_bytes());
        Ok(PlainClient {
            message: Some(message),
            sent: false,
        })
    }

    /// The message (sent once).
    pub(crate) fn initial(&mut self) -> Result<Vec<u8>, SaslError> {
        self.sent = true;
        self.message.take().ok_or(SaslError::UnexpectedMessage)
    }

    /// PLAIN has no challenges after the message.
    pub(crate) fn step(&mut self, _challenge: &[u8]) -> Result<Vec<u8>, SaslError> {
        Err(SaslError::UnexpectedMessage)
    }

    /// PLAIN has no additional data with success.
    pub(crate) fn finish(&mut self, additional_data: Option<&[u8]>) -> Result<(), SaslError> {
        if !self.sent {
            return Err(SaslError::UnexpectedMessage);
        }
        expect_no_additional_data(additional_data)
    }
}
