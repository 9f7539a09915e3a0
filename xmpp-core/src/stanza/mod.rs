//! Typed views of the three XMPP stanzas (RFC 6120 §8, RFC 6121 §4–§5):
//! [`Message`], [`Presence`] and [`Iq`], the [`Stanza`] enum over them,
//! and stanza errors ([`StanzaError`], RFC 6120 §8.3).
//!
//! Each view owns its [`Element`] and reads attributes and children on
//! access, so children the view does not know (extensions) are kept
//! untouched and written out again. Converting an element into a view
//! checks what the RFCs require of that stanza kind; a failed check is a
//! [`StanzaParseError`] whose [`StanzaParseError::condition`] is the
//! stanza error to answer with (normally `<bad-request/>`).
//!
//! Addresses (`to`, `from`, `by`) are plain strings here.
//!
//! ```
//! use xmpp_core::stanza::{Message, MessageType, Stanza};
//! use xmpp_core::xml::Element;
//!
//! let msg = Message::chat("lena@example.org", "see you at eight")
//!     .with_from("tomas@example.org/phone")
//!     .with_id("m-17");
//! let el: Element = msg.clone().into();
//! let Stanza::Message(back) = Stanza::from_element(el, "jabber:client")? else {
//!     panic!("not a message")
//! };
//! assert_eq!(back.message_type(), MessageType::Chat);
//! assert_eq!(back.body(&[]).as_deref(), Some("see you at eight"));
//! assert_eq!(back, msg);
//! # Ok::<(), xmpp_core::stanza::StanzaParseError>(())
//! ```

mod error;
mod iq;
mod message;
mod presence;

use std::borrow::Cow;

pub use error::{
    DefinedCondition, ErrorType, StanzaError, make_error_reply, make_error_reply_with_payload,
};
pub use iq::{Iq, IqType};
pub use message::{Message, MessageType};
pub use presence::{Presence, PresenceType, Show};

use crate::ns;
use crate::stream_error::StreamErrorCondition;
use crate::xml::{Element, Node};

/// Why an element is not an acceptable stanza.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StanzaParseError {
    /// The element is not `message`, `presence` or `iq` in a content
    /// namespace, or not the kind of stanza asked for.
    #[error("`{name}` in namespace `{ns}` is not the expected stanza")]
    NotAStanza {
        /// The element's local name.
        name: String,
        /// The element's namespace.
        ns: String,
    },
    /// The stanza's namespace is not the stream's content namespace.
    #[error("stanza namespace `{found}` differs from the stream's `{expected}`")]
    WrongNamespace {
        /// The content namespace of the stream.
        expected: String,
        /// The stanza's namespace.
        found: String,
    },
    /// The `type` attribute has a value not defined for this stanza.
    #[error("invalid {stanza} type `{value}`")]
    InvalidType {
        /// `presence` or `iq`.
        stanza: &'static str,
        /// The value found.
        value: String,
    },
    /// An IQ stanza without the required `type` attribute (RFC 6120
    /// §8.2.3).
    #[error("iq stanza without a type")]
    MissingType,
    /// An IQ stanza without the required `id` attribute (RFC 6120
    /// §8.1.3).
    #[error("iq stanza without an id")]
    MissingId,
    /// An IQ `get`/`set` without exactly one payload element, or a
    /// `result` with more than one (RFC 6120 §8.2.3).
    #[error("iq of type `{iq_type}` with {found} child elements")]
    PayloadCount {
        /// The IQ type.
        iq_type: &'static str,
        /// The number of child elements found.
        found: usize,
    },
    /// A presence `<priority/>` that is not an integer in -128..=127
    /// (RFC 6121 §4.7.2.3).
    #[error("invalid presence priority `{0}`")]
    InvalidPriority(String),
    /// A presence `<show/>` with an undefined value (RFC 6121 §4.7.2.1).
    #[error("invalid presence show `{0}`")]
    InvalidShow(String),
    /// A stanza on a server-to-server stream without a `to` or `from`
    /// address (RFC 6120 §4.9.3.7): a stream error, not a stanza error.
    #[error("server-to-server stanza without `{0}`")]
    ImproperAddressing(&'static str),
    /// A child that may appear at most once appears more often
    /// (`show` and `priority` in presence, `thread` in message).
    #[error("more than one <{0}/> element")]
    Duplicate(&'static str),
}

impl StanzaParseError {
    /// The stanza error condition to answer the stanza with.
    pub fn condition(&self) -> DefinedCondition {
        DefinedCondition::BadRequest
    }

    /// For errors that are the stream's and not the stanza's, the stream
    /// error that applies instead of a stanza error:
    /// `<unsupported-stanza-type/>` (RFC 6120 §4.9.3.24),
    /// `<invalid-namespace/>` (§4.9.3.10) or `<improper-addressing/>`
    /// (§4.9.3.7).
    pub fn stream_condition(&self) -> Option<StreamErrorCondition> {
        match self {
            StanzaParseError::ImproperAddressing(_) => {
                Some(StreamErrorCondition::ImproperAddressing)
            }
            StanzaParseError::NotAStanza { .. } => {
                Some(StreamErrorCondition::UnsupportedStanzaType)
            }
            StanzaParseError::WrongNamespace { .. } => Some(StreamErrorCondition::InvalidNamespace),
            _ => None,
        }
    }
}

/// Any of the three stanzas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stanza {
    /// A `<message/>`.
    Message(Message),
    /// A `<presence/>`.
    Presence(Presence),
    /// An `<iq/>`.
    Iq(Iq),
}

