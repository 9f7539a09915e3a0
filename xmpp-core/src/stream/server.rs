//! The receiving-entity (server) side of a client-to-server stream
//! (RFC 6120 §4–§7).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;

use super::transport::{Transport, TransportError};
use super::{Event, IdSource, Outbox, Output, TlsMode};
use crate::jid::Jid;
use crate::ns;
use crate::sasl::{self, ChannelBinding, CredentialStore, FailureCondition, Mechanism, ServerStep};
use crate::stream_error::{StreamError, StreamErrorCondition as Cond};
use crate::xml::{Element, Frame, Limits, StreamHeader, XmlError, escape_attr, parse_element};

/// Configuration of a server-side stream.
#[derive(Clone)]
pub struct ServerConfig {
    /// The domain this server hosts; the client's `to` must name it.
    pub domain: String,
    /// TLS configuration; required unless `tls_mode` is `Disabled`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// How TLS is used. Default: STARTTLS required.
    pub tls_mode: TlsMode,
    /// Offer PLAIN on streams without TLS (never by default).
    pub allow_plain_without_tls: bool,
    /// Offer OAUTHBEARER, verified by [`CredentialStore::verify_token`].
    pub offer_oauthbearer: bool,
    /// Where SASL looks users up.
    pub credentials: Arc<dyn CredentialStore + Send + Sync>,
    /// XML limits.
    pub limits: Limits,
    /// Time allowed from connection to a bound resource. Default 60 s.
    pub negotiation_timeout: Duration,
    /// Close a stream that received nothing for this long (clients keep
    /// streams alive with whitespace). Default 600 s; `None` disables.
    pub idle_timeout: Option<Duration>,
    /// How long to wait for the peer's `</stream:stream>` after ours.
    /// Default 5 s.
    pub close_timeout: Duration,
    /// SASL attempts allowed before the stream is closed (RFC 6120
    /// §6.4.5 asks for 2 to 5). Default 3.
    pub max_auth_attempts: u32,
    /// Extra features advertised after authentication, beside `<bind/>`
    /// (for example XEP-0198 `<sm xmlns='urn:xmpp:sm:3'/>`).
    pub post_auth_features: Vec<Element>,
    /// The stream's default language. Default `en`.
    pub lang: String,
}

impl ServerConfig {
    /// A configuration for `domain` with the documented defaults.
    pub fn new(
        domain: impl Into<String>,
        tls: Option<Arc<rustls::ServerConfig>>,
        credentials: Arc<dyn CredentialStore + Send + Sync>,
    ) -> Self {
        ServerConfig {
            domain: domain.into(),
            tls,
            tls_mode: TlsMode::Required,
            allow_plain_without_tls: false,
            offer_oauthbearer: false,
            credentials,
            limits: Limits::default(),
            negotiation_timeout: Duration::from_secs(60),
            idle_timeout: Some(Duration::from_secs(600)),
            close_timeout: Duration::from_secs(5),
            max_auth_attempts: 3,
            post_auth_features: Vec::new(),
            lang: "en".to_owned(),
        }
    }
}

/// Why the application refused a resource binding (RFC 6120 §7.6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BindError {
    /// The resource is in use and the policy is to refuse (§7.7.2.2).
    Conflict,
    /// The client may not bind (more) resources (§7.6.2.2).
    NotAllowed,
    /// Too many sessions for this account (§7.6.2.1).
    ResourceConstraint,
}

impl BindError {
    fn condition(self) -> (&'static str, &'static str) {
        match self {
            BindError::Conflict => ("conflict", "cancel"),
            BindError::NotAllowed => ("not-allowed", "cancel"),
            BindError::ResourceConstraint => ("resource-constraint", "wait"),
        }
    }
}

enum State {
    /// Waiting for the client's stream header.
    AwaitHeader,
    /// Features sent; STARTTLS or SASL expected.
    Negotiating,
    /// A SASL exchange is under way.
    Sasl(Box<sasl::ServerSession>, Mechanism),
    /// Authenticated; waiting for a bind request (or a higher-layer
    /// element such as `<resume/>`).
    AwaitBind,
    /// Bind requested; waiting for the application's decision.
    BindPending {
        iq_id: String,
        requested: Option<String>,
    },
    /// Bound: stanzas flow.
    Bound,
    /// We sent `</stream:stream>`; waiting for the peer's.
    Closing { deadline: Instant },
    /// Over.
    Closed,
}

