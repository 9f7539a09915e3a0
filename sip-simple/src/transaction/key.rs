//! Transaction matching keys (RFC 3261 §17.1.3, §17.2.3): the branch with
//! the magic cookie, or the RFC 2543 combination of Request-URI, tags,
//! Call-ID, CSeq and top Via when the branch lacks the cookie.

use crate::error::TransactionError;
use crate::message::{Message, Method};

/// Identifies a transaction within a [`TransactionTable`](super::TransactionTable).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TransactionKey {
    /// Client transaction: top Via branch and CSeq method (§17.1.3).
    Client {
        /// Branch parameter.
        branch: String,
        /// CSeq method.
        method: Method,
    },
    /// Server transaction with an RFC 3261 branch: branch, sent-by and
    /// method (§17.2.3).
    Server {
        /// Branch parameter.
        branch: String,
        /// Top Via sent-by, lower-cased.
        sent_by: String,
        /// Request method.
        method: Method,
    },
    /// Server transaction of an RFC 2543 peer (no magic cookie).
    Rfc2543 {
        /// Request-URI as written.
        request_uri: String,
        /// From tag.
        from_tag: Option<String>,
        /// To tag.
        to_tag: Option<String>,
        /// Call-ID.
        call_id: String,
        /// CSeq number.
        cseq: u32,
        /// CSeq method.
        method: Method,
        /// Top Via value.
        top_via: String,
    },
}

impl TransactionKey {
    /// The key of the client transaction a response (or the request it
    /// sent) belongs to.
    pub fn for_client(msg: &Message) -> Result<TransactionKey, TransactionError> {
        let via = msg.top_via().ok_or(TransactionError::MissingVia)?;
        let branch = via
            .branch()
            .ok_or(TransactionError::MissingHeader("Via branch"))?;
        let cseq = msg.cseq().ok_or(TransactionError::MissingHeader("CSeq"))?;
        Ok(TransactionKey::Client {
            branch: branch.to_owned(),
            method: cseq.method.clone(),
        })
    }

    /// The key of the server transaction a request belongs to. A branch
    /// that is the bare magic cookie counts as RFC 2543 (RFC 4475 §3.2.1).
    pub fn for_server(req: &Message) -> Result<TransactionKey, TransactionError> {
        let method = req.method().ok_or(TransactionError::WrongMessageKind)?;
        let via = req.top_via().ok_or(TransactionError::MissingVia)?;
        // ACK to a non-2xx matches the INVITE transaction (§17.2.3).
        let method = if *method == Method::Ack {
            Method::Invite
        } else {
            method.clone()
        };
        if via.has_rfc3261_branch() {
            return Ok(TransactionKey::Server {
                branch: via.branch().unwrap_or_default().to_owned(),
                sent_by: via.sent_by().to_ascii_lowercase(),
                method,
            });
        }
        let cseq = req.cseq().ok_or(TransactionError::MissingHeader("CSeq"))?;
        Ok(TransactionKey::Rfc2543 {
            request_uri: req.request_uri().map(|u| u.to_string()).unwrap_or_default(),
            from_tag: req.from().and_then(|f| f.tag()).map(str::to_owned),
            to_tag: req.to().and_then(|t| t.tag()).map(str::to_owned),
            call_id: req
                .call_id()
                .ok_or(TransactionError::MissingHeader("Call-ID"))?
                .to_owned(),
            cseq: cseq.seq,
            method,
            top_via: via.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(via: &str, method: &str) -> Message {
        let s = format!(
            "{method} sip:carol@chicago.example.com SIP/2.0\r\nVia: {via}\r\n\
From: <sip:bob@biloxi.example.com>;tag=a1\r\nTo: <sip:carol@chicago.example.com>\r\n\
Call-ID: k1@biloxi\r\nCSeq: 9 {method}\r\nContent-Length: 0\r\n\r\n"
        );
        Message::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn rfc3261_keys_use_branch_sent_by_and_method() {
        let a = TransactionKey::for_server(&req(
            "SIP/2.0/UDP Biloxi.example.com;branch=z9hG4bKq1",
            "OPTIONS",
        ))
        .unwrap();
        let b = TransactionKey::for_server(&req(
            "SIP/2.0/UDP biloxi.example.com;branch=z9hG4bKq1",
            "OPTIONS",
        ))
        .unwrap();
        let c = TransactionKey::for_server(&req(
            "SIP/2.0/UDP other.example.com;branch=z9hG4bKq1",
            "OPTIONS",
        ))
        .unwrap();
        let d = TransactionKey::for_server(&req(
            "SIP/2.0/UDP biloxi.example.com;branch=z9hG4bKq1",
            "CANCEL",
        ))
        .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn bare_cookie_and_missing_branch_fall_back_to_rfc2543() {
        let a = TransactionKey::for_server(&req(
            "SIP/2.0/UDP biloxi.example.com;branch=z9hG4bK",
            "OPTIONS",
        ))
        .unwrap();
        assert!(matches!(a, TransactionKey::Rfc2543 { .. }));
        let b =
            TransactionKey::for_server(&req("SIP/2.0/UDP biloxi.example.com", "OPTIONS")).unwrap();
        let b2 =
            TransactionKey::for_server(&req("SIP/2.0/UDP biloxi.example.com", "OPTIONS")).unwrap();
        assert_eq!(b, b2);
        assert_ne!(a, b);
    }
}
