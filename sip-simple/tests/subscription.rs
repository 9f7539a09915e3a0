//! RFC 6665 / 3856 / 3857 behaviour of the notifier and subscriber
//! engines, driven against each other without a network.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use presence_model::authz::{Decision, Reason, Verdict};
use sip_simple::pidf::{Basic, Presence, Tuple, XmlLimits};
use sip_simple::subscription::{
    LocalEndpoint, Notifier, NotifierConfig, SubState, Subscriber, SubscriberConfig,
    SubscriberEvent, TerminationReason,
};
use sip_simple::transaction::{Remote, Transport};
use sip_simple::winfo::{WatcherInfo, WatcherStatus};
use sip_simple::{Message, SipUri};

fn ids(prefix: &'static str) -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("{prefix}{n}")
    }
}

fn remote() -> Remote {
    Remote {
        transport: Transport::Udp,
        addr: "192.0.2.7:5060".parse::<SocketAddr>().unwrap(),
    }
}

fn endpoint(host: &str, user: &str) -> LocalEndpoint {
    LocalEndpoint {
        via_host: host.into(),
        via_port: Some(5060),
        transport: Transport::Udp,
        contact: SipUri::new(Some(user), host),
    }
}

fn notifier() -> Notifier<impl FnMut() -> String> {
    Notifier::new(
        NotifierConfig::new(endpoint("ps.example.org", "ps")),
        ids("nt"),
    )
}

fn subscriber(watcher: &str, target: &str, package: &str) -> Subscriber<impl FnMut() -> String> {
    Subscriber::new(
        SubscriberConfig {
            local: endpoint("client.example.org", watcher),
            from: SipUri::new(Some(watcher), "example.org"),
            target: SipUri::new(Some(target), "example.org"),
            package: package.into(),
            expires: 600,
        },
        ids(if package == "presence" { "s" } else { "w" }),
    )
}

fn allow(_: &str, _: &str, _: usize) -> Decision {
    Decision::allow(Reason::AutoAuthorized)
}

fn reparse(m: &Message) -> Message {
    Message::parse(&m.to_bytes()).unwrap()
}

#[test]
fn subscribe_gets_200_and_immediate_notify_with_state() {
    let t0 = Instant::now();
    let mut n = notifier();
    let mut doc = Presence::new("pres:bob@example.org");
    doc.tuples.push(Tuple::new("t", Basic::Open));
    assert!(n.set_state(t0, "bob@example.org", Some(doc)).is_empty());
    let mut s = subscriber("alice", "bob", "presence");
    let req = reparse(&s.subscribe().unwrap());
    let out = n.handle_subscribe(t0, &req, remote(), true, &mut allow);
    let resp = reparse(&out.response);
    assert_eq!(resp.status(), Some(200), "RFC 6665 answers 200, not 202");
    assert_eq!(resp.expires().unwrap(), Some(600));
    assert!(resp.to().unwrap().tag().is_some());
    assert_eq!(
        s.handle_response(t0, &resp),
        SubscriberEvent::Accepted { expires: 600 }
    );
    assert_eq!(out.notifies.len(), 1);
    let notify = reparse(&out.notifies[0].request);
    assert_eq!(out.notifies[0].remote, remote());
    assert_eq!(&*notify.top_via().unwrap().transport, "UDP");
    let st = notify.subscription_state().unwrap().unwrap();
    assert_eq!(&*st.state, "active");
    assert_eq!(st.expires(), Some(600));
    let (ok, ev) = s.handle_notify(t0, &notify);
    assert_eq!(ok.status(), Some(200));
    let SubscriberEvent::Notified(nf) = ev else {
        panic!("{ev:?}")
    };
    let (ct, body) = nf.body.unwrap();
    assert_eq!(ct, "application/pidf+xml");
    let p = Presence::parse(&body, &XmlLimits::DEFAULT).unwrap();
    assert_eq!(p.tuples[0].status.basic, Some(Basic::Open));
    // A state change reaches the watcher.
    let mut doc = Presence::new("pres:bob@example.org");
    doc.tuples.push(Tuple::new("t", Basic::Closed));
    let notes = n.set_state(t0, "bob@example.org", Some(doc));
    assert_eq!(notes.len(), 1);
    let (_, ev) = s.handle_notify(t0, &reparse(&notes[0].request));
    assert!(matches!(ev, SubscriberEvent::Notified(_)));
}

