//! Where the hub keeps what must survive a restart: rosters (with pending
//! subscription requests) and offline messages. Authorization policies
//! live behind [`presence_model::authz::PolicyStore`].
//!
//! [`InMemoryRosterStore`] and [`InMemoryOfflineStore`] serve tests and
//! small servers; a persistent server implements the traits over its
//! database.

use std::collections::{HashMap, VecDeque};

use crate::im::Roster;
use crate::jid::Jid;
use crate::xml::Element;

/// A storage operation failed (I/O, database, encoding).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("storage: {0}")]
pub struct StoreError(pub String);

/// Storage of rosters, one per user (bare JID).
pub trait RosterStore {
    /// The roster of `user`; an empty one when none is stored.
    fn load(&self, user: &Jid) -> Result<Roster, StoreError>;
    /// Replaces the stored roster of `user`.
    fn save(&mut self, user: &Jid, roster: &Roster) -> Result<(), StoreError>;
}

/// Storage of messages for users who are offline (RFC 6121 §8.5.2.2.1,
/// XEP-0160). The hub enforces the limits before calling
/// [`OfflineStore::push`].
pub trait OfflineStore {
    /// How many messages are stored for `user`.
    fn count(&self, user: &Jid) -> Result<usize, StoreError>;
    /// How many messages are stored in all.
    fn total(&self) -> Result<usize, StoreError>;
    /// Appends a message (already stamped with its delay) for `user`.
    fn push(&mut self, user: &Jid, message: Element) -> Result<(), StoreError>;
    /// Removes and returns every message of `user`, oldest first.
    fn take_all(&mut self, user: &Jid) -> Result<Vec<Element>, StoreError>;
}

/// Whether an account exists, for the "no such user" rules (RFC 6121
/// §8.5.1). Implemented for closures.
pub trait Accounts {
    /// Whether `user` (a bare JID of the served domain) has an account.
    fn exists(&self, user: &Jid) -> bool;
}

impl<F: Fn(&Jid) -> bool> Accounts for F {
    fn exists(&self, user: &Jid) -> bool {
        self(user)
    }
}

/// A [`RosterStore`] in a hash map.
#[derive(Clone, Debug, Default)]
pub struct InMemoryRosterStore {
    rosters: HashMap<Jid, Roster>,
}

impl InMemoryRosterStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl RosterStore for InMemoryRosterStore {
    fn load(&self, user: &Jid) -> Result<Roster, StoreError> {
        Ok(self.rosters.get(user).cloned().unwrap_or_default())
    }

    fn save(&mut self, user: &Jid, roster: &Roster) -> Result<(), StoreError> {
        self.rosters.insert(user.clone(), roster.clone());
        Ok(())
    }
}

/// An [`OfflineStore`] in a hash map of queues.
#[derive(Clone, Debug, Default)]
pub struct InMemoryOfflineStore {
    queues: HashMap<Jid, VecDeque<Element>>,
    total: usize,
}

impl InMemoryOfflineStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl OfflineStore for InMemoryOfflineStore {
    fn count(&self, user: &Jid) -> Result<usize, StoreError> {
        Ok(self.queues.get(user).map_or(0, VecDeque::len))
    }

    fn total(&self) -> Result<usize, StoreError> {
        Ok(self.total)
    }

    fn push(&mut self, user: &Jid, message: Element) -> Result<(), StoreError> {
        self.queues
            .entry(user.clone())
            .or_default()
            .push_back(message);
        self.total = self.total.saturating_add(1);
        Ok(())
    }

    fn take_all(&mut self, user: &Jid) -> Result<Vec<Element>, StoreError> {
        let q = self.queues.remove(user).unwrap_or_default();
        self.total = self.total.saturating_sub(q.len());
        Ok(q.into())
    }
}
