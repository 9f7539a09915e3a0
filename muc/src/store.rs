//! Persistent rooms (REQUIREMENTS.md §5 "Persistent rooms outlive
//! occupants, keep searchable archives"): the [`RoomStore`] trait, records
//! that encode to bytes so a key-value store can hold them, and the
//! in-memory [`MemoryStore`].
//!
//! A key-value backend needs two key spaces: `room/<room jid>` holding
//! [`StoredRoom::to_bytes`], and `archive/<room jid>/<seq>` holding
//! [`ArchivedMessage::to_bytes`] with `seq` big-endian so keys sort in
//! arrival order. [`RoomStore::search`] has a default implementation over
//! [`RoomStore::load_archive`].

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use xmpp_core::Jid;
use xmpp_core::xml::{Element, Limits, NsContext, parse_element, to_bytes};

use crate::config::{RoomConfig, Whois};
use crate::error::StoreError;
use crate::model::{Affiliation, PmPolicy};

const NS: &str = "urn:imp:muc:store:0";

/// A room's durable state: configuration, affiliations, subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRoom {
    /// The room's bare JID.
    pub jid: Jid,
    /// Its configuration.
    pub config: RoomConfig,
    /// Affiliation list entries (bare JID, affiliation, reason, registered nick).
    pub affiliations: Vec<AffiliationEntry>,
    /// The current subject and the nick that set it.
    pub subject: Option<(String, String)>,
}

/// One entry of a room's affiliation lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffiliationEntry {
    /// The user's bare JID.
    pub jid: Jid,
    /// The affiliation.
    pub affiliation: Affiliation,
    /// Reason given when it was set, if any.
    pub reason: Option<String>,
    /// Registered (reserved) nickname, if any (XEP-0045 §7.10).
    pub nick: Option<String>,
}

/// One archived groupchat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedMessage {
    /// Sequence number within the room, increasing.
    pub seq: u64,
    /// When the room received it.
    pub stamp: SystemTime,
    /// The sender's nickname at the time.
    pub nick: String,
    /// The sender's bare real JID.
    pub sender: Jid,
    /// The sender's occupant-id (XEP-0421).
    pub occupant_id: String,
    /// The message body.
    pub body: String,
}

/// An archive search (REQUIREMENTS.md §5: at most 100 results).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveQuery {
    /// Case-insensitive substring of the body.
    pub text: Option<String>,
    /// Only messages at or after this time.
    pub since: Option<SystemTime>,
    /// Only messages before this time.
    pub until: Option<SystemTime>,
    /// Only messages whose sender's bare JID or nickname equals this.
    pub sender: Option<String>,
    /// Maximum results (the service caps it at its history cap); the most
    /// recent matches are returned, oldest first.
    pub limit: usize,
}

impl ArchiveQuery {
    /// Whether `m` matches the filters (limit aside).
    pub fn matches(&self, m: &ArchivedMessage) -> bool {
        if let Some(t) = &self.text
            && !m.body.to_lowercase().contains(&t.to_lowercase())
        {
            return false;
        }
        if self.since.is_some_and(|s| m.stamp < s) || self.until.is_some_and(|u| m.stamp >= u) {
            return false;
        }
        if let Some(s) = &self.sender
            && m.sender.as_str() != s
            && m.nick != *s
        {
            return false;
        }
        true
    }
}

/// Durable storage of persistent rooms and their archives.
///
/// Calls are synchronous and expected to be fast (an embedded store or a
/// write-behind cache). A failing store does not stop rooms: messages are
/// then not archived and new persistent rooms cannot be created
/// (REQUIREMENTS.md §5 "Failures").
pub trait RoomStore {
    /// Every stored room, for loading at start.
    fn load_rooms(&self) -> Result<Vec<StoredRoom>, StoreError>;
    /// Inserts or replaces a room's record.
    fn save_room(&mut self, room: &StoredRoom) -> Result<(), StoreError>;
    /// Removes a room and its archive.
    fn delete_room(&mut self, room: &Jid) -> Result<(), StoreError>;
    /// Appends a message to a room's archive.
    fn append_message(&mut self, room: &Jid, msg: &ArchivedMessage) -> Result<(), StoreError>;
    /// A room's archive, oldest first.
    fn load_archive(&self, room: &Jid) -> Result<Vec<ArchivedMessage>, StoreError>;
    /// Searches a room's archive; the default scans [`RoomStore::load_archive`].
    fn search(&self, room: &Jid, q: &ArchiveQuery) -> Result<Vec<ArchivedMessage>, StoreError> {
        let all = self.load_archive(room)?;
        let mut hits: Vec<ArchivedMessage> = all.into_iter().filter(|m| q.matches(m)).collect();
        let skip = hits.len().saturating_sub(q.limit);
        hits.drain(..skip);
        Ok(hits)
    }
}

