//! Shared driver for the property tests: turns a byte string into a
//! sequence of MUC stanzas from a handful of users against two rooms, and
//! checks the service's invariants after every step. The fuzz target
//! `fuzz/fuzz_targets/muc_room.rs` uses the same scheme.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use muc::{MemoryStore, MucService, ServiceConfig};
use xmpp_core::Jid;
use xmpp_core::xml::{Element, Limits, NsContext, parse_element};

const USERS: [&str; 5] = [
    "ann@example.org/a",
    "bob@example.org/b",
    "cy@example.net/c",
    "dee@example.net/d",
    "ann@example.org/second",
];
const ROOMS: [&str; 2] = ["r1@chat.example.org", "r2@chat.example.org"];
const NICKS: [&str; 4] = ["ann", "bob", "c y", "d&e"];
const ROLES: [&str; 5] = ["none", "visitor", "participant", "moderator", "bogus"];
const AFFS: [&str; 6] = ["outcast", "none", "member", "admin", "owner", "bogus"];
const FIELDS: [(&str, &[&str]); 8] = [
    ("muc#roomconfig_membersonly", &["0", "1"]),
    ("muc#roomconfig_moderatedroom", &["0", "1"]),
    ("muc#roomconfig_persistentroom", &["0", "1"]),
    ("muc#roomconfig_maxusers", &["2", "3", "50", "0"]),
    ("muc#roomconfig_allowpm", &["anyone", "none", "x"]),
    ("muc#roomconfig_changesubject", &["0", "1"]),
    (
        "muc#roomconfig_roomowners",
        &["bob@example.org", "ann@example.org"],
    ),
    ("muc#roomconfig_allowinvites", &["0", "1"]),
];

/// Runs the byte-driven scenario, panicking on a broken invariant.
pub fn run(data: &[u8]) {
    let cfg = ServiceConfig {
        allow_registration: true,
        max_rooms: 2,
        ..ServiceConfig::default()
    };
    let mut svc = MucService::new(
        Jid::new("chat.example.org").unwrap(),
        cfg,
        MemoryStore::new(8),
    )
    .unwrap();
    let mut now = Instant::now();
    let mut wall = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    let mut it = data.iter().copied();
    let mut next = move || it.next();
    let pick = |b: u8, n: usize| usize::from(b) % n;
    while let Some(op) = next() {
        let (Some(a), Some(b), Some(c)) = (next(), next(), next()) else {
            break;
        };
        let user = USERS[pick(a, USERS.len())];
        let room = ROOMS[pick(b, ROOMS.len())];
        let nick = NICKS[pick(c, NICKS.len())];
        let esc = |s: &str| s.replace('&', "&amp;");
        let other = USERS[pick(c, USERS.len())];
        let other_bare = other.split('/').next().unwrap_or(other);
        let stanza = match op % 20 {
            0 => format!(
                "<presence to='{room}/{}'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='{}'/></x></presence>",
                esc(nick),
                c
            ),
            1 => format!("<presence type='unavailable' to='{room}/{}'/>", esc(nick)),
            2 => format!("<message type='groupchat' to='{room}'><body>m{c}</body></message>"),
            3 => format!("<message type='groupchat' to='{room}'><subject>s{c}</subject></message>"),
            4 => format!(
                "<message type='chat' to='{room}/{}'><body>p</body></message>",
                esc(nick)
            ),
            5 => format!(
                "<presence to='{room}/{}'><show>away</show></presence>",
                esc(nick)
            ),
            6 => format!(
                "<iq type='set' id='r' to='{room}'><query xmlns='http://jabber.org/protocol/muc#admin'><item nick='{}' role='{}'/></query></iq>",
                esc(nick),
                ROLES[pick(c, ROLES.len())]
            ),
            7 => format!(
                "<iq type='set' id='a' to='{room}'><query xmlns='http://jabber.org/protocol/muc#admin'><item jid='{other_bare}' affiliation='{}'/></query></iq>",
                AFFS[pick(a ^ c, AFFS.len())]
            ),
            8 => {
                let (var, vals) = FIELDS[pick(c, FIELDS.len())];
                let v = vals[pick(a, vals.len())];
                format!(
                    "<iq type='set' id='c' to='{room}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'><field var='{var}'><value>{v}</value></field></x></query></iq>"
                )
            }
            9 => format!(
                "<iq type='set' id='c' to='{room}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>"
            ),
            10 => format!(
                "<iq type='set' id='d' to='{room}'><query xmlns='http://jabber.org/protocol/muc#owner'><destroy jid='{}'/></query></iq>",
                ROOMS[pick(c, 2)]
            ),
            11 => format!(
                "<message to='{room}'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='{other_bare}'/></x></message>"
            ),
            12 => format!(
                "<message to='{room}'><x xmlns='http://jabber.org/protocol/muc#user'><decline to='{other}'/></x></message>"
            ),
            13 => {
                drop(svc.session_ended(now, wall, &Jid::new(user).unwrap()));
                check(&svc);
                continue;
            }
            14 => format!(
                "<message type='error' to='{room}'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"
            ),
            15 => format!(
                "<iq type='get' id='g' to='{room}'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='{}'/></query></iq>",
                AFFS[pick(c, AFFS.len())]
            ),
            16 => format!(
                "<iq type='set' id='g' to='{room}'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'><field var='muc#register_roomnick'><value>{}</value></field></x></query></iq>",
                esc(nick)
            ),
            17 => {
                now += Duration::from_secs(u64::from(c));
                wall += Duration::from_secs(u64::from(c));
                continue;
            }
            18 => {
                drop(svc.shutdown(now, wall));
                check(&svc);
                continue;
            }
            _ => {
                // Raw bytes as a stanza, when they parse.
                let len = usize::from(c);
                let mut raw = Vec::new();
                for _ in 0..len {
                    match next() {
                        Some(x) => raw.push(x),
                        None => break,
                    }
                }
                if let Ok(e) = parse_element(
                    &raw,
                    &NsContext::stream("jabber:client"),
                    &Limits::default(),
                ) {
                    deliver(&mut svc, now, wall, user, e);
                }
                check(&svc);
                continue;
            }
        };
        let e = parse_element(
            stanza.as_bytes(),
            &NsContext::stream("jabber:client"),
            &Limits::default(),
        )
        .expect("generated stanza parses");
        deliver(&mut svc, now, wall, user, e);
        check(&svc);
    }
}

fn deliver(svc: &mut MucService, now: Instant, wall: SystemTime, user: &str, e: Element) {
    for d in svc.handle_stanza(now, wall, &Jid::new(user).unwrap(), e) {
        assert!(d.element().is_some(), "every output parses: {d:?}");
    }
}

fn check(svc: &MucService) {
    assert!(svc.rooms().count() <= svc.config().max_rooms);
    for r in svc.rooms() {
        if let Err(e) = r.check_invariants(svc.config()) {
            panic!("{}: {e}", r.jid());
        }
    }
}
