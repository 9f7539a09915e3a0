//! A virtual-time world for the stream-management tests: one client
//! account (`ClientSm` over successive `ClientStream`s), a server (one
//! `ServerStream` + `SmStream` per connection, one `Registry`) and an
//! IM hub that routes messages and keeps a ledger of every message's
//! fate. The wire between them can be cut, delayed and left half-open.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use xmpp_core::jid::Jid;
use xmpp_core::ns;
use xmpp_core::sasl::{CredentialStore, Mechanism, ScramCredentials, ScramHash};
use xmpp_core::stream::{
    ClientConfig, ClientStream, Event, Output, SequentialIds, ServerConfig as CoreServerConfig,
    ServerStream, TlsMode,
};
use xmpp_core::xml::{Element, Limits, NsContext, parse_element};
use xmpp_core::{StreamError, StreamErrorCondition};
use xmpp_sm::{
    ClientEvent, ClientSm, ClientSmConfig, Disposition, Registry, RegistryEvent, ServerConfig,
    SmStream,
};

pub const DOMAIN: &str = "verona.example";
pub const USER: &str = "juliet";
pub const PASSWORD: &str = "nightingale";

struct Users;

/// SCRAM credentials with a single PBKDF2 iteration (allowed only in
/// tests: it keeps thousands of simulated logins cheap).
fn cheap_credentials(password: &str, salt: &[u8]) -> ScramCredentials {
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    let hmac = |key: &[u8], data: &[u8]| {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("hmac key");
        m.update(data);
        m.finalize().into_bytes().to_vec()
    };
    let mut first = salt.to_vec();
    first.extend_from_slice(&1u32.to_be_bytes());
    let salted = hmac(password.as_bytes(), &first);
    let client_key = hmac(&salted, b"Client Key");
    ScramCredentials {
        salt: salt.to_vec(),
        iterations: 1,
        stored_key: Sha256::digest(&client_key).to_vec(),
        server_key: hmac(&salted, b"Server Key"),
    }
}

impl CredentialStore for Users {
    fn scram_credentials(&self, username: &str, hash: ScramHash) -> Option<ScramCredentials> {
        let password = match username {
            USER => PASSWORD,
            "romeo" => "montague",
            _ => return None,
        };
        (hash == ScramHash::Sha256).then(|| cheap_credentials(password, username.as_bytes()))
    }
}

/// A small deterministic generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

pub fn core_server_config() -> CoreServerConfig {
    let mut c = CoreServerConfig::new(DOMAIN, None, Arc::new(Users));
    c.tls_mode = TlsMode::Disabled;
    c.allow_plain_without_tls = true;
    c.post_auth_features = ServerConfig::default().feature().into_iter().collect();
    c
}

pub fn client_config(user: &str, password: &str) -> ClientConfig {
    let jid = Jid::new(&format!("{user}@{DOMAIN}/phone")).expect("jid");
    let mut c = ClientConfig::new(jid, password, None);
    c.tls_mode = TlsMode::Disabled;
    c.mechanisms = vec![Mechanism::Plain];
    c.defer_bind = true;
    c.keepalive_interval = None;
    c
}

/// One server-side connection.
pub struct ServerConn {
    pub s: ServerStream,
    pub sm: SmStream,
    /// Bytes on the wire towards the client.
    pub to_client: VecDeque<u8>,
    /// The wire is intact (bytes can flow).
    pub wire: bool,
    /// The server noticed the connection is over.
    pub over: bool,
    pub full: Option<Jid>,
}

/// The client's current connection.
pub struct ClientConn {
    pub c: ClientStream,
    pub server: usize,
    pub to_server: VecDeque<u8>,
}

/// Fate of one message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fate {
    pub delivered: u32,
    pub returned: u32,
    /// Handed back unacknowledged by an expired session: it may have
    /// reached the client (or been on the wire) without an ack, which
    /// XEP-0198 gives the server no way to know, so offline storage may
    /// deliver it a second time.
    pub ambiguous: u32,
}

pub struct World {
    pub now: Instant,
    pub reg: Registry,
    pub conns: Vec<ServerConn>,
    pub client: ClientSm,
    pub cc: Option<ClientConn>,
    pub routes: HashMap<Jid, usize>,
    pub offline: VecDeque<Element>,
    /// Hub-to-client messages, by number.
    pub down: Vec<Fate>,
    /// Client-to-hub messages, by number.
    pub up: Vec<Fate>,
    /// Every element the client received outside stanzas (for scripted
    /// tests), and the client's stream-management events.
    pub client_nonzas: Vec<Element>,
    pub client_events: Vec<ClientEvent>,
    pub client_closed: Vec<Option<StreamError>>,
    pub registry_events: Vec<RegistryEvent>,
    pub server_events: Vec<Event>,
    pub client_user: (String, String),
    pub sm_client: bool,
    /// Without `sm_client`: bind as soon as the features arrive.
    pub auto_bind: bool,
    ids: u64,
}

