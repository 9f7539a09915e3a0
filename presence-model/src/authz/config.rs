//! Service-wide authorization settings and the roster/watcher limits.
//!
//! Implements REQUIREMENTS §4 "Authorization" (the auto-authorization
//! switch) and "Subscriptions and limits", and §1 "Roster" ("Maximum
//! Contact List Size", "Maximum Watchers", batch truncation).
//!
//! # Defaults chosen where the product is silent
//!
//! | setting | default | source |
//! |---|---|---|
//! | `auto_authorize` | on | product, "on by default" |
//! | `availability_sharing` | on | product, "on by default" |
//! | `instant_messaging` | on | product, "on by default" |
//! | `max_contacts` | 200 | product [CAG]; [SRND] says 150, [CUP] unlimited (conflict §8.2) |
//! | `max_watchers` | 200 | product [CAG] |
//! | ad-hoc max per watcher | 100 | not stated (§8.6): chosen |
//! | ad-hoc TTL | 3600 s | not stated (§8.6): chosen |
//! | ad-hoc table bound | 100 000 | not in the product: memory bound |
//! | entries per policy list | 1000 | not in the product: memory/CPU bound |

use std::collections::BTreeSet;
use std::time::Duration;

use crate::address::Domain;
use crate::authz::AuthzError;

/// A count limit with the product's "No Limit" option.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Limit {
    /// At most this many.
    Max(u32),
    /// The "No Limit" option.
    NoLimit,
}

impl Limit {
    /// Reads a product setting where `0` means unlimited (the ad-hoc
    /// subscription maximum is documented that way).
    pub fn from_zero_unlimited(n: u32) -> Self {
        if n == 0 { Self::NoLimit } else { Self::Max(n) }
    }

    /// The bound, or `None` for [`Limit::NoLimit`].
    pub fn max(self) -> Option<u32> {
        match self {
            Self::Max(n) => Some(n),
            Self::NoLimit => None,
        }
    }

    /// Whether `current` items already fill the limit, so that not one
    /// more may be added.
    pub fn is_reached(self, current: usize) -> bool {
        match self {
            Self::Max(n) => current >= widen(n),
            Self::NoLimit => false,
        }
    }

    /// How many more items fit after `current`; `None` when unlimited.
    pub fn remaining(self, current: usize) -> Option<usize> {
        match self {
            Self::Max(n) => Some(widen(n).saturating_sub(current)),
            Self::NoLimit => None,
        }
    }

    /// How many of `requested` new items a batch add may take when
    /// `current` are already present: the batch is truncated at the
    /// limit, never refused as a whole. With a limit of 200, 195 present
    /// and 6 requested, 5 are admitted.
    pub fn admit(self, current: usize, requested: usize) -> usize {
        match self.remaining(current) {
            Some(room) => requested.min(room),
            None => requested,
        }
    }
}

/// A `u32` limit as a `usize` count, saturating on narrow targets.
fn widen(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Settings of the ad-hoc subscription table (subscriptions to users who
/// are not on the watcher's roster).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdhocConfig {
    /// Most ad-hoc subscriptions one watcher may hold at once. The product
    /// setting uses `0 = unlimited`; see [`Limit::from_zero_unlimited`].
    /// Default 100 (chosen: the product states no default).
    pub max_per_watcher: Limit,
    /// Lifetime of an ad-hoc subscription, after which it is dropped;
    /// renewing it restarts the clock. Default 3600 s (chosen).
    pub ttl: Duration,
    /// Service-wide bound on table entries, so that an unlimited
    /// per-watcher setting still cannot exhaust memory. Default 100 000.
    pub max_total: usize,
}

impl Default for AdhocConfig {
    fn default() -> Self {
        Self {
            max_per_watcher: Limit::Max(100),
            ttl: Duration::from_secs(3600),
            max_total: 100_000,
        }
    }
}

/// Bounds on a user's own policy, which users edit from their clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyLimits {
    /// Most entries in each of the allowed and blocked lists.
    /// Default 1000 (chosen: the product states none).
    pub max_list_entries: usize,
}

impl Default for PolicyLimits {
    fn default() -> Self {
        Self {
            max_list_entries: 1000,
        }
    }
}

