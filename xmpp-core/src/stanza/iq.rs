//! The `<iq/>` stanza (RFC 6120 §8.2.3): request–response with exactly
//! one payload in a request, at most one in a result.

use crate::ns;
use crate::xml::{Element, Node};

use super::{StanzaError, StanzaParseError, check_envelope, common_stanza_api, make_error_reply};

/// The `type` of an IQ stanza (RFC 6120 §8.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IqType {
    /// A request for information.
    Get,
    /// A request that provides data or changes state.
    Set,
    /// A successful response.
    Result,
    /// A failed request.
    Error,
}

impl IqType {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            IqType::Get => "get",
            IqType::Set => "set",
            IqType::Result => "result",
            IqType::Error => "error",
        }
    }

    /// The type named `value`, if it is a defined one.
    pub fn from_name(value: &str) -> Option<Self> {
        Some(match value {
            "get" => IqType::Get,
            "set" => IqType::Set,
            "result" => IqType::Result,
            "error" => IqType::Error,
            _ => return None,
        })
    }

    /// Whether this is a request (`get` or `set`), which must be
    /// answered with `result` or `error`.
    pub fn is_request(self) -> bool {
        matches!(self, IqType::Get | IqType::Set)
    }
}

/// An `<iq/>` stanza (see the [module docs](super)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iq {
    pub(super) el: Element,
}

common_stanza_api!(Iq);

pub(super) fn check(el: &Element) -> Result<(), StanzaParseError> {
    check_envelope(el, "iq")?;
    let t = el.attr("type").ok_or(StanzaParseError::MissingType)?;
    let t = IqType::from_name(t).ok_or_else(|| StanzaParseError::InvalidType {
        stanza: "iq",
        value: t.to_owned(),
    })?;
    if el.attr("id").is_none() {
        return Err(StanzaParseError::MissingId);
    }
    let found = el.children().count();
    let ok = match t {
        IqType::Get | IqType::Set => found == 1,
        IqType::Result => found <= 1,
        IqType::Error => true,
    };
    if !ok {
        return Err(StanzaParseError::PayloadCount {
            iq_type: t.as_str(),
            found,
        });
    }
    Ok(())
}

impl Iq {
    fn request(t: IqType, id: &str, payload: Element) -> Self {
        Iq {
            el: Element::new("iq", ns::CLIENT)
                .with_attr("type", t.as_str())
                .with_attr("id", id)
                .with_child(payload),
        }
    }

    /// A `get` request with id `id` in `jabber:client`.
    pub fn get(id: &str, payload: Element) -> Self {
        Self::request(IqType::Get, id, payload)
    }

    /// A `set` request with id `id` in `jabber:client`.
    pub fn set(id: &str, payload: Element) -> Self {
        Self::request(IqType::Set, id, payload)
    }

    /// The `result` answering `request`: its `from` as `to`, its `to` as
    /// `from`, the same `id` and namespace, and `payload` if any.
    pub fn result_for(request: &Iq, payload: Option<Element>) -> Self {
        let mut el = Element::new("iq", request.el.ns())
            .with_opt_attr("to", request.from())
            .with_opt_attr("from", request.to())
            .with_attr("type", IqType::Result.as_str())
            .with_opt_attr("id", request.id());
        if let Some(p) = payload {
            el.append_child(p);
        }
        Iq { el }
    }

    /// The `error` answering `request` ([`make_error_reply`]); `None`
    /// when `request` is itself an error.
    pub fn error_for(request: &Iq, error: StanzaError) -> Option<Self> {
        make_error_reply(&request.el, error).map(|el| Iq { el })
    }

    /// The IQ type.
    pub fn iq_type(&self) -> IqType {
        // Checked on construction; `error` is the safe reading otherwise
        // (it is never answered).
        self.el
            .attr("type")
            .and_then(IqType::from_name)
            .unwrap_or(IqType::Error)
    }

    /// The payload: the child element of a request or result; for an
    /// error, the echoed request payload if present.
    pub fn payload(&self) -> Option<&Element> {
        let ns = self.el.ns();
        self.el.children().find(|c| !c.is("error", ns))
    }

    /// Replaces the payload (keeping an `<error/>` child).
    pub fn set_payload(&mut self, payload: Option<Element>) {
        let ns = self.el.ns().to_owned();
        self.el
            .nodes_mut()
            .retain(|n| matches!(n, Node::Element(c) if c.is("error", &ns)));
        if let Some(p) = payload {
            self.el.nodes_mut().insert(0, Node::Element(p));
        }
    }