fn body_of(e: &Element) -> Option<String> {
    e.get_child("body", ns::CLIENT).map(Element::text)
}

fn parse_bytes(b: &Bytes) -> Element {
    parse_element(b, &NsContext::stream(ns::CLIENT), &Limits::default()).expect("queued stanza")
}

impl World {
    pub fn new(server: ServerConfig, client: ClientSmConfig) -> Self {
        World {
            now: Instant::now(),
            reg: Registry::new(server, Box::new(SequentialIds::new("sm-"))).expect("config"),
            conns: Vec::new(),
            client: ClientSm::new(client),
            cc: None,
            routes: HashMap::new(),
            offline: VecDeque::new(),
            down: Vec::new(),
            up: Vec::new(),
            client_nonzas: Vec::new(),
            client_events: Vec::new(),
            client_closed: Vec::new(),
            registry_events: Vec::new(),
            server_events: Vec::new(),
            client_user: (USER.to_owned(), PASSWORD.to_owned()),
            sm_client: true,
            auto_bind: true,
            ids: 0,
        }
    }

    pub fn full(&self) -> Jid {
        Jid::new(&format!("{}@{DOMAIN}/phone", self.client_user.0)).expect("jid")
    }

    /// Opens a new connection for the client.
    pub fn connect(&mut self) {
        self.drop_client_conn();
        self.ids += 1;
        let c = ClientStream::new(
            client_config(&self.client_user.0, &self.client_user.1),
            Box::new(SequentialIds::new(&format!("c{}-", self.ids))),
            self.now,
        );
        let s = ServerStream::new(
            core_server_config(),
            Box::new(SequentialIds::new(&format!("s{}-", self.ids))),
            self.now,
        );
        let sm = SmStream::new(&self.reg);
        self.conns.push(ServerConn {
            s,
            sm,
            to_client: VecDeque::new(),
            wire: true,
            over: false,
            full: None,
        });
        self.cc = Some(ClientConn {
            c,
            server: self.conns.len() - 1,
            to_server: VecDeque::new(),
        });
    }

    fn drop_client_conn(&mut self) {
        if let Some(cc) = self.cc.take() {
            self.client.disconnected();
            if let Some(conn) = self.conns.get_mut(cc.server) {
                conn.wire = false;
                conn.to_client.clear();
            }
        }
    }

    /// Cuts the wire: bytes in flight are lost. The server notices at
    /// once only if `server_notices`.
    pub fn cut(&mut self, server_notices: bool) {
        let Some(cc) = self.cc.as_ref() else { return };
        let idx = cc.server;
        self.drop_client_conn();
        if server_notices {
            self.server_lost(idx);
        }
    }

    fn server_lost(&mut self, idx: usize) {
        let conn = &mut self.conns[idx];
        if conn.over {
            return;
        }
        conn.over = true;
        conn.wire = false;
        conn.sm.connection_lost(self.now, &mut self.reg);
    }

    /// The hub sends message `n` to the client's full JID.
    pub fn hub_send(&mut self) {
        let n = self.down.len();
        self.down.push(Fate::default());
        let m = Element::new("message", ns::CLIENT)
            .with_attr("from", format!("romeo@{DOMAIN}/ladder"))
            .with_attr("to", self.full().as_str())
            .with_attr("type", "chat")
            .with_attr("id", format!("d{n}"))
            .with_child(Element::new("body", ns::CLIENT).with_text(format!("d{n}")));
        self.route(m);
    }

