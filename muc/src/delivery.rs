//! Output of the engine: stanzas serialized once and addressed per
//! recipient (DESIGN.md "Sans-IO": fan-out engines return deliveries).
//!
//! A stanza sent to many occupants differs only in its `to` attribute, so
//! it is serialized once into a [`Payload`]: the bytes before the value of
//! `to` and the bytes after it, in one shared buffer. A [`Delivery`] is
//! that payload plus the recipient; the host writes
//! `prefix + escaped(to) + suffix`, see [`Delivery::write_to`].

use bytes::{BufMut, Bytes, BytesMut};
use xmpp_core::Jid;
use xmpp_core::xml::{Element, NsContext, WriteContext, escape_attr, write_element};

use crate::ns;

/// One stanza serialized without its `to` value: shared by every recipient
/// (cloning is one reference-count increment).
#[derive(Clone, PartialEq, Eq)]
pub struct Payload {
    buf: Bytes,
    split: usize,
}

impl Payload {
    /// Serializes `stanza` (in the `jabber:client` namespace, written with
    /// no namespace declaration of its own) leaving a slot for the value of
    /// its `to` attribute. Any `to` already on `stanza` is ignored.
    pub fn new(stanza: &Element) -> Payload {
        let mut out = BytesMut::with_capacity(256);
        out.put_u8(b'<');
        out.put_slice(stanza.name().as_bytes());
        out.put_slice(b" to=\"");
        let split = out.len();
        out.put_u8(b'"');
        // Serialize a copy without `to`, then skip its `<name`.
        let mut body = BytesMut::with_capacity(256);
        let copy;
        let source = if stanza.attr("to").is_some() {
            let mut c = stanza.clone();
            c.remove_attr("to");
            copy = c;
            &copy
        } else {
            stanza
        };
        write_element(
            &mut body,
            source,
            WriteContext {
                default_ns: ns::CLIENT,
                stream_prefix: false,
            },
        );
        out.put_slice(&body[1 + stanza.name().len()..]);
        Payload {
            buf: out.freeze(),
            split,
        }
    }

    /// The bytes before the `to` value (`<message to="`).
    pub fn prefix(&self) -> &[u8] {
        &self.buf[..self.split]
    }

    /// The bytes after the `to` value.
    pub fn suffix(&self) -> &[u8] {
        &self.buf[self.split..]
    }

    /// The shared buffer, prefix and suffix together.
    pub fn bytes(&self) -> &Bytes {
        &self.buf
    }

    /// The stanza addressed to `to`, parsed back into an element (for
    /// hosts that route elements rather than bytes, and for tests).
    pub fn to_element(&self, to: &Jid) -> Option<Element> {
        let mut out = BytesMut::with_capacity(self.buf.len() + to.as_str().len());
        write_addressed(&mut out, self, to);
        let limits = xmpp_core::xml::Limits::default();
        xmpp_core::xml::parse_element(&out, &NsContext::stream(ns::CLIENT), &limits).ok()
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}<to>{}",
            String::from_utf8_lossy(self.prefix()),
            String::from_utf8_lossy(self.suffix())
        )
    }
}

fn write_addressed(out: &mut BytesMut, p: &Payload, to: &Jid) {
    out.put_slice(p.prefix());
    escape_attr(out, to.as_str());
    out.put_slice(p.suffix());
}

/// One stanza for one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The recipient: an occupant's or user's real JID.
    pub to: Jid,
    /// The stanza, serialized once and shared.
    pub payload: Payload,
}

impl Delivery {
    /// Appends the complete stanza, `to` spliced in, to `out`.
    pub fn write_to(&self, out: &mut BytesMut) {
        write_addressed(out, &self.payload, &self.to);
    }

    /// The complete stanza as bytes.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.payload.buf.len() + self.to.as_str().len() + 8);
        self.write_to(&mut out);
        out.freeze()
    }

    /// The complete stanza parsed back into an element.
    pub fn element(&self) -> Option<Element> {
        self.payload.to_element(&self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_round_trips_and_escapes() {
        let msg = Element::new("message", ns::CLIENT)
            .with_attr("to", "ignored@example.org")
            .with_attr("from", "room@muc.example.org/tom")
            .with_attr("type", "groupchat")
            .with_child(Element::new("body", ns::CLIENT).with_text("a < b"));
        let p = Payload::new(&msg);
        assert_eq!(p.prefix(), b"<message to=\"");
        let to = Jid::new("ann@example.org/phone&1").unwrap();
        let d = Delivery {
            to: to.clone(),
            payload: p,
        };
        let bytes = d.to_bytes();
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.starts_with("<message to=\"ann@example.org/phone&amp;1\" from="));
        let back = d.element().unwrap();
        assert_eq!(back.attr("to"), Some(to.as_str()));
        assert_eq!(back.attr("type"), Some("groupchat"));
        assert_eq!(back.get_child("body", ns::CLIENT).unwrap().text(), "a < b");
    }

    #[test]
    fn empty_stanza_round_trips() {
        let p = Payload::new(&Element::new("presence", ns::CLIENT));
        let to = Jid::new("bob@example.org/x").unwrap();
        let e = p.to_element(&to).unwrap();
        assert!(e.is("presence", ns::CLIENT));
        assert_eq!(e.attr("to"), Some("bob@example.org/x"));
    }
}
