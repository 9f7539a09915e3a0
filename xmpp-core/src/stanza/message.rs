//! The `<message/>` stanza (RFC 6120 §8.2.1, RFC 6121 §5): push
//! delivery of content, with `<body/>`, `<subject/>` (both in several
//! languages) and `<thread/>`.

use std::borrow::Cow;

use crate::ns;
use crate::xml::Element;

use super::{
    StanzaError, StanzaParseError, check_envelope, common_stanza_api, lang_children,
    make_error_reply, pick_lang, set_lang_child, set_single_child, text_of,
};

/// The `type` of a message (RFC 6121 §5.2.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageType {
    /// One-to-one chat.
    Chat,
    /// An error about a message sent before.
    Error,
    /// Multi-user chat.
    Groupchat,
    /// An alert or notice that expects no reply.
    Headline,
    /// A standalone message; also the meaning of an absent or unknown
    /// type.
    #[default]
    Normal,
}

impl MessageType {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Chat => "chat",
            MessageType::Error => "error",
            MessageType::Groupchat => "groupchat",
            MessageType::Headline => "headline",
            MessageType::Normal => "normal",
        }
    }

    /// The type an attribute value denotes. An absent or unknown value
    /// means `normal` (RFC 6121 §5.2.2).
    pub fn from_attr(value: Option<&str>) -> Self {
        match value {
            Some("chat") => MessageType::Chat,
            Some("error") => MessageType::Error,
            Some("groupchat") => MessageType::Groupchat,
            Some("headline") => MessageType::Headline,
            _ => MessageType::Normal,
        }
    }
}

/// A `<message/>` stanza (see the [module docs](super)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub(super) el: Element,
}

common_stanza_api!(Message);

pub(super) fn check(el: &Element) -> Result<(), StanzaParseError> {
    check_envelope(el, "message")?;
    if el.children().filter(|c| c.is("thread", el.ns())).count() > 1 {
        return Err(StanzaParseError::Duplicate("thread"));
    }
    Ok(())
}

impl Default for Message {
    fn default() -> Self {
        Self::new()
    }
}

impl Message {
    /// An empty message of type `normal` (no `type` attribute) in
    /// `jabber:client`.
    pub fn new() -> Self {
        Message {
            el: Element::new("message", ns::CLIENT),
        }
    }

    /// A `chat` message to `to` with body `body`.
    pub fn chat(to: &str, body: &str) -> Self {
        Message::new()
            .with_type(MessageType::Chat)
            .with_to(to)
            .with_body(None, body)
    }

    /// A `groupchat` message to room `to` with body `body`.
    pub fn groupchat(to: &str, body: &str) -> Self {
        Message::new()
            .with_type(MessageType::Groupchat)
            .with_to(to)
            .with_body(None, body)
    }

    /// A `headline` message to `to` with body `body`.
    pub fn headline(to: &str, body: &str) -> Self {
        Message::new()
            .with_type(MessageType::Headline)
            .with_to(to)
            .with_body(None, body)
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        MessageType::from_attr(self.el.attr("type"))
    }

    /// Sets the type; `normal` is written as no attribute.
    pub fn set_type(&mut self, t: MessageType) {
        match t {
            MessageType::Normal => {
                self.el.remove_attr("type");
            }
            _ => self.el.set_attr("type", t.as_str()),
        }
    }

    /// Builder form of [`Message::set_type`].
    #[must_use]
    pub fn with_type(mut self, t: MessageType) -> Self {
        self.set_type(t);
        self
    }

    /// Every `<body/>` with its effective language (its own `xml:lang`,
    /// else the message's).
    pub fn bodies(&self) -> impl Iterator<Item = (Option<&str>, Cow<'_, str>)> {
        lang_children(&self.el, "body").map(|(l, c)| (l, text_of(c)))
    }

