//! A small namespace-aware XML element tree for presence documents, read
//! and written with quick-xml.
//!
//! Reading is strict about well-formedness (XML 1.0 §2.1: one root, matched
//! tags, bound prefixes, no duplicate attributes) and rejects DOCTYPE
//! declarations (no entity expansion). Every size is bounded by
//! [`XmlLimits`]. Writing declares each namespace once on the root.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use quick_xml::events::Event as XmlEvent;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::PidfError;

/// The namespace of the `xml:` prefix (Namespaces in XML §3).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// The namespace bound to the reserved `xmlns` prefix.
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// Bounds on a document read from a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlLimits {
    /// Largest document, in bytes. Default 64 KiB.
    pub max_bytes: usize,
    /// Deepest element nesting. Default 32.
    pub max_depth: usize,
    /// Most elements in one document. Default 4096.
    pub max_elements: usize,
}

impl XmlLimits {
    /// The defaults.
    pub const DEFAULT: XmlLimits = XmlLimits {
        max_bytes: 64 * 1024,
        max_depth: 32,
        max_elements: 4096,
    };
}

impl Default for XmlLimits {
    fn default() -> Self {
        XmlLimits::DEFAULT
    }
}

/// A child of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A child element.
    Element(Element),
    /// Character data (entities resolved; CDATA sections become text).
    Text(String),
}

/// An attribute with its namespace (empty for unprefixed attributes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Namespace name, empty when none.
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Value with references resolved.
    pub value: String,
}

/// An element: expanded name, attributes and children in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Namespace name (empty for no namespace).
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Attributes other than namespace declarations.
    pub attrs: Vec<Attribute>,
    /// Children.
    pub children: Vec<Node>,
}

impl Element {
    /// An empty element.
    pub fn new(ns: &str, name: &str) -> Element {
        Element {
            ns: ns.to_owned(),
            name: name.to_owned(),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Adds an unqualified attribute (builder style).
    pub fn with_attr(mut self, name: &str, value: &str) -> Element {
        self.set_attr("", name, value);
        self
    }

    /// Adds a child element (builder style).
    pub fn with_child(mut self, child: Element) -> Element {
        self.children.push(Node::Element(child));
        self
    }

    /// Adds text (builder style).
    pub fn with_text(mut self, text: &str) -> Element {
        self.children.push(Node::Text(text.to_owned()));
        self
    }

    /// True if this element is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// Sets or replaces an attribute.
    pub fn set_attr(&mut self, ns: &str, name: &str, value: &str) {
        if let Some(a) = self.attrs.iter_mut().find(|a| a.ns == ns && a.name == name) {
            a.value = value.to_owned();
        } else {
            self.attrs.push(Attribute {
                ns: ns.to_owned(),
                name: name.to_owned(),
                value: value.to_owned(),
            });
        }
    }

    /// An attribute's value.
    pub fn attr(&self, ns: &str, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns == ns && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, name))
    }

