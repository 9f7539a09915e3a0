//! The server role of XEP-0198: enabling (§3), acknowledgements (§4),
//! resumption (§5) and the error cases of §6, composed with
//! [`xmpp_core::stream::ServerStream`].
//!
//! Two pieces, both Sans-IO:
//!
//! - [`Registry`], one per server: every stream-managed session, attached
//!   to a connection or hibernating after its connection was lost, keyed
//!   by an unguessable id from the injected [`IdSource`]. It expires
//!   hibernating sessions, remembers the final count of expired ones, and
//!   reports what happens to their unacknowledged stanzas
//!   ([`RegistryEvent::Expired`]) according to the [`TimeoutPolicy`].
//! - [`SmStream`], one per connection: filters the stream engine's
//!   events (answering `<enable/>`, `<resume/>`, `<r/>`, `<a/>`), counts
//!   inbound stanzas, queues outbound ones and asks for acks every
//!   [`ServerConfig::ack_request_every`] stanzas; an ack not answered
//!   within [`ServerConfig::ack_timeout`] hibernates the session.
//!
//! The session's counters and queue live in the registry, so a resume can
//! take over a connection that is still open: the old connection's
//! handle notices it was replaced and refuses further work.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use xmpp_core::jid::Jid;
use xmpp_core::ns;
use xmpp_core::stream::{Event, IdSource, ServerStream};
use xmpp_core::stream_error::{StreamError, StreamErrorCondition};
use xmpp_core::xml::{Element, Limits, to_bytes};

use crate::counter::{AckError, Unacked};
use crate::policy::{Disposition, TimeoutPolicy, dispose};
use crate::wire::{SmElement, handled_count_too_high, malformed};

/// Bounds of [`ServerConfig::resume_timeout`] (REQUIREMENTS §2: 30–90 s).
pub const RESUME_TIMEOUT_RANGE: (Duration, Duration) =
    (Duration::from_secs(30), Duration::from_secs(90));
/// Bounds of [`ServerConfig::buffer`] (REQUIREMENTS §2: 5–150 stanzas).
pub const BUFFER_RANGE: (usize, usize) = (5, 150);
/// Bounds of [`ServerConfig::ack_request_every`] (REQUIREMENTS §2: 1–64).
pub const ACK_RATE_RANGE: (u32, u32) = (1, 64);
/// Bounds of [`ServerConfig::ack_timeout`]: 1 s to 5 min.
pub const ACK_TIMEOUT_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(300));

/// A configuration value outside its documented bounds.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The named parameter is out of range.
    #[error("{0} is out of range")]
    OutOfRange(&'static str),
}

/// Server parameters (REQUIREMENTS §2, "Stream Management Parameters").
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Offer and accept stream management. Default on.
    pub enabled: bool,
    /// The longest a hibernating session waits for a resume; a client's
    /// `max` is honoured up to this. Default 60 s, within 30–90 s.
    pub resume_timeout: Duration,
    /// Unacknowledged stanzas kept per session. Default 100, within
    /// 5–150. A session that would need more is ended and cannot be
    /// resumed (its stanzas are returned per the policy, and a resume gets
    /// `<failed h=.../>`).
    pub buffer: usize,
    /// Send `<r/>` after this many outbound stanzas. Default 5, within
    /// 1–64.
    pub ack_request_every: u32,
    /// An `<r/>` unanswered for this long hibernates the session.
    /// Default 30 s, within 1 s–5 min.
    pub ack_timeout: Duration,
    /// How long the final count of an expired session is remembered so a
    /// late resume gets `<failed h=.../>`. Default 10 min.
    pub remember_expired: Duration,
    /// At most this many expired sessions are remembered (oldest
    /// forgotten first). Default 10 000.
    pub max_remembered: usize,
    /// What happens to unacknowledged stanzas of expired sessions.
    pub policy: TimeoutPolicy,
    /// Advertised `location` for resumption, if any.
    pub location: Option<String>,
    /// Limits used to re-read queued stanzas when a session expires.
    pub limits: Limits,
    /// Where counters start. XEP-0198 §4 starts them at 0, which is the
    /// default and the only value for production; other values exist so
    /// tests can run across the 2^32 wrap (both peers must agree).
    pub counter_origin: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            enabled: true,
            resume_timeout: Duration::from_secs(60),
            buffer: 100,
            ack_request_every: 5,
            ack_timeout: Duration::from_secs(30),
            remember_expired: Duration::from_secs(600),
            max_remembered: 10_000,
            policy: TimeoutPolicy::Bounce,
            location: None,
            limits: Limits::default(),
            counter_origin: 0,
        }
    }
}

