//! Simulation tests of the IM and presence hub (RFC 6121): each test
//! drives the hub with stanzas from bound sessions and checks the
//! deliveries, one rule at a time.

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use presence_model::authz::{DefaultPolicy, InMemoryPolicyStore, Limit, PolicyLimits, UserPolicy};
use xmpp_core::im::{
    Delivery, Hub, HubConfig, ImError, InMemoryOfflineStore, InMemoryRosterStore, Now, RosterStore,
    Subscription,
};
use xmpp_core::jid::Jid;
use xmpp_core::ns;
use xmpp_core::xml::Element;

type TestHub = Hub<InMemoryRosterStore, InMemoryOfflineStore, InMemoryPolicyStore>;

const DOMAIN: &str = "isle.example";
const USERS: &[&str] = &["ann", "ben", "cat", "dan"];

fn j(s: &str) -> Jid {
    Jid::new(s).unwrap()
}

fn hub_with(cfg: impl FnOnce(&mut HubConfig)) -> TestHub {
    let mut config = HubConfig::new(DOMAIN);
    cfg(&mut config);
    Hub::new(
        config,
        InMemoryRosterStore::new(),
        InMemoryOfflineStore::new(),
        InMemoryPolicyStore::new(),
        |u: &Jid| u.local().is_some_and(|l| USERS.contains(&l)),
    )
}

fn hub() -> TestHub {
    hub_with(|_| {})
}

fn now() -> Now {
    Now::new(
        Instant::now(),
        UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    )
}

fn pres(ty: Option<&str>, to: Option<&str>) -> Element {
    Element::new("presence", ns::CLIENT)
        .with_opt_attr("type", ty)
        .with_opt_attr("to", to)
}

fn available(priority: i8) -> Element {
    pres(None, None)
        .with_child(Element::new("priority", ns::CLIENT).with_text(priority.to_string()))
}

fn msg(to: &str, ty: &str, body: &str) -> Element {
    Element::new("message", ns::CLIENT)
        .with_attr("to", to)
        .with_attr("type", ty)
        .with_child(Element::new("body", ns::CLIENT).with_text(body))
}

fn iq(ty: &str, id: &str, to: Option<&str>, payload: Element) -> Element {
    Element::new("iq", ns::CLIENT)
        .with_attr("type", ty)
        .with_attr("id", id)
        .with_opt_attr("to", to)
        .with_child(payload)
}

fn roster_get(ver: Option<&str>) -> Element {
    iq(
        "get",
        "rg",
        None,
        Element::new("query", ns::ROSTER).with_opt_attr("ver", ver),
    )
}

fn roster_set(jid: &str, name: Option<&str>, groups: &[&str]) -> Element {
    let mut item = Element::new("item", ns::ROSTER)
        .with_attr("jid", jid)
        .with_opt_attr("name", name);
    for g in groups {
        item.append_child(Element::new("group", ns::ROSTER).with_text(*g));
    }
    iq(
        "set",
        "rs",
        None,
        Element::new("query", ns::ROSTER).with_child(item),
    )
}

fn roster_remove(jid: &str) -> Element {
    iq(
        "set",
        "rr",
        None,
        Element::new("query", ns::ROSTER).with_child(
            Element::new("item", ns::ROSTER)
                .with_attr("jid", jid)
                .with_attr("subscription", "remove"),
        ),
    )
}

/// Binds, asks for the roster and sends initial presence.
fn online(h: &mut TestHub, full: &str, priority: i8) -> Vec<Delivery> {
    let jid = j(full);
    h.session_bound(now(), &jid).unwrap();
    h.handle_stanza(now(), &jid, roster_get(None));
    h.handle_stanza(now(), &jid, available(priority))
}

fn send(h: &mut TestHub, from: &str, e: Element) -> Vec<Delivery> {
    h.handle_stanza(now(), &j(from), e)
}

fn to<'a>(out: &'a [Delivery], who: &str) -> Vec<&'a Element> {
    out.iter()
        .filter(|d| d.to.as_str() == who)
        .map(|d| &d.stanza)
        .collect()
}

fn error_cond(e: &Element) -> Option<String> {
    let err = e.get_child("error", ns::CLIENT)?;
    err.children().next().map(|c| c.name().to_owned())
}

fn pushes<'a>(out: &'a [Delivery], who: &str) -> Vec<&'a Element> {
    to(out, who)
        .into_iter()
        .filter(|e| e.name() == "iq" && e.attr("type") == Some("set"))
        .filter_map(|e| e.get_child("query", ns::ROSTER))
        .filter_map(|q| q.children().next())
        .collect()
}

fn item_of(h: &TestHub, owner: &str, contact: &str) -> Option<xmpp_core::im::RosterItem> {
    h.roster_store()
        .load(&j(owner))
        .unwrap()
        .items
        .get(&j(contact))
        .cloned()
}

fn presences<'a>(out: &'a [Delivery], who: &str, ty: Option<&str>) -> Vec<&'a Element> {
    to(out, who)
        .into_iter()
        .filter(|e| e.name() == "presence" && e.attr("type") == ty)
        .collect()
}

/// ann and ben subscribed to each other (auto-authorization on).
fn mutual(h: &mut TestHub) {
    send(
        h,
        "ann@isle.example/a",
        pres(Some("subscribe"), Some("ben@isle.example")),
    );
    send(
        h,
        "ben@isle.example/b",
        pres(Some("subscribe"), Some("ann@isle.example")),
    );
    assert_eq!(
        item_of(h, "ann@isle.example", "ben@isle.example")
            .unwrap()
            .subscription,
        Subscription::Both
    );
}

// ------------------------------------------------------------------ roster

