//! The IM and presence hub: RFC 6121 server rules as a Sans-IO engine.
//!
//! Session events and stanzas from bound sessions go in; the stanzas to
//! deliver come out as [`Delivery`] values. The hub owns no socket, timer
//! or clock: every call takes a [`Now`]. Rosters, offline messages and
//! authorization policies live in the stores the hub is built with.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Instant, SystemTime};

use presence_model::address::Address;
use presence_model::authz::{
    self, AcceptRequest, AuthzError, DefaultPolicy, PolicyStore, Protocol, Reason, ReciprocalAdd,
    SubscriptionRequest, UserPolicy, Verdict, Visibility,
};

use crate::im::{
    Accounts, HubConfig, OfflineStore, Roster, RosterItem, RosterStore, StoreError,
    xep0082_datetime,
};
use crate::jid::Jid;
use crate::ns;
use crate::xml::Element;

/// The time of a call: a monotonic instant for durations and a wall-clock
/// time for XEP-0203/XEP-0082 stamps. The hub never reads a clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Monotonic time.
    pub instant: Instant,
    /// Wall-clock time, for delay stamps.
    pub wall: SystemTime,
}

impl Now {
    /// A time from its two readings.
    pub fn new(instant: Instant, wall: SystemTime) -> Self {
        Self { instant, wall }
    }
}

/// One stanza to deliver.
///
/// When `to` is in the hub's domain it is the full JID of a bound local
/// session. Otherwise it names a remote entity whose domain has a
/// configured route ([`HubConfig::remote_routes`]); the application hands
/// the stanza to its server-to-server link for `to.domain()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The recipient.
    pub to: Jid,
    /// The stanza, with `from` stamped.
    pub stanza: Element,
}

/// Why a hub operation was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImError {
    /// The user already has the "maximum number of logon sessions".
    #[error("session limit of {max} reached")]
    SessionLimitReached {
        /// The configured limit.
        max: u32,
    },
    /// The JID is not a full JID of a user of the served domain.
    #[error("not a full JID of a local user: {0}")]
    NotLocalSession(String),
    /// The JID is not a bare JID of a user of the served domain.
    #[error("not a local user: {0}")]
    NotLocalUser(String),
    /// A store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The authorization area refused the change.
    #[error(transparent)]
    Authz(#[from] AuthzError),
}

#[derive(Debug)]
struct Session {
    /// The last available presence broadcast; `None` while unavailable.
    presence: Option<Element>,
    priority: i8,
    /// Requested the roster, so it gets pushes (§2.1.6).
    interested: bool,
    /// Entities that got directed presence and are not subscribers (§4.6).
    directed: BTreeSet<Jid>,
    /// Last time the session sent available presence or a message.
    last_active: Instant,
}

#[derive(Debug, Default)]
struct Account {
    sessions: BTreeMap<String, Session>,
    /// Per conversation partner (bare JID): the resource that last wrote
    /// to them, which gets their messages to the bare JID.
    sticky: HashMap<Jid, String>,
}

/// The IM and presence hub: RFC 6121 server rules over the stores it is
/// built with. See [`crate::im`] for the rules and where each lives.
pub struct Hub<R, O, P> {
    config: HubConfig,
    rosters: R,
    offline: O,
    policies: P,
    accounts: Box<dyn Accounts + Send + Sync>,
    online: HashMap<Jid, Account>,
    push_seq: u64,
}

type Out = Vec<Delivery>;

fn err_stanza(stanza: &Element, by: &str, to: &Jid, cond: &str, ty: &str) -> Option<Element> {
    if stanza.attr("type") == Some("error") {
        return None;
    }
    let mut e = Element::new(stanza.name(), ns::CLIENT)
        .with_attr("type", "error")
        .with_attr("from", by)
        .with_attr("to", to.as_str());
    if let Some(id) = stanza.attr("id") {
        e.set_attr("id", id);
    }
    e.append_child(
        Element::new("error", ns::CLIENT)
            .with_attr("type", ty)
            .with_child(Element::new(cond, ns::STANZAS)),
    );
    Some(e)
}

fn presence(ty: Option<&str>, from: &Jid, to: &Jid) -> Element {
    Element::new("presence", ns::CLIENT)
        .with_opt_attr("type", ty)
        .with_attr("from", from.as_str())
        .with_attr("to", to.as_str())
}

fn addr(j: &Jid) -> Option<Address> {
    Address::from_parts(j.local()?, j.domain()).ok()
}

fn status_of(p: &Element) -> Option<String> {
    p.get_child("status", ns::CLIENT).map(Element::text)
}

/// The `<priority/>` of a presence (RFC 6121 §4.7.2.3): an integer from
/// -128 to 127, 0 when absent or malformed.
fn priority_of(p: &Element) -> i8 {
    p.get_child("priority", ns::CLIENT)
        .and_then(|e| e.text().trim().parse::<i8>().ok())
        .unwrap_or(0)
}