impl Stanza {
    /// Checks `el` against RFC 6120 §8 / RFC 6121 and wraps it in the
    /// matching view. `content_ns` is the stream's content namespace
    /// (`jabber:client` or `jabber:server`); the stanza must be in it,
    /// and on a server stream it must carry both `to` and `from`.
    ///
    /// This consumes the element; to answer a bad stanza with an error
    /// (which needs its addresses), call [`Stanza::validate`] first, or
    /// keep what [`make_error_reply`] needs.
    pub fn from_element(el: Element, content_ns: &str) -> Result<Stanza, StanzaParseError> {
        let kind = validate_kind(&el, content_ns)?;
        Ok(match kind {
            Kind::Message => Stanza::Message(Message { el }),
            Kind::Presence => Stanza::Presence(Presence { el }),
            Kind::Iq => Stanza::Iq(Iq { el }),
        })
    }

    /// Runs the checks of [`Stanza::from_element`] without consuming the
    /// element.
    pub fn validate(el: &Element, content_ns: &str) -> Result<(), StanzaParseError> {
        validate_kind(el, content_ns).map(|_| ())
    }

    /// The underlying element.
    pub fn as_element(&self) -> &Element {
        match self {
            Stanza::Message(m) => m.as_element(),
            Stanza::Presence(p) => p.as_element(),
            Stanza::Iq(i) => i.as_element(),
        }
    }

    /// The `to` address.
    pub fn to(&self) -> Option<&str> {
        self.as_element().attr("to")
    }

    /// The `from` address.
    ///
    /// This inherent method shadows `From::from` in the path form, so
    /// convert a view with `.into()` (`let s: Stanza = msg.into();`).
    pub fn from(&self) -> Option<&str> {
        self.as_element().attr("from")
    }

    /// The `id` attribute.
    pub fn id(&self) -> Option<&str> {
        self.as_element().attr("id")
    }

    /// The raw `type` attribute.
    pub fn type_attr(&self) -> Option<&str> {
        self.as_element().attr("type")
    }

    /// Whether this stanza is of type `error` (and so must never be
    /// answered with an error, RFC 6120 §8.3.1).
    pub fn is_error(&self) -> bool {
        self.type_attr() == Some("error")
    }

    /// The error reply to this stanza ([`make_error_reply`]).
    pub fn error_reply(&self, error: StanzaError) -> Option<Element> {
        make_error_reply(self.as_element(), error)
    }
}

impl From<Stanza> for Element {
    fn from(s: Stanza) -> Element {
        match s {
            Stanza::Message(m) => m.into(),
            Stanza::Presence(p) => p.into(),
            Stanza::Iq(i) => i.into(),
        }
    }
}

impl From<Message> for Stanza {
    fn from(m: Message) -> Self {
        Stanza::Message(m)
    }
}

impl From<Presence> for Stanza {
    fn from(p: Presence) -> Self {
        Stanza::Presence(p)
    }
}

