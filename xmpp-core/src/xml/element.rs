//! The in-memory XML element tree used for stanzas and stream-level
//! elements (RFC 6120 §4.2, §8).
//!
//! Names are stored resolved: every element carries its namespace URI, not
//! a prefix, so two documents that differ only in prefix choice compare
//! equal. Attribute names are stored as written for attributes in no
//! namespace (`to`, `type`), as `xml:lang`-style names for the reserved
//! `xml` prefix, and in Clark notation (`{urn:example}local`) for any other
//! namespaced attribute.

use std::borrow::Cow;
use std::fmt;

/// The namespace bound to the reserved `xml` prefix.
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// One child of an [`Element`]: a nested element or character data.
#[derive(Clone, PartialEq, Eq)]
pub enum Node {
    /// A child element.
    Element(Element),
    /// Character data, already unescaped. Adjacent text is always merged.
    Text(String),
}

/// An attribute: name (see the module docs for the naming rules) and
/// unescaped value.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Attribute {
    /// The attribute's name.
    pub name: String,
    /// The attribute's unescaped value.
    pub value: String,
}

/// An XML element with a resolved namespace, attributes and children.
#[derive(Clone, PartialEq, Eq)]
pub struct Element {
    // Well-known names and namespaces are kept as static strings (see
    // `intern`), which saves two allocations per parsed element.
    name: Cow<'static, str>,
    ns: Cow<'static, str>,
    attrs: Vec<Attribute>,
    children: Vec<Node>,
}

impl Element {
    /// A new, empty element `name` in namespace `ns`.
    pub fn new(name: impl Into<String>, ns: impl Into<String>) -> Self {
        Element {
            name: Cow::Owned(name.into()),
            ns: Cow::Owned(ns.into()),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// An element from parts the parser has already checked: attribute
    /// names unique.
    pub(crate) fn from_parts(name: &str, ns: &str, attrs: Vec<Attribute>) -> Self {
        Element {
            name: intern_name(name),
            ns: intern_ns(ns),
            attrs,
            children: Vec::new(),
        }
    }

    /// Builder form of [`Element::set_attr`].
    #[must_use]
    pub fn with_attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.set_attr(name, value);
        self
    }

    /// Builder form of [`Element::set_attr`] that does nothing for `None`.
    #[must_use]
    pub fn with_opt_attr(self, name: impl Into<String>, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.with_attr(name, v),
            None => self,
        }
    }

    /// Builder form of [`Element::append_child`].
    #[must_use]
    pub fn with_child(mut self, child: Element) -> Self {
        self.append_child(child);
        self
    }

    /// Builder form of [`Element::append_text`].
    #[must_use]
    pub fn with_text(mut self, text: impl AsRef<str>) -> Self {
        self.append_text(text.as_ref());
        self
    }

    /// The element's local name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The element's namespace URI (empty for no namespace).
    pub fn ns(&self) -> &str {
        &self.ns
    }

    /// Whether this element is `name` in namespace `ns`.
    pub fn is(&self, name: &str, ns: &str) -> bool {
        self.name == name && self.ns == ns
    }

