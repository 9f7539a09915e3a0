//! `EXTERNAL` (RFC 4422 Appendix A; XEP-0178 for XMPP client certificates):
//! the client is already authenticated by a lower layer, and its only message
//! is an optional authorization identity (empty = "derive it from my
//! credentials").

use super::{
    CredentialStore, FailureCondition, SaslError, SaslFailure, ServerStep,
    expect_no_additional_data,
};

/// Server role of EXTERNAL.
#[derive(Debug)]
pub(crate) struct ExternalServer {
    identity: String,
}

impl ExternalServer {
    /// A server for a client authenticated by a lower layer as `identity`.
    pub(crate) fn new(identity: &str) -> Self {
        ExternalServer {
            identity: identity.to_owned(),
        }
    }

    /// Processes the single client message.
    pub(crate) fn step(
        &mut self,
        store: &dyn CredentialStore,
        input: &[u8],
    ) -> Result<ServerStep, SaslFailure> {
        let authzid = std::str::from_utf8(input)
            .ok()
            .filter(|a| !a.contains('\0'))
            .ok_or(SaslFailure::with_text(
                FailureCondition::MalformedRequest,
                "authorization identity is not UTF-8 without NUL",
            ))?;
        store.account_status(&self.identity)?;
        let authzid = (!authzid.is_empty()).then(|| authzid.to_owned());
        if let Some(a) = &authzid
            && !store.may_authorize(&self.identity, a)
        {
            return Err(SaslFailure::new(FailureCondition::InvalidAuthzid));
        }
        Ok(ServerStep::Success {
            username: self.identity.clone(),
            authzid,
            additional_data: None,
        })
    }
}

/// Client role of EXTERNAL.
#[derive(Debug)]
pub(crate) struct ExternalClient {
    message: Option<Vec<u8>>,
}

impl ExternalClient {
    /// Prepares the message: the authorization identity, or empty.
    pub(crate) fn new(authzid: Option<&str>) -> Self {
        ExternalClient {
            message: Some(authzid.unwrap_or_default().as_bytes().to_vec()),
        }
    }

    /// The message (sent once).
    pub(crate) fn initial(&mut self) -> Result<Vec<u8>, SaslError> {
        self.message.take().ok_or(SaslError::UnexpectedMessage)
    }

    /// EXTERNAL has no challenges after the message.
    pub(crate) fn step(&mut self, _challenge: &[u8]) -> Result<Vec<u8>, SaslError> {
        Err(SaslError::UnexpectedMessage)
    }

    /// EXTERNAL has no additional data with success.
    pub(crate) fn finish(&mut self, additional_data: Option<&[u8]>) -> Result<(), SaslError> {
        if self.message.is_some() {
            return Err(SaslError::UnexpectedMessage);
        }
        expect_no_additional_data(additional_data)
    }
}
