//! Serialization of [`Element`] trees into `BytesMut`, with correct
//! escaping and minimal namespace declarations.
//!
//! An element whose namespace differs from its parent's is written with a
//! default namespace declaration; elements in the stream namespace are
//! written with the `stream:` prefix when the stream header declared it
//! (RFC 6120 §4.8.1). Characters that XML would normalize away (CR in
//! text; TAB, LF and CR in attribute values) are written as character
//! references so that parsing the output gives back the same tree.

use bytes::{BufMut, Bytes, BytesMut};

use super::element::{Element, Node, XML_NS};
use crate::ns;

/// Namespace context the element is written into.
#[derive(Clone, Copy, Debug)]
pub struct WriteContext<'a> {
    /// The default namespace in scope at the insertion point.
    pub default_ns: &'a str,
    /// Whether the `stream` prefix is bound to the stream namespace there.
    pub stream_prefix: bool,
}

impl WriteContext<'_> {
    /// Context of a standalone document: nothing declared.
    pub const STANDALONE: WriteContext<'static> = WriteContext {
        default_ns: "",
        stream_prefix: false,
    };
}

/// Serializes `e` as a standalone document fragment whose parent has
/// default namespace `parent_ns` (pass `""` for a standalone element).
pub fn to_bytes(e: &Element, parent_ns: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(256);
    write_element(
        &mut out,
        e,
        WriteContext {
            default_ns: parent_ns,
            stream_prefix: false,
        },
    );
    out.freeze()
}

/// Appends the serialization of `e` to `out`.
pub fn write_element(out: &mut BytesMut, e: &Element, ctx: WriteContext<'_>) {
    write_inner(out, e, ctx.default_ns, ctx.stream_prefix);
}

fn write_inner(out: &mut BytesMut, e: &Element, parent_ns: &str, stream_prefix: bool) {
    let prefixed = stream_prefix && e.ns() == ns::STREAM;
    out.put_u8(b'<');
    if prefixed {
        out.put_slice(b"stream:");
    }
    out.put_slice(e.name().as_bytes());
    // The default namespace children inherit: unchanged when we used the
    // stream prefix, since no default declaration was written.
    let inherited_ns = if prefixed {
        parent_ns
    } else {
        if e.ns() != parent_ns {
            out.put_slice(b" xmlns=\"");
            escape_attr(out, e.ns());
            out.put_u8(b'"');
        }
        e.ns()
    };
    let mut extra_prefix = 0u32;
    for a in e.attrs() {
        out.put_u8(b' ');
        if let Some(rest) = a.name.strip_prefix('{') {
            // Clark notation: `{ns}local`. Declare a fresh prefix for it.
            // The URI may itself contain `}`; a local name never does.
            let (attr_ns, local) = rest.rsplit_once('}').unwrap_or(("", rest));
            if attr_ns == XML_NS {
                out.put_slice(b"xml:");
            } else {
                let p = format!("a{extra_prefix}");
                extra_prefix += 1;
                out.put_slice(b"xmlns:");
                out.put_slice(p.as_bytes());
                out.put_slice(b"=\"");
                escape_attr(out, attr_ns);
                out.put_slice(b"\" ");
                out.put_slice(p.as_bytes());
                out.put_u8(b':');
            }
            out.put_slice(local.as_bytes());
        } else {
            out.put_slice(a.name.as_bytes());
        }
        out.put_slice(b"=\"");
        escape_attr(out, &a.value);
        out.put_u8(b'"');
    }
    if e.nodes().is_empty() {
        out.put_slice(b"/>");
        return;
    }
    out.put_u8(b'>');
    for n in e.nodes() {
        match n {
            Node::Element(c) => write_inner(out, c, inherited_ns, stream_prefix),
            Node::Text(t) => escape_text(out, t),
        }
    }
    out.put_slice(b"</");
    if prefixed {
        out.put_slice(b"stream:");
    }
    out.put_slice(e.name().as_bytes());
    out.put_u8(b'>');
}

/// Appends `s` escaped for use as character data.
pub fn escape_text(out: &mut BytesMut, s: &str) {
    escape(out, s, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'\r' => Some(b"&#13;"),
        _ => None,
    });
}

/// Appends `s` escaped for use inside a double-quoted attribute value.
pub fn escape_attr(out: &mut BytesMut, s: &str) {
    escape(out, s, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'"' => Some(b"&quot;"),
        b'\t' => Some(b"&#9;"),
        b'\n' => Some(b"&#10;"),
        b'\r' => Some(b"&#13;"),
        _ => None,
    });
}

#[inline]
fn escape(out: &mut BytesMut, s: &str, map: impl Fn(u8) -> Option<&'static [u8]>) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if let Some(rep) = map(b) {
            out.put_slice(&bytes[start..i]);
            out.put_slice(rep);
            start = i + 1;
        }
    }
    out.put_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(e: &Element, parent: &str) -> String {
        String::from_utf8(to_bytes(e, parent).to_vec()).unwrap()
    }

    #[test]
    fn escapes_text_and_attributes() {
        let e = Element::new("body", "jabber:client")
            .with_attr("x", "a\"b<c>&\t\n\r")
            .with_text("1 < 2 & 3 > 2\r\n");
        assert_eq!(
            s(&e, "jabber:client"),
            "<body x=\"a&quot;b&lt;c&gt;&amp;&#9;&#10;&#13;\">1 &lt; 2 &amp; 3 &gt; 2&#13;\n</body>"
        );
    }

    #[test]
    fn declares_namespaces_only_when_they_change() {
        let e = Element::new("iq", "jabber:client").with_child(
            Element::new("query", "jabber:iq:roster")
                .with_child(Element::new("item", "jabber:iq:roster"))
                .with_child(Element::new("x", "")),
        );
        assert_eq!(
            s(&e, "jabber:client"),
            "<iq><query xmlns=\"jabber:iq:roster\"><item/><x xmlns=\"\"/></query></iq>"
        );
        assert_eq!(
            s(&e, ""),
            "<iq xmlns=\"jabber:client\"><query xmlns=\"jabber:iq:roster\"><item/><x xmlns=\"\"/></query></iq>"
        );
    }

    #[test]
    fn stream_prefix_in_stream_context() {
        let e = Element::new("features", ns::STREAM)
            .with_child(Element::new("bind", "urn:ietf:params:xml:ns:xmpp-bind"));
        let mut out = BytesMut::new();
        write_element(
            &mut out,
            &e,
            WriteContext {
                default_ns: "jabber:client",
                stream_prefix: true,
            },
        );
        assert_eq!(
            &out[..],
            b"<stream:features><bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\"/></stream:features>"
        );
    }

    #[test]
    fn namespaced_attributes() {
        let e = Element::new("a", "urn:x")
            .with_attr("xml:lang", "en")
            .with_attr("{urn:y}k", "v");
        assert_eq!(
            s(&e, "urn:x"),
            "<a xml:lang=\"en\" xmlns:a0=\"urn:y\" a0:k=\"v\"/>"
        );
    }
}
