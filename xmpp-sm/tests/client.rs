//! The client layer against misbehaving or limited servers: counts
//! beyond what was sent, resumption refused without a count, servers
//! without stream management, and stanzas sent while offline.

mod support;

use support::World;
use xmpp_core::ns;
use xmpp_core::xml::Element;
use xmpp_sm::{ClientEvent, ClientSmConfig, ServerConfig};

fn managed() -> World {
    let mut w = World::new(ServerConfig::default(), ClientSmConfig::default());
    w.connect();
    w.settle();
    assert!(w.client.is_active());
    w
}

/// Delivers `e` from the server to the client as if the server sent it.
fn server_says(w: &mut World, e: &Element) {
    let conn = w.conn();
    assert!(conn.s.send_nonza(e));
    w.settle();
}

#[test]
fn ack_beyond_sent_ends_the_client_stream() {
    let mut w = managed();
    w.client_send();
    w.settle();
    server_says(&mut w, &Element::new("a", ns::SM).with_attr("h", "5"));
    // The server got the client's stream error and the session hibernates.
    let err = w
        .server_events
        .iter()
        .find_map(|e| match e {
            xmpp_core::stream::Event::Closed {
                error: Some(err),
                by_peer: true,
            } => Some(err.clone()),
            _ => None,
        })
        .expect("stream error from the client");
    let app = err.application.expect("application condition");
    assert!(app.is("handled-count-too-high", ns::SM));
    assert_eq!(app.attr("h"), Some("5"));
    assert_eq!(app.attr("send-count"), Some("1"));
    assert!(w.reg.is_hibernating(&w.full()));
}

#[test]
fn client_answers_requests_and_is_acked() {
    let mut w = managed();
    for _ in 0..3 {
        w.hub_send();
    }
    w.client_send();
    w.settle();
    assert_eq!(w.client.handled(), 3);
    w.client.request_ack(w.now, &mut w.cc.as_mut().unwrap().c);
    w.settle();
    assert_eq!(w.client.unacked(), 0);
}

#[test]
fn stanzas_sent_offline_go_out_after_resume() {
    let mut w = managed();
    w.cut(true);
    w.client_send();
    w.client_send();
    assert_eq!(w.client.pending(), 2);
    w.connect();
    w.settle();
    assert_eq!(w.client.pending(), 0);
    assert!(w.up.iter().all(|f| f.delivered == 1));
}

#[test]
fn resume_refused_without_count_returns_stanzas_to_the_application() {
    let mut w = managed();
    w.client_send();
    w.client_send();
    // The stanzas never reach the server; the server forgets everything
    // (a new server registry, as after a restart).
    w.cut(true);
    w.reg = xmpp_sm::Registry::new(
        ServerConfig::default(),
        Box::new(xmpp_core::stream::SequentialIds::new("other-")),
    )
    .unwrap();
    w.connect();
    w.settle();
    assert!(
        w.client_events
            .iter()
            .any(|e| *e == ClientEvent::ResumeFailed { handled: None })
    );
    assert!(
        w.client_events
            .iter()
            .any(|e| matches!(e, ClientEvent::Unconfirmed(v) if v.len() == 2))
    );
    assert!(w.up.iter().all(|f| f.returned == 1 && f.delivered == 0));
    assert!(w.client.is_active());
}

#[test]
fn server_without_stream_management() {
    let mut w = World::new(ServerConfig::default(), ClientSmConfig::default());
    w.connect();
    // Strip the feature: a server that does not offer <sm/>.
    w.conns[0].s = xmpp_core::stream::ServerStream::new(
        {
            let mut c = support::core_server_config();
            c.post_auth_features.clear();
            c
        },
        Box::new(xmpp_core::stream::SequentialIds::new("plain-")),
        w.now,
    );
    w.settle();
    assert!(!w.client.is_active());
    w.client_send();
    w.settle();
    assert_eq!(w.up[0].delivered, 1);
}
