//! Parsing of framed XML into [`Element`]s with quick-xml, resolving
//! namespaces against the declarations of the stream header
//! (RFC 6120 §4.8), and of the stream header itself (§4.7).
//!
//! Undeclared prefixes are rejected (`<bad-namespace-prefix/>`), as are
//! invalid UTF-8, characters XML 1.0 does not allow, unknown entities
//! (no entity is ever expanded beyond the five predefined ones and
//! character references), and anything over the configured [`Limits`].

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::element::{Attribute, Element, XML_NS};
use super::error::{Limit, XmlError};
use super::limits::Limits;
use crate::ns;

/// The attributes of a stream header (RFC 6120 §4.7) and the namespace
/// declarations it makes, which are in scope for every stanza.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct StreamHeader {
    /// The qualified name as written, normally `stream:stream`.
    pub qualified_name: String,
    /// The `to` attribute.
    pub to: Option<String>,
    /// The `from` attribute.
    pub from: Option<String>,
    /// The `id` attribute.
    pub id: Option<String>,
    /// The `version` attribute.
    pub version: Option<String>,
    /// The `xml:lang` attribute.
    pub lang: Option<String>,
    /// The namespace context the header establishes for its children.
    pub context: NsContext,
}

impl StreamHeader {
    /// The content namespace (`jabber:client` or `jabber:server`).
    pub fn content_ns(&self) -> &str {
        &self.context.default_ns
    }

    /// The major and minor version numbers, if `version` is present and
    /// well-formed (RFC 6120 §4.7.5).
    pub fn version_numbers(&self) -> Option<(u32, u32)> {
        let (maj, min) = self.version.as_deref()?.split_once('.')?;
        Some((maj.parse().ok()?, min.parse().ok()?))
    }
}

/// Namespace declarations in scope at the top level of a stream.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NsContext {
    /// The default namespace.
    pub default_ns: String,
    /// Prefix bindings (`stream` among them), in declaration order.
    pub prefixes: Vec<(String, String)>,
}

impl NsContext {
    /// The context of a standard stream: `default_ns` as default and the
    /// `stream` prefix bound to the stream namespace.
    pub fn stream(default_ns: &str) -> Self {
        NsContext {
            default_ns: default_ns.to_owned(),
            prefixes: vec![("stream".to_owned(), ns::STREAM.to_owned())],
        }
    }
}

/// Parses the raw bytes of a stream header start tag.
pub fn parse_stream_header(raw: &[u8]) -> Result<StreamHeader, XmlError> {
    let text = std::str::from_utf8(raw).map_err(|_| XmlError::nwf("invalid UTF-8"))?;
    check_chars(text)?;
    let mut reader = Reader::from_str(text);
    let start = match reader.read_event() {
        Ok(Event::Start(s)) => s,
        Ok(_) => return Err(XmlError::BadFormat("expected a stream header".into())),
        Err(e) => return Err(XmlError::nwf(e.to_string())),
    };
    let qname = std::str::from_utf8(start.name().as_ref())
        .map_err(|_| XmlError::nwf("invalid UTF-8"))?
        .to_owned();
    check_name(&qname)?;
    let mut header = StreamHeader {
        qualified_name: qname.clone(),
        ..StreamHeader::default()
    };
    let mut default_ns = None;
    for attr in start.attributes().with_checks(true) {
        let attr = attr.map_err(|e| XmlError::nwf(e.to_string()))?;
        let key = std::str::from_utf8(attr.key.as_ref()).map_err(|_| XmlError::nwf("bad name"))?;
        let value = attr
            .unescape_value()
            .map_err(|e| map_escape_error(&e.to_string()))?
            .into_owned();
        match key {
            "xmlns" => default_ns = Some(value),
            "to" => header.to = Some(value),
            "from" => header.from = Some(value),
            "id" => header.id = Some(value),
            "version" => header.version = Some(value),
            "xml:lang" => header.lang = Some(value),
            _ => {
                if let Some(p) = key.strip_prefix("xmlns:") {
                    check_prefix_binding(p, &value)?;
                    header.context.prefixes.push((p.to_owned(), value));
                }
                // Other attributes are ignored (RFC 6120 §4.7.1: unknown
                // attributes are ignored).
            }
        }
    }
    let (prefix, local) = match qname.split_once(':') {
        Some((p, l)) => (p, l),
        None => ("", qname.as_str()),
    };
    if local != "stream" {
        return Err(XmlError::BadFormat(format!(
            "root element `{qname}` is not a stream"
        )));
    }
    let stream_ns = if prefix.is_empty() {
        default_ns.as_deref()
    } else {
        header
            .context
            .prefixes
            .iter()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.as_str())
    };
    match stream_ns {
        Some(ns::STREAM) => {}
        Some(other) => {
            return Err(XmlError::InvalidNamespace(format!(
                "stream namespace `{other}`"
            )));
        }
        None => return Err(XmlError::BadNamespacePrefix(prefix.to_owned())),
    }
    if prefix.is_empty() {
        return Err(XmlError::InvalidNamespace(
            "the stream namespace must not be the default namespace".into(),
        ));
    }
    header.context.default_ns = default_ns.unwrap_or_default();
    Ok(header)
}

