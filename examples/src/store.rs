//! Disk storage for the example XMPP server: the hub's rosters (with
//! pending subscription requests), offline messages and authorization
//! policies in one embedded [redb] database file, so a restart loses
//! nothing.
//!
//! Rosters and offline messages are kept as XML text written and read with
//! `xmpp-core`'s own serializer and parser; policies as lines of text
//! (`default allow|block`, `askme on|off`, `allow ENTRY`, `block ENTRY`).

use std::path::Path;
use std::sync::Arc;

use presence_model::address::Address;
use presence_model::authz::{DefaultPolicy, Entry, PolicyLimits, PolicyStore, UserPolicy};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use xmpp_core::im::{OfflineStore, Roster, RosterItem, RosterStore, StoreError, Subscription};
use xmpp_core::jid::Jid;
use xmpp_core::ns;
use xmpp_core::xml::{Element, Limits, NsContext, parse_element, to_bytes};

const ROSTERS: TableDefinition<'_, &str, &str> = TableDefinition::new("rosters");
const OFFLINE: TableDefinition<'_, (&str, u64), &str> = TableDefinition::new("offline");
const POLICIES: TableDefinition<'_, &str, &str> = TableDefinition::new("policies");
const MUC_ROOMS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("muc_rooms");
const MUC_ARCHIVE: TableDefinition<'_, (&str, u64), &[u8]> = TableDefinition::new("muc_archive");

/// The namespace of the stored roster document (private to this store).
const STORE_NS: &str = "urn:imp:example:store";

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

/// The database file, shared by the three stores.
#[derive(Clone)]
pub struct DiskDb(Arc<Database>);

impl DiskDb {
    /// Opens (or creates) `dir/imp.redb`, creating `dir` if needed.
    pub fn open(dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join("imp.redb");
        let db = Database::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let txn = db.begin_write().map_err(|e| e.to_string())?;
        {
            txn.open_table(ROSTERS).map_err(|e| e.to_string())?;
            txn.open_table(OFFLINE).map_err(|e| e.to_string())?;
            txn.open_table(POLICIES).map_err(|e| e.to_string())?;
            txn.open_table(MUC_ROOMS).map_err(|e| e.to_string())?;
            txn.open_table(MUC_ARCHIVE).map_err(|e| e.to_string())?;
        }
        txn.commit().map_err(|e| e.to_string())?;
        Ok(Self(Arc::new(db)))
    }

    /// The roster store over this database.
    pub fn rosters(&self) -> DiskRosters {
        DiskRosters(self.0.clone())
    }

    /// The offline message store over this database.
    pub fn offline(&self) -> DiskOffline {
        DiskOffline(self.0.clone())
    }

    /// The MUC room store (persistent rooms and their archives).
    pub fn rooms(&self) -> DiskRooms {
        DiskRooms(self.0.clone())
    }

    /// The policy store over this database.
    pub fn policies(&self) -> DiskPolicies {
        DiskPolicies(self.0.clone())
    }
}

fn get_text(
    db: &Database,
    table: TableDefinition<'_, &str, &str>,
    key: &str,
) -> Result<Option<String>, StoreError> {
    let txn = db.begin_read().map_err(err)?;
    let t = txn.open_table(table).map_err(err)?;
    Ok(t.get(key).map_err(err)?.map(|v| v.value().to_owned()))
}

fn put_text(
    db: &Database,
    table: TableDefinition<'_, &str, &str>,
    key: &str,
    value: Option<&str>,
) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(err)?;
    {
        let mut t = txn.open_table(table).map_err(err)?;
        match value {
            Some(v) => {
                t.insert(key, v).map_err(err)?;
            }
            None => {
                t.remove(key).map_err(err)?;
            }
        }
    }
    txn.commit().map_err(err)
}

fn parse_stored(text: &str, default_ns: &str) -> Result<Element, StoreError> {
    let ctx = NsContext {
        default_ns: default_ns.to_owned(),
        prefixes: Vec::new(),
    };
    let limits = Limits {
        max_stanza_bytes: usize::MAX,
        max_text_bytes: usize::MAX,
        ..Limits::default()
    };
    parse_element(text.as_bytes(), &ctx, &limits).map_err(err)
}

