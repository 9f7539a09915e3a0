//! A registrar-less SIMPLE presence server as one Sans-IO engine: the
//! transaction table, the [`Notifier`] (presence and presence.winfo),
//! the [`Compositor`] and MESSAGE delivery wired together, so a socket
//! loop only moves bytes (see the `sip-presence-server` example).
//!
//! * PUBLISH for a local user goes to the compositor; when the composed
//!   state changes every presence watcher gets a NOTIFY with it.
//! * SUBSCRIBE goes to the notifier, which asks the [`Authorizer`].
//! * MESSAGE for a local user is answered 200 and relayed to the address
//!   from which that user's client subscribed (the server has no
//!   registrar, so a user is reachable once it watches someone); 480 when
//!   no such address is known (RFC 3428 §7).
//! * Other methods get 405 with `Allow`; OPTIONS gets 200.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Instant;

use crate::framing::{error_response, parse_datagram};
use crate::limits::Limits;
use crate::message::{HeaderName, Message, Method, SipUri};
use crate::message_im::{DEFAULT_MAX_IM_BODY, receive_message};
use crate::publish::{Compositor, CompositorConfig};
use crate::subscription::notifier::{aor, simple};
use crate::subscription::{
    Authorizer, IdGenerator, LocalEndpoint, Notifier, NotifierConfig, Notify, SubscriptionId,
};
use crate::transaction::{
    BranchGenerator, Output, Received, Remote, TableEvent, Timers, TransactionKey,
    TransactionTable, Transmit,
};

/// Identity and limits of a [`PresenceServer`].
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// This server in built messages.
    pub local: LocalEndpoint,
    /// The domain whose users are served.
    pub domain: String,
    /// Local user names.
    pub users: BTreeSet<String>,
    /// Notifier limits.
    pub notifier: NotifierConfig,
    /// Compositor limits.
    pub compositor: CompositorConfig,
    /// Message size limits.
    pub limits: Limits,
    /// Largest MESSAGE body.
    pub max_im_body: usize,
}

impl ServerConfig {
    /// Defaults for `local`, `domain` and `users`.
    pub fn new(local: LocalEndpoint, domain: &str, users: BTreeSet<String>) -> ServerConfig {
        ServerConfig {
            notifier: NotifierConfig::new(local.clone()),
            local,
            domain: domain.to_owned(),
            users,
            compositor: CompositorConfig::default(),
            limits: Limits::DEFAULT,
            max_im_body: DEFAULT_MAX_IM_BODY,
        }
    }
}

/// What the server tells its caller besides bytes to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// A MESSAGE was accepted for a local user.
    InstantMessage {
        /// Sender URI.
        from: String,
        /// Recipient AoR.
        to: String,
        /// Whether it was relayed to the recipient's client.
        relayed: bool,
    },
}

/// The presence server engine: see the [module docs](self).
pub struct PresenceServer<G, B, A> {
    cfg: ServerConfig,
    table: TransactionTable<B>,
    notifier: Notifier<G>,
    compositor: Compositor<G>,
    authz: A,
    ids: G,
    notifies: HashMap<TransactionKey, SubscriptionId>,
    out: VecDeque<Output<ServerEvent>>,
}

impl<G, B, A> std::fmt::Debug for PresenceServer<G, B, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresenceServer")
            .field("domain", &self.cfg.domain)
            .finish()
    }
}

impl<G: IdGenerator + Clone, B: BranchGenerator, A: Authorizer> PresenceServer<G, B, A> {
    /// A server; `ids` gives tags and entity tags, `branches` Via branches.
    pub fn new(cfg: ServerConfig, ids: G, branches: B, authz: A) -> Self {
        PresenceServer {
            table: TransactionTable::new(Timers::DEFAULT, branches),
            notifier: Notifier::new(cfg.notifier.clone(), ids.clone()),
            compositor: Compositor::new(cfg.compositor, ids.clone()),
            cfg,
            authz,
            ids,
            notifies: HashMap::new(),
            out: VecDeque::new(),
        }
    }

    /// The notifier (for inspection).
    pub fn notifier(&self) -> &Notifier<G> {
        &self.notifier
    }

