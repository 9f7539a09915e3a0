//! Rosters (RFC 6121 §2): items with their subscription state (§3), the
//! roster version (§2.6) and the inbound subscription requests waiting
//! for the user's answer (§3.1.3).
//!
//! A [`Roster`] is plain data: the [`super::Hub`] changes it and a
//! [`super::RosterStore`] keeps it.

use std::collections::{BTreeMap, BTreeSet};

use crate::jid::Jid;
use crate::ns;
use crate::xml::Element;

/// The subscription state of a roster item (RFC 6121 §2.1.2.5), seen from
/// the roster's owner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Subscription {
    /// Neither side sees the other's presence.
    #[default]
    None,
    /// The owner sees the contact's presence.
    To,
    /// The contact sees the owner's presence.
    From,
    /// Both see each other's presence.
    Both,
}

impl Subscription {
    /// The attribute value (`none`, `to`, `from`, `both`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::To => "to",
            Self::From => "from",
            Self::Both => "both",
        }
    }

    /// Parses an attribute value; `remove` and unknown values give `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Self::None),
            "to" => Some(Self::To),
            "from" => Some(Self::From),
            "both" => Some(Self::Both),
            _ => None,
        }
    }

    /// Whether the owner receives the contact's presence (`to`/`both`).
    pub fn has_to(self) -> bool {
        matches!(self, Self::To | Self::Both)
    }

    /// Whether the contact receives the owner's presence (`from`/`both`).
    pub fn has_from(self) -> bool {
        matches!(self, Self::From | Self::Both)
    }

    /// This state with the `to` half set or cleared.
    #[must_use]
    pub fn with_to(self, on: bool) -> Self {
        Self::from_halves(on, self.has_from())
    }

    /// This state with the `from` half set or cleared.
    #[must_use]
    pub fn with_from(self, on: bool) -> Self {
        Self::from_halves(self.has_to(), on)
    }

    fn from_halves(to: bool, from: bool) -> Self {
        match (to, from) {
            (false, false) => Self::None,
            (true, false) => Self::To,
            (false, true) => Self::From,
            (true, true) => Self::Both,
        }
    }
}

/// One contact on a roster (RFC 6121 §2.1.2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RosterItem {
    /// The user's chosen name for the contact.
    pub name: Option<String>,
    /// The groups the item is in.
    pub groups: BTreeSet<String>,
    /// The subscription state.
    pub subscription: Subscription,
    /// The owner asked to see the contact's presence and has no answer
    /// yet ("pending out", `ask='subscribe'`, §2.1.2.2).
    pub ask: bool,
    /// The owner pre-approved a subscription request from the contact
    /// (§3.4, `approved='true'`).
    pub approved: bool,
}

/// A user's roster: items by bare JID, the version, and the inbound
/// subscription requests not answered yet ("pending in", kept across
/// sessions and restarts, §3.1.3).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roster {
    /// The roster version (§2.6); it grows by one at every change of the
    /// items.
    pub ver: u64,
    /// The items, keyed by the contact's bare JID.
    pub items: BTreeMap<Jid, RosterItem>,
    /// Pending inbound subscription requests: requester's bare JID and the
    /// request's `<status/>` text, if any.
    pub pending_in: BTreeMap<Jid, Option<String>>,
}

impl Roster {
    /// How many contacts see the owner's presence (items with
    /// `from`/`both`), not counting `except`: the "watchers" of the
    /// product's "Maximum Watchers".
    pub fn watcher_count(&self, except: Option<&Jid>) -> usize {
        self.items
            .iter()
            .filter(|(j, i)| i.subscription.has_from() && Some(*j) != except)
            .count()
    }

    /// The `<item/>` element for `jid` as it stands (or with
    /// `subscription='remove'` when absent), for a result or a push.
    pub fn item_element(&self, jid: &Jid) -> Element {
        match self.items.get(jid) {
            Some(item) => item_to_element(jid, item),
            None => Element::new("item", ns::ROSTER)
                .with_attr("jid", jid.as_str())
                .with_attr("subscription", "remove"),
        }
    }

    /// The whole roster as a `<query xmlns='jabber:iq:roster' ver='…'/>`.
    pub fn to_query(&self) -> Element {
        let mut q = Element::new("query", ns::ROSTER).with_attr("ver", self.ver.to_string());
        for (jid, item) in &self.items {
            q.append_child(item_to_element(jid, item));
        }
        q
    }

    /// Bumps the version after a change.
    pub fn bump(&mut self) {
        self.ver = self.ver.wrapping_add(1);
    }
}

fn item_to_element(jid: &Jid, item: &RosterItem) -> Element {
    let mut e = Element::new("item", ns::ROSTER)
        .with_attr("jid", jid.as_str())
        .with_attr("subscription", item.subscription.as_str());
    if let Some(name) = &item.name {
        e.set_attr("name", name.clone());
    }
    if item.ask {
        e.set_attr("ask", "subscribe");
    }
    if item.approved {
        e.set_attr("approved", "true");
    }
    for g in &item.groups {
        e.append_child(Element::new("group", ns::ROSTER).with_text(g));
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_compose_the_four_states() {
        assert_eq!(Subscription::None.with_to(true), Subscription::To);
        assert_eq!(Subscription::To.with_from(true), Subscription::Both);
        assert_eq!(Subscription::Both.with_to(false), Subscription::From);
        assert_eq!(Subscription::From.with_from(false), Subscription::None);
        for s in ["none", "to", "from", "both"] {
            assert_eq!(Subscription::parse(s).map(Subscription::as_str), Some(s));
        }
        assert_eq!(Subscription::parse("remove"), None);
    }

    #[test]
    fn query_lists_items_with_their_state() {
        let mut r = Roster::default();
        let mut groups = BTreeSet::new();
        groups.insert("Friends".to_owned());
        r.items.insert(
            Jid::new("nym@moon.example").unwrap(),
            RosterItem {
                name: Some("Nym".into()),
                groups,
                subscription: Subscription::To,
                ask: true,
                approved: false,
            },
        );
        r.bump();
        let q = r.to_query();
        assert_eq!(q.attr("ver"), Some("1"));
        let item = q.children().next().unwrap();
        assert_eq!(item.attr("subscription"), Some("to"));
        assert_eq!(item.attr("ask"), Some("subscribe"));
        assert_eq!(item.attr("name"), Some("Nym"));
        assert_eq!(item.children().next().unwrap().text(), "Friends");
        let gone = r.item_element(&Jid::new("x@moon.example").unwrap());
        assert_eq!(gone.attr("subscription"), Some("remove"));
        assert_eq!(r.watcher_count(None), 0);
    }
}