impl ServerConfig {
    /// Checks every parameter against its documented bounds.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let in_range = |v, (lo, hi)| v >= lo && v <= hi;
        if !in_range(self.resume_timeout, RESUME_TIMEOUT_RANGE) {
            return Err(ConfigError::OutOfRange("resume_timeout"));
        }
        if !(BUFFER_RANGE.0..=BUFFER_RANGE.1).contains(&self.buffer) {
            return Err(ConfigError::OutOfRange("buffer"));
        }
        if !(ACK_RATE_RANGE.0..=ACK_RATE_RANGE.1).contains(&self.ack_request_every) {
            return Err(ConfigError::OutOfRange("ack_request_every"));
        }
        if !in_range(self.ack_timeout, ACK_TIMEOUT_RANGE) {
            return Err(ConfigError::OutOfRange("ack_timeout"));
        }
        Ok(())
    }

    /// The `<sm xmlns='urn:xmpp:sm:3'/>` stream feature to put in
    /// `xmpp_core::stream::ServerConfig::post_auth_features`, or `None`
    /// when stream management is off.
    pub fn feature(&self) -> Option<Element> {
        self.enabled.then(|| Element::new("sm", ns::SM))
    }
}

/// A session's connection state in the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attach {
    Attached,
    /// Hibernating until `deadline` (which is "now" for a session that
    /// must end at the next timeout run).
    Detached {
        deadline: Instant,
    },
}

#[derive(Debug)]
struct Entry {
    id: Option<String>,
    full: Jid,
    user: Jid,
    epoch: u64,
    out: Unacked,
    inbound: u32,
    timeout: Duration,
    attach: Attach,
}

#[derive(Debug)]
struct Remembered {
    user: Jid,
    h: u32,
    until: Instant,
}

/// What the registry tells the application.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RegistryEvent {
    /// The session of `full` lost its connection and waits for a resume
    /// until `until`; stanzas for it go to [`Registry::enqueue`].
    Hibernated {
        /// The session's full JID.
        full: Jid,
        /// When it expires.
        until: Instant,
    },
    /// The session of `full` was resumed on a new connection. When
    /// `took_over` is set its old connection was still open: close that
    /// one (its [`SmStream`] already refuses work).
    Resumed {
        /// The session's full JID.
        full: Jid,
        /// Whether an open connection was replaced.
        took_over: bool,
    },
    /// A session ended for good; its unacknowledged stanzas are listed
    /// with what the policy decided for each.
    Expired(Expired),
}

/// A session that ended without being resumed.
#[derive(Clone, Debug, PartialEq)]
pub struct Expired {
    /// The session's full JID.
    pub full: Jid,
    /// Whether no other resource of the user was online (as the
    /// application answered).
    pub last_resource: bool,
    /// Count of stanzas the server handled from the client.
    pub handled: u32,
    /// Every unacknowledged stanza and where it goes, oldest first.
    pub unacked: Vec<Disposition>,
}

/// Result of a successful resume inside the registry.
struct Resumption {
    slot: usize,
    epoch: u64,
    full: Jid,
    inbound: u32,
    retransmit: Vec<Bytes>,
}

enum ResumeRefusal {
    Failed(SmElement),
    TooHigh { h: u32, sent: u32 },
}