    /// The value of attribute `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.value.as_str())
    }

    /// Sets attribute `name` to `value`, replacing an existing value.
    pub fn set_attr(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self.attrs.iter_mut().find(|a| a.name == name) {
            Some(a) => a.value = value,
            None => self.attrs.push(Attribute { name, value }),
        }
    }

    /// Removes attribute `name`, returning its value.
    pub fn remove_attr(&mut self, name: &str) -> Option<String> {
        let idx = self.attrs.iter().position(|a| a.name == name)?;
        Some(self.attrs.remove(idx).value)
    }

    /// All attributes, in document order.
    pub fn attrs(&self) -> &[Attribute] {
        &self.attrs
    }

    /// All child nodes, in document order.
    pub fn nodes(&self) -> &[Node] {
        &self.children
    }

    /// Mutable access to the child nodes. Callers that insert text must
    /// keep adjacent text merged and non-empty if they rely on equality.
    pub fn nodes_mut(&mut self) -> &mut Vec<Node> {
        &mut self.children
    }

    /// The child elements, in document order.
    pub fn children(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element named `name` in namespace `ns`.
    pub fn get_child(&self, name: &str, ns: &str) -> Option<&Element> {
        self.children().find(|e| e.is(name, ns))
    }

    /// Mutable access to the first child element `name` in `ns`.
    pub fn get_child_mut(&mut self, name: &str, ns: &str) -> Option<&mut Element> {
        self.children.iter_mut().find_map(|n| match n {
            Node::Element(e) if e.is(name, ns) => Some(e),
            _ => None,
        })
    }

    /// Whether a child element `name` in `ns` exists.
    pub fn has_child(&self, name: &str, ns: &str) -> bool {
        self.get_child(name, ns).is_some()
    }

    /// Removes and returns the first child element `name` in `ns`.
    pub fn take_child(&mut self, name: &str, ns: &str) -> Option<Element> {
        let idx = self
            .children
            .iter()
            .position(|n| matches!(n, Node::Element(e) if e.is(name, ns)))?;
        match self.children.remove(idx) {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        }
    }

    /// Appends a child element.
    pub fn append_child(&mut self, child: Element) {
        self.children.push(Node::Element(child));
    }

    /// Appends character data, merged with a preceding text node. Empty
    /// text is ignored so that equal documents have equal trees.
    pub fn append_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(Node::Text(t)) = self.children.last_mut() {
            t.push_str(text);
        } else {
            self.children.push(Node::Text(text.to_owned()));
        }
    }

    /// The concatenated character data directly inside this element.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                out.push_str(t);
            }
        }
        out
    }

    /// Removes all children.
    pub fn clear_children(&mut self) {
        self.children.clear();
    }
}