impl From<Iq> for Stanza {
    fn from(i: Iq) -> Self {
        Stanza::Iq(i)
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Message,
    Presence,
    Iq,
}

fn validate_kind(el: &Element, content_ns: &str) -> Result<Kind, StanzaParseError> {
    if !is_content_ns(content_ns) {
        return Err(StanzaParseError::WrongNamespace {
            expected: content_ns.to_owned(),
            found: el.ns().to_owned(),
        });
    }
    if !is_stanza_name(el.name()) {
        return Err(not_a_stanza(el));
    }
    if el.ns() != content_ns {
        return Err(StanzaParseError::WrongNamespace {
            expected: content_ns.to_owned(),
            found: el.ns().to_owned(),
        });
    }
    if content_ns == ns::SERVER {
        for attr in ["to", "from"] {
            if el.attr(attr).is_none() {
                return Err(StanzaParseError::ImproperAddressing(attr));
            }
        }
    }
    match el.name() {
        "message" => message::check(el).map(|()| Kind::Message),
        "presence" => presence::check(el).map(|()| Kind::Presence),
        _ => iq::check(el).map(|()| Kind::Iq),
    }
}

pub(crate) fn is_content_ns(ns: &str) -> bool {
    ns == ns::CLIENT || ns == ns::SERVER
}

pub(crate) fn is_stanza_name(name: &str) -> bool {
    matches!(name, "message" | "presence" | "iq")
}

fn not_a_stanza(el: &Element) -> StanzaParseError {
    StanzaParseError::NotAStanza {
        name: el.name().to_owned(),
        ns: el.ns().to_owned(),
    }
}

/// Checks the name and namespace shared by every view's `TryFrom`.
fn check_envelope(el: &Element, name: &str) -> Result<(), StanzaParseError> {
    if el.name() != name || !is_content_ns(el.ns()) {
        return Err(not_a_stanza(el));
    }
    Ok(())
}

/// The character data of a text-only child, borrowed when it is one
/// text node.
fn text_of(el: &Element) -> Cow<'_, str> {
    match el.nodes() {
        [] => Cow::Borrowed(""),
        [Node::Text(t)] => Cow::Borrowed(t.as_str()),
        _ => Cow::Owned(el.text()),
    }
}

/// Children `name` in the stanza's namespace with their effective
/// language: their own `xml:lang`, else the stanza's.
fn lang_children<'a>(
    stanza: &'a Element,
    name: &'a str,
) -> impl Iterator<Item = (Option<&'a str>, &'a Element)> + 'a {
    let default = stanza.attr("xml:lang");
    stanza
        .children()
        .filter(move |c| c.is(name, stanza.ns()))
        .map(move |c| (c.attr("xml:lang").or(default), c))
}

/// Picks one of several language alternatives (RFC 6120 §8.1.5,
/// RFC 6121 §5.2.3): for each preferred tag in order, an exact match
/// (case-insensitively), then the tag shortened at its last `-` step by
/// step (RFC 4647 §3.4 lookup); failing all, the child without its own
/// `xml:lang` (the stanza's default), else the first child.
fn pick_lang<'a>(stanza: &'a Element, name: &'a str, prefs: &[&str]) -> Option<&'a Element> {
    for pref in prefs {
        let mut tag = *pref;
        while !tag.is_empty() {
            let hit = lang_children(stanza, name)
                .find(|(l, _)| l.is_some_and(|l| l.eq_ignore_ascii_case(tag)));
            if let Some((_, c)) = hit {
                return Some(c);
            }
            tag = tag.rfind('-').map_or("", |i| &tag[..i]);
        }
    }
    let mut first = None;
    for c in stanza.children().filter(|c| c.is(name, stanza.ns())) {
        if c.attr("xml:lang").is_none() {
            return Some(c);
        }
        first.get_or_insert(c);
    }
    first
}

/// Replaces (or with `None` text, removes) the child `name` whose own
/// `xml:lang` equals `lang`, appending a new one if there was none.
fn set_lang_child(stanza: &mut Element, name: &str, lang: Option<&str>, text: Option<&str>) {
    let ns = stanza.ns().to_owned();
    let nodes = stanza.nodes_mut();
    let pos = nodes.iter().position(
        |n| matches!(n, Node::Element(c) if c.is(name, &ns) && c.attr("xml:lang") == lang),
    );
    let new = text.map(|t| {
        Element::new(name, ns.as_str())
            .with_opt_attr("xml:lang", lang)
            .with_text(t)
    });
    match (pos, new) {
        (Some(i), Some(e)) => nodes[i] = Node::Element(e),
        (Some(i), None) => {
            nodes.remove(i);
        }
        (None, Some(e)) => stanza.append_child(e),
        (None, None) => {}
    }
}

/// Replaces (or removes) the single child `name` in the stanza's
/// namespace.
fn set_single_child(stanza: &mut Element, child: Option<Element>, name: &str) {
    let ns = stanza.ns().to_owned();
    while stanza.take_child(name, &ns).is_some() {}
    if let Some(c) = child {
        stanza.append_child(c);
    }
}