    /// Takes the payload out of the stanza.
    pub fn into_payload(self) -> Option<Element> {
        let ns = self.el.ns().to_owned();
        let mut el = self.el;
        el.nodes_mut().drain(..).find_map(|n| match n {
            Node::Element(c) if !c.is("error", &ns) => Some(c),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stanza::DefinedCondition;

    fn roster_query() -> Element {
        Element::new("query", ns::ROSTER)
    }

    #[test]
    fn get_and_result_for() {
        // A client fetches its roster; the server answers with two items.
        let req = Iq::get("r1", roster_query()).with_from("kim@example.org/tab");
        assert_eq!(req.iq_type(), IqType::Get);
        assert!(req.iq_type().is_request());
        assert_eq!(req.payload().map(Element::name), Some("query"));

        let items = roster_query()
            .with_child(Element::new("item", ns::ROSTER).with_attr("jid", "lee@example.org"))
            .with_child(Element::new("item", ns::ROSTER).with_attr("jid", "max@example.net"));
        let res = Iq::result_for(&req, Some(items.clone()));
        assert_eq!(res.iq_type(), IqType::Result);
        assert_eq!(res.id(), Some("r1"));
        assert_eq!(res.to(), Some("kim@example.org/tab"));
        assert_eq!(res.from(), None);
        assert_eq!(res.payload(), Some(&items));
        assert!(Iq::try_from(Element::from(res.clone())).is_ok());
        assert_eq!(res.into_payload(), Some(items));

        let empty = Iq::result_for(&req, None);
        assert!(empty.payload().is_none());
        assert!(Iq::try_from(Element::from(empty)).is_ok());
    }

    #[test]
    fn payload_count_rules() {
        let iq = |t: &str, n: usize| {
            let mut e = Element::new("iq", ns::CLIENT)
                .with_attr("type", t)
                .with_attr("id", "x");
            for i in 0..n {
                e.append_child(Element::new(format!("p{i}"), "urn:example"));
            }
            Iq::try_from(e)
        };
        for t in ["get", "set"] {
            assert!(iq(t, 1).is_ok());
            for n in [0, 2] {
                let err = iq(t, n).unwrap_err();
                assert!(matches!(err, StanzaParseError::PayloadCount { found, .. } if found == n));
                assert_eq!(err.condition(), DefinedCondition::BadRequest);
            }
        }
        assert!(iq("result", 0).is_ok());
        assert!(iq("result", 1).is_ok());
        assert!(iq("result", 2).is_err());
        assert!(iq("error", 3).is_ok());
    }

    #[test]
    fn type_and_id_are_required() {
        let no_type = Element::new("iq", ns::CLIENT).with_attr("id", "a");
        assert_eq!(
            Iq::try_from(no_type).unwrap_err(),
            StanzaParseError::MissingType
        );
        let bad_type = Element::new("iq", ns::CLIENT)
            .with_attr("id", "a")
            .with_attr("type", "query");
        assert!(matches!(
            Iq::try_from(bad_type).unwrap_err(),
            StanzaParseError::InvalidType { stanza: "iq", .. }
        ));
        let no_id = Element::new("iq", ns::CLIENT)
            .with_attr("type", "get")
            .with_child(Element::new("ping", ns::PING));
        assert_eq!(
            Iq::try_from(no_id).unwrap_err(),
            StanzaParseError::MissingId
        );
    }

    #[test]
    fn error_for_echoes_payload_position() {
        let req = Iq::set("s5", Element::new("block", "urn:example:b"))
            .with_from("pat@example.com/a")
            .with_to("example.com");
        let err = Iq::error_for(&req, StanzaError::new(DefinedCondition::NotAllowed)).unwrap();
        assert_eq!(err.iq_type(), IqType::Error);
        assert_eq!(err.payload(), None);
        assert_eq!(
            err.error().map(|e| e.condition),
            Some(DefinedCondition::NotAllowed)
        );
        assert!(Iq::error_for(&err, StanzaError::new(DefinedCondition::BadRequest)).is_none());

        let mut with_payload = Iq::try_from(
            crate::stanza::make_error_reply_with_payload(
                req.as_element(),
                StanzaError::new(DefinedCondition::Conflict),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(with_payload.payload().map(Element::name), Some("block"));
        with_payload.set_payload(Some(Element::new("other", "urn:example:b")));
        assert_eq!(with_payload.payload().map(Element::name), Some("other"));
        assert!(with_payload.error().is_some());
        with_payload.set_payload(None);
        assert!(with_payload.payload().is_none());
        assert!(with_payload.error().is_some());
    }

    #[test]
    fn whitespace_text_is_not_a_payload() {
        let e = Element::new("iq", ns::CLIENT)
            .with_attr("type", "get")
            .with_attr("id", "w")
            .with_text("\n  ")
            .with_child(Element::new("ping", ns::PING))
            .with_text("\n");
        assert!(Iq::try_from(e).is_ok());
    }
}
