//! The MUC service (XEP-0045 §6, §10.1): room creation policy and limits,
//! discovery of the service and its rooms, routing of stanzas to rooms,
//! persistence of rooms through a [`RoomStore`], and clean-up when a
//! client's session ends.

use std::collections::HashMap;
use std::time::{Instant, SystemTime};

use xmpp_core::Jid;
use xmpp_core::xml::Element;

use crate::config::{CreationPolicy, RoomConfig, ServiceConfig};
use crate::delivery::{Delivery, Payload};
use crate::error::{MucError, StoreError};
use crate::ns;
use crate::room::{Ctx, Effects, Room};
use crate::stanza::{error_reply, iq_result, status};
use crate::store::{ArchiveQuery, ArchivedMessage, MemoryStore, RoomStore};

/// A multi-user chat service hosted at one domain (e.g.
/// `conference.example.org`), as a Sans-IO engine: stanzas in,
/// [`Delivery`] values out.
///
/// ```
/// use std::time::{Instant, SystemTime};
/// use muc::{MucService, ServiceConfig, MemoryStore};
/// use xmpp_core::{Jid, xml::Element};
///
/// let mut svc = MucService::new(
///     Jid::new("conference.example.org")?,
///     ServiceConfig::default(),
///     MemoryStore::default(),
/// ).expect("empty store loads");
/// let ann = Jid::new("ann@example.org/laptop")?;
/// let join = Element::new("presence", "jabber:client")
///     .with_attr("to", "lobby@conference.example.org/ann")
///     .with_child(Element::new("x", "http://jabber.org/protocol/muc"));
/// let out = svc.handle_stanza(Instant::now(), SystemTime::now(), &ann, join);
/// // Self-presence (110, 201: the room was created) and the empty subject.
/// assert_eq!(out.len(), 2);
/// assert!(out.iter().all(|d| d.to == ann));
/// # Ok::<(), xmpp_core::JidError>(())
/// ```
pub struct MucService<S: RoomStore = MemoryStore> {
    domain: Jid,
    cfg: ServiceConfig,
    rooms: HashMap<Jid, Room>,
    /// Real full JID → rooms it occupies.
    sessions: HashMap<Jid, Vec<Jid>>,
    store: S,
}

impl<S: RoomStore> MucService<S> {
    /// A service at `domain`, loading persistent rooms (and their recent
    /// history) from `store`.
    pub fn new(domain: Jid, cfg: ServiceConfig, store: S) -> Result<Self, StoreError> {
        let mut rooms = HashMap::new();
        for stored in store.load_rooms()? {
            let archive = store.load_archive(&stored.jid)?;
            let jid = stored.jid.bare();
            rooms.insert(jid, Room::from_stored(stored, &archive, &cfg));
        }
        Ok(MucService {
            domain: domain.domain_jid(),
            cfg,
            rooms,
            sessions: HashMap::new(),
            store,
        })
    }

