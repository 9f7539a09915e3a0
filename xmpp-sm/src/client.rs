//! The client role of XEP-0198: enabling after bind (§3), answering and
//! sending acknowledgement requests (§4), resuming after a lost
//! connection (§5) and resending exactly the stanzas the server did not
//! handle, composed with [`xmpp_core::stream::ClientStream`].
//!
//! One [`ClientSm`] outlives the connections of an account. Each new
//! [`ClientStream`] must be configured with
//! `ClientConfig::defer_bind = true` so that [`ClientSm`] can choose
//! between `<resume/>` and a fresh bind when the features arrive.
//! Stanzas the application sends while no managed stream is up are
//! kept and sent once the session is enabled or resumed.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use xmpp_core::jid::Jid;
use xmpp_core::ns;
use xmpp_core::stream::{ClientStream, Event};
use xmpp_core::xml::{Element, to_bytes};

use crate::counter::{AckError, Unacked};
use crate::wire::{SmElement, handled_count_too_high, malformed};

/// Client parameters.
#[derive(Clone, Debug)]
pub struct ClientSmConfig {
    /// Ask for resumption. Default on.
    pub resume: bool,
    /// Preferred resumption timeout to ask for, in seconds. Default none
    /// (the server's maximum applies).
    pub max: Option<u32>,
    /// Send `<r/>` after this many stanzas. Default 5.
    pub ack_request_every: u32,
    /// Most stanzas kept (unacknowledged plus not yet sent); beyond it
    /// [`ClientSm::send`] refuses. Default 1000.
    pub max_queue: usize,
    /// Where counters start: 0 per XEP-0198 §4 (the default and the only
    /// production value); other values let tests cross the 2^32 wrap.
    pub counter_origin: u32,
}

impl Default for ClientSmConfig {
    fn default() -> Self {
        ClientSmConfig {
            resume: true,
            max: None,
            ack_request_every: 5,
            max_queue: 1000,
            counter_origin: 0,
        }
    }
}

/// What the client layer tells the application.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// Stream management is on for a new session.
    Enabled {
        /// Whether the server allows resuming it.
        resumable: bool,
    },
    /// The previous session was resumed on this connection as `jid`;
    /// `resent` stanzas the server had not handled were sent again.
    Resumed {
        /// The session's full JID.
        jid: Jid,
        /// How many stanzas were resent.
        resent: usize,
    },
    /// Resumption failed; a fresh bind follows. Stanzas the server had
    /// not handled are sent on the new session when `handled` was given.
    ResumeFailed {
        /// The server's handled count, if it told us.
        handled: Option<u32>,
    },
    /// Stanzas whose fate is unknown (the server refused resumption
    /// without telling how many it handled, or dropped stream
    /// management): returned to the application, never resent blindly.
    Unconfirmed(Vec<Bytes>),
    /// The server refused to enable stream management.
    EnableFailed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// No connection, or one that is still negotiating.
    Idle,
    /// `<resume/>` sent.
    Resuming,
    /// Bind requested, `<enable/>` to follow if offered.
    Binding,
    /// `<enable/>` sent.
    Enabling,
    /// Stream management on.
    Active,
    /// Bound without stream management.
    Unmanaged,
}

/// The client side of XEP-0198 for one account. See the
/// [module docs](self).
#[derive(Debug)]
pub struct ClientSm {
    config: ClientSmConfig,
    out: Unacked,
    pending: VecDeque<Bytes>,
    inbound: u32,
    session: Option<(String, Jid)>,
    jid: Option<Jid>,
    phase: Phase,
    offered: bool,
    since_request: u32,
    events: VecDeque<ClientEvent>,
}

impl ClientSm {
    /// A client layer with no session yet.
    pub fn new(config: ClientSmConfig) -> Self {
        ClientSm {
            out: Unacked::new(config.counter_origin),
            inbound: config.counter_origin,
            config,
            pending: VecDeque::new(),
            session: None,
            jid: None,
            phase: Phase::Idle,
            offered: false,
            since_request: 0,
            events: VecDeque::new(),
        }
    }

    /// Whether stream management is active on the current connection.
    pub fn is_active(&self) -> bool {
        self.phase == Phase::Active
    }

    /// Whether a session could be resumed.
    pub fn can_resume(&self) -> bool {
        self.session.is_some()
    }

    /// Count of stanzas handled from the server (modulo 2^32).
    pub fn handled(&self) -> u32 {
        self.inbound
    }

    /// Stanzas sent and not yet acknowledged.
    pub fn unacked(&self) -> usize {
        self.out.len()
    }

