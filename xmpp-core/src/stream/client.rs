//! The initiating-entity (client) side of a client-to-server stream
//! (RFC 6120 §4–§7).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;

use super::transport::{Transport, TransportError};
use super::{Event, IdSource, Outbox, Output, TlsMode};
use crate::jid::Jid;
use crate::ns;
use crate::sasl::{self, ChannelBinding, Mechanism};
use crate::stream_error::{StreamError, StreamErrorCondition as Cond};
use crate::xml::{Element, Frame, Limits, NsContext, XmlError, escape_attr, parse_element};

/// Configuration of a client-side stream.
#[derive(Clone)]
pub struct ClientConfig {
    /// The account: a bare JID, or a full JID whose resource is requested
    /// at bind time.
    pub jid: Jid,
    /// The password (or, for OAUTHBEARER, the token).
    pub password: String,
    /// TLS configuration; required unless `tls_mode` is `Disabled`.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// How TLS is used. Default: STARTTLS required.
    pub tls_mode: TlsMode,
    /// SASL mechanisms in order of preference.
    pub mechanisms: Vec<Mechanism>,
    /// XML limits for what the server sends.
    pub limits: Limits,
    /// Send a whitespace keep-alive after this much send silence once
    /// bound. Default 90 s; `None` disables.
    pub keepalive_interval: Option<Duration>,
    /// Time allowed from connection to a bound resource. Default 60 s.
    pub negotiation_timeout: Duration,
    /// How long to wait for the server's `</stream:stream>` after ours.
    pub close_timeout: Duration,
    /// The stream's language. Default `en`.
    pub lang: String,
    /// Stop after the post-authentication features instead of binding a
    /// resource at once: the engine emits [`Event::Features`] and waits
    /// for [`ClientStream::bind`] or [`ClientStream::resume_as`] (used by
    /// XEP-0198 resumption, which sends `<resume/>` instead of binding).
    /// Default `false`.
    pub defer_bind: bool,
}

impl ClientConfig {
    /// A configuration with the documented defaults.
    pub fn new(
        jid: Jid,
        password: impl Into<String>,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Self {
        ClientConfig {
            jid,
            password: password.into(),
            tls,
            tls_mode: TlsMode::Required,
            mechanisms: vec![
                Mechanism::ScramSha256Plus,
                Mechanism::ScramSha1Plus,
                Mechanism::ScramSha256,
                Mechanism::ScramSha1,
                Mechanism::Plain,
            ],
            limits: Limits::default(),
            keepalive_interval: Some(Duration::from_secs(90)),
            negotiation_timeout: Duration::from_secs(60),
            close_timeout: Duration::from_secs(5),
            lang: "en".to_owned(),
            defer_bind: false,
        }
    }
}

enum State {
    AwaitHeader,
    AwaitFeatures,
    AwaitProceed,
    Sasl(Box<sasl::ClientSession>, Mechanism),
    /// Authenticated, features seen, waiting for `bind` or `resume_as`
    /// (only with `defer_bind`). `hold` stops frame processing after a
    /// higher-layer element was delivered, until the decision is made, so
    /// stanzas that follow a `<resumed/>` are read in the bound state.
    AwaitBindDecision {
        session: bool,
        hold: bool,
    },
    AwaitBind {
        id: String,
        session: bool,
    },
    AwaitSession {
        id: String,
    },
    Bound,
    Closing {
        deadline: Instant,
    },
    Closed,
}

/// A client-side stream. See the [module docs](super).
pub struct ClientStream {
    config: ClientConfig,
    ids: Box<dyn IdSource>,
    transport: Transport,
    state: State,
    outbox: Outbox,
    tls_done: bool,
    authenticated: bool,
    bound: Option<Jid>,
    stream_id: Option<String>,
    negotiation_deadline: Option<Instant>,
    last_tx: Instant,
}

impl ClientStream {
    /// Starts a stream at `now`: the stream header (or, for direct TLS,
    /// the TLS handshake) is ready to transmit at once.
    pub fn new(config: ClientConfig, ids: Box<dyn IdSource>, now: Instant) -> Self {
        let transport = Transport::new(config.limits.clone(), ns::CLIENT);
        let mut c = ClientStream {
            negotiation_deadline: Some(now + config.negotiation_timeout),
            config,
            ids,
            transport,
            state: State::AwaitHeader,
            outbox: Outbox::default(),
            tls_done: false,
            authenticated: false,
            bound: None,
            stream_id: None,
            last_tx: now,
        };
        if c.config.tls_mode == TlsMode::Direct {
            match c.new_tls_conn() {
                Ok(conn) => {
                    if let Err(e) = c.transport.start_tls(conn) {
                        c.fail_transport(e);
                        return c;
                    }
                }
                Err(msg) => {
                    c.finish_close(
                        Some(StreamError::new(Cond::UndefinedCondition).with_text(msg)),
                        false,
                    );
                    return c;
                }
            }
        }
        c.send_header(now);
        c
    }

