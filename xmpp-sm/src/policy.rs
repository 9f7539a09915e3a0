//! What happens to the stanzas of a session that expired without being
//! resumed (XEP-0198 §5 leaves this to the server; the product's policy
//! is in REQUIREMENTS §2: "returned to the sender", optionally offline
//! storage for the last resource), and the error replies of RFC 6120
//! §8.3.1 used to return them.

use bytes::Bytes;
use xmpp_core::ns;
use xmpp_core::xml::{Element, Limits, NsContext, parse_element};

/// The policy applied to unacknowledged stanzas of an expired session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPolicy {
    /// Return every stanza to its sender as an error (the documented
    /// product behaviour). The default.
    #[default]
    Bounce,
    /// Hand messages back for offline storage when the session was the
    /// user's last resource; bounce them otherwise.
    OfflineIfLastResource,
}

/// Where one unacknowledged stanza of an expired session goes. The
/// application routes these; nothing is dropped without being listed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Disposition {
    /// Route `error` (addressed to the original sender) back.
    Bounce {
        /// The stanza that was not acknowledged.
        original: Element,
        /// The error reply to route to its sender (RFC 6120 §8.3.1).
        error: Element,
    },
    /// Store this message for offline delivery to the session's user.
    Offline(Element),
    /// A stanza that must not be answered with an error: an error
    /// stanza, an IQ result, or presence (state that is re-sent at the
    /// next login). Listed so the application can log it.
    NotBounced(Element),
    /// Bytes that no longer parse (only if the limits shrank since they
    /// were queued); listed, never silently dropped.
    Unreadable(Bytes),
}

/// Whether a stanza may be answered with an error (RFC 6120 §8.3.1: never
/// an error; §8.2.3: not an IQ response; presence is not bounced).
pub fn bounceable(stanza: &Element) -> bool {
    let ty = stanza.attr("type");
    match stanza.name() {
        "message" => ty != Some("error"),
        "iq" => matches!(ty, Some("get" | "set")),
        _ => false,
    }
}

/// The error reply to `stanza` with `condition` of `error_type`: `to` and
/// `from` swapped, same `id` and type `error`, the original payload kept
/// (RFC 6120 §8.3.1). `None` for stanzas that must not be bounced or lack
/// a sender.
pub fn error_reply(stanza: &Element, condition: &str, error_type: &str) -> Option<Element> {
    if !bounceable(stanza) {
        return None;
    }
    let from = stanza.attr("from")?;
    let mut reply = Element::new(stanza.name(), ns::CLIENT)
        .with_attr("type", "error")
        .with_attr("to", from)
        .with_opt_attr("from", stanza.attr("to"))
        .with_opt_attr("id", stanza.attr("id"));
    if stanza.name() == "message" {
        for c in stanza.children() {
            reply.append_child(c.clone());
        }
    }
    reply.append_child(
        Element::new("error", ns::CLIENT)
            .with_attr("type", error_type)
            .with_child(Element::new(condition, ns::STANZAS)),
    );
    Some(reply)
}

/// Applies `policy` to the unacknowledged stanzas of an expired session.
pub fn dispose(
    stanzas: Vec<Bytes>,
    policy: TimeoutPolicy,
    last_resource: bool,
    limits: &Limits,
) -> Vec<Disposition> {
    let ctx = NsContext::stream(ns::CLIENT);
    stanzas
        .into_iter()
        .map(|b| {
            let Ok(e) = parse_element(&b, &ctx, limits) else {
                return Disposition::Unreadable(b);
            };
            let offline = policy == TimeoutPolicy::OfflineIfLastResource
                && last_resource
                && e.name() == "message"
                && e.attr("type") != Some("error");
            if offline {
                return Disposition::Offline(e);
            }
            match error_reply(&e, "recipient-unavailable", "wait") {
                Some(error) => Disposition::Bounce { original: e, error },
                None => Disposition::NotBounced(e),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmpp_core::xml::to_bytes;

    fn msg(ty: Option<&str>) -> Element {
        Element::new("message", ns::CLIENT)
            .with_attr("from", "nurse@verona.example/garden")
            .with_attr("to", "juliet@verona.example/balcony")
            .with_attr("id", "m1")
            .with_opt_attr("type", ty)
            .with_child(Element::new("body", ns::CLIENT).with_text("wake up"))
    }

    #[test]
    fn bounce_swaps_addresses() {
        let r = error_reply(&msg(Some("chat")), "recipient-unavailable", "wait").unwrap();
        assert_eq!(r.attr("to"), Some("nurse@verona.example/garden"));
        assert_eq!(r.attr("from"), Some("juliet@verona.example/balcony"));
        assert_eq!(r.attr("type"), Some("error"));
        assert_eq!(r.attr("id"), Some("m1"));
        let err = r.get_child("error", ns::CLIENT).unwrap();
        assert_eq!(err.attr("type"), Some("wait"));
        assert!(err.has_child("recipient-unavailable", ns::STANZAS));
        assert!(r.has_child("body", ns::CLIENT));
    }

    #[test]
    fn errors_results_and_presence_are_never_bounced() {
        assert!(error_reply(&msg(Some("error")), "x", "cancel").is_none());
        let result = Element::new("iq", ns::CLIENT)
            .with_attr("type", "result")
            .with_attr("from", "a@b/c");
        assert!(error_reply(&result, "x", "cancel").is_none());
        let pres = Element::new("presence", ns::CLIENT).with_attr("from", "a@b/c");
        assert!(error_reply(&pres, "x", "cancel").is_none());
        let get = Element::new("iq", ns::CLIENT)
            .with_attr("type", "get")
            .with_attr("from", "a@b/c");
        assert!(error_reply(&get, "x", "cancel").is_some());
    }

    #[test]
    fn policies() {
        let l = Limits::default();
        let q = || {
            vec![
                to_bytes(&msg(Some("chat")), ns::CLIENT),
                to_bytes(&msg(Some("error")), ns::CLIENT),
            ]
        };
        let b = dispose(q(), TimeoutPolicy::Bounce, true, &l);
        assert!(matches!(b[0], Disposition::Bounce { .. }));
        assert!(matches!(b[1], Disposition::NotBounced(_)));
        let o = dispose(q(), TimeoutPolicy::OfflineIfLastResource, true, &l);
        assert!(matches!(o[0], Disposition::Offline(_)));
        assert!(matches!(o[1], Disposition::NotBounced(_)));
        let other = dispose(q(), TimeoutPolicy::OfflineIfLastResource, false, &l);
        assert!(matches!(other[0], Disposition::Bounce { .. }));
        let junk = dispose(
            vec![Bytes::from_static(b"<message")],
            TimeoutPolicy::Bounce,
            true,
            &l,
        );
        assert!(matches!(junk[0], Disposition::Unreadable(_)));
    }
}
