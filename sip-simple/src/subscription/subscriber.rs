//! The subscriber side of RFC 6665 §4.1: SUBSCRIBE, refresh, NOTIFY
//! handling with forked dialogs, un-subscribe.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::notifier::simple;
use super::{IdGenerator, LocalEndpoint, TerminationReason, first_contact};
use crate::message::{Event, HeaderName, Message, Method, NameAddr, SipUri, Uri};

/// What a [`Subscriber`] watches and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberConfig {
    /// This endpoint.
    pub local: LocalEndpoint,
    /// The watcher's address (From).
    pub from: SipUri,
    /// The resource (Request-URI and To).
    pub target: SipUri,
    /// Event package, e.g. `presence`.
    pub package: String,
    /// Requested duration in seconds.
    pub expires: u32,
}

/// One NOTIFY's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The notifier's tag: identifies the dialog (several when forked).
    pub dialog: String,
    /// `active`, `pending` or `terminated`.
    pub state: String,
    /// The body and its media type.
    pub body: Option<(String, Bytes)>,
}

/// What happened to the subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriberEvent {
    /// A 2xx accepted the SUBSCRIBE for this many seconds.
    Accepted {
        /// Granted duration.
        expires: u32,
    },
    /// A 423 named a longer minimum: send this SUBSCRIBE instead.
    Retry(Message),
    /// The SUBSCRIBE failed with this status (489 for an unknown package,
    /// 403, 404, 481 for a lost dialog, 408 for a timeout).
    Failed(u16),
    /// A NOTIFY brought state.
    Notified(Notification),
    /// A dialog ended (terminated NOTIFY). `retry_after` is the advice for a
    /// new subscription (RFC 6665 §4.1.3).
    Terminated {
        /// The dialog.
        dialog: String,
        /// The reason, if known.
        reason: Option<TerminationReason>,
        /// Seconds to wait before re-subscribing.
        retry_after: Option<u32>,
    },
    /// Nothing the user needs to know.
    None,
}

#[derive(Debug, Clone)]
struct Dialog {
    remote_addr: NameAddr,
    remote_target: Uri,
    route_set: Vec<NameAddr>,
    remote_cseq: u32,
    expires_at: Instant,
}

/// The RFC 6665 subscriber: see the [module docs](super).
pub struct Subscriber<G> {
    cfg: SubscriberConfig,
    ids: G,
    call_id: String,
    local_tag: String,
    cseq: u32,
    dialogs: BTreeMap<String, Dialog>,
    refresh_at: Option<Instant>,
    ended: bool,
}

impl<G> std::fmt::Debug for Subscriber<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("call_id", &self.call_id)
            .finish()
    }
}

impl<G: IdGenerator> Subscriber<G> {
    /// A subscriber with a fresh Call-ID and From tag.
    pub fn new(cfg: SubscriberConfig, mut ids: G) -> Subscriber<G> {
        let call_id = ids.next_id();
        let local_tag = ids.next_id();
        Subscriber {
            cfg,
            ids,
            call_id,
            local_tag,
            cseq: 0,
            dialogs: BTreeMap::new(),
            refresh_at: None,
            ended: false,
        }
    }

    /// The Call-ID of the subscription.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Notifier tags of the live dialogs (more than one after forking).
    pub fn dialogs(&self) -> Vec<String> {
        self.dialogs.keys().cloned().collect()
    }

    /// The initial SUBSCRIBE.
    pub fn subscribe(&mut self) -> Option<Message> {
        self.ended = false;
        self.build(None, self.cfg.expires)
    }