/// Parses one framed element (as returned by the framer) in the
/// namespace context of its stream.
pub fn parse_element(raw: &[u8], ctx: &NsContext, limits: &Limits) -> Result<Element, XmlError> {
    let text = std::str::from_utf8(raw).map_err(|_| XmlError::nwf("invalid UTF-8"))?;
    check_chars(text)?;
    let mut reader = Reader::from_str(text);
    {
        let cfg = reader.config_mut();
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
        cfg.trim_text(false);
    }
    let mut scope = Scope::new(ctx);
    // Open elements, each with the number of namespace bindings it made.
    let mut stack: Vec<(Element, usize)> = Vec::new();
    // Reused for every element's plain attributes.
    let mut scratch: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::new();
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| map_reader_error(&e.to_string()))?;
        match ev {
            Event::Start(s) => {
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::LimitExceeded(Limit::Depth));
                }
                let (el, bound) = start_element(text, &s, &mut scope, &mut scratch, limits)?;
                stack.push((el, bound));
            }
            Event::Empty(s) => {
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::LimitExceeded(Limit::Depth));
                }
                let (el, bound) = start_element(text, &s, &mut scope, &mut scratch, limits)?;
                scope.unbind(bound);
                match stack.last_mut() {
                    Some((parent, _)) => parent.append_child(el),
                    None => return finish(&mut reader, el),
                }
            }
            Event::End(_) => {
                let (el, bound) = stack
                    .pop()
                    .ok_or_else(|| XmlError::nwf("unbalanced end tag"))?;
                scope.unbind(bound);
                match stack.last_mut() {
                    Some((parent, _)) => parent.append_child(el),
                    None => return finish(&mut reader, el),
                }
            }
            Event::Text(t) => {
                let Some((parent, _)) = stack.last_mut() else {
                    if t.iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    return Err(XmlError::nwf("character data outside an element"));
                };
                let s = unescape_checked(borrow_str(text, &t)?)?;
                append_text(parent, &s, limits)?;
            }
            Event::CData(c) => {
                let (parent, _) = stack
                    .last_mut()
                    .ok_or_else(|| XmlError::nwf("CDATA outside an element"))?;
                let s = borrow_str(text, &c)?;
                append_text(parent, &s, limits)?;
            }
            Event::Comment(_) => return Err(XmlError::RestrictedXml("comment")),
            Event::PI(_) | Event::Decl(_) => {
                return Err(XmlError::RestrictedXml("processing instruction"));
            }
            Event::DocType(_) => return Err(XmlError::RestrictedXml("document type declaration")),
            Event::Eof => return Err(XmlError::nwf("unexpected end of element")),
        }
    }
}

/// `part` as a string borrowed from `text` when it is a slice of it (the
/// reader hands out slices of its input), so it needs neither a copy nor
/// a second UTF-8 check; otherwise a checked copy.
fn borrow_str<'t>(text: &'t str, part: &[u8]) -> Result<Cow<'t, str>, XmlError> {
    let start = (part.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    if start <= text.len()
        && part.len() <= text.len() - start
        && let Some(s) = text.get(start..start + part.len())
    {
        return Ok(Cow::Borrowed(s));
    }
    std::str::from_utf8(part)
        .map(|s| Cow::Owned(s.to_owned()))
        .map_err(|_| XmlError::nwf("invalid UTF-8"))
}

