//! The receiving entity's side of a SASL exchange (RFC 6120 §6.4): one
//! [`ServerSession`] per `<auth/>`, fed the decoded payloads of `<auth/>` and
//! `<response/>`, answering with a challenge, success, or failure.

use std::fmt;

use super::external::ExternalServer;
use super::oauthbearer::OAuthBearerServer;
use super::plain::PlainServer;
use super::scram::ScramServer;
use super::{
    ChannelBinding, CredentialStore, DEFAULT_MAX_MESSAGE_SIZE, FailureCondition, Mechanism,
    SaslFailure,
};

/// What the server sends next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerStep {
    /// Send `<challenge/>` with this (raw) payload and wait for `<response/>`.
    Challenge(Vec<u8>),
    /// Authentication succeeded: send `<success/>` with `additional_data`
    /// (the SCRAM server-final message) if present.
    Success {
        /// The authenticated identity (authcid), PRECIS-prepared for PLAIN and
        /// SCRAM, as returned by the verifier for OAUTHBEARER, as supplied by
        /// the caller for EXTERNAL.
        username: String,
        /// The authorization identity requested by the client and allowed by
        /// [`CredentialStore::may_authorize`], if one was given.
        authzid: Option<String>,
        /// Additional data with success.
        additional_data: Option<Vec<u8>>,
    },
}

enum Inner {
    Plain(PlainServer),
    Scram(ScramServer),
    OAuthBearer(OAuthBearerServer),
    External(ExternalServer),
}

/// Server side of one SASL authentication exchange.
///
/// Once [`ServerSession::step`] has returned success or a failure, the
/// exchange is over and further calls fail with `malformed-request`.
pub struct ServerSession {
    mechanism: Mechanism,
    max_message_size: usize,
    started: bool,
    finished: bool,
    inner: Inner,
}

impl fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSession")
            .field("mechanism", &self.mechanism)
            .field("max_message_size", &self.max_message_size)
            .field("started", &self.started)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl ServerSession {
    /// Starts an exchange for `mechanism`.
    ///
    /// * `channel_binding`: what the TLS layer offers; must be the value the
    ///   mechanism list was built from (anything but `None` means the `-PLUS`
    ///   mechanisms were advertised, which matters for SCRAM's downgrade
    ///   protection). A `-PLUS` mechanism without it fails with
    ///   `invalid-mechanism`.
    /// * `nonce`: the server part of the SCRAM nonce, fresh and random,
    ///   printable ASCII without `,` (RFC 5802 §5.1); ignored by the other
    ///   mechanisms. An invalid nonce fails with `temporary-auth-failure`.
    /// * `external_identity`: for EXTERNAL, the identity the lower layer
    ///   authenticated (e.g. the JID of a verified client certificate);
    ///   EXTERNAL without it fails with `invalid-mechanism`.
    pub fn new(
        mechanism: Mechanism,
        channel_binding: ChannelBinding,
        nonce: &str,
        external_identity: Option<&str>,
    ) -> Result<Self, SaslFailure> {
        let inner = match mechanism {
            Mechanism::Plain => Inner::Plain(PlainServer),
            Mechanism::ScramSha1
            | Mechanism::ScramSha1Plus
            | Mechanism::ScramSha256
            | Mechanism::ScramSha256Plus => {
                let hash = mechanism
                    .scram_hash()
                    .ok_or(SaslFailure::new(FailureCondition::InvalidMechanism))?;
                Inner::Scram(ScramServer::new(
                    hash,
                    mechanism.needs_channel_binding(),
                    channel_binding,
                    nonce,
                )?)
            }
            Mechanism::OAuthBearer => Inner::OAuthBearer(OAuthBearerServer::new()),
            Mechanism::External => match external_identity {
                Some(id) if !id.is_empty() => Inner::External(ExternalServer::new(id)),
                _ => {
                    return Err(SaslFailure::with_text(
                        FailureCondition::InvalidMechanism,
                        "no externally authenticated identity",
                    ));
                }
            },
        };
        Ok(ServerSession {
            mechanism,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            started: false,
            finished: false,
            inner,
        })
    }

    /// Sets the largest accepted client message, in octets after base64
    /// decoding (default [`DEFAULT_MAX_MESSAGE_SIZE`]). Larger messages fail
    /// with `malformed-request`.
    pub fn with_max_message_size(mut self, limit: usize) -> Self {
        self.max_message_size = limit;
        self
    }

    /// The mechanism of this exchange.
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// Whether the exchange has ended (success, failure or abort).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The client sent `<abort/>` (RFC 6120 §6.4.4): ends the exchange and
    /// returns the `<aborted/>` failure to send.
    pub fn abort(&mut self) -> SaslFailure {
        self.finished = true;
        SaslFailure::new(FailureCondition::Aborted)
    }

    /// Processes the initial response from `<auth/>` (`None` when absent; an
    /// empty initial response, transmitted as `=`, is `Some(&[])`), then each
    /// `<response/>` payload (`None` and `Some(&[])` both mean empty there).
    ///
    /// Without an initial response the first step answers with an empty
    /// challenge (RFC 6120 §6.4.2).
    pub fn step(
        &mut self,
        store: &dyn CredentialStore,
        input: Option<&[u8]>,
    ) -> Result<ServerStep, SaslFailure> {
        if self.finished {
            return Err(SaslFailure::with_text(
                FailureCondition::MalformedRequest,
                "authentication exchange already finished",
            ));
        }
        let first = !self.started;
        self.started = true;
        let input = match input {
            None if first => return Ok(ServerStep::Challenge(Vec::new())),
            None => &[][..],
            Some(i) => i,
        };
        if input.len() > self.max_message_size {
            self.finished = true;
            return Err(SaslFailure::with_text(
                FailureCondition::MalformedRequest,
                "message exceeds the size limit",
            ));
        }
        let result = match &mut self.inner {
            Inner::Plain(m) => m.step(store, input),
            Inner::Scram(m) => m.step(store, input),
            Inner::OAuthBearer(m) => m.step(store, input),
            Inner::External(m) => m.step(store, input),
        };
        if !matches!(result, Ok(ServerStep::Challenge(_))) {
            self.finished = true;
        }
        result
    }
}
