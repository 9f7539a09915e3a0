//! The notifier side of RFC 6665 §4.2 for `presence` (RFC 3856) and
//! `presence.winfo` (RFC 3857): the subscription table of a presence
//! server.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use presence_model::authz::Verdict;
use thiserror::Error;

use super::{Authorizer, IdGenerator, LocalEndpoint, TerminationReason, first_contact};
use crate::message::{Event, HeaderName, MediaType, Message, Method, NameAddr, Uri};
use crate::pidf::Presence;
use crate::transaction::Remote;
use crate::winfo::{Watcher, WatcherInfo, WatcherList, WatcherStatus};

/// Handle of one subscription in a [`Notifier`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(pub u64);

/// Subscription-State values (RFC 6665 §8.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubState {
    /// Waiting for authorization.
    Pending,
    /// Authorized.
    Active,
    /// Ended.
    Terminated,
}

/// Limits and identity of a [`Notifier`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifierConfig {
    /// This server in the messages it builds.
    pub local: LocalEndpoint,
    /// Longest subscription granted; longer requests are shortened
    /// (RFC 6665 §4.2.1.1). Default 3600 s.
    pub max_expires: u32,
    /// Shortest accepted; shorter non-zero requests get 423 with
    /// Min-Expires. Default 60 s.
    pub min_expires: u32,
    /// Duration when SUBSCRIBE has no Expires (RFC 3856 §6.4). Default
    /// 3600 s.
    pub default_expires: u32,
    /// Most subscriptions to one presentity (per package); beyond it new
    /// ones get 403. Default 100.
    pub max_per_presentity: usize,
    /// Most subscriptions in the table; beyond it new ones get 503.
    /// Default 10 000.
    pub max_subscriptions: usize,
}

impl NotifierConfig {
    /// Defaults for `local`.
    pub fn new(local: LocalEndpoint) -> NotifierConfig {
        NotifierConfig {
            local,
            max_expires: 3600,
            min_expires: 60,
            default_expires: 3600,
            max_per_presentity: 100,
            max_subscriptions: 10_000,
        }
    }
}

/// Misuse of the notifier API.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NotifierError {
    /// No subscription with that id.
    #[error("no such subscription")]
    NoSuchSubscription,
}

/// A NOTIFY to send, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notify {
    /// The subscription it belongs to.
    pub subscription: SubscriptionId,
    /// The request (send it in a new client transaction).
    pub request: Message,
    /// Where to send it: the source of the SUBSCRIBE.
    pub remote: Remote,
}

/// What to do with a SUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeOutcome {
    /// The response to send in the server transaction.
    pub response: Message,
    /// NOTIFYs to send after it (the immediate NOTIFY, winfo updates).
    pub notifies: Vec<Notify>,
}

/// A read-only view of a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionInfo {
    /// The watched resource (`user@host`).
    pub resource: String,
    /// `presence` or `presence.winfo`.
    pub package: String,
    /// The watcher (`user@host`).
    pub watcher: String,
    /// State.
    pub state: SubState,
    /// When it expires.
    pub expires_at: Instant,
}

#[derive(Debug, Clone)]
struct Sub {
    info: SubscriptionInfo,
    watcher_uri: String,
    created: Instant,
    polite_block: bool,
    call_id: String,
    local_tag: String,
    remote_tag: String,
    event_id: Option<String>,
    /// Our From (their To) with our tag, their From with their tag.
    local_addr: NameAddr,
    remote_addr: NameAddr,
    remote_target: Uri,
    /// Route set: the SUBSCRIBE's Record-Route values in order (RFC 3261
    /// §12.1.1).
    route_set: Vec<NameAddr>,
    remote: Remote,
    local_cseq: u32,
    remote_cseq: u32,
    winfo_version: u32,
    winfo_event: &'static str,
}

type DialogKey = (String, String, String, Option<String>);

/// The RFC 6665 notifier: see the [module docs](super).
pub struct Notifier<G> {
    cfg: NotifierConfig,
    ids: G,
    next: u64,
    subs: HashMap<SubscriptionId, Sub>,
    dialogs: HashMap<DialogKey, SubscriptionId>,
    state: HashMap<String, Presence>,
}

impl<G> std::fmt::Debug for Notifier<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("subscriptions", &self.subs.len())
            .finish()
    }
}

/// The packages this notifier serves.
pub const PACKAGES: &[&str] = &["presence", "presence.winfo"];

