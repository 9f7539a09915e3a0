//! RFC 3903 publication: the publisher engine against the compositor.

use std::time::{Duration, Instant};

use sip_simple::pidf::{Basic, Presence, Tuple};
use sip_simple::publish::{Compositor, CompositorConfig, Publisher, PublisherEvent};
use sip_simple::subscription::LocalEndpoint;
use sip_simple::transaction::Transport;
use sip_simple::{HeaderName, Message, SipUri};

fn ids(prefix: &'static str) -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("{prefix}{n}")
    }
}

fn publisher(dev: &'static str) -> Publisher<impl FnMut() -> String> {
    Publisher::new(
        LocalEndpoint {
            via_host: format!("{dev}.example.org"),
            via_port: None,
            transport: Transport::Udp,
            contact: SipUri::new(Some("kim"), "dev.example.org"),
        },
        SipUri::new(Some("kim"), "example.org"),
        600,
        ids(dev),
    )
}

fn doc(tuple: &str, basic: Basic) -> Presence {
    let mut d = Presence::new("pres:kim@example.org");
    d.tuples.push(Tuple::new(tuple, basic));
    d
}

fn rp(m: &Message) -> Message {
    Message::parse(&m.to_bytes()).unwrap()
}

#[test]
fn initial_refresh_modify_remove() {
    let t0 = Instant::now();
    let mut esc = Compositor::new(CompositorConfig::default(), ids("etag"));
    let mut p = publisher("phone");
    let req = rp(&p.publish(doc("phone", Basic::Open)).unwrap());
    assert!(req.sip_if_match().unwrap().is_none());
    let out = esc.handle_publish(t0, &req, true);
    assert_eq!(out.changed.as_deref(), Some("kim@example.org"));
    let ev = p.handle_response(t0, &rp(&out.response));
    assert_eq!(
        ev,
        PublisherEvent::Published {
            etag: "etag1".into(),
            expires: 600
        }
    );
    // Refresh: no body, SIP-If-Match, new tag, composed state unchanged.
    let at = p.poll_timeout().unwrap();
    assert!(at < t0 + Duration::from_secs(600));
    let req = rp(&p.handle_timeout(at).unwrap());
    assert!(req.body().is_empty());
    assert_eq!(req.sip_if_match().unwrap().as_deref(), Some("etag1"));
    let out = esc.handle_publish(at, &req, true);
    assert_eq!(out.changed, None);
    assert!(matches!(
        p.handle_response(at, &rp(&out.response)),
        PublisherEvent::Published { .. }
    ));
    assert_eq!(p.etag(), Some("etag2"));
    // Modify.
    let req = rp(&p.publish(doc("phone", Basic::Closed)).unwrap());
    assert_eq!(req.sip_if_match().unwrap().as_deref(), Some("etag2"));
    let out = esc.handle_publish(at, &req, true);
    assert!(out.changed.is_some());
    p.handle_response(at, &rp(&out.response));
    assert_eq!(
        esc.composed("kim@example.org").unwrap().tuples[0]
            .status
            .basic,
        Some(Basic::Closed)
    );
    // Remove.
    let req = rp(&p.remove().unwrap());
    assert_eq!(req.expires().unwrap(), Some(0));
    let out = esc.handle_publish(at, &req, true);
    assert_eq!(
        p.handle_response(at, &rp(&out.response)),
        PublisherEvent::Removed
    );
    assert!(esc.composed("kim@example.org").is_none());
}

#[test]
fn publications_kept_apart_until_composition() {
    let t0 = Instant::now();
    let mut esc = Compositor::new(CompositorConfig::default(), ids("e"));
    let mut phone = publisher("phone");
    let mut pc = publisher("pc");
    let o = esc.handle_publish(
        t0,
        &rp(&phone.publish(doc("phone", Basic::Open)).unwrap()),
        true,
    );
    phone.handle_response(t0, &rp(&o.response));
    let o = esc.handle_publish(
        t0,
        &rp(&pc.publish(doc("pc", Basic::Closed)).unwrap()),
        true,
    );
    pc.handle_response(t0, &rp(&o.response));
    assert_eq!(esc.publications("kim@example.org"), 2);
    let c = esc.composed("kim@example.org").unwrap();
    assert_eq!(c.tuples.len(), 2);
    // Removing one leaves the other.
    let o = esc.handle_publish(t0, &rp(&phone.remove().unwrap()), true);
    assert_eq!(o.response.status(), Some(200));
    let c = esc.composed("kim@example.org").unwrap();
    assert_eq!(c.tuples.len(), 1);
    assert_eq!(c.tuples[0].id, "pc");
    // Expiry drops the rest.
    let at = esc.poll_timeout().unwrap();
    assert_eq!(esc.handle_timeout(at), vec!["kim@example.org".to_string()]);
    assert!(esc.composed("kim@example.org").is_none());
}

