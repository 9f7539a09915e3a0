//! Stanza errors (RFC 6120 §8.3): the error types, the 22 defined
//! conditions, the `<error/>` child element, and the construction of an
//! error reply to a stanza that could not be processed (§8.3.1).

use crate::ns;
use crate::xml::{Element, Node};

use super::{StanzaParseError, is_content_ns, is_stanza_name};

/// The `type` attribute of an `<error/>` element: what the sender of the
/// failed stanza should do next (RFC 6120 §8.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorType {
    /// Retry after providing credentials.
    Auth,
    /// Do not retry: the error cannot be remedied.
    Cancel,
    /// Proceed: the condition was only a warning.
    Continue,
    /// Retry after changing the data sent.
    Modify,
    /// Retry after waiting: the error is temporary.
    Wait,
}

impl ErrorType {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Auth => "auth",
            ErrorType::Cancel => "cancel",
            ErrorType::Continue => "continue",
            ErrorType::Modify => "modify",
            ErrorType::Wait => "wait",
        }
    }

    /// The error type named by `value`, if it is a defined one.
    pub fn from_name(value: &str) -> Option<Self> {
        Some(match value {
            "auth" => ErrorType::Auth,
            "cancel" => ErrorType::Cancel,
            "continue" => ErrorType::Continue,
            "modify" => ErrorType::Modify,
            "wait" => ErrorType::Wait,
            _ => return None,
        })
    }
}

macro_rules! conditions {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, $ty:ident; )*) => {
        /// A defined stanza error condition (RFC 6120 §8.3.3).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum DefinedCondition {
            $( $(#[$doc])* $variant, )*
        }

        impl DefinedCondition {
            /// Every defined condition, in the order of RFC 6120 §8.3.3.
            pub const ALL: &'static [DefinedCondition] = &[ $( DefinedCondition::$variant, )* ];

            /// The condition's element name.
            pub fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $name, )* }
            }

            /// The condition named `name`, if it is a defined one.
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $( $name => Some(Self::$variant), )* _ => None }
            }

            /// The error type RFC 6120 §8.3.3 suggests for this condition
            /// (where it allows several, the first one it names).
            pub fn default_type(self) -> ErrorType {
                match self { $( Self::$variant => ErrorType::$ty, )* }
            }
        }
    };
}

conditions! {
    /// The stanza is malformed or cannot be processed (§8.3.3.1).
    BadRequest => "bad-request", Modify;
    /// A resource or session with the same name already exists (§8.3.3.2).
    Conflict => "conflict", Cancel;
    /// The recipient does not implement the requested feature (§8.3.3.3).
    FeatureNotImplemented => "feature-not-implemented", Cancel;
    /// The sender lacks the permissions for the action (§8.3.3.4).
    Forbidden => "forbidden", Auth;
    /// The recipient is no longer at this address; may carry the new
    /// address as a URI (§8.3.3.5).
    Gone => "gone", Cancel;
    /// The server hit a misconfiguration or internal fault (§8.3.3.6).
    InternalServerError => "internal-server-error", Cancel;
    /// The addressed JID or item does not exist (§8.3.3.7).
    ItemNotFound => "item-not-found", Cancel;
    /// A JID in the stanza is not a valid address (§8.3.3.8).
    JidMalformed => "jid-malformed", Modify;
    /// The request violates a criterion of the recipient (§8.3.3.9).
    NotAcceptable => "not-acceptable", Modify;
    /// No entity may perform this action (§8.3.3.10).
    NotAllowed => "not-allowed", Cancel;
    /// The sender must authenticate first (§8.3.3.11).
    NotAuthorized => "not-authorized", Auth;
    /// A local service policy was violated (§8.3.3.12).
    PolicyViolation => "policy-violation", Modify;
    /// The recipient is temporarily unavailable (§8.3.3.13).
    RecipientUnavailable => "recipient-unavailable", Wait;
    /// The recipient is temporarily at another address, carried as a
    /// URI (§8.3.3.14).
    Redirect => "redirect", Modify;
    /// The sender must register before doing this (§8.3.3.15).
    RegistrationRequired => "registration-required", Auth;
    /// The remote server of the recipient does not exist or cannot be
    /// resolved (§8.3.3.16).
    RemoteServerNotFound => "remote-server-not-found", Cancel;
    /// The remote server could not be reached in time (§8.3.3.17).
    RemoteServerTimeout => "remote-server-timeout", Wait;
    /// The server or recipient lacks the resources to serve the request
    /// (§8.3.3.18).
    ResourceConstraint => "resource-constraint", Wait;
    /// The service is not provided (§8.3.3.19).
    ServiceUnavailable => "service-unavailable", Cancel;
    /// A subscription is needed first (§8.3.3.20).
    SubscriptionRequired => "subscription-required", Auth;
    /// A condition not among these; normally accompanied by an
    /// application-specific condition (§8.3.3.21).
    UndefinedCondition => "undefined-condition", Cancel;
    /// The request is out of order or unexpected now (§8.3.3.22).
    UnexpectedRequest => "unexpected-request", Wait;
}