    /// The service's domain JID.
    pub fn domain(&self) -> &Jid {
        &self.domain
    }
    /// The service configuration.
    pub fn config(&self) -> &ServiceConfig {
        &self.cfg
    }
    /// The room with bare JID `jid`.
    pub fn room(&self, jid: &Jid) -> Option<&Room> {
        self.rooms.get(jid)
    }
    /// Every room.
    pub fn rooms(&self) -> impl Iterator<Item = &Room> {
        self.rooms.values()
    }
    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }
    /// Consumes the service, returning its store (e.g. to restart on it).
    pub fn into_store(self) -> S {
        self.store
    }

    /// The store, mutably (to simulate or repair failures).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Searches a persistent room's archive (by text, time, sender); at
    /// most the service's history cap of results (100).
    pub fn search_archive(
        &self,
        room: &Jid,
        q: &ArchiveQuery,
    ) -> Result<Vec<ArchivedMessage>, MucError> {
        if !self.rooms.get(room).is_some_and(|r| r.config().persistent) {
            return Err(MucError::ItemNotFound("no such persistent room"));
        }
        let mut q = q.clone();
        q.limit = if q.limit == 0 {
            self.cfg.history_cap
        } else {
            q.limit.min(self.cfg.history_cap)
        };
        self.store
            .search(room, &q)
            .map_err(|_| MucError::InternalServerError("archive unavailable"))
    }

    /// Handles one stanza sent by `from` (a user's full JID) to the
    /// service or one of its rooms. `now` drives history age
    /// (`seconds`), `wall` stamps history (XEP-0203). Errors are answered
    /// with the protocol's stanza error, addressed to `from`.
    pub fn handle_stanza(
        &mut self,
        now: Instant,
        wall: SystemTime,
        from: &Jid,
        stanza: Element,
    ) -> Vec<Delivery> {
        let mut out = Vec::new();
        if let Err(e) = self.dispatch(now, wall, from, &stanza, &mut out) {
            let is_error = stanza.attr("type") == Some("error");
            let ignorable = stanza.name() == "iq" && matches!(stanza.attr("type"), Some("result"));
            if !is_error && !ignorable {
                out.push(Delivery {
                    to: from.clone(),
                    payload: Payload::new(&error_reply(&stanza, &e)),
                });
            }
        }
        out
    }

    /// The client session `full_jid` ended: it leaves every room it was
    /// in, and the remaining occupants are told.
    pub fn session_ended(
        &mut self,
        now: Instant,
        wall: SystemTime,
        full_jid: &Jid,
    ) -> Vec<Delivery> {
        let mut out = Vec::new();
        let rooms = self.sessions.remove(full_jid).unwrap_or_default();
        for rj in rooms {
            let was = self.persistent(&rj);
            let mut ctx = Ctx {
                now,
                wall,
                cfg: &self.cfg,
                out: &mut out,
                fx: Effects::default(),
            };
            if let Some(room) = self.rooms.get_mut(&rj) {
                room.session_ended(&mut ctx, full_jid);
            }
            let fx = ctx.fx;
            self.apply(&rj, fx, was);
        }
        out
    }

    /// The service is shutting down: every occupant is removed with status
    /// 332. Persistent rooms stay (empty).
    pub fn shutdown(&mut self, now: Instant, wall: SystemTime) -> Vec<Delivery> {
        let mut out = Vec::new();
        let mut jids: Vec<Jid> = self.rooms.keys().cloned().collect();
        jids.sort();
        for rj in jids {
            let was = self.persistent(&rj);
            let mut ctx = Ctx {
                now,
                wall,
                cfg: &self.cfg,
                out: &mut out,
                fx: Effects::default(),
            };
            if let Some(room) = self.rooms.get_mut(&rj) {
                room.remove_with_code(&mut ctx, status::SHUTDOWN, None);
            }
            let fx = ctx.fx;
            self.apply(&rj, fx, was);
        }
        out
    }

    fn persistent(&self, room: &Jid) -> bool {
        self.rooms
            .get(room)
            .is_some_and(|r| r.config().persistent && !r.is_locked())
    }

    fn dispatch(
        &mut self,
        now: Instant,
        wall: SystemTime,
        from: &Jid,
        stanza: &Element,
        out: &mut Vec<Delivery>,
    ) -> Result<(), MucError> {
        let to = stanza.attr("to").ok_or(MucError::JidMalformed)?;
        let to = Jid::new(to).map_err(|_| MucError::JidMalformed)?;
        if to.domain() != self.domain.domain() {
            return Err(MucError::ItemNotFound("not this service"));
        }
        let ty = stanza.attr("type");
        let room_jid = to.bare();
        if ty == Some("error") {
            // An occupant's server bounced a stanza: remove it (333).
            if to.local().is_some() {
                let was = self.persistent(&room_jid);
                let mut ctx = Ctx {
                    now,
                    wall,
                    cfg: &self.cfg,
                    out,
                    fx: Effects::default(),
                };
                if let Some(room) = self.rooms.get_mut(&room_jid) {
                    room.remove_with_code(&mut ctx, status::ERROR_REMOVAL, Some(from));
                }
                let fx = ctx.fx;
                self.apply(&room_jid, fx, was);
            }
            return Ok(());
        }
        if to.local().is_none() {
            return match stanza.name() {
                "iq" => self.service_iq(from, stanza, out),
                "presence" => Ok(()),
                _ => Err(MucError::ServiceUnavailable(
                    "the service takes no messages",
                )),
            };
        }
        let nick = to.resource();
        let was = self.persistent(&room_jid);
        let mut created = false;
        if !self.rooms.contains_key(&room_jid) {
            if stanza.name() != "presence" || nick.is_none() || ty.is_some() {
                if stanza.name() == "presence" && ty == Some("unavailable") {
                    return Ok(());
                }
                return Err(MucError::ItemNotFound("no such room"));
            }
            self.may_create(from)?;
            let room = Room::new(room_jid.clone(), RoomConfig::defaults(&self.cfg), from);
            self.rooms.insert(room_jid.clone(), room);
            created = true;
        }
        if stanza.name() == "presence"
            && ty.is_none()
            && self
                .rooms
                .get(&room_jid)
                .is_none_or(|r| r.occupant_by_jid(from).is_none())
            && self.sessions.get(from).map_or(0, Vec::len) >= self.cfg.max_rooms_per_user
        {
            if created {
                self.rooms.remove(&room_jid);
            }
            return Err(MucError::ResourceConstraint("in too many rooms"));
        }
        // Persistence pre-check for a configuration making the room persistent.
        let mut prewritten = false;
        if stanza.name() == "iq"
            && ty == Some("set")
            && nick.is_none()
            && let Some(q) = stanza.get_child("query", ns::MUC_OWNER)
            && wants_persistent(q)
            && !self
                .rooms
                .get(&room_jid)
                .is_some_and(|r| r.config().persistent)
        {
            self.check_persistent(from, &room_jid)?;
            prewritten = true;
        }
        let Some(room) = self.rooms.get_mut(&room_jid) else {
            return Err(MucError::ItemNotFound("no such room"));
        };
        let mut ctx = Ctx {
            now,
            wall,
            cfg: &self.cfg,
            out,
            fx: Effects::default(),
        };
        let result = route(room, &mut ctx, from, nick, stanza, created);
        let fx = ctx.fx;
        if result.is_err() {
            if created {
                self.rooms.remove(&room_jid);
            }
            if prewritten {
                let _ = self.store.delete_room(&room_jid);
            }
        }
        self.apply(&room_jid, fx, was || prewritten);
        result
    }

    fn may_create(&self, from: &Jid) -> Result<(), MucError> {
        let bare = from.bare();
        let admin = self.cfg.admins.contains(&bare);
        let allowed = match &self.cfg.creation {
            CreationPolicy::Anyone => true,
            CreationPolicy::Domains(d) => admin || d.iter().any(|d| d == from.domain()),
            CreationPolicy::AdminsOnly => admin,
        };
        if !allowed {
            return Err(MucError::NotAllowed("room creation is restricted"));
        }
        if self.rooms.len() >= self.cfg.max_rooms {
            return Err(MucError::ResourceConstraint("room limit reached"));
        }
        Ok(())
    }

    /// Admin restriction, persistent-room cap, and a store that accepts
    /// writes (REQUIREMENTS.md §5: with the database lost, new persistent
    /// rooms cannot be created).
    fn check_persistent(&mut self, from: &Jid, room_jid: &Jid) -> Result<(), MucError> {
        if self.cfg.persistent_requires_admin && !self.cfg.admins.contains(&from.bare()) {
            return Err(MucError::Forbidden(
                "only administrators create persistent rooms",
            ));
        }
        let count = self
            .rooms
            .values()
            .filter(|r| r.config().persistent)
            .count();
        if count >= self.cfg.max_persistent_rooms {
            return Err(MucError::ResourceConstraint(
                "persistent room limit reached",
            ));
        }
        let Some(room) = self.rooms.get(room_jid) else {
            return Ok(());
        };
        let mut rec = room.to_stored();
        rec.config.persistent = true;
        self.store
            .save_room(&rec)
            .map_err(|_| MucError::InternalServerError("storage unavailable"))
    }

    fn apply(&mut self, room_jid: &Jid, fx: Effects, was_persistent: bool) {
        for j in fx.joined {
            self.sessions.entry(j).or_default().push(room_jid.clone());
        }
        for j in fx.left {
            if let Some(list) = self.sessions.get_mut(&j) {
                list.retain(|r| r != room_jid);
                if list.is_empty() {
                    self.sessions.remove(&j);
                }
            }
        }
        if fx.destroyed {
            if let Some(r) = self.rooms.remove(room_jid) {
                for o in r.occupants() {
                    if let Some(list) = self.sessions.get_mut(o.real_jid()) {
                        list.retain(|x| x != room_jid);
                    }
                }
            }
            if was_persistent {
                // A failing store keeps the record; rooms keep running.
                let _ = self.store.delete_room(room_jid);
            }
            return;
        }
        let Some(room) = self.rooms.get(room_jid) else {
            return;
        };
        let persistent = room.config().persistent && !room.is_locked();
        if persistent && (fx.save || !was_persistent) {
            let _ = self.store.save_room(&room.to_stored());
        } else if !persistent && was_persistent {
            let _ = self.store.delete_room(room_jid);
        }
        if persistent {
            for m in fx.archive {
                // With the database lost, messages are not written.
                let _ = self.store.append_message(room_jid, &m);
            }
        }
    }

    fn service_iq(
        &self,
        from: &Jid,
        iq: &Element,
        out: &mut Vec<Delivery>,
    ) -> Result<(), MucError> {
        if !matches!(iq.attr("type"), Some("get") | Some("set")) {
            return Ok(());
        }
        let get = iq.attr("type") == Some("get");
        let payload = if let (true, Some(_)) = (get, iq.get_child("query", ns::DISCO_INFO)) {
            let mut q = Element::new("query", ns::DISCO_INFO);
            q.append_child(
                Element::new("identity", ns::DISCO_INFO)
                    .with_attr("category", "conference")
                    .with_attr("type", "text")
                    .with_attr("name", "Chatrooms"),
            );
            for f in [ns::DISCO_INFO, ns::DISCO_ITEMS, ns::MUC, ns::OCCUPANT_ID] {
                q.append_child(Element::new("feature", ns::DISCO_INFO).with_attr("var", f));
            }
            q
        } else if let (true, Some(_)) = (get, iq.get_child("query", ns::DISCO_ITEMS)) {
            let bare = from.bare();
            let mut listed: Vec<&Room> = self
                .rooms
                .values()
                .filter(|r| r.listed_for(&self.cfg, &bare))
                .collect();
            listed.sort_by(|a, b| a.jid().cmp(b.jid()));
            let mut q = Element::new("query", ns::DISCO_ITEMS);
            for r in listed {
                let name = if r.config().name.is_empty() {
                    r.jid().local().unwrap_or("")
                } else {
                    &r.config().name
                };
                q.append_child(
                    Element::new("item", ns::DISCO_ITEMS)
                        .with_attr("jid", r.jid().as_str())
                        .with_attr("name", name),
                );
            }
            q
        } else {
            return Err(MucError::ServiceUnavailable("unsupported request"));
        };
        out.push(Delivery {
            to: from.clone(),
            payload: Payload::new(&iq_result(iq, Some(payload))),
        });
        Ok(())
    }
}

