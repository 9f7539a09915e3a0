//! Ad-hoc subscriptions: a watcher following the presence of a user who is
//! not on its contact list (a search result, a chat participant).
//!
//! Implements REQUIREMENTS §4 "Subscriptions and limits": ad-hoc
//! subscriptions have a maximum count ("0 = unlimited") and a time to live
//! after which they are dropped. The product gives no defaults; see
//! [`AdhocConfig`] for the chosen ones.
//!
//! The table is Sans-IO: time comes in as an [`Instant`] argument. After
//! every call, drain [`AdhocSubscriptions::poll_expired`] and arm a timer
//! for [`AdhocSubscriptions::poll_timeout`]; when it fires, call
//! [`AdhocSubscriptions::handle_timeout`]. A spurious or early call is a
//! no-op.
//!
//! Authorization is not this table's business: decide the request with
//! [`crate::authz::authorize_subscription`] first, and record it here
//! only when it is granted.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Instant;

use crate::address::Address;
use crate::authz::{AdhocConfig, AuthzError};

/// One ad-hoc subscription: who watches whom.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AdhocKey {
    /// The watcher.
    pub watcher: Address,
    /// The user being watched.
    pub presentity: Address,
}

/// The outcome of a granted [`AdhocSubscriptions::subscribe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdhocGrant {
    /// When the subscription will be dropped; `None` only when the TTL is
    /// so long that the deadline cannot be represented.
    pub expires: Option<Instant>,
    /// Whether an existing subscription was renewed rather than a new one
    /// created.
    pub renewed: bool,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    expires: Option<Instant>,
    seq: u64,
}

/// The service's table of ad-hoc subscriptions, keyed by
/// (watcher, presentity).
#[derive(Debug)]
pub struct AdhocSubscriptions {
    cfg: AdhocConfig,
    slots: HashMap<AdhocKey, Slot>,
    per_watcher: HashMap<Address, u32>,
    by_presentity: HashMap<Address, BTreeSet<Address>>,
    deadlines: BTreeMap<(Instant, u64), AdhocKey>,
    next_seq: u64,
    expired: VecDeque<AdhocKey>,
}

impl AdhocSubscriptions {
    /// An empty table with the given settings.
    pub fn new(cfg: AdhocConfig) -> Self {
        Self {
            cfg,
            slots: HashMap::new(),
            per_watcher: HashMap::new(),
            by_presentity: HashMap::new(),
            deadlines: BTreeMap::new(),
            next_seq: 0,
            expired: VecDeque::new(),
        }
    }

    /// The settings the table was built with.
    pub fn config(&self) -> &AdhocConfig {
        &self.cfg
    }

    /// Creates, or renews, the subscription of `watcher` to `presentity`
    /// at `now`. A renewal restarts the time to live and does not count
    /// against the limits again.
    ///
    /// Fails with [`AuthzError::AdhocLimitReached`] when the watcher holds
    /// the maximum already, and with [`AuthzError::AdhocTableFull`] when
    /// the service-wide bound is reached; the table is then unchanged.
    pub fn subscribe(
        &mut self,
        now: Instant,
        watcher: Address,
        presentity: Address,
    ) -> Result<AdhocGrant, AuthzError> {
        let key = AdhocKey {
            watcher,
            presentity,
        };
        let expires = now.checked_add(self.cfg.ttl);
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        if let Some(slot) = self.slots.get_mut(&key) {
            if let Some(old) = slot.expires {
                self.deadlines.remove(&(old, slot.seq));
            }
            *slot = Slot { expires, seq };
            if let Some(at) = expires {
                self.deadlines.insert((at, seq), key);
            }
            return Ok(AdhocGrant {
                expires,
                renewed: true,
            });
        }
        let held = self.per_watcher.get(&key.watcher).copied().unwrap_or(0);
        if let Some(max) = self.cfg.max_per_watcher.max()
            && self
                .cfg
                .max_per_watcher
                .is_reached(usize::try_from(held).unwrap_or(usize::MAX))
        {
            return Err(AuthzError::AdhocLimitReached { max });
        }
        if self.slots.len() >= self.cfg.max_total {
            return Err(AuthzError::AdhocTableFull {
                max: self.cfg.max_total,
            });
        }
        self.per_watcher
            .insert(key.watcher.clone(), held.saturating_add(1));
        self.by_presentity
            .entry(key.presentity.clone())
            .or_default()
            .insert(key.watcher.clone());
        if let Some(at) = expires {
            self.deadlines.insert((at, seq), key.clone());
        }
        self.slots.insert(key, Slot { expires, seq });
        Ok(AdhocGrant {
            expires,
            renewed: false,
        })
    }