/// Resolves the predefined entities and character references in `raw`,
/// checking the characters references produce.
fn unescape_checked(raw: Cow<'_, str>) -> Result<Cow<'_, str>, XmlError> {
    if memchr::memchr(b'&', raw.as_bytes()).is_none() {
        return Ok(raw);
    }
    let owned = quick_xml::escape::unescape(&raw)
        .map_err(|e| map_escape_error(&e.to_string()))?
        .into_owned();
    check_chars(&owned)?;
    Ok(Cow::Owned(owned))
}

/// Equality for the short strings prefixes are, without a call into
/// `memcmp` (which dominated name resolution in profiles).
#[inline]
fn short_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Splits a qualified name at its first `:` into prefix and local part.
fn split_qname(name: &str) -> (&str, &str) {
    match name.bytes().position(|b| b == b':') {
        Some(i) => (&name[..i], &name[i + 1..]),
        None => ("", name),
    }
}

fn finish(reader: &mut Reader<&[u8]>, el: Element) -> Result<Element, XmlError> {
    // The framer hands over exactly one element; anything after it is
    // a framing bug or a hand-built input, and must not be ignored.
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => return Ok(el),
            Ok(Event::Text(t)) if t.iter().all(|b| b.is_ascii_whitespace()) => {}
            Ok(_) => return Err(XmlError::nwf("content after the element")),
            Err(e) => return Err(map_reader_error(&e.to_string())),
        }
    }
}

fn append_text(parent: &mut Element, s: &str, limits: &Limits) -> Result<(), XmlError> {
    let existing = match parent.nodes().last() {
        Some(super::Node::Text(t)) => t.len(),
        _ => 0,
    };
    if existing + s.len() > limits.max_text_bytes {
        return Err(XmlError::LimitExceeded(Limit::TextBytes));
    }
    parent.append_text(s);
    Ok(())
}

/// Namespace bindings in scope: those of the stream header, then those
/// declared inside the element, innermost last.
struct Scope<'c, 't> {
    ctx: &'c NsContext,
    /// `(prefix, uri)`; the empty prefix is the default namespace.
    bindings: Vec<(Cow<'t, str>, Cow<'t, str>)>,
}

impl<'c, 't> Scope<'c, 't> {
    fn new(ctx: &'c NsContext) -> Self {
        Scope {
            ctx,
            bindings: Vec::new(),
        }
    }

    fn resolve(&self, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        let p = prefix.as_bytes();
        if let Some((_, u)) = self
            .bindings
            .iter()
            .rev()
            .find(|(q, _)| short_eq(q.as_bytes(), p))
        {
            return Some(u);
        }
        if let Some((_, u)) = self
            .ctx
            .prefixes
            .iter()
            .rev()
            .find(|(q, _)| short_eq(q.as_bytes(), p))
        {
            return Some(u);
        }
        prefix.is_empty().then_some(self.ctx.default_ns.as_str())
    }

    /// Drops the last `n` bindings (those of an element being closed).
    fn unbind(&mut self, n: usize) {
        let keep = self.bindings.len().saturating_sub(n);
        self.bindings.truncate(keep);
    }
}

fn start_element<'t>(
    text: &'t str,
    s: &BytesStart<'_>,
    scope: &mut Scope<'_, 't>,
    plain: &mut Vec<(Cow<'t, str>, Cow<'t, str>)>,
    limits: &Limits,
) -> Result<(Element, usize), XmlError> {
    let qname = borrow_str(text, s.name().as_ref())?;
    check_name(&qname)?;
    // First pass: namespace declarations, which apply to the element's
    // own name and to its other attributes whatever their order.
    let mut pushed = 0;
    let mut count = 0;
    plain.clear();
    // Duplicate names are checked here rather than by the reader, which
    // would allocate for it on every element.
    for attr in s.attributes().with_checks(false) {
        let attr = attr.map_err(|e| XmlError::nwf(e.to_string()))?;
        count += 1;
        if count > limits.max_attributes {
            return Err(XmlError::LimitExceeded(Limit::Attributes));
        }
        let key = borrow_str(text, attr.key.as_ref())?;
        check_name(&key)?;
        if attr.value.len() > limits.max_attribute_bytes {
            return Err(XmlError::LimitExceeded(Limit::AttributeBytes));
        }
        let value = unescape_checked(borrow_str(text, &attr.value)?)?;
        let declared = match key.as_ref() {
            "xmlns" => Some(""),
            k => k.strip_prefix("xmlns:"),
        };
        if let Some(p) = declared {
            if !p.is_empty() {
                check_prefix_binding(p, &value)?;
            }
            let own = &scope.bindings[scope.bindings.len() - pushed..];
            if own
                .iter()
                .any(|(q, _)| short_eq(q.as_bytes(), p.as_bytes()))
            {
                return Err(XmlError::nwf(format!("duplicate attribute `{key}`")));
            }
            let p = match &key {
                Cow::Borrowed(k) => Cow::Borrowed(&k[k.len() - p.len()..]),
                Cow::Owned(_) => Cow::Owned(p.to_owned()),
            };
            scope.bindings.push((p, value));
            pushed += 1;
        } else {
            if plain
                .iter()
                .any(|(k, _)| short_eq(k.as_bytes(), key.as_bytes()))
            {
                return Err(XmlError::nwf(format!("duplicate attribute `{key}`")));
            }
            plain.push((key, value));
        }
    }
    let (prefix, local) = split_qname(&qname);
    let ns = scope
        .resolve(prefix)
        .ok_or_else(|| XmlError::BadNamespacePrefix(prefix.to_owned()))?;
    let mut attrs: Vec<Attribute> = Vec::with_capacity(plain.len());
    for (key, value) in plain.drain(..) {
        let name = match split_qname(&key) {
            ("", _) | ("xml", _) => key.into_owned(),
            (p, l) => {
                let uri = scope
                    .resolve(p)
                    .ok_or_else(|| XmlError::BadNamespacePrefix(p.to_owned()))?;
                let name = format!("{{{uri}}}{l}");
                // Raw names are unique (checked by the reader); two
                // prefixes bound to one namespace can still collide.
                if attrs.iter().any(|a| a.name == name) {
                    return Err(XmlError::nwf(format!("duplicate attribute `{name}`")));
                }
                name
            }
        };
        attrs.push(Attribute {
            name,
            value: value.into_owned(),
        });
    }
    Ok((Element::from_parts(local, ns, attrs), pushed))
}

