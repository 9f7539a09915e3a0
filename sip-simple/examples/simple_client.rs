//! A blocking UDP client that drives the `Publisher` and `Subscriber`
//! engines against a presence server (used by the Kamailio interop test):
//! publishes a PIDF document for `user`, subscribes to `user` as a
//! watcher, checks the NOTIFY carries the published tuple, modifies,
//! refreshes and removes the publication, then un-subscribes.
//!
//! Usage: `simple_client SERVER_ADDR DOMAIN USER WATCHER`. Exit code 0 on
//! success.

use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sip_simple::pidf::{Basic, Presence, Tuple, XmlLimits};
use sip_simple::publish::{Publisher, PublisherEvent};
use sip_simple::subscription::{LocalEndpoint, Subscriber, SubscriberConfig, SubscriberEvent};
use sip_simple::transaction::Transport;
use sip_simple::{Message, SipUri};

struct Net {
    sock: UdpSocket,
    server: SocketAddr,
    n: u64,
}

impl Net {
    fn send(&mut self, mut m: Message) -> Result<(), String> {
        self.n += 1;
        let mut via = m.top_via().ok_or("no Via")?.clone();
        via.params.set(
            "branch",
            Some(format!("z9hG4bKsc{}x{}", std::process::id(), self.n).into()),
        );
        m.replace_top_via(&via).map_err(|e| e.to_string())?;
        self.sock
            .send_to(&m.to_bytes(), self.server)
            .map_err(|e| e.to_string())?;
        Ok(())
    }
    fn recv(&self) -> Result<Message, String> {
        let mut buf = vec![0u8; 65535];
        let (n, _) = self
            .sock
            .recv_from(&mut buf)
            .map_err(|e| format!("recv: {e}"))?;
        Message::parse(buf.get(..n).unwrap_or_default()).map_err(|e| e.to_string())
    }
    fn response(&self) -> Result<Message, String> {
        loop {
            let m = self.recv()?;
            if m.status().is_some_and(|c| c >= 200) {
                return Ok(m);
            }
        }
    }
}

fn doc(entity: &str, basic: Basic, note: &str) -> Presence {
    let mut d = Presence::new(entity);
    d.tuples
        .push(Tuple::new("imp-tuple", basic).with_note(note));
    d
}