/// Rebuilds `el` and its descendants in namespace `old` into `new`.
fn rename_ns(el: Element, old: &str, new: &str) -> Element {
    if el.ns() != old {
        return el;
    }
    let mut out = Element::new(el.name(), new);
    for a in el.attrs() {
        out.set_attr(a.name.clone(), a.value.clone());
    }
    let mut el = el;
    for n in std::mem::take(el.nodes_mut()) {
        match n {
            Node::Element(c) => out.append_child(rename_ns(c, old, new)),
            Node::Text(t) => out.append_text(&t),
        }
    }
    out
}

/// Accessors and builders shared by the three views.
macro_rules! common_stanza_api {
    ($t:ident) => {
        impl $t {
            /// The underlying element.
            pub fn as_element(&self) -> &Element {
                &self.el
            }

            /// The content namespace the stanza is in.
            pub fn content_ns(&self) -> &str {
                self.el.ns()
            }

            /// The `to` address.
            pub fn to(&self) -> Option<&str> {
                self.el.attr("to")
            }

            /// The `from` address.
            pub fn from(&self) -> Option<&str> {
                self.el.attr("from")
            }

            /// The `id` attribute.
            pub fn id(&self) -> Option<&str> {
                self.el.attr("id")
            }

            /// The `xml:lang` attribute: the default language of the
            /// stanza's human-readable text (RFC 6120 §8.1.5).
            pub fn lang(&self) -> Option<&str> {
                self.el.attr("xml:lang")
            }

            /// Sets or removes the `to` address.
            pub fn set_to(&mut self, to: Option<&str>) {
                $crate::stanza::set_opt_attr(&mut self.el, "to", to);
            }

            /// Sets or removes the `from` address (a server stamps it on
            /// stanzas from its clients, RFC 6120 §8.1.2.1).
            pub fn set_from(&mut self, from: Option<&str>) {
                $crate::stanza::set_opt_attr(&mut self.el, "from", from);
            }

            /// Sets or removes the `id` attribute.
            pub fn set_id(&mut self, id: Option<&str>) {
                $crate::stanza::set_opt_attr(&mut self.el, "id", id);
            }

            /// Sets or removes the `xml:lang` attribute.
            pub fn set_lang(&mut self, lang: Option<&str>) {
                $crate::stanza::set_opt_attr(&mut self.el, "xml:lang", lang);
            }

            /// Builder form of [`Self::set_to`].
            #[must_use]
            pub fn with_to(mut self, to: &str) -> Self {
                self.set_to(Some(to));
                self
            }

            /// Builder form of [`Self::set_from`].
            #[must_use]
            pub fn with_from(mut self, from: &str) -> Self {
                self.set_from(Some(from));
                self
            }

            /// Builder form of [`Self::set_id`].
            #[must_use]
            pub fn with_id(mut self, id: &str) -> Self {
                self.set_id(Some(id));
                self
            }

            /// Builder form of [`Self::set_lang`].
            #[must_use]
            pub fn with_lang(mut self, lang: &str) -> Self {
                self.set_lang(Some(lang));
                self
            }

            /// The `<error/>` child of a stanza of type `error`.
            pub fn error(&self) -> Option<StanzaError> {
                self.el
                    .get_child("error", self.el.ns())
                    .and_then(StanzaError::from_element)
            }

            /// Child elements outside the content namespace: the
            /// extension payloads, in document order.
            pub fn payloads(&self) -> impl Iterator<Item = &Element> {
                let ns = self.el.ns();
                self.el.children().filter(move |c| c.ns() != ns)
            }

            /// The first payload `name` in namespace `ns`.
            pub fn payload_named(&self, name: &str, ns: &str) -> Option<&Element> {
                self.el.get_child(name, ns)
            }

            /// Moves the stanza, and its children in its namespace, into
            /// content namespace `ns` (`jabber:client` or
            /// `jabber:server`), e.g. when a server relays it to a peer
            /// server. Other namespaces are left alone.
            #[must_use]
            pub fn with_content_ns(self, ns: &str) -> Self {
                if !$crate::stanza::is_content_ns(ns) || ns == self.el.ns() {
                    return self;
                }
                let old = self.el.ns().to_owned();
                Self {
                    el: $crate::stanza::rename_ns(self.el, &old, ns),
                }
            }

            /// The error reply to this stanza ([`make_error_reply`]).
            pub fn error_reply(&self, error: StanzaError) -> Option<Element> {
                make_error_reply(&self.el, error)
            }
        }

        impl From<$t> for Element {
            fn from(s: $t) -> Element {
                s.el
            }
        }

        impl TryFrom<Element> for $t {
            type Error = StanzaParseError;

            fn try_from(el: Element) -> Result<Self, StanzaParseError> {
                check(&el)?;
                Ok(Self { el })
            }
        }
    };
}
pub(crate) use common_stanza_api;