/// All stream-managed sessions of a server. See the [module docs](self).
pub struct Registry {
    config: ServerConfig,
    ids: Box<dyn IdSource>,
    slots: Vec<Option<Entry>>,
    free: Vec<usize>,
    by_id: HashMap<String, usize>,
    by_jid: HashMap<Jid, usize>,
    remembered: HashMap<String, Remembered>,
    remembered_order: VecDeque<String>,
    events: VecDeque<RegistryEvent>,
    next_epoch: u64,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("sessions", &self.by_jid.len())
            .field("remembered", &self.remembered.len())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A registry with `config` (checked with [`ServerConfig::validate`])
    /// drawing session ids from `ids`, which must be unguessable in
    /// production.
    pub fn new(config: ServerConfig, ids: Box<dyn IdSource>) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Registry {
            config,
            ids,
            slots: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            by_jid: HashMap::new(),
            remembered: HashMap::new(),
            remembered_order: VecDeque::new(),
            events: VecDeque::new(),
            next_epoch: 1,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Number of sessions, attached or hibernating.
    pub fn len(&self) -> usize {
        self.by_jid.len()
    }

    /// Whether there is no session.
    pub fn is_empty(&self) -> bool {
        self.by_jid.is_empty()
    }

    /// Whether `full` has a hibernating session (stanzas for it go to
    /// [`Registry::enqueue`]).
    pub fn is_hibernating(&self, full: &Jid) -> bool {
        self.entry_for(full)
            .is_some_and(|e| matches!(e.attach, Attach::Detached { .. }))
    }

    fn entry_for(&self, full: &Jid) -> Option<&Entry> {
        let slot = *self.by_jid.get(full)?;
        self.slots.get(slot)?.as_ref()
    }

    fn entry(&mut self, slot: usize, epoch: u64) -> Option<&mut Entry> {
        self.slots
            .get_mut(slot)?
            .as_mut()
            .filter(|e| e.epoch == epoch)
    }

    fn epoch(&mut self) -> u64 {
        let e = self.next_epoch;
        self.next_epoch += 1;
        e
    }

    /// Queues a stanza for the hibernating session of `full`; it is sent
    /// when the session resumes. `Err` gives the stanza back when there
    /// is no hibernating session (the application stores it offline, as
    /// for any unavailable resource). A stanza beyond the buffer ends the
    /// session (it is then returned with the others in
    /// [`RegistryEvent::Expired`]).
    pub fn enqueue(&mut self, now: Instant, full: &Jid, stanza: Bytes) -> Result<(), Bytes> {
        let Some(&slot) = self.by_jid.get(full) else {
            return Err(stanza);
        };
        let buffer = self.config.buffer;
        let Some(entry) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return Err(stanza);
        };
        let Attach::Detached { deadline } = entry.attach else {
            return Err(stanza);
        };
        let over = entry.out.len() >= buffer;
        entry.out.push(stanza);
        if over {
            entry.attach = Attach::Detached {
                deadline: deadline.min(now),
            };
        }
        Ok(())
    }