#[test]
fn roster_get_set_push_and_versioning() {
    let mut h = hub();
    let a1 = "ann@isle.example/a";
    let a2 = "ann@isle.example/phone";
    h.session_bound(now(), &j(a1)).unwrap();
    h.session_bound(now(), &j(a2)).unwrap();
    let out = send(&mut h, a1, roster_get(None));
    let q = to(&out, a1)[0].get_child("query", ns::ROSTER).unwrap();
    assert_eq!(q.children().count(), 0);
    let v0 = q.attr("ver").unwrap().to_owned();

    let out = send(
        &mut h,
        a1,
        roster_set("ben@isle.example", Some("Benny"), &["Work", "Crew"]),
    );
    // Only the resource that requested the roster gets the push (§2.1.6).
    assert_eq!(pushes(&out, a1).len(), 1);
    assert!(pushes(&out, a2).is_empty());
    let item = pushes(&out, a1)[0];
    assert_eq!(item.attr("name"), Some("Benny"));
    assert_eq!(item.attr("subscription"), Some("none"));
    assert_eq!(item.children().count(), 2);
    assert!(
        to(&out, a1)
            .iter()
            .any(|e| e.attr("type") == Some("result") && e.attr("id") == Some("rs"))
    );

    // The old version is stale; the new one gets an empty result.
    let out = send(&mut h, a1, roster_get(Some(&v0)));
    let q = to(&out, a1)[0].get_child("query", ns::ROSTER).unwrap();
    assert_eq!(q.children().count(), 1);
    let v1 = q.attr("ver").unwrap().to_owned();
    assert_ne!(v0, v1);
    let out = send(&mut h, a1, roster_get(Some(&v1)));
    assert!(to(&out, a1)[0].children().next().is_none());

    // Update keeps the item, changes name and groups.
    send(&mut h, a1, roster_set("ben@isle.example", None, &["Solo"]));
    let item = item_of(&h, "ann@isle.example", "ben@isle.example").unwrap();
    assert_eq!(item.name, None);
    assert_eq!(item.groups, BTreeSet::from(["Solo".to_owned()]));
}

#[test]
fn roster_set_is_validated() {
    let mut h = hub();
    let a = "ann@isle.example/a";
    h.session_bound(now(), &j(a)).unwrap();
    let two = iq(
        "set",
        "x",
        None,
        Element::new("query", ns::ROSTER)
            .with_child(Element::new("item", ns::ROSTER).with_attr("jid", "ben@isle.example"))
            .with_child(Element::new("item", ns::ROSTER).with_attr("jid", "cat@isle.example")),
    );
    let cases = [
        (two, "bad-request"),
        (
            roster_set("ben@isle.example", None, &[""]),
            "not-acceptable",
        ),
        (
            roster_set("ben@isle.example", None, &["G", "G"]),
            "bad-request",
        ),
        (roster_set("ann@isle.example", None, &[]), "not-allowed"),
        (
            roster_set("ben@isle.example", Some(&"n".repeat(256)), &[]),
            "not-acceptable",
        ),
        (roster_remove("nobody@isle.example"), "item-not-found"),
    ];
    for (stanza, cond) in cases {
        let out = send(&mut h, a, stanza);
        assert_eq!(error_cond(to(&out, a)[0]).as_deref(), Some(cond));
    }
    assert!(
        h.roster_store()
            .load(&j("ann@isle.example"))
            .unwrap()
            .items
            .is_empty()
    );
}

#[test]
fn contact_limit_refuses_adds_and_truncates_batches() {
    let mut h = hub_with(|c| c.authz.max_contacts = Limit::Max(2));
    let a = "ann@isle.example/a";
    h.session_bound(now(), &j(a)).unwrap();
    send(&mut h, a, roster_set("ben@isle.example", None, &[]));
    send(&mut h, a, roster_set("cat@isle.example", None, &[]));
    let out = send(&mut h, a, roster_set("dan@isle.example", None, &[]));
    assert_eq!(error_cond(to(&out, a)[0]).as_deref(), Some("not-allowed"));
    // Subscribing to a new contact is an add too.
    let out = send(&mut h, a, pres(Some("subscribe"), Some("dan@isle.example")));
    assert_eq!(error_cond(to(&out, a)[0]).as_deref(), Some("not-allowed"));
    // Editing an existing item is not an add.
    let out = send(&mut h, a, roster_set("ben@isle.example", Some("B"), &[]));
    assert_eq!(to(&out, a).last().unwrap().attr("type"), Some("result"));

    let mut h = hub_with(|c| c.authz.max_contacts = Limit::Max(5));
    let ann = j("ann@isle.example");
    let batch = |names: &[&str]| {
        names
            .iter()
            .map(|n| (j(&format!("{n}@far.example")), None, BTreeSet::new()))
            .collect::<Vec<_>>()
    };
    let (n, _) = h
        .add_contacts(now(), &ann, batch(&["a", "b", "c"]))
        .unwrap();
    assert_eq!(n, 3);
    let (n, _) = h
        .add_contacts(now(), &ann, batch(&["c", "d", "e", "f", "g"]))
        .unwrap();
    assert_eq!(n, 2, "c is present; only two of d..g fit");
    assert_eq!(h.roster_store().load(&ann).unwrap().items.len(), 5);

    let mut h = hub_with(|c| c.authz.max_contacts = Limit::NoLimit);
    let many: Vec<_> = (0..300)
        .map(|i| (j(&format!("u{i}@far.example")), None, BTreeSet::new()))
        .collect();
    assert_eq!(h.add_contacts(now(), &ann, many).unwrap().0, 300);
}