/// `user@host` of a SIP URI (the AoR used as resource and watcher key).
pub(crate) fn aor(uri: &Uri) -> Option<String> {
    let s = uri.as_sip()?;
    Some(match &s.user {
        Some(u) => format!("{u}@{}", s.host),
        None => s.host.to_string(),
    })
}

fn secs(d: u32) -> Duration {
    Duration::from_secs(u64::from(d))
}

fn remaining(now: Instant, at: Instant) -> u32 {
    u32::try_from(at.saturating_duration_since(now).as_secs()).unwrap_or(u32::MAX)
}

impl<G: IdGenerator> Notifier<G> {
    /// An empty table.
    pub fn new(cfg: NotifierConfig, ids: G) -> Notifier<G> {
        Notifier {
            cfg,
            ids,
            next: 0,
            subs: HashMap::new(),
            dialogs: HashMap::new(),
            state: HashMap::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &NotifierConfig {
        &self.cfg
    }

    /// Live subscriptions.
    pub fn len(&self) -> usize {
        self.subs.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.subs.is_empty()
    }

    /// A subscription's view.
    pub fn get(&self, id: SubscriptionId) -> Option<&SubscriptionInfo> {
        self.subs.get(&id).map(|s| &s.info)
    }

    /// Subscriptions to `resource` in `package`.
    pub fn subscriptions_to(&self, resource: &str, package: &str) -> Vec<SubscriptionId> {
        let mut v: Vec<_> = self
            .subs
            .iter()
            .filter(|(_, s)| s.info.resource == resource && s.info.package == package)
            .map(|(k, _)| *k)
            .collect();
        v.sort();
        v
    }

    /// Where `watcher` (`user@host`) can be reached: the contact and source
    /// address of its most recent active subscription.
    pub fn watcher_contact(&self, watcher: &str) -> Option<(Uri, Remote)> {
        self.subs
            .values()
            .filter(|s| s.info.watcher == watcher && s.info.state != SubState::Terminated)
            .max_by_key(|s| s.created)
            .map(|s| (s.remote_target.clone(), s.remote))
    }

    /// Handles a SUBSCRIBE for a local resource: `resource` says whether
    /// the Request-URI names a user this server serves (else 404).
    pub fn handle_subscribe(
        &mut self,
        now: Instant,
        req: &Message,
        remote: Remote,
        resource_exists: bool,
        authz: &mut dyn Authorizer,
    ) -> SubscribeOutcome {
        let reply = |code: u16| SubscribeOutcome {
            response: simple(req, code),
            notifies: Vec::new(),
        };
        let (Some(from), Some(to), Some(call_id), Some(cseq)) =
            (req.from(), req.to(), req.call_id(), req.cseq())
        else {
            return reply(400);
        };
        let event = match req.event() {
            Ok(Some(e)) if PACKAGES.iter().any(|p| e.package.eq_ignore_ascii_case(p)) => e,
            Ok(_) => {
                // RFC 6665 §4.2.1.1: unknown or missing package.
                let r = Message::response_to(req, 489, "Bad Event")
                    .header(HeaderName::AllowEvents, PACKAGES.join(", "))
                    .build();
                return SubscribeOutcome {
                    response: r.unwrap_or_else(|_| simple(req, 489)),
                    notifies: Vec::new(),
                };
            }
            Err(_) => return reply(400),
        };
        let Ok(expires) = req.expires() else {
            return reply(400);
        };
        let expires = expires.unwrap_or(self.cfg.default_expires);
        if expires != 0 && expires < self.cfg.min_expires {
            let r = Message::response_to(req, 423, "Interval Too Brief")
                .header(HeaderName::MinExpires, self.cfg.min_expires.to_string())
                .build();
            return SubscribeOutcome {
                response: r.unwrap_or_else(|_| simple(req, 423)),
                notifies: Vec::new(),
            };
        }
        let granted = expires.min(self.cfg.max_expires);
        let Some(remote_tag) = from.tag().map(str::to_owned) else {
            return reply(400);
        };
        let package = event.package.to_ascii_lowercase();
        // In-dialog: refresh or un-subscribe (RFC 6665 §4.2.1.2, §4.2.1.4).
        if let Some(local_tag) = to.tag() {
            let key = (
                call_id.to_owned(),
                local_tag.to_owned(),
                remote_tag,
                event.id().map(str::to_owned),
            );
            let Some(&id) = self.dialogs.get(&key) else {
                return reply(481);
            };
            let Some(sub) = self.subs.get_mut(&id) else {
                return reply(481);
            };
            if cseq.seq <= sub.remote_cseq {
                return reply(500);
            }
            sub.remote_cseq = cseq.seq;
            if let Some(c) = first_contact(req) {
                sub.remote_target = c.uri;
            }
            sub.remote = remote;
            let response = self.ok(req, local_tag, granted);
            let mut notifies = Vec::new();
            if granted == 0 {
                notifies.extend(self.end(now, id, TerminationReason::Timeout, None));
            } else {
                if let Some(s) = self.subs.get_mut(&id) {
                    s.info.expires_at = now + secs(granted);
                }
                notifies.extend(self.notify_one(now, id));
            }
            return SubscribeOutcome { response, notifies };
        }
        // A new subscription (RFC 6665 §4.2.1).
        if !resource_exists {
            return reply(404);
        }
        let (Some(resource), Some(watcher)) = (req.request_uri().and_then(aor), aor(&from.uri))
        else {
            return reply(416);
        };
        if self.subs.len() >= self.cfg.max_subscriptions {
            return reply(503);
        }
        if self.subscriptions_to(&resource, &package).len() >= self.cfg.max_per_presentity {
            return reply(403);
        }
        let (state, polite_block) = if package == "presence.winfo" {
            // Only the presentity itself may learn its watchers (RFC 3857 §5).
            if watcher != resource {
                return reply(403);
            }
            (SubState::Active, false)
        } else {
            let others = self
                .subscriptions_to(&resource, "presence")
                .into_iter()
                .filter(|i| self.subs.get(i).is_some_and(|s| s.info.watcher != watcher))
                .count();
            match authz.authorize(&resource, &watcher, others).verdict {
                Verdict::Allow => (SubState::Active, false),
                Verdict::Confirm => (SubState::Pending, false),
                Verdict::PoliteBlock => (SubState::Active, true),
                Verdict::Block => return reply(403),
            }
        };
        let local_tag = self.ids.next_id();
        let response = self.ok(req, &local_tag, granted);
        self.next += 1;
        let id = SubscriptionId(self.next);
        let local_addr = to.clone().with_param("tag", Some(&local_tag));
        let sub = Sub {
            info: SubscriptionInfo {
                resource: resource.clone(),
                package: package.clone(),
                watcher,
                state,
                expires_at: now + secs(granted),
            },
            watcher_uri: from.uri.to_string(),
            created: now,
            polite_block,
            call_id: call_id.to_owned(),
            local_tag: local_tag.clone(),
            remote_tag: remote_tag.clone(),
            event_id: event.id().map(str::to_owned),
            local_addr,
            remote_addr: from.clone(),
            remote_target: first_contact(req)
                .map(|c| c.uri)
                .unwrap_or_else(|| from.uri.clone()),
            route_set: req.record_routes().unwrap_or_default(),
            remote,
            local_cseq: 0,
            remote_cseq: cseq.seq,
            winfo_version: 0,
            winfo_event: "subscribe",
        };
        self.dialogs.insert(
            (
                call_id.to_owned(),
                local_tag,
                remote_tag,
                sub.event_id.clone(),
            ),
            id,
        );
        self.subs.insert(id, sub);
        let mut notifies = Vec::new();
        if granted == 0 {
            // A fetch: one NOTIFY with the state, then gone (§4.4.3).
            notifies.extend(self.end(now, id, TerminationReason::Timeout, None));
        } else {
            notifies.extend(self.notify_one(now, id));
            if package == "presence" {
                notifies.extend(self.winfo_update(now, &resource));
            }
        }
        SubscribeOutcome { response, notifies }
    }

    fn ok(&self, req: &Message, local_tag: &str, granted: u32) -> Message {
        let mut b = Message::response_to(req, 200, "OK");
        // Record-Route is copied into 2xx responses (RFC 3261 §12.1.1).
        for rr in req.header_values(HeaderName::RecordRoute) {
            b = b.header(HeaderName::RecordRoute, rr.to_owned());
        }
        b.to_tag(local_tag)
            .expires(granted)
            .contact(&self.cfg.local.contact())
            .build()
            .unwrap_or_else(|_| simple(req, 200))
    }

    /// Sets the (composed) presence state of `resource` and NOTIFYs its
    /// presence watchers. `None` clears it (watchers see it closed).
    pub fn set_state(
        &mut self,
        now: Instant,
        resource: &str,
        doc: Option<Presence>,
    ) -> Vec<Notify> {
        match doc {
            Some(d) => self.state.insert(resource.to_owned(), d),
            None => self.state.remove(resource),
        };
        self.subscriptions_to(resource, "presence")
            .into_iter()
            .flat_map(|id| self.notify_one(now, id))
            .collect()
    }

    /// The presentity (or policy) decided on a subscription: activates a
    /// pending one (`Allow`, `PoliteBlock`) or terminates it with
    /// `reason=rejected` (`Block`); `Confirm` keeps it pending.
    pub fn authorize(
        &mut self,
        now: Instant,
        id: SubscriptionId,
        verdict: Verdict,
    ) -> Result<Vec<Notify>, NotifierError> {
        let sub = self
            .subs
            .get_mut(&id)
            .ok_or(NotifierError::NoSuchSubscription)?;
        let resource = sub.info.resource.clone();
        let mut out = Vec::new();
        match verdict {
            Verdict::Allow | Verdict::PoliteBlock => {
                sub.info.state = SubState::Active;
                sub.polite_block = verdict == Verdict::PoliteBlock;
                sub.winfo_event = "approved";
                out.extend(self.notify_one(now, id));
            }
            Verdict::Confirm => return Ok(out),
            Verdict::Block => {
                out.extend(self.end(now, id, TerminationReason::Rejected, None));
                return Ok(out);
            }
        }
        out.extend(self.winfo_update(now, &resource));
        Ok(out)
    }

    /// Ends a subscription with a reason (and `retry-after` seconds for
    /// probation or giveup): one final NOTIFY.
    pub fn terminate(
        &mut self,
        now: Instant,
        id: SubscriptionId,
        reason: TerminationReason,
        retry_after: Option<u32>,
    ) -> Result<Vec<Notify>, NotifierError> {
        if !self.subs.contains_key(&id) {
            return Err(NotifierError::NoSuchSubscription);
        }
        Ok(self.end(now, id, reason, retry_after))
    }

    /// A NOTIFY failed (timeout, 481 or other error; RFC 6665 §4.2.2):
    /// the subscription is removed without a further NOTIFY.
    pub fn notify_failed(&mut self, now: Instant, id: SubscriptionId) -> Vec<Notify> {
        match self.remove(id) {
            Some(s) if s.info.package == "presence" => self.winfo_update(now, &s.info.resource),
            _ => Vec::new(),
        }
    }

    /// When to call [`Notifier::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.subs.values().map(|s| s.info.expires_at).min()
    }

    /// Expires subscriptions due at `now`: each gets a terminated NOTIFY
    /// with `reason=timeout`.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Notify> {
        let mut due: Vec<_> = self
            .subs
            .iter()
            .filter(|(_, s)| s.info.expires_at <= now)
            .map(|(k, _)| *k)
            .collect();
        due.sort();
        due.into_iter()
            .flat_map(|id| self.end(now, id, TerminationReason::Timeout, None))
            .collect()
    }