    /// Stanzas accepted but not sent yet (no managed stream was up).
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// The connection was lost without a [`Event::Closed`] from the
    /// engine (for example a reset socket). The session stays resumable.
    pub fn disconnected(&mut self) {
        self.phase = Phase::Idle;
    }

    /// Filters an event of `stream`: stream-management elements are
    /// handled here (`None`); inbound stanzas are counted. On
    /// [`Event::Features`] after authentication this sends `<resume/>` or
    /// asks the engine to bind; after [`Event::Bound`] it sends
    /// `<enable/>`.
    pub fn on_event(
        &mut self,
        now: Instant,
        stream: &mut ClientStream,
        event: Event,
    ) -> Option<Event> {
        match event {
            Event::Features(f) => {
                self.offered = f.has_child("sm", ns::SM);
                match (&self.session, self.offered && self.config.resume) {
                    (Some((id, _)), true) => {
                        let r = SmElement::Resume {
                            previd: id.clone(),
                            h: self.inbound,
                        };
                        stream.send_nonza(now, &r.to_element());
                        self.phase = Phase::Resuming;
                    }
                    _ => {
                        self.abandon_session(None);
                        stream.bind(now);
                        self.phase = Phase::Binding;
                    }
                }
                Some(Event::Features(f))
            }
            Event::Bound { jid } => {
                self.jid = Some(jid.clone());
                self.out.reset(self.config.counter_origin);
                self.inbound = self.config.counter_origin;
                self.since_request = 0;
                if self.offered {
                    let e = SmElement::Enable {
                        resume: self.config.resume,
                        max: self.config.max,
                    };
                    stream.send_nonza(now, &e.to_element());
                    self.phase = Phase::Enabling;
                } else {
                    self.phase = Phase::Unmanaged;
                    self.flush(now, stream);
                }
                Some(Event::Bound { jid })
            }
            Event::Stanza(s) => {
                if self.phase == Phase::Active {
                    self.inbound = self.inbound.wrapping_add(1);
                }
                Some(Event::Stanza(s))
            }
            Event::Nonza(e) if e.ns() == ns::SM => {
                self.on_sm(now, stream, &e);
                None
            }
            Event::Closed { error, by_peer } => {
                self.phase = Phase::Idle;
                Some(Event::Closed { error, by_peer })
            }
            other => Some(other),
        }
    }

    /// Sends a stanza, or keeps it until a managed stream is up. `Err`
    /// gives it back when [`ClientSmConfig::max_queue`] is reached.
    pub fn send(
        &mut self,
        now: Instant,
        stream: &mut ClientStream,
        stanza: &Element,
    ) -> Result<(), Bytes> {
        self.send_bytes(now, stream, to_bytes(stanza, ns::CLIENT))
    }

    /// [`ClientSm::send`] for an already serialized stanza.
    pub fn send_bytes(
        &mut self,
        now: Instant,
        stream: &mut ClientStream,
        stanza: Bytes,
    ) -> Result<(), Bytes> {
        if self.out.len() + self.pending.len() >= self.config.max_queue {
            return Err(stanza);
        }
        match self.phase {
            Phase::Active if self.pending.is_empty() => self.transmit(now, stream, stanza),
            Phase::Unmanaged if self.pending.is_empty() => {
                if !stream.send_serialized(now, &stanza) {
                    self.pending.push_back(stanza);
                }
            }
            _ => self.pending.push_back(stanza),
        }
        Ok(())
    }

    /// Keeps a serialized stanza for the next managed stream (while no
    /// connection exists). `Err` gives it back when
    /// [`ClientSmConfig::max_queue`] is reached.
    pub fn send_later(&mut self, stanza: Bytes) -> Result<(), Bytes> {
        if self.out.len() + self.pending.len() >= self.config.max_queue {
            return Err(stanza);
        }
        self.pending.push_back(stanza);
        Ok(())
    }

    /// Sends `<r/>` now (for example before going idle).
    pub fn request_ack(&mut self, now: Instant, stream: &mut ClientStream) {
        if self.phase == Phase::Active {
            self.since_request = 0;
            stream.send_nonza(now, &SmElement::Request.to_element());
        }
    }

    fn transmit(&mut self, now: Instant, stream: &mut ClientStream, stanza: Bytes) {
        if !stream.send_serialized(now, &stanza) {
            self.pending.push_back(stanza);
            return;
        }
        self.out.push(stanza);
        self.since_request += 1;
        if self.since_request >= self.config.ack_request_every.max(1) {
            self.request_ack(now, stream);
        }
    }