/// A server-side client-to-server stream. See the [module docs](super).
pub struct ServerStream {
    config: ServerConfig,
    ids: Box<dyn IdSource>,
    transport: Transport,
    state: State,
    outbox: Outbox,
    header_sent: bool,
    stream_id: String,
    tls_done: bool,
    auth_failures: u32,
    authenticated: Option<Jid>,
    bound: Option<Jid>,
    negotiation_deadline: Option<Instant>,
    last_rx: Instant,
}

impl ServerStream {
    /// A stream for a freshly accepted connection at `now`.
    pub fn new(config: ServerConfig, ids: Box<dyn IdSource>, now: Instant) -> Self {
        let transport = Transport::new(config.limits.clone(), ns::CLIENT);
        let mut s = ServerStream {
            negotiation_deadline: Some(now + config.negotiation_timeout),
            config,
            ids,
            transport,
            state: State::AwaitHeader,
            outbox: Outbox::default(),
            header_sent: false,
            stream_id: String::new(),
            tls_done: false,
            auth_failures: 0,
            authenticated: None,
            bound: None,
            last_rx: now,
        };
        if s.config.tls_mode == TlsMode::Direct {
            match s.new_tls_conn() {
                Some(conn) => {
                    if let Err(e) = s.transport.start_tls(conn) {
                        s.fail_transport(e);
                    }
                }
                None => s.fail(
                    now,
                    StreamError::new(Cond::InternalServerError).with_text("TLS is not configured"),
                ),
            }
        }
        s
    }

    /// The bound full JID, once [`Event::Bound`] was emitted.
    pub fn jid(&self) -> Option<&Jid> {
        self.bound.as_ref()
    }

    /// The authenticated bare JID, once SASL succeeded.
    pub fn authenticated(&self) -> Option<&Jid> {
        self.authenticated.as_ref()
    }

    /// The id of the current stream (changes at every restart).
    pub fn stream_id(&self) -> &str {
        &self.stream_id
    }

    /// Whether TLS protects this stream.
    pub fn is_secure(&self) -> bool {
        self.tls_done
    }