fn wants_persistent(q: &Element) -> bool {
    q.get_child("x", ns::DATA).is_some_and(|x| {
        x.attr("type") == Some("submit")
            && x.children().any(|f| {
                f.attr("var") == Some("muc#roomconfig_persistentroom")
                    && f.get_child("value", ns::DATA)
                        .is_some_and(|v| matches!(v.text().trim(), "1" | "true"))
            })
    })
}

/// Routes a stanza addressed to an existing room.
fn route(
    room: &mut Room,
    ctx: &mut Ctx<'_>,
    from: &Jid,
    nick: Option<&str>,
    stanza: &Element,
    created: bool,
) -> Result<(), MucError> {
    match stanza.name() {
        "presence" => {
            let nick = nick.ok_or(MucError::JidMalformed)?;
            room.handle_presence(ctx, from, nick, stanza, created)
        }
        "message" => {
            if room.is_locked() && room.occupant_by_jid(from).is_none() {
                return Err(MucError::ItemNotFound("room is locked"));
            }
            if let Some(nick) = nick {
                return room.handle_private(ctx, from, nick, stanza);
            }
            if stanza.attr("type") == Some("groupchat") {
                return room.handle_groupchat(ctx, from, stanza);
            }
            match stanza.get_child("x", ns::MUC_USER) {
                Some(x) => room.handle_muc_user_message(ctx, from, x),
                None => Err(MucError::NotAcceptable("unsupported message to the room")),
            }
        }
        "iq" => {
            let ty = stanza.attr("type");
            if !matches!(ty, Some("get") | Some("set")) {
                return Ok(());
            }
            if nick.is_some() {
                return Err(MucError::ServiceUnavailable(
                    "requests to occupants are not relayed",
                ));
            }
            let owner = room.affiliation(&from.bare()) == crate::model::Affiliation::Owner
                || ctx.cfg.admins.contains(&from.bare());
            if room.is_locked() && !owner {
                return Err(MucError::ItemNotFound("room is locked"));
            }
            let get = ty == Some("get");
            let payload = if let Some(q) = stanza.get_child("query", ns::MUC_ADMIN) {
                room.handle_admin(ctx, from, stanza, q)?
            } else if let Some(q) = stanza.get_child("query", ns::MUC_OWNER) {
                room.handle_owner(ctx, from, stanza, q)?
            } else if let Some(q) = stanza.get_child("query", ns::REGISTER) {
                room.handle_register(ctx, from, stanza, q)?
            } else if let (true, Some(q)) = (get, stanza.get_child("query", ns::DISCO_INFO)) {
                Some(room.disco_info(from, q.attr("node")))
            } else if let (true, Some(_)) = (get, stanza.get_child("query", ns::DISCO_ITEMS)) {
                Some(room.disco_items(from))
            } else {
                return Err(MucError::ServiceUnavailable("unsupported request"));
            };
            ctx.out.push(Delivery {
                to: from.clone(),
                payload: Payload::new(&iq_result(stanza, payload)),
            });
            Ok(())
        }
        _ => Err(MucError::BadRequest("not a stanza")),
    }
}