    /// Ends the hibernating session of `full` at the next
    /// [`Registry::handle_timeout`] (for example when the user binds the
    /// same resource afresh instead of resuming).
    pub fn discard_hibernating(&mut self, now: Instant, full: &Jid) {
        if let Some(&slot) = self.by_jid.get(full)
            && let Some(e) = self.slots.get_mut(slot).and_then(Option::as_mut)
            && let Attach::Detached { deadline } = e.attach
        {
            e.attach = Attach::Detached {
                deadline: deadline.min(now),
            };
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<RegistryEvent> {
        self.events.pop_front()
    }

    /// When [`Registry::handle_timeout`] must next run.
    pub fn next_timeout(&self) -> Option<Instant> {
        let sessions = self.slots.iter().flatten().filter_map(|e| match e.attach {
            Attach::Detached { deadline } => Some(deadline),
            Attach::Attached => None,
        });
        let memory = self
            .remembered_order
            .front()
            .and_then(|id| self.remembered.get(id))
            .map(|r| r.until);
        sessions.chain(memory).min()
    }

    /// Expires hibernating sessions whose time is up (and forgets old
    /// expired ones). `other_resource_online(full)` tells whether the
    /// user has another online resource (for the offline policy).
    /// Spurious calls are no-ops.
    pub fn handle_timeout(&mut self, now: Instant, other_resource_online: impl Fn(&Jid) -> bool) {
        let due: Vec<usize> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match e.as_ref()?.attach {
                Attach::Detached { deadline } if deadline <= now => Some(i),
                _ => None,
            })
            .collect();
        for slot in due {
            self.expire(now, slot, &other_resource_online);
        }
        while let Some(id) = self.remembered_order.front() {
            match self.remembered.get(id) {
                Some(r) if r.until > now => break,
                _ => {
                    if let Some(id) = self.remembered_order.pop_front() {
                        self.remembered.remove(&id);
                    }
                }
            }
        }
    }

    fn expire(&mut self, now: Instant, slot: usize, other: &dyn Fn(&Jid) -> bool) {
        let Some(mut e) = self.slots.get_mut(slot).and_then(Option::take) else {
            return;
        };
        self.free.push(slot);
        if self.by_jid.get(&e.full) == Some(&slot) {
            self.by_jid.remove(&e.full);
        }
        if let Some(id) = e.id.take() {
            self.by_id.remove(&id);
            self.remember(now, id, e.user.clone(), e.inbound);
        }
        let last_resource = !other(&e.full);
        let unacked = dispose(
            e.out.take_all(),
            self.config.policy,
            last_resource,
            &self.config.limits,
        );
        self.events.push_back(RegistryEvent::Expired(Expired {
            full: e.full,
            last_resource,
            handled: e.inbound,
            unacked,
        }));
    }

    fn remember(&mut self, now: Instant, id: String, user: Jid, h: u32) {
        while self.remembered.len() >= self.config.max_remembered.max(1) {
            match self.remembered_order.pop_front() {
                Some(old) => {
                    self.remembered.remove(&old);
                }
                None => break,
            }
        }
        self.remembered_order.push_back(id.clone());
        self.remembered.insert(
            id,
            Remembered {
                user,
                h,
                until: now + self.config.remember_expired,
            },
        );
    }

    fn create(
        &mut self,
        now: Instant,
        full: Jid,
        resume: bool,
        max: Option<u32>,
    ) -> (usize, u64, SmElement) {
        let timeout = match max {
            Some(m) => Duration::from_secs(u64::from(m)).min(self.config.resume_timeout),
            None => self.config.resume_timeout,
        };
        let id = resume.then(|| self.ids.next_id());
        let epoch = self.epoch();
        let retired = self.epoch();
        if let Some(&old) = self.by_jid.get(&full)
            && let Some(e) = self.slots.get_mut(old).and_then(Option::as_mut)
        {
            // A fresh session for a resource whose old session still
            // hibernates (or whose connection was never noticed to be
            // gone): the old one ends now and its stanzas are returned;
            // its old connection, if any, is refused further work.
            e.attach = Attach::Detached { deadline: now };
            e.epoch = retired;
        }
        let entry = Entry {
            id: id.clone(),
            user: full.bare(),
            full: full.clone(),
            epoch,
            out: Unacked::with_capacity(self.config.counter_origin, self.config.buffer + 1),
            inbound: self.config.counter_origin,
            timeout,
            attach: Attach::Attached,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                if let Some(place) = self.slots.get_mut(s) {
                    *place = Some(entry);
                }
                s
            }
            None => {
                self.slots.push(Some(entry));
                self.slots.len() - 1
            }
        };
        if let Some(id) = &id {
            self.by_id.insert(id.clone(), slot);
        }
        self.by_jid.insert(full, slot);
        let enabled = SmElement::Enabled {
            id,
            resume,
            max: resume.then(|| u32::try_from(timeout.as_secs()).unwrap_or(u32::MAX)),
            location: self.config.location.clone().filter(|_| resume),
        };
        (slot, epoch, enabled)
    }

    fn detach(&mut self, now: Instant, slot: usize, epoch: u64, end: bool) {
        let Some(e) = self.entry(slot, epoch) else {
            return;
        };
        if e.attach != Attach::Attached {
            return;
        }
        let deadline = if e.id.is_some() && !end {
            now + e.timeout
        } else {
            now
        };
        e.attach = Attach::Detached { deadline };
        let full = e.full.clone();
        if deadline > now {
            self.events.push_back(RegistryEvent::Hibernated {
                full,
                until: deadline,
            });
        }
    }