    /// All text children concatenated.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                s.push_str(t);
            }
        }
        s
    }

    /// Parses a whole document (UTF-8) into its root element.
    pub fn parse(data: &[u8], limits: &XmlLimits) -> Result<Element, PidfError> {
        if data.len() > limits.max_bytes {
            return Err(PidfError::TooLarge);
        }
        let text = std::str::from_utf8(data).map_err(|_| PidfError::Malformed("not UTF-8"))?;
        let mut reader = NsReader::from_str(text);
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        let mut count = 0usize;
        loop {
            let (res, ev) = reader
                .read_resolved_event()
                .map_err(|_| PidfError::Malformed("not well-formed XML"))?;
            match ev {
                XmlEvent::Start(ref e) | XmlEvent::Empty(ref e) => {
                    if root.is_some() {
                        return Err(PidfError::Malformed("content after the root element"));
                    }
                    count += 1;
                    if count > limits.max_elements {
                        return Err(PidfError::TooLarge);
                    }
                    if stack.len() >= limits.max_depth {
                        return Err(PidfError::TooDeep);
                    }
                    let ns = namespace(res)?;
                    let local = std::str::from_utf8(e.local_name().into_inner())
                        .map_err(|_| PidfError::Malformed("name"))?;
                    check_name(local)?;
                    // Namespaces in XML §3: elements must not use the
                    // reserved xml / xmlns namespaces.
                    if ns == XML_NS || ns == XMLNS_NS {
                        return Err(PidfError::Malformed("element in a reserved namespace"));
                    }
                    let mut el = Element::new(&ns, local);
                    for a in e.attributes() {
                        let a = a.map_err(|_| PidfError::Malformed("attribute"))?;
                        let key = a.key.as_ref();
                        if key == b"xmlns" || key.starts_with(b"xmlns:") {
                            continue;
                        }
                        let (ares, aname) = reader.resolve_attribute(a.key);
                        let ans = namespace(ares)?;
                        let aname = std::str::from_utf8(aname.into_inner())
                            .map_err(|_| PidfError::Malformed("attribute name"))?;
                        check_name(aname)?;
                        let value = a
                            .unescape_value()
                            .map_err(|_| PidfError::Malformed("attribute value"))?;
                        check_chars(&value)?;
                        el.attrs.push(Attribute {
                            ns: ans,
                            name: aname.to_owned(),
                            value: value.into_owned(),
                        });
                    }
                    if matches!(ev, XmlEvent::Start(_)) {
                        stack.push(el);
                    } else {
                        close(&mut stack, &mut root, el);
                    }
                }
                XmlEvent::End(_) => {
                    let el = stack
                        .pop()
                        .ok_or(PidfError::Malformed("unmatched end tag"))?;
                    close(&mut stack, &mut root, el);
                }
                XmlEvent::Text(t) => {
                    let s = t
                        .unescape()
                        .map_err(|_| PidfError::Malformed("character reference"))?;
                    check_chars(&s)?;
                    match stack.last_mut() {
                        Some(top) => push_text(top, &s),
                        None if s.trim().is_empty() => {}
                        None => return Err(PidfError::Malformed("text outside the root")),
                    }
                }
                XmlEvent::CData(c) => {
                    let s = std::str::from_utf8(&c)
                        .map_err(|_| PidfError::Malformed("CDATA"))?
                        .to_owned();
                    check_chars(&s)?;
                    match stack.last_mut() {
                        Some(top) => push_text(top, &s),
                        None => return Err(PidfError::Malformed("CDATA outside the root")),
                    }
                }
                XmlEvent::DocType(_) => return Err(PidfError::Malformed("DOCTYPE not allowed")),
                XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::Comment(_) => {}
                XmlEvent::Eof => break,
            }
        }
        if !stack.is_empty() {
            return Err(PidfError::Malformed("unclosed element"));
        }
        root.ok_or(PidfError::Malformed("no root element"))
    }

    /// Serializes as a document with an XML declaration. Namespaces are
    /// declared on the root: `default_ns` as the default namespace, the
    /// others with prefixes from `prefixes` (namespace, prefix) or `nsN`.
    pub fn to_document(&self, default_ns: &str, prefixes: &[(&str, &str)]) -> String {
        let mut used = BTreeMap::new();
        self.collect_ns(&mut used);
        // Attributes never take the default namespace, so a namespace used
        // on attributes needs a prefix even when it is the default one.
        let mut map: BTreeMap<String, String> = BTreeMap::new();
        let mut n = 0;
        let mut taken: Vec<String> = Vec::new();
        for ns in used.keys() {
            if (ns == default_ns && !used.get(ns).copied().unwrap_or(false))
                || ns.is_empty()
                || ns == XML_NS
            {
                continue;
            }
            let p = match prefixes.iter().find(|(u, _)| u == ns) {
                Some((_, p)) if !taken.iter().any(|t| t == p) => (*p).to_owned(),
                _ => loop {
                    n += 1;
                    let c = format!("ns{n}");
                    if !taken.contains(&c) {
                        break c;
                    }
                },
            };
            taken.push(p.clone());
            map.insert(ns.clone(), p);
        }
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        self.write(&mut out, default_ns, &map, true);
        out.push('\n');
        out
    }

    /// Namespaces in use; the flag says "used on an attribute".
    fn collect_ns(&self, used: &mut BTreeMap<String, bool>) {
        used.entry(self.ns.clone()).or_insert(false);
        for a in &self.attrs {
            if !a.ns.is_empty() {
                used.insert(a.ns.clone(), true);
            }
        }
        for e in self.elements() {
            e.collect_ns(used);
        }
    }

    fn write(
        &self,
        out: &mut String,
        default_ns: &str,
        map: &BTreeMap<String, String>,
        root: bool,
    ) {
        let qname = qualify(&self.ns, &self.name, default_ns, map);
        out.push('<');
        out.push_str(&qname);
        if root {
            if !default_ns.is_empty() {
                let _ = write!(out, " xmlns=\"{}\"", escape(default_ns));
            }
            for (ns, p) in map {
                let _ = write!(out, " xmlns:{p}=\"{}\"", escape(ns));
            }
        } else if self.ns.is_empty() && !default_ns.is_empty() {
            out.push_str(" xmlns=\"\"");
        }
        for a in &self.attrs {
            let an = if a.ns.is_empty() {
                a.name.clone()
            } else if a.ns == XML_NS {
                format!("xml:{}", a.name)
            } else {
                match map.get(&a.ns) {
                    Some(p) => format!("{p}:{}", a.name),
                    None => a.name.clone(),
                }
            };
            let _ = write!(out, " {an}=\"{}\"", escape(&a.value));
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        // An element in no namespace under a default namespace redeclared
        // it empty: its children inherit that.
        let inner_default = if self.ns.is_empty() { "" } else { default_ns };
        for c in &self.children {
            match c {
                Node::Element(e) => e.write(out, inner_default, map, false),
                Node::Text(t) => out.push_str(&escape(t)),
            }
        }
        let _ = write!(out, "</{qname}>");
    }
}