    fn flush(&mut self, now: Instant, stream: &mut ClientStream) {
        while let Some(b) = self.pending.pop_front() {
            match self.phase {
                Phase::Active => {
                    if !stream.send_serialized(now, &b) {
                        self.pending.push_front(b);
                        return;
                    }
                    self.out.push(b);
                    self.since_request += 1;
                }
                Phase::Unmanaged => {
                    if !stream.send_serialized(now, &b) {
                        self.pending.push_front(b);
                        return;
                    }
                }
                _ => {
                    self.pending.push_front(b);
                    return;
                }
            }
        }
        if self.since_request >= self.config.ack_request_every.max(1) {
            self.request_ack(now, stream);
        }
    }

    /// Ends the resumable session. With the server's handled count the
    /// stanzas it did not handle are queued for the next session;
    /// without it they are returned to the application.
    fn abandon_session(&mut self, handled: Option<u32>) {
        if self.session.take().is_none() && self.out.is_empty() {
            return;
        }
        let known = handled.is_some_and(|h| self.out.ack(h).is_ok());
        let left = self.out.take_all();
        if known {
            for b in left.into_iter().rev() {
                self.pending.push_front(b);
            }
        } else if !left.is_empty() {
            self.events.push_back(ClientEvent::Unconfirmed(left));
        }
        self.out.reset(self.config.counter_origin);
        self.inbound = self.config.counter_origin;
    }

    fn fail_stream(
        &mut self,
        now: Instant,
        stream: &mut ClientStream,
        err: &xmpp_core::StreamError,
    ) {
        stream.send_nonza(now, &err.to_element());
        stream.close(now);
        self.phase = Phase::Idle;
    }

    fn on_sm(&mut self, now: Instant, stream: &mut ClientStream, e: &Element) {
        let parsed = match SmElement::parse(e) {
            Ok(p) => p,
            Err(err) => return self.fail_stream(now, stream, &malformed(&err)),
        };
        match parsed {
            SmElement::Enabled { id, resume, .. } if self.phase == Phase::Enabling => {
                self.phase = Phase::Active;
                let jid = self.jid.clone();
                self.session = match (id, resume && self.config.resume, jid) {
                    (Some(id), true, Some(jid)) => Some((id, jid)),
                    _ => None,
                };
                self.events.push_back(ClientEvent::Enabled {
                    resumable: self.session.is_some(),
                });
                self.flush(now, stream);
            }
            SmElement::Resumed { h, .. } if self.phase == Phase::Resuming => {
                match self.out.ack(h) {
                    Ok(_) | Err(AckError::Behind { .. }) => {}
                    Err(AckError::TooHigh { h, sent }) => {
                        return self.fail_stream(now, stream, &handled_count_too_high(h, sent));
                    }
                }
                let Some((_, jid)) = self.session.clone() else {
                    return;
                };
                stream.resume_as(now, jid.clone());
                self.jid = Some(jid.clone());
                self.phase = Phase::Active;
                self.since_request = 0;
                let resent = self.out.len();
                for b in self.out.iter() {
                    stream.send_serialized(now, b);
                }
                self.events.push_back(ClientEvent::Resumed { jid, resent });
                self.flush(now, stream);
                if resent > 0 {
                    self.request_ack(now, stream);
                }
            }
            SmElement::Failed { h, .. } if self.phase == Phase::Resuming => {
                self.abandon_session(h);
                self.events
                    .push_back(ClientEvent::ResumeFailed { handled: h });
                stream.bind(now);
                self.phase = Phase::Binding;
            }
            SmElement::Failed { .. } if self.phase == Phase::Enabling => {
                self.phase = Phase::Unmanaged;
                self.events.push_back(ClientEvent::EnableFailed);
                self.flush(now, stream);
            }
            SmElement::Request if self.phase == Phase::Active => {
                let a = SmElement::Ack { h: self.inbound };
                stream.send_nonza(now, &a.to_element());
            }
            SmElement::Ack { h } if self.phase == Phase::Active => match self.out.ack(h) {
                Ok(_) | Err(AckError::Behind { .. }) => {}
                Err(AckError::TooHigh { h, sent }) => {
                    self.fail_stream(now, stream, &handled_count_too_high(h, sent));
                }
            },
            _ => {
                let err = xmpp_core::StreamError::new(
                    xmpp_core::StreamErrorCondition::UnsupportedStanzaType,
                )
                .with_text("unexpected stream management element");
                self.fail_stream(now, stream, &err);
            }
        }
    }
}