#[test]
fn watcher_limit_refuses_new_subscribers_with_policy_violation() {
    let mut h = hub_with(|c| c.authz.max_watchers = Limit::Max(1));
    online(&mut h, "ann@isle.example/a", 0);
    online(&mut h, "cat@isle.example/c", 0);
    online(&mut h, "dan@isle.example/d", 0);
    h.session_bound(now(), &j("ben@isle.example/b")).unwrap();
    // dan put ben on his list while ben had no watcher.
    send(
        &mut h,
        "dan@isle.example/d",
        roster_set("ben@isle.example", None, &[]),
    );
    send(
        &mut h,
        "ann@isle.example/a",
        pres(Some("subscribe"), Some("ben@isle.example")),
    );
    assert!(
        item_of(&h, "ann@isle.example", "ben@isle.example")
            .unwrap()
            .subscription
            .has_to()
    );
    // cat cannot even add ben now ("others cannot add the user").
    let out = send(
        &mut h,
        "cat@isle.example/c",
        pres(Some("subscribe"), Some("ben@isle.example")),
    );
    let errs = to(&out, "cat@isle.example/c");
    assert_eq!(error_cond(errs[0]).as_deref(), Some("policy-violation"));
    assert!(item_of(&h, "cat@isle.example", "ben@isle.example").is_none());
    // dan's subscription is refused by ben's side with a presence error.
    let out = send(
        &mut h,
        "dan@isle.example/d",
        pres(Some("subscribe"), Some("ben@isle.example")),
    );
    let errs = presences(&out, "dan@isle.example/d", Some("error"));
    assert_eq!(error_cond(errs[0]).as_deref(), Some("policy-violation"));
    assert!(
        !item_of(&h, "dan@isle.example", "ben@isle.example")
            .unwrap()
            .subscription
            .has_to()
    );
    assert_eq!(
        h.roster_store()
            .load(&j("ben@isle.example"))
            .unwrap()
            .watcher_count(None),
        1
    );
}

// ----------------------------------------------------------- subscriptions

#[test]
fn auto_authorized_local_subscription_handshake() {
    let mut h = hub();
    online(&mut h, "ann@isle.example/a", 0);
    online(&mut h, "ben@isle.example/b", 5);
    let out = send(
        &mut h,
        "ann@isle.example/a",
        pres(Some("subscribe"), Some("ben@isle.example")),
    );
    // ann: push with ask, then push with 'to', then subscribed and ben's presence.
    let a = pushes(&out, "ann@isle.example/a");
    assert_eq!(a[0].attr("ask"), Some("subscribe"));
    assert_eq!(a[1].attr("subscription"), Some("to"));
    assert_eq!(
        presences(&out, "ann@isle.example/a", Some("subscribed")).len(),
        1
    );
    let avail = presences(&out, "ann@isle.example/a", None);
    assert_eq!(avail[0].attr("from"), Some("ben@isle.example/b"));
    // ben: push with 'from', no prompt.
    assert_eq!(
        pushes(&out, "ben@isle.example/b")[0].attr("subscription"),
        Some("from")
    );
    assert!(presences(&out, "ben@isle.example/b", Some("subscribe")).is_empty());
    assert_eq!(
        item_of(&h, "ben@isle.example", "ann@isle.example")
            .unwrap()
            .subscription,
        Subscription::From
    );
    // A second subscribe changes nothing but is answered.
    let out = send(
        &mut h,
        "ann@isle.example/a",
        pres(Some("subscribe"), Some("ben@isle.example")),
    );
    assert!(pushes(&out, "ben@isle.example/b").is_empty());
}

#[test]
fn without_auto_authorization_the_request_waits_for_the_user_across_sessions() {
    let mut h = hub_with(|c| c.authz.auto_authorize = false);
    online(&mut h, "ann@isle.example/a", 0);
    let mut req = pres(Some("subscribe"), Some("ben@isle.example"));
    req.append_child(Element::new("status", ns::CLIENT).with_text("it's ann"));
    let out = send(&mut h, "ann@isle.example/a", req);
    assert!(
        item_of(&h, "ann@isle.example", "ben@isle.example")
            .unwrap()
            .ask
    );
    assert!(out.iter().all(|d| d.to.bare() == j("ann@isle.example")));
    // Persisted in ben's roster (no item for ann, §3.1.3).
    let ben_roster = h.roster_store().load(&j("ben@isle.example")).unwrap();
    assert!(ben_roster.items.is_empty());
    assert_eq!(
        ben_roster.pending_in.get(&j("ann@isle.example")),
        Some(&Some("it's ann".to_owned()))
    );

    // Delivered when ben comes online.
    let out = online(&mut h, "ben@isle.example/b", 0);
    let reqs = presences(&out, "ben@isle.example/b", Some("subscribe"));
    assert_eq!(reqs[0].attr("from"), Some("ann@isle.example"));
    assert_eq!(
        reqs[0].get_child("status", ns::CLIENT).unwrap().text(),
        "it's ann"
    );

    // ben approves: ann gets 'to', ben 'from'; the product adds ann to
    // ben's list and asks her back (reciprocal add).
    let out = send(
        &mut h,
        "ben@isle.example/b",
        pres(Some("subscribed"), Some("ann@isle.example")),
    );
    assert_eq!(
        item_of(&h, "ann@isle.example", "ben@isle.example")
            .unwrap()
            .subscription,
        Subscription::To
    );
    let b = item_of(&h, "ben@isle.example", "ann@isle.example").unwrap();
    assert_eq!(b.subscription, Subscription::From);
    assert!(b.ask);
    assert_eq!(
        presences(&out, "ann@isle.example/a", Some("subscribed")).len(),
        1
    );
    assert_eq!(
        presences(&out, "ann@isle.example/a", Some("subscribe")).len(),
        1
    );
    assert_eq!(
        presences(&out, "ann@isle.example/a", None)[0].attr("from"),
        Some("ben@isle.example/b")
    );
    assert!(
        h.roster_store()
            .load(&j("ben@isle.example"))
            .unwrap()
            .pending_in
            .is_empty()
    );

    // ann approves back: both.
    send(
        &mut h,
        "ann@isle.example/a",
        pres(Some("subscribed"), Some("ben@isle.example")),
    );
    assert_eq!(
        item_of(&h, "ann@isle.example", "ben@isle.example")
            .unwrap()
            .subscription,
        Subscription::Both
    );
    assert_eq!(
        item_of(&h, "ben@isle.example", "ann@isle.example")
            .unwrap()
            .subscription,
        Subscription::Both
    );
}