    /// The bound full JID, once [`Event::Bound`] was emitted.
    pub fn jid(&self) -> Option<&Jid> {
        self.bound.as_ref()
    }

    /// The server's stream id for the current stream.
    pub fn stream_id(&self) -> Option<&str> {
        self.stream_id.as_deref()
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
            State::Bound => {
                if let Some(k) = self.config.keepalive_interval
                    && now >= self.last_tx + k
                {
                    self.send_raw(now, b" ");
                }
            }
            _ => {
                if self.negotiation_deadline.is_some_and(|d| now >= d) {
                    self.fail(
                        now,
                        StreamError::new(Cond::ConnectionTimeout)
                            .with_text("stream negotiation took too long"),
                    );
                }
            }
        }
    }

    /// The next thing the caller must do; see the [module docs](super).
    pub fn poll_output(&mut self) -> Option<Output> {
        let deadline = match self.state {
            State::Closed => None,
            State::Closing { deadline } => Some(deadline),
            State::Bound => self.config.keepalive_interval.map(|k| self.last_tx + k),
            _ => self.negotiation_deadline,
        };
        self.outbox.poll(&mut self.transport, deadline)
    }

    /// Sends a stanza. Returns `false` (and sends nothing) unless bound.
    pub fn send_stanza(&mut self, now: Instant, stanza: &Element) -> bool {
        self.outbox.timeout_reported = false;
        if !matches!(self.state, State::Bound) {
            return false;
        }
        self.send(now, stanza);
        true
    }

    /// Sends a top-level element that is not a stanza (e.g. XEP-0198
    /// `<r/>`, `<resume/>`). Allowed once authenticated and the
    /// post-authentication stream is open, until the stream closes.
    pub fn send_nonza(&mut self, now: Instant, element: &Element) -> bool {
        self.outbox.timeout_reported = false;
        if !matches!(
            self.state,
            State::Bound
                | State::AwaitBindDecision { .. }
                | State::AwaitBind { .. }
                | State::AwaitSession { .. }
        ) {
            return false;
        }
        self.send(now, element);
        true
    }

    /// Sends pre-serialized bytes of one stanza (for example a stanza
    /// retransmitted after XEP-0198 resumption). The caller guarantees
    /// they are one complete element valid in the `jabber:client`
    /// context. Returns `false` (and sends nothing) unless bound.
    pub fn send_serialized(&mut self, now: Instant, bytes: &[u8]) -> bool {
        self.outbox.timeout_reported = false;
        if !matches!(self.state, State::Bound) {
            return false;
        }
        self.send_raw(now, bytes);
        true
    }

    /// With [`ClientConfig::defer_bind`]: binds a resource now (after the
    /// [`Event::Features`] the engine stopped at). Returns `false` in any
    /// other state.
    pub fn bind(&mut self, now: Instant) -> bool {
        self.outbox.timeout_reported = false;
        let State::AwaitBindDecision { session, .. } = self.state else {
            return false;
        };
        self.start_bind(now, session);
        self.process(now);
        true
    }

    /// With [`ClientConfig::defer_bind`]: marks the stream as bound to
    /// `jid` without a bind exchange, because a higher layer restored a
    /// previous session (XEP-0198 `<resumed/>`). No [`Event::Bound`] is
    /// emitted. Returns `false` in any other state.
    pub fn resume_as(&mut self, now: Instant, jid: Jid) -> bool {
        self.outbox.timeout_reported = false;
        if !matches!(self.state, State::AwaitBindDecision { .. }) {
            return false;
        }
        self.bound = Some(jid);
        self.negotiation_deadline = None;
        self.state = State::Bound;
        self.process(now);
        true
    }