#[test]
fn expires_negotiation() {
    let t0 = Instant::now();
    let mut n = notifier();
    let mut s = subscriber("alice", "bob", "presence");
    let mut req = reparse(&s.subscribe().unwrap());
    req.set_header(sip_simple::HeaderName::Expires, "10")
        .unwrap();
    let out = n.handle_subscribe(t0, &req, remote(), true, &mut allow);
    let resp = reparse(&out.response);
    assert_eq!(resp.status(), Some(423));
    assert_eq!(resp.min_expires().unwrap(), Some(60));
    // Our subscriber retries with the minimum when asked for more.
    let mut short = Subscriber::new(
        SubscriberConfig {
            local: endpoint("c.example.org", "al"),
            from: SipUri::new(Some("al"), "example.org"),
            target: SipUri::new(Some("bob"), "example.org"),
            package: "presence".into(),
            expires: 30,
        },
        ids("q"),
    );
    let r1 = reparse(&short.subscribe().unwrap());
    let o1 = n.handle_subscribe(t0, &r1, remote(), true, &mut allow);
    let SubscriberEvent::Retry(r2) = short.handle_response(t0, &reparse(&o1.response)) else {
        panic!()
    };
    let r2 = reparse(&r2);
    assert_eq!(r2.expires().unwrap(), Some(60));
    assert!(r2.cseq().unwrap().seq > r1.cseq().unwrap().seq);
    let o2 = n.handle_subscribe(t0, &r2, remote(), true, &mut allow);
    assert_eq!(o2.response.status(), Some(200));
    // Too long is shortened to the maximum.
    let mut long = subscriber("carol", "bob", "presence");
    let mut r = reparse(&long.subscribe().unwrap());
    r.set_header(sip_simple::HeaderName::Expires, "99999")
        .unwrap();
    let o = n.handle_subscribe(t0, &r, remote(), true, &mut allow);
    assert_eq!(reparse(&o.response).expires().unwrap(), Some(3600));
}

#[test]
fn bad_event_and_unknown_dialog_and_unknown_user() {
    let t0 = Instant::now();
    let mut n = notifier();
    let mut s = subscriber("alice", "bob", "dialog");
    let req = reparse(&s.subscribe().unwrap());
    let out = n.handle_subscribe(t0, &req, remote(), true, &mut allow);
    let resp = reparse(&out.response);
    assert_eq!(resp.status(), Some(489));
    assert!(
        resp.header(sip_simple::HeaderName::AllowEvents)
            .unwrap()
            .contains("presence")
    );
    assert_eq!(s.handle_response(t0, &resp), SubscriberEvent::Failed(489));
    let mut req = req.clone();
    req.remove_header(sip_simple::HeaderName::Event).unwrap();
    assert_eq!(
        n.handle_subscribe(t0, &req, remote(), true, &mut allow)
            .response
            .status(),
        Some(489)
    );
    // In-dialog SUBSCRIBE for a dialog we do not know.
    let mut s = subscriber("alice", "bob", "presence");
    let mut req = reparse(&s.subscribe().unwrap());
    req.set_header(sip_simple::HeaderName::To, "<sip:bob@example.org>;tag=nope")
        .unwrap();
    assert_eq!(
        n.handle_subscribe(t0, &req, remote(), true, &mut allow)
            .response
            .status(),
        Some(481)
    );
    let req = reparse(&s.subscribe().unwrap());
    assert_eq!(
        n.handle_subscribe(t0, &req, remote(), false, &mut allow)
            .response
            .status(),
        Some(404)
    );
}