#[test]
fn denying_a_request_tells_the_requester() {
    let mut h = hub_with(|c| c.authz.auto_authorize = false);
    online(&mut h, "ann@isle.example/a", 0);
    online(&mut h, "ben@isle.example/b", 0);
    send(
        &mut h,
        "ann@isle.example/a",
        pres(Some("subscribe"), Some("ben@isle.example")),
    );
    let out = send(
        &mut h,
        "ben@isle.example/b",
        pres(Some("unsubscribed"), Some("ann@isle.example")),
    );
    assert_eq!(
        presences(&out, "ann@isle.example/a", Some("unsubscribed")).len(),
        1
    );
    let item = item_of(&h, "ann@isle.example", "ben@isle.example").unwrap();
    assert!(!item.ask);
    assert_eq!(item.subscription, Subscription::None);
    assert!(
        h.roster_store()
            .load(&j("ben@isle.example"))
            .unwrap()
            .pending_in
            .is_empty()
    );
}

#[test]
fn pre_approval_grants_a_later_request() {
    let mut h = hub_with(|c| c.authz.auto_authorize = false);
    online(&mut h, "ben@isle.example/b", 0);
    let out = send(
        &mut h,
        "ben@isle.example/b",
        pres(Some("subscribed"), Some("ann@isle.example")),
    );
    assert_eq!(
        pushes(&out, "ben@isle.example/b")[0].attr("approved"),
        Some("true")
    );
    online(&mut h, "ann@isle.example/a", 0);
    let out = send(
        &mut h,
        "ann@isle.example/a",
        pres(Some("subscribe"), Some("ben@isle.example")),
    );
    assert!(
        presences(&out, "ben@isle.example/b", Some("subscribe")).is_empty(),
        "no prompt"
    );
    let b = item_of(&h, "ben@isle.example", "ann@isle.example").unwrap();
    assert!(b.subscription.has_from());
    assert!(!b.approved);
    assert_eq!(
        item_of(&h, "ann@isle.example", "ben@isle.example")
            .unwrap()
            .subscription,
        Subscription::To
    );
}

#[test]
fn unsubscribe_and_cancel_update_both_rosters() {
    let mut h = hub();
    online(&mut h, "ann@isle.example/a", 0);
    online(&mut h, "ben@isle.example/b", 0);
    mutual(&mut h);
    // ann stops watching ben: ann both->from, ben both->to; ann gets ben's unavailable.
    let out = send(
        &mut h,
        "ann@isle.example/a",
        pres(Some("unsubscribe"), Some("ben@isle.example")),
    );
    assert_eq!(
        item_of(&h, "ann@isle.example", "ben@isle.example")
            .unwrap()
            .subscription,
        Subscription::From
    );
    assert_eq!(
        item_of(&h, "ben@isle.example", "ann@isle.example")
            .unwrap()
            .subscription,
        Subscription::To
    );
    assert_eq!(
        presences(&out, "ben@isle.example/b", Some("unsubscribe")).len(),
        1
    );
    assert_eq!(
        presences(&out, "ann@isle.example/a", Some("unavailable"))[0].attr("from"),
        Some("ben@isle.example/b")
    );
    // ann cancels ben's view of her: from->none, ben to->none.
    let out = send(
        &mut h,
        "ann@isle.example/a",
        pres(Some("unsubscribed"), Some("ben@isle.example")),
    );
    assert_eq!(
        item_of(&h, "ann@isle.example", "ben@isle.example")
            .unwrap()
            .subscription,
        Subscription::None
    );
    assert_eq!(
        item_of(&h, "ben@isle.example", "ann@isle.example")
            .unwrap()
            .subscription,
        Subscription::None
    );
    assert_eq!(
        presences(&out, "ben@isle.example/b", Some("unsubscribed")).len(),
        1
    );
    assert_eq!(
        presences(&out, "ben@isle.example/b", Some("unavailable"))[0].attr("from"),
        Some("ann@isle.example/a")
    );
}

#[test]
fn roster_remove_cancels_both_directions() {
    let mut h = hub();
    online(&mut h, "ann@isle.example/a", 0);
    online(&mut h, "ben@isle.example/b", 0);
    mutual(&mut h);
    let out = send(
        &mut h,
        "ann@isle.example/a",
        roster_remove("ben@isle.example"),
    );
    assert_eq!(
        pushes(&out, "ann@isle.example/a")[0].attr("subscription"),
        Some("remove")
    );
    assert!(item_of(&h, "ann@isle.example", "ben@isle.example").is_none());
    assert_eq!(
        item_of(&h, "ben@isle.example", "ann@isle.example")
            .unwrap()
            .subscription,
        Subscription::None
    );
    assert_eq!(
        presences(&out, "ben@isle.example/b", Some("unavailable")).len(),
        1
    );
}

// --------------------------------------------------------- authorization