    fn remove(&mut self, id: SubscriptionId) -> Option<Sub> {
        let s = self.subs.remove(&id)?;
        self.dialogs.remove(&(
            s.call_id.clone(),
            s.local_tag.clone(),
            s.remote_tag.clone(),
            s.event_id.clone(),
        ));
        Some(s)
    }

    fn end(
        &mut self,
        now: Instant,
        id: SubscriptionId,
        reason: TerminationReason,
        retry_after: Option<u32>,
    ) -> Vec<Notify> {
        let mut out = Vec::new();
        if let Some(s) = self.subs.get_mut(&id) {
            s.info.state = SubState::Terminated;
            s.winfo_event = match reason {
                TerminationReason::Timeout => "timeout",
                TerminationReason::Rejected => "rejected",
                TerminationReason::NoResource => "noresource",
                TerminationReason::Deactivated => "deactivated",
                TerminationReason::Probation => "probation",
                TerminationReason::Giveup => "giveup",
            };
        }
        let mut state = format!("terminated;reason={}", reason.as_str());
        if let Some(r) = retry_after {
            state.push_str(&format!(";retry-after={r}"));
        }
        out.extend(self.build_notify(now, id, state));
        if let Some(s) = self.remove(id)
            && s.info.package == "presence"
        {
            out.extend(self.winfo_update(now, &s.info.resource));
        }
        out
    }