/// An in-memory [`RoomStore`] keeping at most `max_archive` messages per
/// room (oldest dropped first). Records are kept encoded, exactly as a
/// key-value store would hold them, so encoding is exercised too.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    rooms: BTreeMap<String, Bytes>,
    archives: BTreeMap<String, std::collections::VecDeque<Bytes>>,
    max_archive: usize,
    fail: bool,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new(10_000)
    }
}

impl MemoryStore {
    /// An empty store keeping up to `max_archive` messages per room.
    pub fn new(max_archive: usize) -> MemoryStore {
        MemoryStore {
            rooms: BTreeMap::new(),
            archives: BTreeMap::new(),
            max_archive,
            fail: false,
        }
    }

    /// Makes every later call fail (or succeed again), to simulate a lost
    /// database.
    pub fn set_failing(&mut self, fail: bool) {
        self.fail = fail;
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.fail {
            Err(StoreError::Backend("store marked failing".into()))
        } else {
            Ok(())
        }
    }
}

impl RoomStore for MemoryStore {
    fn load_rooms(&self) -> Result<Vec<StoredRoom>, StoreError> {
        self.check()?;
        self.rooms
            .values()
            .map(|b| StoredRoom::from_bytes(b))
            .collect()
    }

    fn save_room(&mut self, room: &StoredRoom) -> Result<(), StoreError> {
        self.check()?;
        self.rooms
            .insert(room.jid.as_str().to_owned(), room.to_bytes());
        Ok(())
    }

    fn delete_room(&mut self, room: &Jid) -> Result<(), StoreError> {
        self.check()?;
        self.rooms.remove(room.as_str());
        self.archives.remove(room.as_str());
        Ok(())
    }

    fn append_message(&mut self, room: &Jid, msg: &ArchivedMessage) -> Result<(), StoreError> {
        self.check()?;
        let a = self.archives.entry(room.as_str().to_owned()).or_default();
        a.push_back(msg.to_bytes());
        while a.len() > self.max_archive {
            a.pop_front();
        }
        Ok(())
    }

    fn load_archive(&self, room: &Jid) -> Result<Vec<ArchivedMessage>, StoreError> {
        self.check()?;
        self.archives
            .get(room.as_str())
            .map(|a| a.iter().map(|b| ArchivedMessage::from_bytes(b)).collect())
            .unwrap_or(Ok(Vec::new()))
    }
}

fn parse(b: &[u8]) -> Result<Element, StoreError> {
    parse_element(b, &NsContext::stream(""), &Limits::default())
        .map_err(|_| StoreError::Corrupt("not well-formed"))
}

fn flag(b: bool) -> &'static str {
    if b { "1" } else { "0" }
}

fn get<'a>(e: &'a Element, name: &str) -> Result<&'a str, StoreError> {
    e.attr(name).ok_or(StoreError::Corrupt("missing attribute"))
}

fn get_bool(e: &Element, name: &str) -> Result<bool, StoreError> {
    match get(e, name)? {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(StoreError::Corrupt("bad flag")),
    }
}

fn get_num<T: std::str::FromStr>(e: &Element, name: &str) -> Result<T, StoreError> {
    get(e, name)?
        .parse()
        .map_err(|_| StoreError::Corrupt("bad number"))
}