#[test]
fn blocked_watcher_is_ignored_and_always_sees_unavailable() {
    let mut h = hub();
    online(&mut h, "ann@isle.example/a", 0);
    online(&mut h, "ben@isle.example/b", 0);
    mutual(&mut h);
    let mut policy = UserPolicy::default();
    policy
        .block(
            "ann@isle.example".parse().unwrap(),
            &PolicyLimits::default(),
        )
        .unwrap();
    let out = h.set_policy(now(), &j("ben@isle.example"), policy).unwrap();
    assert_eq!(
        presences(&out, "ann@isle.example/a", Some("unavailable"))[0].attr("from"),
        Some("ben@isle.example/b")
    );
    // ben's later presence does not reach ann, but still reaches others.
    let out = send(&mut h, "ben@isle.example/b", available(3));
    assert!(presences(&out, "ann@isle.example/a", None).is_empty());
    assert_eq!(presences(&out, "ben@isle.example/b", None).len(), 1);
    // A probe from ann's new session gets unavailable only.
    let out = online(&mut h, "ann@isle.example/new", 0);
    assert!(
        presences(&out, "ann@isle.example/new", None)
            .iter()
            .all(|p| p.attr("from") != Some("ben@isle.example/b"))
    );
    // And IM from ann is refused as if ben were unreachable.
    let out = send(
        &mut h,
        "ann@isle.example/a",
        msg("ben@isle.example", "chat", "hi"),
    );
    assert_eq!(
        error_cond(to(&out, "ann@isle.example/a")[0]).as_deref(),
        Some("service-unavailable")
    );
    // A fresh subscribe from a blocked user is silently dropped.
    let mut p2 = UserPolicy::default();
    p2.block("isle.example".parse().unwrap(), &PolicyLimits::default())
        .unwrap();
    p2.allow(
        "ann@isle.example".parse().unwrap(),
        &PolicyLimits::default(),
    )
    .unwrap();
    h.set_policy(now(), &j("ben@isle.example"), p2).unwrap();
    online(&mut h, "cat@isle.example/c", 0);
    let out = send(
        &mut h,
        "cat@isle.example/c",
        pres(Some("subscribe"), Some("ben@isle.example")),
    );
    assert!(out.iter().all(|d| d.to.bare() == j("cat@isle.example")));
    assert!(presences(&out, "cat@isle.example/c", Some("subscribed")).is_empty());
    assert!(presences(&out, "cat@isle.example/c", Some("unsubscribed")).is_empty());
    assert!(
        h.roster_store()
            .load(&j("ben@isle.example"))
            .unwrap()
            .pending_in
            .is_empty()
    );
}

#[test]
fn block_all_default_and_disabled_im() {
    let mut h = hub();
    online(&mut h, "ann@isle.example/a", 0);
    online(&mut h, "ben@isle.example/b", 0);
    let mut policy = UserPolicy::new(DefaultPolicy::BlockAll);
    policy
        .allow(
            "cat@isle.example".parse().unwrap(),
            &PolicyLimits::default(),
        )
        .unwrap();
    h.set_policy(now(), &j("ben@isle.example"), policy).unwrap();
    let out = send(
        &mut h,
        "ann@isle.example/a",
        msg("ben@isle.example", "chat", "hi"),
    );
    assert_eq!(
        error_cond(to(&out, "ann@isle.example/a")[0]).as_deref(),
        Some("service-unavailable")
    );
    online(&mut h, "cat@isle.example/c", 0);
    let out = send(
        &mut h,
        "cat@isle.example/c",
        msg("ben@isle.example", "chat", "hi"),
    );
    assert_eq!(to(&out, "ben@isle.example/b").len(), 1);

    let mut h = hub_with(|c| c.authz.instant_messaging = false);
    online(&mut h, "ann@isle.example/a", 0);
    online(&mut h, "ben@isle.example/b", 0);
    let out = send(
        &mut h,
        "ann@isle.example/a",
        msg("ben@isle.example/b", "chat", "hi"),
    );
    assert!(to(&out, "ben@isle.example/b").is_empty());
    assert_eq!(
        error_cond(to(&out, "ann@isle.example/a")[0]).as_deref(),
        Some("service-unavailable")
    );
}

// --------------------------------------------------------------- presence

#[test]
fn presence_broadcast_probe_directed_and_session_end() {
    let mut h = hub();
    online(&mut h, "ann@isle.example/a", 0);
    online(&mut h, "ben@isle.example/b", 0);
    mutual(&mut h);
    // A new resource of ann: broadcast to ben and to ann's own resources,
    // and the probe brings ben's presence to the new resource only.
    let out = online(&mut h, "ann@isle.example/two", 1);
    assert_eq!(
        presences(&out, "ben@isle.example/b", None)[0].attr("from"),
        Some("ann@isle.example/two")
    );
    assert_eq!(presences(&out, "ann@isle.example/a", None).len(), 1);
    assert_eq!(
        presences(&out, "ann@isle.example/two", None)
            .iter()
            .filter(|p| p.attr("from") == Some("ben@isle.example/b"))
            .count(),
        1
    );
    assert!(
        presences(&out, "ann@isle.example/a", None)
            .iter()
            .all(|p| p.attr("from") != Some("ben@isle.example/b"))
    );
    // Directed presence to a non-subscriber; it gets unavailable at the end.
    online(&mut h, "cat@isle.example/c", 0);
    let out = send(
        &mut h,
        "ann@isle.example/two",
        pres(None, Some("cat@isle.example")),
    );
    assert_eq!(presences(&out, "cat@isle.example/c", None).len(), 1);
    let out = h.session_ended(now(), &j("ann@isle.example/two"));
    assert_eq!(
        presences(&out, "ben@isle.example/b", Some("unavailable")).len(),
        1
    );
    assert_eq!(
        presences(&out, "cat@isle.example/c", Some("unavailable")).len(),
        1
    );
    assert_eq!(
        presences(&out, "ann@isle.example/a", Some("unavailable")).len(),
        1
    );
    assert!(to(&out, "ann@isle.example/two").is_empty());
    // cat (no subscription) does not get ann's normal broadcasts.
    let out = send(&mut h, "ann@isle.example/a", available(2));
    assert!(to(&out, "cat@isle.example/c").is_empty());
    // A non-subscriber's probe gets nothing; a subscriber's gets presence.
    let out = send(
        &mut h,
        "cat@isle.example/c",
        pres(Some("probe"), Some("ann@isle.example")),
    );
    assert!(out.is_empty());
    let out = send(
        &mut h,
        "ben@isle.example/b",
        pres(Some("probe"), Some("ann@isle.example")),
    );
    assert_eq!(
        presences(&out, "ben@isle.example/b", None)[0].attr("from"),
        Some("ann@isle.example/a")
    );
    // A session that never sent presence ends silently.
    h.session_bound(now(), &j("ann@isle.example/quiet"))
        .unwrap();
    assert!(
        h.session_ended(now(), &j("ann@isle.example/quiet"))
            .is_empty()
    );
}