fn qualify(ns: &str, name: &str, default_ns: &str, map: &BTreeMap<String, String>) -> String {
    if ns == default_ns || ns.is_empty() {
        return name.to_owned();
    }
    match map.get(ns) {
        Some(p) => format!("{p}:{name}"),
        None => name.to_owned(),
    }
}

/// XML 1.0 §2.2 Char: no control characters other than tab, LF, CR.
fn check_chars(s: &str) -> Result<(), PidfError> {
    if s.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(PidfError::Malformed("character not allowed in XML"));
    }
    Ok(())
}

/// XML 1.0 §2.3 Name, approximated: non-empty, no whitespace, controls or
/// markup characters (quick-xml does not check names).
fn check_name(s: &str) -> Result<(), PidfError> {
    let bad = |c: char| c.is_control() || c.is_whitespace() || "<>&\"'=/!?;,()[]{}`".contains(c);
    if s.is_empty()
        || s.chars().any(bad)
        || s.starts_with(['-', '.', ':'])
        || s.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(PidfError::Malformed("invalid XML name"));
    }
    Ok(())
}

fn push_text(top: &mut Element, s: &str) {
    if let Some(Node::Text(t)) = top.children.last_mut() {
        t.push_str(s);
    } else {
        top.children.push(Node::Text(s.to_owned()));
    }
}

fn close(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(el)),
        None => *root = Some(el),
    }
}

fn namespace(res: ResolveResult<'_>) -> Result<String, PidfError> {
    match res {
        ResolveResult::Bound(ns) => {
            let raw = std::str::from_utf8(ns.into_inner())
                .map_err(|_| PidfError::Malformed("namespace"))?;
            let v =
                quick_xml::escape::unescape(raw).map_err(|_| PidfError::Malformed("namespace"))?;
            check_chars(&v)?;
            Ok(v.into_owned())
        }
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Unknown(_) => Err(PidfError::Malformed("unbound namespace prefix")),
    }
}

/// Escapes `&`, `<`, `>` and `"` for text and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            _ => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_namespaces() {
        let doc = br#"<?xml version="1.0"?><a:root xmlns:a="urn:a" xmlns="urn:d" x="1"><child xml:lang="en">hi &amp; bye</child><a:e/></a:root>"#;
        let root = Element::parse(doc, &XmlLimits::DEFAULT).unwrap();
        assert!(root.is("urn:a", "root"));
        assert_eq!(root.attr("", "x"), Some("1"));
        let child = root.child("urn:d", "child").unwrap();
        assert_eq!(child.attr(XML_NS, "lang"), Some("en"));
        assert_eq!(child.text(), "hi & bye");
        let out = root.to_document("urn:d", &[("urn:a", "p")]);
        let again = Element::parse(out.as_bytes(), &XmlLimits::DEFAULT).unwrap();
        assert_eq!(again, root);
    }

    #[test]
    fn rejects_malformed() {
        let l = XmlLimits::DEFAULT;
        for bad in [
            &b"<a><b></a>"[..],
            b"<a>",
            b"<a/><b/>",
            b"<x:a/>",
            b"<a x='1' x='2'/>",
            b"<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>",
            b"",
            b"text<a/>",
            b"<a>&nosuch;</a>",
            b"<a b\x18c='1'/>",
            b"<a>\x01</a>",
            // Found by the pidf fuzz target: reserved prefixes on elements.
            b"<xmlns:b/>",
            b"<xml:b/>",
        ] {
            assert!(
                Element::parse(bad, &l).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn escaped_namespace_round_trips() {
        // Found by the pidf fuzz target: a namespace name with a reference.
        let doc = br#"<a xmlns:x="urn:a&gt;b"><x:b/></a>"#;
        let root = Element::parse(doc, &XmlLimits::DEFAULT).unwrap();
        let b = root.elements().next().unwrap();
        assert_eq!(b.ns, "urn:a>b");
        let out = root.to_document("", &[]);
        assert_eq!(
            Element::parse(out.as_bytes(), &XmlLimits::DEFAULT).unwrap(),
            root
        );
    }

    #[test]
    fn limits_hold() {
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert_eq!(
            Element::parse(deep.as_bytes(), &XmlLimits::DEFAULT),
            Err(PidfError::TooDeep)
        );
        let l = XmlLimits {
            max_bytes: 10,
            ..XmlLimits::DEFAULT
        };
        assert_eq!(
            Element::parse(b"<abcdefghijk/>", &l),
            Err(PidfError::TooLarge)
        );
        let l = XmlLimits {
            max_elements: 2,
            ..XmlLimits::DEFAULT
        };
        assert_eq!(
            Element::parse(b"<a><b/><c/></a>", &l),
            Err(PidfError::TooLarge)
        );
    }

    #[test]
    fn no_namespace_child_under_default() {
        let root = Element::new("urn:d", "r").with_child(Element::new("", "plain").with_text("t"));
        let out = root.to_document("urn:d", &[]);
        assert_eq!(
            Element::parse(out.as_bytes(), &XmlLimits::DEFAULT).unwrap(),
            root
        );
    }
}