    /// Closes the stream politely.
    pub fn close(&mut self, now: Instant) {
        self.outbox.timeout_reported = false;
        if matches!(self.state, State::Closed | State::Closing { .. }) {
            return;
        }
        self.send_raw(now, b"</stream:stream>");
        self.state = State::Closing {
            deadline: now + self.config.close_timeout,
        };
    }

    // ----- internals -----

    fn new_tls_conn(&self) -> Result<rustls::Connection, String> {
        let cfg = self.config.tls.clone().ok_or("TLS is not configured")?;
        let name = rustls::pki_types::ServerName::try_from(self.config.jid.domain().to_owned())
            .map_err(|e| e.to_string())?;
        rustls::ClientConnection::new(cfg, name)
            .map(rustls::Connection::Client)
            .map_err(|e| e.to_string())
    }

    fn send_header(&mut self, now: Instant) {
        let mut h = BytesMut::with_capacity(256);
        h.extend_from_slice(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to=\"");
        escape_attr(&mut h, self.config.jid.domain());
        if self.tls_done || self.config.tls_mode == TlsMode::Disabled {
            // RFC 6120 §4.7.1: include `from` only once the stream is
            // protected.
            h.extend_from_slice(b"\" from=\"");
            escape_attr(&mut h, self.config.jid.bare().as_str());
        }
        h.extend_from_slice(b"\" version='1.0' xml:lang=\"");
        escape_attr(&mut h, &self.config.lang);
        h.extend_from_slice(b"\">");
        self.send_raw(now, &h);
        self.state = State::AwaitHeader;
    }

    fn process(&mut self, now: Instant) {
        loop {
            if matches!(
                self.state,
                State::Closed | State::AwaitBindDecision { hold: true, .. }
            ) {
                return;
            }
            match self.transport.framer.next_frame() {
                Ok(None) => return,
                Ok(Some(Frame::StreamOpen(h))) => {
                    if h.content_ns() != ns::CLIENT {
                        return self.fail(now, StreamError::new(Cond::InvalidNamespace));
                    }
                    self.stream_id = h.id.clone();
                    self.outbox.events.push_back(Event::StreamOpened(h));
                    if matches!(self.state, State::AwaitHeader) {
                        self.state = State::AwaitFeatures;
                    }
                }
                Ok(Some(Frame::StreamClose)) => {
                    if !matches!(self.state, State::Closing { .. }) {
                        self.send_raw(now, b"</stream:stream>");
                    }
                    self.finish_close(None, true);
                }
                Ok(Some(Frame::Element(raw))) => {
                    match parse_element(&raw, &NsContext::stream(ns::CLIENT), &self.config.limits) {
                        Ok(e) => self.on_element(now, e),
                        Err(e) => self.fail_xml(now, e),
                    }
                }
                Err(e) => self.fail_xml(now, e),
            }
        }
    }