    fn resume(
        &mut self,
        now: Instant,
        previd: &str,
        h: u32,
        user: &Jid,
        other: &dyn Fn(&Jid) -> bool,
    ) -> Result<Resumption, ResumeRefusal> {
        let not_found = |h| ResumeRefusal::Failed(SmElement::failed("item-not-found", h));
        let slot = match self.by_id.get(previd) {
            Some(&slot) => slot,
            None => {
                let h = self
                    .remembered
                    .get(previd)
                    .filter(|r| &r.user == user)
                    .map(|r| r.h);
                return Err(not_found(h));
            }
        };
        let Some(e) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return Err(not_found(None));
        };
        if &e.user != user {
            // Someone else's session: indistinguishable from an unknown
            // one, so ids cannot be probed.
            return Err(not_found(None));
        }
        if let Attach::Detached { deadline } = e.attach
            && deadline <= now
        {
            let inbound = e.inbound;
            self.expire(now, slot, other);
            return Err(not_found(Some(inbound)));
        }
        match e.out.ack(h) {
            Ok(_) => {}
            Err(AckError::TooHigh { h, sent }) => {
                return Err(ResumeRefusal::TooHigh { h, sent });
            }
            Err(AckError::Behind { .. }) => {
                // The client needs history that was already dropped.
                let inbound = e.inbound;
                self.expire(now, slot, other);
                return Err(ResumeRefusal::Failed(SmElement::failed(
                    "unexpected-request",
                    Some(inbound),
                )));
            }
        }
        let took_over = e.attach == Attach::Attached;
        let epoch = self.next_epoch;
        self.next_epoch += 1;
        let Some(e) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return Err(not_found(None));
        };
        e.epoch = epoch;
        e.attach = Attach::Attached;
        let full = e.full.clone();
        let r = Resumption {
            slot,
            epoch,
            full: full.clone(),
            inbound: e.inbound,
            retransmit: e.out.iter().cloned().collect(),
        };
        self.events
            .push_back(RegistryEvent::Resumed { full, took_over });
        Ok(r)
    }
}

/// What [`SmStream::send`] could not do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The stream is not bound, closed, or was taken over by a resume on
    /// another connection: route the stanza again (the session may have
    /// moved) or store it offline.
    #[error("the stream cannot carry stanzas now")]
    Undeliverable(Bytes),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    /// No stream management on this connection (yet).
    Off,
    /// Managing the registry session in `slot` while `epoch` matches.
    On { slot: usize, epoch: u64 },
    /// The session ended or moved to another connection.
    Gone,
}

/// The stream-management side of one server connection. See the
/// [module docs](self).
#[derive(Debug)]
pub struct SmStream {
    link: Link,
    buffer: usize,
    ack_every: u32,
    ack_timeout: Duration,
    since_request: u32,
    request_sent: Option<Instant>,
}

impl SmStream {
    /// The handle for a new connection of the server owning `registry`.
    pub fn new(registry: &Registry) -> Self {
        SmStream {
            link: Link::Off,
            buffer: registry.config.buffer,
            ack_every: registry.config.ack_request_every,
            ack_timeout: registry.config.ack_timeout,
            since_request: 0,
            request_sent: None,
        }
    }

    /// Whether stream management is active on this connection.
    pub fn is_enabled(&self) -> bool {
        matches!(self.link, Link::On { .. })
    }

    /// How many more stanzas can be sent before the buffer is full (and
    /// the next one would end the session); `None` without stream
    /// management. A hub draining a backlog (offline messages) sends at
    /// most this many and continues after acknowledgements.
    pub fn room(&self, registry: &Registry) -> Option<usize> {
        let Link::On { slot, epoch } = self.link else {
            return None;
        };
        let e = registry
            .slots
            .get(slot)?
            .as_ref()
            .filter(|e| e.epoch == epoch)?;
        Some(self.buffer.saturating_sub(e.out.len()))
    }

    /// Whether this connection's session moved to another connection or
    /// ended (the connection should be closed).
    pub fn is_gone(&self, registry: &Registry) -> bool {
        match self.link {
            Link::Gone => true,
            Link::Off => false,
            Link::On { slot, epoch } => registry
                .slots
                .get(slot)
                .and_then(Option::as_ref)
                .is_none_or(|e| e.epoch != epoch),
        }
    }