/// Rosters in the `rosters` table, one XML document per user.
pub struct DiskRosters(Arc<Database>);

impl RosterStore for DiskRosters {
    fn load(&self, user: &Jid) -> Result<Roster, StoreError> {
        let Some(text) = get_text(&self.0, ROSTERS, user.as_str())? else {
            return Ok(Roster::default());
        };
        let doc = parse_stored(&text, "")?;
        let mut roster = Roster {
            ver: doc.attr("ver").and_then(|v| v.parse().ok()).unwrap_or(0),
            ..Roster::default()
        };
        for e in doc.children() {
            let Some(jid) = e.attr("jid").and_then(|j| Jid::new(j).ok()) else {
                continue;
            };
            if e.name() == "pending" {
                let status = e.attr("status").map(str::to_owned);
                roster.pending_in.insert(jid, status);
                continue;
            }
            let item = RosterItem {
                name: e.attr("name").map(str::to_owned),
                groups: e
                    .children()
                    .filter(|g| g.name() == "group")
                    .map(Element::text)
                    .collect(),
                subscription: e
                    .attr("subscription")
                    .and_then(Subscription::parse)
                    .unwrap_or_default(),
                ask: e.attr("ask").is_some(),
                approved: e.attr("approved").is_some(),
            };
            roster.items.insert(jid, item);
        }
        Ok(roster)
    }

    fn save(&mut self, user: &Jid, roster: &Roster) -> Result<(), StoreError> {
        let mut doc = Element::new("roster", STORE_NS).with_attr("ver", roster.ver.to_string());
        for jid in roster.items.keys() {
            let item = roster.item_element(jid);
            // Re-home the item into the store's namespace.
            let mut copy = Element::new("item", STORE_NS);
            for a in item.attrs() {
                copy.set_attr(a.name.clone(), a.value.clone());
            }
            for g in item.children() {
                copy.append_child(Element::new("group", STORE_NS).with_text(g.text()));
            }
            doc.append_child(copy);
        }
        for (jid, status) in &roster.pending_in {
            doc.append_child(
                Element::new("pending", STORE_NS)
                    .with_attr("jid", jid.as_str())
                    .with_opt_attr("status", status.clone()),
            );
        }
        let bytes = to_bytes(&doc, "");
        let text = std::str::from_utf8(&bytes).map_err(err)?;
        put_text(&self.0, ROSTERS, user.as_str(), Some(text))
    }
}

/// Offline messages in the `offline` table, keyed by (user, sequence).
pub struct DiskOffline(Arc<Database>);

impl OfflineStore for DiskOffline {
    fn count(&self, user: &Jid) -> Result<usize, StoreError> {
        let txn = self.0.begin_read().map_err(err)?;
        let t = txn.open_table(OFFLINE).map_err(err)?;
        let range = t
            .range((user.as_str(), 0)..=(user.as_str(), u64::MAX))
            .map_err(err)?;
        Ok(range.count())
    }

    fn total(&self) -> Result<usize, StoreError> {
        let txn = self.0.begin_read().map_err(err)?;
        let t = txn.open_table(OFFLINE).map_err(err)?;
        let n = t.len().map_err(err)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn push(&mut self, user: &Jid, message: Element) -> Result<(), StoreError> {
        let bytes = to_bytes(&message, ns::CLIENT);
        let text = std::str::from_utf8(&bytes).map_err(err)?;
        let txn = self.0.begin_write().map_err(err)?;
        {
            let mut t = txn.open_table(OFFLINE).map_err(err)?;
            let last = t
                .range((user.as_str(), 0)..=(user.as_str(), u64::MAX))
                .map_err(err)?
                .next_back()
                .transpose()
                .map_err(err)?
                .map(|(k, _)| k.value().1);
            let seq = last.map_or(0, |n| n.saturating_add(1));
            t.insert((user.as_str(), seq), text).map_err(err)?;
        }
        txn.commit().map_err(err)
    }

    fn take_all(&mut self, user: &Jid) -> Result<Vec<Element>, StoreError> {
        let txn = self.0.begin_write().map_err(err)?;
        let mut out = Vec::new();
        {
            let mut t = txn.open_table(OFFLINE).map_err(err)?;
            let mut keys = Vec::new();
            for row in t
                .range((user.as_str(), 0)..=(user.as_str(), u64::MAX))
                .map_err(err)?
            {
                let (k, v) = row.map_err(err)?;
                keys.push(k.value().1);
                out.push(parse_stored(v.value(), ns::CLIENT)?);
            }
            for k in keys {
                t.remove((user.as_str(), k)).map_err(err)?;
            }
        }
        txn.commit().map_err(err)?;
        Ok(out)
    }
}

/// Authorization policies in the `policies` table, as lines of text.
pub struct DiskPolicies(Arc<Database>);

impl PolicyStore for DiskPolicies {
    type Error = StoreError;