    fn on_element(&mut self, now: Instant, e: Element) {
        if e.is("error", ns::STREAM) {
            return self.finish_close(StreamError::from_element(&e), true);
        }
        match (&self.state, e.ns(), e.name()) {
            (State::AwaitFeatures, ns::STREAM, "features") => self.on_features(now, e),
            (State::AwaitProceed, ns::TLS, "proceed") => match self.new_tls_conn() {
                Ok(conn) => {
                    if let Err(err) = self.transport.start_tls(conn) {
                        return self.fail_transport(err);
                    }
                    self.send_header(now);
                }
                Err(msg) => self.fail(
                    now,
                    StreamError::new(Cond::UndefinedCondition).with_text(msg),
                ),
            },
            (State::AwaitProceed, ns::TLS, "failure") => {
                self.finish_close(
                    Some(StreamError::new(Cond::UndefinedCondition).with_text("STARTTLS failed")),
                    true,
                );
            }
            (State::Sasl(..), ns::SASL, "challenge") => {
                let Ok(data) =
                    sasl::decode_payload(e.text().trim(), sasl::DEFAULT_MAX_MESSAGE_SIZE)
                else {
                    return self.abort_sasl(now, "undecodable challenge");
                };
                let State::Sasl(session, _) = &mut self.state else {
                    return;
                };
                match session.step(&data) {
                    Ok(resp) => {
                        let r = Element::new("response", ns::SASL)
                            .with_text(sasl::encode_payload(&resp));
                        self.send(now, &r);
                    }
                    Err(err) => self.abort_sasl(now, &err.to_string()),
                }
            }
            (State::Sasl(..), ns::SASL, "success") => {
                let text = e.text();
                let data = if text.is_empty() {
                    None
                } else {
                    match sasl::decode_payload(text.trim(), sasl::DEFAULT_MAX_MESSAGE_SIZE) {
                        Ok(d) => Some(d),
                        Err(_) => return self.abort_sasl(now, "undecodable success data"),
                    }
                };
                let State::Sasl(session, mech) = &mut self.state else {
                    return;
                };
                let mech = *mech;
                if let Err(err) = session.finish(data.as_deref()) {
                    // The server could not prove it knows our credentials.
                    return self.fail(
                        now,
                        StreamError::new(Cond::NotAuthorized)
                            .with_text(format!("server authentication failed: {err}")),
                    );
                }
                self.authenticated = true;
                self.outbox.events.push_back(Event::Authenticated {
                    jid: self.config.jid.bare(),
                    mechanism: mech.name(),
                });
                self.transport.framer.restart();
                self.send_header(now);
            }
            (State::Sasl(..), ns::SASL, "failure") => {
                let cond = e
                    .children()
                    .find(|c| c.name() != "text")
                    .map(|c| c.name().to_owned())
                    .unwrap_or_else(|| "not-authorized".to_owned());
                let text = e.get_child("text", ns::SASL).map(Element::text);
                let msg = match text {
                    Some(t) => format!("SASL failure: {cond}: {t}"),
                    None => format!("SASL failure: {cond}"),
                };
                self.send_raw(now, b"</stream:stream>");
                self.finish_close(
                    Some(StreamError::new(Cond::NotAuthorized).with_text(msg)),
                    true,
                );
            }
            (State::AwaitBind { id, session }, ns::CLIENT, "iq") if e.attr("id") == Some(id) => {
                let session = *session;
                let jid = e
                    .get_child("bind", ns::BIND)
                    .and_then(|b| b.get_child("jid", ns::BIND))
                    .and_then(|j| Jid::new(&j.text()).ok())
                    .filter(|j| e.attr("type") == Some("result") && j.is_full());
                let Some(jid) = jid else {
                    let cond = error_condition(&e).unwrap_or("bad bind result");
                    return self.fail(
                        now,
                        StreamError::new(Cond::UndefinedCondition)
                            .with_text(format!("bind failed: {cond}")),
                    );
                };
                self.bound = Some(jid.clone());
                if session {
                    let id = self.ids.next_id();
                    let iq = Element::new("iq", ns::CLIENT)
                        .with_attr("type", "set")
                        .with_attr("id", id.clone())
                        .with_child(Element::new("session", ns::SESSION));
                    self.send(now, &iq);
                    self.state = State::AwaitSession { id };
                } else {
                    self.on_bound(jid);
                }
            }
            (State::AwaitSession { id }, ns::CLIENT, "iq") if e.attr("id") == Some(id) => {
                if e.attr("type") != Some("result") {
                    return self.fail(
                        now,
                        StreamError::new(Cond::UndefinedCondition)
                            .with_text("session establishment failed"),
                    );
                }
                if let Some(jid) = self.bound.clone() {
                    self.on_bound(jid);
                }
            }
            (State::Bound | State::Closing { .. }, ns::CLIENT, "message" | "presence" | "iq") => {
                self.outbox.events.push_back(Event::Stanza(e));
            }
            (State::Bound | State::Closing { .. }, ns::CLIENT, _) => {
                self.fail(now, StreamError::new(Cond::UnsupportedStanzaType));
            }
            (State::AwaitBindDecision { session, .. }, _, _) => {
                self.state = State::AwaitBindDecision {
                    session: *session,
                    hold: true,
                };
                self.outbox.events.push_back(Event::Nonza(e));
            }
            (
                State::Bound
                | State::Closing { .. }
                | State::AwaitBind { .. }
                | State::AwaitSession { .. },
                _,
                _,
            ) => {
                self.outbox.events.push_back(Event::Nonza(e));
            }
            _ => self.fail(
                now,
                StreamError::new(Cond::UnsupportedStanzaType).with_text("unexpected element"),
            ),
        }
    }

