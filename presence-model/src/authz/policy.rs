//! A user's own authorization policy: allowed list, blocked list, default
//! policy and the "ask me" option for external contacts.
//!
//! Implements REQUIREMENTS §4 "Authorization", *User policy*. The same
//! policy gates instant messages and availability.
//!
//! # Matching
//!
//! - A user entry matches that one address; addresses compare
//!   case-insensitively (see [`crate::address`]).
//! - A domain entry matches every user of **exactly** that domain.
//!   Subdomains do not match: an entry for `example.com` says nothing
//!   about `chat.example.com`. Chat-room aliases and separately run
//!   services live on subdomains, and a user who wants them covered adds
//!   them as entries of their own, so no entry reaches further than it
//!   reads.
//! - When both lists match, the more specific entry wins: a user entry
//!   beats a domain entry, so "block `example.com` but allow
//!   `friend@example.com`" and "allow `example.com` but block
//!   `pest@example.com`" both work. At equal specificity the blocked list
//!   wins. (The mutators below keep one entry out of both lists, so this
//!   last case arises only from policies assembled elsewhere.)

use core::fmt;
use core::str::FromStr;
use std::collections::BTreeSet;

use crate::address::{Address, Domain};
use crate::authz::{AuthzError, PolicyLimits};

/// What happens to a contact that neither list names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DefaultPolicy {
    /// "Allow all": the product default.
    #[default]
    AllowAll,
    /// "Block all" ("Block Everyone"): unlisted contacts see the user as
    /// unavailable and cannot send IM.
    BlockAll,
}

/// One entry of an allowed or blocked list.
///
/// The text form (see [`FromStr`] and [`fmt::Display`]) is
/// `local@domain` for a user and the bare domain for a domain, so that
/// an application can store lists as lines of text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entry {
    /// One user.
    User(Address),
    /// Every user of exactly this domain.
    Domain(Domain),
}

impl Entry {
    /// Whether this entry names `who`.
    pub fn matches(&self, who: &Address) -> bool {
        match self {
            Self::User(a) => a == who,
            Self::Domain(d) => d == who.domain(),
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(a) => a.fmt(f),
            Self::Domain(d) => d.fmt(f),
        }
    }
}

impl FromStr for Entry {
    type Err = AuthzError;

    /// Text with an `@` is a user, text without one a domain.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains('@') {
            Address::parse(s).map(Self::User)
        } else {
            Domain::parse(s).map(Self::Domain)
        }
    }
}

/// Which list, if any, decides about a contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListMatch {
    /// The blocked list decides.
    Blocked,
    /// The allowed list decides.
    Allowed,
    /// Neither list names the contact.
    Neither,
}

/// One list (allowed or blocked), kept as two sets so that a lookup needs
/// no allocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct List {
    users: BTreeSet<Address>,
    domains: BTreeSet<Domain>,
}

impl List {
    fn len(&self) -> usize {
        self.users.len().saturating_add(self.domains.len())
    }

    fn contains(&self, entry: &Entry) -> bool {
        match entry {
            Entry::User(a) => self.users.contains(a),
            Entry::Domain(d) => self.domains.contains(d),
        }
    }

    fn insert(&mut self, entry: Entry) -> bool {
        match entry {
            Entry::User(a) => self.users.insert(a),
            Entry::Domain(d) => self.domains.insert(d),
        }
    }

    fn remove(&mut self, entry: &Entry) -> bool {
        match entry {
            Entry::User(a) => self.users.remove(a),
            Entry::Domain(d) => self.domains.remove(d),
        }
    }

    fn iter(&self) -> impl Iterator<Item = Entry> + '_ {
        self.users
            .iter()
            .cloned()
            .map(Entry::User)
            .chain(self.domains.iter().cloned().map(Entry::Domain))
    }
}

/// One user's authorization policy.
///
/// Lists are sets: adding an entry twice keeps one copy, and adding an
/// entry to one list takes it off the other, the way moving a contact
/// between "allowed" and "blocked" in a client works.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserPolicy {
    default: DefaultPolicy,
    ask_me_for_external: bool,
    allowed: List,
    blocked: List,
}

impl UserPolicy {
    /// An empty policy with the given default and "ask me" off.
    pub fn new(default: DefaultPolicy) -> Self {
        Self {
            default,
            ..Self::default()
        }
    }

    /// The default policy for contacts neither list names.
    pub fn default_policy(&self) -> DefaultPolicy {
        self.default
    }

    /// Changes the default policy.
    pub fn set_default_policy(&mut self, default: DefaultPolicy) {
        self.default = default;
    }

    /// Whether requests from external contacts that neither list names go
    /// to the user ("ask me"). Off by default.
    pub fn ask_me_for_external(&self) -> bool {
        self.ask_me_for_external
    }

    /// Turns "ask me" for external contacts on or off.
    pub fn set_ask_me_for_external(&mut self, on: bool) {
        self.ask_me_for_external = on;
    }