impl<R: RosterStore, O: OfflineStore, P: PolicyStore> Hub<R, O, P> {
    /// A hub with its configuration, stores and account directory.
    pub fn new(
        config: HubConfig,
        rosters: R,
        offline: O,
        policies: P,
        accounts: impl Accounts + Send + Sync + 'static,
    ) -> Self {
        Self {
            config,
            rosters,
            offline,
            policies,
            accounts: Box::new(accounts),
            online: HashMap::new(),
            push_seq: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// Keeps a message for `user` in offline storage, under the same
    /// limits and switches as messages routed by the hub; for messages
    /// handed back by a layer below the hub, such as XEP-0198 stream
    /// management when a hibernated session expires (REQUIREMENTS §2,
    /// behaviour 4). Returns the error reply to the original sender when
    /// the message cannot be kept.
    pub fn store_offline_message(
        &mut self,
        now: Now,
        user: &Jid,
        message: Element,
    ) -> Vec<Delivery> {
        let mut out = Vec::new();
        if message.name() != "message" {
            return out;
        }
        let from = message
            .attr("from")
            .and_then(|f| Jid::new(f).ok())
            .unwrap_or_else(|| user.bare());
        self.store_offline(now, &from, &user.bare(), message, &mut out);
        out
    }

    /// The roster store.
    pub fn roster_store(&self) -> &R {
        &self.rosters
    }

    /// The offline message store.
    pub fn offline_store(&self) -> &O {
        &self.offline
    }

    /// The policy store.
    pub fn policy_store(&self) -> &P {
        &self.policies
    }

    /// The bound sessions of `user` (bare JID), as full JIDs.
    pub fn sessions_of(&self, user: &Jid) -> Vec<Jid> {
        self.online
            .get(&user.bare())
            .map(|a| {
                a.sessions
                    .keys()
                    .filter_map(|r| user.bare().with_resource(r).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The session of `user` that last sent available presence or a
    /// message, if that was within `window` of `now` (the product's
    /// "active client", five minutes).
    pub fn active_session(&self, now: Now, user: &Jid, window: std::time::Duration) -> Option<Jid> {
        let acct = self.online.get(&user.bare())?;
        let (res, s) = acct.sessions.iter().max_by_key(|(_, s)| s.last_active)?;
        (now.instant.saturating_duration_since(s.last_active) <= window)
            .then(|| user.bare().with_resource(res).ok())
            .flatten()
    }

    fn is_local(&self, j: &Jid) -> bool {
        j.domain() == self.config.domain
    }

    fn is_server(&self, j: &Jid) -> bool {
        j.local().is_none() && j.resource().is_none() && self.is_local(j)
    }

    fn exists(&self, user: &Jid) -> bool {
        self.is_local(user) && user.local().is_some() && self.accounts.exists(&user.bare())
    }

    fn session(&self, full: &Jid) -> Option<&Session> {
        self.online
            .get(&full.bare())?
            .sessions
            .get(full.resource()?)
    }

    fn session_mut(&mut self, full: &Jid) -> Option<&mut Session> {
        self.online
            .get_mut(&full.bare())?
            .sessions
            .get_mut(full.resource()?)
    }

    /// Available resources of `user`: (full JID, priority).
    fn available(&self, user: &Jid) -> Vec<(Jid, i8)> {
        let bare = user.bare();
        let Some(acct) = self.online.get(&bare) else {
            return Vec::new();
        };
        acct.sessions
            .iter()
            .filter(|(_, s)| s.presence.is_some())
            .filter_map(|(r, s)| bare.with_resource(r).ok().map(|j| (j, s.priority)))
            .collect()
    }

    fn policy(&self, user: &Jid) -> UserPolicy {
        match addr(user) {
            // A store that cannot answer fails closed.
            Some(a) => self
                .policies
                .get_or_default(&a)
                .unwrap_or_else(|_| UserPolicy::new(DefaultPolicy::BlockAll)),
            None => UserPolicy::default(),
        }
    }

    /// Whether `watcher` may see `owner`'s real presence now.
    fn can_see(&self, owner: &Jid, roster: &Roster, watcher: &Jid) -> bool {
        let authorized = roster
            .items
            .get(&watcher.bare())
            .is_some_and(|i| i.subscription.has_from());
        match (addr(owner), addr(watcher)) {
            (Some(o), Some(w)) => {
                authz::visibility(&self.config.authz, &o, &self.policy(owner), &w, authorized)
                    == Visibility::Full
            }
            _ => authorized,
        }
    }

    fn error_to(&self, stanza: &Element, origin: &Jid, cond: &str, ty: &str, out: &mut Out) {
        let by = stanza
            .attr("to")
            .map_or_else(|| self.config.domain.clone(), str::to_owned);
        if let Some(e) = err_stanza(stanza, &by, origin, cond, ty) {
            self.deliver_any(origin, e, out);
        }
    }

    /// Delivers to a local full JID (if bound), a local bare JID (every
    /// available resource) or a remote JID (if routed).
    fn deliver_any(&self, to: &Jid, stanza: Element, out: &mut Out) {
        if !self.is_local(to) {
            if self.config.remote_routes.contains(to.domain()) {
                out.push(Delivery {
                    to: to.clone(),
                    stanza,
                });
            }
            return;
        }
        if to.is_full() {
            if self.session(to).is_some() {
                out.push(Delivery {
                    to: to.clone(),
                    stanza,
                });
            }
            return;
        }
        for (full, _) in self.available(to) {
            out.push(Delivery {
                to: full,
                stanza: stanza.clone(),
            });
        }
    }

    fn load(&self, user: &Jid) -> Result<Roster, StoreError> {
        self.rosters.load(&user.bare())
    }

    /// Saves a changed roster (bumping its version) and pushes the
    /// changed items to the user's interested sessions (§2.1.6).
    fn commit(
        &mut self,
        user: &Jid,
        roster: &mut Roster,
        changed: &[Jid],
        out: &mut Out,
    ) -> Result<(), StoreError> {
        roster.bump();
        self.rosters.save(&user.bare(), roster)?;
        let targets: Vec<Jid> = self
            .online
            .get(&user.bare())
            .map(|a| {
                a.sessions
                    .iter()
                    .filter(|(_, s)| s.interested)
                    .filter_map(|(r, _)| user.bare().with_resource(r).ok())
                    .collect()
            })
            .unwrap_or_default();
        for jid in changed {
            for t in &targets {
                self.push_seq = self.push_seq.wrapping_add(1);
                let iq = Element::new("iq", ns::CLIENT)
                    .with_attr("type", "set")
                    .with_attr("id", format!("push{}", self.push_seq))
                    .with_attr("to", t.as_str())
                    .with_child(
                        Element::new("query", ns::ROSTER)
                            .with_attr("ver", roster.ver.to_string())
                            .with_child(roster.item_element(jid)),
                    );
                out.push(Delivery {
                    to: t.clone(),
                    stanza: iq,
                });
            }
        }
        Ok(())
    }

    // ----------------------------------------------------------------
    // Sessions
    // ----------------------------------------------------------------

    /// A session bound `full`. Refused when the user already has
    /// [`HubConfig::max_sessions_per_user`] sessions (answer the bind with
    /// `<resource-constraint/>`, RFC 6120 §7.6.2.1). Binding a full JID
    /// that is already bound keeps the existing session.
    pub fn session_bound(&mut self, now: Now, full: &Jid) -> Result<(), ImError> {
        let Some(res) = full
            .resource()
            .filter(|_| self.is_local(full) && full.local().is_some())
        else {
            return Err(ImError::NotLocalSession(full.to_string()));
        };
        let limit = self.config.max_sessions_per_user;
        let acct = self.online.entry(full.bare()).or_default();
        if acct.sessions.contains_key(res) {
            return Ok(());
        }
        if limit.is_reached(acct.sessions.len()) {
            let max = limit.max().unwrap_or(u32::MAX);
            if acct.sessions.is_empty() {
                self.online.remove(&full.bare());
            }
            return Err(ImError::SessionLimitReached { max });
        }
        acct.sessions.insert(
            res.to_owned(),
            Session {
                presence: None,
                priority: 0,
                interested: false,
                directed: BTreeSet::new(),
                last_active: now.instant,
            },
        );
        Ok(())
    }

    /// The session `full` ended. If it was available, its unavailable
    /// presence goes to everyone who had its presence (RFC 6121 §4.5.2).
    pub fn session_ended(&mut self, now: Now, full: &Jid) -> Vec<Delivery> {
        let mut out = Vec::new();
        if self.session(full).is_some_and(|s| s.presence.is_some()) {
            let p = Element::new("presence", ns::CLIENT)
                .with_attr("type", "unavailable")
                .with_attr("from", full.as_str());
            self.unavailable(now, full, p, &mut out);
        }
        let bare = full.bare();
        if let Some(acct) = self.online.get_mut(&bare) {
            if let Some(res) = full.resource() {
                acct.sessions.remove(res);
                acct.sticky.retain(|_, r| r != res);
            }
            if acct.sessions.is_empty() {
                self.online.remove(&bare);
            }
        }
        out.retain(|d| &d.to != full);
        out
    }

    // ----------------------------------------------------------------
    // Stanzas
    // ----------------------------------------------------------------

    /// A stanza from the bound session `from` (a full JID). Its `from` is
    /// stamped with that JID (RFC 6120 §8.1.2.1) whatever it said.
    pub fn handle_stanza(&mut self, now: Now, from: &Jid, mut stanza: Element) -> Vec<Delivery> {
        let mut out = Vec::new();
        if self.session(from).is_none() {
            return out;
        }
        stanza.set_attr("from", from.as_str());
        let to = match stanza.attr("to").map(Jid::new) {
            None => None,
            Some(Ok(j)) => Some(j),
            Some(Err(_)) => {
                if let Some(e) = err_stanza(
                    &stanza,
                    &self.config.domain,
                    from,
                    "jid-malformed",
                    "modify",
                ) {
                    out.push(Delivery {
                        to: from.clone(),
                        stanza: e,
                    });
                }
                return out;
            }
        };
        match stanza.name() {
            "message" => self.on_message(now, from, to, stanza, &mut out),
            "presence" => self.on_presence(now, from, to, stanza, &mut out),
            "iq" => self.on_iq(now, from, to, stanza, &mut out),
            _ => {}
        }
        out
    }

    // ---------------------------- iq --------------------------------

    fn on_iq(&mut self, now: Now, from: &Jid, to: Option<Jid>, stanza: Element, out: &mut Out) {
        let ty = stanza.attr("type").unwrap_or("");
        let request = matches!(ty, "get" | "set");
        if !request && !matches!(ty, "result" | "error") {
            return self.error_to(&stanza, from, "bad-request", "modify", out);
        }
        let Some(to) = to else {
            return self.server_iq(now, from, &stanza, false, out);
        };
        if self.is_server(&to) {
            return self.server_iq(now, from, &stanza, false, out);
        }
        if to == from.bare() {
            return self.server_iq(now, from, &stanza, true, out);
        }
        if !self.is_local(&to) {
            return self.to_remote(from, &to, stanza, out);
        }
        if to.is_full() && self.session(&to).is_some() {
            out.push(Delivery { to, stanza });
            return;
        }
        if request {
            self.error_to(&stanza, from, "service-unavailable", "cancel", out);
        }
    }

    fn to_remote(&self, from: &Jid, to: &Jid, stanza: Element, out: &mut Out) {
        if self.config.remote_routes.contains(to.domain()) {
            out.push(Delivery {
                to: to.clone(),
                stanza,
            });
        } else if stanza.name() != "presence"
            || stanza.attr("type").is_none_or(|t| t != "unavailable")
        {
            self.error_to(&stanza, from, "remote-server-not-found", "cancel", out);
        }
    }

    fn iq_result(&self, stanza: &Element, from: &Jid, child: Option<Element>) -> Element {
        let mut iq = Element::new("iq", ns::CLIENT)
            .with_attr("type", "result")
            .with_attr("id", stanza.attr("id").unwrap_or(""))
            .with_attr("to", from.as_str());
        if let Some(by) = stanza.attr("to") {
            iq.set_attr("from", by);
        }
        if let Some(c) = child {
            iq.append_child(c);
        }
        iq
    }

    fn server_iq(
        &mut self,
        now: Now,
        from: &Jid,
        stanza: &Element,
        to_account: bool,
        out: &mut Out,
    ) {
        let ty = stanza.attr("type").unwrap_or("");
        if !matches!(ty, "get" | "set") {
            return;
        }
        let mut payloads = stanza.children();
        let (Some(payload), None) = (payloads.next(), payloads.next()) else {
            return self.error_to(stanza, from, "bad-request", "modify", out);
        };
        let answer = match (ty, payload.ns(), payload.name()) {
            (_, ns::ROSTER, "query") => {
                return if ty == "get" {
                    self.roster_get(from, stanza, payload, out)
                } else {
                    self.roster_set(now, from, stanza, payload, out)
                };
            }
            _ if to_account => None,
            ("get", ns::PING, "ping") => Some(self.iq_result(stanza, from, None)),
            ("get", ns::DISCO_INFO, "query") if payload.attr("node").is_none() => {
                let mut q = Element::new("query", ns::DISCO_INFO).with_child(
                    Element::new("identity", ns::DISCO_INFO)
                        .with_attr("category", "server")
                        .with_attr("type", "im")
                        .with_attr("name", self.config.software_name.clone()),
                );
                for f in [
                    ns::DISCO_INFO,
                    ns::DISCO_ITEMS,
                    ns::PING,
                    ns::VERSION,
                    ns::ROSTER,
                ] {
                    q.append_child(Element::new("feature", ns::DISCO_INFO).with_attr("var", f));
                }
                Some(self.iq_result(stanza, from, Some(q)))
            }
            ("get", ns::DISCO_ITEMS, "query") if payload.attr("node").is_none() => {
                let mut q = Element::new("query", ns::DISCO_ITEMS);
                for item in &self.config.disco_items {
                    q.append_child(
                        Element::new("item", ns::DISCO_ITEMS).with_attr("jid", item.as_str()),
                    );
                }
                Some(self.iq_result(stanza, from, Some(q)))
            }
            ("get", ns::VERSION, "query") => Some(
                self.iq_result(
                    stanza,
                    from,
                    Some(
                        Element::new("query", ns::VERSION)
                            .with_child(
                                Element::new("name", ns::VERSION)
                                    .with_text(&self.config.software_name),
                            )
                            .with_child(
                                Element::new("version", ns::VERSION)
                                    .with_text(&self.config.software_version),
                            ),
                    ),
                ),
            ),
            _ => None,
        };
        match answer {
            Some(a) => out.push(Delivery {
                to: from.clone(),
                stanza: a,
            }),
            None => self.error_to(stanza, from, "service-unavailable", "cancel", out),
        }
    }

    // -------------------------- roster ------------------------------

    fn roster_get(&mut self, from: &Jid, stanza: &Element, query: &Element, out: &mut Out) {
        if let Some(s) = self.session_mut(from) {
            s.interested = true;
        }
        let roster = match self.load(from) {
            Ok(r) => r,
            Err(_) => return self.error_to(stanza, from, "internal-server-error", "wait", out),
        };
        // §2.6.3: an up-to-date cached copy gets an empty result.
        let child = if query.attr("ver") == Some(roster.ver.to_string().as_str()) {
            None
        } else {
            Some(roster.to_query())
        };
        let r = self.iq_result(stanza, from, child);
        out.push(Delivery {
            to: from.clone(),
            stanza: r,
        });
    }

    fn roster_set(
        &mut self,
        now: Now,
        from: &Jid,
        stanza: &Element,
        query: &Element,
        out: &mut Out,
    ) {
        let mut items = query.children().filter(|c| c.is("item", ns::ROSTER));
        let (Some(item), None) = (items.next(), items.next()) else {
            return self.error_to(stanza, from, "bad-request", "modify", out);
        };
        let Some(jid) = item.attr("jid").and_then(|j| Jid::new(j).ok()) else {
            return self.error_to(stanza, from, "bad-request", "modify", out);
        };
        if jid.is_full() {
            return self.error_to(stanza, from, "bad-request", "modify", out);
        }
        let result = if item.attr("subscription") == Some("remove") {
            self.roster_remove(now, from, &jid, out)
        } else {
            self.roster_update(from, &jid, item, out)
        };
        match result {
            Ok(()) => {
                let r = self.iq_result(stanza, from, None);
                out.push(Delivery {
                    to: from.clone(),
                    stanza: r,
                });
            }
            Err((cond, ty)) => self.error_to(stanza, from, cond, ty, out),
        }
    }

    fn roster_update(
        &mut self,
        from: &Jid,
        jid: &Jid,
        item: &Element,
        out: &mut Out,
    ) -> Result<(), (&'static str, &'static str)> {
        let limits = self.config.roster;
        let name = item.attr("name").filter(|n| !n.is_empty());
        if name.is_some_and(|n| n.len() > limits.max_name_len) {
            return Err(("not-acceptable", "modify"));
        }
        let mut groups = BTreeSet::new();
        for g in item.children().filter(|c| c.is("group", ns::ROSTER)) {
            let text = g.text();
            if text.is_empty() || text.len() > limits.max_group_len {
                return Err(("not-acceptable", "modify"));
            }
            if !groups.insert(text) {
                return Err(("bad-request", "modify"));
            }
        }
        if groups.len() > limits.max_groups {
            return Err(("not-acceptable", "modify"));
        }
        let user = from.bare();
        if *jid == user {
            return Err(("not-allowed", "cancel"));
        }
        let mut roster = self
            .load(&user)
            .map_err(|_| ("internal-server-error", "wait"))?;
        if !roster.items.contains_key(jid) {
            self.check_contact_add(&user, &roster, jid)?;
        }
        let entry = roster.items.entry(jid.clone()).or_default();
        entry.name = name.map(str::to_owned);
        entry.groups = groups;
        self.commit(&user, &mut roster, std::slice::from_ref(jid), out)
            .map_err(|_| ("internal-server-error", "wait"))
    }

    /// The product's contact/watcher limits for `user` adding `contact`.
    fn check_contact_add(
        &self,
        user: &Jid,
        roster: &Roster,
        contact: &Jid,
    ) -> Result<(), (&'static str, &'static str)> {
        let target_watchers = if self.exists(contact) {
            self.load(contact).ok().map(|r| r.watcher_count(Some(user)))
        } else {
            None
        };
        match self
            .config
            .authz
            .check_contact_add(roster.items.len(), target_watchers)
        {
            Ok(()) => Ok(()),
            Err(AuthzError::WatcherLimitReached { .. }) => Err(("policy-violation", "cancel")),
            Err(_) => Err(("not-allowed", "cancel")),
        }
    }

    /// §2.5: removing an item cancels both directions of the
    /// subscription.
    fn roster_remove(
        &mut self,
        now: Now,
        from: &Jid,
        jid: &Jid,
        out: &mut Out,
    ) -> Result<(), (&'static str, &'static str)> {
        let user = from.bare();
        let mut roster = self
            .load(&user)
            .map_err(|_| ("internal-server-error", "wait"))?;
        let had_pending = roster.pending_in.remove(jid).is_some();
        let Some(item) = roster.items.remove(jid) else {
            if had_pending {
                self.commit(&user, &mut roster, &[], out)
                    .map_err(|_| ("internal-server-error", "wait"))?;
                self.send_subscription(now, &user, jid, "unsubscribed", None, out);
                return Ok(());
            }
            return Err(("item-not-found", "cancel"));
        };
        self.commit(&user, &mut roster, std::slice::from_ref(jid), out)
            .map_err(|_| ("internal-server-error", "wait"))?;
        if item.subscription.has_from() || had_pending {
            self.send_unavailable_from_all(&user, jid, out);
            self.send_subscription(now, &user, jid, "unsubscribed", None, out);
        }
        if item.subscription.has_to() || item.ask {
            self.send_subscription(now, &user, jid, "unsubscribe", None, out);
        }
        Ok(())
    }

    /// Adds several contacts at once (an administrative import). The batch
    /// is truncated at the "Maximum Contact List Size" ("195 present, 6
    /// asked: 5 added"); contacts already present, the user themself and
    /// contacts at their watcher limit are skipped. Returns how many were
    /// added.
    pub fn add_contacts(
        &mut self,
        _now: Now,
        user: &Jid,
        contacts: impl IntoIterator<Item = (Jid, Option<String>, BTreeSet<String>)>,
    ) -> Result<(usize, Vec<Delivery>), ImError> {
        let user = user.bare();
        if !self.exists(&user) {
            return Err(ImError::NotLocalUser(user.to_string()));
        }
        let mut roster = self.load(&user)?;
        let mut fresh: Vec<(Jid, Option<String>, BTreeSet<String>)> = Vec::new();
        for (jid, name, groups) in contacts {
            let jid = jid.bare();
            if jid != user
                && !roster.items.contains_key(&jid)
                && !fresh.iter().any(|(j, _, _)| *j == jid)
            {
                fresh.push((jid, name, groups));
            }
        }
        let room = self
            .config
            .authz
            .admit_contacts(roster.items.len(), fresh.len());
        let mut added = Vec::new();
        for (jid, name, groups) in fresh {
            if added.len() >= room {
                break;
            }
            if self.check_contact_add(&user, &roster, &jid).is_err() {
                continue;
            }
            roster.items.insert(
                jid.clone(),
                RosterItem {
                    name,
                    groups,
                    ..RosterItem::default()
                },
            );
            added.push(jid);
        }
        let mut out = Vec::new();
        if !added.is_empty() {
            self.commit(&user, &mut roster, &added, &mut out)?;
        }
        Ok((added.len(), out))
    }

    /// Replaces `user`'s authorization policy. Watchers whose view changes
    /// get it at once: a newly blocked one an `unavailable` from each
    /// resource, a newly unblocked one the current presence.
    pub fn set_policy(
        &mut self,
        _now: Now,
        user: &Jid,
        policy: UserPolicy,
    ) -> Result<Vec<Delivery>, ImError> {
        let user = user.bare();
        let owner = addr(&user).ok_or_else(|| ImError::NotLocalUser(user.to_string()))?;
        let before = self
            .policies
            .get_or_default(&owner)
            .map_err(|e| StoreError(e.to_string()))?;
        self.policies
            .put(&owner, policy.clone())
            .map_err(|e| StoreError(e.to_string()))?;
        let roster = self.load(&user)?;
        let watchers: Vec<(Jid, Address)> = roster
            .items
            .iter()
            .filter(|(_, i)| i.subscription.has_from())
            .filter_map(|(j, _)| addr(j).map(|a| (j.clone(), a)))
            .collect();
        let changes = authz::visibility_changes(
            &self.config.authz,
            &owner,
            &before,
            &policy,
            watchers.iter().map(|(_, a)| a),
        );
        let mut out = Vec::new();
        for (w, vis) in changes {
            let Some((jid, _)) = watchers.iter().find(|(_, a)| a == w) else {
                continue;
            };
            match vis {
                Visibility::Full => self.send_presence_of(&user, &roster, jid, &mut out),
                Visibility::UnavailableOnly(_) => {
                    self.send_unavailable_from_all(&user, jid, &mut out)
                }
            }
        }
        Ok(out)
    }

    // ----------------------- subscriptions --------------------------

    /// Sends a subscription-related presence from local `user` (bare) to
    /// `contact`, running the contact's side when it is local.
    fn send_subscription(
        &mut self,
        now: Now,
        user: &Jid,
        contact: &Jid,
        ty: &str,
        status: Option<String>,
        out: &mut Out,
    ) {
        if self.is_local(contact) {
            match ty {
                "subscribe" => {
                    if let Some(err) = self.inbound_subscribe(now, contact, user, status, out) {
                        self.deliver_any(user, err, out);
                    }
                }
                "subscribed" => self.inbound_subscribed(contact, user, out),
                "unsubscribe" => self.inbound_unsubscribe(now, contact, user, out),
                "unsubscribed" => self.inbound_unsubscribed(contact, user, out),
                _ => {}
            }
        } else {
            let mut p = presence(Some(ty), user, contact);
            if let Some(s) = status {
                p.append_child(Element::new("status", ns::CLIENT).with_text(s));
            }
            self.deliver_any(contact, p, out);
        }
    }

    fn outbound_subscription(
        &mut self,
        now: Now,
        from: &Jid,
        to: &Jid,
        stanza: &Element,
        ty: &str,
        out: &mut Out,
    ) {
        let user = from.bare();
        let contact = to.bare();
        if contact == user {
            return;
        }
        if !self.is_local(&contact) && !self.config.remote_routes.contains(contact.domain()) {
            return self.error_to(stanza, from, "remote-server-not-found", "cancel", out);
        }
        let Ok(mut roster) = self.load(&user) else {
            return self.error_to(stanza, from, "internal-server-error", "wait", out);
        };
        let status = status_of(stanza);
        match ty {
            // §3.1.2
            "subscribe" => {
                let item = roster.items.get(&contact);
                if item.is_none()
                    && let Err((cond, ety)) = self.check_contact_add(&user, &roster, &contact)
                {
                    return self.error_to(stanza, from, cond, ety, out);
                }
                let item = roster.items.entry(contact.clone()).or_default();
                if !item.subscription.has_to() && !item.ask {
                    item.ask = true;
                    if self
                        .commit(&user, &mut roster, std::slice::from_ref(&contact), out)
                        .is_err()
                    {
                        return self.error_to(stanza, from, "internal-server-error", "wait", out);
                    }
                }
                self.send_subscription(now, &user, &contact, "subscribe", status, out);
            }
            // §3.1.5 (approval) and §3.4 (pre-approval)
            "subscribed" => {
                if roster.pending_in.remove(&contact).is_some() {
                    self.grant(now, &user, roster, &contact, out);
                } else {
                    let item = roster.items.get(&contact);
                    if item.is_some_and(|i| i.subscription.has_from() || i.approved) {
                        return;
                    }
                    if item.is_none() && self.check_contact_add(&user, &roster, &contact).is_err() {
                        return;
                    }
                    roster.items.entry(contact.clone()).or_default().approved = true;
                    let _ = self.commit(&user, &mut roster, std::slice::from_ref(&contact), out);
                }
            }
            // §3.3.2
            "unsubscribe" => {
                if let Some(item) = roster.items.get_mut(&contact)
                    && (item.subscription.has_to() || item.ask)
                {
                    item.subscription = item.subscription.with_to(false);
                    item.ask = false;
                    let _ = self.commit(&user, &mut roster, std::slice::from_ref(&contact), out);
                }
                self.send_subscription(now, &user, &contact, "unsubscribe", None, out);
            }
            // §3.2.2
            "unsubscribed" => {
                let was_pending = roster.pending_in.remove(&contact).is_some();
                let mut changed = false;
                let mut had_from = false;
                if let Some(item) = roster.items.get_mut(&contact) {
                    had_from = item.subscription.has_from();
                    changed = had_from || item.approved;
                    item.subscription = item.subscription.with_from(false);
                    item.approved = false;
                }
                if changed || was_pending {
                    let changed_items: Vec<Jid> = if changed {
                        vec![contact.clone()]
                    } else {
                        Vec::new()
                    };
                    let _ = self.commit(&user, &mut roster, &changed_items, out);
                }
                if had_from {
                    self.send_unavailable_from_all(&user, &contact, out);
                }
                if had_from || was_pending {
                    self.send_subscription(now, &user, &contact, "unsubscribed", None, out);
                }
            }
            _ => {}
        }
    }

    /// `owner` grants `watcher`'s subscription: state `from`/`both`, a
    /// push, `subscribed` to the watcher and the owner's presence
    /// (§3.1.5). The product's reciprocal add follows when
    /// auto-authorization is off.
    fn grant(&mut self, now: Now, owner: &Jid, mut roster: Roster, watcher: &Jid, out: &mut Out) {
        let reciprocal = match (addr(owner), addr(watcher)) {
            (Some(o), Some(w)) => {
                let req = AcceptRequest {
                    owner: &o,
                    watcher: &w,
                    owner_watcher_count: roster.watcher_count(Some(watcher)),
                    owner_contact_count: roster.items.len(),
                    watcher_in_owner_contacts: roster.items.contains_key(watcher),
                };
                match authz::accept_subscription(&self.config.authz, &req) {
                    Ok(fx) => matches!(fx.reciprocal_add, ReciprocalAdd::Add(_)),
                    Err(_) => {
                        let _ = self.commit(owner, &mut roster, &[], out);
                        let e = presence(Some("error"), owner, watcher).with_child(
                            Element::new("error", ns::CLIENT)
                                .with_attr("type", "cancel")
                                .with_child(Element::new("policy-violation", ns::STANZAS)),
                        );
                        self.deliver_any(watcher, e, out);
                        return;
                    }
                }
            }
            _ => false,
        };
        let item = roster.items.entry(watcher.clone()).or_default();
        item.subscription = item.subscription.with_from(true);
        item.approved = false;
        if reciprocal && !item.subscription.has_to() {
            item.ask = true;
        }
        if self
            .commit(owner, &mut roster, std::slice::from_ref(watcher), out)
            .is_err()
        {
            return;
        }
        self.send_subscription(now, owner, watcher, "subscribed", None, out);
        self.send_presence_of(owner, &roster, watcher, out);
        if reciprocal {
            self.send_subscription(now, owner, watcher, "subscribe", None, out);
        }
    }

    /// §3.1.3 at the contact's server. Returns an error presence for the
    /// requester when the request is refused with an error.
    fn inbound_subscribe(
        &mut self,
        now: Now,
        contact: &Jid,
        from: &Jid,
        status: Option<String>,
        out: &mut Out,
    ) -> Option<Element> {
        if !self.exists(contact) {
            self.inbound_unsubscribed(from, contact, out);
            return None;
        }
        let Ok(mut roster) = self.load(contact) else {
            return None;
        };
        if let Some(item) = roster.items.get(from) {
            if item.subscription.has_from() {
                // Already subscribed: answer for the contact.
                self.send_subscription(now, contact, from, "subscribed", None, out);
                return None;
            }
            if item.approved {
                self.grant(now, contact, roster, from, out);
                return None;
            }
        }
        let verdict = match (addr(contact), addr(from)) {
            (Some(owner), Some(watcher)) => {
                let policy = self.policy(contact);
                let d = authz::authorize_subscription(
                    &self.config.authz,
                    &SubscriptionRequest {
                        owner: &owner,
                        owner_policy: &policy,
                        watcher: &watcher,
                        protocol: Protocol::Xmpp,
                        owner_watcher_count: roster.watcher_count(Some(from)),
                    },
                );
                (d.verdict, d.reason)
            }
            _ => (Verdict::Confirm, Reason::UserConsentRequired),
        };
        match verdict {
            (Verdict::Allow, _) => {
                self.grant(now, contact, roster, from, out);
                None
            }
            (Verdict::Confirm, _) => {
                let fresh = !roster.pending_in.contains_key(from);
                if fresh && roster.pending_in.len() >= self.config.roster.max_pending_in {
                    return None;
                }
                roster.pending_in.insert(from.clone(), status.clone());
                if fresh {
                    let _ = self.commit(contact, &mut roster, &[], out);
                }
                let mut p = presence(Some("subscribe"), from, contact);
                if let Some(s) = status {
                    p.append_child(Element::new("status", ns::CLIENT).with_text(s));
                }
                self.deliver_any(contact, p, out);
                None
            }
            (Verdict::PoliteBlock, _) => None,
            (Verdict::Block, Reason::WatcherLimitReached) => Some(
                presence(Some("error"), contact, from).with_child(
                    Element::new("error", ns::CLIENT)
                        .with_attr("type", "cancel")
                        .with_child(Element::new("policy-violation", ns::STANZAS)),
                ),
            ),
            (Verdict::Block, _) => {
                self.inbound_unsubscribed(from, contact, out);
                None
            }
        }
    }

    /// §3.1.6 at the user's server: `contact` approved `user`.
    fn inbound_subscribed(&mut self, user: &Jid, contact: &Jid, out: &mut Out) {
        if !self.exists(user) {
            return;
        }
        let Ok(mut roster) = self.load(user) else {
            return;
        };
        let Some(item) = roster.items.get_mut(contact) else {
            return;
        };
        if !item.ask || item.subscription.has_to() {
            return;
        }
        item.ask = false;
        item.subscription = item.subscription.with_to(true);
        if self
            .commit(user, &mut roster, std::slice::from_ref(contact), out)
            .is_ok()
        {
            self.deliver_any(user, presence(Some("subscribed"), contact, user), out);
        }
    }

    /// §3.3.3 at the contact's server: `from` no longer wants `contact`'s
    /// presence.
    fn inbound_unsubscribe(&mut self, _now: Now, contact: &Jid, from: &Jid, out: &mut Out) {
        if !self.exists(contact) {
            return;
        }
        let Ok(mut roster) = self.load(contact) else {
            return;
        };
        let was_pending = roster.pending_in.remove(from).is_some();
        let had_from = roster
            .items
            .get(from)
            .is_some_and(|i| i.subscription.has_from());
        if let Some(item) = roster.items.get_mut(from) {
            item.subscription = item.subscription.with_from(false);
            item.approved = false;
        }
        if had_from || was_pending {
            let changed: Vec<Jid> = if had_from {
                vec![from.clone()]
            } else {
                Vec::new()
            };
            if self.commit(contact, &mut roster, &changed, out).is_err() {
                return;
            }
        }
        if had_from {
            self.deliver_any(contact, presence(Some("unsubscribe"), from, contact), out);
            self.send_unavailable_from_all(contact, from, out);
        }
    }

    /// §3.2.3 at the user's server: `contact` cancelled or denied `user`.
    fn inbound_unsubscribed(&mut self, user: &Jid, contact: &Jid, out: &mut Out) {
        if !self.exists(user) {
            return;
        }
        let Ok(mut roster) = self.load(user) else {
            return;
        };
        let Some(item) = roster.items.get_mut(contact) else {
            return;
        };
        if !item.subscription.has_to() && !item.ask {
            return;
        }
        item.subscription = item.subscription.with_to(false);
        item.ask = false;
        if self
            .commit(user, &mut roster, std::slice::from_ref(contact), out)
            .is_ok()
        {
            self.deliver_any(user, presence(Some("unsubscribed"), contact, user), out);
        }
    }

    // -------------------------- presence ----------------------------

    /// Sends `owner`'s available presences to `watcher` (bare or full), if
    /// the watcher may see them.
    fn send_presence_of(&self, owner: &Jid, roster: &Roster, watcher: &Jid, out: &mut Out) {
        if !self.can_see(owner, roster, watcher) {
            return;
        }
        let bare = owner.bare();
        let Some(acct) = self.online.get(&bare) else {
            return;
        };
        for (res, s) in &acct.sessions {
            if let (Some(p), Ok(full)) = (&s.presence, bare.with_resource(res)) {
                let mut p = p.clone();
                p.set_attr("from", full.as_str());
                p.set_attr("to", watcher.as_str());
                self.deliver_any(watcher, p, out);
            }
        }
    }

    /// An `unavailable` from each available resource of `owner` to
    /// `watcher`.
    fn send_unavailable_from_all(&self, owner: &Jid, watcher: &Jid, out: &mut Out) {
        for (full, _) in self.available(owner) {
            self.deliver_any(watcher, presence(Some("unavailable"), &full, watcher), out);
        }
    }

    fn on_presence(
        &mut self,
        now: Now,
        from: &Jid,
        to: Option<Jid>,
        stanza: Element,
        out: &mut Out,
    ) {
        let ty = stanza.attr("type").map(str::to_owned);
        match (ty.as_deref(), to) {
            (None | Some("unavailable"), None) => {
                if ty.is_none() {
                    self.available_broadcast(now, from, stanza, out);
                } else {
                    self.unavailable(now, from, stanza, out);
                }
            }
            (None | Some("unavailable"), Some(to)) => self.directed(from, &to, stanza, out),
            (Some(t @ ("subscribe" | "subscribed" | "unsubscribe" | "unsubscribed")), Some(to)) => {
                let t = t.to_owned();
                let mut p = stanza;
                p.set_attr("from", from.bare().as_str());
                self.outbound_subscription(now, from, &to, &p, &t, out);
            }
            (Some("probe"), Some(to)) => self.probe(from, &to, out),
            (Some("error"), Some(to)) => self.deliver_any(&to, stanza, out),
            (
                Some(
                    "subscribe" | "subscribed" | "unsubscribe" | "unsubscribed" | "probe" | "error",
                ),
                None,
            ) => {}
            _ => self.error_to(&stanza, from, "bad-request", "modify", out),
        }
    }

    /// §4.3.2 at the contact's server: answer a probe from `from` for
    /// `to` with the presence `from` may see.
    fn probe(&self, from: &Jid, to: &Jid, out: &mut Out) {
        if !self.is_local(to) {
            if self.config.remote_routes.contains(to.domain()) {
                out.push(Delivery {
                    to: to.bare(),
                    stanza: presence(Some("probe"), &from.bare(), &to.bare()),
                });
            }
            return;
        }
        if !self.exists(to) {
            return;
        }
        let owner = to.bare();
        let Ok(roster) = self.load(&owner) else {
            return;
        };
        let subscribed = roster
            .items
            .get(&from.bare())
            .is_some_and(|i| i.subscription.has_from());
        if !subscribed {
            return;
        }
        if self.available(&owner).is_empty() || !self.can_see(&owner, &roster, &from.bare()) {
            self.deliver_any(from, presence(Some("unavailable"), &owner, from), out);
        } else {
            self.send_presence_of(&owner, &roster, from, out);
        }
    }

    fn available_broadcast(&mut self, now: Now, from: &Jid, stanza: Element, out: &mut Out) {
        let priority = priority_of(&stanza);
        let user = from.bare();
        let Some(s) = self.session_mut(from) else {
            return;
        };
        let initial = s.presence.is_none();
        let mut stored = stanza.clone();
        stored.remove_attr("to");
        s.presence = Some(stored);
        s.priority = priority;
        s.last_active = now.instant;
        let Ok(roster) = self.load(&user) else {
            return;
        };
        // §4.2.2 / §4.4.2: to subscribers who may see it, and to the
        // user's own available resources.
        for (jid, item) in &roster.items {
            if item.subscription.has_from() && self.can_see(&user, &roster, jid) {
                let mut p = stanza.clone();
                p.set_attr("to", jid.as_str());
                self.deliver_any(jid, p, out);
            }
        }
        for (full, _) in self.available(&user) {
            let mut p = stanza.clone();
            p.set_attr("to", full.as_str());
            out.push(Delivery {
                to: full,
                stanza: p,
            });
        }
        if initial {
            // §4.2.2: probes for the presence of the user's contacts.
            for (jid, item) in &roster.items {
                if !item.subscription.has_to() {
                    continue;
                }
                if self.is_local(jid) {
                    if let Ok(theirs) = self.load(jid) {
                        self.send_presence_of(jid, &theirs, from, out);
                    }
                } else if self.config.remote_routes.contains(jid.domain()) {
                    out.push(Delivery {
                        to: jid.clone(),
                        stanza: presence(Some("probe"), &user, jid),
                    });
                }
            }
            // §3.1.3: requests that waited for the user to come online.
            for (requester, status) in &roster.pending_in {
                let mut p = presence(Some("subscribe"), requester, &user);
                if let Some(s) = status {
                    p.append_child(Element::new("status", ns::CLIENT).with_text(s));
                }
                out.push(Delivery {
                    to: from.clone(),
                    stanza: p,
                });
            }
        }
        // XEP-0160: stored messages go to the first resource with
        // non-negative priority.
        if priority >= 0
            && let Ok(msgs) = self.offline.take_all(&user)
        {
            for m in msgs {
                out.push(Delivery {
                    to: from.clone(),
                    stanza: m,
                });
            }
        }
    }

    fn unavailable(&mut self, _now: Now, from: &Jid, stanza: Element, out: &mut Out) {
        let user = from.bare();
        let Some(s) = self.session_mut(from) else {
            return;
        };
        if s.presence.is_none() {
            return;
        }
        let directed = std::mem::take(&mut s.directed);
        let targets = self.available(&user);
        if let Ok(roster) = self.load(&user) {
            for (jid, item) in &roster.items {
                if item.subscription.has_from() {
                    let mut p = stanza.clone();
                    p.set_attr("to", jid.as_str());
                    self.deliver_any(jid, p, out);
                }
            }
        }
        for (full, _) in targets {
            let mut p = stanza.clone();
            p.set_attr("to", full.as_str());
            out.push(Delivery {
                to: full,
                stanza: p,
            });
        }
        for jid in directed {
            let mut p = stanza.clone();
            p.set_attr("to", jid.as_str());
            self.deliver_any(&jid, p, out);
        }
        if let Some(s) = self.session_mut(from) {
            s.presence = None;
            s.priority = 0;
        }
    }

    /// §4.6: directed presence.
    fn directed(&mut self, from: &Jid, to: &Jid, stanza: Element, out: &mut Out) {
        if !self.is_local(to) && !self.config.remote_routes.contains(to.domain()) {
            return self.to_remote(from, to, stanza, out);
        }
        let unavailable = stanza.attr("type") == Some("unavailable");
        let subscriber = self
            .load(from)
            .ok()
            .and_then(|r| r.items.get(&to.bare()).map(|i| i.subscription.has_from()))
            .unwrap_or(false);
        let max = self.config.roster.max_directed;
        if let Some(s) = self.session_mut(from) {
            if unavailable {
                s.directed.remove(to);
            } else if !subscriber && s.presence.is_some() && s.directed.len() < max {
                s.directed.insert(to.clone());
            }
        }
        self.deliver_any(to, stanza, out);
    }

    // -------------------------- messages ----------------------------

    /// The policy verdict for a message (REQUIREMENTS §4: the same policy
    /// gates IM): `Err` with the error condition to answer.
    fn check_im(&self, sender: &Jid, recipient: &Jid) -> Result<(), &'static str> {
        let (Some(s), Some(r)) = (addr(sender), addr(recipient)) else {
            return Ok(());
        };
        let d = authz::may_send_im(&self.config.authz, &s, &r, &self.policy(recipient));
        match d.verdict {
            Verdict::Allow | Verdict::Confirm => Ok(()),
            Verdict::PoliteBlock => Err("service-unavailable"),
            Verdict::Block if d.reason == Reason::InstantMessagingDisabled => {
                Err("service-unavailable")
            }
            Verdict::Block => Err("not-allowed"),
        }
    }

    fn on_message(
        &mut self,
        now: Now,
        from: &Jid,
        to: Option<Jid>,
        stanza: Element,
        out: &mut Out,
    ) {
        let ty = stanza.attr("type").unwrap_or("normal").to_owned();
        let to = to.unwrap_or_else(|| from.bare());
        if !self.is_local(&to) {
            return self.to_remote(from, &to, stanza, out);
        }
        if to.local().is_none() {
            if ty != "error" {
                self.error_to(&stanza, from, "service-unavailable", "cancel", out);
            }
            return;
        }
        let target = to.bare();
        if !self.exists(&target) {
            if ty != "error" {
                self.error_to(&stanza, from, "service-unavailable", "cancel", out);
            }
            return;
        }
        if ty != "error"
            && let Err(cond) = self.check_im(from, &target)
        {
            return self.error_to(&stanza, from, cond, "cancel", out);
        }
        let conversational = matches!(ty.as_str(), "chat" | "normal");
        if let (Some(acct), Some(res)) = (self.online.get_mut(&from.bare()), from.resource()) {
            if conversational && target != from.bare() {
                // The resource that writes becomes the sticky one.
                acct.sticky.insert(target.clone(), res.to_owned());
            }
            if let Some(s) = acct.sessions.get_mut(res) {
                s.last_active = now.instant;
            }
        }
        // §8.5.3.1: a connected full JID gets it.
        if to.is_full() && self.session(&to).is_some() {
            out.push(Delivery { to, stanza });
            return;
        }
        if to.is_full() && !conversational {
            // §8.5.3.2.1: groupchat gets an error; headline and error are
            // dropped.
            if ty == "groupchat" {
                self.error_to(&stanza, from, "service-unavailable", "cancel", out);
            }
            return;
        }
        // §8.5.2: the bare JID (or an unavailable full JID, treated alike).
        let candidates: Vec<Jid> = self
            .available(&target)
            .into_iter()
            .filter(|(_, p)| *p >= 0)
            .map(|(j, _)| j)
            .collect();
        match ty.as_str() {
            "groupchat" => self.error_to(&stanza, from, "service-unavailable", "cancel", out),
            "error" => {}
            "headline" => {
                for c in candidates {
                    out.push(Delivery {
                        to: c,
                        stanza: stanza.clone(),
                    });
                }
            }
            _ if candidates.is_empty() => self.store_offline(now, from, &target, stanza, out),
            _ => {
                let sticky = self
                    .online
                    .get(&target)
                    .and_then(|a| a.sticky.get(&from.bare()))
                    .and_then(|r| target.with_resource(r).ok())
                    .filter(|j| candidates.contains(j));
                match sticky {
                    Some(j) => out.push(Delivery { to: j, stanza }),
                    None => {
                        // Forking: every non-negative-priority resource.
                        for c in candidates {
                            out.push(Delivery {
                                to: c,
                                stanza: stanza.clone(),
                            });
                        }
                    }
                }
            }
        }
    }

    /// §8.5.2.2.1 and XEP-0160: keep the message, stamped with an
    /// XEP-0203 delay, or refuse it when storage is off or full.
    fn store_offline(
        &mut self,
        now: Now,
        from: &Jid,
        target: &Jid,
        mut stanza: Element,
        out: &mut Out,
    ) {
        let cfg = self.config.offline;
        let full = cfg.suppress
            || self
                .offline
                .count(target)
                .map_or(true, |n| cfg.per_user.is_reached(n))
            || self
                .offline
                .total()
                .map_or(true, |n| cfg.per_node.is_reached(n));
        if full {
            return self.error_to(&stanza, from, "service-unavailable", "cancel", out);
        }
        stanza.append_child(
            Element::new("delay", ns::DELAY)
                .with_attr("from", self.config.domain.clone())
                .with_attr("stamp", xep0082_datetime(now.wall))
                .with_text("Offline Storage"),
        );
        if self.offline.push(target, stanza.clone()).is_err() {
            self.error_to(&stanza, from, "internal-server-error", "wait", out);
        }
    }
}
