//! One room: occupants, roles, affiliations, configuration, subject,
//! history, moderation and invitations (XEP-0045 §7-§10).
//!
//! The room never performs I/O: handlers push [`Delivery`] values into the
//! caller's output and record durable changes in [`Effects`] for the
//! service to persist.
//!
//! Fan-out is linear: a groupchat message is serialized once and the same
//! [`Payload`] is addressed to every occupant; a presence change is
//! serialized at most three times (with the real JID, without it, and the
//! self-presence), so a join into a room of n occupants costs O(n)
//! stanzas: n presences to the newcomer and n to the others.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use xmpp_core::Jid;
use xmpp_core::xml::{Element, Node};

use crate::config::{RoomConfig, ServiceConfig, Whois};
use crate::delivery::{Delivery, Payload};
use crate::error::MucError;
use crate::model::{
    Action, Affiliation, Role, check_affiliation_change, check_role_change, role_may,
};
use crate::ns;
use crate::stanza::{ItemInfo, item, muc_user_x, occupant_id, status};
use crate::store::{AffiliationEntry, ArchivedMessage, StoredRoom};
use crate::time::{format_datetime, parse_datetime};

/// A user present in a room.
#[derive(Debug, Clone)]
pub struct Occupant {
    nick: String,
    /// `room@service/nick`, computed once per nickname.
    jid: Jid,
    /// Serialized plain presence as others see it: `[without jid, with jid]`.
    /// Cleared on every change of nick, role, affiliation or status.
    cache: [Option<Payload>; 2],
    real: Jid,
    bare: Jid,
    role: Role,
    affiliation: Affiliation,
    occupant_id: String,
    /// Presence payload children (show, status, priority, caps, ...).
    extra: Vec<Element>,
}

impl Occupant {
    /// The in-room nickname.
    pub fn nick(&self) -> &str {
        &self.nick
    }
    /// The occupant's room JID (`room@service/nick`).
    pub fn occupant_jid(&self) -> &Jid {
        &self.jid
    }
    fn touched(&mut self) {
        self.cache = [None, None];
    }
    /// The occupant's real full JID.
    pub fn real_jid(&self) -> &Jid {
        &self.real
    }
    /// The current role.
    pub fn role(&self) -> Role {
        self.role
    }
    /// The affiliation, as it applies in the room.
    pub fn affiliation(&self) -> Affiliation {
        self.affiliation
    }
    /// The XEP-0421 occupant-id.
    pub fn occupant_id(&self) -> &str {
        &self.occupant_id
    }
}

/// A message kept for history on join (XEP-0045 §7.2.15).
#[derive(Debug, Clone)]
struct HistoryItem {
    /// Arrival time; `None` for messages restored from the archive, whose
    /// age is then taken from the wall clock.
    at: Option<Instant>,
    stamp: SystemTime,
    payload: Payload,
}

/// Durable consequences of handling one stanza, for the service.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    /// Configuration, affiliations or subject changed.
    pub save: bool,
    /// Messages to archive.
    pub archive: Vec<ArchivedMessage>,
    /// The room was destroyed (explicitly or by the last leave).
    pub destroyed: bool,
    /// Real JIDs that entered.
    pub joined: Vec<Jid>,
    /// Real JIDs that left.
    pub left: Vec<Jid>,
}

/// Per-call context: time, limits, output.
pub(crate) struct Ctx<'a> {
    pub now: Instant,
    pub wall: SystemTime,
    pub cfg: &'a ServiceConfig,
    pub out: &'a mut Vec<Delivery>,
    pub fx: Effects,
}

/// What a presence broadcast says about its subject.
#[derive(Default)]
struct Spec<'a> {
    unavailable: bool,
    /// Codes for everyone.
    codes: Vec<u16>,
    /// Extra codes only for the subject's own copy (110 added always).
    self_codes: Vec<u16>,
    new_nick: Option<&'a str>,
    actor: Option<&'a str>,
    reason: Option<&'a str>,
    /// Send the subject's own copy before the others' (kicks, bans).
    self_first: bool,
    /// Do not send the subject its own copy.
    skip_self: bool,
}

/// One multi-user chat room.
#[derive(Debug, Clone)]
pub struct Room {
    jid: Jid,
    config: RoomConfig,
    locked: bool,
    affiliations: HashMap<Jid, AffiliationEntry>,
    occupants: Vec<Occupant>,
    by_nick: HashMap<String, usize>,
    by_real: HashMap<Jid, usize>,
    subject: Option<(String, String)>,
    history: VecDeque<HistoryItem>,
    next_seq: u64,
}

fn is_admin(cfg: &ServiceConfig, bare: &Jid) -> bool {
    cfg.admins.iter().any(|a| a == bare)
}

fn text_child(e: &Element, name: &str, ns_: &str) -> Option<String> {
    e.get_child(name, ns_).map(Element::text)
}

impl Room {
    /// A new, locked room owned by `owner` (XEP-0045 §10.1).
    pub(crate) fn new(jid: Jid, config: RoomConfig, owner: &Jid) -> Room {
        let mut affiliations = HashMap::new();
        affiliations.insert(
            owner.bare(),
            AffiliationEntry {
                jid: owner.bare(),
                affiliation: Affiliation::Owner,
                reason: None,
                nick: None,
            },
        );
        Room {
            jid,
            config,
            locked: true,
            affiliations,
            occupants: Vec::new(),
            by_nick: HashMap::new(),
            by_real: HashMap::new(),
            subject: None,
            history: VecDeque::new(),
            next_seq: 0,
        }
    }

    /// A room restored from storage; unlocked, empty.
    pub(crate) fn from_stored(
        s: StoredRoom,
        archive: &[ArchivedMessage],
        cfg: &ServiceConfig,
    ) -> Room {
        let mut r = Room::new(s.jid.clone(), s.config, &s.jid);
        r.affiliations.clear();
        for a in s.affiliations {
            r.affiliations.insert(a.jid.bare(), a);
        }
        r.locked = false;
        r.subject = s.subject;
        let keep = archive.len().saturating_sub(cfg.history_cap);
        for m in &archive[keep..] {
            r.next_seq = r.next_seq.max(m.seq.saturating_add(1));
            if let Ok(from) = r.jid.with_resource(&m.nick) {
                let msg = Element::new("message", ns::CLIENT)
                    .with_attr("from", from.as_str())
                    .with_attr("type", "groupchat")
                    .with_child(Element::new("body", ns::CLIENT).with_text(&m.body))
                    .with_child(occupant_id(&m.occupant_id));
                r.history.push_back(HistoryItem {
                    at: None,
                    stamp: m.stamp,
                    payload: Payload::new(&with_delay(msg, &r.jid, m.stamp)),
                });
            }
        }
        r
    }

    /// The durable record of the room.
    pub fn to_stored(&self) -> StoredRoom {
        let mut affiliations: Vec<AffiliationEntry> = self.affiliations.values().cloned().collect();
        affiliations.sort_by(|a, b| a.jid.cmp(&b.jid));
        StoredRoom {
            jid: self.jid.clone(),
            config: self.config.clone(),
            affiliations,
            subject: self.subject.clone(),
        }
    }

