//! Pager-mode instant messaging with MESSAGE (RFC 3428), both roles:
//! [`build_message`] for the sender, [`receive_message`] for the
//! recipient's user agent or a server delivering to local users.

use bytes::Bytes;

use crate::message::{MediaType, Message, Method, NameAddr, SipUri, Uri};
use crate::subscription::notifier::simple;
use crate::subscription::{IdGenerator, LocalEndpoint};

/// Largest MESSAGE body accepted by default: RFC 3428 §8 keeps pager-mode
/// messages under 1300 bytes on UDP; TCP may carry more, bounded here.
pub const DEFAULT_MAX_IM_BODY: usize = 64 * 1024;

/// An instant message that was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstantMessage {
    /// Sender (From URI).
    pub from: String,
    /// Recipient (Request-URI).
    pub to: String,
    /// Body media type, e.g. `text/plain`.
    pub content_type: String,
    /// The body.
    pub body: Bytes,
}

/// Builds a MESSAGE from `from` to `to` with a fresh Call-ID and tag.
pub fn build_message(
    local: &LocalEndpoint,
    from: &SipUri,
    to: &SipUri,
    content_type: &MediaType,
    body: impl Into<Bytes>,
    ids: &mut impl IdGenerator,
) -> Option<Message> {
    let tag = ids.next_id();
    Message::request(Method::Message, Uri::from(to.clone()))
        .via(&local.via())
        .max_forwards(70)
        .from(&NameAddr::new(from.clone()).with_param("tag", Some(&tag)))
        .to(&NameAddr::new(to.clone()))
        .call_id(&ids.next_id())
        .cseq(1, Method::Message)
        .body(content_type, body)
        .build()
        .ok()
}

/// Checks a received MESSAGE: returns the message and the `200 OK` to
/// send, or the error response (415 for a missing Content-Type, 413 for a
/// body over `max_body`, 400 for an empty body, 405 for another method).
pub fn receive_message(
    req: &Message,
    max_body: usize,
) -> Result<(InstantMessage, Message), Box<Message>> {
    if req.method() != Some(&Method::Message) {
        return Err(Box::new(simple(req, 405)));
    }
    if req.body().len() > max_body {
        return Err(Box::new(simple(req, 413)));
    }
    if req.body().is_empty() {
        return Err(Box::new(simple(req, 400)));
    }
    let Ok(Some(ct)) = req.content_type() else {
        return Err(Box::new(simple(req, 415)));
    };
    let (Some(from), Some(to)) = (req.from(), req.request_uri()) else {
        return Err(Box::new(simple(req, 400)));
    };
    let im = InstantMessage {
        from: from.uri.to_string(),
        to: to.to_string(),
        content_type: format!("{}/{}", ct.mtype, ct.subtype),
        body: req.body().clone(),
    };
    let ok = Message::response_to(req, 200, "OK")
        .to_tag("m")
        .build()
        .unwrap_or_else(|_| simple(req, 200));
    Ok((im, ok))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::Transport;

    fn local() -> LocalEndpoint {
        LocalEndpoint {
            via_host: "pc.example.com".into(),
            via_port: None,
            transport: Transport::Tcp,
            contact: SipUri::new(Some("ann"), "pc.example.com"),
        }
    }

    #[test]
    fn round_trip_both_roles() {
        let mut n = 0;
        let mut ids = move || {
            n += 1;
            format!("id{n}")
        };
        let m = build_message(
            &local(),
            &SipUri::new(Some("ann"), "example.com"),
            &SipUri::new(Some("ben"), "example.net"),
            &MediaType::new("text", "plain"),
            "see you at noon",
            &mut ids,
        )
        .unwrap();
        let m = Message::parse(&m.to_bytes()).unwrap();
        let (im, ok) = receive_message(&m, DEFAULT_MAX_IM_BODY).unwrap();
        assert_eq!(im.from, "sip:ann@example.com");
        assert_eq!(im.to, "sip:ben@example.net");
        assert_eq!(&im.body[..], b"see you at noon");
        assert_eq!(ok.status(), Some(200));
        assert_eq!(receive_message(&m, 3).unwrap_err().status(), Some(413));
        let mut bare = m.clone();
        bare.remove_header(crate::HeaderName::ContentType).unwrap();
        assert_eq!(
            receive_message(&bare, 1000).unwrap_err().status(),
            Some(415)
        );
        bare.set_body(Bytes::new());
        assert_eq!(
            receive_message(&bare, 1000).unwrap_err().status(),
            Some(400)
        );
    }
}