#[test]
fn refresh_unsubscribe_and_timeout() {
    let t0 = Instant::now();
    let mut n = notifier();
    let mut s = subscriber("alice", "bob", "presence");
    let req = reparse(&s.subscribe().unwrap());
    let out = n.handle_subscribe(t0, &req, remote(), true, &mut allow);
    s.handle_response(t0, &reparse(&out.response));
    s.handle_notify(t0, &reparse(&out.notifies[0].request));
    // Refresh is due before expiry.
    let due = s.poll_timeout().unwrap();
    assert!(due < t0 + Duration::from_secs(600) && due > t0);
    assert!(s.handle_timeout(t0).is_empty());
    let refresh = s.handle_timeout(due);
    assert_eq!(refresh.len(), 1);
    let refresh = reparse(&refresh[0]);
    assert!(refresh.to().unwrap().tag().is_some());
    let o = n.handle_subscribe(due, &refresh, remote(), true, &mut allow);
    assert_eq!(o.response.status(), Some(200));
    assert_eq!(o.notifies.len(), 1, "a refresh gets a NOTIFY too");
    // A replayed (old CSeq) refresh is refused.
    assert_eq!(
        n.handle_subscribe(due, &refresh, remote(), true, &mut allow)
            .response
            .status(),
        Some(500)
    );
    // Un-subscribe: 200 and a terminated NOTIFY.
    let un = s.unsubscribe();
    let un = reparse(&un[0]);
    assert_eq!(un.expires().unwrap(), Some(0));
    let o = n.handle_subscribe(due, &un, remote(), true, &mut allow);
    assert_eq!(o.response.status(), Some(200));
    let last = reparse(&o.notifies[0].request);
    assert_eq!(
        &*last.subscription_state().unwrap().unwrap().state,
        "terminated"
    );
    assert!(n.is_empty());
    let (_, ev) = s.handle_notify(due, &last);
    assert!(matches!(
        ev,
        SubscriberEvent::Terminated {
            reason: Some(TerminationReason::Timeout),
            ..
        }
    ));
    // Expiry without refresh.
    let mut s2 = subscriber("dave", "bob", "presence");
    let o = n.handle_subscribe(
        t0,
        &reparse(&s2.subscribe().unwrap()),
        remote(),
        true,
        &mut allow,
    );
    assert_eq!(o.response.status(), Some(200));
    let at = n.poll_timeout().unwrap();
    assert_eq!(at, t0 + Duration::from_secs(600));
    let gone = n.handle_timeout(at);
    let st = reparse(&gone[0].request)
        .subscription_state()
        .unwrap()
        .unwrap();
    assert_eq!(st.reason(), Some("timeout"));
    assert!(n.is_empty());
}

#[test]
fn termination_reasons_and_retry_after() {
    let t0 = Instant::now();
    let mut n = notifier();
    for (i, reason) in [
        TerminationReason::Rejected,
        TerminationReason::NoResource,
        TerminationReason::Deactivated,
        TerminationReason::Probation,
        TerminationReason::Giveup,
        TerminationReason::Timeout,
    ]
    .into_iter()
    .enumerate()
    {
        let name: &'static str = Box::leak(format!("w{i}").into_boxed_str());
        let mut s = subscriber(name, "bob", "presence");
        let o = n.handle_subscribe(
            t0,
            &reparse(&s.subscribe().unwrap()),
            remote(),
            true,
            &mut allow,
        );
        s.handle_response(t0, &reparse(&o.response));
        let id = o.notifies[0].subscription;
        let out = n.terminate(t0, id, reason, Some(30)).unwrap();
        let note = reparse(&out[0].request);
        let st = note.subscription_state().unwrap().unwrap();
        assert_eq!(st.reason(), Some(reason.as_str()));
        assert_eq!(st.retry_after(), Some(30));
        let (_, ev) = s.handle_notify(t0, &note);
        assert_eq!(
            ev,
            SubscriberEvent::Terminated {
                dialog: s.dialogs().first().cloned().unwrap_or_else(|| note
                    .from()
                    .unwrap()
                    .tag()
                    .unwrap()
                    .to_owned()),
                reason: Some(reason),
                retry_after: Some(30)
            }
        );
        assert!(n.terminate(t0, id, reason, None).is_err());
    }
}

