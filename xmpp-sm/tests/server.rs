//! Scripted XEP-0198 exchanges against the server engine: every
//! parameter's bounds, each error case and its documented answer,
//! hibernation, expiry, takeover and the timeout policy.

mod support;

use std::time::Duration;

use bytes::Bytes;
use support::{World, core_server_config};
use xmpp_core::jid::Jid;
use xmpp_core::ns;
use xmpp_core::stream::{Output, SequentialIds, ServerStream};
use xmpp_core::xml::Element;
use xmpp_sm::server::{ACK_RATE_RANGE, ACK_TIMEOUT_RANGE, BUFFER_RANGE, RESUME_TIMEOUT_RANGE};
use xmpp_sm::{
    ClientEvent, ClientSmConfig, Disposition, Registry, RegistryEvent, ServerConfig, TimeoutPolicy,
};

fn sm(name: &str) -> Element {
    Element::new(name, ns::SM)
}

/// A world where the test drives the client by hand.
fn manual() -> World {
    let mut w = World::new(ServerConfig::default(), ClientSmConfig::default());
    w.sm_client = false;
    w.connect();
    w.settle();
    w
}

fn condition(e: &Element) -> Option<&str> {
    e.children()
        .find(|c| c.ns() == ns::STANZAS)
        .map(Element::name)
}

fn expired(w: &World) -> Vec<&xmpp_sm::Expired> {
    w.registry_events
        .iter()
        .filter_map(|e| match e {
            RegistryEvent::Expired(x) => Some(x),
            _ => None,
        })
        .collect()
}

#[test]
fn parameter_bounds() {
    let ok = |c: ServerConfig| c.validate().is_ok();
    assert!(ok(ServerConfig::default()));
    let d = ServerConfig::default();
    assert_eq!(d.resume_timeout, Duration::from_secs(60));
    assert_eq!(d.buffer, 100);
    assert_eq!(d.ack_request_every, 5);
    let secs = Duration::from_secs;
    for (v, good) in [
        (RESUME_TIMEOUT_RANGE.0 - secs(1), false),
        (RESUME_TIMEOUT_RANGE.0, true),
        (RESUME_TIMEOUT_RANGE.1, true),
        (RESUME_TIMEOUT_RANGE.1 + secs(1), false),
    ] {
        let c = ServerConfig {
            resume_timeout: v,
            ..ServerConfig::default()
        };
        assert_eq!(ok(c), good, "resume_timeout {v:?}");
    }
    for (v, good) in [
        (BUFFER_RANGE.0 - 1, false),
        (BUFFER_RANGE.0, true),
        (BUFFER_RANGE.1, true),
        (BUFFER_RANGE.1 + 1, false),
    ] {
        let c = ServerConfig {
            buffer: v,
            ..ServerConfig::default()
        };
        assert_eq!(ok(c), good, "buffer {v}");
    }
    for (v, good) in [
        (ACK_RATE_RANGE.0 - 1, false),
        (ACK_RATE_RANGE.0, true),
        (ACK_RATE_RANGE.1, true),
        (ACK_RATE_RANGE.1 + 1, false),
    ] {
        let c = ServerConfig {
            ack_request_every: v,
            ..ServerConfig::default()
        };
        assert_eq!(ok(c), good, "ack_request_every {v}");
    }
    for (v, good) in [
        (ACK_TIMEOUT_RANGE.0 - Duration::from_millis(1), false),
        (ACK_TIMEOUT_RANGE.0, true),
        (ACK_TIMEOUT_RANGE.1, true),
        (ACK_TIMEOUT_RANGE.1 + secs(1), false),
    ] {
        let c = ServerConfig {
            ack_timeout: v,
            ..ServerConfig::default()
        };
        assert_eq!(ok(c), good, "ack_timeout {v:?}");
    }
    let bad = ServerConfig {
        buffer: 1,
        ..ServerConfig::default()
    };
    assert!(Registry::new(bad, Box::new(SequentialIds::new("x"))).is_err());
}

#[test]
fn enable_before_auth_gets_failed_and_the_stream_lives() {
    let now = std::time::Instant::now();
    let mut s = ServerStream::new(core_server_config(), Box::new(SequentialIds::new("s")), now);
    s.handle_input(
        now,
        b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='verona.example' version='1.0'><enable xmlns='urn:xmpp:sm:3'/>",
    );
    let mut out = Vec::new();
    while let Some(o) = s.poll_output() {
        match o {
            Output::Transmit(b) => out.extend_from_slice(&b),
            Output::Timeout(_) => break,
            Output::Event(_) => {}
        }
    }
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("<failed xmlns=\"urn:xmpp:sm:3\"><unexpected-request xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/></failed>"), "{text}");
    assert!(!s.is_closed());
}

