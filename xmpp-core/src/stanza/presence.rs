//! The `<presence/>` stanza (RFC 6120 §8.2.2, RFC 6121 §4): availability
//! broadcast and subscription management, with `<show/>`, `<status/>`
//! (in several languages) and `<priority/>`.

use std::borrow::Cow;

use crate::ns;
use crate::xml::Element;

use super::{
    StanzaError, StanzaParseError, check_envelope, common_stanza_api, lang_children,
    make_error_reply, pick_lang, set_lang_child, set_single_child, text_of,
};

/// The `type` of a presence stanza (RFC 6121 §4.7.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PresenceType {
    /// Available for communication: no `type` attribute.
    #[default]
    Available,
    /// No longer available.
    Unavailable,
    /// A request to subscribe to the recipient's presence.
    Subscribe,
    /// The sender allowed the recipient to receive its presence.
    Subscribed,
    /// A request to end a subscription to the recipient's presence.
    Unsubscribe,
    /// A subscription request was denied or a subscription cancelled.
    Unsubscribed,
    /// A server's request for an entity's current presence.
    Probe,
    /// An error about a presence stanza sent before.
    Error,
}

impl PresenceType {
    /// The attribute value; `None` for [`PresenceType::Available`], which
    /// is written as no attribute.
    pub fn attr_value(self) -> Option<&'static str> {
        Some(match self {
            PresenceType::Available => return None,
            PresenceType::Unavailable => "unavailable",
            PresenceType::Subscribe => "subscribe",
            PresenceType::Subscribed => "subscribed",
            PresenceType::Unsubscribe => "unsubscribe",
            PresenceType::Unsubscribed => "unsubscribed",
            PresenceType::Probe => "probe",
            PresenceType::Error => "error",
        })
    }

    /// The type an attribute value denotes (`None` for an absent
    /// attribute means available); `None` for an undefined value.
    pub fn from_attr(value: Option<&str>) -> Option<Self> {
        Some(match value {
            None => PresenceType::Available,
            Some("unavailable") => PresenceType::Unavailable,
            Some("subscribe") => PresenceType::Subscribe,
            Some("subscribed") => PresenceType::Subscribed,
            Some("unsubscribe") => PresenceType::Unsubscribe,
            Some("unsubscribed") => PresenceType::Unsubscribed,
            Some("probe") => PresenceType::Probe,
            Some("error") => PresenceType::Error,
            Some(_) => return None,
        })
    }
}

/// The `<show/>` value: a particular availability sub-state (RFC 6121
/// §4.7.2.1). No `<show/>` means plainly online.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Show {
    /// Temporarily away.
    Away,
    /// Interested in chatting.
    Chat,
    /// Do not disturb.
    Dnd,
    /// Away for an extended period.
    Xa,
}

impl Show {
    /// The element text.
    pub fn as_str(self) -> &'static str {
        match self {
            Show::Away => "away",
            Show::Chat => "chat",
            Show::Dnd => "dnd",
            Show::Xa => "xa",
        }
    }

    /// The value named `name` (surrounding whitespace ignored), if
    /// defined.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.trim() {
            "away" => Show::Away,
            "chat" => Show::Chat,
            "dnd" => Show::Dnd,
            "xa" => Show::Xa,
            _ => return None,
        })
    }
}

/// A `<presence/>` stanza (see the [module docs](super)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presence {
    pub(super) el: Element,
}

common_stanza_api!(Presence);

pub(super) fn check(el: &Element) -> Result<(), StanzaParseError> {
    check_envelope(el, "presence")?;
    let t = el.attr("type");
    if PresenceType::from_attr(t).is_none() {
        return Err(StanzaParseError::InvalidType {
            stanza: "presence",
            value: t.unwrap_or_default().to_owned(),
        });
    }
    let mut shows = el.children().filter(|c| c.is("show", el.ns()));
    if let Some(show) = shows.next() {
        let text = text_of(show);
        if Show::from_name(&text).is_none() {
            return Err(StanzaParseError::InvalidShow(text.into_owned()));
        }
        if shows.next().is_some() {
            return Err(StanzaParseError::Duplicate("show"));
        }
    }
    let mut prios = el.children().filter(|c| c.is("priority", el.ns()));
    if let Some(prio) = prios.next() {
        let text = text_of(prio);
        if parse_priority(&text).is_none() {
            return Err(StanzaParseError::InvalidPriority(text.into_owned()));
        }
        if prios.next().is_some() {
            return Err(StanzaParseError::Duplicate("priority"));
        }
    }
    Ok(())
}

/// Parses a priority: an integer in -128..=127, surrounding whitespace
/// allowed (XML Schema `xs:byte`).
fn parse_priority(text: &str) -> Option<i8> {
    text.trim().parse().ok()
}