#[test]
fn authorization_hook_verdicts() {
    let t0 = Instant::now();
    let mut n = notifier();
    let mut verdict = |p: &str, w: &str, _: usize| -> Decision {
        assert_eq!(p, "bob@example.org");
        match w {
            "eve@example.org" => Decision::block(Reason::BlockedList),
            "mallory@example.org" => Decision::polite_block(Reason::BlockedList),
            "pat@example.org" => Decision::confirm(Reason::AskMe),
            _ => Decision::allow(Reason::AllowedList),
        }
    };
    let mut eve = subscriber("eve", "bob", "presence");
    let o = n.handle_subscribe(
        t0,
        &reparse(&eve.subscribe().unwrap()),
        remote(),
        true,
        &mut verdict,
    );
    assert_eq!(o.response.status(), Some(403));
    let mut doc = Presence::new("pres:bob@example.org");
    doc.tuples.push(Tuple::new("t", Basic::Open));
    n.set_state(t0, "bob@example.org", Some(doc));
    let mut m = subscriber("mallory", "bob", "presence");
    let o = n.handle_subscribe(
        t0,
        &reparse(&m.subscribe().unwrap()),
        remote(),
        true,
        &mut verdict,
    );
    assert_eq!(o.response.status(), Some(200));
    let body = reparse(&o.notifies[0].request).body().clone();
    let p = Presence::parse(&body, &XmlLimits::DEFAULT).unwrap();
    assert_eq!(
        p.tuples[0].status.basic,
        Some(Basic::Closed),
        "polite block shows closed"
    );
    let mut pat = subscriber("pat", "bob", "presence");
    let o = n.handle_subscribe(
        t0,
        &reparse(&pat.subscribe().unwrap()),
        remote(),
        true,
        &mut verdict,
    );
    let note = reparse(&o.notifies[0].request);
    assert_eq!(
        &*note.subscription_state().unwrap().unwrap().state,
        "pending"
    );
    assert!(note.body().is_empty());
    let id = o.notifies[0].subscription;
    assert_eq!(n.get(id).unwrap().state, SubState::Pending);
    let out = n.authorize(t0, id, Verdict::Allow).unwrap();
    let note = reparse(&out[0].request);
    assert_eq!(
        &*note.subscription_state().unwrap().unwrap().state,
        "active"
    );
    let p = Presence::parse(note.body(), &XmlLimits::DEFAULT).unwrap();
    assert_eq!(p.tuples[0].status.basic, Some(Basic::Open));
}

#[test]
fn policy_authorizer_uses_presence_model() {
    use presence_model::address::Domain;
    use presence_model::authz::{ServiceConfig, UserPolicy};
    use sip_simple::subscription::PolicyAuthorizer;
    let t0 = Instant::now();
    let mut n = notifier();
    let mut cfg = ServiceConfig::new([Domain::parse("example.org").unwrap()]);
    cfg.auto_authorize = true;
    let mut a = PolicyAuthorizer {
        config: cfg.clone(),
        policies: |_: &_| UserPolicy::default(),
    };
    let mut s = subscriber("alice", "bob", "presence");
    let o = n.handle_subscribe(
        t0,
        &reparse(&s.subscribe().unwrap()),
        remote(),
        true,
        &mut a,
    );
    assert_eq!(o.response.status(), Some(200));
    cfg.auto_authorize = false;
    let mut a = PolicyAuthorizer {
        config: cfg,
        policies: |_: &_| UserPolicy::default(),
    };
    let mut s = subscriber("carol", "bob", "presence");
    let o = n.handle_subscribe(
        t0,
        &reparse(&s.subscribe().unwrap()),
        remote(),
        true,
        &mut a,
    );
    assert_eq!(
        o.response.status(),
        Some(403),
        "SIP requires auto-authorization"
    );
}

#[test]
fn limits_per_presentity_and_table() {
    let t0 = Instant::now();
    let mut cfg = NotifierConfig::new(endpoint("ps.example.org", "ps"));
    cfg.max_per_presentity = 1;
    cfg.max_subscriptions = 2;
    let mut n = Notifier::new(cfg, ids("n"));
    let mut a = subscriber("a", "bob", "presence");
    let mut b = subscriber("b", "bob", "presence");
    let mut c = subscriber("c", "kim", "presence");
    let mut d = subscriber("d", "lee", "presence");
    assert_eq!(
        n.handle_subscribe(
            t0,
            &reparse(&a.subscribe().unwrap()),
            remote(),
            true,
            &mut allow
        )
        .response
        .status(),
        Some(200)
    );
    assert_eq!(
        n.handle_subscribe(
            t0,
            &reparse(&b.subscribe().unwrap()),
            remote(),
            true,
            &mut allow
        )
        .response
        .status(),
        Some(403)
    );
    assert_eq!(
        n.handle_subscribe(
            t0,
            &reparse(&c.subscribe().unwrap()),
            remote(),
            true,
            &mut allow
        )
        .response
        .status(),
        Some(200)
    );
    assert_eq!(
        n.handle_subscribe(
            t0,
            &reparse(&d.subscribe().unwrap()),
            remote(),
            true,
            &mut allow
        )
        .response
        .status(),
        Some(503)
    );
}

