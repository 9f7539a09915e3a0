//! The initiating entity's side of a SASL exchange (RFC 6120 §6.4): one
//! [`ClientSession`] per authentication attempt, producing the initial
//! response for `<auth/>`, the payloads of `<response/>`, and checking the
//! additional data of `<success/>`.

use std::fmt;

use super::external::ExternalClient;
use super::oauthbearer::OAuthBearerClient;
use super::plain::PlainClient;
use super::scram::ScramClient;
use super::{ChannelBinding, DEFAULT_MAX_MESSAGE_SIZE, Mechanism, SaslError};

#[derive(Debug)]
enum Inner {
    Plain(PlainClient),
    Scram(ScramClient),
    OAuthBearer(OAuthBearerClient),
    External(ExternalClient),
}

/// Client side of one SASL authentication exchange.
///
/// After any error the exchange is over and further calls fail with
/// [`SaslError::UnexpectedMessage`].
pub struct ClientSession {
    mechanism: Mechanism,
    max_message_size: usize,
    started: bool,
    finished: bool,
    inner: Inner,
}

impl fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSession")
            .field("mechanism", &self.mechanism)
            .field("started", &self.started)
            .field("finished", &self.finished)
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl ClientSession {
    /// Starts an exchange for `mechanism`.
    ///
    /// * `authcid`: authentication identity (PLAIN, SCRAM), prepared with
    ///   PRECIS `UsernameCaseMapped`; ignored by OAUTHBEARER and EXTERNAL.
    /// * `password_or_token`: the password (PLAIN, SCRAM; PRECIS
    ///   `OpaqueString`) or the bearer token (OAUTHBEARER); ignored by
    ///   EXTERNAL.
    /// * `authzid`: authorization identity to act as, if different from the
    ///   default (an empty string counts as absent).
    /// * `nonce`: the SCRAM client nonce, fresh and random, printable ASCII
    ///   without `,`; ignored by the other mechanisms.
    /// * `channel_binding`: the binding data for a `-PLUS` mechanism.
    /// * `client_supports_plus_but_server_did_not_offer`: for non-PLUS SCRAM,
    ///   send the `y` flag instead of `n` (RFC 5802 §6); set it when the client
    ///   has channel binding but the server's list has no `-PLUS` mechanism
    ///   (see [`super::offers_channel_binding`]).
    pub fn new(
        mechanism: Mechanism,
        authcid: &str,
        password_or_token: &str,
        authzid: Option<&str>,
        nonce: &str,
        channel_binding: ChannelBinding,
        client_supports_plus_but_server_did_not_offer: bool,
    ) -> Result<Self, SaslError> {
        let authzid = authzid.filter(|a| !a.is_empty());
        if authzid.is_some_and(|a| a.contains('\0')) {
            return Err(SaslError::InvalidAuthzid);
        }
        let inner = match mechanism {
            Mechanism::Plain => {
                Inner::Plain(PlainClient::new(authcid, password_or_token, authzid)?)
            }
            Mechanism::ScramSha1
            | Mechanism::ScramSha1Plus
            | Mechanism::ScramSha256
            | Mechanism::ScramSha256Plus => {
                let hash = mechanism
                    .scram_hash()
                    .ok_or(SaslError::MechanismUnavailable(mechanism))?;
                Inner::Scram(ScramClient::new(
                    mechanism,
                    hash,
                    authcid,
                    password_or_token,
                    authzid,
                    nonce,
                    &channel_binding,
                    client_supports_plus_but_server_did_not_offer,
                )?)
            }
            Mechanism::OAuthBearer => {
                Inner::OAuthBearer(OAuthBearerClient::new(password_or_token, authzid)?)
            }
            Mechanism::External => Inner::External(ExternalClient::new(authzid)),
        };
        Ok(ClientSession {
            mechanism,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            started: false,
            finished: false,
            inner,
        })
    }

    /// Sets the largest accepted server message, in octets after base64
    /// decoding (default [`super::DEFAULT_MAX_MESSAGE_SIZE`]).
    pub fn with_max_message_size(mut self, limit: usize) -> Self {
        self.max_message_size = limit;
        self
    }

    /// Sets the range of SCRAM iteration counts the client accepts (default
    /// [`super::DEFAULT_MIN_ITERATIONS`]..=[`super::DEFAULT_MAX_ITERATIONS`]);
    /// no effect on other mechanisms.
    pub fn with_iteration_limits(mut self, min: u32, max: u32) -> Self {
        if let Inner::Scram(s) = &mut self.inner {
            s.min_iterations = min;
            s.max_iterations = max;
        }
        self
    }

    /// The mechanism of this exchange.
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// For OAUTHBEARER, the server's JSON error document (RFC 7628 §3.2.2)
    /// once a token has been rejected.
    pub fn oauthbearer_error(&self) -> Option<&str> {
        match &self.inner {
            Inner::OAuthBearer(c) => c.error_document(),
            _ => None,
        }
    }

    /// The initial response to put in `<auth/>` (all supported mechanisms are
    /// client-first, so this is always `Some`; an empty payload is sent as
    /// `=`). May be called once, before any [`ClientSession::step`]; a client
    /// that does not send it answers the server's first, empty challenge
    /// with [`ClientSession::step`] instead.
    pub fn initial_response(&mut self) -> Result<Option<Vec<u8>>, SaslError> {
        if self.started || self.finished {
            return Err(SaslError::UnexpectedMessage);
        }
        self.started = true;
        self.initial().map(Some)
    }

    /// Answers a `<challenge/>` payload with the payload for `<response/>`.
    pub fn step(&mut self, challenge: &[u8]) -> Result<Vec<u8>, SaslError> {
        if self.finished {
            return Err(SaslError::UnexpectedMessage);
        }
        if challenge.len() > self.max_message_size {
            self.finished = true;
            return Err(SaslError::MessageTooLarge {
                size: challenge.len(),
                limit: self.max_message_size,
            });
        }
        if !self.started {
            self.started = true;
            if !challenge.is_empty() {
                self.finished = true;
                return Err(SaslError::UnexpectedMessage);
            }
            return self.initial();
        }
        let result = match &mut self.inner {
            Inner::Plain(m) => m.step(challenge),
            Inner::Scram(m) => m.step(challenge),
            Inner::OAuthBearer(m) => m.step(challenge),
            Inner::External(m) => m.step(challenge),
        };
        self.track(result)
    }

    /// Verifies the additional data of `<success/>` (the SCRAM server
    /// signature). Must be called on success: an `Err` means the server is
    /// not authentic (or broke the protocol) and the stream must be closed.
    pub fn finish(&mut self, additional_data: Option<&[u8]>) -> Result<(), SaslError> {
        if self.finished || !self.started {
            return Err(SaslError::UnexpectedMessage);
        }
        self.finished = true;
        if let Some(d) = additional_data
            && d.len() > self.max_message_size
        {
            return Err(SaslError::MessageTooLarge {
                size: d.len(),
                limit: self.max_message_size,
            });
        }
        match &mut self.inner {
            Inner::Plain(m) => m.finish(additional_data),
            Inner::Scram(m) => m.finish(additional_data),
            Inner::OAuthBearer(m) => m.finish(additional_data),
            Inner::External(m) => m.finish(additional_data),
        }
    }

    fn initial(&mut self) -> Result<Vec<u8>, SaslError> {
        let result = match &mut self.inner {
            Inner::Plain(m) => m.initial(),
            Inner::Scram(m) => m.initial(),
            Inner::OAuthBearer(m) => m.initial(),
            Inner::External(m) => m.initial(),
        };
        self.track(result)
    }

    fn track<T>(&mut self, result: Result<T, SaslError>) -> Result<T, SaslError> {
        if result.is_err() {
            self.finished = true;
        }
        result
    }
}