/// Defines `$fname`, which returns its argument as a static string when
/// it is one of the literals, else an owned copy. A `match` on literals
/// compiles to length checks and inline compares.
macro_rules! interner {
    ($(#[$doc:meta])* $fname:ident: $($lit:literal),* $(,)?) => {
        $(#[$doc])*
        fn $fname(s: &str) -> Cow<'static, str> {
            match s {
                $( $lit => Cow::Borrowed($lit), )*
                _ => Cow::Owned(s.to_owned()),
            }
        }
    };
}

interner! {
    /// Element names common in XMPP streams.
    intern_name:
    "message",
    "presence",
    "iq",
    "body",
    "subject",
    "thread",
    "show",
    "status",
    "priority",
    "error",
    "text",
    "query",
    "item",
    "group",
    "c",
    "x",
    "delay",
    "ping",
    "active",
    "composing",
    "paused",
    "inactive",
    "gone",
    "request",
    "received",
    "markable",
    "displayed",
    "origin-id",
    "stanza-id",
    "r",
    "a",
    "enable",
    "enabled",
    "resume",
    "resumed",
    "bind",
    "jid",
    "resource",
    "session",
    "feature",
    "identity",
    "features",
    "auth",
    "success",
    "challenge",
    "response",
    "starttls",
    "proceed",
    "mechanisms",
    "mechanism",
    "nick",
    "invite",
    "reason",
    "actor",
    "pubsub",
    "event",
    "items",
    "publish",
    "data",
    "forwarded",
    "result",
    "fin",
    "set",
    "first",
    "last",
    "count",
    "before",
    "after",
    "max",
    "field",
    "value",
    "option",
    "title",
    "instructions",
    "html",
}

interner! {
    /// Namespaces common in XMPP streams (the `ns` module's among them).
    intern_ns:
    "",
    "jabber:client",
    "jabber:server",
    "http://etherx.jabber.org/streams",
    "urn:ietf:params:xml:ns:xmpp-stanzas",
    "urn:ietf:params:xml:ns:xmpp-streams",
    "urn:ietf:params:xml:ns:xmpp-tls",
    "urn:ietf:params:xml:ns:xmpp-sasl",
    "urn:ietf:params:xml:ns:xmpp-bind",
    "urn:ietf:params:xml:ns:xmpp-session",
    "jabber:iq:roster",
    "http://jabber.org/protocol/disco#info",
    "http://jabber.org/protocol/disco#items",
    "urn:xmpp:ping",
    "jabber:iq:version",
    "urn:xmpp:delay",
    "urn:xmpp:sm:3",
    "http://jabber.org/protocol/caps",
    "http://jabber.org/protocol/chatstates",
    "http://jabber.org/protocol/muc",
    "http://jabber.org/protocol/muc#user",
    "http://jabber.org/protocol/muc#admin",
    "http://jabber.org/protocol/muc#owner",
    "http://jabber.org/protocol/pubsub",
    "http://jabber.org/protocol/pubsub#event",
    "jabber:x:data",
    "jabber:x:conference",
    "urn:xmpp:receipts",
    "urn:xmpp:chat-markers:0",
    "urn:xmpp:sid:0",
    "urn:xmpp:mam:2",
    "urn:xmpp:forward:0",
    "urn:xmpp:carbons:2",
    "urn:xmpp:hints",
    "http://jabber.org/protocol/rsm",
    "vcard-temp",
    "vcard-temp:x:update",
}

impl fmt::Debug for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = super::write::to_bytes(self, "");
        f.write_str(&String::from_utf8_lossy(&bytes))
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Element(e) => e.fmt(f),
            Node::Text(t) => write!(f, "{t:?}"),
        }
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_and_accessors() {
        let e = Element::new("message", "jabber:client")
            .with_attr("to", "juliet@example.com")
            .with_child(Element::new("body", "jabber:client").with_text("hi"))
            .with_text("a")
            .with_text("")
            .with_text("b");
        assert_eq!(e.attr("to"), Some("juliet@example.com"));
        assert_eq!(e.attr("from"), None);
        assert_eq!(
            e.get_child("body", "jabber:client").map(Element::text),
            Some("hi".into())
        );
        assert!(e.get_child("body", "other").is_none());
        assert_eq!(e.nodes().len(), 2, "adjacent text merged, empty ignored");
        assert_eq!(e.text(), "ab");
    }

    #[test]
    fn set_and_remove_attr() {
        let mut e = Element::new("iq", "jabber:client").with_attr("type", "get");
        e.set_attr("type", "set");
        assert_eq!(e.attrs().len(), 1);
        assert_eq!(e.remove_attr("type").as_deref(), Some("set"));
        assert!(e.attrs().is_empty());
        assert!(e.remove_attr("type").is_none());
    }

    #[test]
    fn well_known_names_are_interned_and_compare_by_value() {
        use crate::ns;
        for n in [
            ns::STREAM,
            ns::CLIENT,
            ns::SERVER,
            ns::STREAMS,
            ns::STANZAS,
            ns::TLS,
            ns::SASL,
            ns::BIND,
            ns::SESSION,
            ns::ROSTER,
            ns::DISCO_INFO,
            ns::DISCO_ITEMS,
            ns::PING,
            ns::VERSION,
            ns::DELAY,
            ns::SM,
        ] {
            assert!(matches!(intern_ns(n), Cow::Borrowed(s) if s == n), "{n}");
        }
        assert!(matches!(intern_ns("urn:example:new"), Cow::Owned(_)));
        assert!(matches!(intern_name("message"), Cow::Borrowed("message")));
        let parsed = Element::from_parts("body", "jabber:client", Vec::new());
        assert_eq!(parsed, Element::new("body", "jabber:client"));
        let other = Element::from_parts("bodyx", "urn:example:new", Vec::new());
        assert!(other.is("bodyx", "urn:example:new"));
    }

    #[test]
    fn take_child_removes_only_the_first_match() {
        let mut e = Element::new("a", "urn:x")
            .with_child(Element::new("b", "urn:x").with_attr("n", "1"))
            .with_child(Element::new("b", "urn:x").with_attr("n", "2"));
        let first = e
            .take_child("b", "urn:x")
            .map(|c| c.attr("n").map(String::from));
        assert_eq!(first, Some(Some("1".into())));
        assert_eq!(e.children().count(), 1);
    }
}