impl Default for Presence {
    fn default() -> Self {
        Self::available()
    }
}

impl Presence {
    /// A presence of type `t` in `jabber:client`, with nothing else.
    pub fn new(t: PresenceType) -> Self {
        let el = Element::new("presence", ns::CLIENT).with_opt_attr("type", t.attr_value());
        Presence { el }
    }

    /// Initial or updated availability: no type, no addressee.
    pub fn available() -> Self {
        Self::new(PresenceType::Available)
    }

    /// Unavailable presence.
    pub fn unavailable() -> Self {
        Self::new(PresenceType::Unavailable)
    }

    /// A subscription request to `to` (RFC 6121 §3.1).
    pub fn subscribe(to: &str) -> Self {
        Self::new(PresenceType::Subscribe).with_to(to)
    }

    /// Approval of `to`'s subscription request (RFC 6121 §3.1.4).
    pub fn subscribed(to: &str) -> Self {
        Self::new(PresenceType::Subscribed).with_to(to)
    }

    /// Unsubscribing from `to`'s presence (RFC 6121 §3.3).
    pub fn unsubscribe(to: &str) -> Self {
        Self::new(PresenceType::Unsubscribe).with_to(to)
    }

    /// Denial or cancellation of `to`'s subscription (RFC 6121 §3.2).
    pub fn unsubscribed(to: &str) -> Self {
        Self::new(PresenceType::Unsubscribed).with_to(to)
    }

    /// A presence probe to `to` (RFC 6121 §4.3).
    pub fn probe(to: &str) -> Self {
        Self::new(PresenceType::Probe).with_to(to)
    }

    /// The presence type.
    pub fn presence_type(&self) -> PresenceType {
        PresenceType::from_attr(self.el.attr("type")).unwrap_or_default()
    }

    /// Sets the presence type.
    pub fn set_type(&mut self, t: PresenceType) {
        match t.attr_value() {
            Some(v) => self.el.set_attr("type", v),
            None => {
                self.el.remove_attr("type");
            }
        }
    }

    /// Builder form of [`Presence::set_type`].
    #[must_use]
    pub fn with_type(mut self, t: PresenceType) -> Self {
        self.set_type(t);
        self
    }

    /// The `<show/>` value, if any.
    pub fn show(&self) -> Option<Show> {
        self.el
            .get_child("show", self.el.ns())
            .and_then(|s| Show::from_name(&text_of(s)))
    }

    /// Sets or removes `<show/>`.
    pub fn set_show(&mut self, show: Option<Show>) {
        let child = show.map(|s| Element::new("show", self.el.ns()).with_text(s.as_str()));
        set_single_child(&mut self.el, child, "show");
    }

    /// Builder form of [`Presence::set_show`].
    #[must_use]
    pub fn with_show(mut self, show: Show) -> Self {
        self.set_show(Some(show));
        self
    }

    /// Every `<status/>` with its effective language.
    pub fn statuses(&self) -> impl Iterator<Item = (Option<&str>, Cow<'_, str>)> {
        lang_children(&self.el, "status").map(|(l, c)| (l, text_of(c)))
    }