fn get_jid(e: &Element, name: &str) -> Result<Jid, StoreError> {
    Jid::new(get(e, name)?).map_err(|_| StoreError::Corrupt("bad jid"))
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl StoredRoom {
    /// Encodes the record (an XML element, self-describing and versioned
    /// by its namespace).
    pub fn to_bytes(&self) -> Bytes {
        let c = &self.config;
        let mut e = Element::new("room", NS)
            .with_attr("jid", self.jid.as_str())
            .with_attr("name", c.name.as_str())
            .with_attr("desc", c.description.as_str())
            .with_attr("persistent", flag(c.persistent))
            .with_attr("public", flag(c.public))
            .with_attr("membersonly", flag(c.members_only))
            .with_attr("moderated", flag(c.moderated))
            .with_opt_attr("password", c.password.as_deref())
            .with_attr("maxusers", c.max_occupants.to_string())
            .with_attr("semianonymous", flag(c.whois == Whois::Moderators))
            .with_attr("allowinvites", flag(c.allow_invites))
            .with_attr("changesubject", flag(c.change_subject))
            .with_attr("allowpm", c.allow_pm.as_str())
            .with_attr("history", c.history_length.to_string())
            .with_attr("logging", flag(c.logging))
            .with_attr("memberlist", flag(c.members_can_list));
        if let Some((subject, by)) = &self.subject {
            e.append_child(
                Element::new("subject", NS)
                    .with_attr("by", by.as_str())
                    .with_text(subject),
            );
        }
        for a in &self.affiliations {
            e.append_child(
                Element::new("aff", NS)
                    .with_attr("jid", a.jid.as_str())
                    .with_attr("a", a.affiliation.as_str())
                    .with_opt_attr("reason", a.reason.as_deref())
                    .with_opt_attr("nick", a.nick.as_deref()),
            );
        }
        to_bytes(&e, "")
    }

    /// Decodes a record written by [`StoredRoom::to_bytes`].
    pub fn from_bytes(b: &[u8]) -> Result<StoredRoom, StoreError> {
        let e = parse(b)?;
        if !e.is("room", NS) {
            return Err(StoreError::Corrupt("not a room record"));
        }
        let config = RoomConfig {
            name: get(&e, "name")?.to_owned(),
            description: get(&e, "desc")?.to_owned(),
            persistent: get_bool(&e, "persistent")?,
            public: get_bool(&e, "public")?,
            members_only: get_bool(&e, "membersonly")?,
            moderated: get_bool(&e, "moderated")?,
            password: e.attr("password").map(str::to_owned),
            max_occupants: get_num(&e, "maxusers")?,
            whois: if get_bool(&e, "semianonymous")? {
                Whois::Moderators
            } else {
                Whois::Anyone
            },
            allow_invites: get_bool(&e, "allowinvites")?,
            change_subject: get_bool(&e, "changesubject")?,
            allow_pm: PmPolicy::parse(get(&e, "allowpm")?)
                .ok_or(StoreError::Corrupt("bad allowpm"))?,
            history_length: get_num(&e, "history")?,
            logging: get_bool(&e, "logging")?,
            members_can_list: get_bool(&e, "memberlist")?,
        };
        let mut affiliations = Vec::new();
        let mut subject = None;
        for c in e.children() {
            if c.is("aff", NS) {
                affiliations.push(AffiliationEntry {
                    jid: get_jid(c, "jid")?,
                    affiliation: Affiliation::parse(get(c, "a")?)
                        .ok_or(StoreError::Corrupt("bad affiliation"))?,
                    reason: c.attr("reason").map(str::to_owned),
                    nick: c.attr("nick").map(str::to_owned),
                });
            } else if c.is("subject", NS) {
                subject = Some((c.text(), get(c, "by")?.to_owned()));
            }
        }
        Ok(StoredRoom {
            jid: get_jid(&e, "jid")?,
            config,
            affiliations,
            subject,
        })
    }
}

impl ArchivedMessage {
    /// Encodes the record.
    pub fn to_bytes(&self) -> Bytes {
        let e = Element::new("msg", NS)
            .with_attr("seq", self.seq.to_string())
            .with_attr("ms", millis(self.stamp).to_string())
            .with_attr("nick", self.nick.as_str())
            .with_attr("from", self.sender.as_str())
            .with_attr("oid", self.occupant_id.as_str())
            .with_text(&self.body);
        to_bytes(&e, "")
    }

    /// Decodes a record written by [`ArchivedMessage::to_bytes`].
    pub fn from_bytes(b: &[u8]) -> Result<ArchivedMessage, StoreError> {
        let e = parse(b)?;
        if !e.is("msg", NS) {
            return Err(StoreError::Corrupt("not a message record"));
        }
        Ok(ArchivedMessage {
            seq: get_num(&e, "seq")?,
            stamp: UNIX_EPOCH + Duration::from_millis(get_num(&e, "ms")?),
            nick: get(&e, "nick")?.to_owned(),
            sender: get_jid(&e, "from")?,
            occupant_id: get(&e, "oid")?.to_owned(),
            body: e.text(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ServiceConfig;

    fn msg(seq: u64, secs: u64, nick: &str, from: &str, body: &str) -> ArchivedMessage {
        ArchivedMessage {
            seq,
            stamp: UNIX_EPOCH + Duration::from_secs(secs),
            nick: nick.into(),
            sender: Jid::new(from).unwrap(),
            occupant_id: format!("id-{nick}"),
            body: body.into(),
        }
    }

    #[test]
    fn room_record_round_trips() {
        let mut config = RoomConfig::defaults(&ServiceConfig::default());
        config.name = "Design <team> & \"friends\"".into();
        config.persistent = true;
        config.password = Some("s3cret".into());
        config.allow_pm = PmPolicy::Participants;
        let room = StoredRoom {
            jid: Jid::new("design@muc.example.org").unwrap(),
            config,
            affiliations: vec![
                AffiliationEntry {
                    jid: Jid::new("ann@example.org").unwrap(),
                    affiliation: Affiliation::Owner,
                    reason: None,
                    nick: Some("ann".into()),
                },
                AffiliationEntry {
                    jid: Jid::new("troll@example.net").unwrap(),
                    affiliation: Affiliation::Outcast,
                    reason: Some("spam\nagain".into()),
                    nick: None,
                },
            ],
            subject: Some(("Release 2 planning".into(), "ann".into())),
        };
        assert_eq!(StoredRoom::from_bytes(&room.to_bytes()).unwrap(), room);
        assert!(StoredRoom::from_bytes(b"<room/>").is_err());
        assert!(StoredRoom::from_bytes(b"garbage").is_err());
        assert!(ArchivedMessage::from_bytes(&room.to_bytes()).is_err());
    }

    #[test]
    fn memory_store_saves_archives_and_searches() {
        let mut s = MemoryStore::new(4);
        let room = Jid::new("r@muc.example.org").unwrap();
        let stored = StoredRoom {
            jid: room.clone(),
            config: RoomConfig::defaults(&ServiceConfig::default()),
            affiliations: vec![],
            subject: None,
        };
        s.save_room(&stored).unwrap();
        assert_eq!(s.load_rooms().unwrap(), vec![stored]);
        let msgs = [
            msg(1, 100, "ann", "ann@example.org", "Hello World"),
            msg(2, 200, "bob", "bob@example.org", "hello again"),
            msg(3, 300, "ann", "ann@example.org", "lunch?"),
            msg(4, 400, "cy", "cy@example.org", "HELLO from cy"),
            msg(5, 500, "bob", "bob@example.org", "bye"),
        ];
        for m in &msgs {
            s.append_message(&room, m).unwrap();
        }
        // The oldest message fell off the 4-message archive.
        assert_eq!(s.load_archive(&room).unwrap(), msgs[1..].to_vec());
        let q = |text: Option<&str>,
                 since: Option<u64>,
                 until: Option<u64>,
                 sender: Option<&str>,
                 limit| ArchiveQuery {
            text: text.map(Into::into),
            since: since.map(|t| UNIX_EPOCH + Duration::from_secs(t)),
            until: until.map(|t| UNIX_EPOCH + Duration::from_secs(t)),
            sender: sender.map(Into::into),
            limit,
        };
        let seqs = |q: ArchiveQuery| {
            s.search(&room, &q)
                .unwrap()
                .iter()
                .map(|m| m.seq)
                .collect::<Vec<_>>()
        };
        assert_eq!(seqs(q(Some("hello"), None, None, None, 100)), vec![2, 4]);
        assert_eq!(seqs(q(None, Some(300), None, None, 100)), vec![3, 4, 5]);
        assert_eq!(seqs(q(None, Some(200), Some(400), None, 100)), vec![2, 3]);
        assert_eq!(
            seqs(q(None, None, None, Some("bob@example.org"), 100)),
            vec![2, 5]
        );
        assert_eq!(seqs(q(None, None, None, Some("ann"), 100)), vec![3]);
        assert_eq!(seqs(q(None, None, None, None, 2)), vec![4, 5]);
        s.delete_room(&room).unwrap();
        assert!(s.load_rooms().unwrap().is_empty());
        assert!(s.load_archive(&room).unwrap().is_empty());
        s.set_failing(true);
        assert!(
            s.save_room(&StoredRoom {
                jid: room.clone(),
                config: RoomConfig::defaults(&ServiceConfig::default()),
                affiliations: vec![],
                subject: None,
            })
            .is_err()
        );
    }
}