    /// The allowed list: users first, then domains, each sorted.
    pub fn allowed(&self) -> impl Iterator<Item = Entry> + '_ {
        self.allowed.iter()
    }

    /// The blocked list: users first, then domains, each sorted.
    pub fn blocked(&self) -> impl Iterator<Item = Entry> + '_ {
        self.blocked.iter()
    }

    /// Puts `entry` on the allowed list (and off the blocked list).
    /// Returns whether the allowed list changed.
    ///
    /// Fails, changing nothing, when the allowed list already holds
    /// `limits.max_list_entries` entries.
    pub fn allow(&mut self, entry: Entry, limits: &PolicyLimits) -> Result<bool, AuthzError> {
        insert_bounded(&mut self.allowed, &mut self.blocked, entry, limits)
    }

    /// Puts `entry` on the blocked list (and off the allowed list).
    /// Returns whether the blocked list changed.
    ///
    /// Fails, changing nothing, when the blocked list already holds
    /// `limits.max_list_entries` entries.
    pub fn block(&mut self, entry: Entry, limits: &PolicyLimits) -> Result<bool, AuthzError> {
        insert_bounded(&mut self.blocked, &mut self.allowed, entry, limits)
    }

    /// Takes `entry` off whichever list holds it. Returns whether it was
    /// on one.
    pub fn remove(&mut self, entry: &Entry) -> bool {
        let a = self.allowed.remove(entry);
        let b = self.blocked.remove(entry);
        a || b
    }

    /// Which list decides about `who`, by the precedence in the module
    /// documentation: user entries before domain entries, blocked before
    /// allowed.
    pub fn list_match(&self, who: &Address) -> ListMatch {
        if self.blocked.users.contains(who) {
            ListMatch::Blocked
        } else if self.allowed.users.contains(who) {
            ListMatch::Allowed
        } else if self.blocked.domains.contains(who.domain()) {
            ListMatch::Blocked
        } else if self.allowed.domains.contains(who.domain()) {
            ListMatch::Allowed
        } else {
            ListMatch::Neither
        }
    }
}

fn insert_bounded(
    into: &mut List,
    other: &mut List,
    entry: Entry,
    limits: &PolicyLimits,
) -> Result<bool, AuthzError> {
    if into.contains(&entry) {
        return Ok(false);
    }
    if into.len() >= limits.max_list_entries {
        return Err(AuthzError::PolicyListFull {
            max: limits.max_list_entries,
        });
    }
    other.remove(&entry);
    into.insert(entry);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    fn entry(s: &str) -> Entry {
        s.parse().unwrap()
    }

    #[test]
    fn entry_text_form_round_trips() {
        assert_eq!(
            entry("Nurse@Verona.Example"),
            Entry::User(addr("nurse@verona.example"))
        );
        assert_eq!(
            entry("Verona.Example"),
            Entry::Domain(Domain::parse("verona.example").unwrap())
        );
        for text in ["nurse@verona.example", "verona.example"] {
            assert_eq!(entry(text).to_string(), text);
        }
        assert!("".parse::<Entry>().is_err());
        assert!("a b".parse::<Entry>().is_err());
    }

    #[test]
    fn domain_entry_matches_exact_domain_only() {
        let e = entry("verona.example");
        assert!(e.matches(&addr("tybalt@verona.example")));
        assert!(e.matches(&addr("tybalt@VERONA.example")));
        assert!(!e.matches(&addr("tybalt@chat.verona.example")));
        assert!(!e.matches(&addr("tybalt@verona.example.net")));
    }

    #[test]
    fn user_entry_beats_domain_entry_in_both_directions() {
        let limits = PolicyLimits::default();
        let mut p = UserPolicy::default();
        p.block(entry("capulet.example"), &limits).unwrap();
        p.allow(entry("juliet@capulet.example"), &limits).unwrap();
        p.allow(entry("montague.example"), &limits).unwrap();
        p.block(entry("tybalt@montague.example"), &limits).unwrap();
        assert_eq!(
            p.list_match(&addr("juliet@capulet.example")),
            ListMatch::Allowed
        );
        assert_eq!(
            p.list_match(&addr("nurse@capulet.example")),
            ListMatch::Blocked
        );
        assert_eq!(
            p.list_match(&addr("tybalt@montague.example")),
            ListMatch::Blocked
        );
        assert_eq!(
            p.list_match(&addr("romeo@montague.example")),
            ListMatch::Allowed
        );
        assert_eq!(
            p.list_match(&addr("friar@church.example")),
            ListMatch::Neither
        );
    }

    #[test]
    fn blocked_list_wins_a_tie() {
        let e = entry("paris@verona.example");
        let mut p = UserPolicy::default();
        p.allowed.insert(e.clone());
        p.blocked.insert(e);
        assert_eq!(
            p.list_match(&addr("paris@verona.example")),
            ListMatch::Blocked
        );
    }

    #[test]
    fn moving_an_entry_between_lists() {
        let limits = PolicyLimits::default();
        let mut p = UserPolicy::default();
        let e = entry("paris@verona.example");
        assert_eq!(p.block(e.clone(), &limits), Ok(true));
        assert_eq!(p.block(e.clone(), &limits), Ok(false));
        assert_eq!(p.allow(e.clone(), &limits), Ok(true));
        assert_eq!(p.blocked().count(), 0);
        assert_eq!(p.allowed().collect::<Vec<_>>(), vec![e.clone()]);
        assert!(p.remove(&e));
        assert!(!p.remove(&e));
        assert_eq!(p, UserPolicy::default());
    }

    #[test]
    fn list_size_is_bounded_and_a_refused_add_changes_nothing() {
        let limits = PolicyLimits {
            max_list_entries: 2,
        };
        let mut p = UserPolicy::default();
        p.block(entry("a.example"), &limits).unwrap();
        p.block(entry("b.example"), &limits).unwrap();
        p.allow(entry("c.example"), &limits).unwrap();
        let before = p.clone();
        assert_eq!(
            p.block(entry("c.example"), &limits),
            Err(AuthzError::PolicyListFull { max: 2 })
        );
        assert_eq!(p, before);
        // Re-adding an entry already present is not a growth.
        assert_eq!(p.block(entry("a.example"), &limits), Ok(false));
    }
}