/// A stanza error: the content of an `<error/>` child (RFC 6120 §8.3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StanzaError {
    /// What the sender should do next.
    pub error_type: ErrorType,
    /// The defined condition.
    pub condition: DefinedCondition,
    /// Human-readable descriptive text.
    pub text: Option<String>,
    /// The `xml:lang` of [`StanzaError::text`].
    pub text_lang: Option<String>,
    /// The entity that generated the error (`by` attribute), a JID.
    pub by: Option<String>,
    /// For `gone` and `redirect`: the new address, as a URI (for
    /// example `xmpp:room@conference.example.org`).
    pub alternate_address: Option<String>,
    /// An application-specific condition element.
    pub application: Option<Element>,
}

impl StanzaError {
    /// An error with `condition` and its suggested type, nothing else.
    pub fn new(condition: DefinedCondition) -> Self {
        StanzaError {
            error_type: condition.default_type(),
            condition,
            text: None,
            text_lang: None,
            by: None,
            alternate_address: None,
            application: None,
        }
    }

    /// Replaces the error type.
    #[must_use]
    pub fn with_type(mut self, error_type: ErrorType) -> Self {
        self.error_type = error_type;
        self
    }

    /// Adds descriptive text in language `lang`.
    #[must_use]
    pub fn with_text(mut self, lang: Option<&str>, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self.text_lang = lang.map(str::to_owned);
        self
    }

    /// Sets the `by` attribute.
    #[must_use]
    pub fn with_by(mut self, by: impl Into<String>) -> Self {
        self.by = Some(by.into());
        self
    }

    /// Sets the alternate address of a `gone` or `redirect` error.
    #[must_use]
    pub fn with_alternate_address(mut self, uri: impl Into<String>) -> Self {
        self.alternate_address = Some(uri.into());
        self
    }

    /// Adds an application-specific condition element.
    #[must_use]
    pub fn with_application(mut self, app: Element) -> Self {
        self.application = Some(app);
        self
    }

    /// The `<error/>` element in content namespace `content_ns`.
    pub fn to_element(&self, content_ns: &str) -> Element {
        let mut cond = Element::new(self.condition.as_str(), ns::STANZAS);
        if let Some(uri) = &self.alternate_address {
            cond.append_text(uri);
        }
        let mut e = Element::new("error", content_ns)
            .with_attr("type", self.error_type.as_str())
            .with_opt_attr("by", self.by.as_deref())
            .with_child(cond);
        if let Some(t) = &self.text {
            e.append_child(
                Element::new("text", ns::STANZAS)
                    .with_opt_attr("xml:lang", self.text_lang.as_deref())
                    .with_text(t),
            );
        }
        if let Some(app) = &self.application {
            e.append_child(app.clone());
        }
        e
    }