    /// Filters an event of `stream`: stream-management elements are
    /// answered here (`None`), inbound stanzas are counted, a closed
    /// stream hibernates its session. A successful `<resume/>` comes out
    /// as [`Event::Bound`] with the resumed full JID, so the application
    /// routes to this connection as after a bind. A stanza that arrives on
    /// a connection whose session was taken over is dropped uncounted
    /// (the client resends it on the new connection).
    pub fn on_event(
        &mut self,
        now: Instant,
        registry: &mut Registry,
        stream: &mut ServerStream,
        event: Event,
        other_resource_online: impl Fn(&Jid) -> bool,
    ) -> Option<Event> {
        match event {
            Event::Nonza(e) if e.ns() == ns::SM => {
                self.on_sm(now, registry, stream, &e, &other_resource_online)
            }
            Event::Stanza(s) => {
                if let Link::On { slot, epoch } = self.link {
                    match registry.entry(slot, epoch) {
                        Some(e) => e.inbound = e.inbound.wrapping_add(1),
                        None => {
                            self.link = Link::Gone;
                            return None;
                        }
                    }
                } else if self.link == Link::Gone {
                    return None;
                }
                Some(Event::Stanza(s))
            }
            Event::Closed { error, by_peer } => {
                self.connection_lost(now, registry);
                Some(Event::Closed { error, by_peer })
            }
            other => Some(other),
        }
    }

    /// The connection is gone without a [`Event::Closed`] from the engine
    /// (the socket failed or reached end of file): the session hibernates
    /// and this handle refuses further work.
    pub fn connection_lost(&mut self, now: Instant, registry: &mut Registry) {
        if let Link::On { slot, epoch } = self.link {
            registry.detach(now, slot, epoch, false);
        }
        self.link = Link::Gone;
        self.request_sent = None;
    }

    /// Sends a stanza to the client, keeping it until acknowledged.
    pub fn send(
        &mut self,
        now: Instant,
        registry: &mut Registry,
        stream: &mut ServerStream,
        stanza: &Element,
    ) -> Result<(), SendError> {
        self.send_bytes(now, registry, stream, to_bytes(stanza, ns::CLIENT))
    }

    /// Sends one serialized stanza (valid in the `jabber:client`
    /// context). Without stream management it is simply written. With it,
    /// it is queued until acknowledged and every
    /// [`ServerConfig::ack_request_every`] stanzas an `<r/>` follows. A
    /// stanza beyond [`ServerConfig::buffer`] ends the session: the
    /// stream is closed with `resource-constraint` and the queue is
    /// returned through [`RegistryEvent::Expired`] (the call still
    /// succeeds: the stanza is accounted for there).
    pub fn send_bytes(
        &mut self,
        now: Instant,
        registry: &mut Registry,
        stream: &mut ServerStream,
        stanza: Bytes,
    ) -> Result<(), SendError> {
        let (slot, epoch) = match self.link {
            Link::Off => {
                return if stream.send_serialized(&stanza) {
                    Ok(())
                } else {
                    Err(SendError::Undeliverable(stanza))
                };
            }
            Link::Gone => return Err(SendError::Undeliverable(stanza)),
            Link::On { slot, epoch } => (slot, epoch),
        };
        let buffer = self.buffer;
        let Some(entry) = registry.entry(slot, epoch) else {
            self.link = Link::Gone;
            return Err(SendError::Undeliverable(stanza));
        };
        if entry.out.len() >= buffer {
            entry.out.push(stanza);
            stream.close_with_error(
                now,
                StreamError::new(StreamErrorCondition::ResourceConstraint)
                    .with_text("too many unacknowledged stanzas"),
            );
            registry.detach(now, slot, epoch, true);
            self.link = Link::Gone;
            return Ok(());
        }
        if !stream.send_serialized(&stanza) {
            return Err(SendError::Undeliverable(stanza));
        }
        entry.out.push(stanza);
        self.since_request += 1;
        // Ask every `ack_every` stanzas, and always when the buffer just
        // filled up (so a sender waiting for room is not stuck).
        if self.since_request >= self.ack_every || entry.out.len() >= buffer {
            self.since_request = 0;
            stream.send_nonza(&SmElement::Request.to_element());
            self.request_sent.get_or_insert(now);
        }
        Ok(())
    }

    /// When [`SmStream::handle_timeout`] must next run (the ack timeout).
    pub fn next_timeout(&self) -> Option<Instant> {
        self.request_sent.map(|t| t + self.ack_timeout)
    }

