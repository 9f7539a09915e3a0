//! The presence server engine end to end, with our subscriber and
//! publisher engines as its clients and no sockets.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Instant;

use presence_model::authz::{Decision, Reason};
use sip_simple::pidf::{Basic, Presence, Tuple, XmlLimits};
use sip_simple::publish::{Publisher, PublisherEvent};
use sip_simple::server::{PresenceServer, ServerConfig, ServerEvent};
use sip_simple::subscription::{LocalEndpoint, Subscriber, SubscriberConfig, SubscriberEvent};
use sip_simple::transaction::{Output, Remote, Transport};
use sip_simple::{MediaType, Message, SipUri};

fn ids(prefix: &'static str) -> impl FnMut() -> String + Clone {
    let mut n = 0;
    move || {
        n += 1;
        format!("{prefix}{n}")
    }
}

fn remote(port: u16) -> Remote {
    Remote {
        transport: Transport::Udp,
        addr: SocketAddr::from(([192, 0, 2, 1], port)),
    }
}

fn ep(user: &str, port: u16) -> LocalEndpoint {
    LocalEndpoint {
        via_host: "192.0.2.1".into(),
        via_port: Some(port),
        transport: Transport::Udp,
        contact: SipUri::new(Some(user), &format!("192.0.2.1:{port}")),
    }
}

/// Gives a request a unique branch, as a client's transaction layer would.
fn wire(mut m: Message) -> Vec<u8> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut via = m.top_via().unwrap().clone();
    via.params
        .set("branch", Some(format!("z9hG4bKt{n}").into()));
    m.replace_top_via(&via).unwrap();
    m.to_bytes().to_vec()
}

/// Drains the server: messages sent to each port.
fn drain<G, B, A>(s: &mut PresenceServer<G, B, A>) -> (Vec<(u16, Message)>, Vec<ServerEvent>)
where
    G: sip_simple::subscription::IdGenerator + Clone,
    B: sip_simple::transaction::BranchGenerator,
    A: sip_simple::subscription::Authorizer,
{
    let mut msgs = Vec::new();
    let mut events = Vec::new();
    while let Some(o) = s.poll_output() {
        match o {
            Output::Transmit(t) => {
                msgs.push((t.remote.addr.port(), Message::parse(&t.payload).unwrap()))
            }
            Output::Event(e) => events.push(e),
            Output::Timeout(_) => break,
        }
    }
    (msgs, events)
}

#[test]
fn publish_reaches_watcher_as_composed_notify_and_message_is_relayed() {
    let t0 = Instant::now();
    let users: BTreeSet<String> = ["alice", "bob"].into_iter().map(String::from).collect();
    let cfg = ServerConfig::new(ep("ps", 5060), "example.org", users);
    let mut server =
        PresenceServer::new(cfg, ids("srv"), ids("br"), |_: &str, _: &str, _: usize| {
            Decision::allow(Reason::AutoAuthorized)
        });
    // Alice watches Bob.
    let mut alice = Subscriber::new(
        SubscriberConfig {
            local: ep("alice", 7001),
            from: SipUri::new(Some("alice"), "example.org"),
            target: SipUri::new(Some("bob"), "example.org"),
            package: "presence".into(),
            expires: 600,
        },
        ids("a"),
    );
    server.handle_bytes(t0, &wire(alice.subscribe().unwrap()), remote(7001));
    let (msgs, _) = drain(&mut server);
    assert_eq!(msgs.len(), 2, "200 and the first NOTIFY: {msgs:?}");
    assert_eq!(
        alice.handle_response(t0, &msgs[0].1),
        SubscriberEvent::Accepted { expires: 600 }
    );
    let (ok, ev) = alice.handle_notify(t0, &msgs[1].1);
    let SubscriberEvent::Notified(first) = ev else {
        panic!()
    };
    let closed = Presence::parse(&first.body.unwrap().1, &XmlLimits::DEFAULT).unwrap();
    assert_eq!(closed.tuples[0].status.basic, Some(Basic::Closed));
    server.handle_bytes(t0, &ok.to_bytes(), remote(7001));
    drain(&mut server);
    // Bob publishes from two devices.
    for (dev, port, basic) in [("phone", 7002u16, Basic::Open), ("pc", 7003, Basic::Closed)] {
        let mut p = Publisher::new(
            ep("bob", port),
            SipUri::new(Some("bob"), "example.org"),
            600,
            ids("p"),
        );
        let mut d = Presence::new("pres:bob@example.org");
        d.tuples.push(Tuple::new(dev, basic));
        server.handle_bytes(t0, &wire(p.publish(d).unwrap()), remote(port));
        let (msgs, _) = drain(&mut server);
        let to_pub: Vec<_> = msgs.iter().filter(|(p, _)| *p == port).collect();
        assert!(matches!(
            p.handle_response(t0, &to_pub[0].1),
            PublisherEvent::Published { .. }
        ));
        let notify = &msgs.iter().find(|(p, _)| *p == 7001).unwrap().1;
        let (ok, ev) = alice.handle_notify(t0, notify);
        server.handle_bytes(t0, &ok.to_bytes(), remote(7001));
        drain(&mut server);
        let SubscriberEvent::Notified(n) = ev else {
            panic!()
        };
        let doc = Presence::parse(&n.body.unwrap().1, &XmlLimits::DEFAULT).unwrap();
        assert_eq!(doc.tuples.last().unwrap().id, dev);
        if dev == "pc" {
            assert_eq!(doc.tuples.len(), 2, "both publications composed");
        }
    }
    // Bob sends Alice a MESSAGE: relayed to where Alice subscribed from.
    let mut g = ids("m");
    let m = sip_simple::message_im::build_message(
        &ep("bob", 7002),
        &SipUri::new(Some("bob"), "example.org"),
        &SipUri::new(Some("alice"), "example.org"),
        &MediaType::new("text", "plain"),
        "hi alice",
        &mut g,
    )
    .unwrap();
    server.handle_bytes(t0, &wire(m), remote(7002));
    let (msgs, events) = drain(&mut server);
    assert_eq!(
        msgs.iter().find(|(p, _)| *p == 7002).unwrap().1.status(),
        Some(200)
    );
    let relayed = &msgs.iter().find(|(p, _)| *p == 7001).unwrap().1;
    assert_eq!(&relayed.body()[..], b"hi alice");
    assert!(matches!(
        &events[0],
        ServerEvent::InstantMessage { relayed: true, .. }
    ));
    // Nobody knows where carol... is not a user; unknown users get 404.
    let m = sip_simple::message_im::build_message(
        &ep("bob", 7002),
        &SipUri::new(Some("bob"), "example.org"),
        &SipUri::new(Some("carol"), "example.org"),
        &MediaType::new("text", "plain"),
        "x",
        &mut g,
    )
    .unwrap();
    server.handle_bytes(t0, &wire(m), remote(7002));
    let (msgs, _) = drain(&mut server);
    assert_eq!(msgs[0].1.status(), Some(404));
    // Garbage gets a parse-error answer or nothing, never a panic.
    server.handle_bytes(
        t0,
        b"SUBSCRIBE sip:bob@example.org SIP/2.0\r\nVia: nonsense\r\n\r\n",
        remote(7009),
    );
    drain(&mut server);
}