// ---------------------------------------------------------------- routing

#[test]
fn bare_jid_messages_fork_then_stick_to_the_replier() {
    let mut h = hub();
    online(&mut h, "ann@isle.example/a", 0);
    online(&mut h, "ben@isle.example/desk", 1);
    online(&mut h, "ben@isle.example/phone", 0);
    online(&mut h, "ben@isle.example/away", -1);
    let out = send(
        &mut h,
        "ann@isle.example/a",
        msg("ben@isle.example", "chat", "1"),
    );
    let got: BTreeSet<_> = out.iter().map(|d| d.to.to_string()).collect();
    assert_eq!(
        got,
        BTreeSet::from([
            "ben@isle.example/desk".to_owned(),
            "ben@isle.example/phone".to_owned()
        ])
    );
    // ben answers from the phone: it becomes sticky.
    send(
        &mut h,
        "ben@isle.example/phone",
        msg("ann@isle.example/a", "chat", "r"),
    );
    let out = send(
        &mut h,
        "ann@isle.example/a",
        msg("ben@isle.example", "chat", "2"),
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to.as_str(), "ben@isle.example/phone");
    // ben answers from the desk: routing switches.
    send(
        &mut h,
        "ben@isle.example/desk",
        msg("ann@isle.example", "chat", "r2"),
    );
    let out = send(
        &mut h,
        "ann@isle.example/a",
        msg("ben@isle.example", "chat", "3"),
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to.as_str(), "ben@isle.example/desk");
    // The sticky resource going offline brings back forking.
    h.session_ended(now(), &j("ben@isle.example/desk"));
    let out = send(
        &mut h,
        "ann@isle.example/a",
        msg("ben@isle.example", "chat", "4"),
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to.as_str(), "ben@isle.example/phone");
    // Full JIDs go to that resource, even with negative priority.
    let out = send(
        &mut h,
        "ann@isle.example/a",
        msg("ben@isle.example/away", "chat", "5"),
    );
    assert_eq!(out[0].to.as_str(), "ben@isle.example/away");
    // An unknown resource is treated as the bare JID for chat.
    let out = send(
        &mut h,
        "ann@isle.example/a",
        msg("ben@isle.example/gone", "chat", "6"),
    );
    assert_eq!(out[0].to.as_str(), "ben@isle.example/phone");
    // ... but groupchat to it is an error and headline is dropped.
    let out = send(
        &mut h,
        "ann@isle.example/a",
        msg("ben@isle.example/gone", "groupchat", "7"),
    );
    assert_eq!(
        error_cond(to(&out, "ann@isle.example/a")[0]).as_deref(),
        Some("service-unavailable")
    );
    assert!(
        send(
            &mut h,
            "ann@isle.example/a",
            msg("ben@isle.example/gone", "headline", "8")
        )
        .is_empty()
    );
    // from is stamped with the sender's full JID whatever it said.
    let mut forged = msg("ben@isle.example/phone", "chat", "9");
    forged.set_attr("from", "dan@isle.example/x");
    let out = send(&mut h, "ann@isle.example/a", forged);
    assert_eq!(out[0].stanza.attr("from"), Some("ann@isle.example/a"));
}

#[test]
fn offline_messages_are_stored_stamped_and_delivered_at_next_presence() {
    let mut h = hub_with(|c| c.offline.per_user = Limit::Max(2));
    online(&mut h, "ann@isle.example/a", 0);
    assert!(
        send(
            &mut h,
            "ann@isle.example/a",
            msg("ben@isle.example", "chat", "one")
        )
        .is_empty()
    );
    assert!(
        send(
            &mut h,
            "ann@isle.example/a",
            msg("ben@isle.example/x", "normal", "two")
        )
        .is_empty()
    );
    let out = send(
        &mut h,
        "ann@isle.example/a",
        msg("ben@isle.example", "chat", "three"),
    );
    assert_eq!(
        error_cond(to(&out, "ann@isle.example/a")[0]).as_deref(),
        Some("service-unavailable")
    );
    // Headlines are not stored.
    assert!(
        send(
            &mut h,
            "ann@isle.example/a",
            msg("ben@isle.example", "headline", "h")
        )
        .is_empty()
    );
    // A negative-priority session does not take them; nor does binding.
    let out = online(&mut h, "ben@isle.example/lurk", -5);
    assert!(
        to(&out, "ben@isle.example/lurk")
            .iter()
            .all(|e| e.name() != "message")
    );
    let out = online(&mut h, "ben@isle.example/b", 0);
    let msgs: Vec<_> = to(&out, "ben@isle.example/b")
        .into_iter()
        .filter(|e| e.name() == "message")
        .collect();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].get_child("body", ns::CLIENT).unwrap().text(), "one");
    let delay = msgs[0].get_child("delay", ns::DELAY).unwrap();
    assert_eq!(delay.attr("stamp"), Some("2023-11-14T22:13:20Z"));
    assert_eq!(delay.attr("from"), Some(DOMAIN));
    assert_eq!(msgs[1].attr("from"), Some("ann@isle.example/a"));
    // Delivered once only.
    let out = online(&mut h, "ben@isle.example/c", 0);
    assert!(
        to(&out, "ben@isle.example/c")
            .iter()
            .all(|e| e.name() != "message")
    );
}

