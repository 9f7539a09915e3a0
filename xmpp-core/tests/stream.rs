//! Client and server stream engines negotiating over an in-memory wire
//! with virtual time: STARTTLS or direct TLS, every SASL mechanism,
//! resource binding, stanza exchange, errors and timeouts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use xmpp_core::StreamErrorCondition as Cond;
use xmpp_core::jid::Jid;
use xmpp_core::ns;
use xmpp_core::sasl::{CredentialStore, Mechanism, ScramCredentials, ScramHash};
use xmpp_core::stream::{
    ClientConfig, ClientStream, Event, Output, SequentialIds, ServerConfig, ServerStream, TlsMode,
};
use xmpp_core::xml::Element;

struct Users(HashMap<String, String>);

impl CredentialStore for Users {
    fn scram_credentials(&self, username: &str, hash: ScramHash) -> Option<ScramCredentials> {
        let pw = self.0.get(username)?;
        ScramCredentials::derive(hash, pw, format!("salt:{username}").as_bytes(), 4096).ok()
    }
}

fn users() -> Arc<Users> {
    Arc::new(Users(HashMap::from([
        ("juliet".to_owned(), "r0m30myr0m30".to_owned()),
        ("romeo".to_owned(), "balcony".to_owned()),
    ])))
}

struct Tls {
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
}