#[test]
fn enable_before_bind_is_unexpected() {
    let mut w = World::new(ServerConfig::default(), ClientSmConfig::default());
    w.sm_client = false;
    w.auto_bind = false;
    w.connect();
    w.settle();
    w.client_raw(&sm("enable"));
    let f = w.received("failed");
    assert_eq!(f.len(), 1);
    assert_eq!(condition(f[0]), Some("unexpected-request"));
    assert!(w.registry_events.is_empty() && w.reg.is_empty());
}

#[test]
fn enable_twice_is_unexpected() {
    let mut w = manual();
    w.client_raw(&sm("enable").with_attr("resume", "true"));
    let en = w.received("enabled");
    assert_eq!(en.len(), 1);
    assert_eq!(en[0].attr("resume"), Some("true"));
    assert_eq!(en[0].attr("max"), Some("60"));
    assert!(en[0].attr("id").is_some());
    w.client_raw(&sm("enable"));
    let f = w.received("failed");
    assert_eq!(f.len(), 1);
    assert_eq!(condition(f[0]), Some("unexpected-request"));
    assert_eq!(w.reg.len(), 1);
}

#[test]
fn requested_max_is_honoured_up_to_the_server_maximum() {
    for (asked, got) in [(Some("40"), "40"), (Some("500"), "60"), (None, "60")] {
        let mut w = manual();
        let mut e = sm("enable").with_attr("resume", "true");
        if let Some(a) = asked {
            e = e.with_attr("max", a);
        }
        w.client_raw(&e);
        assert_eq!(w.received("enabled")[0].attr("max"), Some(got), "{asked:?}");
    }
}

#[test]
fn ack_and_request_before_enable_are_unexpected() {
    let mut w = manual();
    w.client_raw(&sm("r"));
    w.client_raw(&sm("a").with_attr("h", "0"));
    let f = w.received("failed");
    assert_eq!(f.len(), 2);
    assert!(f.iter().all(|e| condition(e) == Some("unexpected-request")));
}

#[test]
fn ack_beyond_sent_ends_the_stream_with_handled_count_too_high() {
    let mut w = manual();
    w.client_raw(&sm("enable"));
    w.hub_send();
    w.hub_send();
    w.settle();
    w.client_raw(&sm("a").with_attr("h", "3"));
    let err = w
        .client_closed
        .last()
        .cloned()
        .flatten()
        .expect("stream error");
    assert_eq!(
        err.condition,
        xmpp_core::StreamErrorCondition::UndefinedCondition
    );
    let app = err.application.expect("application condition");
    assert!(app.is("handled-count-too-high", ns::SM));
    assert_eq!(app.attr("h"), Some("3"));
    assert_eq!(app.attr("send-count"), Some("2"));
}

#[test]
fn malformed_count_is_invalid_xml() {
    let mut w = manual();
    w.client_raw(&sm("enable"));
    w.client_raw(&sm("a").with_attr("h", "lots"));
    let err = w
        .client_closed
        .last()
        .cloned()
        .flatten()
        .expect("stream error");
    assert_eq!(err.condition, xmpp_core::StreamErrorCondition::InvalidXml);
}

#[test]
fn server_requests_acks_at_the_configured_rate() {
    for every in [1u32, 3, 64] {
        let cfg = ServerConfig {
            ack_request_every: every,
            buffer: 150,
            ..ServerConfig::default()
        };
        let mut w = World::new(cfg, ClientSmConfig::default());
        w.sm_client = false;
        w.connect();
        w.settle();
        w.client_raw(&sm("enable"));
        for _ in 0..128 {
            w.hub_send();
        }
        w.settle();
        assert_eq!(w.received("r").len() as u32, 128 / every, "every {every}");
    }
}

#[test]
fn answers_requests_with_the_inbound_count() {
    let mut w = manual();
    w.client_raw(&sm("enable"));
    for i in 0..3 {
        let m = Element::new("message", ns::CLIENT)
            .with_attr("to", "romeo@verona.example")
            .with_attr("id", format!("x{i}"));
        let now = w.now;
        w.cc.as_mut().unwrap().c.send_stanza(now, &m);
    }
    w.client_raw(&sm("r"));
    let a = w.received("a");
    assert_eq!(a.last().unwrap().attr("h"), Some("3"));
}

/// Opens a managed, resumable session with the real client layer.
fn managed(cfg: ServerConfig) -> World {
    let mut w = World::new(cfg, ClientSmConfig::default());
    w.connect();
    w.settle();
    assert!(w.client.is_active());
    assert!(w.client.can_resume());
    w
}