    /// Whether the stream is over.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Feeds bytes read from the socket.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        self.outbox.timeout_reported = false;
        if matches!(self.state, State::Closed) {
            return;
        }
        self.last_rx = now;
        if let Err(e) = self
            .outbox
            .receive(&mut self.transport, &mut self.tls_done, data)
        {
            return self.fail_transport(e);
        }
        self.process(now);
        if self.transport.tls_closed && !matches!(self.state, State::Closed) {
            self.finish_close(None, true);
        }
    }

    /// Processes expired timers. Spurious calls are no-ops.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.outbox.timeout_reported = false;
        match self.state {
            State::Closed => {}
            State::Closing { deadline } => {
                if now >= deadline {
                    self.finish_close(None, false);
                }
            }
            _ => {
                if self.negotiation_deadline.is_some_and(|d| now >= d) {
                    self.fail(
                        now,
                        StreamError::new(Cond::ConnectionTimeout)
                            .with_text("stream negotiation took too long"),
                    );
                } else if self
                    .config
                    .idle_timeout
                    .is_some_and(|t| now >= self.last_rx + t)
                {
                    self.fail(
                        now,
                        StreamError::new(Cond::ConnectionTimeout).with_text("idle for too long"),
                    );
                }
            }
        }
    }

    /// The next thing the caller must do; see the [module docs](super).
    pub fn poll_output(&mut self) -> Option<Output> {
        let deadline = self.next_deadline();
        self.outbox.poll(&mut self.transport, deadline)
    }

    fn next_deadline(&self) -> Option<Instant> {
        match self.state {
            State::Closed => None,
            State::Closing { deadline } => Some(deadline),
            _ => {
                let idle = self.config.idle_timeout.map(|t| self.last_rx + t);
                match (self.negotiation_deadline, idle) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
        }
    }

    /// Answers an [`Event::BindRequested`]: `Ok(resource)` binds that
    /// resource (prepared with the OpaqueString profile; an invalid one is
    /// answered with `<bad-request/>`), `Err` refuses the request.
    pub fn complete_bind(&mut self, now: Instant, outcome: Result<String, BindError>) {
        self.outbox.timeout_reported = false;
        let State::BindPending { iq_id, .. } = &self.state else {
            return;
        };
        let iq_id = iq_id.clone();
        let Some(bare) = self.authenticated.clone() else {
            return;
        };
        let result = match outcome {
            Ok(res) => bare
                .with_resource(&res)
                .map_err(|_| ("bad-request", "modify")),
            Err(e) => Err(e.condition()),
        };
        match result {
            Ok(full) => {
                let reply = Element::new("iq", ns::CLIENT)
                    .with_attr("type", "result")
                    .with_attr("id", iq_id)
                    .with_child(
                        Element::new("bind", ns::BIND)
                            .with_child(Element::new("jid", ns::BIND).with_text(full.as_str())),
                    );
                self.send(&reply);
                self.bound = Some(full.clone());
                self.negotiation_deadline = None;
                self.state = State::Bound;
                self.outbox.events.push_back(Event::Bound { jid: full });
            }
            Err((cond, ty)) => {
                let reply = iq_error(&iq_id, None, cond, ty);
                self.send(&reply);
                self.state = State::AwaitBind;
            }
        }
        // Frames that arrived while the decision was pending.
        self.process(now);
    }

    /// The requested resource of a pending bind, if any.
    pub fn pending_bind(&self) -> Option<Option<&str>> {
        match &self.state {
            State::BindPending { requested, .. } => Some(requested.as_deref()),
            _ => None,
        }
    }

    /// Sends a stanza to the client. Returns `false` (and sends nothing)
    /// unless the stream is bound.
    pub fn send_stanza(&mut self, stanza: &Element) -> bool {
        self.outbox.timeout_reported = false;
        if !matches!(self.state, State::Bound) {
            return false;
        }
        self.send(stanza);
        true
    }

    /// Sends pre-serialized bytes of a stanza (for fan-out of one
    /// serialization to many streams). The caller guarantees they are one
    /// complete element valid in the `jabber:client` namespace context.
    pub fn send_serialized(&mut self, bytes: &[u8]) -> bool {
        self.outbox.timeout_reported = false;
        if !matches!(self.state, State::Bound) {
            return false;
        }
        if let Err(e) = self.transport.send_raw(bytes) {
            self.fail_transport(e);
            return false;
        }
        true
    }

    /// Sends a top-level element that is not a stanza (e.g. XEP-0198
    /// `<a/>`). Allowed once authenticated.
    pub fn send_nonza(&mut self, element: &Element) -> bool {
        self.outbox.timeout_reported = false;
        if self.authenticated.is_none()
            || matches!(self.state, State::Closed | State::Closing { .. })
        {
            return false;
        }
        self.send(element);
        true
    }

    /// Marks the stream as bound to `jid` without a bind exchange (used by
    /// XEP-0198 resumption, which restores a previous session).
    pub fn resume_as(&mut self, jid: Jid) {
        self.outbox.timeout_reported = false;
        if matches!(self.state, State::AwaitBind) {
            self.bound = Some(jid);
            self.negotiation_deadline = None;
            self.state = State::Bound;
        }
    }

    /// Closes the stream politely: sends `</stream:stream>` and waits for
    /// the client's close (at most `close_timeout`).
    pub fn close(&mut self, now: Instant) {
        self.outbox.timeout_reported = false;
        if matches!(self.state, State::Closed | State::Closing { .. }) {
            return;
        }
        self.ensure_header(None);
        self.send_raw(b"</stream:stream>");
        self.state = State::Closing {
            deadline: now + self.config.close_timeout,
        };
    }

    /// Ends the stream with a stream error (RFC 6120 §4.9).
    pub fn close_with_error(&mut self, now: Instant, error: StreamError) {
        self.outbox.timeout_reported = false;
        self.fail(now, error);
    }

    // ----- internals -----

    fn process(&mut self, now: Instant) {
        loop {
            if matches!(self.state, State::Closed | State::BindPending { .. }) {
                return;
            }
            match self.transport.framer.next_frame() {
                Ok(None) => return,
                Ok(Some(Frame::StreamOpen(h))) => self.on_header(now, h),
                Ok(Some(Frame::StreamClose)) => self.on_peer_close(),
                Ok(Some(Frame::Element(raw))) => {
                    let ctx = self.header_context();
                    match parse_element(&raw, &ctx, &self.config.limits) {
                        Ok(e) => self.on_element(now, e),
                        Err(e) => self.fail_xml(now, e),
                    }
                }
                Err(e) => self.fail_xml(now, e),
            }
        }
    }

    fn header_context(&self) -> crate::xml::NsContext {
        crate::xml::NsContext::stream(ns::CLIENT)
    }

    fn on_header(&mut self, now: Instant, h: StreamHeader) {
        let from = h.from.clone();
        self.ensure_header(from.as_deref());
        self.outbox.events.push_back(Event::StreamOpened(h.clone()));
        if h.content_ns() != ns::CLIENT {
            return self.fail(now, StreamError::new(Cond::InvalidNamespace));
        }
        match h.version_numbers() {
            Some((1, _)) => {}
            _ => return self.fail(now, StreamError::new(Cond::UnsupportedVersion)),
        }
        let to_ok = h
            .to
            .as_deref()
            .and_then(|t| Jid::new(t).ok())
            .is_some_and(|j| {
                j.local().is_none() && j.resource().is_none() && j.domain() == self.config.domain
            });
        if !to_ok {
            return self.fail(now, StreamError::new(Cond::HostUnknown));
        }
        self.send_features();
    }

    /// Writes our stream header if this stream has none yet (RFC 6120
    /// §4.9.1.1: even an error needs a header first).
    fn ensure_header(&mut self, to: Option<&str>) {
        if self.header_sent {
            return;
        }
        self.header_sent = true;
        self.stream_id = self.ids.next_id();
        let mut h = BytesMut::with_capacity(256);
        h.extend_from_slice(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id=\"");
        escape_attr(&mut h, &self.stream_id);
        h.extend_from_slice(b"\" from=\"");
        escape_attr(&mut h, &self.config.domain);
        if let Some(to) = to {
            h.extend_from_slice(b"\" to=\"");
            escape_attr(&mut h, to);
        }
        h.extend_from_slice(b"\" version='1.0' xml:lang=\"");
        escape_attr(&mut h, &self.config.lang);
        h.extend_from_slice(b"\">");
        self.send_raw(&h);
    }

    fn tls_available(&self) -> bool {
        self.config.tls.is_some()
            && matches!(self.config.tls_mode, TlsMode::Required | TlsMode::Optional)
    }

    fn tls_required_first(&self) -> bool {
        !self.tls_done && self.config.tls_mode == TlsMode::Required
    }

    fn channel_binding(&self) -> ChannelBinding {
        match self.transport.tls_exporter() {
            Some(data) => ChannelBinding::TlsExporter(data),
            None => ChannelBinding::None,
        }
    }

    fn offered_mechanisms(&self) -> Vec<Mechanism> {
        sasl::server_mechanisms(
            self.tls_done,
            &self.channel_binding(),
            self.config.allow_plain_without_tls,
        )
        .into_iter()
        .filter(|m| match m {
            Mechanism::External => false,
            Mechanism::OAuthBearer => self.config.offer_oauthbearer && self.tls_done,
            _ => true,
        })
        .collect()
    }

    fn send_features(&mut self) {
        let mut f = Element::new("features", ns::STREAM);
        if self.authenticated.is_some() {
            f.append_child(Element::new("bind", ns::BIND));
            f.append_child(
                Element::new("session", ns::SESSION)
                    .with_child(Element::new("optional", ns::SESSION)),
            );
            for extra in &self.config.post_auth_features {
                f.append_child(extra.clone());
            }
            self.state = State::AwaitBind;
        } else {
            if !self.tls_done && self.tls_available() {
                let mut st = Element::new("starttls", ns::TLS);
                if self.config.tls_mode == TlsMode::Required {
                    st.append_child(Element::new("required", ns::TLS));
                }
                f.append_child(st);
            }
            if !self.tls_required_first() {
                let mut mechs = Element::new("mechanisms", ns::SASL);
                for m in self.offered_mechanisms() {
                    mechs.append_child(Element::new("mechanism", ns::SASL).with_text(m.name()));
                }
                f.append_child(mechs);
            }
            self.state = State::Negotiating;
        }
        self.send(&f);
    }

    fn on_element(&mut self, now: Instant, e: Element) {
        if e.ns() == ns::STREAM {
            if e.name() == "error" {
                let err = crate::stream_error::StreamError::from_element(&e);
                return self.finish_close(err, true);
            }
            return self.fail(now, StreamError::new(Cond::UnsupportedStanzaType));
        }
        match (&self.state, e.ns(), e.name()) {
            (State::Negotiating, ns::TLS, "starttls") => self.on_starttls(now),
            (State::Negotiating, ns::SASL, "auth") => self.on_auth(now, &e),
            (State::Sasl(..), ns::SASL, "response") => {
                let text = e.text();
                let input = match sasl::decode_payload(text.trim(), sasl::DEFAULT_MAX_MESSAGE_SIZE)
                {
                    Ok(v) => v,
                    Err(f) => return self.sasl_failure(now, f.condition, f.text),
                };
                self.sasl_step(now, Some(&input));
            }
            (State::Sasl(..), ns::SASL, "abort") => {
                self.sasl_failure(now, FailureCondition::Aborted, None);
            }
            (State::Negotiating | State::AwaitHeader, ns::CLIENT, _) => self.fail(
                now,
                StreamError::new(Cond::NotAuthorized).with_text("authenticate first"),
            ),
            (State::Sasl(..), _, _) => self.fail(
                now,
                StreamError::new(Cond::NotAuthorized).with_text("SASL negotiation in progress"),
            ),
            (State::AwaitBind, ns::CLIENT, "iq") => self.on_bind_phase_iq(now, e),
            (State::AwaitBind, ns::CLIENT, _) => self.fail(
                now,
                StreamError::new(Cond::NotAuthorized).with_text("bind a resource first"),
            ),
            (State::Bound, ns::CLIENT, "message" | "presence" | "iq") => self.on_stanza(now, e),
            (State::Bound | State::Closing { .. }, ns::CLIENT, _) => {
                self.fail(now, StreamError::new(Cond::UnsupportedStanzaType));
            }
            (State::AwaitBind | State::Bound | State::Closing { .. }, _, _) => {
                self.outbox.events.push_back(Event::Nonza(e));
            }
            (State::Negotiating, ns::SM, _) => {
                // XEP-0198 §3: stream management before authentication is
                // an unexpected request, answered without ending the stream.
                let failed = Element::new("failed", ns::SM)
                    .with_child(Element::new("unexpected-request", ns::STANZAS));
                self.send(&failed);
            }
            (State::Negotiating, _, _) => self.fail(
                now,
                StreamError::new(Cond::UnsupportedStanzaType)
                    .with_text("unexpected element during negotiation"),
            ),
            (State::AwaitHeader | State::BindPending { .. } | State::Closed, _, _) => {}
        }
    }

    fn on_starttls(&mut self, now: Instant) {
        let conn = if self.tls_available() && !self.tls_done {
            self.new_tls_conn()
        } else {
            None
        };
        let Some(conn) = conn else {
            // RFC 6120 §5.4.2.2: <failure/>, then close the stream.
            self.send(&Element::new("failure", ns::TLS));
            self.send_raw(b"</stream:stream>");
            return self.finish_close(None, false);
        };
        self.send(&Element::new("proceed", ns::TLS));
        self.header_sent = false;
        self.state = State::AwaitHeader;
        if let Err(e) = self.transport.start_tls(conn) {
            self.fail_transport(e);
        }
        let _ = now;
    }

    fn new_tls_conn(&self) -> Option<rustls::Connection> {
        let cfg = self.config.tls.clone()?;
        rustls::ServerConnection::new(cfg)
            .ok()
            .map(rustls::Connection::Server)
    }

    fn on_auth(&mut self, now: Instant, e: &Element) {
        if self.tls_required_first() {
            return self.sasl_failure(now, FailureCondition::EncryptionRequired, None);
        }
        let offered = self.offered_mechanisms();
        let mech = match sasl::accept_mechanism(
            e.attr("mechanism").unwrap_or(""),
            &offered,
            self.tls_done,
        ) {
            Ok(m) => m,
            Err(f) => return self.sasl_failure(now, f.condition, f.text),
        };
        let text = e.text();
        let text = text.trim();
        let initial = if text.is_empty() {
            None
        } else {
            match sasl::decode_payload(text, sasl::DEFAULT_MAX_MESSAGE_SIZE) {
                Ok(v) => Some(v),
                Err(f) => return self.sasl_failure(now, f.condition, f.text),
            }
        };
        let nonce = self.ids.next_id();
        match sasl::ServerSession::new(mech, self.channel_binding(), &nonce, None) {
            Ok(session) => {
                self.state = State::Sasl(Box::new(session), mech);
                self.sasl_step(now, initial.as_deref());
            }
            Err(f) => self.sasl_failure(now, f.condition, f.text),
        }
    }

    fn sasl_step(&mut self, now: Instant, input: Option<&[u8]>) {
        let State::Sasl(session, mech) = &mut self.state else {
            return;
        };
        let mech = *mech;
        let step = session.step(self.config.credentials.as_ref(), input);
        match step {
            Ok(ServerStep::Challenge(data)) => {
                let c = Element::new("challenge", ns::SASL).with_text(sasl::encode_payload(&data));
                self.send(&c);
            }
            Ok(ServerStep::Success {
                username,
                authzid,
                additional_data,
            }) => {
                let identity = match authzid.as_deref() {
                    None => Jid::from_parts(Some(&username), &self.config.domain, None).ok(),
                    Some(a) => Jid::new(a).ok().filter(|j| {
                        j.is_bare() && j.local().is_some() && j.domain() == self.config.domain
                    }),
                };
                let Some(jid) = identity else {
                    return self.sasl_failure(now, FailureCondition::InvalidAuthzid, None);
                };
                let mut s = Element::new("success", ns::SASL);
                if let Some(d) = additional_data {
                    s.append_text(&sasl::encode_payload(&d));
                }
                self.send(&s);
                self.authenticated = Some(jid.clone());
                self.outbox.events.push_back(Event::Authenticated {
                    jid,
                    mechanism: mech.name(),
                });
                // RFC 6120 §6.4.6: the client opens a new stream over the
                // same connection; bytes already buffered belong to it.
                self.transport.framer.restart();
                self.header_sent = false;
                self.state = State::AwaitHeader;
            }
            Err(f) => self.sasl_failure(now, f.condition, f.text),
        }
    }

    fn sasl_failure(&mut self, now: Instant, cond: FailureCondition, text: Option<String>) {
        let mut f =
            Element::new("failure", ns::SASL).with_child(Element::new(cond.as_str(), ns::SASL));
        if let Some(t) = text {
            f.append_child(
                Element::new("text", ns::SASL)
                    .with_attr("xml:lang", "en")
                    .with_text(t),
            );
        }
        self.send(&f);
        self.state = State::Negotiating;
        if cond != FailureCondition::Aborted {
            self.auth_failures += 1;
        }
        if self.auth_failures >= self.config.max_auth_attempts {
            self.fail(
                now,
                StreamError::new(Cond::PolicyViolation)
                    .with_text("too many authentication failures"),
            );
        }
    }

    fn on_bind_phase_iq(&mut self, now: Instant, e: Element) {
        let id = e.attr("id").unwrap_or("").to_owned();
        let ty = e.attr("type").unwrap_or("");
        if let Some(bind) = e.get_child("bind", ns::BIND).filter(|_| ty == "set") {
            let requested = bind
                .get_child("resource", ns::BIND)
                .map(|r| r.text())
                .filter(|r| !r.is_empty());
            if let Some(r) = &requested
                && self
                    .authenticated
                    .as_ref()
                    .is_some_and(|j| j.with_resource(r).is_err())
            {
                self.send(&iq_error(&id, None, "bad-request", "modify"));
                return;
            }
            self.state = State::BindPending {
                iq_id: id,
                requested: requested.clone(),
            };
            self.outbox
                .events
                .push_back(Event::BindRequested { requested });
            return;
        }
        self.fail(
            now,
            StreamError::new(Cond::NotAuthorized).with_text("bind a resource first"),
        );
    }

    fn on_stanza(&mut self, now: Instant, mut e: Element) {
        let Some(full) = self.bound.clone() else {
            return;
        };
        // RFC 6120 §8.1.2.1: the server stamps `from`; a client-supplied
        // value other than its own full or bare JID is refused.
        if let Some(from) = e.attr("from") {
            let ok = Jid::new(from).is_ok_and(|j| j == full || j == full.bare());
            if !ok {
                return self.fail(now, StreamError::new(Cond::InvalidFrom));
            }
        }
        e.set_attr("from", full.as_str());
        if e.name() == "iq" && e.attr("type") == Some("set") {
            if e.has_child("session", ns::SESSION)
                && e.attr("to").is_none_or(|t| t == self.config.domain)
            {
                let id = e.attr("id").unwrap_or("").to_owned();
                let reply = Element::new("iq", ns::CLIENT)
                    .with_attr("type", "result")
                    .with_attr("id", id)
                    .with_attr("to", full.as_str());
                self.send(&reply);
                return;
            }
            if e.has_child("bind", ns::BIND) {
                let id = e.attr("id").unwrap_or("").to_owned();
                self.send(&iq_error(&id, Some(full.as_str()), "not-allowed", "cancel"));
                return;
            }
        }
        self.outbox.events.push_back(Event::Stanza(e));
    }

    fn on_peer_close(&mut self) {
        if !matches!(self.state, State::Closing { .. }) {
            self.send_raw(b"</stream:stream>");
        }
        self.finish_close(None, true);
    }

    fn finish_close(&mut self, error: Option<StreamError>, by_peer: bool) {
        if matches!(self.state, State::Closed) {
            return;
        }
        self.transport.close_tls();
        self.state = State::Closed;
        self.outbox
            .events
            .push_back(Event::Closed { error, by_peer });
    }

    fn fail_xml(&mut self, now: Instant, e: XmlError) {
        let err = StreamError::new(e.condition()).with_text(e.to_string());
        self.fail(now, err);
    }

    fn fail(&mut self, _now: Instant, error: StreamError) {
        if matches!(self.state, State::Closed) {
            return;
        }
        self.ensure_header(None);
        self.send(&error.to_element());
        self.send_raw(b"</stream:stream>");
        self.finish_close(Some(error), false);
    }

    fn fail_transport(&mut self, e: TransportError) {
        let TransportError::Tls(msg) = e;
        self.state = State::Closed;
        self.outbox.events.push_back(Event::Closed {
            error: Some(
                StreamError::new(Cond::UndefinedCondition).with_text(format!("TLS: {msg}")),
            ),
            by_peer: false,
        });
    }

    fn send(&mut self, e: &Element) {
        if let Err(err) = self.transport.send_element(e) {
            self.fail_transport(err);
        }
    }

    fn send_raw(&mut self, b: &[u8]) {
        if let Err(err) = self.transport.send_raw(b) {
            self.fail_transport(err);
        }
    }
}

impl std::fmt::Debug for ServerStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerStream")
            .field("stream_id", &self.stream_id)
            .field("authenticated", &self.authenticated)
            .field("bound", &self.bound)
            .finish_non_exhaustive()
    }
}

fn iq_error(id: &str, to: Option<&str>, cond: &str, ty: &str) -> Element {
    Element::new("iq", ns::CLIENT)
        .with_attr("type", "error")
        .with_attr("id", id)
        .with_opt_attr("to", to)
        .with_child(
            Element::new("error", ns::CLIENT)
                .with_attr("type", ty)
                .with_child(Element::new(cond, ns::STANZAS)),
        )
}