    fn build(&mut self, dialog: Option<&str>, expires: u32) -> Option<Message> {
        self.cseq = self.cseq.checked_add(1)?;
        let from = NameAddr::new(self.cfg.from.clone()).with_param("tag", Some(&self.local_tag));
        let (uri, to, routes) = match dialog.and_then(|d| self.dialogs.get(d)) {
            Some(d) => (
                d.remote_target.clone(),
                d.remote_addr.clone(),
                d.route_set.clone(),
            ),
            None => (
                Uri::from(self.cfg.target.clone()),
                NameAddr::new(self.cfg.target.clone()),
                Vec::new(),
            ),
        };
        let mut b = Message::request(Method::Subscribe, uri);
        for r in &routes {
            b = b.header(HeaderName::Route, r.to_string());
        }
        b.via(&self.cfg.local.via())
            .max_forwards(70)
            .from(&from)
            .to(&to)
            .call_id(&self.call_id)
            .cseq(self.cseq, Method::Subscribe)
            .event(&Event::new(&self.cfg.package))
            .header(HeaderName::Accept, accept_for(&self.cfg.package))
            .expires(expires)
            .contact(&self.cfg.local.contact())
            .build()
            .ok()
    }

    /// A response to a SUBSCRIBE from this subscriber.
    pub fn handle_response(&mut self, now: Instant, resp: &Message) -> SubscriberEvent {
        let Some(code) = resp.status() else {
            return SubscriberEvent::None;
        };
        if resp.call_id() != Some(self.call_id.as_str()) {
            return SubscriberEvent::None;
        }
        match code {
            100..=199 => SubscriberEvent::None,
            200..=299 => {
                let expires = resp.expires().ok().flatten().unwrap_or(self.cfg.expires);
                if let Some(tag) = resp.to().and_then(|t| t.tag()) {
                    let tag = tag.to_owned();
                    let target = first_contact(resp)
                        .map(|c| c.uri)
                        .unwrap_or_else(|| Uri::from(self.cfg.target.clone()));
                    let to = resp.to().cloned();
                    // UAC route set: Record-Route reversed (RFC 3261 §12.1.2).
                    let mut routes = resp.record_routes().unwrap_or_default();
                    routes.reverse();
                    let d = self.dialogs.entry(tag).or_insert_with(|| Dialog {
                        remote_addr: to.unwrap_or_else(|| NameAddr::new(self.cfg.target.clone())),
                        remote_target: target.clone(),
                        route_set: routes,
                        remote_cseq: 0,
                        expires_at: now,
                    });
                    d.remote_target = target;
                    d.expires_at = now + Duration::from_secs(u64::from(expires));
                }
                self.schedule_refresh(now, expires);
                SubscriberEvent::Accepted { expires }
            }
            423 => match resp.min_expires().ok().flatten() {
                Some(min) if min > self.cfg.expires => {
                    self.cfg.expires = min;
                    match self.build(None, min) {
                        Some(m) => SubscriberEvent::Retry(m),
                        None => SubscriberEvent::Failed(423),
                    }
                }
                _ => SubscriberEvent::Failed(423),
            },
            _ => {
                if code == 481 {
                    self.dialogs.clear();
                }
                self.refresh_at = None;
                SubscriberEvent::Failed(code)
            }
        }
    }

    /// The SUBSCRIBE transaction timed out.
    pub fn handle_transaction_timeout(&mut self) -> SubscriberEvent {
        self.refresh_at = None;
        SubscriberEvent::Failed(408)
    }

    fn schedule_refresh(&mut self, now: Instant, expires: u32) {
        if expires == 0 || self.ended {
            self.refresh_at = None;
            return;
        }
        // Refresh ahead of expiry: half-way for short subscriptions, else
        // a minute before.
        let lead = if expires > 120 { 60 } else { expires / 2 };
        self.refresh_at = Some(now + Duration::from_secs(u64::from(expires - lead)));
    }