    fn route(&mut self, m: Element) {
        let full = self.full();
        if let Some(&idx) = self.routes.get(&full) {
            let conn = &mut self.conns[idx];
            if !conn.over && conn.sm.is_enabled() {
                match conn.sm.send(self.now, &mut self.reg, &mut conn.s, &m) {
                    Ok(()) => return,
                    Err(xmpp_sm::SendError::Undeliverable(_)) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        }
        let b = xmpp_core::xml::to_bytes(&m, ns::CLIENT);
        if self.reg.enqueue(self.now, &full, b).is_err() {
            self.offline.push_back(m);
        }
    }

    /// The client sends message `n` to the hub.
    pub fn client_send(&mut self) {
        let n = self.up.len();
        self.up.push(Fate::default());
        let m = Element::new("message", ns::CLIENT)
            .with_attr("to", format!("romeo@{DOMAIN}"))
            .with_attr("type", "chat")
            .with_attr("id", format!("u{n}"))
            .with_child(Element::new("body", ns::CLIENT).with_text(format!("u{n}")));
        let r = match self.cc.as_mut() {
            Some(cc) => self.client.send(self.now, &mut cc.c, &m),
            None => self
                .client
                .send_later(xmpp_core::xml::to_bytes(&m, ns::CLIENT)),
        };
        assert!(r.is_ok(), "client queue full");
    }

    fn number(body: &str) -> Option<(char, usize)> {
        let mut ch = body.chars();
        let k = ch.next()?;
        Some((k, ch.as_str().parse().ok()?))
    }

    /// Lets every engine produce its output and the hub react.
    pub fn pump(&mut self) {
        for _ in 0..64 {
            let mut progress = false;
            progress |= self.pump_client();
            for i in 0..self.conns.len() {
                progress |= self.pump_server(i);
            }
            progress |= self.pump_registry();
            progress |= self.flush_offline();
            if !progress {
                return;
            }
        }
    }

    fn pump_client(&mut self) -> bool {
        let Some(cc) = self.cc.as_mut() else {
            return false;
        };
        let mut progress = false;
        let mut closed = false;
        while let Some(o) = cc.c.poll_output() {
            match o {
                Output::Transmit(b) => cc.to_server.extend(b.iter()),
                Output::Event(ev) => {
                    progress = true;
                    let ev = if self.sm_client {
                        self.client.on_event(self.now, &mut cc.c, ev)
                    } else {
                        if let Event::Features(_) = ev
                            && self.auto_bind
                        {
                            cc.c.bind(self.now);
                        }
                        Some(ev)
                    };
                    match ev {
                        Some(Event::Stanza(s)) => {
                            if let Some((k, n)) = body_of(&s).as_deref().and_then(Self::number)
                                && k == 'd'
                            {
                                self.down[n].delivered += 1;
                            }
                        }
                        Some(Event::Nonza(e)) => self.client_nonzas.push(e),
                        Some(Event::Closed { error, .. }) => {
                            self.client_closed.push(error);
                            closed = true;
                        }
                        _ => {}
                    }
                }
                Output::Timeout(_) => break,
            }
        }
        while let Some(e) = self.client.poll_event() {
            progress = true;
            if let ClientEvent::Unconfirmed(v) = &e {
                for b in v {
                    let el = parse_bytes(b);
                    if let Some((k, n)) = body_of(&el).as_deref().and_then(Self::number)
                        && k == 'u'
                    {
                        self.up[n].returned += 1;
                    }
                }
            }
            self.client_events.push(e);
        }
        if closed {
            let idx = self.cc.as_ref().map(|c| c.server);
            self.drop_client_conn();
            let _ = idx;
        }
        progress
    }

    fn pump_server(&mut self, i: usize) -> bool {
        let mut progress = false;
        loop {
            let conn = &mut self.conns[i];
            let Some(o) = conn.s.poll_output() else { break };
            match o {
                Output::Transmit(b) => {
                    if conn.wire {
                        conn.to_client.extend(b.iter());
                    }
                }
                Output::Event(ev) => {
                    progress = true;
                    let ev = conn
                        .sm
                        .on_event(self.now, &mut self.reg, &mut conn.s, ev, |_| false);
                    let Some(ev) = ev else { continue };
                    self.server_events.push(ev.clone());
                    match ev {
                        Event::BindRequested { requested } => {
                            let res = requested.unwrap_or_else(|| "gen".to_owned());
                            if let Ok(full) =
                                Jid::new(&format!("{}@{DOMAIN}/{res}", self.client_user.0))
                            {
                                self.reg.discard_hibernating(self.now, &full);
                            }
                            conn.s.complete_bind(self.now, Ok(res));
                        }
                        Event::Bound { jid } => {
                            conn.full = Some(jid.clone());
                            self.routes.insert(jid, i);
                        }
                        Event::Stanza(s) => {
                            if let Some((k, n)) = body_of(&s).as_deref().and_then(Self::number)
                                && k == 'u'
                            {
                                self.up[n].delivered += 1;
                            }
                        }
                        Event::Closed { .. } => {
                            conn.over = true;
                        }
                        _ => {}
                    }
                }
                Output::Timeout(_) => break,
            }
        }
        let conn = &mut self.conns[i];
        if !conn.over && conn.sm.is_gone(&self.reg) {
            conn.s.close_with_error(
                self.now,
                StreamError::new(StreamErrorCondition::Conflict).with_text("resumed elsewhere"),
            );
            progress = true;
        }
        progress
    }

    fn pump_registry(&mut self) -> bool {
        let mut progress = false;
        while let Some(ev) = self.reg.poll_event() {
            progress = true;
            if let RegistryEvent::Expired(x) = &ev {
                for d in &x.unacked {
                    match d {
                        Disposition::Bounce { original, error } => {
                            assert_eq!(error.attr("type"), Some("error"));
                            let (k, n) = Self::number(&body_of(original).unwrap()).unwrap();
                            assert_eq!(k, 'd');
                            self.down[n].returned += 1;
                        }
                        Disposition::Offline(e) => {
                            let (_, n) = Self::number(&body_of(e).unwrap()).unwrap();
                            self.down[n].ambiguous += 1;
                            self.offline.push_back(e.clone());
                        }
                        other => panic!("unexpected disposition {other:?}"),
                    }
                }
            }
            self.registry_events.push(ev);
        }
        progress
    }

    fn flush_offline(&mut self) -> bool {
        let full = self.full();
        let room = match self.routes.get(&full) {
            Some(&i) if !self.conns[i].over && self.conns[i].sm.is_enabled() => {
                self.conns[i].sm.room(&self.reg).unwrap_or(0)
            }
            _ => 0,
        };
        let n = room.min(self.offline.len());
        if n == 0 {
            return false;
        }
        let msgs: Vec<Element> = self.offline.drain(..n).collect();
        for m in msgs {
            self.route(m);
        }
        true
    }

    /// Moves up to `max` bytes each way.
    pub fn transfer(&mut self, rng: &mut Rng, max: usize) {
        let Some(cc) = self.cc.as_mut() else { return };
        let idx = cc.server;
        let n = (1 + rng.below(max as u64) as usize).min(cc.to_server.len());
        if n > 0 {
            let chunk: Vec<u8> = cc.to_server.drain(..n).collect();
            let conn = &mut self.conns[idx];
            if conn.wire && !conn.over {
                conn.s.handle_input(self.now, &chunk);
            }
        }
        let conn = &mut self.conns[idx];
        let n = (1 + rng.below(max as u64) as usize).min(conn.to_client.len());
        if n > 0 {
            let chunk: Vec<u8> = conn.to_client.drain(..n).collect();
            cc.c.handle_input(self.now, &chunk);
        }
        self.pump();
    }

    /// Advances virtual time and runs every timer.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        if let Some(cc) = self.cc.as_mut() {
            cc.c.handle_timeout(self.now);
        }
        for conn in &mut self.conns {
            if conn.over {
                continue;
            }
            conn.s.handle_timeout(self.now);
            conn.sm.handle_timeout(self.now, &mut self.reg, &mut conn.s);
        }
        self.reg.handle_timeout(self.now, |_| false);
        self.pump();
    }