#[test]
fn offline_node_cap_and_suppress_switch() {
    let mut h = hub_with(|c| c.offline.per_node = Limit::Max(1));
    online(&mut h, "ann@isle.example/a", 0);
    assert!(
        send(
            &mut h,
            "ann@isle.example/a",
            msg("ben@isle.example", "chat", "1")
        )
        .is_empty()
    );
    let out = send(
        &mut h,
        "ann@isle.example/a",
        msg("cat@isle.example", "chat", "2"),
    );
    assert_eq!(
        error_cond(to(&out, "ann@isle.example/a")[0]).as_deref(),
        Some("service-unavailable")
    );

    let mut h = hub_with(|c| c.offline.suppress = true);
    online(&mut h, "ann@isle.example/a", 0);
    let out = send(
        &mut h,
        "ann@isle.example/a",
        msg("ben@isle.example", "chat", "1"),
    );
    assert_eq!(
        error_cond(to(&out, "ann@isle.example/a")[0]).as_deref(),
        Some("service-unavailable")
    );
}

#[test]
fn unknown_users_and_remote_domains() {
    let mut h = hub_with(|c| {
        c.remote_routes.insert("linked.example".to_owned());
    });
    online(&mut h, "ann@isle.example/a", 0);
    let a = "ann@isle.example/a";
    let out = send(&mut h, a, msg("zed@isle.example", "chat", "?"));
    assert_eq!(
        error_cond(to(&out, a)[0]).as_deref(),
        Some("service-unavailable")
    );
    let out = send(
        &mut h,
        a,
        iq(
            "get",
            "q",
            Some("zed@isle.example/r"),
            Element::new("ping", ns::PING),
        ),
    );
    assert_eq!(
        error_cond(to(&out, a)[0]).as_deref(),
        Some("service-unavailable")
    );
    // Presence to an unknown user is ignored.
    assert!(send(&mut h, a, pres(None, Some("zed@isle.example"))).is_empty());
    let out = send(&mut h, a, msg("x@nowhere.example", "chat", "?"));
    assert_eq!(
        error_cond(to(&out, a)[0]).as_deref(),
        Some("remote-server-not-found")
    );
    let out = send(&mut h, a, msg("x@linked.example", "chat", "hello"));
    assert_eq!(out[0].to.as_str(), "x@linked.example");
    assert_eq!(out[0].stanza.attr("from"), Some(a));
    // A subscription to a routed remote contact leaves as presence.
    let out = send(&mut h, a, pres(Some("subscribe"), Some("x@linked.example")));
    let remote = to(&out, "x@linked.example");
    assert_eq!(remote[0].attr("from"), Some("ann@isle.example"));
    assert!(
        item_of(&h, "ann@isle.example", "x@linked.example")
            .unwrap()
            .ask
    );
    let out = send(&mut h, a, msg("not a jid@@", "chat", "?"));
    assert_eq!(error_cond(to(&out, a)[0]).as_deref(), Some("jid-malformed"));
}

// ------------------------------------------------------------ server duties

#[test]
fn server_answers_disco_ping_version_and_refuses_the_rest() {
    let mut h = hub_with(|c| c.disco_items = vec!["conference.isle.example".to_owned()]);
    let a = "ann@isle.example/a";
    h.session_bound(now(), &j(a)).unwrap();
    let out = send(
        &mut h,
        a,
        iq(
            "get",
            "1",
            Some(DOMAIN),
            Element::new("query", ns::DISCO_INFO),
        ),
    );
    let q = to(&out, a)[0].get_child("query", ns::DISCO_INFO).unwrap();
    let features: Vec<_> = q.children().filter_map(|f| f.attr("var")).collect();
    assert!(features.contains(&ns::PING) && features.contains(&ns::VERSION));
    assert_eq!(to(&out, a)[0].attr("from"), Some(DOMAIN));
    let out = send(
        &mut h,
        a,
        iq("get", "2", None, Element::new("query", ns::DISCO_ITEMS)),
    );
    assert_eq!(to(&out, a)[0].attr("type"), Some("result"));
    let items: Vec<_> = to(&out, a)[0]
        .get_child("query", ns::DISCO_ITEMS)
        .unwrap()
        .children()
        .filter_map(|i| i.attr("jid"))
        .collect();
    assert_eq!(items, ["conference.isle.example"]);
    let out = send(
        &mut h,
        a,
        iq("get", "3", Some(DOMAIN), Element::new("ping", ns::PING)),
    );
    assert_eq!(to(&out, a)[0].attr("type"), Some("result"));
    assert_eq!(to(&out, a)[0].attr("id"), Some("3"));
    let out = send(
        &mut h,
        a,
        iq("get", "4", Some(DOMAIN), Element::new("query", ns::VERSION)),
    );
    let v = to(&out, a)[0].get_child("query", ns::VERSION).unwrap();
    assert_eq!(v.get_child("name", ns::VERSION).unwrap().text(), "imp");
    for stanza in [
        iq(
            "get",
            "5",
            Some(DOMAIN),
            Element::new("query", "urn:example:unknown"),
        ),
        iq(
            "set",
            "6",
            Some("ben@isle.example"),
            Element::new("query", "urn:example:unknown"),
        ),
        iq(
            "get",
            "7",
            Some("ann@isle.example"),
            Element::new("ping", ns::PING),
        ),
    ] {
        let out = send(&mut h, a, stanza);
        assert_eq!(
            error_cond(to(&out, a)[0]).as_deref(),
            Some("service-unavailable")
        );
    }
    // No payload, or two, is a bad request; results are never answered.
    let bare = Element::new("iq", ns::CLIENT)
        .with_attr("type", "get")
        .with_attr("id", "8");
    let out = send(&mut h, a, bare);
    assert_eq!(error_cond(to(&out, a)[0]).as_deref(), Some("bad-request"));
    let result = Element::new("iq", ns::CLIENT)
        .with_attr("type", "result")
        .with_attr("id", "9");
    assert!(send(&mut h, a, result).is_empty());
}