#[test]
fn forked_notifies_make_separate_dialogs() {
    let t0 = Instant::now();
    let mut n1 = notifier();
    let mut n2 = Notifier::new(
        NotifierConfig::new(endpoint("ps2.example.org", "ps")),
        ids("other"),
    );
    let mut s = subscriber("alice", "bob", "presence");
    let req = reparse(&s.subscribe().unwrap());
    let o1 = n1.handle_subscribe(t0, &req, remote(), true, &mut allow);
    let o2 = n2.handle_subscribe(t0, &req, remote(), true, &mut allow);
    s.handle_response(t0, &reparse(&o1.response));
    // The second fork's NOTIFY arrives without its 200 (only one 2xx gets
    // through a forking proxy).
    let (ok, ev) = s.handle_notify(t0, &reparse(&o2.notifies[0].request));
    assert_eq!(ok.status(), Some(200));
    assert!(matches!(ev, SubscriberEvent::Notified(_)));
    s.handle_notify(t0, &reparse(&o1.notifies[0].request));
    assert_eq!(s.dialogs().len(), 2);
    let un = s.unsubscribe();
    assert_eq!(un.len(), 2, "every fork gets its un-subscribe");
    // A NOTIFY for another subscription is refused.
    let mut other = subscriber("zed", "bob", "presence");
    let o = n1.handle_subscribe(
        t0,
        &reparse(&other.subscribe().unwrap()),
        remote(),
        true,
        &mut allow,
    );
    let (resp, _) = s.handle_notify(t0, &reparse(&o.notifies[0].request));
    assert_eq!(resp.status(), Some(481));
}

#[test]
fn watcher_info_tells_the_presentity_and_lets_it_authorize() {
    let t0 = Instant::now();
    let mut n = notifier();
    let mut confirm = |_: &str, _: &str, _: usize| Decision::confirm(Reason::AskMe);
    // Only bob may watch bob's watchers.
    let mut nosy = subscriber("eve", "bob", "presence.winfo");
    let o = n.handle_subscribe(
        t0,
        &reparse(&nosy.subscribe().unwrap()),
        remote(),
        true,
        &mut allow,
    );
    assert_eq!(o.response.status(), Some(403));
    let mut w = subscriber("bob", "bob", "presence.winfo");
    let o = n.handle_subscribe(
        t0,
        &reparse(&w.subscribe().unwrap()),
        remote(),
        true,
        &mut allow,
    );
    assert_eq!(o.response.status(), Some(200));
    let first = reparse(&o.notifies[0].request);
    let wi = WatcherInfo::parse(first.body(), &XmlLimits::DEFAULT).unwrap();
    assert_eq!(wi.version, 0);
    assert!(wi.lists[0].watchers.is_empty());
    let mut s = subscriber("alice", "bob", "presence");
    let o = n.handle_subscribe(
        t0,
        &reparse(&s.subscribe().unwrap()),
        remote(),
        true,
        &mut confirm,
    );
    assert_eq!(o.notifies.len(), 2, "watcher NOTIFY and winfo NOTIFY");
    let winfo = reparse(&o.notifies[1].request);
    let (_, ev) = w.handle_notify(t0, &winfo);
    let SubscriberEvent::Notified(nf) = ev else {
        panic!()
    };
    let wi = WatcherInfo::parse(&nf.body.unwrap().1, &XmlLimits::DEFAULT).unwrap();
    assert_eq!(wi.version, 1);
    let watcher = &wi.lists[0].watchers[0];
    assert_eq!(watcher.status, WatcherStatus::Pending);
    assert_eq!(watcher.uri, "sip:alice@example.org");
    // Bob approves alice using the id from the document.
    let id = sip_simple::subscription::SubscriptionId(watcher.id.parse().unwrap());
    let out = n.authorize(t0, id, Verdict::Allow).unwrap();
    assert_eq!(out.len(), 2);
    let wi = WatcherInfo::parse(reparse(&out[1].request).body(), &XmlLimits::DEFAULT).unwrap();
    assert_eq!(wi.lists[0].watchers[0].status, WatcherStatus::Active);
    assert_eq!(wi.lists[0].watchers[0].event, "approved");
    // Rejecting ends alice's subscription.
    let out = n.authorize(t0, id, Verdict::Block).unwrap();
    let st = reparse(&out[0].request)
        .subscription_state()
        .unwrap()
        .unwrap();
    assert_eq!(st.reason(), Some("rejected"));
}