    fn get(&self, user: &Address) -> Result<Option<UserPolicy>, StoreError> {
        let Some(text) = get_text(&self.0, POLICIES, &user.to_string())? else {
            return Ok(None);
        };
        let limits = PolicyLimits {
            max_list_entries: usize::MAX,
        };
        let mut p = UserPolicy::default();
        for line in text.lines() {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "default" if value == "block" => p.set_default_policy(DefaultPolicy::BlockAll),
                "askme" => p.set_ask_me_for_external(value == "on"),
                "allow" | "block" => {
                    let entry: Entry = value.parse().map_err(err)?;
                    if key == "allow" {
                        p.allow(entry, &limits).map_err(err)?;
                    } else {
                        p.block(entry, &limits).map_err(err)?;
                    }
                }
                _ => {}
            }
        }
        Ok(Some(p))
    }

    fn put(&mut self, user: &Address, policy: UserPolicy) -> Result<(), StoreError> {
        let mut text = String::new();
        let default = match policy.default_policy() {
            DefaultPolicy::AllowAll => "allow",
            DefaultPolicy::BlockAll => "block",
        };
        text.push_str(&format!("default {default}\n"));
        let askme = if policy.ask_me_for_external() {
            "on"
        } else {
            "off"
        };
        text.push_str(&format!("askme {askme}\n"));
        for e in policy.allowed() {
            text.push_str(&format!("allow {e}\n"));
        }
        for e in policy.blocked() {
            text.push_str(&format!("block {e}\n"));
        }
        put_text(&self.0, POLICIES, &user.to_string(), Some(&text))
    }

    fn remove(&mut self, user: &Address) -> Result<Option<UserPolicy>, StoreError> {
        let old = self.get(user)?;
        put_text(&self.0, POLICIES, &user.to_string(), None)?;
        Ok(old)
    }
}

fn muc_err(e: impl std::fmt::Display) -> muc::StoreError {
    muc::StoreError::Backend(e.to_string())
}

/// Persistent MUC rooms in `muc_rooms` (one record per room) and their
/// archives in `muc_archive`, keyed by (room, sequence).
pub struct DiskRooms(Arc<Database>);

impl muc::RoomStore for DiskRooms {
    fn load_rooms(&self) -> Result<Vec<muc::StoredRoom>, muc::StoreError> {
        let txn = self.0.begin_read().map_err(muc_err)?;
        let t = txn.open_table(MUC_ROOMS).map_err(muc_err)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(muc_err)? {
            let (_, v) = row.map_err(muc_err)?;
            out.push(muc::StoredRoom::from_bytes(v.value())?);
        }
        Ok(out)
    }

    fn save_room(&mut self, room: &muc::StoredRoom) -> Result<(), muc::StoreError> {
        let bytes = room.to_bytes();
        let txn = self.0.begin_write().map_err(muc_err)?;
        {
            let mut t = txn.open_table(MUC_ROOMS).map_err(muc_err)?;
            t.insert(room.jid.as_str(), &bytes[..]).map_err(muc_err)?;
        }
        txn.commit().map_err(muc_err)
    }