fn set_opt_attr(el: &mut Element, name: &str, value: Option<&str>) {
    match value {
        Some(v) => el.set_attr(name, v),
        None => {
            el.remove_attr(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg_with_bodies() -> Element {
        Element::new("message", ns::CLIENT)
            .with_attr("xml:lang", "en")
            .with_child(Element::new("body", ns::CLIENT).with_text("good night"))
            .with_child(
                Element::new("body", ns::CLIENT)
                    .with_attr("xml:lang", "pt-BR")
                    .with_text("boa noite"),
            )
            .with_child(
                Element::new("body", ns::CLIENT)
                    .with_attr("xml:lang", "fr")
                    .with_text("bonne nuit"),
            )
    }

    #[test]
    fn language_lookup() {
        let m = msg_with_bodies();
        let pick = |p: &[&str]| pick_lang(&m, "body", p).map(Element::text);
        assert_eq!(pick(&["FR"]).as_deref(), Some("bonne nuit"));
        assert_eq!(pick(&["pt-BR-x-rio"]).as_deref(), Some("boa noite"));
        assert_eq!(pick(&["de", "pt-br"]).as_deref(), Some("boa noite"));
        assert_eq!(
            pick(&["en-US"]).as_deref(),
            Some("good night"),
            "inherits en"
        );
        assert_eq!(pick(&["ja"]).as_deref(), Some("good night"), "default body");
        assert_eq!(pick(&[]).as_deref(), Some("good night"));
    }

    #[test]
    fn stanza_enum_dispatch_and_namespaces() {
        let m = Element::new("message", ns::SERVER).with_attr("to", "a@b.example");
        let err = Stanza::from_element(m.clone(), ns::SERVER).unwrap_err();
        assert_eq!(err, StanzaParseError::ImproperAddressing("from"));
        assert_eq!(
            err.stream_condition(),
            Some(StreamErrorCondition::ImproperAddressing)
        );
        let m = m.with_attr("from", "c@d.example");
        let s = Stanza::from_element(m.clone(), ns::SERVER).unwrap();
        assert!(matches!(s, Stanza::Message(_)));
        assert_eq!(s.to(), Some("a@b.example"));
        assert_eq!(Element::from(s), m);

        let err = Stanza::from_element(m.clone(), ns::CLIENT).unwrap_err();
        assert_eq!(
            err.stream_condition(),
            Some(StreamErrorCondition::InvalidNamespace)
        );
        let err = Stanza::from_element(m, "urn:example").unwrap_err();
        assert!(matches!(err, StanzaParseError::WrongNamespace { .. }));

        let auth = Element::new("auth", ns::SASL);
        let err = Stanza::from_element(auth, ns::CLIENT).unwrap_err();
        assert_eq!(
            err.stream_condition(),
            Some(StreamErrorCondition::UnsupportedStanzaType)
        );
    }

    #[test]
    fn rename_moves_only_the_content_namespace() {
        let m = Message::try_from(msg_with_bodies().with_child(Element::new("x", "urn:ext")))
            .unwrap()
            .with_content_ns(ns::SERVER);
        assert_eq!(m.content_ns(), ns::SERVER);
        assert_eq!(m.bodies().count(), 3);
        assert_eq!(
            m.payloads().map(Element::ns).collect::<Vec<_>>(),
            ["urn:ext"]
        );
        let same = m.clone().with_content_ns("urn:bogus");
        assert_eq!(same, m);
    }

    #[test]
    fn set_lang_child_replaces_and_removes() {
        let mut m = msg_with_bodies();
        set_lang_child(&mut m, "body", Some("fr"), Some("bonsoir"));
        set_lang_child(&mut m, "body", None, None);
        set_lang_child(&mut m, "body", Some("de"), Some("gute Nacht"));
        let texts: Vec<_> = m.children().map(Element::text).collect();
        assert_eq!(texts, ["boa noite", "bonsoir", "gute Nacht"]);
    }
}