#[test]
fn resume_restores_the_session_and_resends_both_ways() {
    let mut w = managed(ServerConfig::default());
    // Three messages from the hub reach the client; the wire is cut
    // before the client's acks and its own two messages arrive.
    for _ in 0..3 {
        w.hub_send();
    }
    w.settle();
    w.client_send();
    w.client_send();
    w.hub_send();
    w.cut(true);
    assert!(w.reg.is_hibernating(&w.full()));
    w.hub_send();
    w.connect();
    w.settle();
    assert!(
        w.client_events
            .iter()
            .any(|e| matches!(e, ClientEvent::Resumed { resent: 2, .. }))
    );
    w.settle();
    for f in &w.down {
        assert_eq!((f.delivered, f.returned), (1, 0));
    }
    for f in &w.up {
        assert_eq!((f.delivered, f.returned), (1, 0));
    }
}

#[test]
fn resume_of_unknown_or_foreign_session_is_item_not_found() {
    let mut w = manual();
    w.client_raw(&sm("enable").with_attr("resume", "true"));
    let id = w.received("enabled")[0].attr("id").unwrap().to_owned();
    w.cut(true);
    w.auto_bind = false;
    // Unknown id.
    w.connect();
    w.settle();
    w.client_raw(
        &sm("resume")
            .with_attr("previd", "no-such")
            .with_attr("h", "0"),
    );
    let f = w.received("failed");
    assert_eq!(condition(f[0]), Some("item-not-found"));
    assert_eq!(f[0].attr("h"), None);
    // Someone else's id.
    w.cut(true);
    w.client_user = ("romeo".into(), "montague".into());
    w.connect();
    w.settle();
    w.client_raw(
        &sm("resume")
            .with_attr("previd", id.as_str())
            .with_attr("h", "0"),
    );
    let f = w.received("failed");
    assert_eq!(f.len(), 2);
    assert_eq!(condition(f[1]), Some("item-not-found"));
    assert_eq!(f[1].attr("h"), None);
    assert!(
        w.reg
            .is_hibernating(&Jid::new("juliet@verona.example/phone").unwrap())
    );
}

#[test]
fn resume_after_bind_is_unexpected() {
    let mut w = manual();
    w.client_raw(&sm("enable").with_attr("resume", "true"));
    let id = w.received("enabled")[0].attr("id").unwrap().to_owned();
    w.client_raw(
        &sm("resume")
            .with_attr("previd", id.as_str())
            .with_attr("h", "0"),
    );
    assert_eq!(
        condition(w.received("failed")[0]),
        Some("unexpected-request")
    );
}

#[test]
fn resume_claiming_too_much_is_handled_count_too_high() {
    let mut w = manual();
    w.client_raw(&sm("enable").with_attr("resume", "true"));
    let id = w.received("enabled")[0].attr("id").unwrap().to_owned();
    w.hub_send();
    w.settle();
    w.cut(true);
    w.auto_bind = false;
    w.connect();
    w.settle();
    w.client_raw(
        &sm("resume")
            .with_attr("previd", id.as_str())
            .with_attr("h", "9"),
    );
    let err = w
        .client_closed
        .last()
        .cloned()
        .flatten()
        .expect("stream error");
    let app = err.application.expect("application condition");
    assert_eq!(app.attr("send-count"), Some("1"));
    // The session is untouched and still resumable.
    assert!(w.reg.is_hibernating(&w.full()));
}

#[test]
fn expiry_bounces_unacked_messages_and_late_resume_gets_failed_h() {
    let mut w = managed(ServerConfig::default());
    w.client_send();
    w.settle();
    w.cut(true);
    w.hub_send();
    w.hub_send();
    w.advance(Duration::from_secs(59));
    assert!(expired(&w).is_empty());
    w.advance(Duration::from_secs(1));
    let x = expired(&w);
    assert_eq!(x.len(), 1);
    assert_eq!(x[0].unacked.len(), 2);
    assert!(
        x[0].unacked
            .iter()
            .all(|d| matches!(d, Disposition::Bounce { error, .. } if error.attr("to") == Some("romeo@verona.example/ladder")))
    );
    // Later messages go to offline storage (not a hibernating session).
    w.hub_send();
    assert_eq!(w.offline.len(), 1);
    // A late resume learns how many of its stanzas the server handled,
    // then binds afresh and gets the offline message.
    w.connect();
    w.settle();
    assert!(
        w.client_events
            .iter()
            .any(|e| *e == ClientEvent::ResumeFailed { handled: Some(1) })
    );
    assert!(w.client.is_active());
    assert_eq!(w.down[2].delivered, 1);
    assert!(w.offline.is_empty());
}

