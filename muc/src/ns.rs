//! Namespace names used by multi-user chat (XEP-0045 §19, XEP-0004,
//! XEP-0203, XEP-0421, XEP-0077).

/// Join requests: `<x xmlns='http://jabber.org/protocol/muc'/>` (XEP-0045 §7.2).
pub const MUC: &str = "http://jabber.org/protocol/muc";
/// Occupant-facing extensions (XEP-0045 §7).
pub const MUC_USER: &str = "http://jabber.org/protocol/muc#user";
/// Moderator and admin use cases (XEP-0045 §8, §9).
pub const MUC_ADMIN: &str = "http://jabber.org/protocol/muc#admin";
/// Owner use cases (XEP-0045 §10).
pub const MUC_OWNER: &str = "http://jabber.org/protocol/muc#owner";
/// The `FORM_TYPE` of the room configuration form (XEP-0045 §15.5.3).
pub const ROOMCONFIG: &str = "http://jabber.org/protocol/muc#roomconfig";
/// The `FORM_TYPE` of extended room information (XEP-0045 §15.5.4).
pub const ROOMINFO: &str = "http://jabber.org/protocol/muc#roominfo";
/// The `FORM_TYPE` of the registration form (XEP-0045 §15.5.2).
pub const REGISTER_FORM: &str = "http://jabber.org/protocol/muc#register";
/// Data forms (XEP-0004).
pub const DATA: &str = "jabber:x:data";
/// In-band registration (XEP-0077), used for room registration.
pub const REGISTER: &str = "jabber:iq:register";
/// Delayed delivery stamps on history (XEP-0203).
pub const DELAY: &str = "urn:xmpp:delay";
/// Anonymous unique occupant identifiers (XEP-0421).
pub const OCCUPANT_ID: &str = "urn:xmpp:occupant-id:0";
/// Stanza error conditions (RFC 6120 §8.3).
pub const STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
/// The client namespace stanzas are written in.
pub const CLIENT: &str = "jabber:client";
/// Service discovery information (XEP-0030).
pub const DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";
/// Service discovery items (XEP-0030).
pub const DISCO_ITEMS: &str = "http://jabber.org/protocol/disco#items";