fn run(args: &[String]) -> Result<(), String> {
    let [server, domain, user, watcher] = args else {
        return Err("usage: simple_client SERVER_ADDR DOMAIN USER WATCHER".into());
    };
    let server: SocketAddr = server.parse().map_err(|_| "bad address")?;
    let sock = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let port = sock.local_addr().map_err(|e| e.to_string())?.port();
    let mut net = Net { sock, server, n: 0 };
    let local = LocalEndpoint {
        via_host: "127.0.0.1".into(),
        via_port: Some(port),
        transport: Transport::Udp,
        contact: SipUri::new(Some(watcher), &format!("127.0.0.1:{port}")),
    };
    // One generator per engine, each with its own prefix, so ids never
    // collide.
    let ids = |engine: &str| {
        let prefix = format!("{engine}{}x", std::process::id());
        let mut k = 0u64;
        move || {
            k += 1;
            format!("{prefix}{k}")
        }
    };
    let aor = SipUri::new(Some(user), domain);
    let entity = format!("sip:{user}@{domain}");
    let t0 = Instant::now();

    // 1. Initial PUBLISH.
    let mut publisher = Publisher::new(local.clone(), aor.clone(), 600, ids("stale"));
    net.send(
        publisher
            .publish(doc(&entity, Basic::Open, "first"))
            .ok_or("build")?,
    )?;
    match publisher.handle_response(t0, &net.response()?) {
        PublisherEvent::Published { etag, .. } => println!("published etag={etag}"),
        other => return Err(format!("initial PUBLISH: {other:?}")),
    }
    // 2. Subscribe and get the published state.
    let mut sub = Subscriber::new(
        SubscriberConfig {
            local: local.clone(),
            from: SipUri::new(Some(watcher), domain),
            target: aor.clone(),
            package: "presence".into(),
            expires: 600,
        },
        ids("sub"),
    );
    net.send(sub.subscribe().ok_or("build")?)?;
    let mut accepted = false;
    let mut notified = 0;
    let body_has = |ev: &SubscriberEvent, needle: &str| match ev {
        SubscriberEvent::Notified(n) => n.body.as_ref().is_some_and(|(_, b)| {
            Presence::parse_lenient(b, &XmlLimits::DEFAULT).is_ok_and(|p| {
                p.tuples
                    .iter()
                    .any(|t| t.notes.iter().any(|x| x.text == needle))
            })
        }),
        _ => false,
    };
    while !(accepted && notified > 0) {
        let m = net.recv()?;
        if m.is_request() {
            let (ok, ev) = sub.handle_notify(t0, &m);
            net.sock
                .send_to(&ok.to_bytes(), server)
                .map_err(|e| e.to_string())?;
            if !body_has(&ev, "first") {
                return Err(format!("first NOTIFY lacks the publication: {ev:?}"));
            }
            notified += 1;
        } else if let SubscriberEvent::Accepted { expires } = sub.handle_response(t0, &m) {
            println!("subscribed for {expires}s");
            accepted = true;
        }
    }
    println!("NOTIFY carried the published tuple");
    // 3. Modify: the watcher sees it.
    net.send(
        publisher
            .publish(doc(&entity, Basic::Closed, "second"))
            .ok_or("build")?,
    )?;
    let mut modified = false;
    let mut seen = false;
    while !(modified && seen) {
        let m = net.recv()?;
        if m.is_request() {
            let (ok, ev) = sub.handle_notify(t0, &m);
            net.sock
                .send_to(&ok.to_bytes(), server)
                .map_err(|e| e.to_string())?;
            seen |= body_has(&ev, "second");
        } else if matches!(
            publisher.handle_response(t0, &m),
            PublisherEvent::Published { .. }
        ) {
            modified = true;
        }
    }
    println!("modify reached the watcher");
    // 4. Refresh with SIP-If-Match; a stale tag gets 412.
    net.send(publisher.refresh().ok_or("no etag")?)?;
    loop {
        let m = net.recv()?;
        if m.is_request() {
            let (ok, _) = sub.handle_notify(t0, &m);
            net.sock
                .send_to(&ok.to_bytes(), server)
                .map_err(|e| e.to_string())?;
            continue;
        }
        match publisher.handle_response(t0, &m) {
            PublisherEvent::Published { etag, .. } => {
                println!("refreshed etag={etag}");
                break;
            }
            PublisherEvent::None => {}
            other => return Err(format!("refresh: {other:?}")),
        }
    }
    let mut stale = Publisher::new(local.clone(), aor.clone(), 600, ids("stale"));
    net.send(
        stale
            .publish(doc(&entity, Basic::Open, "x"))
            .ok_or("build")?,
    )?;
    let r = net.response()?;
    stale.handle_response(t0, &r);
    let mut bad = stale.refresh().ok_or("no etag")?;
    bad.set_header(sip_simple::HeaderName::SipIfMatch, "no-such-etag")
        .map_err(|e| e.to_string())?;
    net.send(bad)?;
    loop {
        let m = net.recv()?;
        if m.is_request() {
            let (ok, _) = sub.handle_notify(t0, &m);
            net.sock
                .send_to(&ok.to_bytes(), server)
                .map_err(|e| e.to_string())?;
            continue;
        }
        // RFC 3903 §6 says 412; Kamailio 5.6 with publ_cache=2 answers
        // 500. Either way the stale tag must be refused.
        match m.status() {
            Some(c) if c >= 400 => {
                println!("stale entity tag refused: {c}");
                break;
            }
            Some(c) if c >= 200 => return Err(format!("stale tag answered {c}")),
            _ => {}
        }
    }
    // 5. Remove, then un-subscribe.
    net.send(publisher.remove().ok_or("no etag")?)?;
    let mut removed = false;
    let mut terminated = false;
    for m in sub.unsubscribe() {
        net.send(m)?;
    }
    while !(removed && terminated) {
        let m = net.recv()?;
        if m.is_request() {
            let (ok, ev) = sub.handle_notify(t0, &m);
            net.sock
                .send_to(&ok.to_bytes(), server)
                .map_err(|e| e.to_string())?;
            terminated |= matches!(ev, SubscriberEvent::Terminated { .. });
        } else if publisher.handle_response(t0, &m) == PublisherEvent::Removed {
            removed = true;
        }
    }
    println!("removed and unsubscribed");
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("simple_client: {e}");
            ExitCode::FAILURE
        }
    }
}