#[test]
fn notify_via_names_the_watchers_transport() {
    let t0 = Instant::now();
    let mut n = notifier();
    let mut s = subscriber("alice", "bob", "presence");
    let tcp = Remote {
        transport: Transport::Tcp,
        ..remote()
    };
    let o = n.handle_subscribe(t0, &reparse(&s.subscribe().unwrap()), tcp, true, &mut allow);
    assert_eq!(o.notifies[0].remote.transport, Transport::Tcp);
    assert_eq!(
        &*reparse(&o.notifies[0].request).top_via().unwrap().transport,
        "TCP"
    );
}

#[test]
fn record_route_builds_route_sets_both_ways() {
    let t0 = Instant::now();
    let mut n = notifier();
    let mut s = subscriber("alice", "bob", "presence");
    let mut req = reparse(&s.subscribe().unwrap());
    // Two proxies on the path, nearest the notifier first.
    req.push_header(sip_simple::Header::new(
        sip_simple::HeaderName::RecordRoute,
        "<sip:p2.example.org;lr>, <sip:p1.example.org;lr>",
    ))
    .unwrap();
    let o = n.handle_subscribe(t0, &req, remote(), true, &mut allow);
    let ok = reparse(&o.response);
    assert_eq!(ok.record_routes().unwrap().len(), 2);
    let notify = reparse(&o.notifies[0].request);
    let routes: Vec<String> = notify
        .routes()
        .unwrap()
        .iter()
        .map(|r| r.uri.to_string())
        .collect();
    assert_eq!(routes, ["sip:p2.example.org;lr", "sip:p1.example.org;lr"]);
    s.handle_response(t0, &ok);
    s.handle_notify(t0, &notify);
    let refresh = reparse(&s.unsubscribe()[0]);
    let routes: Vec<String> = refresh
        .routes()
        .unwrap()
        .iter()
        .map(|r| r.uri.to_string())
        .collect();
    assert_eq!(routes, ["sip:p1.example.org;lr", "sip:p2.example.org;lr"]);
}

#[test]
fn failed_notify_removes_the_subscription() {
    let t0 = Instant::now();
    let mut n = notifier();
    let mut s = subscriber("alice", "bob", "presence");
    let o = n.handle_subscribe(
        t0,
        &reparse(&s.subscribe().unwrap()),
        remote(),
        true,
        &mut allow,
    );
    n.notify_failed(t0, o.notifies[0].subscription);
    assert!(n.is_empty());
}

#[test]
fn fetch_with_expires_zero_gets_one_terminated_notify_with_state() {
    let t0 = Instant::now();
    let mut n = notifier();
    let mut doc = Presence::new("pres:bob@example.org");
    doc.tuples.push(Tuple::new("t", Basic::Open));
    n.set_state(t0, "bob@example.org", Some(doc));
    let mut s = subscriber("alice", "bob", "presence");
    let mut req = reparse(&s.subscribe().unwrap());
    req.set_header(sip_simple::HeaderName::Expires, "0")
        .unwrap();
    let o = n.handle_subscribe(t0, &req, remote(), true, &mut allow);
    assert_eq!(reparse(&o.response).expires().unwrap(), Some(0));
    let note = reparse(&o.notifies[0].request);
    assert_eq!(
        &*note.subscription_state().unwrap().unwrap().state,
        "terminated"
    );
    let p = Presence::parse(note.body(), &XmlLimits::DEFAULT).unwrap();
    assert_eq!(p.tuples[0].status.basic, Some(Basic::Open));
    assert!(n.is_empty());
}