    /// A NOTIFY arrived: returns the response to send and the event.
    pub fn handle_notify(&mut self, now: Instant, req: &Message) -> (Message, SubscriberEvent) {
        let reply = |code| (simple(req, code), SubscriberEvent::None);
        let (Some(from), Some(to), Some(cseq)) = (req.from(), req.to(), req.cseq()) else {
            return reply(400);
        };
        if req.call_id() != Some(self.call_id.as_str()) || to.tag() != Some(&self.local_tag) {
            return reply(481);
        }
        match req.event() {
            Ok(Some(e)) if e.package.eq_ignore_ascii_case(&self.cfg.package) => {}
            _ => return reply(489),
        }
        let Ok(Some(state)) = req.subscription_state() else {
            return reply(400);
        };
        let Some(tag) = from.tag().map(str::to_owned) else {
            return reply(400);
        };
        if self.ended && !self.dialogs.contains_key(&tag) {
            return reply(481);
        }
        // A new tag is a new dialog: the SUBSCRIBE forked (§4.1.2.4).
        let d = self.dialogs.entry(tag.clone()).or_insert_with(|| Dialog {
            remote_addr: from.clone(),
            remote_target: first_contact(req)
                .map(|c| c.uri)
                .unwrap_or_else(|| from.uri.clone()),
            route_set: req.record_routes().unwrap_or_default(),
            remote_cseq: 0,
            expires_at: now,
        });
        if d.remote_cseq != 0 && cseq.seq <= d.remote_cseq {
            return reply(500);
        }
        d.remote_cseq = cseq.seq;
        if let Some(c) = first_contact(req) {
            d.remote_target = c.uri;
        }
        let ok = Message::response_to(req, 200, "OK")
            .build()
            .unwrap_or_else(|_| simple(req, 200));
        if state.state.eq_ignore_ascii_case("terminated") {
            self.dialogs.remove(&tag);
            if self.dialogs.is_empty() {
                self.refresh_at = None;
            }
            return (
                ok,
                SubscriberEvent::Terminated {
                    dialog: tag,
                    reason: state.reason().and_then(TerminationReason::parse),
                    retry_after: state.retry_after(),
                },
            );
        }
        if let Some(e) = state.expires() {
            d.expires_at = now + Duration::from_secs(u64::from(e));
            let refresh = self.refresh_at;
            self.schedule_refresh(now, e);
            if let (Some(old), Some(new)) = (refresh, self.refresh_at) {
                self.refresh_at = Some(old.min(new));
            }
        }
        let body = if req.body().is_empty() {
            None
        } else {
            let ct = req
                .content_type()
                .ok()
                .flatten()
                .map(|m| format!("{}/{}", m.mtype, m.subtype))
                .unwrap_or_default();
            Some((ct, req.body().clone()))
        };
        (
            ok,
            SubscriberEvent::Notified(Notification {
                dialog: tag,
                state: state.state.to_string(),
                body,
            }),
        )
    }

    /// When to call [`Subscriber::handle_timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.refresh_at
    }

    /// Time passed: returns refresh SUBSCRIBEs (one per dialog) when due.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Message> {
        match self.refresh_at {
            Some(at) if at <= now => {}
            _ => return Vec::new(),
        }
        self.refresh_at = None;
        let tags = self.dialogs();
        let exp = self.cfg.expires;
        tags.iter()
            .filter_map(|t| self.build(Some(t), exp))
            .collect()
    }

    /// Un-subscribes: `Expires: 0` in every dialog (RFC 6665 §4.1.2.3). The
    /// final NOTIFYs still arrive and are answered.
    pub fn unsubscribe(&mut self) -> Vec<Message> {
        self.ended = true;
        self.refresh_at = None;
        let tags = self.dialogs();
        tags.iter().filter_map(|t| self.build(Some(t), 0)).collect()
    }

    /// A fresh tag from the generator, for callers building their own
    /// requests in this subscription's name.
    pub fn fresh_id(&mut self) -> String {
        self.ids.next_id()
    }
}

fn accept_for(package: &str) -> &'static str {
    if package.eq_ignore_ascii_case("presence.winfo") {
        "application/watcherinfo+xml"
    } else {
        "application/pidf+xml"
    }
}
