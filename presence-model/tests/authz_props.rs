//! Properties of the authorization engine that must hold for every
//! combination of settings, policy and request.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use presence_model::address::{Address, Domain};
use presence_model::authz::{
    AdhocConfig, AdhocKey, AdhocSubscriptions, AuthzError, DefaultPolicy, Entry, Limit,
    PolicyLimits, Protocol, ServiceConfig, SubscriptionRequest, UserPolicy, Verdict, Visibility,
    authorize_subscription, may_send_im, visibility,
};
use proptest::prelude::*;

const DOMAINS: [&str; 4] = [
    "verona.example",
    "padua.example",
    "mantua.example",
    "chat.verona.example",
];
const LOCALS: [&str; 4] = ["juliet", "romeo", "tybalt", "nurse"];

fn any_address() -> impl Strategy<Value = Address> {
    (0..LOCALS.len(), 0..DOMAINS.len())
        .prop_map(|(l, d)| Address::from_parts(LOCALS[l], DOMAINS[d]).unwrap())
}

fn any_entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        any_address().prop_map(Entry::User),
        (0..DOMAINS.len()).prop_map(|d| Entry::Domain(Domain::parse(DOMAINS[d]).unwrap())),
    ]
}

fn any_limit() -> impl Strategy<Value = Limit> {
    prop_oneof![(0u32..300).prop_map(Limit::Max), Just(Limit::NoLimit)]
}

fn any_config() -> impl Strategy<Value = ServiceConfig> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::sample::subsequence(DOMAINS.to_vec(), 0..=DOMAINS.len()),
        any_limit(),
        any_limit(),
    )
        .prop_map(|(auto, sharing, im, local, contacts, watchers)| {
            let mut cfg = ServiceConfig::new(local.into_iter().map(|d| Domain::parse(d).unwrap()));
            cfg.auto_authorize = auto;
            cfg.availability_sharing = sharing;
            cfg.instant_messaging = im;
            cfg.max_contacts = contacts;
            cfg.max_watchers = watchers;
            cfg
        })
}

fn any_policy() -> impl Strategy<Value = UserPolicy> {
    (
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec((any::<bool>(), any_entry()), 0..8),
    )
        .prop_map(|(block_all, ask_me, ops)| {
            let mut p = UserPolicy::new(if block_all {
                DefaultPolicy::BlockAll
            } else {
                DefaultPolicy::AllowAll
            });
            p.set_ask_me_for_external(ask_me);
            let limits = PolicyLimits::default();
            for (block, e) in ops {
                if block {
                    p.block(e, &limits).unwrap();
                } else {
                    p.allow(e, &limits).unwrap();
                }
            }
            p
        })
}

fn any_protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![Just(Protocol::Xmpp), Just(Protocol::Sip)]
}

