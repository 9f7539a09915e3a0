//! `OAUTHBEARER` (RFC 7628): an OAuth 2.0 bearer token (RFC 6750) in a GS2
//! framed key/value message.
//!
//! ```text
//! client-resp = gs2-header %x01 *(key "=" value %x01) %x01   ; RFC 7628 §3.1
//! ```
//!
//! The token is checked by [`CredentialStore::verify_token`]. On rejection the
//! server sends the JSON error document of RFC 7628 §3.2.2 as a challenge, the
//! client answers with a single `%x01`, and the server then fails with
//! `not-authorized`. OAUTHBEARER has no channel binding, so the `p=` flag is
//! refused.

use std::fmt;

use super::gs2::{self, CbFlag};
use super::{
    CredentialStore, FailureCondition, SaslError, SaslFailure, ServerStep,
    expect_no_additional_data,
};

/// The RFC 7628 §3.2.2 error document sent when a token is rejected.
pub(crate) const ERROR_DOCUMENT: &str = r#"{"status":"invalid_token","schemes":"bearer"}"#;

/// The key/value separator.
const KVSEP: char = '\x01';

/// Whether `s` is an RFC 6750 `b64token`:
/// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
pub(crate) fn is_b64token(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// `value = *(VCHAR / SP / HTAB / CR / LF)`.
fn is_value(s: &str) -> bool {
    s.bytes()
        .all(|b| (0x20..=0x7e).contains(&b) || b == b'\t' || b == b'\r' || b == b'\n')
}

fn malformed(text: &str) -> SaslFailure {
    SaslFailure::with_text(FailureCondition::MalformedRequest, text)
}

/// Extracts `(authzid, token)` from a client response.
fn parse_client_response(input: &[u8]) -> Result<(Option<String>, &str), SaslFailure> {
    let msg = std::str::from_utf8(input).map_err(|_| malformed("message is not UTF-8"))?;
    let (header, rest) = gs2::parse_header(msg).map_err(|e| malformed(e.text()))?;
    if matches!(header.flag, CbFlag::Used(_)) {
        return Err(malformed("OAUTHBEARER does not support channel binding"));
    }
    let pairs = rest
        .strip_prefix(KVSEP)
        .and_then(|r| r.strip_suffix(KVSEP))
        .and_then(|r| r.strip_suffix(KVSEP))
        .ok_or(malformed("key/value pairs not framed by %x01"))?;
    let mut token = None;
    for pair in pairs.split(KVSEP) {
        let (key, value) = pair
            .split_once('=')
            .ok_or(malformed("key/value pair without '='"))?;
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphabetic()) || !is_value(value) {
            return Err(malformed("invalid key/value pair"));
        }
        if key == "auth" {
            if token.is_some() {
                return Err(malformed("duplicate auth key"));
            }
            let (scheme, credentials) = value
                .split_once(' ')
                .ok_or(malformed("auth value is not 'Bearer <token>'"))?;
            let credentials = credentials.trim_start_matches(' ');
            if !scheme.eq_ignore_ascii_case("Bearer") || !is_b64token(credentials) {
                return Err(malformed("auth value is not 'Bearer <token>'"));
            }
            token = Some(credentials);
        }
    }
    let token = token.ok_or(malformed("missing auth key"))?;
    Ok((header.authzid, token))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    Initial,
    ErrorSent,
    Done,
}

/// Server role of OAUTHBEARER.
#[derive(Debug)]
pub(crate) struct OAuthBearerServer {
    state: ServerState,
}

impl OAuthBearerServer {
    /// A new server.
    pub(crate) fn new() -> Self {
        OAuthBearerServer {
            state: ServerState::Initial,
        }
    }