    fn delete_room(&mut self, room: &Jid) -> Result<(), muc::StoreError> {
        let txn = self.0.begin_write().map_err(muc_err)?;
        {
            let mut t = txn.open_table(MUC_ROOMS).map_err(muc_err)?;
            t.remove(room.as_str()).map_err(muc_err)?;
            let mut a = txn.open_table(MUC_ARCHIVE).map_err(muc_err)?;
            let keys: Vec<u64> = a
                .range((room.as_str(), 0)..=(room.as_str(), u64::MAX))
                .map_err(muc_err)?
                .map(|r| r.map(|(k, _)| k.value().1))
                .collect::<Result<_, _>>()
                .map_err(muc_err)?;
            for k in keys {
                a.remove((room.as_str(), k)).map_err(muc_err)?;
            }
        }
        txn.commit().map_err(muc_err)
    }

    fn append_message(
        &mut self,
        room: &Jid,
        msg: &muc::ArchivedMessage,
    ) -> Result<(), muc::StoreError> {
        let bytes = msg.to_bytes();
        let txn = self.0.begin_write().map_err(muc_err)?;
        {
            let mut a = txn.open_table(MUC_ARCHIVE).map_err(muc_err)?;
            a.insert((room.as_str(), msg.seq), &bytes[..])
                .map_err(muc_err)?;
        }
        txn.commit().map_err(muc_err)
    }

    fn load_archive(&self, room: &Jid) -> Result<Vec<muc::ArchivedMessage>, muc::StoreError> {
        let txn = self.0.begin_read().map_err(muc_err)?;
        let a = txn.open_table(MUC_ARCHIVE).map_err(muc_err)?;
        let mut out = Vec::new();
        for row in a
            .range((room.as_str(), 0)..=(room.as_str(), u64::MAX))
            .map_err(muc_err)?
        {
            let (_, v) = row.map_err(muc_err)?;
            out.push(muc::ArchivedMessage::from_bytes(v.value())?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn tempdir(name: &str) -> std::path::PathBuf {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).unwrap();
        let dir = std::env::temp_dir().join(format!("imp-store-{name}-{}", u64::from_le_bytes(b)));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn everything_survives_reopening_the_database() {
        let dir = tempdir("reopen");
        let user = Jid::new("ann@isle.example").unwrap();
        let contact = Jid::new("ben@isle.example").unwrap();
        let mut roster = Roster {
            ver: 7,
            ..Roster::default()
        };
        roster.items.insert(
            contact.clone(),
            RosterItem {
                name: Some("Ben <& co>".into()),
                groups: BTreeSet::from(["Crew".to_owned(), "Pals".to_owned()]),
                subscription: Subscription::Both,
                ask: true,
                approved: false,
            },
        );
        roster
            .pending_in
            .insert(Jid::new("cat@isle.example").unwrap(), Some("hi".into()));
        let msg = Element::new("message", ns::CLIENT)
            .with_attr("to", "ann@isle.example")
            .with_child(Element::new("body", ns::CLIENT).with_text("a & b"));
        let mut policy = UserPolicy::new(DefaultPolicy::BlockAll);
        policy
            .allow(
                "ben@isle.example".parse().unwrap(),
                &PolicyLimits::default(),
            )
            .unwrap();
        policy
            .block("far.example".parse().unwrap(), &PolicyLimits::default())
            .unwrap();
        policy.set_ask_me_for_external(true);
        let addr = Address::parse("ann@isle.example").unwrap();
        {
            let db = DiskDb::open(&dir).unwrap();
            db.rosters().save(&user, &roster).unwrap();
            db.offline().push(&user, msg.clone()).unwrap();
            db.offline().push(&user, msg.clone()).unwrap();
            db.policies().put(&addr, policy.clone()).unwrap();
        }
        let db = DiskDb::open(&dir).unwrap();
        assert_eq!(db.rosters().load(&user).unwrap(), roster);
        assert_eq!(db.offline().count(&user).unwrap(), 2);
        assert_eq!(db.offline().total().unwrap(), 2);
        assert_eq!(
            db.offline().take_all(&user).unwrap(),
            vec![msg.clone(), msg]
        );
        assert_eq!(db.offline().count(&user).unwrap(), 0);
        assert_eq!(db.policies().get(&addr).unwrap(), Some(policy));
        assert_eq!(db.rosters().load(&contact).unwrap(), Roster::default());
        let _ = std::fs::remove_dir_all(dir);
    }
}