    /// Ends the subscription of `watcher` to `presentity` at the
    /// watcher's request. Returns whether it existed. No expiry event is
    /// produced for it.
    pub fn unsubscribe(&mut self, watcher: &Address, presentity: &Address) -> bool {
        let key = AdhocKey {
            watcher: watcher.clone(),
            presentity: presentity.clone(),
        };
        match self.slots.remove(&key) {
            Some(slot) => {
                if let Some(at) = slot.expires {
                    self.deadlines.remove(&(at, slot.seq));
                }
                self.forget_indexes(&key);
                true
            }
            None => false,
        }
    }

    /// Whether `watcher` holds a live subscription to `presentity` at
    /// `now` (one whose deadline has passed counts as gone even before
    /// [`Self::handle_timeout`] runs).
    pub fn is_subscribed(&self, now: Instant, watcher: &Address, presentity: &Address) -> bool {
        let key = AdhocKey {
            watcher: watcher.clone(),
            presentity: presentity.clone(),
        };
        self.slots
            .get(&key)
            .is_some_and(|slot| slot.expires.is_none_or(|at| now < at))
    }

    /// The ad-hoc watchers of `presentity`, for presence fan-out.
    pub fn watchers_of(&self, presentity: &Address) -> impl Iterator<Item = &Address> {
        self.by_presentity.get(presentity).into_iter().flatten()
    }

    /// How many ad-hoc subscriptions `watcher` holds.
    pub fn count_for(&self, watcher: &Address) -> u32 {
        self.per_watcher.get(watcher).copied().unwrap_or(0)
    }

