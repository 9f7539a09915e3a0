//! Property tests of the IM hub: whatever sequence of subscription
//! stanzas, roster removals and presence changes local users send, both
//! sides of every subscription agree (RFC 6121 §3: the user's `to` is the
//! contact's `from`), and the hub never delivers to a session that is not
//! bound.

use std::time::{Duration, Instant, UNIX_EPOCH};

use presence_model::authz::InMemoryPolicyStore;
use proptest::prelude::*;
use xmpp_core::im::{Hub, HubConfig, InMemoryOfflineStore, InMemoryRosterStore, Now, RosterStore};
use xmpp_core::jid::Jid;
use xmpp_core::ns;
use xmpp_core::xml::Element;

const USERS: [&str; 3] = ["ann", "ben", "cat"];

#[derive(Clone, Debug)]
enum Op {
    Sub(usize, usize, &'static str),
    Remove(usize, usize),
    Presence(usize, bool),
    Message(usize, usize),
    Reconnect(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let ty = prop::sample::select(vec![
        "subscribe",
        "subscribed",
        "unsubscribe",
        "unsubscribed",
    ]);
    prop_oneof![
        (0..3usize, 0..3usize, ty).prop_map(|(a, b, t)| Op::Sub(a, b, t)),
        (0..3usize, 0..3usize).prop_map(|(a, b)| Op::Remove(a, b)),
        (0..3usize, any::<bool>()).prop_map(|(a, on)| Op::Presence(a, on)),
        (0..3usize, 0..3usize).prop_map(|(a, b)| Op::Message(a, b)),
        (0..3usize).prop_map(Op::Reconnect),
    ]
}

fn bare(i: usize) -> Jid {
    Jid::new(&format!("{}@isle.example", USERS[i % 3])).unwrap()
}

fn full(i: usize) -> Jid {
    bare(i).with_resource("r").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn both_sides_of_a_subscription_agree(auto in any::<bool>(), ops in prop::collection::vec(op(), 1..40)) {
        let mut config = HubConfig::new("isle.example");
        config.authz.auto_authorize = auto;
        let mut hub = Hub::new(
            config,
            InMemoryRosterStore::new(),
            InMemoryOfflineStore::new(),
            InMemoryPolicyStore::new(),
            |_: &Jid| true,
        );
        let now = Now::new(Instant::now(), UNIX_EPOCH + Duration::from_secs(1));
        for i in 0..3 {
            hub.session_bound(now, &full(i)).unwrap();
        }
        for op in ops {
            let out = match op {
                Op::Sub(a, b, t) => hub.handle_stanza(
                    now,
                    &full(a),
                    Element::new("presence", ns::CLIENT)
                        .with_attr("type", t)
                        .with_attr("to", bare(b).as_str()),
                ),
                Op::Remove(a, b) => hub.handle_stanza(
                    now,
                    &full(a),
                    Element::new("iq", ns::CLIENT)
                        .with_attr("type", "set")
                        .with_attr("id", "x")
                        .with_child(Element::new("query", ns::ROSTER).with_child(
                            Element::new("item", ns::ROSTER)
                                .with_attr("jid", bare(b).as_str())
                                .with_attr("subscription", "remove"),
                        )),
                ),
                Op::Presence(a, on) => hub.handle_stanza(
                    now,
                    &full(a),
                    Element::new("presence", ns::CLIENT)
                        .with_opt_attr("type", (!on).then_some("unavailable")),
                ),
                Op::Message(a, b) => hub.handle_stanza(
                    now,
                    &full(a),
                    Element::new("message", ns::CLIENT)
                        .with_attr("type", "chat")
                        .with_attr("to", bare(b).as_str()),
                ),
                Op::Reconnect(a) => {
                    let mut out = hub.session_ended(now, &full(a));
                    hub.session_bound(now, &full(a)).unwrap();
                    out.extend(hub.handle_stanza(now, &full(a), Element::new("presence", ns::CLIENT)));
                    out
                }
            };
            for d in &out {
                prop_assert!(hub.sessions_of(&d.to).contains(&d.to), "delivery to unbound {}", d.to);
                if d.stanza.name() != "iq" {
                    prop_assert!(d.stanza.attr("from").is_some());
                }
            }
            for a in 0..3 {
                for b in 0..3 {
                    if a == b {
                        continue;
                    }
                    let ra = hub.roster_store().load(&bare(a)).unwrap();
                    let rb = hub.roster_store().load(&bare(b)).unwrap();
                    let a_to = ra.items.get(&bare(b)).is_some_and(|i| i.subscription.has_to());
                    let b_from = rb.items.get(&bare(a)).is_some_and(|i| i.subscription.has_from());
                    prop_assert_eq!(a_to, b_from, "{} 'to' {} disagrees with {} 'from'", bare(a), bare(b), bare(b));
                    // A user with 'to' no longer asks.
                    prop_assert!(!ra.items.get(&bare(b)).is_some_and(|i| i.ask && i.subscription.has_to()));
                }
            }
        }
    }
}