#[test]
fn error_paths() {
    let t0 = Instant::now();
    let mut esc = Compositor::new(CompositorConfig::default(), ids("e"));
    let mut p = publisher("phone");
    let good = rp(&p.publish(doc("phone", Basic::Open)).unwrap());
    // 412 for an unknown entity tag; the publisher starts over.
    let mut stale = good.clone();
    stale.set_header(HeaderName::SipIfMatch, "gone").unwrap();
    let o = esc.handle_publish(t0, &stale, true);
    assert_eq!(o.response.status(), Some(412));
    let o = esc.handle_publish(t0, &good, true);
    p.handle_response(t0, &rp(&o.response));
    let refresh = rp(&p.refresh().unwrap());
    let mut esc2 = Compositor::new(CompositorConfig::default(), ids("z"));
    let o = esc2.handle_publish(t0, &refresh, true);
    assert_eq!(o.response.status(), Some(412));
    let PublisherEvent::Retry(again) = p.handle_response(t0, &rp(&o.response)) else {
        panic!()
    };
    let again = rp(&again);
    assert!(again.sip_if_match().unwrap().is_none());
    assert!(!again.body().is_empty());
    assert_eq!(
        esc2.handle_publish(t0, &again, true).response.status(),
        Some(200)
    );
    // 489 for another package.
    let mut other = good.clone();
    other.set_header(HeaderName::Event, "dialog").unwrap();
    let r = esc.handle_publish(t0, &other, true).response;
    assert_eq!(r.status(), Some(489));
    assert!(r.header(HeaderName::AllowEvents).is_some());
    // 423 with Min-Expires, and the publisher retries.
    let mut brief = good.clone();
    brief.set_header(HeaderName::Expires, "5").unwrap();
    let r = esc.handle_publish(t0, &brief, true).response;
    assert_eq!(r.status(), Some(423));
    assert_eq!(rp(&r).min_expires().unwrap(), Some(60));
    // 415 for a body that is not PIDF, 400 for broken PIDF, 400 for an
    // initial PUBLISH without a body, 404 for an unknown user.
    let mut txt = good.clone();
    txt.set_header(HeaderName::ContentType, "text/plain")
        .unwrap();
    assert_eq!(
        esc.handle_publish(t0, &txt, true).response.status(),
        Some(415)
    );
    let mut broken = good.clone();
    broken.set_body(bytes::Bytes::from_static(b"<presence"));
    assert_eq!(
        esc.handle_publish(t0, &broken, true).response.status(),
        Some(400)
    );
    let mut empty = good.clone();
    empty.set_body(bytes::Bytes::new());
    assert_eq!(
        esc.handle_publish(t0, &empty, true).response.status(),
        Some(400)
    );
    assert_eq!(
        esc.handle_publish(t0, &good, false).response.status(),
        Some(404)
    );
    // Per-presentity limit.
    let mut small = Compositor::new(
        CompositorConfig {
            max_per_resource: 1,
            ..Default::default()
        },
        ids("s"),
    );
    assert_eq!(
        small.handle_publish(t0, &good, true).response.status(),
        Some(200)
    );
    assert_eq!(
        small.handle_publish(t0, &good, true).response.status(),
        Some(403)
    );
}

#[test]
fn publisher_423_retry() {
    let t0 = Instant::now();
    let mut esc = Compositor::new(
        CompositorConfig {
            min_expires: 900,
            ..Default::default()
        },
        ids("e"),
    );
    let mut p = publisher("phone");
    let o = esc.handle_publish(
        t0,
        &rp(&p.publish(doc("phone", Basic::Open)).unwrap()),
        true,
    );
    assert_eq!(o.response.status(), Some(423));
    let PublisherEvent::Retry(m) = p.handle_response(t0, &rp(&o.response)) else {
        panic!()
    };
    let m = rp(&m);
    assert_eq!(m.expires().unwrap(), Some(900));
    let o = esc.handle_publish(t0, &m, true);
    assert!(matches!(
        p.handle_response(t0, &rp(&o.response)),
        PublisherEvent::Published { expires: 900, .. }
    ));
}