    fn notify_one(&mut self, now: Instant, id: SubscriptionId) -> Option<Notify> {
        let s = self.subs.get(&id)?;
        let left = remaining(now, s.info.expires_at);
        let state = match s.info.state {
            SubState::Active => format!("active;expires={left}"),
            SubState::Pending => format!("pending;expires={left}"),
            SubState::Terminated => "terminated".to_owned(),
        };
        self.build_notify(now, id, state)
    }

    fn body_for(&mut self, now: Instant, id: SubscriptionId) -> Option<(MediaType, Bytes)> {
        let s = self.subs.get(&id)?;
        if s.info.package == "presence.winfo" {
            let resource = s.info.resource.clone();
            let watchers = self.watcher_list(now, &resource);
            let s = self.subs.get_mut(&id)?;
            let doc = WatcherInfo {
                version: s.winfo_version,
                full: true,
                lists: vec![watchers],
            };
            s.winfo_version = s.winfo_version.saturating_add(1);
            return Some((
                MediaType::new("application", "watcherinfo+xml"),
                Bytes::from(doc.to_xml()),
            ));
        }
        // Pending subscriptions get no state (RFC 6665 §4.2.1.2).
        if s.info.state == SubState::Pending {
            return None;
        }
        let entity = format!("pres:{}", s.info.resource);
        let doc = if s.polite_block {
            Presence::closed(&entity)
        } else {
            match self.state.get(&s.info.resource) {
                Some(d) => {
                    let mut d = d.clone();
                    d.entity = Some(entity);
                    d
                }
                None => Presence::closed(&entity),
            }
        };
        Some((
            MediaType::new("application", "pidf+xml"),
            Bytes::from(doc.to_xml()),
        ))
    }