    /// How many subscriptions the table holds.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Drops every subscription whose deadline is at or before `now`,
    /// queueing each for [`Self::poll_expired`].
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(entry) = self.deadlines.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            self.slots.remove(&key);
            self.forget_indexes(&key);
            self.expired.push_back(key);
        }
    }

    /// The next subscription dropped for age; the application tells the
    /// watcher (XMPP `unavailable`/`unsubscribed`, SIP NOTIFY with
    /// `Subscription-State: terminated;reason=timeout`).
    pub fn poll_expired(&mut self) -> Option<AdhocKey> {
        self.expired.pop_front()
    }

    /// When [`Self::handle_timeout`] next has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.first_key_value().map(|((at, _), _)| *at)
    }

    fn forget_indexes(&mut self, key: &AdhocKey) {
        if let Some(n) = self.per_watcher.get_mut(&key.watcher) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_watcher.remove(&key.watcher);
            }
        }
        if let Some(set) = self.by_presentity.get_mut(&key.presentity) {
            set.remove(&key.watcher);
            if set.is_empty() {
                self.by_presentity.remove(&key.presentity);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::authz::Limit;

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    fn cfg(max: u32, ttl_secs: u64) -> AdhocConfig {
        AdhocConfig {
            max_per_watcher: Limit::from_zero_unlimited(max),
            ttl: Duration::from_secs(ttl_secs),
            max_total: 1000,
        }
    }

    #[test]
    fn subscription_is_dropped_after_its_ttl() {
        let t0 = Instant::now();
        let mut table = AdhocSubscriptions::new(cfg(0, 60));
        let (w, p) = (
            addr("mercutio@verona.example"),
            addr("rosaline@verona.example"),
        );
        let grant = table.subscribe(t0, w.clone(), p.clone()).unwrap();
        assert_eq!(grant.expires, Some(t0 + Duration::from_secs(60)));
        assert!(!grant.renewed);
        assert_eq!(table.poll_timeout(), grant.expires);
        assert!(table.is_subscribed(t0 + Duration::from_secs(59), &w, &p));
        assert!(!table.is_subscribed(t0 + Duration::from_secs(60), &w, &p));

        table.handle_timeout(t0 + Duration::from_secs(59));
        assert_eq!(table.poll_expired(), None);
        assert_eq!(table.len(), 1);

        table.handle_timeout(t0 + Duration::from_secs(60));
        assert_eq!(
            table.poll_expired(),
            Some(AdhocKey {
                watcher: w.clone(),
                presentity: p.clone()
            })
        );
        assert_eq!(table.poll_expired(), None);
        assert!(table.is_empty());
        assert_eq!(table.poll_timeout(), None);
        assert_eq!(table.count_for(&w), 0);
        assert_eq!(table.watchers_of(&p).count(), 0);
    }

    #[test]
    fn renewal_restarts_the_clock_without_counting_twice() {
        let t0 = Instant::now();
        let mut table = AdhocSubscriptions::new(cfg(1, 60));
        let (w, p) = (
            addr("mercutio@verona.example"),
            addr("rosaline@verona.example"),
        );
        table.subscribe(t0, w.clone(), p.clone()).unwrap();
        let t1 = t0 + Duration::from_secs(50);
        let grant = table.subscribe(t1, w.clone(), p.clone()).unwrap();
        assert!(grant.renewed);
        assert_eq!(table.count_for(&w), 1);
        table.handle_timeout(t0 + Duration::from_secs(60));
        assert_eq!(table.poll_expired(), None);
        assert!(table.is_subscribed(t0 + Duration::from_secs(100), &w, &p));
        assert_eq!(table.poll_timeout(), Some(t1 + Duration::from_secs(60)));
    }

    #[test]
    fn per_watcher_maximum_is_enforced_and_zero_is_unlimited() {
        let t0 = Instant::now();
        let w = addr("benvolio@verona.example");
        let mut capped = AdhocSubscriptions::new(cfg(2, 60));
        capped
            .subscribe(t0, w.clone(), addr("a@verona.example"))
            .unwrap();
        capped
            .subscribe(t0, w.clone(), addr("b@verona.example"))
            .unwrap();
        assert_eq!(
            capped.subscribe(t0, w.clone(), addr("c@verona.example")),
            Err(AuthzError::AdhocLimitReached { max: 2 })
        );
        assert_eq!(capped.len(), 2);
        // Another watcher has its own allowance.
        capped
            .subscribe(
                t0,
                addr("balthasar@verona.example"),
                addr("c@verona.example"),
            )
            .unwrap();
        // Freeing one makes room again.
        assert!(capped.unsubscribe(&w, &addr("a@verona.example")));
        assert!(!capped.unsubscribe(&w, &addr("a@verona.example")));
        capped
            .subscribe(t0, w.clone(), addr("c@verona.example"))
            .unwrap();

        let mut unlimited = AdhocSubscriptions::new(cfg(0, 60));
        for i in 0..300 {
            let p = addr(&format!("u{i}@verona.example"));
            unlimited.subscribe(t0, w.clone(), p).unwrap();
        }
        assert_eq!(unlimited.count_for(&w), 300);
    }

    #[test]
    fn service_wide_bound_holds_even_when_unlimited_per_watcher() {
        let t0 = Instant::now();
        let mut table = AdhocSubscriptions::new(AdhocConfig {
            max_total: 2,
            ..cfg(0, 60)
        });
        table
            .subscribe(t0, addr("a@x.example"), addr("p@x.example"))
            .unwrap();
        table
            .subscribe(t0, addr("b@x.example"), addr("p@x.example"))
            .unwrap();
        assert_eq!(
            table.subscribe(t0, addr("c@x.example"), addr("p@x.example")),
            Err(AuthzError::AdhocTableFull { max: 2 })
        );
        let mut watchers: Vec<_> = table.watchers_of(&addr("p@x.example")).cloned().collect();
        watchers.sort();
        assert_eq!(watchers, vec![addr("a@x.example"), addr("b@x.example")]);
    }

    #[test]
    fn unsubscribe_produces_no_expiry_and_clears_the_timer() {
        let t0 = Instant::now();
        let mut table = AdhocSubscriptions::new(cfg(0, 60));
        let (w, p) = (addr("a@x.example"), addr("p@x.example"));
        table.subscribe(t0, w.clone(), p.clone()).unwrap();
        assert!(table.unsubscribe(&w, &p));
        assert_eq!(table.poll_timeout(), None);
        table.handle_timeout(t0 + Duration::from_secs(3600));
        assert_eq!(table.poll_expired(), None);
    }

    #[test]
    fn expiries_come_out_in_deadline_order() {
        let t0 = Instant::now();
        let mut table = AdhocSubscriptions::new(cfg(0, 10));
        let w = addr("a@x.example");
        for (i, offset) in [5u64, 0, 3].into_iter().enumerate() {
            let p = addr(&format!("p{i}@x.example"));
            table
                .subscribe(t0 + Duration::from_secs(offset), w.clone(), p)
                .unwrap();
        }
        table.handle_timeout(t0 + Duration::from_secs(100));
        let order: Vec<_> = std::iter::from_fn(|| table.poll_expired())
            .map(|k| k.presentity.to_string())
            .collect();
        assert_eq!(order, ["p1@x.example", "p2@x.example", "p0@x.example"]);
    }
}