proptest! {
    /// "Blocked watchers always see the user as unavailable": whatever the
    /// service settings, protocol and counts, a blocked watcher is never
    /// allowed, never prompted for, never shown presence, and cannot send
    /// IM.
    #[test]
    fn blocked_watcher_is_never_allowed(
        cfg in any_config(),
        mut policy in any_policy(),
        owner_domain in 0..DOMAINS.len(),
        watcher in any_address(),
        by_domain in any::<bool>(),
        protocol in any_protocol(),
        count in 0usize..400,
        authorized in any::<bool>(),
    ) {
        // "owner" is not among LOCALS, so owner and watcher differ.
        let owner = Address::from_parts("owner", DOMAINS[owner_domain]).unwrap();
        let limits = PolicyLimits::default();
        if by_domain {
            // A user entry would outrank the domain entry; take it away.
            policy.remove(&Entry::User(watcher.clone()));
            policy.block(Entry::Domain(watcher.domain().clone()), &limits).unwrap();
        } else {
            policy.block(Entry::User(watcher.clone()), &limits).unwrap();
        }
        let d = authorize_subscription(&cfg, &SubscriptionRequest {
            owner: &owner,
            owner_policy: &policy,
            watcher: &watcher,
            protocol,
            owner_watcher_count: count,
        });
        prop_assert!(matches!(d.verdict, Verdict::PoliteBlock | Verdict::Block), "{d:?}");
        let im = may_send_im(&cfg, &watcher, &owner, &policy);
        prop_assert!(matches!(im.verdict, Verdict::PoliteBlock | Verdict::Block), "{im:?}");
        let vis = visibility(&cfg, &owner, &policy, &watcher, authorized);
        prop_assert_ne!(vis, Visibility::Full);
    }

    /// SIP watchers are never put on hold for the user's answer.
    #[test]
    fn sip_is_never_asked_to_wait(
        cfg in any_config(),
        policy in any_policy(),
        owner in any_address(),
        watcher in any_address(),
        count in 0usize..400,
    ) {
        let d = authorize_subscription(&cfg, &SubscriptionRequest {
            owner: &owner,
            owner_policy: &policy,
            watcher: &watcher,
            protocol: Protocol::Sip,
            owner_watcher_count: count,
        });
        prop_assert_ne!(d.verdict, Verdict::Confirm);
    }

    /// A user at "Maximum Watchers" gains no new watcher and no prompt.
    #[test]
    fn watcher_limit_is_never_exceeded(
        cfg in any_config(),
        policy in any_policy(),
        owner in any_address(),
        watcher in any_address(),
        protocol in any_protocol(),
        count in 0usize..400,
    ) {
        prop_assume!(owner != watcher);
        let d = authorize_subscription(&cfg, &SubscriptionRequest {
            owner: &owner,
            owner_policy: &policy,
            watcher: &watcher,
            protocol,
            owner_watcher_count: count,
        });
        if cfg.max_watchers.is_reached(count) {
            prop_assert!(!matches!(d.verdict, Verdict::Allow | Verdict::Confirm), "{d:?}");
        }
    }

    /// Letter case of either address never changes a decision.
    #[test]
    fn decisions_ignore_letter_case(
        cfg in any_config(),
        policy in any_policy(),
        owner in any_address(),
        watcher in any_address(),
        protocol in any_protocol(),
        mask in any::<u64>(),
    ) {
        let text = watcher.to_string();
        let shouted: String = text
            .chars()
            .enumerate()
            .map(|(i, c)| if mask >> (i % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c })
            .collect();
        let again = Address::parse(&shouted).unwrap();
        prop_assert_eq!(&again, &watcher);
        let req = |w| SubscriptionRequest {
            owner: &owner,
            owner_policy: &policy,
            watcher: w,
            protocol,
            owner_watcher_count: 0,
        };
        prop_assert_eq!(
            authorize_subscription(&cfg, &req(&watcher)),
            authorize_subscription(&cfg, &req(&again))
        );
    }

    /// A batch add never takes the list past its limit, never adds more
    /// than asked, and fills the list when asked for enough.
    #[test]
    fn batch_admit_never_exceeds_the_limit(
        limit in any_limit(),
        current in 0usize..400,
        requested in 0usize..400,
    ) {
        let admitted = limit.admit(current, requested);
        prop_assert!(admitted <= requested);
        match limit {
            Limit::Max(max) => {
                let max = max as usize;
                if current <= max {
                    prop_assert!(current + admitted <= max);
                    prop_assert_eq!(admitted, requested.min(max - current));
                } else {
                    prop_assert_eq!(admitted, 0);
                }
            }
            Limit::NoLimit => prop_assert_eq!(admitted, requested),
        }
    }

    /// Address parsing never panics, and what it accepts prints back to
    /// text that parses to the same address.
    #[test]
    fn address_parse_total_and_round_trips(s in "\\PC{0,40}|[a-zA-Z@.]{0,20}") {
        if let Ok(a) = Address::parse(&s) {
            prop_assert_eq!(Address::parse(&a.to_string()), Ok(a));
        }
    }

    /// Entries round-trip through their text form.
    #[test]
    fn entry_text_round_trips(e in any_entry()) {
        prop_assert_eq!(e.to_string().parse::<Entry>(), Ok(e));
    }
}