#[test]
fn offline_policy_stores_messages_of_the_last_resource() {
    let cfg = ServerConfig {
        policy: TimeoutPolicy::OfflineIfLastResource,
        ..ServerConfig::default()
    };
    let mut w = managed(cfg);
    w.cut(true);
    w.hub_send();
    w.advance(Duration::from_secs(61));
    let x = expired(&w);
    assert!(x[0].last_resource);
    assert!(matches!(x[0].unacked[0], Disposition::Offline(_)));
}

#[test]
fn buffer_overflow_ends_the_session_and_returns_everything() {
    let cfg = ServerConfig {
        buffer: 5,
        ..ServerConfig::default()
    };
    let mut w = managed(cfg);
    w.cut(true);
    for _ in 0..6 {
        w.hub_send();
    }
    w.advance(Duration::from_millis(1));
    let x = expired(&w);
    assert_eq!(x.len(), 1);
    assert_eq!(x[0].unacked.len(), 6);
    // A resume needing that history fails with the count; the client
    // falls back to a fresh bind.
    w.connect();
    w.settle();
    assert!(
        w.client_events
            .iter()
            .any(|e| matches!(e, ClientEvent::ResumeFailed { handled: Some(0) }))
    );
    assert!(w.client.is_active());
    assert!(w.down.iter().all(|f| f.returned == 1 && f.delivered == 0));
}

#[test]
fn ack_timeout_hibernates_then_resume_works() {
    let cfg = ServerConfig {
        ack_request_every: 1,
        ack_timeout: Duration::from_secs(10),
        ..ServerConfig::default()
    };
    let mut w = managed(cfg);
    // The client's link silently dies: the server's <r/> goes nowhere.
    w.cut(false);
    w.hub_send();
    w.advance(Duration::from_secs(9));
    assert!(!w.reg.is_hibernating(&w.full()));
    w.advance(Duration::from_secs(1));
    assert!(w.reg.is_hibernating(&w.full()));
    w.connect();
    w.settle();
    assert!(
        w.client_events
            .iter()
            .any(|e| matches!(e, ClientEvent::Resumed { .. }))
    );
    assert_eq!(w.down[0].delivered, 1);
}

#[test]
fn resume_takes_over_a_connection_still_open() {
    let mut w = managed(ServerConfig::default());
    let old = w.cc.as_ref().unwrap().server;
    w.hub_send();
    w.cut(false);
    w.connect();
    w.settle();
    assert!(w.registry_events.iter().any(|e| matches!(
        e,
        RegistryEvent::Resumed {
            took_over: true,
            ..
        }
    )));
    assert!(w.conns[old].s.is_closed() || w.conns[old].over);
    assert_eq!(w.down[0].delivered, 1);
    // The old connection refuses to carry stanzas now.
    let now = w.now;
    let conn = &mut w.conns[old];
    let r = conn.sm.send_bytes(
        now,
        &mut w.reg,
        &mut conn.s,
        Bytes::from_static(b"<message/>"),
    );
    assert!(r.is_err());
}

#[test]
fn counters_wrap_without_resetting() {
    let cfg = ServerConfig {
        counter_origin: u32::MAX - 1,
        ack_request_every: 1,
        ..ServerConfig::default()
    };
    let client = ClientSmConfig {
        counter_origin: u32::MAX - 1,
        ..ClientSmConfig::default()
    };
    let mut w = World::new(cfg, client);
    w.connect();
    w.settle();
    for _ in 0..4 {
        w.hub_send();
    }
    w.settle();
    assert_eq!(w.client.handled(), 2);
    w.cut(true);
    w.hub_send();
    w.connect();
    w.settle();
    assert!(
        w.client_events
            .iter()
            .any(|e| matches!(e, ClientEvent::Resumed { .. }))
    );
    assert_eq!(w.client.handled(), 3);
    assert!(w.down.iter().all(|f| f.delivered == 1));
}

#[test]
fn fresh_bind_ends_the_hibernating_session() {
    let mut w = managed(ServerConfig::default());
    w.cut(true);
    w.hub_send();
    // The client forgets its session and binds again.
    w.client = xmpp_sm::ClientSm::new(ClientSmConfig::default());
    w.connect();
    w.settle();
    w.advance(Duration::from_millis(1));
    let x = expired(&w);
    assert_eq!(x.len(), 1);
    assert_eq!(w.down[0].returned, 1);
}

#[test]
fn disabled_server_refuses_enable() {
    let cfg = ServerConfig {
        enabled: false,
        ..ServerConfig::default()
    };
    assert!(cfg.feature().is_none());
    let mut w = World::new(cfg, ClientSmConfig::default());
    w.sm_client = false;
    w.connect();
    w.settle();
    w.client_raw(&sm("enable"));
    assert_eq!(
        condition(w.received("failed")[0]),
        Some("feature-not-implemented")
    );
}