/// Service-wide authorization settings, shared by the XMPP and SIP sides.
///
/// Build with [`ServiceConfig::new`] (or `default()`, which hosts no
/// domain) and adjust the public fields.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceConfig {
    /// "Allow users to view the availability of other users without being
    /// prompted for approval" — auto-authorization for local watchers,
    /// XMPP and SIP alike. On by default. When off, local XMPP requests go
    /// to the user's client and local SIP watchers cannot be served.
    pub auto_authorize: bool,
    /// "Enable availability sharing". When off, users see only their own
    /// status. On by default.
    pub availability_sharing: bool,
    /// "Enable instant messaging". When off, no IM is delivered. On by
    /// default.
    pub instant_messaging: bool,
    /// The domains this service hosts. A watcher from any other domain is
    /// external (federated), and auto-authorization does not apply to it.
    pub local_domains: BTreeSet<Domain>,
    /// "Maximum Contact List Size": personal plus enterprise-group
    /// contacts. Default 200.
    pub max_contacts: Limit,
    /// "Maximum Watchers": how many users may have one user on their
    /// contact list. Default 200.
    pub max_watchers: Limit,
    /// Ad-hoc subscription settings.
    pub adhoc: AdhocConfig,
    /// Bounds on users' allowed and blocked lists.
    pub policy_limits: PolicyLimits,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            auto_authorize: true,
            availability_sharing: true,
            instant_messaging: true,
            local_domains: BTreeSet::new(),
            max_contacts: Limit::Max(200),
            max_watchers: Limit::Max(200),
            adhoc: AdhocConfig::default(),
            policy_limits: PolicyLimits::default(),
        }
    }
}

impl ServiceConfig {
    /// The product defaults, hosting `local_domains`.
    pub fn new(local_domains: impl IntoIterator<Item = Domain>) -> Self {
        Self {
            local_domains: local_domains.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Whether `domain` is hosted by this service (exact match).
    pub fn is_local(&self, domain: &Domain) -> bool {
        self.local_domains.contains(domain)
    }

    /// How many of `requested` contacts a batch add to a contact list that
    /// already holds `current` may take ("195 … add 6 … adds five").
    pub fn admit_contacts(&self, current: usize, requested: usize) -> usize {
        self.max_contacts.admit(current, requested)
    }

    /// Checks that a user with `adder_contacts` contacts may add one more
    /// contact whose watcher count is `target_watchers` (`None` when the
    /// target lives on another service and its count is unknown here).
    ///
    /// At either limit the add is refused: "the user cannot add contacts
    /// and others cannot add the user".
    pub fn check_contact_add(
        &self,
        adder_contacts: usize,
        target_watchers: Option<usize>,
    ) -> Result<(), AuthzError> {
        if let Limit::Max(max) = self.max_contacts
            && self.max_contacts.is_reached(adder_contacts)
        {
            return Err(AuthzError::ContactLimitReached { max });
        }
        if let (Limit::Max(max), Some(count)) = (self.max_watchers, target_watchers)
            && self.max_watchers.is_reached(count)
        {
            return Err(AuthzError::WatcherLimitReached { max });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_defaults() {
        let cfg = ServiceConfig::default();
        assert!(cfg.auto_authorize);
        assert!(cfg.availability_sharing);
        assert!(cfg.instant_messaging);
        assert_eq!(cfg.max_contacts, Limit::Max(200));
        assert_eq!(cfg.max_watchers, Limit::Max(200));
        assert_eq!(cfg.adhoc.max_per_watcher, Limit::Max(100));
        assert_eq!(cfg.adhoc.ttl, Duration::from_secs(3600));
    }

    #[test]
    fn batch_add_is_truncated_at_the_limit() {
        let cfg = ServiceConfig::default();
        assert_eq!(cfg.admit_contacts(195, 6), 5);
        assert_eq!(cfg.admit_contacts(200, 1), 0);
        assert_eq!(cfg.admit_contacts(250, 3), 0);
        assert_eq!(cfg.admit_contacts(0, 7), 7);
        assert_eq!(Limit::NoLimit.admit(1_000_000, 9), 9);
    }

    #[test]
    fn zero_means_unlimited_for_product_settings() {
        assert_eq!(Limit::from_zero_unlimited(0), Limit::NoLimit);
        assert_eq!(Limit::from_zero_unlimited(7), Limit::Max(7));
    }

    #[test]
    fn contact_add_refused_at_either_limit() {
        let cfg = ServiceConfig::default();
        assert_eq!(cfg.check_contact_add(199, Some(199)), Ok(()));
        assert_eq!(
            cfg.check_contact_add(200, Some(0)),
            Err(AuthzError::ContactLimitReached { max: 200 })
        );
        assert_eq!(
            cfg.check_contact_add(0, Some(200)),
            Err(AuthzError::WatcherLimitReached { max: 200 })
        );
        assert_eq!(cfg.check_contact_add(0, None), Ok(()));
        let unlimited = ServiceConfig {
            max_contacts: Limit::NoLimit,
            max_watchers: Limit::NoLimit,
            ..ServiceConfig::default()
        };
        assert_eq!(unlimited.check_contact_add(10_000, Some(10_000)), Ok(()));
    }
}