    /// Hibernates the session when an `<r/>` went unanswered for
    /// [`ServerConfig::ack_timeout`]: the stream is closed with
    /// `connection-timeout` and the session waits for a resume.
    /// Spurious calls are no-ops.
    pub fn handle_timeout(
        &mut self,
        now: Instant,
        registry: &mut Registry,
        stream: &mut ServerStream,
    ) {
        let Some(at) = self.next_timeout() else {
            return;
        };
        if now < at {
            return;
        }
        self.request_sent = None;
        if let Link::On { slot, epoch } = self.link {
            registry.detach(now, slot, epoch, false);
            self.link = Link::Gone;
            stream.close_with_error(
                now,
                StreamError::new(StreamErrorCondition::ConnectionTimeout)
                    .with_text("no acknowledgement"),
            );
        }
    }

    fn reply(stream: &mut ServerStream, e: SmElement) {
        stream.send_nonza(&e.to_element());
    }

    fn on_sm(
        &mut self,
        now: Instant,
        registry: &mut Registry,
        stream: &mut ServerStream,
        e: &Element,
        other: &dyn Fn(&Jid) -> bool,
    ) -> Option<Event> {
        let parsed = match SmElement::parse(e) {
            Ok(p) => p,
            Err(err) => {
                stream.close_with_error(now, malformed(&err));
                return None;
            }
        };
        if !registry.config.enabled {
            Self::reply(stream, SmElement::failed("feature-not-implemented", None));
            return None;
        }
        match parsed {
            SmElement::Enable { resume, max } => {
                let full = stream.jid().cloned();
                match (self.link, full) {
                    (Link::Off, Some(full)) => {
                        let (slot, epoch, enabled) = registry.create(now, full, resume, max);
                        self.link = Link::On { slot, epoch };
                        Self::reply(stream, enabled);
                    }
                    // Before binding, twice, or after the session moved.
                    _ => Self::reply(stream, SmElement::failed("unexpected-request", None)),
                }
                None
            }
            SmElement::Resume { previd, h } => {
                let user = stream.authenticated().cloned();
                let (Link::Off, None, Some(user)) = (self.link, stream.jid(), user) else {
                    Self::reply(stream, SmElement::failed("unexpected-request", None));
                    return None;
                };
                match registry.resume(now, &previd, h, &user, other) {
                    Ok(r) => {
                        stream.resume_as(r.full.clone());
                        self.link = Link::On {
                            slot: r.slot,
                            epoch: r.epoch,
                        };
                        self.since_request = 0;
                        self.request_sent = None;
                        Self::reply(
                            stream,
                            SmElement::Resumed {
                                previd,
                                h: r.inbound,
                            },
                        );
                        for b in &r.retransmit {
                            stream.send_serialized(b);
                        }
                        if !r.retransmit.is_empty() {
                            Self::reply(stream, SmElement::Request);
                            self.request_sent = Some(now);
                        }
                        Some(Event::Bound { jid: r.full })
                    }
                    Err(ResumeRefusal::Failed(f)) => {
                        Self::reply(stream, f);
                        None
                    }
                    Err(ResumeRefusal::TooHigh { h, sent }) => {
                        stream.close_with_error(now, handled_count_too_high(h, sent));
                        None
                    }
                }
            }
            SmElement::Request => {
                match self.link {
                    Link::On { slot, epoch } => match registry.entry(slot, epoch) {
                        Some(entry) => {
                            let h = entry.inbound;
                            Self::reply(stream, SmElement::Ack { h });
                        }
                        None => self.link = Link::Gone,
                    },
                    _ => Self::reply(stream, SmElement::failed("unexpected-request", None)),
                }
                None
            }
            SmElement::Ack { h } => {
                match self.link {
                    Link::On { slot, epoch } => match registry.entry(slot, epoch) {
                        Some(entry) => match entry.out.ack(h) {
                            Ok(_) | Err(AckError::Behind { .. }) => self.request_sent = None,
                            Err(AckError::TooHigh { h, sent }) => {
                                stream.close_with_error(now, handled_count_too_high(h, sent));
                            }
                        },
                        None => self.link = Link::Gone,
                    },
                    _ => Self::reply(stream, SmElement::failed("unexpected-request", None)),
                }
                None
            }
            SmElement::Enabled { .. } | SmElement::Resumed { .. } | SmElement::Failed { .. } => {
                stream.close_with_error(
                    now,
                    StreamError::new(StreamErrorCondition::UnsupportedStanzaType)
                        .with_text("server-side stream management element from a client"),
                );
                None
            }
        }
    }
}