    /// The room's bare JID.
    pub fn jid(&self) -> &Jid {
        &self.jid
    }
    /// The current configuration.
    pub fn config(&self) -> &RoomConfig {
        &self.config
    }
    /// Whether the room still awaits its initial configuration.
    pub fn is_locked(&self) -> bool {
        self.locked
    }
    /// The occupants, in no particular order.
    pub fn occupants(&self) -> &[Occupant] {
        &self.occupants
    }
    /// The occupant with nickname `nick`.
    pub fn occupant(&self, nick: &str) -> Option<&Occupant> {
        self.by_nick.get(nick).and_then(|&i| self.occupants.get(i))
    }
    /// The occupant whose real JID is `real`.
    pub fn occupant_by_jid(&self, real: &Jid) -> Option<&Occupant> {
        self.by_real.get(real).and_then(|&i| self.occupants.get(i))
    }
    /// The stored affiliation of a bare JID (`None` when not listed).
    pub fn affiliation(&self, bare: &Jid) -> Affiliation {
        self.affiliations
            .get(bare)
            .map_or(Affiliation::None, |a| a.affiliation)
    }
    /// The affiliation list entries.
    pub fn affiliations(&self) -> impl Iterator<Item = &AffiliationEntry> {
        self.affiliations.values()
    }
    /// The subject and the nick that set it.
    pub fn subject(&self) -> Option<(&str, &str)> {
        self.subject.as_ref().map(|(s, n)| (s.as_str(), n.as_str()))
    }
    /// Number of owners.
    pub fn owner_count(&self) -> usize {
        self.affiliations
            .values()
            .filter(|a| a.affiliation == Affiliation::Owner)
            .count()
    }
    /// Number of messages kept for history.
    pub fn history_len(&self) -> usize {
        self.history.len()
    }

    /// The affiliation that applies to `bare`: service admins are owners.
    fn effective(&self, cfg: &ServiceConfig, bare: &Jid) -> Affiliation {
        if is_admin(cfg, bare) {
            Affiliation::Owner
        } else {
            self.affiliation(bare)
        }
    }

    fn occupant_jid(&self, nick: &str) -> Result<Jid, MucError> {
        self.jid
            .with_resource(nick)
            .map_err(|_| MucError::JidMalformed)
    }

    fn occupant_id_for(&self, cfg: &ServiceConfig, bare: &Jid) -> String {
        let mut h = Sha256::new();
        h.update((cfg.occupant_id_secret.len() as u64).to_be_bytes());
        h.update(&cfg.occupant_id_secret);
        h.update(self.jid.as_str().as_bytes());
        h.update([0]);
        h.update(bare.as_str().as_bytes());
        let d = h.finalize();
        d.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }

    fn sees_jids(&self, role: Role) -> bool {
        self.config.whois == Whois::Anyone || role == Role::Moderator
    }

    fn presence_of(&self, o: &Occupant, spec: &Spec<'_>, with_jid: bool, own: bool) -> Element {
        let mut p = Element::new("presence", ns::CLIENT).with_attr("from", o.jid.as_str());
        if spec.unavailable {
            p.set_attr("type", "unavailable");
        }
        for e in &o.extra {
            p.append_child(e.clone());
        }
        let mut codes = spec.codes.clone();
        if own {
            codes.extend_from_slice(&spec.self_codes);
            codes.push(status::SELF_PRESENCE);
        }
        let info = ItemInfo {
            affiliation: Some(o.affiliation),
            role: Some(if spec.unavailable { Role::None } else { o.role }),
            jid: with_jid.then_some(&o.real),
            nick: spec.new_nick,
            actor: spec.actor,
            reason: spec.reason,
        };
        p.append_child(muc_user_x(&info, &codes));
        p.append_child(occupant_id(&o.occupant_id));
        p
    }

    /// Sends `o`'s presence (per `spec`) to every occupant and to `o`.
    fn broadcast(&self, ctx: &mut Ctx<'_>, o: &Occupant, spec: &Spec<'_>) {
        let mut with: Option<Payload> = None;
        let mut without: Option<Payload> = None;
        let own = || Payload::new(&self.presence_of(o, spec, true, true));
        if spec.self_first && !spec.skip_self {
            ctx.out.push(Delivery {
                to: o.real.clone(),
                payload: own(),
            });
        }
        ctx.out.reserve(self.occupants.len() + 1);
        for r in &self.occupants {
            if r.real == o.real {
                continue;
            }
            let slot = if self.sees_jids(r.role) {
                &mut with
            } else {
                &mut without
            };
            let see = self.sees_jids(r.role);
            let payload = slot
                .get_or_insert_with(|| Payload::new(&self.presence_of(o, spec, see, false)))
                .clone();
            ctx.out.push(Delivery {
                to: r.real.clone(),
                payload,
            });
        }
        if !spec.self_first && !spec.skip_self {
            ctx.out.push(Delivery {
                to: o.real.clone(),
                payload: own(),
            });
        }
    }

    fn add(&mut self, o: Occupant) {
        let i = self.occupants.len();
        self.by_nick.insert(o.nick.clone(), i);
        self.by_real.insert(o.real.clone(), i);
        self.occupants.push(o);
    }

    fn remove(&mut self, i: usize) -> Option<Occupant> {
        if i >= self.occupants.len() {
            return None;
        }
        let o = self.occupants.swap_remove(i);
        self.by_nick.remove(&o.nick);
        self.by_real.remove(&o.real);
        if let Some(moved) = self.occupants.get(i) {
            self.by_nick.insert(moved.nick.clone(), i);
            self.by_real.insert(moved.real.clone(), i);
        }
        Some(o)
    }

    /// Removes occupant `i`, telling it and everyone else why.
    fn eject(
        &mut self,
        ctx: &mut Ctx<'_>,
        i: usize,
        code: Option<u16>,
        actor: Option<&str>,
        reason: Option<&str>,
    ) {
        self.eject_with(ctx, i, code, actor, reason, true);
    }

    /// [`Room::eject`], optionally without writing to the removed occupant
    /// (whose server bounced our last stanza).
    fn eject_with(
        &mut self,
        ctx: &mut Ctx<'_>,
        i: usize,
        code: Option<u16>,
        actor: Option<&str>,
        reason: Option<&str>,
        notify_self: bool,
    ) {
        let Some(o) = self.remove(i) else { return };
        let spec = Spec {
            unavailable: true,
            codes: code.into_iter().collect(),
            actor,
            reason,
            self_first: true,
            skip_self: !notify_self,
            ..Spec::default()
        };
        let mut gone = o;
        gone.extra.clear();
        self.broadcast(ctx, &gone, &spec);
        ctx.fx.left.push(gone.real);
        self.after_leave(ctx);
    }

    fn after_leave(&mut self, ctx: &mut Ctx<'_>) {
        if self.occupants.is_empty() && (!self.config.persistent || self.locked) {
            ctx.fx.destroyed = true;
        }
    }