    /// The body best matching the language preferences `prefs` (most
    /// preferred first; see [`Message::bodies`] for all of them). Falls
    /// back to the body in the message's default language, then to the
    /// first body.
    pub fn body(&self, prefs: &[&str]) -> Option<Cow<'_, str>> {
        pick_lang(&self.el, "body", prefs).map(text_of)
    }

    /// Sets the body in language `lang` (`None`: the message's default
    /// language), replacing a body in that language.
    pub fn set_body(&mut self, lang: Option<&str>, text: Option<&str>) {
        set_lang_child(&mut self.el, "body", lang, text);
    }

    /// Builder form of [`Message::set_body`].
    #[must_use]
    pub fn with_body(mut self, lang: Option<&str>, text: &str) -> Self {
        self.set_body(lang, Some(text));
        self
    }

    /// Every `<subject/>` with its effective language.
    pub fn subjects(&self) -> impl Iterator<Item = (Option<&str>, Cow<'_, str>)> {
        lang_children(&self.el, "subject").map(|(l, c)| (l, text_of(c)))
    }

    /// The subject best matching `prefs` (as for [`Message::body`]).
    pub fn subject(&self, prefs: &[&str]) -> Option<Cow<'_, str>> {
        pick_lang(&self.el, "subject", prefs).map(text_of)
    }

    /// Sets or removes the subject in language `lang`.
    pub fn set_subject(&mut self, lang: Option<&str>, text: Option<&str>) {
        set_lang_child(&mut self.el, "subject", lang, text);
    }

    /// Builder form of [`Message::set_subject`].
    #[must_use]
    pub fn with_subject(mut self, lang: Option<&str>, text: &str) -> Self {
        self.set_subject(lang, Some(text));
        self
    }

    /// The `<thread/>` identifier (RFC 6121 §5.2.5).
    pub fn thread(&self) -> Option<Cow<'_, str>> {
        self.el.get_child("thread", self.el.ns()).map(text_of)
    }

    /// The `parent` attribute of `<thread/>`: the thread this one was
    /// forked from.
    pub fn thread_parent(&self) -> Option<&str> {
        self.el
            .get_child("thread", self.el.ns())
            .and_then(|t| t.attr("parent"))
    }

    /// Sets (or with `None` removes) the thread and its parent.
    pub fn set_thread(&mut self, thread: Option<&str>, parent: Option<&str>) {
        let child = thread.map(|id| {
            Element::new("thread", self.el.ns())
                .with_opt_attr("parent", parent)
                .with_text(id)
        });
        set_single_child(&mut self.el, child, "thread");
    }

    /// Builder form of [`Message::set_thread`].
    #[must_use]
    pub fn with_thread(mut self, thread: &str, parent: Option<&str>) -> Self {
        self.set_thread(Some(thread), parent);
        self
    }

    /// Appends an extension payload.
    pub fn add_payload(&mut self, payload: Element) {
        self.el.append_child(payload);
    }

    /// Builder form of [`Message::add_payload`].
    #[must_use]
    pub fn with_payload(mut self, payload: Element) -> Self {
        self.add_payload(payload);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stanza::DefinedCondition;

    #[test]
    fn chat_builder_writes_the_expected_tree() {
        let m = Message::chat("nadia@example.com", "lunch?")
            .with_from("omar@example.com/laptop")
            .with_id("c1")
            .with_thread("th-42", None);
        let e = m.as_element();
        assert!(e.is("message", ns::CLIENT));
        assert_eq!(e.attr("type"), Some("chat"));
        assert_eq!(m.to(), Some("nadia@example.com"));
        assert_eq!(m.from(), Some("omar@example.com/laptop"));
        assert_eq!(m.id(), Some("c1"));
        assert_eq!(m.thread().as_deref(), Some("th-42"));
        assert_eq!(m.thread_parent(), None);
    }

    #[test]
    fn absent_or_unknown_type_is_normal() {
        let m = Message::try_from(Element::new("message", ns::CLIENT)).unwrap();
        assert_eq!(m.message_type(), MessageType::Normal);
        let m = Message::try_from(Element::new("message", ns::CLIENT).with_attr("type", "shout"))
            .unwrap();
        assert_eq!(m.message_type(), MessageType::Normal);
        let mut m = Message::new().with_type(MessageType::Headline);
        assert_eq!(m.as_element().attr("type"), Some("headline"));
        m.set_type(MessageType::Normal);
        assert_eq!(m.as_element().attr("type"), None);
    }

    #[test]
    fn subjects_and_bodies_in_several_languages() {
        let m = Message::new()
            .with_lang("en")
            .with_subject(None, "Plans")
            .with_subject(Some("es"), "Planes")
            .with_body(None, "Dinner at seven?")
            .with_body(Some("es"), "¿Cena a las siete?");
        let bodies: Vec<_> = m.bodies().collect();
        assert_eq!(
            bodies,
            vec![
                (Some("en"), Cow::Borrowed("Dinner at seven?")),
                (Some("es"), Cow::Borrowed("¿Cena a las siete?")),
            ]
        );
        assert_eq!(m.body(&["es-MX"]).as_deref(), Some("¿Cena a las siete?"));
        assert_eq!(m.subject(&["es"]).as_deref(), Some("Planes"));
        assert_eq!(m.subject(&["de"]).as_deref(), Some("Plans"));
        assert_eq!(m.subjects().count(), 2);
    }

    #[test]
    fn replacing_and_removing_children() {
        let mut m = Message::chat("a@example.com", "first");
        m.set_body(None, Some("second"));
        assert_eq!(m.bodies().count(), 1);
        assert_eq!(m.body(&[]).as_deref(), Some("second"));
        m.set_thread(Some("t1"), Some("t0"));
        m.set_thread(Some("t2"), None);
        assert_eq!(m.thread().as_deref(), Some("t2"));
        m.set_thread(None, None);
        assert!(m.thread().is_none());
        m.set_body(None, None);
        assert!(m.body(&[]).is_none());
    }

    #[test]
    fn extension_children_are_kept() {
        let raw = Element::new("message", ns::CLIENT)
            .with_attr("type", "chat")
            .with_child(Element::new("body", ns::CLIENT).with_text("yo"))
            .with_child(Element::new(
                "active",
                "http://jabber.org/protocol/chatstates",
            ))
            .with_child(Element::new("unknown", "urn:example:x").with_attr("k", "v"));
        let m = Message::try_from(raw.clone()).unwrap();
        let payloads: Vec<_> = m.payloads().map(Element::name).collect();
        assert_eq!(payloads, ["active", "unknown"]);
        assert_eq!(Element::from(m), raw);
    }

    #[test]
    fn two_threads_are_a_bad_request() {
        let raw = Element::new("message", ns::CLIENT)
            .with_child(Element::new("thread", ns::CLIENT).with_text("a"))
            .with_child(Element::new("thread", ns::CLIENT).with_text("b"));
        let err = Message::try_from(raw).unwrap_err();
        assert_eq!(err, StanzaParseError::Duplicate("thread"));
        assert_eq!(err.condition(), DefinedCondition::BadRequest);
    }

    #[test]
    fn not_a_message() {
        assert!(matches!(
            Message::try_from(Element::new("presence", ns::CLIENT)),
            Err(StanzaParseError::NotAStanza { .. })
        ));
        assert!(Message::try_from(Element::new("message", "urn:other")).is_err());
    }

    #[test]
    fn error_message_reads_its_error() {
        // A server bounces a chat to an unknown user.
        let original = Message::chat("ghost@example.com", "anyone?")
            .with_from("ida@example.com/desk")
            .with_id("b9");
        let reply = original
            .error_reply(crate::stanza::StanzaError::new(
                DefinedCondition::ItemNotFound,
            ))
            .unwrap();
        let reply = Message::try_from(reply).unwrap();
        assert_eq!(reply.message_type(), MessageType::Error);
        assert_eq!(reply.to(), Some("ida@example.com/desk"));
        assert_eq!(reply.from(), Some("ghost@example.com"));
        assert_eq!(
            reply.error().map(|e| e.condition),
            Some(DefinedCondition::ItemNotFound)
        );
        assert!(
            reply
                .error_reply(StanzaError::new(DefinedCondition::BadRequest))
                .is_none()
        );
    }
}
