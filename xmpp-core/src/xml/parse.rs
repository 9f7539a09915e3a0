//! Parsing of framed XML into [`Element`]s with quick-xml, resolving
//! namespaces against the declarations of the stream header
//! (RFC 6120 §4.8), and of the stream header itself (§4.7).
//!
//! Undeclared prefixes are rejected (`<bad-namespace-prefix/>`), as are
//! invalid UTF-8, characters XML 1.0 does not allow, unknown entities
//! (no entity is ever expanded beyond the five predefined ones and
//! character references), and anything over the configured [`Limits`].

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::element::{Element, XML_NS};
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
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| map_reader_error(&e.to_string()))?;
        match ev {
            Event::Start(s) => {
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::LimitExceeded(Limit::Depth));
                }
                let el = start_element(&s, &mut scope, limits)?;
                stack.push(el);
            }
            Event::Empty(s) => {
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::LimitExceeded(Limit::Depth));
                }
                let el = start_element(&s, &mut scope, limits)?;
                scope.pop();
                match stack.last_mut() {
                    Some(parent) => parent.append_child(el),
                    None => return finish(&mut reader, el),
                }
            }
            Event::End(_) => {
                scope.pop();
                let el = stack
                    .pop()
                    .ok_or_else(|| XmlError::nwf("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.append_child(el),
                    None => return finish(&mut reader, el),
                }
            }
            Event::Text(t) => {
                let Some(parent) = stack.last_mut() else {
                    if t.iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    return Err(XmlError::nwf("character data outside an element"));
                };
                let s = t.unescape().map_err(|e| map_escape_error(&e.to_string()))?;
                if matches!(s, std::borrow::Cow::Owned(_)) {
                    check_chars(&s)?;
                }
                append_text(parent, &s, limits)?;
            }
            Event::CData(c) => {
                let parent = stack
                    .last_mut()
                    .ok_or_else(|| XmlError::nwf("CDATA outside an element"))?;
                let bytes = c.into_inner();
                let s = std::str::from_utf8(&bytes).map_err(|_| XmlError::nwf("invalid UTF-8"))?;
                append_text(parent, s, limits)?;
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

/// Namespace bindings in scope, innermost last.
struct Scope {
    /// `(prefix, uri)`; the empty prefix is the default namespace.
    bindings: Vec<(String, String)>,
    /// How many bindings each open element pushed.
    marks: Vec<usize>,
}

impl Scope {
    fn new(ctx: &NsContext) -> Self {
        let mut bindings = Vec::with_capacity(ctx.prefixes.len() + 4);
        bindings.push((String::new(), ctx.default_ns.clone()));
        bindings.extend(ctx.prefixes.iter().cloned());
        Scope {
            bindings,
            marks: Vec::new(),
        }
    }

    fn resolve(&self, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        self.bindings
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.as_str())
    }

    fn pop(&mut self) {
        if let Some(n) = self.marks.pop() {
            let keep = self.bindings.len().saturating_sub(n);
            self.bindings.truncate(keep);
        }
    }
}

fn start_element(
    s: &BytesStart<'_>,
    scope: &mut Scope,
    limits: &Limits,
) -> Result<Element, XmlError> {
    let raw_name = s.name();
    let qname =
        std::str::from_utf8(raw_name.as_ref()).map_err(|_| XmlError::nwf("invalid UTF-8"))?;
    check_name(qname)?;
    // First pass: namespace declarations, which apply to the element's
    // own name and to its other attributes whatever their order.
    let mut pushed = 0;
    let mut count = 0;
    let mut plain: Vec<(String, String)> = Vec::new();
    for attr in s.attributes().with_checks(true) {
        let attr = attr.map_err(|e| XmlError::nwf(e.to_string()))?;
        count += 1;
        if count > limits.max_attributes {
            return Err(XmlError::LimitExceeded(Limit::Attributes));
        }
        let key =
            std::str::from_utf8(attr.key.as_ref()).map_err(|_| XmlError::nwf("invalid UTF-8"))?;
        check_name(key)?;
        if attr.value.len() > limits.max_attribute_bytes {
            return Err(XmlError::LimitExceeded(Limit::AttributeBytes));
        }
        let value = attr
            .unescape_value()
            .map_err(|e| map_escape_error(&e.to_string()))?;
        if matches!(value, std::borrow::Cow::Owned(_)) {
            check_chars(&value)?;
        }
        if key == "xmlns" {
            scope.bindings.push((String::new(), value.into_owned()));
            pushed += 1;
        } else if let Some(p) = key.strip_prefix("xmlns:") {
            check_prefix_binding(p, &value)?;
            scope.bindings.push((p.to_owned(), value.into_owned()));
            pushed += 1;
        } else {
            plain.push((key.to_owned(), value.into_owned()));
        }
    }
    scope.marks.push(pushed);
    let (prefix, local) = qname.split_once(':').unwrap_or(("", qname));
    let ns = scope
        .resolve(prefix)
        .ok_or_else(|| XmlError::BadNamespacePrefix(prefix.to_owned()))?;
    let mut el = Element::new(local, ns);
    for (key, value) in plain {
        let name = match key.split_once(':') {
            None => key,
            Some(("xml", _)) => key,
            Some((p, l)) => {
                let uri = scope
                    .resolve(p)
                    .ok_or_else(|| XmlError::BadNamespacePrefix(p.to_owned()))?;
                format!("{{{uri}}}{l}")
            }
        };
        if el.attr(&name).is_some() {
            return Err(XmlError::nwf(format!("duplicate attribute `{name}`")));
        }
        el.set_attr(name, value);
    }
    Ok(el)
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
    let bad_start = name
        .chars()
        .next()
        .is_none_or(|c| c.is_ascii_digit() || c == '-' || c == '.' || c == ':');
    let bad_char = name.chars().any(|c| {
        c.is_ascii_whitespace()
            || (c.is_ascii_punctuation() && !matches!(c, '-' | '.' | '_' | ':'))
            || c.is_control()
    });
    if bad_start || bad_char || name.matches(':').count() > 1 || name.ends_with(':') {
        return Err(XmlError::nwf(format!("invalid name `{name}`")));
    }
    Ok(())
}

/// Rejects characters outside the XML 1.0 `Char` production.
fn check_chars(s: &str) -> Result<(), XmlError> {
    let bytes = s.as_bytes();
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