    /// Processes one client message.
    pub(crate) fn step(
        &mut self,
        store: &dyn CredentialStore,
        input: &[u8],
    ) -> Result<ServerStep, SaslFailure> {
        match std::mem::replace(&mut self.state, ServerState::Done) {
            ServerState::Initial => {
                let (authzid, token) = parse_client_response(input)?;
                let Some(username) = store.verify_token(token, authzid.as_deref()) else {
                    self.state = ServerState::ErrorSent;
                    return Ok(ServerStep::Challenge(ERROR_DOCUMENT.as_bytes().to_vec()));
                };
                store.account_status(&username)?;
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
            ServerState::ErrorSent if input == [0x01] => Err(SaslFailure::with_text(
                FailureCondition::NotAuthorized,
                "invalid_token",
            )),
            ServerState::ErrorSent => Err(malformed("expected %x01 after the error document")),
            ServerState::Done => Err(malformed("authentication exchange already finished")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ClientState {
    Initial,
    Sent,
    Rejected(String),
    Done,
}

/// Client role of OAUTHBEARER.
pub(crate) struct OAuthBearerClient {
    message: Vec<u8>,
    state: ClientState,
}

impl fmt::Debug for OAuthBearerClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthBearerClient")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl OAuthBearerClient {
    /// Prepares the client response for `token`.
    pub(crate) fn new(token: &str, authzid: Option<&str>) -> Result<Self, SaslError> {
        if !is_b64token(token) {
            return Err(SaslError::InvalidToken);
        }
        let mut message = gs2::header(&CbFlag::NotSupported, authzid);
        message.push(KVSEP);
        message.push_str("auth=Bearer ");
        message.push_str(token);
        message.push(KVSEP);
        message.push(KVSEP);
        Ok(OAuthBearerClient {
            message: message.into_bytes(),
            state: ClientState::Initial,
        })
    }

    /// The client response.
    pub(crate) fn initial(&mut self) -> Result<Vec<u8>, SaslError> {
        if self.state != ClientState::Initial {
            return Err(SaslError::UnexpectedMessage);
        }
        self.state = ClientState::Sent;
        Ok(std::mem::take(&mut self.message))
    }

    /// Answers the error document with the dummy `%x01` response.
    pub(crate) fn step(&mut self, challenge: &[u8]) -> Result<Vec<u8>, SaslError> {
        if self.state != ClientState::Sent {
            return Err(SaslError::UnexpectedMessage);
        }
        self.state = ClientState::Rejected(String::from_utf8_lossy(challenge).into_owned());
        Ok(vec![0x01])
    }

    /// The error document received, if the token was rejected.
    pub(crate) fn error_document(&self) -> Option<&str> {
        match &self.state {
            ClientState::Rejected(doc) => Some(doc),
            _ => None,
        }
    }

    /// OAUTHBEARER has no additional data with success.
    pub(crate) fn finish(&mut self, additional_data: Option<&[u8]>) -> Result<(), SaslError> {
        match std::mem::replace(&mut self.state, ClientState::Done) {
            ClientState::Sent => expect_no_additional_data(additional_data),
            ClientState::Rejected(doc) => Err(SaslError::OAuthBearerRejected(doc)),
            ClientState::Initial | ClientState::Done => Err(SaslError::UnexpectedMessage),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64token_syntax() {
        assert!(is_b64token("abc-._~+/=="));
        assert!(!is_b64token(""));
        assert!(!is_b64token("=="));
        assert!(!is_b64token("a b"));
        assert!(!is_b64token("a=b"));
    }

    #[test]
    fn parses_a_full_response() {
        let msg = b"n,a=alice@example.net,\x01host=xmpp.example.net\x01port=5222\x01auth=bearer  tok.en\x01\x01";
        let (authzid, token) = parse_client_response(msg).unwrap();
        assert_eq!(authzid.as_deref(), Some("alice@example.net"));
        assert_eq!(token, "tok.en");
    }

    #[test]
    fn rejects_bad_framing() {
        for bad in [
            &b"n,,auth=Bearer x\x01\x01"[..],
            b"n,,\x01auth=Bearer x\x01",
            b"n,,\x01\x01",
            b"n,,\x01host=h\x01\x01",
            b"n,,\x01auth=Basic x\x01\x01",
            b"n,,\x01auth=Bearer x\x01auth=Bearer y\x01\x01",
            b"n,,\x01auth=Bearer\x01\x01",
            b"n,,\x01au th=Bearer x\x01\x01",
            b"n,,\x01auth=Bearer x\x00\x01\x01",
            b"p=tls-exporter,,\x01auth=Bearer x\x01\x01",
            b"\x01",
        ] {
            assert!(parse_client_response(bad).is_err(), "{bad:?}");
        }
    }
}