    /// Reads an `<error/>` element in `jabber:client` or `jabber:server`.
    ///
    /// A receiver is lenient (RFC 6120 §8.3.2): a missing or unknown
    /// condition reads as `undefined-condition`, a missing or unknown
    /// type as the condition's suggested type. Returns `None` when `e` is
    /// not an `<error/>` element.
    pub fn from_element(e: &Element) -> Option<Self> {
        if e.name() != "error" || !is_content_ns(e.ns()) {
            return None;
        }
        let mut err = StanzaError::new(DefinedCondition::UndefinedCondition);
        let mut have_condition = false;
        for c in e.children() {
            if c.ns() == ns::STANZAS {
                if c.name() == "text" {
                    if err.text.is_none() {
                        err.text = Some(c.text());
                        err.text_lang = c.attr("xml:lang").map(str::to_owned);
                    }
                } else if !have_condition && let Some(cond) = DefinedCondition::from_name(c.name())
                {
                    err.condition = cond;
                    have_condition = true;
                    if matches!(cond, DefinedCondition::Gone | DefinedCondition::Redirect) {
                        let uri = c.text();
                        err.alternate_address = (!uri.is_empty()).then_some(uri);
                    }
                }
            } else if err.application.is_none() {
                err.application = Some(c.clone());
            }
        }
        err.error_type = e
            .attr("type")
            .and_then(ErrorType::from_name)
            .unwrap_or_else(|| err.condition.default_type());
        err.by = e.attr("by").map(str::to_owned);
        Some(err)
    }
}

impl std::fmt::Display for StanzaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({})",
            self.condition.as_str(),
            self.error_type.as_str()
        )?;
        if let Some(t) = &self.text {
            write!(f, ": {t}")?;
        }
        Ok(())
    }
}

impl From<&StanzaParseError> for StanzaError {
    fn from(e: &StanzaParseError) -> Self {
        StanzaError::new(e.condition()).with_text(Some("en"), e.to_string())
    }
}

/// Builds the error reply to `original` (RFC 6120 §8.3.1) without the
/// original payload: same element name and namespace, `to` and `from`
/// swapped, the same `id` and `xml:lang`, `type="error"`, and the
/// `<error/>` child.
///
/// Returns `None` when no reply may be sent: `original` is itself of type
/// `error` (an error is never answered with an error), or it is not a
/// stanza (`message`, `presence` or `iq` in `jabber:client` or
/// `jabber:server`).
pub fn make_error_reply(original: &Element, error: StanzaError) -> Option<Element> {
    build_error_reply(original, error, false)
}

/// Like [`make_error_reply`], but the reply also carries the original
/// stanza's children before the `<error/>` element, as §8.3.1 permits
/// (useful so the sender can tell which request failed).
pub fn make_error_reply_with_payload(original: &Element, error: StanzaError) -> Option<Element> {
    build_error_reply(original, error, true)
}