#[test]
fn sessions_per_user_are_limited() {
    let mut h = hub_with(|c| c.max_sessions_per_user = Limit::Max(2));
    h.session_bound(now(), &j("ann@isle.example/1")).unwrap();
    h.session_bound(now(), &j("ann@isle.example/2")).unwrap();
    h.session_bound(now(), &j("ann@isle.example/2")).unwrap();
    assert!(matches!(
        h.session_bound(now(), &j("ann@isle.example/3")),
        Err(ImError::SessionLimitReached { max: 2 })
    ));
    // Others are not affected; ending one makes room.
    h.session_bound(now(), &j("ben@isle.example/1")).unwrap();
    h.session_ended(now(), &j("ann@isle.example/1"));
    h.session_bound(now(), &j("ann@isle.example/3")).unwrap();
    assert_eq!(h.sessions_of(&j("ann@isle.example")).len(), 2);
    // Stanzas from an unbound JID are ignored.
    assert!(
        send(
            &mut h,
            "ann@isle.example/1",
            msg("ben@isle.example/1", "chat", "x")
        )
        .is_empty()
    );
}

#[test]
fn active_client_is_the_last_one_that_spoke_within_the_window() {
    let mut h = hub();
    let t0 = now();
    let later = Now::new(t0.instant + Duration::from_secs(60), SystemTime::now());
    h.session_bound(t0, &j("ann@isle.example/a")).unwrap();
    h.session_bound(t0, &j("ann@isle.example/b")).unwrap();
    h.handle_stanza(later, &j("ann@isle.example/b"), available(0));
    let window = Duration::from_secs(300);
    assert_eq!(
        h.active_session(later, &j("ann@isle.example"), window),
        Some(j("ann@isle.example/b"))
    );
    let much_later = Now::new(t0.instant + Duration::from_secs(600), SystemTime::now());
    assert_eq!(
        h.active_session(much_later, &j("ann@isle.example"), window),
        None
    );
}

#[test]
fn directed_presence_memory_is_bounded() {
    let mut h = hub_with(|c| c.roster.max_directed = 1);
    online(&mut h, "ann@isle.example/a", 0);
    online(&mut h, "ben@isle.example/b", 0);
    online(&mut h, "cat@isle.example/c", 0);
    let out = send(
        &mut h,
        "ann@isle.example/a",
        pres(None, Some("ben@isle.example")),
    );
    assert_eq!(presences(&out, "ben@isle.example/b", None).len(), 1);
    let out = send(
        &mut h,
        "ann@isle.example/a",
        pres(None, Some("cat@isle.example")),
    );
    assert_eq!(
        presences(&out, "cat@isle.example/c", None).len(),
        1,
        "still delivered"
    );
    let out = h.session_ended(now(), &j("ann@isle.example/a"));
    assert_eq!(
        presences(&out, "ben@isle.example/b", Some("unavailable")).len(),
        1
    );
    assert!(presences(&out, "cat@isle.example/c", Some("unavailable")).is_empty());
}

#[test]
fn a_message_to_ones_own_bare_jid_reaches_every_resource() {
    let mut h = hub();
    online(&mut h, "ann@isle.example/a", 0);
    online(&mut h, "ann@isle.example/b", 0);
    for _ in 0..2 {
        let out = send(
            &mut h,
            "ann@isle.example/a",
            msg("ann@isle.example", "chat", "note"),
        );
        let got: BTreeSet<_> = out.iter().map(|d| d.to.to_string()).collect();
        assert_eq!(
            got,
            BTreeSet::from([
                "ann@isle.example/a".to_owned(),
                "ann@isle.example/b".to_owned()
            ])
        );
    }
}

#[test]
fn messages_handed_back_by_stream_management_go_to_offline_storage() {
    let mut h = hub_with(|c| c.offline.per_user = Limit::Max(1));
    online(&mut h, "ann@isle.example/a", 0);
    let m = msg("ben@isle.example/gone", "chat", "kept").with_attr("from", "ann@isle.example/a");
    assert!(
        h.store_offline_message(now(), &j("ben@isle.example/gone"), m.clone())
            .is_empty()
    );
    // Over the per-user limit: the sender gets an error, nothing is lost silently.
    let out = h.store_offline_message(now(), &j("ben@isle.example/gone"), m);
    assert_eq!(
        error_cond(to(&out, "ann@isle.example/a")[0]).as_deref(),
        Some("service-unavailable")
    );
    // Only messages are kept.
    let p = pres(None, Some("ben@isle.example")).with_attr("from", "ann@isle.example/a");
    assert!(
        h.store_offline_message(now(), &j("ben@isle.example"), p)
            .is_empty()
    );
    let out = online(&mut h, "ben@isle.example/b", 0);
    let msgs: Vec<_> = to(&out, "ben@isle.example/b")
        .into_iter()
        .filter(|e| e.name() == "message")
        .collect();
    assert_eq!(msgs.len(), 1);
    assert_eq!(
        msgs[0].get_child("body", ns::CLIENT).unwrap().text(),
        "kept"
    );
}