fn check_prefix_binding(prefix: &str, uri: &str) -> Result<(), XmlError> {
    if prefix == "xmlns" || (prefix == "xml") != (uri == XML_NS) {
        return Err(XmlError::nwf(format!(
            "illegal binding of prefix `{prefix}`"
        )));
    }
    if uri.is_empty() {
        return Err(XmlError::nwf(format!(
            "prefix `{prefix}` bound to no namespace"
        )));
    }
    Ok(())
}

/// Rejects names that are not XML names (loosely: the characters that can
/// never appear in one, and a bad first character).
fn check_name(name: &str) -> Result<(), XmlError> {
    let bytes = name.as_bytes();
    let bad_start = bytes
        .first()
        .is_none_or(|&c| c.is_ascii_digit() || matches!(c, b'-' | b'.' | b':'));
    let mut colons = 0usize;
    let mut bad_char = false;
    for (i, &c) in bytes.iter().enumerate() {
        colons += usize::from(c == b':');
        bad_char |= BAD_NAME_BYTE[usize::from(c)];
        if c == 0xC2 && matches!(bytes.get(i + 1), Some(0x80..=0x9F)) {
            // A C1 control character (U+0080..U+009F).
            bad_char = true;
        }
    }
    if bad_start || bad_char || colons > 1 || name.ends_with(':') {
        return Err(XmlError::nwf(format!("invalid name `{name}`")));
    }
    Ok(())
}

/// ASCII bytes that never occur in a name: whitespace, controls, DEL,
/// and punctuation other than `-`, `.`, `_` and `:`.
const BAD_NAME_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        t[c] = b <= b' '
            || b == 0x7f
            || (b.is_ascii_punctuation() && !matches!(b, b'-' | b'.' | b'_' | b':'));
        c += 1;
    }
    t
};

/// Rejects characters outside the XML 1.0 `Char` production.
fn check_chars(s: &str) -> Result<(), XmlError> {
    let bytes = s.as_bytes();
    // Fast path, in blocks the compiler can vectorize: no control
    // character other than TAB, LF, CR, and no 0xEF lead byte (which
    // starts U+FFFE and U+FFFF).
    let suspicious = bytes.chunks(64).any(|block| {
        block.iter().fold(false, |acc, &b| {
            acc | ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')) | (b == 0xEF)
        })
    });
    if !suspicious {
        return Ok(());
    }
    for (i, &b) in bytes.iter().enumerate() {
        if b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r') {
            return Err(XmlError::nwf("control character"));
        }
        if b == 0xEF
            && bytes.get(i + 1) == Some(&0xBF)
            && matches!(bytes.get(i + 2), Some(0xBE | 0xBF))
        {
            return Err(XmlError::nwf("noncharacter U+FFFE/U+FFFF"));
        }
    }
    Ok(())
}

fn map_escape_error(msg: &str) -> XmlError {
    if msg.contains("entity") || msg.contains("Entity") {
        XmlError::RestrictedXml("reference to an undefined entity")
    } else {
        XmlError::nwf(msg.to_owned())
    }
}

fn map_reader_error(msg: &str) -> XmlError {
    XmlError::nwf(msg.to_owned())
}