    /// Exchanges everything until the wire is quiet.
    pub fn settle(&mut self) {
        let mut rng = Rng(7);
        for _ in 0..10_000 {
            self.pump();
            let busy = self.cc.as_ref().is_some_and(|cc| {
                !cc.to_server.is_empty() || !self.conns[cc.server].to_client.is_empty()
            });
            if !busy {
                return;
            }
            self.transfer(&mut rng, 4096);
        }
        panic!("the wire never settled");
    }

    /// Sends raw element `e` from the client (outside `ClientSm`).
    pub fn client_raw(&mut self, e: &Element) {
        if let Some(cc) = self.cc.as_mut() {
            assert!(cc.c.send_nonza(self.now, e), "client cannot send now");
        }
        self.settle();
    }

    /// The client binds now (manual mode).
    pub fn bind(&mut self) {
        if let Some(cc) = self.cc.as_mut() {
            assert!(cc.c.bind(self.now));
        }
        self.settle();
    }

    /// Raw stream-management elements the client received, by name.
    pub fn received(&self, name: &str) -> Vec<&Element> {
        self.client_nonzas
            .iter()
            .filter(|e| e.ns() == ns::SM && e.name() == name)
            .collect()
    }

    pub fn conn(&mut self) -> &mut ServerConn {
        let i = self
            .cc
            .as_ref()
            .map(|c| c.server)
            .unwrap_or(self.conns.len() - 1);
        &mut self.conns[i]
    }
}