    fn watcher_list(&self, now: Instant, resource: &str) -> WatcherList {
        let mut ids = self.subscriptions_to(resource, "presence");
        ids.sort();
        WatcherList {
            resource: format!("sip:{resource}"),
            package: "presence".to_owned(),
            watchers: ids
                .iter()
                .filter_map(|i| self.subs.get(i).map(|s| (i, s)))
                .map(|(i, s)| Watcher {
                    uri: s.watcher_uri.clone(),
                    id: i.0.to_string(),
                    status: match s.info.state {
                        SubState::Pending => WatcherStatus::Pending,
                        SubState::Active => WatcherStatus::Active,
                        SubState::Terminated => WatcherStatus::Terminated,
                    },
                    event: s.winfo_event.to_owned(),
                    display_name: s.remote_addr.display_name_unquoted(),
                    duration_subscribed: Some(now.saturating_duration_since(s.created).as_secs()),
                })
                .collect(),
        }
    }

    fn winfo_update(&mut self, now: Instant, resource: &str) -> Vec<Notify> {
        self.subscriptions_to(resource, "presence.winfo")
            .into_iter()
            .flat_map(|id| self.notify_one(now, id))
            .collect()
    }

    fn build_notify(&mut self, now: Instant, id: SubscriptionId, state: String) -> Option<Notify> {
        let body = self.body_for(now, id);
        let local = self.cfg.local.clone();
        let s = self.subs.get_mut(&id)?;
        s.local_cseq = s.local_cseq.checked_add(1)?;
        let mut event = Event::new(&s.info.package);
        if let Some(eid) = &s.event_id {
            event = event.with_id(eid);
        }
        // The Via names the transport the NOTIFY actually goes over.
        let mut via = local.via();
        via.transport = crate::text::Text::from_static(s.remote.transport.as_str());
        let mut b = Message::request(Method::Notify, s.remote_target.clone())
            .via(&via)
            .max_forwards(70)
            .from(&s.local_addr)
            .to(&s.remote_addr)
            .call_id(&s.call_id)
            .cseq(s.local_cseq, Method::Notify)
            .event(&event)
            .header(HeaderName::SubscriptionState, state)
            .contact(&local.contact());
        for r in &s.route_set {
            b = b.header(HeaderName::Route, r.to_string());
        }
        if let Some((ct, bytes)) = body {
            b = b.body(&ct, bytes);
        }
        let request = b.build().ok()?;
        Some(Notify {
            subscription: id,
            request,
            remote: s.remote,
        })
    }
}

/// A response without extra headers (adds a To tag where the request had
/// none, as a UAS must for final responses).
pub(crate) fn simple(req: &Message, code: u16) -> Message {
    let reason = crate::framing::reason_phrase(code);
    // Error responses end the transaction; the tag only has to differ
    // from any dialog's, and dialog tags come from the generator.
    Message::response_to(req, code, reason)
        .to_tag("e")
        .build()
        .unwrap_or_else(|_| Message::bare_response(code, reason))
}