#[derive(Clone, Debug)]
enum Op {
    Subscribe(usize, usize),
    Unsubscribe(usize, usize),
    Advance(u64),
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..4, 0usize..6).prop_map(|(w, p)| Op::Subscribe(w, p)),
        (0usize..4, 0usize..6).prop_map(|(w, p)| Op::Unsubscribe(w, p)),
        (0u64..40).prop_map(Op::Advance),
    ]
}

proptest! {
    /// The ad-hoc table against a plain model: same membership, limits
    /// never exceeded, each subscription expires exactly once and only
    /// once its TTL has run, and `poll_timeout` is the earliest deadline.
    #[test]
    fn adhoc_table_matches_model(
        max in 0u32..4,
        ttl in 1u64..30,
        ops in proptest::collection::vec(any_op(), 0..60),
    ) {
        let t0 = Instant::now();
        let cfg = AdhocConfig {
            max_per_watcher: Limit::from_zero_unlimited(max),
            ttl: Duration::from_secs(ttl),
            max_total: 10,
        };
        let mut table = AdhocSubscriptions::new(cfg);
        let mut model: BTreeMap<AdhocKey, Instant> = BTreeMap::new();
        let mut now = t0;
        let user = |i: usize| Address::parse(&format!("u{i}@verona.example")).unwrap();
        for op in ops {
            match op {
                Op::Subscribe(w, p) => {
                    let key = AdhocKey { watcher: user(w), presentity: user(100 + p) };
                    let held = model.keys().filter(|k| k.watcher == key.watcher).count();
                    let got = table.subscribe(now, key.watcher.clone(), key.presentity.clone());
                    if model.contains_key(&key) {
                        prop_assert_eq!(got.map(|g| g.renewed), Ok(true));
                        model.insert(key, now + cfg.ttl);
                    } else if cfg.max_per_watcher.is_reached(held) {
                        prop_assert_eq!(got, Err(AuthzError::AdhocLimitReached { max }));
                    } else if model.len() >= cfg.max_total {
                        prop_assert_eq!(got, Err(AuthzError::AdhocTableFull { max: 10 }));
                    } else {
                        prop_assert_eq!(got.map(|g| g.renewed), Ok(false));
                        model.insert(key, now + cfg.ttl);
                    }
                }
                Op::Unsubscribe(w, p) => {
                    let key = AdhocKey { watcher: user(w), presentity: user(100 + p) };
                    prop_assert_eq!(
                        table.unsubscribe(&key.watcher, &key.presentity),
                        model.remove(&key).is_some()
                    );
                }
                Op::Advance(secs) => {
                    now += Duration::from_secs(secs);
                    table.handle_timeout(now);
                    let mut expired = Vec::new();
                    while let Some(k) = table.poll_expired() {
                        expired.push(k);
                    }
                    expired.sort();
                    let due: Vec<AdhocKey> = model
                        .iter()
                        .filter(|(_, at)| **at <= now)
                        .map(|(k, _)| k.clone())
                        .collect();
                    model.retain(|_, at| *at > now);
                    prop_assert_eq!(expired, due);
                }
            }
            prop_assert_eq!(table.len(), model.len());
            prop_assert_eq!(table.poll_timeout(), model.values().min().copied());
            let mut per_watcher: HashMap<Address, u32> = HashMap::new();
            for k in model.keys() {
                *per_watcher.entry(k.watcher.clone()).or_default() += 1;
                prop_assert!(table.is_subscribed(now, &k.watcher, &k.presentity));
            }
            for (w, n) in per_watcher {
                prop_assert_eq!(table.count_for(&w), n);
                if let Limit::Max(m) = cfg.max_per_watcher {
                    prop_assert!(n <= m);
                }
            }
        }
    }
}