fn build_error_reply(original: &Element, error: StanzaError, payload: bool) -> Option<Element> {
    if !is_stanza_name(original.name()) || !is_content_ns(original.ns()) {
        return None;
    }
    if original.attr("type") == Some("error") {
        return None;
    }
    let mut reply = Element::new(original.name(), original.ns())
        .with_opt_attr("to", original.attr("from"))
        .with_opt_attr("from", original.attr("to"))
        .with_opt_attr("id", original.attr("id"))
        .with_opt_attr("xml:lang", original.attr("xml:lang"))
        .with_attr("type", "error");
    if payload {
        for n in original.nodes() {
            match n {
                Node::Element(c) if !c.is("error", original.ns()) => reply.append_child(c.clone()),
                Node::Element(_) => {}
                Node::Text(t) => reply.append_text(t),
            }
        }
    }
    reply.append_child(error.to_element(original.ns()));
    Some(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_two_conditions_round_trip_by_name() {
        assert_eq!(DefinedCondition::ALL.len(), 22);
        for &c in DefinedCondition::ALL {
            assert_eq!(DefinedCondition::from_name(c.as_str()), Some(c));
        }
        assert_eq!(DefinedCondition::from_name("payment-required"), None);
        assert_eq!(DefinedCondition::from_name(""), None);
    }

    #[test]
    fn default_types_follow_rfc_6120() {
        use DefinedCondition as D;
        use ErrorType as T;
        let expect = [
            (D::BadRequest, T::Modify),
            (D::Conflict, T::Cancel),
            (D::Forbidden, T::Auth),
            (D::NotAuthorized, T::Auth),
            (D::RecipientUnavailable, T::Wait),
            (D::RemoteServerTimeout, T::Wait),
            (D::ServiceUnavailable, T::Cancel),
            (D::JidMalformed, T::Modify),
            (D::Redirect, T::Modify),
            (D::SubscriptionRequired, T::Auth),
        ];
        for (c, t) in expect {
            assert_eq!(c.default_type(), t, "{}", c.as_str());
        }
    }

    #[test]
    fn error_types_round_trip() {
        for t in ["auth", "cancel", "continue", "modify", "wait"] {
            assert_eq!(ErrorType::from_name(t).map(ErrorType::as_str), Some(t));
        }
        assert_eq!(ErrorType::from_name("Cancel"), None);
    }

    #[test]
    fn full_error_round_trips_through_element() {
        let err = StanzaError::new(DefinedCondition::Gone)
            .with_text(Some("de"), "Umgezogen")
            .with_by("chat.example.org")
            .with_alternate_address("xmpp:lounge@chat.example.net")
            .with_application(Element::new("moved", "urn:example:app"));
        let el = err.to_element(ns::CLIENT);
        assert_eq!(el.attr("type"), Some("cancel"));
        assert_eq!(
            el.get_child("gone", ns::STANZAS).map(Element::text),
            Some("xmpp:lounge@chat.example.net".into())
        );
        assert_eq!(StanzaError::from_element(&el), Some(err));
    }

    #[test]
    fn lenient_reading() {
        let el = Element::new("error", ns::SERVER)
            .with_attr("type", "sideways")
            .with_child(Element::new("brand-new-condition", ns::STANZAS));
        let err = StanzaError::from_element(&el).unwrap();
        assert_eq!(err.condition, DefinedCondition::UndefinedCondition);
        assert_eq!(err.error_type, ErrorType::Cancel);
        assert!(StanzaError::from_element(&Element::new("error", "urn:other")).is_none());
        // The URI of a condition other than gone/redirect is not an address.
        let el = Element::new("error", ns::CLIENT)
            .with_child(Element::new("conflict", ns::STANZAS).with_text("x"));
        assert_eq!(
            StanzaError::from_element(&el).unwrap().alternate_address,
            None
        );
    }

    #[test]
    fn error_reply_swaps_addresses_and_keeps_id() {
        // A client asks a server-side service for something it lacks.
        let req = Element::new("iq", ns::CLIENT)
            .with_attr("from", "maria@example.net/desk")
            .with_attr("to", "files.example.net")
            .with_attr("id", "q7")
            .with_attr("type", "get")
            .with_child(Element::new("query", "urn:example:files"));
        let reply = make_error_reply_with_payload(
            &req,
            StanzaError::new(DefinedCondition::FeatureNotImplemented),
        )
        .unwrap();
        assert_eq!(reply.attr("to"), Some("maria@example.net/desk"));
        assert_eq!(reply.attr("from"), Some("files.example.net"));
        assert_eq!(reply.attr("id"), Some("q7"));
        assert_eq!(reply.attr("type"), Some("error"));
        assert!(reply.has_child("query", "urn:example:files"));
        let err = StanzaError::from_element(reply.get_child("error", ns::CLIENT).unwrap());
        assert_eq!(
            err.map(|e| e.condition),
            Some(DefinedCondition::FeatureNotImplemented)
        );

        let bare = make_error_reply(&req, StanzaError::new(DefinedCondition::Forbidden)).unwrap();
        assert_eq!(bare.children().count(), 1, "only the error child");
    }

    #[test]
    fn never_answer_an_error_or_a_non_stanza() {
        let err_msg = Element::new("message", ns::CLIENT).with_attr("type", "error");
        assert!(
            make_error_reply(&err_msg, StanzaError::new(DefinedCondition::BadRequest)).is_none()
        );
        let features = Element::new("features", ns::STREAM);
        assert!(
            make_error_reply(&features, StanzaError::new(DefinedCondition::BadRequest)).is_none()
        );
        let foreign = Element::new("message", "urn:example");
        assert!(
            make_error_reply(&foreign, StanzaError::new(DefinedCondition::BadRequest)).is_none()
        );
    }

    #[test]
    fn reply_without_addresses_has_none() {
        let p = Element::new("presence", ns::CLIENT).with_attr("type", "subscribe");
        let r = make_error_reply(&p, StanzaError::new(DefinedCondition::NotAllowed)).unwrap();
        assert_eq!(r.attr("to"), None);
        assert_eq!(r.attr("from"), None);
        assert_eq!(r.attr("id"), None);
    }
}