    /// Bytes arrived from `remote` (one datagram, or one framed message
    /// from a stream). Unparsable requests are answered with the parse
    /// error's status.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8], remote: Remote) {
        match parse_datagram(data, &self.cfg.limits) {
            Ok(m) => self.handle_message(now, m, remote),
            Err(e) => {
                let tag = self.ids.next_id();
                if let Some(payload) = error_response(data, &e, &tag, &self.cfg.limits) {
                    self.out
                        .push_back(Output::Transmit(Transmit { remote, payload }));
                }
            }
        }
    }

    /// A parsed message arrived from `remote`.
    pub fn handle_message(&mut self, now: Instant, message: Message, remote: Remote) {
        if message.is_request()
            && let Err(rej) = message.check()
        {
            let code = rej.status_code();
            self.out.push_back(Output::Transmit(Transmit {
                remote,
                payload: simple(&message, code).to_bytes(),
            }));
            return;
        }
        self.table.handle_input(now, Received { message, remote });
        self.drain(now);
    }

    /// Time passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.table.handle_timeout(now);
        let n = self.notifier.handle_timeout(now);
        self.send_notifies(now, n);
        for r in self.compositor.handle_timeout(now) {
            let doc = self.compositor.composed(&r);
            let n = self.notifier.set_state(now, &r, doc);
            self.send_notifies(now, n);
        }
        self.drain(now);
    }

    /// Next output: bytes to send, an event, or when to call
    /// [`PresenceServer::handle_timeout`].
    pub fn poll_output(&mut self) -> Option<Output<ServerEvent>> {
        if let Some(o) = self.out.pop_front() {
            return Some(o);
        }
        let times = [
            self.notifier.poll_timeout(),
            self.compositor.poll_timeout(),
            self.table_timeout(),
        ];
        times.iter().flatten().min().map(|t| Output::Timeout(*t))
    }

    fn table_timeout(&mut self) -> Option<Instant> {
        // drain() leaves only the Timeout in the table's queue.
        match self.table.poll_output() {
            Some(Output::Timeout(t)) => Some(t),
            _ => None,
        }
    }

    fn is_local(&self, uri: Option<&crate::message::Uri>) -> bool {
        uri.and_then(|u| u.as_sip()).is_some_and(|s| {
            s.host.eq_ignore_ascii_case(&self.cfg.domain)
                && s.user
                    .as_deref()
                    .is_some_and(|u| self.cfg.users.contains(u))
        })
    }

    fn drain(&mut self, now: Instant) {
        loop {
            let Some(o) = self.table.poll_output() else {
                break;
            };
            match o {
                Output::Transmit(t) => self.out.push_back(Output::Transmit(t)),
                Output::Timeout(_) => break,
                Output::Event(e) => self.on_table_event(now, e),
            }
        }
    }

    fn respond(&mut self, now: Instant, key: &TransactionKey, resp: &Message) {
        // The transaction exists (it was just created); a failure means it
        // already answered, which is harmless to ignore.
        let _ = self.table.send_response(now, key, resp);
    }

    fn send_notifies(&mut self, now: Instant, list: Vec<Notify>) {
        for n in list {
            match self.table.send_request(now, n.request, n.remote) {
                Ok(key) => {
                    self.notifies.insert(key, n.subscription);
                }
                Err(_) => {
                    let more = self.notifier.notify_failed(now, n.subscription);
                    // Watcher-info NOTIFYs about the loss; bounded by the
                    // number of winfo subscriptions.
                    for m in more {
                        if let Ok(k) = self.table.send_request(now, m.request, m.remote) {
                            self.notifies.insert(k, m.subscription);
                        }
                    }
                }
            }
        }
    }

    fn on_table_event(&mut self, now: Instant, e: TableEvent) {
        match e {
            TableEvent::Request {
                key,
                request,
                remote,
            } => self.on_request(now, key, request, remote),
            TableEvent::Response { key, response } => {
                let failed = response.status().is_some_and(|c| c >= 300);
                if let Some(id) = self.notifies.get(&key).copied()
                    && failed
                {
                    self.notifies.remove(&key);
                    let n = self.notifier.notify_failed(now, id);
                    self.send_notifies(now, n);
                }
            }
            TableEvent::Timeout { key } | TableEvent::TransportError { key } => {
                if let Some(id) = self.notifies.remove(&key) {
                    let n = self.notifier.notify_failed(now, id);
                    self.send_notifies(now, n);
                }
            }
            TableEvent::Terminated { key } => {
                self.notifies.remove(&key);
            }
            TableEvent::Unmatched(r) => {
                if r.message.is_request() && r.message.method() != Some(&Method::Ack) {
                    // INVITE is not served here.
                    let resp = simple(&r.message, 405);
                    self.out.push_back(Output::Transmit(Transmit {
                        remote: r.remote,
                        payload: resp.to_bytes(),
                    }));
                }
            }
        }
    }

    fn on_request(&mut self, now: Instant, key: TransactionKey, req: Message, remote: Remote) {
        let local = self.is_local(req.request_uri());
        match req.method() {
            Some(Method::Subscribe) => {
                let out = self
                    .notifier
                    .handle_subscribe(now, &req, remote, local, &mut self.authz);
                self.respond(now, &key, &out.response);
                self.send_notifies(now, out.notifies);
            }
            Some(Method::Publish) => {
                let out = self.compositor.handle_publish(now, &req, local);
                self.respond(now, &key, &out.response);
                if let Some(r) = out.changed {
                    let doc = self.compositor.composed(&r);
                    let n = self.notifier.set_state(now, &r, doc);
                    self.send_notifies(now, n);
                }
            }
            Some(Method::Message) => self.on_message(now, &key, &req, local),
            Some(Method::Options) => {
                let r = Message::response_to(&req, 200, "OK")
                    .to_tag("o")
                    .header(
                        HeaderName::Allow,
                        "SUBSCRIBE, NOTIFY, PUBLISH, MESSAGE, OPTIONS",
                    )
                    .header(HeaderName::AllowEvents, "presence, presence.winfo")
                    .build()
                    .unwrap_or_else(|_| simple(&req, 200));
                self.respond(now, &key, &r);
            }
            _ => {
                let r = Message::response_to(&req, 405, "Method Not Allowed")
                    .to_tag("o")
                    .header(HeaderName::Allow, "SUBSCRIBE, PUBLISH, MESSAGE, OPTIONS")
                    .build()
                    .unwrap_or_else(|_| simple(&req, 405));
                self.respond(now, &key, &r);
            }
        }
    }

    fn on_message(&mut self, now: Instant, key: &TransactionKey, req: &Message, local: bool) {
        if !local {
            self.respond(now, key, &simple(req, 404));
            return;
        }
        let (im, ok) = match receive_message(req, self.cfg.max_im_body) {
            Ok(x) => x,
            Err(resp) => {
                self.respond(now, key, &resp);
                return;
            }
        };
        let Some(to) = req.request_uri().and_then(aor) else {
            self.respond(now, key, &simple(req, 416));
            return;
        };
        let Some((target, remote)) = self.notifier.watcher_contact(&to) else {
            self.respond(now, key, &simple(req, 480));
            return;
        };
        self.respond(now, key, &ok);
        let mut relay = req.clone();
        let relayed = relay_to(&mut relay, &self.cfg.local, &target)
            && self.table.send_request(now, relay, remote).is_ok();
        self.out
            .push_back(Output::Event(ServerEvent::InstantMessage {
                from: im.from,
                to,
                relayed,
            }));
    }
}

/// Rewrites a MESSAGE for relaying to `target`: new Request-URI, our Via
/// on top, Max-Forwards decremented.
fn relay_to(m: &mut Message, local: &LocalEndpoint, target: &crate::message::Uri) -> bool {
    let Some(mf) = m.max_forwards() else {
        return false;
    };
    if mf == 0 {
        return false;
    }
    let via = local.via();
    let ok = m
        .set_header(HeaderName::MaxForwards, (mf - 1).to_string())
        .is_ok()
        && m.prepend_header(crate::message::Header::new(
            HeaderName::Via,
            via.to_string(),
        ))
        .is_ok();
    if !ok {
        return false;
    }
    m.set_request_uri(target.clone())
}

/// The SIP URI of a local user.
pub fn user_uri(user: &str, domain: &str) -> SipUri {
    SipUri::new(Some(user), domain)
}