    /// The status best matching the language preferences `prefs` (see
    /// [`super::Message::body`] for the rules).
    pub fn status(&self, prefs: &[&str]) -> Option<Cow<'_, str>> {
        pick_lang(&self.el, "status", prefs).map(text_of)
    }

    /// Sets or removes the status text in language `lang`.
    pub fn set_status(&mut self, lang: Option<&str>, text: Option<&str>) {
        set_lang_child(&mut self.el, "status", lang, text);
    }

    /// Builder form of [`Presence::set_status`].
    #[must_use]
    pub fn with_status(mut self, lang: Option<&str>, text: &str) -> Self {
        self.set_status(lang, Some(text));
        self
    }

    /// The priority of this resource; 0 when absent (RFC 6121 §4.7.2.3).
    pub fn priority(&self) -> i8 {
        self.el
            .get_child("priority", self.el.ns())
            .and_then(|p| parse_priority(&text_of(p)))
            .unwrap_or(0)
    }

    /// Sets or removes `<priority/>`.
    pub fn set_priority(&mut self, priority: Option<i8>) {
        let child =
            priority.map(|p| Element::new("priority", self.el.ns()).with_text(p.to_string()));
        set_single_child(&mut self.el, child, "priority");
    }

    /// Builder form of [`Presence::set_priority`].
    #[must_use]
    pub fn with_priority(mut self, priority: i8) -> Self {
        self.set_priority(Some(priority));
        self
    }

    /// Appends an extension payload (e.g. entity capabilities).
    pub fn add_payload(&mut self, payload: Element) {
        self.el.append_child(payload);
    }

    /// Builder form of [`Presence::add_payload`].
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

    fn presence(children: &[(&str, &str)]) -> Element {
        let mut e = Element::new("presence", ns::CLIENT);
        for (name, text) in children {
            e.append_child(Element::new(*name, ns::CLIENT).with_text(text));
        }
        e
    }

    #[test]
    fn availability_with_show_status_priority() {
        // A client announces it is away, in two languages.
        let p = Presence::available()
            .with_show(Show::Away)
            .with_status(None, "in a meeting")
            .with_status(Some("it"), "in riunione")
            .with_priority(-3);
        assert_eq!(p.presence_type(), PresenceType::Available);
        assert_eq!(p.as_element().attr("type"), None);
        assert_eq!(p.show(), Some(Show::Away));
        assert_eq!(p.priority(), -3);
        assert_eq!(p.status(&["it"]).as_deref(), Some("in riunione"));
        assert_eq!(p.status(&[]).as_deref(), Some("in a meeting"));
        assert_eq!(p.statuses().count(), 2);
        let back = Presence::try_from(Element::from(p.clone())).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn subscription_builders() {
        let cases = [
            (Presence::subscribe("x@example.com"), "subscribe"),
            (Presence::subscribed("x@example.com"), "subscribed"),
            (Presence::unsubscribe("x@example.com"), "unsubscribe"),
            (Presence::unsubscribed("x@example.com"), "unsubscribed"),
            (Presence::probe("x@example.com"), "probe"),
        ];
        for (p, t) in cases {
            assert_eq!(p.as_element().attr("type"), Some(t));
            assert_eq!(p.to(), Some("x@example.com"));
            assert_eq!(PresenceType::from_attr(Some(t)), Some(p.presence_type()));
        }
        assert_eq!(
            Presence::unavailable().presence_type(),
            PresenceType::Unavailable
        );
    }

    #[test]
    fn priority_bounds() {
        for (text, want) in [
            ("127", 127),
            ("-128", -128),
            (" 5 ", 5),
            ("+1", 1),
            ("0", 0),
        ] {
            let p = Presence::try_from(presence(&[("priority", text)])).unwrap();
            assert_eq!(p.priority(), want, "{text:?}");
        }
        for bad in ["128", "-129", "1.5", "", "high", "999999999999999999999"] {
            let err = Presence::try_from(presence(&[("priority", bad)])).unwrap_err();
            assert_eq!(err, StanzaParseError::InvalidPriority(bad.into()));
            assert_eq!(err.condition(), DefinedCondition::BadRequest);
        }
        assert_eq!(Presence::available().priority(), 0);
    }

    #[test]
    fn show_values() {
        for s in [Show::Away, Show::Chat, Show::Dnd, Show::Xa] {
            let p = Presence::try_from(presence(&[("show", s.as_str())])).unwrap();
            assert_eq!(p.show(), Some(s));
        }
        let err = Presence::try_from(presence(&[("show", "busy")])).unwrap_err();
        assert_eq!(err, StanzaParseError::InvalidShow("busy".into()));
        let err = Presence::try_from(presence(&[("show", "xa"), ("show", "dnd")])).unwrap_err();
        assert_eq!(err, StanzaParseError::Duplicate("show"));
        let err =
            Presence::try_from(presence(&[("priority", "1"), ("priority", "2")])).unwrap_err();
        assert_eq!(err, StanzaParseError::Duplicate("priority"));
    }

    #[test]
    fn undefined_type_is_rejected() {
        let e = Element::new("presence", ns::CLIENT).with_attr("type", "invisible");
        assert_eq!(
            Presence::try_from(e).unwrap_err(),
            StanzaParseError::InvalidType {
                stanza: "presence",
                value: "invisible".into()
            }
        );
    }

    #[test]
    fn setters_replace_and_remove() {
        let mut p = Presence::available().with_show(Show::Dnd).with_priority(9);
        p.set_show(Some(Show::Chat));
        p.set_priority(None);
        p.set_type(PresenceType::Unavailable);
        assert_eq!(p.show(), Some(Show::Chat));
        assert_eq!(p.priority(), 0);
        assert_eq!(p.as_element().children().count(), 1);
        p.set_type(PresenceType::Available);
        assert_eq!(p.as_element().attr("type"), None);
    }

    #[test]
    fn caps_payload_is_preserved() {
        let caps = Element::new("c", "http://jabber.org/protocol/caps")
            .with_attr("hash", "sha-1")
            .with_attr("node", "https://client.example")
            .with_attr("ver", "abc=");
        let p = Presence::available().with_payload(caps.clone());
        assert_eq!(
            p.payload_named("c", "http://jabber.org/protocol/caps"),
            Some(&caps)
        );
    }
}
