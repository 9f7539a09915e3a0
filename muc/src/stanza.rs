//! Small builders for the stanzas the service emits: presence with the
//! `muc#user` extension (XEP-0045 §7.2.3, §17.2 status codes), error
//! replies (RFC 6120 §8.3), and IQ results.

use xmpp_core::Jid;
use xmpp_core::xml::{Element, Node};

use crate::error::MucError;
use crate::model::{Affiliation, Role};
use crate::ns;

/// Status codes of `<status code='…'/>` in `muc#user` (XEP-0045 §15.6.2).
pub mod status {
    /// Any occupant may see real JIDs (non-anonymous room).
    pub const NON_ANONYMOUS: u16 = 100;
    /// Configuration change not affecting privacy.
    pub const CONFIG_CHANGED: u16 = 104;
    /// Presence refers to the recipient itself.
    pub const SELF_PRESENCE: u16 = 110;
    /// Room logging is enabled.
    pub const LOGGING_ENABLED: u16 = 170;
    /// Room logging is now disabled.
    pub const LOGGING_DISABLED: u16 = 171;
    /// Room is now non-anonymous.
    pub const NOW_NON_ANONYMOUS: u16 = 172;
    /// Room is now semi-anonymous.
    pub const NOW_SEMI_ANONYMOUS: u16 = 173;
    /// A new room was created.
    pub const ROOM_CREATED: u16 = 201;
    /// The service assigned or changed the nickname.
    pub const NICK_ASSIGNED: u16 = 210;
    /// Banned.
    pub const BANNED: u16 = 301;
    /// Nickname changed.
    pub const NICK_CHANGED: u16 = 303;
    /// Kicked.
    pub const KICKED: u16 = 307;
    /// Removed by an affiliation change.
    pub const AFFILIATION_CHANGE: u16 = 321;
    /// Removed because the room became members-only.
    pub const MEMBERS_ONLY: u16 = 322;
    /// Removed because the service is shutting down.
    pub const SHUTDOWN: u16 = 332;
    /// Removed because of an error reply from the occupant's server.
    pub const ERROR_REMOVAL: u16 = 333;
}

/// The `<item/>` part of a `muc#user` presence.
#[derive(Debug, Clone, Default)]
pub(crate) struct ItemInfo<'a> {
    pub affiliation: Option<Affiliation>,
    pub role: Option<Role>,
    pub jid: Option<&'a Jid>,
    pub nick: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub reason: Option<&'a str>,
}

pub(crate) fn item(info: &ItemInfo<'_>, ns_: &str) -> Element {
    let mut it = Element::new("item", ns_);
    if let Some(a) = info.affiliation {
        it.set_attr("affiliation", a.as_str());
    }
    if let Some(j) = info.jid {
        it.set_attr("jid", j.as_str());
    }
    if let Some(n) = info.nick {
        it.set_attr("nick", n);
    }
    if let Some(r) = info.role {
        it.set_attr("role", r.as_str());
    }
    if let Some(a) = info.actor {
        it.append_child(Element::new("actor", ns_).with_attr("nick", a));
    }
    if let Some(r) = info.reason {
        it.append_child(Element::new("reason", ns_).with_text(r));
    }
    it
}

/// `<x xmlns='…muc#user'>` with an item and status codes.
pub(crate) fn muc_user_x(info: &ItemInfo<'_>, codes: &[u16]) -> Element {
    let mut x = Element::new("x", ns::MUC_USER);
    x.append_child(item(info, ns::MUC_USER));
    for c in codes {
        x.append_child(Element::new("status", ns::MUC_USER).with_attr("code", c.to_string()));
    }
    x
}

pub(crate) fn occupant_id(id: &str) -> Element {
    Element::new("occupant-id", ns::OCCUPANT_ID).with_attr("id", id)
}

/// The error reply to `stanza` (RFC 6120 §8.3): addressed back to the
/// sender from the original recipient, with the original payload kept.
pub(crate) fn error_reply(stanza: &Element, err: &MucError) -> Element {
    let mut e = Element::new(stanza.name(), ns::CLIENT).with_attr("type", "error");
    if let Some(to) = stanza.attr("to") {
        e.set_attr("from", to);
    }
    if let Some(id) = stanza.attr("id") {
        e.set_attr("id", id);
    }
    for n in stanza.nodes() {
        if let Node::Element(c) = n
            && !c.is("error", ns::CLIENT)
        {
            e.append_child(c.clone());
        }
    }
    let mut error = Element::new("error", ns::CLIENT).with_attr("type", err.error_type());
    error.append_child(Element::new(err.condition(), ns::STANZAS));
    e.append_child(error);
    e
}

/// An IQ result for `iq` from `from` with an optional payload.
pub(crate) fn iq_result(iq: &Element, payload: Option<Element>) -> Element {
    let mut e = Element::new("iq", ns::CLIENT).with_attr("type", "result");
    if let Some(to) = iq.attr("to") {
        e.set_attr("from", to);
    }
    if let Some(id) = iq.attr("id") {
        e.set_attr("id", id);
    }
    if let Some(p) = payload {
        e.append_child(p);
    }
    e
}