    /// Handles presence to `room/nick` from `from` (join, nick change,
    /// status update, leave; XEP-0045 §7.2, §7.6, §7.7, §7.14).
    pub(crate) fn handle_presence(
        &mut self,
        ctx: &mut Ctx<'_>,
        from: &Jid,
        nick: &str,
        stanza: &Element,
        created: bool,
    ) -> Result<(), MucError> {
        let ty = stanza.attr("type");
        let present = self.by_real.get(from).copied();
        match (ty, present) {
            (Some("unavailable"), Some(i)) => {
                let Some(o) = self.remove(i) else {
                    return Ok(());
                };
                let mut gone = o;
                gone.extra = stanza
                    .children()
                    .filter(|c| c.is("status", ns::CLIENT))
                    .take(1)
                    .cloned()
                    .collect();
                let spec = Spec {
                    unavailable: true,
                    ..Spec::default()
                };
                self.broadcast(ctx, &gone, &spec);
                ctx.fx.left.push(gone.real);
                self.after_leave(ctx);
                Ok(())
            }
            (Some("unavailable"), None) => Ok(()),
            (None, Some(i)) => {
                let current = self
                    .occupants
                    .get(i)
                    .map(|o| o.nick.clone())
                    .unwrap_or_default();
                if current == nick {
                    self.update_presence(ctx, i, stanza);
                    Ok(())
                } else {
                    self.change_nick(ctx, i, nick, stanza)
                }
            }
            (None, None) => self.join(ctx, from, nick, stanza, created),
            _ => Err(MucError::BadRequest("unsupported presence type")),
        }
    }

    fn presence_extra(stanza: &Element) -> Vec<Element> {
        stanza
            .children()
            .filter(|c| {
                !c.is("x", ns::MUC)
                    && !c.is("x", ns::MUC_USER)
                    && !c.is("occupant-id", ns::OCCUPANT_ID)
                    && !c.is("error", ns::CLIENT)
            })
            .take(16)
            .cloned()
            .collect()
    }

    fn update_presence(&mut self, ctx: &mut Ctx<'_>, i: usize, stanza: &Element) {
        if let Some(o) = self.occupants.get_mut(i) {
            o.extra = Self::presence_extra(stanza);
            o.touched();
        }
        if let Some(o) = self.occupants.get(i) {
            self.broadcast(ctx, o, &Spec::default());
        }
    }

    fn check_nick(&self, cfg: &ServiceConfig, nick: &str, bare: &Jid) -> Result<(), MucError> {
        if nick.is_empty() || nick.len() > cfg.max_nick_len {
            return Err(MucError::NotAcceptable("nickname length"));
        }
        if self.by_nick.contains_key(nick) {
            return Err(MucError::Conflict("nickname in use"));
        }
        if self
            .affiliations
            .values()
            .any(|a| a.nick.as_deref() == Some(nick) && a.jid != *bare)
        {
            return Err(MucError::Conflict("nickname reserved"));
        }
        Ok(())
    }

    fn change_nick(
        &mut self,
        ctx: &mut Ctx<'_>,
        i: usize,
        nick: &str,
        stanza: &Element,
    ) -> Result<(), MucError> {
        let Some(o) = self.occupants.get(i) else {
            return Ok(());
        };
        let bare = o.bare.clone();
        if let Some(reserved) = self.affiliations.get(&bare).and_then(|a| a.nick.as_deref())
            && reserved != nick
        {
            return Err(MucError::NotAcceptable(
                "registered users keep their nickname",
            ));
        }
        self.check_nick(ctx.cfg, nick, &bare)?;
        self.occupant_jid(nick)?;
        // Unavailable from the old nick with 303 and the new nick.
        let old = o.clone();
        let spec = Spec {
            unavailable: true,
            codes: vec![status::NICK_CHANGED],
            new_nick: Some(nick),
            ..Spec::default()
        };
        self.broadcast(ctx, &old, &spec);
        self.by_nick.remove(&old.nick);
        self.by_nick.insert(nick.to_owned(), i);
        let new_jid = self.occupant_jid(nick)?;
        if let Some(o) = self.occupants.get_mut(i) {
            o.nick = nick.to_owned();
            o.jid = new_jid;
            o.extra = Self::presence_extra(stanza);
            o.touched();
        }
        if let Some(o) = self.occupants.get(i) {
            self.broadcast(ctx, o, &Spec::default());
        }
        Ok(())
    }

    fn join(
        &mut self,
        ctx: &mut Ctx<'_>,
        from: &Jid,
        nick: &str,
        stanza: &Element,
        created: bool,
    ) -> Result<(), MucError> {
        let bare = from.bare();
        let aff = self.effective(ctx.cfg, &bare);
        if self.locked && aff != Affiliation::Owner {
            return Err(MucError::ItemNotFound("room is locked until configured"));
        }
        let role = aff
            .default_role(self.config.moderated)
            .ok_or(MucError::Forbidden("banned from the room"))?;
        if self.config.members_only && aff < Affiliation::Member {
            return Err(MucError::RegistrationRequired);
        }
        let x = stanza.get_child("x", ns::MUC);
        if let Some(pw) = &self.config.password
            && aff < Affiliation::Owner
        {
            let given = x.and_then(|x| text_child(x, "password", ns::MUC));
            if given.as_deref() != Some(pw.as_str()) {
                return Err(MucError::NotAuthorized("password required"));
            }
        }
        let limit = if aff >= Affiliation::Admin {
            ctx.cfg.max_occupants_limit
        } else {
            self.config.max_occupants.min(ctx.cfg.max_occupants_limit)
        };
        if self.occupants.len() >= limit {
            return Err(MucError::ServiceUnavailable("room is full"));
        }
        // A registered nickname replaces the requested one (status 210).
        let mut nick = nick.to_owned();
        let mut self_codes = Vec::new();
        if let Some(reserved) = self.affiliations.get(&bare).and_then(|a| a.nick.clone())
            && reserved != nick
        {
            nick = reserved;
            self_codes.push(status::NICK_ASSIGNED);
        }
        self.check_nick(ctx.cfg, &nick, &bare)?;
        let jid = self.occupant_jid(&nick)?;
        let occupant = Occupant {
            nick: nick.clone(),
            jid,
            cache: [None, None],
            real: from.clone(),
            occupant_id: self.occupant_id_for(ctx.cfg, &bare),
            bare,
            role,
            affiliation: aff,
            extra: Self::presence_extra(stanza),
        };
        // 1. Existing occupants' presence to the newcomer.
        let newcomer_sees = self.sees_jids(role);
        ctx.out.reserve(2 * self.occupants.len() + 4);
        let k = usize::from(newcomer_sees);
        for i in 0..self.occupants.len() {
            let fresh = match self.occupants.get(i) {
                Some(o) if o.cache[k].is_none() => Some(Payload::new(&self.presence_of(
                    o,
                    &Spec::default(),
                    newcomer_sees,
                    false,
                ))),
                _ => None,
            };
            let Some(o) = self.occupants.get_mut(i) else {
                break;
            };
            if let Some(p) = fresh {
                o.cache[k] = Some(p);
            }
            if let Some(payload) = o.cache[k].clone() {
                ctx.out.push(Delivery {
                    to: from.clone(),
                    payload,
                });
            }
        }
        // 2. The newcomer's presence to everyone, self-presence last.
        if self.config.whois == Whois::Anyone {
            self_codes.push(status::NON_ANONYMOUS);
        }
        if self.config.persistent && self.config.logging {
            self_codes.push(status::LOGGING_ENABLED);
        }
        if created {
            self_codes.push(status::ROOM_CREATED);
        }
        let spec = Spec {
            self_codes,
            ..Spec::default()
        };
        self.broadcast(ctx, &occupant, &spec);
        self.add(occupant);
        ctx.fx.joined.push(from.clone());
        // 3. History, 4. subject.
        self.send_history(ctx, from, x.and_then(|x| x.get_child("history", ns::MUC)));
        let mut subject = Element::new("message", ns::CLIENT).with_attr("type", "groupchat");
        match &self.subject {
            Some((s, by)) => {
                let f = self
                    .jid
                    .with_resource(by)
                    .unwrap_or_else(|_| self.jid.clone());
                subject.set_attr("from", f.as_str());
                subject.append_child(Element::new("subject", ns::CLIENT).with_text(s));
            }
            None => {
                subject.set_attr("from", self.jid.as_str());
                subject.append_child(Element::new("subject", ns::CLIENT));
            }
        }
        ctx.out.push(Delivery {
            to: from.clone(),
            payload: Payload::new(&subject),
        });
        Ok(())
    }