    fn on_bound(&mut self, jid: Jid) {
        self.negotiation_deadline = None;
        self.state = State::Bound;
        self.outbox.events.push_back(Event::Bound { jid });
    }

    fn on_features(&mut self, now: Instant, f: Element) {
        let starttls = f.get_child("starttls", ns::TLS);
        if !self.tls_done && self.config.tls_mode != TlsMode::Disabled && self.config.tls.is_some()
        {
            if starttls.is_some() {
                self.send(now, &Element::new("starttls", ns::TLS));
                self.state = State::AwaitProceed;
                return;
            }
            if self.config.tls_mode == TlsMode::Required {
                return self.fail(
                    now,
                    StreamError::new(Cond::PolicyViolation)
                        .with_text("the server does not offer STARTTLS"),
                );
            }
        }
        if !self.authenticated {
            let offered: Vec<String> = f
                .get_child("mechanisms", ns::SASL)
                .map(|m| {
                    m.children()
                        .filter(|c| c.name() == "mechanism")
                        .map(Element::text)
                        .collect()
                })
                .unwrap_or_default();
            let offered_refs: Vec<&str> = offered.iter().map(String::as_str).collect();
            let cb = match self.transport.tls_exporter() {
                Some(d) => ChannelBinding::TlsExporter(d),
                None => ChannelBinding::None,
            };
            let cb_available = !matches!(cb, ChannelBinding::None);
            let Some(mech) =
                sasl::select_mechanism(&offered_refs, &self.config.mechanisms, cb_available)
            else {
                return self.fail(
                    now,
                    StreamError::new(Cond::PolicyViolation)
                        .with_text("no acceptable SASL mechanism offered"),
                );
            };
            let plus_offered = offered_refs.iter().any(|m| m.ends_with("-PLUS"));
            let supports_plus_unused = cb_available && !plus_offered;
            let nonce = self.ids.next_id();
            let local = self.config.jid.local().unwrap_or_default().to_owned();
            let session = sasl::ClientSession::new(
                mech,
                &local,
                &self.config.password,
                None,
                &nonce,
                cb,
                supports_plus_unused,
            );
            let mut session = match session {
                Ok(s) => s,
                Err(e) => {
                    return self.fail(
                        now,
                        StreamError::new(Cond::UndefinedCondition).with_text(e.to_string()),
                    );
                }
            };
            let initial = match session.initial_response() {
                Ok(i) => i,
                Err(e) => {
                    return self.fail(
                        now,
                        StreamError::new(Cond::UndefinedCondition).with_text(e.to_string()),
                    );
                }
            };
            let mut auth = Element::new("auth", ns::SASL).with_attr("mechanism", mech.name());
            if let Some(data) = initial {
                auth.append_text(&sasl::encode_payload(&data));
            }
            self.send(now, &auth);
            self.state = State::Sasl(Box::new(session), mech);
            return;
        }
        self.outbox.events.push_back(Event::Features(f.clone()));
        if f.has_child("bind", ns::BIND) {
            let session_required = f
                .get_child("session", ns::SESSION)
                .is_some_and(|s| !s.has_child("optional", ns::SESSION));
            if self.config.defer_bind {
                self.state = State::AwaitBindDecision {
                    session: session_required,
                    hold: false,
                };
            } else {
                self.start_bind(now, session_required);
            }
        } else {
            self.fail(
                now,
                StreamError::new(Cond::UnsupportedFeature)
                    .with_text("the server offers no resource binding"),
            );
        }
    }

    fn start_bind(&mut self, now: Instant, session_required: bool) {
        let id = self.ids.next_id();
        let mut bind = Element::new("bind", ns::BIND);
        if let Some(r) = self.config.jid.resource() {
            bind.append_child(Element::new("resource", ns::BIND).with_text(r));
        }
        let iq = Element::new("iq", ns::CLIENT)
            .with_attr("type", "set")
            .with_attr("id", id.clone())
            .with_child(bind);
        self.send(now, &iq);
        self.state = State::AwaitBind {
            id,
            session: session_required,
        };
    }

    fn abort_sasl(&mut self, now: Instant, why: &str) {
        self.send(now, &Element::new("abort", ns::SASL));
        self.send_raw(now, b"</stream:stream>");
        self.finish_close(
            Some(StreamError::new(Cond::NotAuthorized).with_text(format!("SASL aborted: {why}"))),
            false,
        );
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
        self.fail(
            now,
            StreamError::new(e.condition()).with_text(e.to_string()),
        );
    }