fn tls(versions: &[&'static rustls::SupportedProtocolVersion]) -> Tls {
    let ck = rcgen::generate_simple_self_signed(vec!["capulet.example".to_owned()]).unwrap();
    let cert = CertificateDer::from(ck.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Tls {
        server: Arc::new(server),
        client: Arc::new(client),
    }
}

/// A tiny deterministic generator for chunk sizes.
struct Rng(u64);
impl Rng {
    fn next(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

struct Pair {
    c: ClientStream,
    s: ServerStream,
    now: Instant,
    rng: Rng,
    to_server: Vec<u8>,
    to_client: Vec<u8>,
    c_events: Vec<Event>,
    s_events: Vec<Event>,
    max_chunk: usize,
}

impl Pair {
    fn new(cc: ClientConfig, sc: ServerConfig, seed: u64, max_chunk: usize) -> Self {
        let now = Instant::now();
        Pair {
            c: ClientStream::new(cc, Box::new(SequentialIds::new("c")), now),
            s: ServerStream::new(sc, Box::new(SequentialIds::new("s")), now),
            now,
            rng: Rng(seed | 1),
            to_server: Vec::new(),
            to_client: Vec::new(),
            c_events: Vec::new(),
            s_events: Vec::new(),
            max_chunk,
        }
    }

    fn drain(&mut self) -> bool {
        let mut progress = false;
        while let Some(o) = self.c.poll_output() {
            match o {
                Output::Transmit(b) => self.to_server.extend_from_slice(&b),
                Output::Event(e) => self.c_events.push(e),
                Output::Timeout(_) => break,
            }
            progress = true;
        }
        while let Some(o) = self.s.poll_output() {
            match o {
                Output::Transmit(b) => self.to_client.extend_from_slice(&b),
                Output::Event(Event::BindRequested { requested }) => {
                    let res = requested.unwrap_or_else(|| "generated".to_owned());
                    self.s.complete_bind(self.now, Ok(res));
                }
                Output::Event(e) => self.s_events.push(e),
                Output::Timeout(_) => break,
            }
            progress = true;
        }
        progress
    }

    /// Moves bytes both ways in random chunk sizes until nothing moves.
    fn run(&mut self) {
        for _ in 0..100_000 {
            let mut progress = self.drain();
            if !self.to_server.is_empty() {
                let n = 1 + self.rng.next(self.max_chunk.min(self.to_server.len()));
                let chunk: Vec<u8> = self.to_server.drain(..n).collect();
                self.s.handle_input(self.now, &chunk);
                progress = true;
            }
            if !self.to_client.is_empty() {
                let n = 1 + self.rng.next(self.max_chunk.min(self.to_client.len()));
                let chunk: Vec<u8> = self.to_client.drain(..n).collect();
                self.c.handle_input(self.now, &chunk);
                progress = true;
            }
            if !progress {
                return;
            }
        }
        panic!("no quiescence");
    }
}

fn client_cfg(jid: &str, pw: &str, t: &Tls) -> ClientConfig {
    ClientConfig::new(Jid::new(jid).unwrap(), pw, Some(t.client.clone()))
}

fn server_cfg(t: &Tls) -> ServerConfig {
    ServerConfig::new("capulet.example", Some(t.server.clone()), users())
}

fn bound(events: &[Event]) -> Option<Jid> {
    events.iter().find_map(|e| match e {
        Event::Bound { jid } => Some(jid.clone()),
        _ => None,
    })
}

fn mechanism(events: &[Event]) -> Option<&'static str> {
    events.iter().find_map(|e| match e {
        Event::Authenticated { mechanism, .. } => Some(*mechanism),
        _ => None,
    })
}

fn closed(events: &[Event]) -> Option<Option<Cond>> {
    events.iter().find_map(|e| match e {
        Event::Closed { error, .. } => Some(error.as_ref().map(|e| e.condition)),
        _ => None,
    })
}

#[test]
fn starttls_scram_bind_and_message_in_random_chunks() {
    let t = tls(&[&rustls::version::TLS13]);
    for seed in 1..6u64 {
        let mut p = Pair::new(
            client_cfg("juliet@capulet.example/balcony", "r0m30myr0m30", &t),
            server_cfg(&t),
            seed,
            1 + (seed as usize * 37) % 200,
        );
        p.run();
        let jid = bound(&p.c_events).expect("client bound");
        assert_eq!(jid.as_str(), "juliet@capulet.example/balcony");
        assert_eq!(bound(&p.s_events), Some(jid.clone()));
        assert!(p.c.is_secure() && p.s.is_secure());
        // TLS 1.3 offers tls-exporter channel binding: -PLUS is chosen.
        assert_eq!(mechanism(&p.c_events), Some("SCRAM-SHA-256-PLUS"));

        let msg = Element::new("message", ns::CLIENT)
            .with_attr("to", "romeo@montague.example")
            .with_attr("type", "chat")
            .with_child(Element::new("body", ns::CLIENT).with_text("Art thou not Romeo?"));
        assert!(p.c.send_stanza(p.now, &msg));
        p.run();
        let got = p
            .s_events
            .iter()
            .find_map(|e| match e {
                Event::Stanza(s) => Some(s.clone()),
                _ => None,
            })
            .expect("server got the message");
        assert_eq!(
            got.attr("from"),
            Some("juliet@capulet.example/balcony"),
            "from stamped"
        );
        assert_eq!(
            got.get_child("body", ns::CLIENT).unwrap().text(),
            "Art thou not Romeo?"
        );

        let reply = Element::new("message", ns::CLIENT)
            .with_attr("from", "romeo@montague.example/orchard")
            .with_attr("to", jid.as_str())
            .with_child(Element::new("body", ns::CLIENT).with_text("Neither, fair saint"));
        assert!(p.s.send_stanza(&reply));
        p.run();
        assert!(p.c_events.iter().any(|e| matches!(e, Event::Stanza(s) if s.attr("from") == Some("romeo@montague.example/orchard"))));

        p.c.close(p.now);
        p.run();
        assert_eq!(closed(&p.c_events), Some(None));
        assert_eq!(closed(&p.s_events), Some(None));
        assert!(p.c.is_closed() && p.s.is_closed());
    }
}

#[test]
fn every_mechanism_negotiates() {
    let t13 = tls(&[&rustls::version::TLS13]);
    let t12 = tls(&[&rustls::version::TLS12]);
    let cases: &[(&Tls, Mechanism, &str)] = &[
        (&t13, Mechanism::ScramSha256Plus, "SCRAM-SHA-256-PLUS"),
        (&t13, Mechanism::ScramSha1Plus, "SCRAM-SHA-1-PLUS"),
        (&t13, Mechanism::ScramSha256, "SCRAM-SHA-256"),
        (&t13, Mechanism::ScramSha1, "SCRAM-SHA-1"),
        (&t13, Mechanism::Plain, "PLAIN"),
        // TLS 1.2: no tls-exporter binding, so no -PLUS on offer.
        (&t12, Mechanism::ScramSha256, "SCRAM-SHA-256"),
        (&t12, Mechanism::ScramSha1, "SCRAM-SHA-1"),
    ];
    for (t, mech, name) in cases {
        let mut cc = client_cfg("romeo@capulet.example", "balcony", t);
        cc.mechanisms = vec![*mech];
        let mut p = Pair::new(cc, server_cfg(t), 7, 64);
        p.run();
        assert_eq!(mechanism(&p.s_events), Some(*name), "{name}");
        let jid = bound(&p.c_events).expect(name);
        assert_eq!(jid.resource(), Some("generated"));
    }
}

#[test]
fn wrong_password_fails_authentication() {
    let t = tls(&[&rustls::version::TLS13]);
    for mech in [
        Mechanism::ScramSha256Plus,
        Mechanism::ScramSha1,
        Mechanism::Plain,
    ] {
        let mut cc = client_cfg("juliet@capulet.example", "wrong", &t);
        cc.mechanisms = vec![mech];
        let mut p = Pair::new(cc, server_cfg(&t), 3, 50);
        p.run();
        assert!(bound(&p.c_events).is_none());
        assert_eq!(
            closed(&p.c_events),
            Some(Some(Cond::NotAuthorized)),
            "{mech:?}"
        );
        let e = p.c_events.iter().find_map(|e| match e {
            Event::Closed { error: Some(e), .. } => e.text.clone(),
            _ => None,
        });
        assert!(e.unwrap().contains("not-authorized"));
    }
}

#[test]
fn direct_tls() {
    let t = tls(&[&rustls::version::TLS13]);
    let mut cc = client_cfg("juliet@capulet.example", "r0m30myr0m30", &t);
    cc.tls_mode = TlsMode::Direct;
    let mut sc = server_cfg(&t);
    sc.tls_mode = TlsMode::Direct;
    let mut p = Pair::new(cc, sc, 11, 30);
    p.run();
    assert!(bound(&p.c_events).is_some());
    assert!(p.s.is_secure());
}

#[test]
fn plaintext_only_when_explicitly_configured() {
    let t = tls(&[&rustls::version::TLS13]);
    let mut cc = client_cfg("juliet@capulet.example", "r0m30myr0m30", &t);
    cc.tls_mode = TlsMode::Disabled;
    let mut sc = server_cfg(&t);
    sc.tls_mode = TlsMode::Disabled;
    let mut p = Pair::new(cc.clone(), sc.clone(), 5, 30);
    p.run();
    // PLAIN is not offered without TLS by default, SCRAM is.
    assert_eq!(mechanism(&p.s_events), Some("SCRAM-SHA-256"));
    assert!(!p.s.is_secure());

    // A client that insists on TLS refuses a server that offers none.
    let mut strict = cc;
    strict.tls_mode = TlsMode::Required;
    let mut p = Pair::new(strict, sc, 5, 30);
    p.run();
    assert_eq!(closed(&p.c_events), Some(Some(Cond::PolicyViolation)));
}

// ----- server against hand-written client bytes -----

const OPEN: &str = "<?xml version='1.0'?><stream:stream to='capulet.example' version='1.0' \
                    xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

fn raw_server(mode: TlsMode) -> (ServerStream, Instant) {
    let t = tls(&[&rustls::version::TLS13]);
    let mut sc = server_cfg(&t);
    sc.tls_mode = mode;
    sc.allow_plain_without_tls = true;
    let now = Instant::now();
    (
        ServerStream::new(sc, Box::new(SequentialIds::new("s")), now),
        now,
    )
}

fn feed(s: &mut ServerStream, now: Instant, data: &str) -> (String, Vec<Event>) {
    s.handle_input(now, data.as_bytes());
    collect(s)
}

fn collect(s: &mut ServerStream) -> (String, Vec<Event>) {
    let mut out = Vec::new();
    let mut evs = Vec::new();
    while let Some(o) = s.poll_output() {
        match o {
            Output::Transmit(b) => out.extend_from_slice(&b),
            Output::Event(e) => evs.push(e),
            Output::Timeout(_) => break,
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), evs)
}

fn stream_error_of(mode: TlsMode, input: &str) -> (String, Option<Option<Cond>>) {
    let (mut s, now) = raw_server(mode);
    let (out, evs) = feed(&mut s, now, input);
    (out, closed(&evs))
}

#[test]
fn server_answers_bad_streams_with_the_right_error() {
    let cases: &[(&str, Cond)] = &[
        (
            "<stream:stream to='capulet.example' version='1.0' xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>",
            Cond::InvalidNamespace,
        ),
        (
            "<stream:stream to='capulet.example' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
            Cond::UnsupportedVersion,
        ),
        (
            "<stream:stream to='montague.example' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
            Cond::HostUnknown,
        ),
        (
            "<stream:stream version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
            Cond::HostUnknown,
        ),
        (
            "<stream:stream to='capulet.example' version='1.0' xmlns='jabber:client' xmlns:stream='urn:nope'>",
            Cond::InvalidNamespace,
        ),
        (
            "<?xml version='1.0' encoding='ISO-8859-1'?><stream:stream>",
            Cond::UnsupportedEncoding,
        ),
        ("<!DOCTYPE foo><stream:stream>", Cond::RestrictedXml),
    ];
    for (input, want) in cases {
        let (out, c) = stream_error_of(TlsMode::Required, input);
        assert_eq!(c, Some(Some(*want)), "{input}");
        // A header always precedes the error (RFC 6120 §4.9.1.1), and the
        // error names the condition in the streams namespace.
        assert!(
            out.starts_with("<?xml version='1.0'?><stream:stream"),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "<{} xmlns=\"urn:ietf:params:xml:ns:xmpp-streams\"/>",
                want.as_str()
            )),
            "{out}"
        );
        assert!(out.ends_with("</stream:stream>"));
    }
}

#[test]
fn server_refuses_stanzas_before_authentication_and_bind() {
    let cases: &[(TlsMode, &str, Cond)] = &[
        (
            TlsMode::Required,
            "<message to='romeo@montague.example'><body>x</body></message>",
            Cond::NotAuthorized,
        ),
        (
            TlsMode::Optional,
            "<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>",
            Cond::NotAuthorized,
        ),
        (
            TlsMode::Required,
            "<foo xmlns='urn:unknown'/>",
            Cond::UnsupportedStanzaType,
        ),
        (
            TlsMode::Required,
            "<message><!-- no --></message>",
            Cond::RestrictedXml,
        ),
        (
            TlsMode::Required,
            "<message>&xxe;</message>",
            Cond::RestrictedXml,
        ),
        (
            TlsMode::Required,
            "<p:message xmlns:q='urn:x'/>",
            Cond::BadNamespacePrefix,
        ),
        (TlsMode::Required, "text", Cond::NotWellFormed),
        (TlsMode::Required, "<message></iq>", Cond::NotWellFormed),
    ];
    for (mode, body, want) in cases {
        let (_, c) = stream_error_of(*mode, &format!("{OPEN}{body}"));
        assert_eq!(c, Some(Some(*want)), "{body}");
    }
}

#[test]
fn features_follow_the_tls_policy() {
    let (mut s, now) = raw_server(TlsMode::Required);
    let (out, _) = feed(&mut s, now, OPEN);
    assert!(
        out.contains("<starttls xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"><required/></starttls>"),
        "{out}"
    );
    assert!(!out.contains("mechanisms"), "SASL waits for TLS: {out}");
    // SASL before TLS gets <encryption-required/> (RFC 6120 §6.4.5-ish).
    let (out, _) = feed(
        &mut s,
        now,
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldABy</auth>",
    );
    assert!(out.contains("<encryption-required/>"), "{out}");

    let (mut s, now) = raw_server(TlsMode::Optional);
    let (out, _) = feed(&mut s, now, OPEN);
    assert!(
        out.contains("<starttls xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"/>"),
        "{out}"
    );
    assert!(out.contains("<mechanism>PLAIN</mechanism>"), "{out}");
    assert!(
        out.contains("<mechanism>SCRAM-SHA-256</mechanism>"),
        "{out}"
    );
    assert!(
        !out.contains("-PLUS"),
        "no channel binding without TLS: {out}"
    );
}

#[test]
fn plain_auth_then_bind_conflict_and_from_checks() {
    let (mut s, now) = raw_server(TlsMode::Disabled);
    feed(&mut s, now, OPEN);
    // Unknown mechanism, then bad base64, then the right password.
    let (out, _) = feed(
        &mut s,
        now,
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-NOPE'/>",
    );
    assert!(out.contains("<invalid-mechanism/>"), "{out}");
    let (out, _) = feed(
        &mut s,
        now,
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>!!!</auth>",
    );
    assert!(out.contains("<incorrect-encoding/>"), "{out}");
    // "\0juliet\0r0m30myr0m30"
    let (out, evs) = feed(
        &mut s,
        now,
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldAByMG0zMG15cjBtMzA=</auth>",
    );
    assert!(
        out.contains("<success xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\"/>"),
        "{out}"
    );
    assert!(
        matches!(&evs[..], [Event::Authenticated { jid, .. }] if jid.as_str() == "juliet@capulet.example")
    );
    // The restarted stream arrives together with a bind request.
    let (out, evs) = feed(
        &mut s,
        now,
        &format!(
            "{OPEN}<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony</resource></bind></iq>"
        ),
    );
    assert!(
        out.contains("<bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\"/>"),
        "{out}"
    );
    assert!(
        matches!(evs.last(), Some(Event::BindRequested { requested: Some(r) }) if r == "balcony")
    );
    // The application refuses: resource in use.
    s.complete_bind(now, Err(xmpp_core::stream::BindError::Conflict));
    let (out, _) = collect(&mut s);
    assert!(
        out.contains("type=\"error\"")
            && out.contains("<conflict xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/>"),
        "{out}"
    );
    // Retry and accept with a server-chosen resource.
    feed(
        &mut s,
        now,
        "<iq type='set' id='b2'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>",
    );
    s.complete_bind(now, Ok("r-42".into()));
    let (out, evs) = collect(&mut s);
    assert!(
        out.contains("<jid>juliet@capulet.example/r-42</jid>"),
        "{out}"
    );
    assert!(matches!(&evs[..], [Event::Bound { .. }]));
    // Legacy session request is answered by the engine.
    let (out, evs) = feed(
        &mut s,
        now,
        "<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>",
    );
    assert!(
        out.contains("id=\"s1\"") && out.contains("type=\"result\""),
        "{out}"
    );
    assert!(evs.is_empty());
    // The bare JID as `from` is accepted and replaced by the full JID.
    let (_, evs) = feed(&mut s, now, "<presence from='juliet@capulet.example'/>");
    assert!(
        matches!(&evs[..], [Event::Stanza(p)] if p.attr("from") == Some("juliet@capulet.example/r-42"))
    );
    // Someone else's address is a spoofing attempt.
    let (out, evs) = feed(&mut s, now, "<message from='romeo@montague.example'/>");
    assert!(out.contains("<invalid-from"), "{out}");
    assert_eq!(closed(&evs), Some(Some(Cond::InvalidFrom)));
}

#[test]
fn too_many_auth_failures_close_the_stream() {
    let (mut s, now) = raw_server(TlsMode::Disabled);
    feed(&mut s, now, OPEN);
    let bad =
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldAB4</auth>";
    let (_, evs) = feed(&mut s, now, bad);
    assert!(closed(&evs).is_none());
    feed(&mut s, now, bad);
    let (_, evs) = feed(&mut s, now, bad);
    assert_eq!(closed(&evs), Some(Some(Cond::PolicyViolation)));
}

#[test]
fn negotiation_and_idle_timeouts() {
    let (mut s, now) = raw_server(TlsMode::Required);
    let (_, _) = feed(&mut s, now, OPEN);
    // Spurious early timeout calls do nothing.
    s.handle_timeout(now + Duration::from_secs(1));
    assert!(collect(&mut s).1.is_empty());
    s.handle_timeout(now + Duration::from_secs(61));
    let (out, evs) = collect(&mut s);
    assert!(out.contains("<connection-timeout"), "{out}");
    assert_eq!(closed(&evs), Some(Some(Cond::ConnectionTimeout)));
}

#[test]
fn peer_close_is_answered() {
    let (mut s, now) = raw_server(TlsMode::Required);
    let (out, evs) = feed(&mut s, now, &format!("{OPEN}</stream:stream>"));
    assert!(out.ends_with("</stream:stream>"));
    assert!(matches!(
        evs.last(),
        Some(Event::Closed {
            error: None,
            by_peer: true
        })
    ));
    // Input after close is ignored.
    let (out, evs) = feed(&mut s, now, "<presence/>");
    assert!(out.is_empty() && evs.is_empty());
}