    /// History on join (XEP-0045 §7.2.15): `maxchars` (bytes of the whole
    /// stanzas), `maxstanzas`, `seconds`, `since`; the room's history
    /// length applies when no limit is given, the service cap always.
    fn send_history(&self, ctx: &mut Ctx<'_>, to: &Jid, req: Option<&Element>) {
        let num = |name: &str| {
            req.and_then(|r| r.attr(name))
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let maxchars = num("maxchars");
        let maxstanzas = num("maxstanzas");
        let seconds = num("seconds");
        let since = req.and_then(|r| r.attr("since")).and_then(parse_datetime);
        let cap = ctx.cfg.history_cap as u64;
        let limit = match maxstanzas {
            Some(n) => n.min(cap),
            None if req.is_some()
                && (maxchars.is_some() || seconds.is_some() || since.is_some()) =>
            {
                cap
            }
            None => (self.config.history_length as u64).min(cap),
        };
        let mut picked = Vec::new();
        let mut chars = 0u64;
        for h in self.history.iter().rev() {
            if picked.len() as u64 >= limit {
                break;
            }
            if let Some(s) = seconds {
                let age = match h.at {
                    Some(at) => ctx.now.checked_duration_since(at).unwrap_or(Duration::ZERO),
                    None => ctx.wall.duration_since(h.stamp).unwrap_or(Duration::ZERO),
                };
                if age.as_secs() > s {
                    break;
                }
            }
            if since.is_some_and(|t| h.stamp < t) {
                break;
            }
            let len = (h.payload.bytes().len() + to.as_str().len()) as u64;
            if let Some(m) = maxchars
                && chars.saturating_add(len) > m
            {
                break;
            }
            chars = chars.saturating_add(len);
            picked.push(h);
        }
        for h in picked.into_iter().rev() {
            ctx.out.push(Delivery {
                to: to.clone(),
                payload: h.payload.clone(),
            });
        }
    }

    fn sender(&self, from: &Jid) -> Result<usize, MucError> {
        self.by_real
            .get(from)
            .copied()
            .ok_or(MucError::NotAcceptable(
                "only occupants may send to the room",
            ))
    }

    /// A `type='groupchat'` message to the room: a message to all or a
    /// subject change (XEP-0045 §7.4, §8.1).
    pub(crate) fn handle_groupchat(
        &mut self,
        ctx: &mut Ctx<'_>,
        from: &Jid,
        stanza: &Element,
    ) -> Result<(), MucError> {
        let i = self.sender(from)?;
        let Some(o) = self.occupants.get(i) else {
            return Err(MucError::NotAcceptable("gone"));
        };
        let policy = self.config.policy();
        let subject = stanza.get_child("subject", ns::CLIENT);
        let body = stanza.get_child("body", ns::CLIENT);
        if let (Some(s), None) = (subject, body) {
            if !role_may(o.role, Action::ChangeSubject, &policy) {
                return Err(MucError::Forbidden("not allowed to change the subject"));
            }
            let text = s.text();
            if text.len() > ctx.cfg.max_text_len {
                return Err(MucError::NotAcceptable("subject too long"));
            }
            self.subject = if text.is_empty() {
                None
            } else {
                Some((text, o.nick.clone()))
            };
            ctx.fx.save = true;
        } else if !role_may(o.role, Action::SendGroupchat, &policy) {
            return Err(MucError::Forbidden("no voice"));
        }
        let from_jid = o.jid.clone();
        let mut m = Element::new("message", ns::CLIENT)
            .with_attr("from", from_jid.as_str())
            .with_attr("type", "groupchat");
        for name in ["id", "xml:lang"] {
            if let Some(v) = stanza.attr(name) {
                m.set_attr(name, v);
            }
        }
        for n in stanza.nodes() {
            if let Node::Element(c) = n
                && !c.is("occupant-id", ns::OCCUPANT_ID)
                && !c.is("x", ns::MUC_USER)
                && !c.is("delay", ns::DELAY)
            {
                m.append_child(c.clone());
            }
        }
        m.append_child(occupant_id(&o.occupant_id));
        let payload = Payload::new(&m);
        ctx.out.reserve(self.occupants.len());
        for r in &self.occupants {
            ctx.out.push(Delivery {
                to: r.real.clone(),
                payload: payload.clone(),
            });
        }
        if let (Some(b), None) = (body, subject) {
            let stamp = ctx.wall;
            let hist = Payload::new(&with_delay(m, &self.jid, stamp));
            self.history.push_back(HistoryItem {
                at: Some(ctx.now),
                stamp,
                payload: hist,
            });
            while self.history.len() > ctx.cfg.history_cap {
                self.history.pop_front();
            }
            if self.config.persistent && self.config.logging {
                ctx.fx.archive.push(ArchivedMessage {
                    seq: self.next_seq,
                    stamp,
                    nick: o.nick.clone(),
                    sender: o.bare.clone(),
                    occupant_id: o.occupant_id.clone(),
                    body: b.text(),
                });
            }
            self.next_seq = self.next_seq.wrapping_add(1);
        }
        Ok(())
    }

    /// A private message to `room/nick` (XEP-0045 §7.5).
    pub(crate) fn handle_private(
        &mut self,
        ctx: &mut Ctx<'_>,
        from: &Jid,
        nick: &str,
        stanza: &Element,
    ) -> Result<(), MucError> {
        if stanza.attr("type") == Some("groupchat") {
            return Err(MucError::BadRequest("groupchat to an occupant"));
        }
        let i = self.sender(from)?;
        let Some(o) = self.occupants.get(i) else {
            return Err(MucError::NotAcceptable("gone"));
        };
        if !role_may(o.role, Action::SendPrivate, &self.config.policy()) {
            return Err(MucError::Forbidden("private messages not allowed"));
        }
        let target = self
            .occupant(nick)
            .ok_or(MucError::ItemNotFound("no such occupant"))?;
        let from_jid = o.jid.clone();
        let mut m = Element::new("message", ns::CLIENT).with_attr("from", from_jid.as_str());
        for name in ["id", "type", "xml:lang"] {
            if let Some(v) = stanza.attr(name) {
                m.set_attr(name, v);
            }
        }
        for c in stanza.children() {
            if !c.is("x", ns::MUC_USER) && !c.is("occupant-id", ns::OCCUPANT_ID) {
                m.append_child(c.clone());
            }
        }
        m.append_child(Element::new("x", ns::MUC_USER));
        m.append_child(occupant_id(&o.occupant_id));
        ctx.out.push(Delivery {
            to: target.real.clone(),
            payload: Payload::new(&m),
        });
        Ok(())
    }

    /// Mediated invitations and declines (XEP-0045 §7.8.2, §7.8.2.x).
    pub(crate) fn handle_muc_user_message(
        &mut self,
        ctx: &mut Ctx<'_>,
        from: &Jid,
        x: &Element,
    ) -> Result<(), MucError> {
        let invites: Vec<&Element> = x
            .children()
            .filter(|c| c.is("invite", ns::MUC_USER))
            .collect();
        if let Some(decline) = x.get_child("decline", ns::MUC_USER) {
            let to = decline
                .attr("to")
                .ok_or(MucError::BadRequest("decline without to"))?;
            let to = Jid::new(to).map_err(|_| MucError::JidMalformed)?;
            let mut d =
                Element::new("decline", ns::MUC_USER).with_attr("from", from.bare().as_str());
            if let Some(r) = decline.get_child("reason", ns::MUC_USER) {
                d.append_child(Element::new("reason", ns::MUC_USER).with_text(r.text()));
            }
            let m = Element::new("message", ns::CLIENT)
                .with_attr("from", self.jid.as_str())
                .with_child(Element::new("x", ns::MUC_USER).with_child(d));
            ctx.out.push(Delivery {
                to,
                payload: Payload::new(&m),
            });
            return Ok(());
        }
        if invites.is_empty() {
            return Err(MucError::BadRequest("no invite or decline"));
        }
        if invites.len() > 20 {
            return Err(MucError::NotAcceptable("too many invitations at once"));
        }
        let i = self.sender(from)?;
        let Some(o) = self.occupants.get(i) else {
            return Err(MucError::NotAcceptable("gone"));
        };
        if !role_may(o.role, Action::Invite, &self.config.policy()) {
            return Err(MucError::Forbidden("not allowed to invite"));
        }
        let inviter_aff = o.affiliation;
        let mut targets = Vec::new();
        for inv in &invites {
            let to = inv
                .attr("to")
                .ok_or(MucError::BadRequest("invite without to"))?;
            let to = Jid::new(to).map_err(|_| MucError::JidMalformed)?;
            if self.affiliation(&to.bare()) == Affiliation::Outcast {
                return Err(MucError::Forbidden("invitee is banned"));
            }
            targets.push((to, inv.get_child("reason", ns::MUC_USER).map(Element::text)));
        }
        let adds_member = self.config.members_only
            && ctx.cfg.invite_adds_member
            && (inviter_aff >= Affiliation::Admin || self.config.allow_invites);
        for (to, reason) in targets {
            if adds_member && self.affiliation(&to.bare()) == Affiliation::None {
                if self.affiliations.len() >= ctx.cfg.max_affiliations {
                    return Err(MucError::ResourceConstraint("affiliation list full"));
                }
                self.affiliations.insert(
                    to.bare(),
                    AffiliationEntry {
                        jid: to.bare(),
                        affiliation: Affiliation::Member,
                        reason: None,
                        nick: None,
                    },
                );
                ctx.fx.save = true;
            }
            let mut inv = Element::new("invite", ns::MUC_USER).with_attr("from", from.as_str());
            if let Some(r) = &reason {
                inv.append_child(Element::new("reason", ns::MUC_USER).with_text(r));
            }
            let mut x = Element::new("x", ns::MUC_USER).with_child(inv);
            if let Some(pw) = &self.config.password {
                x.append_child(Element::new("password", ns::MUC_USER).with_text(pw));
            }
            let m = Element::new("message", ns::CLIENT)
                .with_attr("from", self.jid.as_str())
                .with_child(x);
            ctx.out.push(Delivery {
                to,
                payload: Payload::new(&m),
            });
        }
        Ok(())
    }

    /// A `muc#admin` IQ (XEP-0045 §8, §9): role and affiliation lists and
    /// changes.
    pub(crate) fn handle_admin(
        &mut self,
        ctx: &mut Ctx<'_>,
        from: &Jid,
        iq: &Element,
        query: &Element,
    ) -> Result<Option<Element>, MucError> {
        let bare = from.bare();
        let actor_aff = self.effective(ctx.cfg, &bare);
        let actor = self
            .by_real
            .get(from)
            .and_then(|&i| self.occupants.get(i))
            .map(|o| (o.role, o.nick.clone()));
        let items: Vec<&Element> = query
            .children()
            .filter(|c| c.is("item", ns::MUC_ADMIN))
            .collect();
        if items.is_empty() || items.len() > 100 {
            return Err(MucError::BadRequest("item count"));
        }
        if iq.attr("type") == Some("get") {
            let Some(first) = items.first() else {
                return Err(MucError::BadRequest("no item"));
            };
            let mut out = Element::new("query", ns::MUC_ADMIN);
            if let Some(a) = first.attr("affiliation") {
                let a = Affiliation::parse(a).ok_or(MucError::BadRequest("affiliation"))?;
                let allowed = actor_aff >= Affiliation::Admin
                    || (a == Affiliation::Member
                        && actor_aff == Affiliation::Member
                        && self.config.members_can_list);
                if !allowed {
                    return Err(MucError::Forbidden("may not read this list"));
                }
                let mut list: Vec<&AffiliationEntry> = self
                    .affiliations
                    .values()
                    .filter(|e| e.affiliation == a)
                    .collect();
                list.sort_by(|x, y| x.jid.cmp(&y.jid));
                for e in list {
                    out.append_child(item(
                        &ItemInfo {
                            affiliation: Some(a),
                            jid: Some(&e.jid),
                            nick: e.nick.as_deref(),
                            reason: e.reason.as_deref(),
                            ..ItemInfo::default()
                        },
                        ns::MUC_ADMIN,
                    ));
                }
            } else if let Some(r) = first.attr("role") {
                let r = Role::parse(r).ok_or(MucError::BadRequest("role"))?;
                if actor.as_ref().map(|a| a.0) != Some(Role::Moderator) {
                    return Err(MucError::Forbidden("moderators only"));
                }
                let mut list: Vec<&Occupant> =
                    self.occupants.iter().filter(|o| o.role == r).collect();
                list.sort_by(|x, y| x.nick.cmp(&y.nick));
                for o in list {
                    out.append_child(item(
                        &ItemInfo {
                            affiliation: Some(o.affiliation),
                            role: Some(o.role),
                            jid: Some(&o.real),
                            nick: Some(&o.nick),
                            ..ItemInfo::default()
                        },
                        ns::MUC_ADMIN,
                    ));
                }
            } else {
                return Err(MucError::BadRequest("item without role or affiliation"));
            }
            return Ok(Some(out));
        }
        // set: validate every item, then apply.
        enum Change {
            Role(usize, Role, Option<String>),
            Aff(Jid, Affiliation, Option<String>),
        }
        let mut changes = Vec::new();
        let mut owners = self.owner_count();
        for it in &items {
            let reason = it.get_child("reason", ns::MUC_ADMIN).map(Element::text);
            if let Some(r) = it.attr("role") {
                let new = Role::parse(r).ok_or(MucError::BadRequest("role"))?;
                let nick = it
                    .attr("nick")
                    .ok_or(MucError::BadRequest("role change without nick"))?;
                let ti = *self
                    .by_nick
                    .get(nick)
                    .ok_or(MucError::ItemNotFound("no such occupant"))?;
                let t = self
                    .occupants
                    .get(ti)
                    .ok_or(MucError::ItemNotFound("no such occupant"))?;
                let (ar, _) = actor
                    .clone()
                    .ok_or(MucError::Forbidden("not an occupant"))?;
                check_role_change(ar, actor_aff, t.affiliation, t.role, new)?;
                changes.push(Change::Role(ti, new, reason));
            } else if let Some(a) = it.attr("affiliation") {
                let new = Affiliation::parse(a).ok_or(MucError::BadRequest("affiliation"))?;
                let j = it
                    .attr("jid")
                    .ok_or(MucError::BadRequest("affiliation change without jid"))?;
                let j = Jid::new(j).map_err(|_| MucError::JidMalformed)?.bare();
                let current = self.affiliation(&j);
                if current == Affiliation::Owner && new != Affiliation::Owner {
                    owners = owners.saturating_sub(1);
                } else if current != Affiliation::Owner && new == Affiliation::Owner {
                    owners += 1;
                }
                check_affiliation_change(actor_aff, current, new, owners)?;
                if new == Affiliation::Outcast && j == bare {
                    return Err(MucError::Conflict("cannot ban oneself"));
                }
                changes.push(Change::Aff(j, new, reason));
            } else {
                return Err(MucError::BadRequest("item without role or affiliation"));
            }
        }
        if self.affiliations.len() + changes.len() > ctx.cfg.max_affiliations {
            return Err(MucError::ResourceConstraint("affiliation list full"));
        }
        let actor_nick = actor.map(|a| a.1);
        // Role changes refer to occupant indexes: apply those first, highest
        // index first so removals do not shift pending ones.
        let mut role_changes: Vec<(usize, Role, Option<String>)> = Vec::new();
        let mut aff_changes = Vec::new();
        for c in changes {
            match c {
                Change::Role(i, r, reason) => role_changes.push((i, r, reason)),
                Change::Aff(j, a, reason) => aff_changes.push((j, a, reason)),
            }
        }
        role_changes.sort_by_key(|c| std::cmp::Reverse(c.0));
        role_changes.dedup_by_key(|c| c.0);
        for (i, r, reason) in role_changes {
            self.set_role(ctx, i, r, actor_nick.as_deref(), reason.as_deref());
        }
        for (j, a, reason) in aff_changes {
            self.set_affiliation(ctx, &j, a, actor_nick.as_deref(), reason);
        }
        Ok(None)
    }

    fn set_role(
        &mut self,
        ctx: &mut Ctx<'_>,
        i: usize,
        r: Role,
        actor: Option<&str>,
        reason: Option<&str>,
    ) {
        if r == Role::None {
            self.eject(ctx, i, Some(status::KICKED), actor, reason);
            return;
        }
        if let Some(o) = self.occupants.get_mut(i) {
            if o.role == r {
                return;
            }
            o.touched();
            o.role = r;
        }
        if let Some(o) = self.occupants.get(i) {
            let spec = Spec {
                actor,
                reason,
                ..Spec::default()
            };
            self.broadcast(ctx, o, &spec);
        }
    }

    /// Sets a bare JID's affiliation and applies it to its occupants.
    fn set_affiliation(
        &mut self,
        ctx: &mut Ctx<'_>,
        j: &Jid,
        a: Affiliation,
        actor: Option<&str>,
        reason: Option<String>,
    ) {
        let nick = self.affiliations.get(j).and_then(|e| e.nick.clone());
        if a == Affiliation::None {
            self.affiliations.remove(j);
        } else {
            self.affiliations.insert(
                j.clone(),
                AffiliationEntry {
                    jid: j.clone(),
                    affiliation: a,
                    reason: reason.clone(),
                    nick,
                },
            );
        }
        ctx.fx.save = true;
        let effective = self.effective(ctx.cfg, j);
        let mut idxs: Vec<usize> = self
            .occupants
            .iter()
            .enumerate()
            .filter(|(_, o)| o.bare == *j)
            .map(|(i, _)| i)
            .collect();
        idxs.sort_by(|x, y| y.cmp(x));
        for i in idxs {
            if let Some(o) = self.occupants.get_mut(i) {
                o.affiliation = effective;
                o.touched();
            }
            if effective == Affiliation::Outcast {
                self.eject(ctx, i, Some(status::BANNED), actor, reason.as_deref());
            } else if self.config.members_only && effective < Affiliation::Member {
                self.eject(
                    ctx,
                    i,
                    Some(status::AFFILIATION_CHANGE),
                    actor,
                    reason.as_deref(),
                );
            } else {
                let moderated = self.config.moderated;
                if let Some(o) = self.occupants.get_mut(i) {
                    o.affiliation = effective;
                    let default = effective.default_role(moderated).unwrap_or(Role::Visitor);
                    // Admins and owners moderate; losing that status drops
                    // the moderator role back to the default.
                    if effective >= Affiliation::Admin
                        || o.role == Role::Moderator
                        || default > o.role
                    {
                        o.role = default;
                    }
                }
                if let Some(o) = self.occupants.get(i) {
                    let spec = Spec {
                        actor,
                        reason: reason.as_deref(),
                        ..Spec::default()
                    };
                    self.broadcast(ctx, o, &spec);
                }
            }
        }
    }

    /// A `muc#owner` IQ (XEP-0045 §10): configuration form, submission,
    /// cancellation, destruction.
    pub(crate) fn handle_owner(
        &mut self,
        ctx: &mut Ctx<'_>,
        from: &Jid,
        iq: &Element,
        query: &Element,
    ) -> Result<Option<Element>, MucError> {
        let bare = from.bare();
        if self.effective(ctx.cfg, &bare) != Affiliation::Owner {
            return Err(MucError::Forbidden("owners only"));
        }
        if iq.attr("type") == Some("get") {
            return Ok(Some(
                Element::new("query", ns::MUC_OWNER).with_child(self.config.to_form(ctx.cfg)),
            ));
        }
        if let Some(d) = query.get_child("destroy", ns::MUC_OWNER) {
            let alt = match d.attr("jid") {
                Some(j) => Some(Jid::new(j).map_err(|_| MucError::JidMalformed)?),
                None => None,
            };
            let reason = d.get_child("reason", ns::MUC_OWNER).map(Element::text);
            let password = d.get_child("password", ns::MUC_OWNER).map(Element::text);
            self.destroy(ctx, alt.as_ref(), reason.as_deref(), password.as_deref());
            return Ok(None);
        }
        let x = query
            .get_child("x", ns::DATA)
            .ok_or(MucError::BadRequest("no form"))?;
        match x.attr("type") {
            Some("cancel") => {
                if self.locked {
                    self.destroy(ctx, None, None, None);
                }
                return Ok(None);
            }
            Some("submit") => {}
            _ => return Err(MucError::BadRequest("form type")),
        }
        let (new, lists) = self.config.apply_form(x, ctx.cfg)?;
        // Owner and admin lists from the form.
        let mut planned: Vec<(Jid, Affiliation)> = Vec::new();
        for (list, a) in [
            (lists.owners, Affiliation::Owner),
            (lists.admins, Affiliation::Admin),
        ] {
            if let Some(list) = list {
                for e in self.affiliations.values().filter(|e| e.affiliation == a) {
                    if !list.contains(&e.jid) {
                        planned.push((e.jid.clone(), Affiliation::None));
                    }
                }
                for j in list {
                    planned.push((j, a));
                }
            }
        }
        let mut owners: HashMap<Jid, bool> = self
            .affiliations
            .values()
            .map(|e| (e.jid.clone(), e.affiliation == Affiliation::Owner))
            .collect();
        for (j, a) in &planned {
            owners.insert(j.clone(), *a == Affiliation::Owner);
        }
        if !owners.values().any(|&o| o) {
            return Err(MucError::Conflict("a room keeps at least one owner"));
        }
        let old = std::mem::replace(&mut self.config, new);
        let was_locked = self.locked;
        self.locked = false;
        ctx.fx.save = true;
        for (j, a) in planned {
            self.set_affiliation(ctx, &j, a, None, None);
        }
        if !was_locked {
            let mut codes = vec![status::CONFIG_CHANGED];
            if old.logging != self.config.logging || old.persistent != self.config.persistent {
                let on = self.config.logging && self.config.persistent;
                codes.push(if on {
                    status::LOGGING_ENABLED
                } else {
                    status::LOGGING_DISABLED
                });
            }
            if old.whois != self.config.whois {
                codes.push(match self.config.whois {
                    Whois::Anyone => status::NOW_NON_ANONYMOUS,
                    Whois::Moderators => status::NOW_SEMI_ANONYMOUS,
                });
            }
            let mut x = Element::new("x", ns::MUC_USER);
            for c in codes {
                x.append_child(
                    Element::new("status", ns::MUC_USER).with_attr("code", c.to_string()),
                );
            }
            let m = Element::new("message", ns::CLIENT)
                .with_attr("from", self.jid.as_str())
                .with_attr("type", "groupchat")
                .with_child(x);
            let p = Payload::new(&m);
            for o in &self.occupants {
                ctx.out.push(Delivery {
                    to: o.real.clone(),
                    payload: p.clone(),
                });
            }
        }
        if self.config.members_only && !old.members_only {
            let mut i = self.occupants.len();
            while i > 0 {
                i -= 1;
                if self
                    .occupants
                    .get(i)
                    .is_some_and(|o| o.affiliation < Affiliation::Member)
                {
                    self.eject(ctx, i, Some(status::MEMBERS_ONLY), None, None);
                }
            }
        }
        if self.config.moderated != old.moderated {
            // Unaffiliated occupants follow the room's default role.
            let moderated = self.config.moderated;
            for i in 0..self.occupants.len() {
                let changed = match self.occupants.get_mut(i) {
                    Some(o) if o.affiliation == Affiliation::None && o.role != Role::Moderator => {
                        o.touched();
                        let r = if moderated {
                            Role::Visitor
                        } else {
                            Role::Participant
                        };
                        let c = o.role != r;
                        o.role = r;
                        c
                    }
                    _ => false,
                };
                if changed && let Some(o) = self.occupants.get(i) {
                    self.broadcast(ctx, o, &Spec::default());
                }
            }
        }
        Ok(None)
    }

    /// Destroys the room (XEP-0045 §10.9): every occupant gets an
    /// unavailable presence with `<destroy/>` and the alternate venue.
    fn destroy(
        &mut self,
        ctx: &mut Ctx<'_>,
        alt: Option<&Jid>,
        reason: Option<&str>,
        password: Option<&str>,
    ) {
        let mut d = Element::new("destroy", ns::MUC_USER);
        if let Some(a) = alt {
            d.set_attr("jid", a.as_str());
        }
        if let Some(r) = reason {
            d.append_child(Element::new("reason", ns::MUC_USER).with_text(r));
        }
        if let Some(p) = password {
            d.append_child(Element::new("password", ns::MUC_USER).with_text(p));
        }
        for o in std::mem::take(&mut self.occupants) {
            let from = o.jid.clone();
            let mut x = Element::new("x", ns::MUC_USER);
            x.append_child(item(
                &ItemInfo {
                    affiliation: Some(Affiliation::None),
                    role: Some(Role::None),
                    ..ItemInfo::default()
                },
                ns::MUC_USER,
            ));
            x.append_child(d.clone());
            let p = Element::new("presence", ns::CLIENT)
                .with_attr("from", from.as_str())
                .with_attr("type", "unavailable")
                .with_child(x);
            ctx.out.push(Delivery {
                to: o.real.clone(),
                payload: Payload::new(&p),
            });
            ctx.fx.left.push(o.real);
        }
        self.by_nick.clear();
        self.by_real.clear();
        ctx.fx.destroyed = true;
    }

    /// Removes every occupant with status `code` (332 on shutdown, 333 on
    /// an error bounce of one occupant when `only` is set).
    pub(crate) fn remove_with_code(&mut self, ctx: &mut Ctx<'_>, code: u16, only: Option<&Jid>) {
        let mut i = self.occupants.len();
        while i > 0 {
            i -= 1;
            let hit = match (only, self.occupants.get(i)) {
                (Some(j), Some(o)) => o.real == *j,
                (None, Some(_)) => true,
                _ => false,
            };
            if hit {
                self.eject_with(ctx, i, Some(code), None, None, only.is_none());
            }
        }
    }

    /// Leaves every occupant with real JID `real` (its session ended).
    pub(crate) fn session_ended(&mut self, ctx: &mut Ctx<'_>, real: &Jid) {
        if let Some(&i) = self.by_real.get(real)
            && let Some(o) = self.remove(i)
        {
            let mut gone = o;
            gone.extra.clear();
            let spec = Spec {
                unavailable: true,
                skip_self: true,
                ..Spec::default()
            };
            self.broadcast(ctx, &gone, &spec);
            ctx.fx.left.push(gone.real);
            self.after_leave(ctx);
        }
    }

    /// Room registration (XEP-0045 §7.10) and the reserved-nick query.
    pub(crate) fn handle_register(
        &mut self,
        ctx: &mut Ctx<'_>,
        from: &Jid,
        iq: &Element,
        query: &Element,
    ) -> Result<Option<Element>, MucError> {
        if !ctx.cfg.allow_registration {
            return Err(MucError::NotAllowed("registration is disabled"));
        }
        let bare = from.bare();
        let aff = self.affiliation(&bare);
        if aff == Affiliation::Outcast {
            return Err(MucError::Forbidden("banned"));
        }
        if iq.attr("type") == Some("get") {
            let mut q = Element::new("query", ns::REGISTER);
            if let Some(n) = self.affiliations.get(&bare).and_then(|e| e.nick.as_deref()) {
                q.append_child(Element::new("registered", ns::REGISTER));
                q.append_child(Element::new("username", ns::REGISTER).with_text(n));
                return Ok(Some(q));
            }
            let mut x = Element::new("x", ns::DATA).with_attr("type", "form");
            x.append_child(crate::config::hidden("FORM_TYPE", ns::REGISTER_FORM));
            x.append_child(crate::config::field(
                "muc#register_roomnick",
                "text-single",
                "Desired nickname",
                &[],
            ));
            q.append_child(x);
            return Ok(Some(q));
        }
        let x = query
            .get_child("x", ns::DATA)
            .ok_or(MucError::BadRequest("no form"))?;
        let nick = x
            .children()
            .find(|f| f.attr("var") == Some("muc#register_roomnick"))
            .and_then(|f| f.get_child("value", ns::DATA))
            .map(Element::text)
            .ok_or(MucError::NotAcceptable("nickname required"))?;
        if nick.is_empty() || nick.len() > ctx.cfg.max_nick_len {
            return Err(MucError::NotAcceptable("nickname length"));
        }
        self.occupant_jid(&nick)?;
        let taken_by_other = self
            .affiliations
            .values()
            .any(|a| a.nick.as_deref() == Some(nick.as_str()) && a.jid != bare)
            || self
                .by_nick
                .get(&nick)
                .and_then(|&i| self.occupants.get(i))
                .is_some_and(|o| o.bare != bare);
        if taken_by_other {
            return Err(MucError::Conflict("nickname reserved"));
        }
        if self.affiliations.len() >= ctx.cfg.max_affiliations {
            return Err(MucError::ResourceConstraint("affiliation list full"));
        }
        let entry = self
            .affiliations
            .entry(bare.clone())
            .or_insert(AffiliationEntry {
                jid: bare,
                affiliation: Affiliation::Member,
                reason: None,
                nick: None,
            });
        entry.nick = Some(nick);
        ctx.fx.save = true;
        Ok(None)
    }

    /// `disco#info` on the room (XEP-0045 §6.4), or the reserved-nick
    /// query with node `x-roomuser-item` (§7.12).
    pub(crate) fn disco_info(&self, from: &Jid, node: Option<&str>) -> Element {
        let mut q = Element::new("query", ns::DISCO_INFO);
        if node == Some("x-roomuser-item") {
            q.set_attr("node", "x-roomuser-item");
            if let Some(n) = self
                .affiliations
                .get(&from.bare())
                .and_then(|e| e.nick.as_deref())
            {
                q.append_child(
                    Element::new("identity", ns::DISCO_INFO)
                        .with_attr("category", "conference")
                        .with_attr("type", "text")
                        .with_attr("name", n),
                );
            }
            return q;
        }
        let c = &self.config;
        q.append_child(
            Element::new("identity", ns::DISCO_INFO)
                .with_attr("category", "conference")
                .with_attr("type", "text")
                .with_attr(
                    "name",
                    if c.name.is_empty() {
                        self.jid.local().unwrap_or("")
                    } else {
                        &c.name
                    },
                ),
        );
        let features = [
            ns::MUC,
            ns::OCCUPANT_ID,
            ns::REGISTER,
            if c.persistent {
                "muc_persistent"
            } else {
                "muc_temporary"
            },
            if c.public { "muc_public" } else { "muc_hidden" },
            if c.members_only {
                "muc_membersonly"
            } else {
                "muc_open"
            },
            if c.moderated {
                "muc_moderated"
            } else {
                "muc_unmoderated"
            },
            if c.password.is_some() {
                "muc_passwordprotected"
            } else {
                "muc_unsecured"
            },
            if c.whois == Whois::Anyone {
                "muc_nonanonymous"
            } else {
                "muc_semianonymous"
            },
        ];
        for f in features {
            q.append_child(Element::new("feature", ns::DISCO_INFO).with_attr("var", f));
        }
        let mut x = Element::new("x", ns::DATA).with_attr("type", "result");
        x.append_child(crate::config::hidden("FORM_TYPE", ns::ROOMINFO));
        x.append_child(crate::config::field(
            "muc#roominfo_description",
            "text-single",
            "Description",
            &[&c.description],
        ));
        x.append_child(crate::config::field(
            "muc#roominfo_occupants",
            "text-single",
            "Number of occupants",
            &[&self.occupants.len().to_string()],
        ));
        x.append_child(crate::config::field(
            "muc#roominfo_subject",
            "text-single",
            "Subject",
            &[self.subject.as_ref().map_or("", |s| s.0.as_str())],
        ));
        q.append_child(x);
        q
    }

    /// `disco#items` on the room: occupants' room JIDs, to occupants only.
    pub(crate) fn disco_items(&self, from: &Jid) -> Element {
        let mut q = Element::new("query", ns::DISCO_ITEMS);
        if self.by_real.contains_key(from) {
            let mut nicks: Vec<&str> = self.occupants.iter().map(|o| o.nick.as_str()).collect();
            nicks.sort_unstable();
            for n in nicks {
                if let Ok(j) = self.jid.with_resource(n) {
                    q.append_child(
                        Element::new("item", ns::DISCO_ITEMS)
                            .with_attr("jid", j.as_str())
                            .with_attr("name", n),
                    );
                }
            }
        }
        q
    }

    /// Whether `bare` may see this room in the service's item list.
    pub(crate) fn listed_for(&self, cfg: &ServiceConfig, bare: &Jid) -> bool {
        if self.locked || !self.config.public {
            return false;
        }
        if !self.config.persistent && cfg.adhoc_discoverable_by_owner_only {
            return self.effective(cfg, bare) == Affiliation::Owner;
        }
        true
    }

    /// Checks the room's invariants: at least one owner unless the room
    /// has no affiliations at all (never after creation), no outcast
    /// inside, indexes consistent, occupant count within the limit.
    pub fn check_invariants(&self, cfg: &ServiceConfig) -> Result<(), &'static str> {
        if self.owner_count() == 0 {
            return Err("room without an owner");
        }
        if self.occupants.len() > cfg.max_occupants_limit {
            return Err("too many occupants");
        }
        if self.by_nick.len() != self.occupants.len() || self.by_real.len() != self.occupants.len()
        {
            return Err("index size mismatch");
        }
        for (i, o) in self.occupants.iter().enumerate() {
            if self.effective(cfg, &o.bare) == Affiliation::Outcast
                || o.affiliation == Affiliation::Outcast
            {
                return Err("banned user inside");
            }
            if self.by_nick.get(&o.nick) != Some(&i) || self.by_real.get(&o.real) != Some(&i) {
                return Err("index mismatch");
            }
            if o.role == Role::None {
                return Err("occupant without a role");
            }
            if self.config.members_only && o.affiliation < Affiliation::Member {
                return Err("non-member in a members-only room");
            }
        }
        Ok(())
    }
}

/// Adds the XEP-0203 delay element stamped by the room.
fn with_delay(mut m: Element, room: &Jid, stamp: SystemTime) -> Element {
    m.append_child(
        Element::new("delay", ns::DELAY)
            .with_attr("from", room.as_str())
            .with_attr("stamp", format_datetime(stamp)),
    );
    m
}