    fn fail(&mut self, now: Instant, error: StreamError) {
        if matches!(self.state, State::Closed) {
            return;
        }
        self.send(now, &error.to_element());
        self.send_raw(now, b"</stream:stream>");
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

    fn send(&mut self, now: Instant, e: &Element) {
        self.last_tx = now;
        if let Err(err) = self.transport.send_element(e) {
            self.fail_transport(err);
        }
    }

    fn send_raw(&mut self, now: Instant, b: &[u8]) {
        self.last_tx = now;
        if let Err(err) = self.transport.send_raw(b) {
            self.fail_transport(err);
        }
    }
}

impl std::fmt::Debug for ClientStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientStream")
            .field("jid", &self.config.jid)
            .field("bound", &self.bound)
            .finish_non_exhaustive()
    }
}

fn error_condition(e: &Element) -> Option<&str> {
    e.get_child("error", ns::CLIENT)?
        .children()
        .find(|c| c.ns() == ns::STANZAS && c.name() != "text")
        .map(Element::name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::SequentialIds;

    const HEADER: &[u8] = b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='verona.example' version='1.0'>";

    fn drain(c: &mut ClientStream) -> (String, Vec<Event>) {
        let (mut out, mut evs) = (Vec::new(), Vec::new());
        while let Some(o) = c.poll_output() {
            match o {
                Output::Transmit(b) => out.extend_from_slice(&b),
                Output::Event(e) => evs.push(e),
                Output::Timeout(_) => break,
            }
        }
        (String::from_utf8_lossy(&out).into_owned(), evs)
    }

    /// A client with `defer_bind`, authenticated with PLAIN and stopped
    /// at the post-authentication features.
    fn at_decision(now: Instant) -> ClientStream {
        let jid = Jid::new("juliet@verona.example/balcony").unwrap();
        let mut cfg = ClientConfig::new(jid, "pw", None);
        cfg.tls_mode = TlsMode::Disabled;
        cfg.mechanisms = vec![Mechanism::Plain];
        cfg.defer_bind = true;
        let mut c = ClientStream::new(cfg, Box::new(SequentialIds::new("c")), now);
        c.handle_input(now, HEADER);
        c.handle_input(now, b"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>");
        c.handle_input(now, b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        drain(&mut c);
        c.handle_input(now, HEADER);
        c.handle_input(now, b"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>");
        c
    }

    #[test]
    fn deferred_bind_waits_for_the_decision() {
        let now = Instant::now();
        let mut c = at_decision(now);
        let (out, evs) = drain(&mut c);
        assert!(!out.contains("bind"), "{out}");
        assert!(matches!(evs.last(), Some(Event::Features(_))));
        assert!(c.send_nonza(now, &Element::new("resume", ns::SM)));
        assert!(!c.send_serialized(now, b"<message/>"));
        assert!(c.bind(now));
        let (out, _) = drain(&mut c);
        assert!(out.contains("urn:ietf:params:xml:ns:xmpp-bind"), "{out}");
        assert!(!c.bind(now));
        assert!(!c.resume_as(now, Jid::new("juliet@verona.example/x").unwrap()));
    }

    #[test]
    fn stanzas_after_a_resumption_answer_are_read_once_resumed() {
        let now = Instant::now();
        let mut c = at_decision(now);
        drain(&mut c);
        // The answer and a retransmitted message arrive in one read.
        c.handle_input(
            now,
            b"<resumed xmlns='urn:xmpp:sm:3' previd='p' h='0'/><message from='romeo@verona.example/a'><body>again</body></message>",
        );
        let (_, evs) = drain(&mut c);
        assert_eq!(evs.len(), 1);
        assert!(matches!(&evs[0], Event::Nonza(e) if e.name() == "resumed"));
        let jid = Jid::new("juliet@verona.example/balcony").unwrap();
        assert!(c.resume_as(now, jid.clone()));
        assert_eq!(c.jid(), Some(&jid));
        let (_, evs) = drain(&mut c);
        assert!(matches!(&evs[..], [Event::Stanza(m)] if m.name() == "message"));
        assert!(c.send_serialized(now, b"<message/>"));
    }
}
