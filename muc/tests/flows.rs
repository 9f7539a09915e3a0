//! Engine-level flows of XEP-0045, with stanzas shaped like the XEP's
//! examples (rewritten with our own names and values): creation, instant
//! and reserved rooms, joins, history, messages, subject, nick changes,
//! moderation, invitations, configuration, destruction, persistence.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use muc::{
    Affiliation, ArchiveQuery, CreationPolicy, MemoryStore, MucService, RoomStore, ServiceConfig,
};
use xmpp_core::Jid;
use xmpp_core::xml::{Element, Limits, NsContext, parse_element};

const MUC: &str = "http://jabber.org/protocol/muc";
const USER: &str = "http://jabber.org/protocol/muc#user";
const STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
const DATA: &str = "jabber:x:data";
const SVC: &str = "chat.example.org";

struct H {
    svc: MucService,
    now: Instant,
    wall: SystemTime,
}

/// One delivered stanza: recipient and parsed element.
#[derive(Debug, Clone)]
struct Out {
    to: String,
    el: Element,
}

impl Out {
    fn name(&self) -> &str {
        self.el.name()
    }
    fn from(&self) -> &str {
        self.el.attr("from").unwrap_or("")
    }
    fn ty(&self) -> Option<&str> {
        self.el.attr("type")
    }
    fn codes(&self) -> Vec<u16> {
        self.el
            .get_child("x", USER)
            .map(|x| {
                x.children()
                    .filter(|c| c.is("status", USER))
                    .filter_map(|c| c.attr("code")?.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }
    fn item(&self) -> Option<&Element> {
        self.el.get_child("x", USER)?.get_child("item", USER)
    }
    fn item_attr(&self, a: &str) -> Option<&str> {
        self.item()?.attr(a)
    }
    fn error(&self) -> Option<String> {
        let e = self.el.get_child("error", "jabber:client")?;
        e.children()
            .find(|c| c.ns() == STANZAS)
            .map(|c| c.name().to_owned())
    }
    fn body(&self) -> Option<String> {
        self.el
            .get_child("body", "jabber:client")
            .map(Element::text)
    }
}

fn xml(s: &str) -> Element {
    parse_element(
        s.as_bytes(),
        &NsContext::stream("jabber:client"),
        &Limits::default(),
    )
    .expect("test stanza parses")
}

fn jid(s: &str) -> Jid {
    Jid::new(s).unwrap()
}

fn cfg() -> ServiceConfig {
    ServiceConfig {
        occupant_id_secret: b"test-secret".to_vec(),
        ..ServiceConfig::default()
    }
}

impl H {
    fn new() -> H {
        H::with(cfg(), MemoryStore::default())
    }

    fn with(c: ServiceConfig, store: MemoryStore) -> H {
        H {
            svc: MucService::new(jid(SVC), c, store).unwrap(),
            now: Instant::now(),
            wall: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        }
    }

    fn tick(&mut self, secs: u64) {
        self.now += Duration::from_secs(secs);
        self.wall += Duration::from_secs(secs);
    }

    fn send(&mut self, from: &str, stanza: &str) -> Vec<Out> {
        let out = self
            .svc
            .handle_stanza(self.now, self.wall, &jid(from), xml(stanza));
        out.iter()
            .map(|d| {
                let el = d.element().expect("output parses");
                assert_eq!(el.attr("to"), Some(d.to.as_str()));
                Out {
                    to: d.to.to_string(),
                    el,
                }
            })
            .collect()
    }

    fn join(&mut self, from: &str, room_nick: &str) -> Vec<Out> {
        self.send(
            from,
            &format!("<presence to='{room_nick}'><x xmlns='{MUC}'/></presence>"),
        )
    }

    /// Creates `room` owned by `owner` as an instant room.
    fn instant(&mut self, owner: &str, room: &str, nick: &str) {
        let out = self.join(owner, &format!("{room}@{SVC}/{nick}"));
        assert!(out[0].codes().contains(&201), "{out:?}");
        let out = self.send(
            owner,
            &format!(
                "<iq type='set' id='c1' to='{room}@{SVC}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='{DATA}' type='submit'/></query></iq>"
            ),
        );
        assert_eq!(out[0].ty(), Some("result"), "{out:?}");
    }

    fn configure(&mut self, owner: &str, room: &str, fields: &[(&str, &str)]) -> Vec<Out> {
        let mut f = String::new();
        for (var, v) in fields {
            f.push_str(&format!("<field var='{var}'><value>{v}</value></field>"));
        }
        self.send(
            owner,
            &format!(
                "<iq type='set' id='cfg' to='{room}@{SVC}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='{DATA}' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>{f}</x></query></iq>"
            ),
        )
    }

    fn admin_set(&mut self, from: &str, room: &str, item: &str) -> Vec<Out> {
        self.send(
            from,
            &format!(
                "<iq type='set' id='adm' to='{room}@{SVC}'><query xmlns='http://jabber.org/protocol/muc#admin'>{item}</query></iq>"
            ),
        )
    }

    fn say(&mut self, from: &str, room: &str, body: &str) -> Vec<Out> {
        self.send(
            from,
            &format!("<message to='{room}@{SVC}' type='groupchat'><body>{body}</body></message>"),
        )
    }

    fn check(&self) {
        for r in self.svc.rooms() {
            r.check_invariants(self.svc.config()).unwrap();
        }
    }
}

const ANN: &str = "ann@example.org/desk";
const BOB: &str = "bob@example.org/phone";
const CY: &str = "cy@example.net/tab";
const DEE: &str = "dee@example.net/pc";

fn to(out: &[Out], who: &str) -> Vec<Out> {
    out.iter().filter(|o| o.to == who).cloned().collect()
}

#[test]
fn creating_a_room_locks_it_until_configured() {
    let mut h = H::new();
    let out = h.join(ANN, "plan@chat.example.org/ann");
    // Self-presence with 110, 201 (new room) and 100 (non-anonymous), then the empty subject.
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].from(), "plan@chat.example.org/ann");
    let mut codes = out[0].codes();
    codes.sort_unstable();
    assert_eq!(codes, vec![100, 110, 201]);
    assert_eq!(out[0].item_attr("affiliation"), Some("owner"));
    assert_eq!(out[0].item_attr("role"), Some("moderator"));
    assert!(
        out[0]
            .el
            .get_child("occupant-id", "urn:xmpp:occupant-id:0")
            .is_some()
    );
    assert!(out[1].el.get_child("subject", "jabber:client").is_some());
    // Locked: others cannot enter yet.
    let out = h.join(BOB, "plan@chat.example.org/bob");
    assert_eq!(out[0].error().as_deref(), Some("item-not-found"));
    assert_eq!(out[0].from(), "plan@chat.example.org/bob");
    // Owner asks for the form (reserved room) and submits it.
    let out = h.send(ANN, "<iq type='get' id='f1' to='plan@chat.example.org'><query xmlns='http://jabber.org/protocol/muc#owner'/></iq>");
    let form = out[0]
        .el
        .get_child("query", "http://jabber.org/protocol/muc#owner")
        .unwrap()
        .get_child("x", DATA)
        .unwrap();
    let vars: Vec<&str> = form.children().filter_map(|f| f.attr("var")).collect();
    for v in [
        "muc#roomconfig_roomname",
        "muc#roomconfig_roomdesc",
        "muc#roomconfig_persistentroom",
        "muc#roomconfig_publicroom",
        "muc#roomconfig_membersonly",
        "muc#roomconfig_moderatedroom",
        "muc#roomconfig_passwordprotectedroom",
        "muc#roomconfig_roomsecret",
        "muc#roomconfig_maxusers",
        "muc#roomconfig_whois",
        "muc#roomconfig_allowinvites",
        "muc#roomconfig_changesubject",
        "muc#roomconfig_allowpm",
        "muc#maxhistoryfetch",
    ] {
        assert!(vars.contains(&v), "{v} missing");
    }
    let out = h.configure(ANN, "plan", &[("muc#roomconfig_roomname", "Planning")]);
    assert_eq!(out.len(), 1, "no 104 message for the initial configuration");
    assert_eq!(out[0].ty(), Some("result"));
    assert!(
        !h.svc
            .room(&jid("plan@chat.example.org"))
            .unwrap()
            .is_locked()
    );
    let out = h.join(BOB, "plan@chat.example.org/bob");
    assert!(out.iter().any(|o| o.to == BOB && o.codes().contains(&110)));
    h.check();
}

#[test]
fn cancelling_the_initial_configuration_destroys_the_room() {
    let mut h = H::new();
    h.join(ANN, "tmp@chat.example.org/ann");
    let out = h.send(ANN, "<iq type='set' id='x' to='tmp@chat.example.org'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='cancel'/></query></iq>");
    assert!(
        out.iter()
            .any(|o| o.name() == "presence" && o.ty() == Some("unavailable"))
    );
    assert!(out.iter().any(|o| o.ty() == Some("result")));
    assert!(h.svc.room(&jid("tmp@chat.example.org")).is_none());
}

#[test]
fn join_order_presence_history_subject() {
    let mut h = H::new();
    h.instant(ANN, "den", "ann");
    h.join(BOB, "den@chat.example.org/bob");
    h.send(
        ANN,
        "<message to='den@chat.example.org' type='groupchat'><subject>Ship it</subject></message>",
    );
    h.say(BOB, "den", "first");
    let out = h.join(CY, "den@chat.example.org/cy");
    let mine = to(&out, CY);
    // ann's and bob's presence, own presence, one history message, subject.
    assert_eq!(mine.len(), 5, "{mine:?}");
    let mut others: Vec<&str> = mine[..2].iter().map(Out::from).collect();
    others.sort_unstable();
    assert_eq!(
        others,
        vec!["den@chat.example.org/ann", "den@chat.example.org/bob"]
    );
    assert!(
        mine[..2]
            .iter()
            .all(|o| o.item_attr("jid").is_some() && o.codes().is_empty())
    );
    assert_eq!(mine[2].from(), "den@chat.example.org/cy");
    assert!(mine[2].codes().contains(&110) && mine[2].codes().contains(&100));
    assert_eq!(mine[3].body().as_deref(), Some("first"));
    let delay = mine[3].el.get_child("delay", "urn:xmpp:delay").unwrap();
    assert_eq!(delay.attr("from"), Some("den@chat.example.org"));
    assert_eq!(delay.attr("stamp"), Some("2023-11-14T22:13:20.000Z"));
    assert_eq!(mine[4].from(), "den@chat.example.org/ann");
    assert_eq!(
        mine[4]
            .el
            .get_child("subject", "jabber:client")
            .unwrap()
            .text(),
        "Ship it"
    );
    // The others get cy's presence once each, without 110.
    for who in [ANN, BOB] {
        let p = to(&out, who);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].item_attr("jid"), Some(CY));
        assert!(!p[0].codes().contains(&110));
    }
    h.check();
}

#[test]
fn history_requests() {
    let mut h = H::new();
    h.instant(ANN, "hist", "ann");
    for i in 0..120 {
        h.say(ANN, "hist", &format!("m{i}"));
        h.tick(10);
    }
    let bodies = |out: &[Out]| -> Vec<String> { out.iter().filter_map(Out::body).collect() };
    // Default: 15 most recent.
    let out = h.join(BOB, "hist@chat.example.org/bob");
    let b = bodies(&out);
    assert_eq!(b.len(), 15);
    assert_eq!(b.first().map(String::as_str), Some("m105"));
    assert_eq!(b.last().map(String::as_str), Some("m119"));
    let req = |h: &mut H, who: &str, attrs: &str| {
        let out = h.send(who, &format!("<presence to='hist@chat.example.org/{}'><x xmlns='{MUC}'><history {attrs}/></x></presence>", who.split('@').next().unwrap()));
        bodies(&out)
    };
    assert_eq!(
        req(&mut h, CY, "maxstanzas='3'"),
        vec!["m117", "m118", "m119"]
    );
    h.send(
        CY,
        "<presence type='unavailable' to='hist@chat.example.org/cy'/>",
    );
    // maxstanzas above the 100 cap gets 100.
    assert_eq!(req(&mut h, CY, "maxstanzas='500'").len(), 100);
    h.send(
        CY,
        "<presence type='unavailable' to='hist@chat.example.org/cy'/>",
    );
    assert!(req(&mut h, CY, "maxchars='0'").is_empty());
    h.send(
        CY,
        "<presence type='unavailable' to='hist@chat.example.org/cy'/>",
    );
    // seconds: messages received in the last 35 s (sent every 10 s, last one 10 s ago).
    assert_eq!(
        req(&mut h, CY, "seconds='35'"),
        vec!["m117", "m118", "m119"]
    );
    h.send(
        CY,
        "<presence type='unavailable' to='hist@chat.example.org/cy'/>",
    );
    // since: wall-clock of m118 onward (m0 at 1_700_000_000).
    assert_eq!(
        req(&mut h, CY, "since='2023-11-14T22:33:00Z'"),
        vec!["m118", "m119"]
    );
    h.send(
        CY,
        "<presence type='unavailable' to='hist@chat.example.org/cy'/>",
    );
    // maxchars counts whole stanzas as delivered (history messages are
    // all the same size here): room for two and a half admits two.
    let one = h.svc.handle_stanza(
        h.now,
        h.wall,
        &jid(DEE),
        xml("<presence to='hist@chat.example.org/dee'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='1'/></x></presence>"),
    );
    let len = one
        .iter()
        .find(|d| {
            d.element()
                .is_some_and(|e| e.get_child("body", "jabber:client").is_some())
        })
        .expect("one history message")
        .to_bytes()
        .len();
    // eve@example.com/xy has the same length as dee@example.net/pc.
    assert_eq!(
        req(
            &mut h,
            "eve@example.com/xy",
            &format!("maxchars='{}'", 2 * len + len / 2)
        )
        .len(),
        2
    );
    assert_eq!(
        req(
            &mut h,
            "fay@example.com/xy",
            &format!("maxchars='{}'", 2 * len - 1)
        )
        .len(),
        1
    );
}

#[test]
fn groupchat_messages_reach_everyone_once() {
    let mut h = H::new();
    h.instant(ANN, "lobby", "ann");
    h.join(BOB, "lobby@chat.example.org/bob");
    h.join(CY, "lobby@chat.example.org/cy");
    let out = h.send(BOB, "<message to='lobby@chat.example.org' type='groupchat' id='m1'><body>hi all</body><occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/></message>");
    assert_eq!(out.len(), 3);
    let mut tos: Vec<&str> = out.iter().map(|o| o.to.as_str()).collect();
    tos.sort_unstable();
    assert_eq!(tos, vec![ANN, BOB, CY]);
    for o in &out {
        assert_eq!(o.from(), "lobby@chat.example.org/bob");
        assert_eq!(o.ty(), Some("groupchat"));
        assert_eq!(o.el.attr("id"), Some("m1"));
        let ids: Vec<&str> =
            o.el.children()
                .filter(|c| c.is("occupant-id", "urn:xmpp:occupant-id:0"))
                .filter_map(|c| c.attr("id"))
                .collect();
        assert_eq!(ids.len(), 1);
        assert_ne!(ids[0], "forged", "a client cannot forge its occupant-id");
    }
    // The occupant-id is stable across rejoins and differs between users.
    let bob_id = h
        .svc
        .room(&jid("lobby@chat.example.org"))
        .unwrap()
        .occupant("bob")
        .unwrap()
        .occupant_id()
        .to_owned();
    h.send(
        BOB,
        "<presence type='unavailable' to='lobby@chat.example.org/bob'/>",
    );
    h.join("bob@example.org/other", "lobby@chat.example.org/bobby");
    let room = h.svc.room(&jid("lobby@chat.example.org")).unwrap();
    assert_eq!(room.occupant("bobby").unwrap().occupant_id(), bob_id);
    assert_ne!(room.occupant("ann").unwrap().occupant_id(), bob_id);
    // Non-occupants are refused.
    let out = h.say(DEE, "lobby", "let me in");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].error().as_deref(), Some("not-acceptable"));
    assert_eq!(
        out[0]
            .el
            .get_child("error", "jabber:client")
            .unwrap()
            .attr("type"),
        Some("modify")
    );
}

#[test]
fn private_messages() {
    let mut h = H::new();
    h.instant(ANN, "pm", "ann");
    h.join(BOB, "pm@chat.example.org/bob");
    let out = h.send(
        ANN,
        "<message to='pm@chat.example.org/bob' type='chat'><body>psst</body></message>",
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, BOB);
    assert_eq!(out[0].from(), "pm@chat.example.org/ann");
    assert!(out[0].el.get_child("x", USER).is_some());
    let out = h.send(
        ANN,
        "<message to='pm@chat.example.org/nobody' type='chat'><body>?</body></message>",
    );
    assert_eq!(out[0].error().as_deref(), Some("item-not-found"));
    let out = h.send(
        ANN,
        "<message to='pm@chat.example.org/bob' type='groupchat'><body>?</body></message>",
    );
    assert_eq!(out[0].error().as_deref(), Some("bad-request"));
    let out = h.send(
        CY,
        "<message to='pm@chat.example.org/bob' type='chat'><body>?</body></message>",
    );
    assert_eq!(out[0].error().as_deref(), Some("not-acceptable"));
    h.configure(ANN, "pm", &[("muc#roomconfig_allowpm", "moderators")]);
    let out = h.send(
        BOB,
        "<message to='pm@chat.example.org/ann' type='chat'><body>?</body></message>",
    );
    assert_eq!(out[0].error().as_deref(), Some("forbidden"));
    let out = h.send(
        ANN,
        "<message to='pm@chat.example.org/bob' type='chat'><body>ok</body></message>",
    );
    assert_eq!(out[0].to, BOB);
}

#[test]
fn nick_change_sends_303_then_new_presence() {
    let mut h = H::new();
    h.instant(ANN, "nicks", "ann");
    h.join(BOB, "nicks@chat.example.org/bob");
    let out = h.send(BOB, "<presence to='nicks@chat.example.org/robert'/>");
    let to_bob = to(&out, BOB);
    let to_ann = to(&out, ANN);
    assert_eq!(to_bob.len(), 2);
    assert_eq!(to_ann.len(), 2);
    assert_eq!(to_ann[0].ty(), Some("unavailable"));
    assert_eq!(to_ann[0].from(), "nicks@chat.example.org/bob");
    assert_eq!(to_ann[0].codes(), vec![303]);
    assert_eq!(to_ann[0].item_attr("nick"), Some("robert"));
    let mut c = to_bob[0].codes();
    c.sort_unstable();
    assert_eq!(c, vec![110, 303]);
    assert_eq!(to_ann[1].from(), "nicks@chat.example.org/robert");
    assert_eq!(to_ann[1].ty(), None);
    assert_eq!(to_bob[1].codes(), vec![110]);
    // Conflict with an occupant.
    let out = h.send(BOB, "<presence to='nicks@chat.example.org/ann'/>");
    assert_eq!(out[0].error().as_deref(), Some("conflict"));
    let out = h.join(CY, "nicks@chat.example.org/robert");
    assert_eq!(out[0].error().as_deref(), Some("conflict"));
    h.check();
}

#[test]
fn status_updates_and_leaving() {
    let mut h = H::new();
    h.instant(ANN, "st", "ann");
    h.join(BOB, "st@chat.example.org/bob");
    let out = h.send(
        BOB,
        "<presence to='st@chat.example.org/bob'><show>away</show><status>lunch</status></presence>",
    );
    let a = &to(&out, ANN)[0];
    assert_eq!(
        a.el.get_child("show", "jabber:client").unwrap().text(),
        "away"
    );
    let out = h.send(
        BOB,
        "<presence type='unavailable' to='st@chat.example.org/bob'><status>bye</status></presence>",
    );
    let a = &to(&out, ANN)[0];
    assert_eq!(a.ty(), Some("unavailable"));
    assert_eq!(a.item_attr("role"), Some("none"));
    assert_eq!(
        a.el.get_child("status", "jabber:client").unwrap().text(),
        "bye"
    );
    let b = &to(&out, BOB)[0];
    assert_eq!(b.codes(), vec![110]);
    // The last occupant leaving a temporary room ends it.
    h.send(
        ANN,
        "<presence type='unavailable' to='st@chat.example.org/ann'/>",
    );
    assert!(h.svc.room(&jid("st@chat.example.org")).is_none());
}

#[test]
fn subject_changes_follow_permissions() {
    let mut h = H::new();
    h.instant(ANN, "subj", "ann");
    h.join(BOB, "subj@chat.example.org/bob");
    let out = h.send(BOB, "<message to='subj@chat.example.org' type='groupchat'><subject>Bob's topic</subject></message>");
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|o| o.from() == "subj@chat.example.org/bob"));
    assert_eq!(
        h.svc.room(&jid("subj@chat.example.org")).unwrap().subject(),
        Some(("Bob's topic", "bob"))
    );
    h.configure(ANN, "subj", &[("muc#roomconfig_changesubject", "0")]);
    let out = h.send(
        BOB,
        "<message to='subj@chat.example.org' type='groupchat'><subject>again</subject></message>",
    );
    assert_eq!(out[0].error().as_deref(), Some("forbidden"));
    let out = h.send(
        ANN,
        "<message to='subj@chat.example.org' type='groupchat'><subject>Owner's</subject></message>",
    );
    assert_eq!(out.len(), 2);
    // Visitors never change the subject, even when participants may.
    h.configure(ANN, "subj", &[("muc#roomconfig_changesubject", "1")]);
    h.admin_set(ANN, "subj", "<item nick='bob' role='visitor'/>");
    let out = h.send(
        BOB,
        "<message to='subj@chat.example.org' type='groupchat'><subject>v</subject></message>",
    );
    assert_eq!(out[0].error().as_deref(), Some("forbidden"));
}

#[test]
fn voice_in_moderated_rooms() {
    let mut h = H::new();
    h.instant(ANN, "mod", "ann");
    h.configure(ANN, "mod", &[("muc#roomconfig_moderatedroom", "1")]);
    let out = h.join(BOB, "mod@chat.example.org/bob");
    assert_eq!(
        to(&out, BOB)
            .iter()
            .find(|o| o.codes().contains(&110))
            .unwrap()
            .item_attr("role"),
        Some("visitor")
    );
    let out = h.say(BOB, "mod", "can I talk?");
    assert_eq!(out[0].error().as_deref(), Some("forbidden"));
    assert_eq!(
        out[0]
            .el
            .get_child("error", "jabber:client")
            .unwrap()
            .attr("type"),
        Some("auth")
    );
    // Grant voice (XEP-0045 §8.3).
    let out = h.admin_set(
        ANN,
        "mod",
        "<item nick='bob' role='participant'><reason>go ahead</reason></item>",
    );
    let p = to(&out, ANN)
        .into_iter()
        .find(|o| o.name() == "presence")
        .unwrap();
    assert_eq!(p.item_attr("role"), Some("participant"));
    assert_eq!(out.last().unwrap().ty(), Some("result"));
    assert_eq!(h.say(BOB, "mod", "thanks").len(), 2);
    // A participant cannot grant or revoke voice.
    h.join(CY, "mod@chat.example.org/cy");
    let out = h.admin_set(BOB, "mod", "<item nick='cy' role='participant'/>");
    assert_eq!(out[0].error().as_deref(), Some("forbidden"));
    // Revoke (§8.4).
    let out = h.admin_set(ANN, "mod", "<item nick='bob' role='visitor'/>");
    assert!(
        out.iter()
            .any(|o| o.to == BOB && o.item_attr("role") == Some("visitor"))
    );
    // A newcomer sees the current roles (cached presences are refreshed).
    let out = h.join(DEE, "mod@chat.example.org/dee");
    let bob = to(&out, DEE)
        .into_iter()
        .find(|o| o.from() == "mod@chat.example.org/bob")
        .unwrap();
    assert_eq!(bob.item_attr("role"), Some("visitor"));
    h.send(
        BOB,
        "<presence to='mod@chat.example.org/bob'><show>dnd</show></presence>",
    );
    h.send(
        DEE,
        "<presence type='unavailable' to='mod@chat.example.org/dee'/>",
    );
    let out = h.join(DEE, "mod@chat.example.org/dee");
    let bob = to(&out, DEE)
        .into_iter()
        .find(|o| o.from() == "mod@chat.example.org/bob")
        .unwrap();
    assert_eq!(
        bob.el.get_child("show", "jabber:client").unwrap().text(),
        "dnd"
    );
    h.send(
        DEE,
        "<presence type='unavailable' to='mod@chat.example.org/dee'/>",
    );
    // Moderator list (§8.5).
    let out = h.send(ANN, "<iq type='get' id='l' to='mod@chat.example.org'><query xmlns='http://jabber.org/protocol/muc#admin'><item role='visitor'/></query></iq>");
    let q = out[0]
        .el
        .get_child("query", "http://jabber.org/protocol/muc#admin")
        .unwrap();
    let nicks: Vec<&str> = q.children().filter_map(|i| i.attr("nick")).collect();
    assert_eq!(nicks, vec!["bob", "cy"]);
    let out = h.send(BOB, "<iq type='get' id='l' to='mod@chat.example.org'><query xmlns='http://jabber.org/protocol/muc#admin'><item role='visitor'/></query></iq>");
    assert_eq!(out[0].error().as_deref(), Some("forbidden"));
    h.check();
}

#[test]
fn kick_sends_307_kicked_first() {
    let mut h = H::new();
    h.instant(ANN, "k", "ann");
    h.join(BOB, "k@chat.example.org/bob");
    h.join(CY, "k@chat.example.org/cy");
    let out = h.admin_set(
        ANN,
        "k",
        "<item nick='bob' role='none'><reason>off topic</reason></item>",
    );
    assert_eq!(out[0].to, BOB, "the kicked occupant hears first");
    let mut c = out[0].codes();
    c.sort_unstable();
    assert_eq!(c, vec![110, 307]);
    assert_eq!(out[0].ty(), Some("unavailable"));
    let item = out[0].item().unwrap();
    assert_eq!(
        item.get_child("actor", USER).unwrap().attr("nick"),
        Some("ann")
    );
    assert_eq!(item.get_child("reason", USER).unwrap().text(), "off topic");
    for who in [ANN, CY] {
        assert_eq!(
            to(&out, who)
                .iter()
                .find(|o| o.name() == "presence")
                .unwrap()
                .codes(),
            vec![307]
        );
    }
    assert!(
        h.svc
            .room(&jid("k@chat.example.org"))
            .unwrap()
            .occupant("bob")
            .is_none()
    );
    // Kicked users may come back.
    assert!(
        h.join(BOB, "k@chat.example.org/bob")
            .iter()
            .any(|o| o.codes().contains(&110))
    );
    // Admins and owners cannot be kicked.
    h.admin_set(ANN, "k", "<item affiliation='admin' jid='cy@example.net'/>");
    let out = h.admin_set(ANN, "k", "<item nick='cy' role='none'/>");
    assert_eq!(out[0].error().as_deref(), Some("not-allowed"));
    let out = h.admin_set(CY, "k", "<item nick='ann' role='none'/>");
    assert_eq!(out[0].error().as_deref(), Some("not-allowed"));
    // Kicking an unknown nick.
    let out = h.admin_set(ANN, "k", "<item nick='zed' role='none'/>");
    assert_eq!(out[0].error().as_deref(), Some("item-not-found"));
    h.check();
}

#[test]
fn ban_sends_301_and_keeps_the_user_out() {
    let mut h = H::new();
    h.instant(ANN, "b", "ann");
    h.join(BOB, "b@chat.example.org/bob");
    let out = h.admin_set(
        ANN,
        "b",
        "<item affiliation='outcast' jid='bob@example.org'><reason>spam</reason></item>",
    );
    let kicked = &to(&out, BOB)[0];
    let mut c = kicked.codes();
    c.sort_unstable();
    assert_eq!(c, vec![110, 301]);
    assert_eq!(kicked.item_attr("affiliation"), Some("outcast"));
    assert_eq!(
        to(&out, ANN)
            .iter()
            .find(|o| o.name() == "presence")
            .unwrap()
            .codes(),
        vec![301]
    );
    let out = h.join(BOB, "b@chat.example.org/bob2");
    assert_eq!(out[0].error().as_deref(), Some("forbidden"));
    // The ban list (§9.2) with the reason.
    let out = h.send(ANN, "<iq type='get' id='bl' to='b@chat.example.org'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='outcast'/></query></iq>");
    let item = out[0]
        .el
        .get_child("query", "http://jabber.org/protocol/muc#admin")
        .unwrap()
        .get_child("item", "http://jabber.org/protocol/muc#admin")
        .unwrap();
    assert_eq!(item.attr("jid"), Some("bob@example.org"));
    assert_eq!(
        item.get_child("reason", "http://jabber.org/protocol/muc#admin")
            .unwrap()
            .text(),
        "spam"
    );
    // Invitations of banned users are refused.
    let out = h.send(ANN, "<message to='b@chat.example.org'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='bob@example.org'/></x></message>");
    assert_eq!(out[0].error().as_deref(), Some("forbidden"));
    // Unban.
    h.admin_set(ANN, "b", "<item affiliation='none' jid='bob@example.org'/>");
    assert!(
        h.join(BOB, "b@chat.example.org/bob")
            .iter()
            .any(|o| o.codes().contains(&110))
    );
    // Nobody may ban an owner but another owner; the last owner stays.
    let out = h.admin_set(ANN, "b", "<item affiliation='none' jid='ann@example.org'/>");
    assert_eq!(out[0].error().as_deref(), Some("conflict"));
    let out = h.admin_set(
        BOB,
        "b",
        "<item affiliation='outcast' jid='ann@example.org'/>",
    );
    assert_eq!(out[0].error().as_deref(), Some("forbidden"));
    h.check();
}

#[test]
fn affiliation_lists_and_moderator_by_admin() {
    let mut h = H::new();
    h.instant(ANN, "aff", "ann");
    h.join(BOB, "aff@chat.example.org/bob");
    // Owner makes bob admin: he becomes moderator.
    let out = h.admin_set(
        ANN,
        "aff",
        "<item affiliation='admin' jid='bob@example.org'/>",
    );
    let p = to(&out, BOB)
        .into_iter()
        .find(|o| o.name() == "presence")
        .unwrap();
    assert_eq!(p.item_attr("affiliation"), Some("admin"));
    assert_eq!(p.item_attr("role"), Some("moderator"));
    // Admin edits the member list but not the admin or owner lists.
    let out = h.admin_set(BOB, "aff", "<item affiliation='member' jid='cy@example.net'/><item affiliation='member' jid='dee@example.net'/>");
    assert_eq!(out[0].ty(), Some("result"));
    let out = h.admin_set(
        BOB,
        "aff",
        "<item affiliation='admin' jid='cy@example.net'/>",
    );
    assert_eq!(out[0].error().as_deref(), Some("not-allowed"));
    let out = h.admin_set(
        BOB,
        "aff",
        "<item affiliation='none' jid='ann@example.org'/>",
    );
    assert_eq!(out[0].error().as_deref(), Some("not-allowed"));
    let out = h.send(BOB, "<iq type='get' id='ml' to='aff@chat.example.org'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member'/></query></iq>");
    let jids: Vec<&str> = out[0]
        .el
        .get_child("query", "http://jabber.org/protocol/muc#admin")
        .unwrap()
        .children()
        .filter_map(|i| i.attr("jid"))
        .collect();
    assert_eq!(jids, vec!["cy@example.net", "dee@example.net"]);
    // An owner may add another owner, who may then demote the first.
    h.admin_set(
        ANN,
        "aff",
        "<item affiliation='owner' jid='bob@example.org'/>",
    );
    let out = h.admin_set(
        BOB,
        "aff",
        "<item affiliation='admin' jid='ann@example.org'/>",
    );
    assert_eq!(out.last().unwrap().ty(), Some("result"));
    let room = h.svc.room(&jid("aff@chat.example.org")).unwrap();
    assert_eq!(
        room.affiliation(&jid("ann@example.org")),
        Affiliation::Admin
    );
    assert_eq!(room.owner_count(), 1);
    // Losing admin drops the moderator role.
    let out = h.admin_set(
        BOB,
        "aff",
        "<item affiliation='member' jid='ann@example.org'/>",
    );
    let p = to(&out, ANN)
        .into_iter()
        .find(|o| o.name() == "presence")
        .unwrap();
    assert_eq!(p.item_attr("role"), Some("participant"));
    h.check();
}

#[test]
fn members_only_rooms_321_322_and_registration_required() {
    let mut h = H::new();
    h.instant(ANN, "club", "ann");
    h.join(BOB, "club@chat.example.org/bob");
    h.join(CY, "club@chat.example.org/cy");
    h.admin_set(
        ANN,
        "club",
        "<item affiliation='member' jid='bob@example.org'/>",
    );
    // Becoming members-only removes non-members with 322, and everyone
    // gets a 104 configuration-change message.
    let out = h.configure(ANN, "club", &[("muc#roomconfig_membersonly", "1")]);
    let cy = to(&out, CY);
    assert!(
        cy.iter()
            .any(|o| o.name() == "message" && o.codes() == vec![104])
    );
    let gone = cy.iter().find(|o| o.name() == "presence").unwrap();
    let mut c = gone.codes();
    c.sort_unstable();
    assert_eq!(c, vec![110, 322]);
    assert!(
        to(&out, ANN)
            .iter()
            .any(|o| o.name() == "presence" && o.codes() == vec![322])
    );
    let out = h.join(CY, "club@chat.example.org/cy");
    assert_eq!(out[0].error().as_deref(), Some("registration-required"));
    // Losing membership removes with 321.
    let out = h.admin_set(
        ANN,
        "club",
        "<item affiliation='none' jid='bob@example.org'/>",
    );
    let b = to(&out, BOB)
        .into_iter()
        .find(|o| o.name() == "presence")
        .unwrap();
    let mut c = b.codes();
    c.sort_unstable();
    assert_eq!(c, vec![110, 321]);
    h.check();
}

#[test]
fn mediated_invitations_and_declines() {
    let mut h = H::new();
    h.instant(ANN, "inv", "ann");
    h.configure(
        ANN,
        "inv",
        &[
            ("muc#roomconfig_membersonly", "1"),
            ("muc#roomconfig_passwordprotectedroom", "1"),
            ("muc#roomconfig_roomsecret", "pw1"),
        ],
    );
    let out = h.send(ANN, "<message to='inv@chat.example.org' id='i1'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='bob@example.org'><reason>join us</reason></invite></x></message>");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, "bob@example.org");
    assert_eq!(out[0].from(), "inv@chat.example.org");
    let x = out[0].el.get_child("x", USER).unwrap();
    let inv = x.get_child("invite", USER).unwrap();
    assert_eq!(inv.attr("from"), Some(ANN));
    assert_eq!(inv.get_child("reason", USER).unwrap().text(), "join us");
    assert_eq!(x.get_child("password", USER).unwrap().text(), "pw1");
    // The invitee became a member (members-only room, owner inviting).
    assert_eq!(
        h.svc
            .room(&jid("inv@chat.example.org"))
            .unwrap()
            .affiliation(&jid("bob@example.org")),
        Affiliation::Member
    );
    // Password still required.
    let out = h.join(BOB, "inv@chat.example.org/bob");
    assert_eq!(out[0].error().as_deref(), Some("not-authorized"));
    let out = h.send(BOB, "<presence to='inv@chat.example.org/bob'><x xmlns='http://jabber.org/protocol/muc'><password>pw1</password></x></presence>");
    assert!(out.iter().any(|o| o.to == BOB && o.codes().contains(&110)));
    // Participants may not invite in members-only rooms unless allowinvites.
    let out = h.send(BOB, "<message to='inv@chat.example.org'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='cy@example.net'/></x></message>");
    assert_eq!(out[0].error().as_deref(), Some("forbidden"));
    h.configure(ANN, "inv", &[("muc#roomconfig_allowinvites", "1")]);
    let out = h.send(BOB, "<message to='inv@chat.example.org'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='cy@example.net'/></x></message>");
    assert_eq!(out[0].to, "cy@example.net");
    // Decline goes back to the inviter.
    let out = h.send(CY, "<message to='inv@chat.example.org'><x xmlns='http://jabber.org/protocol/muc#user'><decline to='bob@example.org/phone'><reason>busy</reason></decline></x></message>");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, BOB);
    let d = out[0]
        .el
        .get_child("x", USER)
        .unwrap()
        .get_child("decline", USER)
        .unwrap();
    assert_eq!(d.attr("from"), Some("cy@example.net"));
    assert_eq!(d.get_child("reason", USER).unwrap().text(), "busy");
    // In an open room, participants may invite without adding members.
    h.instant(DEE, "open", "dee");
    h.join(BOB, "open@chat.example.org/bob");
    let out = h.send(BOB, "<message to='open@chat.example.org'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='cy@example.net'/></x></message>");
    assert_eq!(out[0].to, "cy@example.net");
    assert_eq!(
        h.svc
            .room(&jid("open@chat.example.org"))
            .unwrap()
            .affiliation(&jid("cy@example.net")),
        Affiliation::None
    );
}

#[test]
fn destroy_with_alternate_venue() {
    let mut h = H::new();
    h.instant(ANN, "old", "ann");
    h.join(BOB, "old@chat.example.org/bob");
    let out = h.send(BOB, "<iq type='set' id='d' to='old@chat.example.org'><query xmlns='http://jabber.org/protocol/muc#owner'><destroy jid='new@chat.example.org'/></query></iq>");
    assert_eq!(out[0].error().as_deref(), Some("forbidden"));
    let out = h.send(ANN, "<iq type='set' id='d' to='old@chat.example.org'><query xmlns='http://jabber.org/protocol/muc#owner'><destroy jid='new@chat.example.org'><reason>moved</reason></destroy></query></iq>");
    assert_eq!(out.len(), 3);
    for who in [ANN, BOB] {
        let p = &to(&out, who)[0];
        assert_eq!(p.ty(), Some("unavailable"));
        let d =
            p.el.get_child("x", USER)
                .unwrap()
                .get_child("destroy", USER)
                .unwrap();
        assert_eq!(d.attr("jid"), Some("new@chat.example.org"));
        assert_eq!(d.get_child("reason", USER).unwrap().text(), "moved");
    }
    assert_eq!(out[2].ty(), Some("result"));
    assert!(h.svc.room(&jid("old@chat.example.org")).is_none());
    let out = h.say(ANN, "old", "anyone?");
    assert_eq!(out[0].error().as_deref(), Some("item-not-found"));
}

#[test]
fn shutdown_332_and_error_bounce_333() {
    let mut h = H::new();
    h.instant(ANN, "s", "ann");
    h.join(BOB, "s@chat.example.org/bob");
    let out = h.send(BOB, "<message type='error' to='s@chat.example.org'><error type='cancel'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
    assert_eq!(out.len(), 1, "the bounced occupant is not written to");
    assert_eq!(out[0].to, ANN);
    assert_eq!(out[0].codes(), vec![333]);
    let out = h.svc.shutdown(h.now, h.wall);
    assert_eq!(out.len(), 1);
    let e = out[0].element().unwrap();
    let codes: Vec<&str> = e
        .get_child("x", USER)
        .unwrap()
        .children()
        .filter_map(|c| c.attr("code"))
        .collect();
    assert!(codes.contains(&"332") && codes.contains(&"110"));
}

#[test]
fn registration_reserves_a_nick_210() {
    let mut c = cfg();
    c.allow_registration = true;
    let mut h = H::with(c, MemoryStore::default());
    h.instant(ANN, "reg", "ann");
    let out = h.send(
        BOB,
        "<iq type='get' id='r1' to='reg@chat.example.org'><query xmlns='jabber:iq:register'/></iq>",
    );
    let x = out[0]
        .el
        .get_child("query", "jabber:iq:register")
        .unwrap()
        .get_child("x", DATA)
        .unwrap();
    assert!(
        x.children()
            .any(|f| f.attr("var") == Some("muc#register_roomnick"))
    );
    let out = h.send(BOB, "<iq type='set' id='r2' to='reg@chat.example.org'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#register</value></field><field var='muc#register_roomnick'><value>bobby</value></field></x></query></iq>");
    assert_eq!(out[0].ty(), Some("result"));
    let out = h.send(CY, "<iq type='set' id='r3' to='reg@chat.example.org'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'><field var='muc#register_roomnick'><value>bobby</value></field></x></query></iq>");
    assert_eq!(out[0].error().as_deref(), Some("conflict"));
    // Reserved-nick discovery (§7.12).
    let out = h.send(BOB, "<iq type='get' id='n' to='reg@chat.example.org'><query xmlns='http://jabber.org/protocol/disco#info' node='x-roomuser-item'/></iq>");
    let id = out[0]
        .el
        .get_child("query", "http://jabber.org/protocol/disco#info")
        .unwrap()
        .get_child("identity", "http://jabber.org/protocol/disco#info")
        .unwrap();
    assert_eq!(id.attr("name"), Some("bobby"));
    // Joining under another nick gets the registered one with 210.
    let out = h.join(BOB, "reg@chat.example.org/b");
    let me = to(&out, BOB)
        .into_iter()
        .find(|o| o.codes().contains(&110))
        .unwrap();
    assert!(me.codes().contains(&210));
    assert_eq!(me.from(), "reg@chat.example.org/bobby");
    let out = h.join(CY, "reg@chat.example.org/bobby");
    assert_eq!(out[0].error().as_deref(), Some("conflict"));
    // Disabled by default.
    let mut d = H::new();
    d.instant(ANN, "reg", "ann");
    let out = d.send(
        BOB,
        "<iq type='get' id='r1' to='reg@chat.example.org'><query xmlns='jabber:iq:register'/></iq>",
    );
    assert_eq!(out[0].error().as_deref(), Some("not-allowed"));
}

#[test]
fn config_change_notifications_104_170_171_172_173() {
    let mut c = cfg();
    c.allow_semi_anonymous = true;
    let mut h = H::with(c, MemoryStore::default());
    h.instant(ANN, "n", "ann");
    h.join(BOB, "n@chat.example.org/bob");
    let msg_codes = |out: &[Out]| -> Vec<u16> {
        let mut c = to(out, BOB)
            .iter()
            .find(|o| o.name() == "message")
            .map(Out::codes)
            .unwrap_or_default();
        c.sort_unstable();
        c
    };
    let out = h.configure(ANN, "n", &[("muc#roomconfig_roomname", "N")]);
    assert_eq!(msg_codes(&out), vec![104]);
    let out = h.configure(ANN, "n", &[("muc#roomconfig_persistentroom", "1")]);
    assert_eq!(msg_codes(&out), vec![104, 170]);
    let out = h.configure(ANN, "n", &[("muc#roomconfig_whois", "moderators")]);
    assert_eq!(msg_codes(&out), vec![104, 173]);
    let out = h.configure(ANN, "n", &[("muc#roomconfig_whois", "anyone")]);
    assert_eq!(msg_codes(&out), vec![104, 172]);
    let out = h.configure(ANN, "n", &[("muc#roomconfig_enablelogging", "0")]);
    assert_eq!(msg_codes(&out), vec![104, 171]);
    // Joining a logged persistent room shows 170.
    h.configure(ANN, "n", &[("muc#roomconfig_enablelogging", "1")]);
    let out = h.join(CY, "n@chat.example.org/cy");
    assert!(to(&out, CY).iter().any(|o| o.codes().contains(&170)));
    // Non-owners cannot configure.
    let out = h.configure(BOB, "n", &[("muc#roomconfig_roomname", "X")]);
    assert_eq!(out[0].error().as_deref(), Some("forbidden"));
    let out = h.configure(ANN, "n", &[("muc#roomconfig_maxusers", "5000")]);
    assert_eq!(out[0].error().as_deref(), Some("not-acceptable"));
}

#[test]
fn semi_anonymous_rooms_hide_jids_from_non_moderators() {
    let mut c = cfg();
    c.allow_semi_anonymous = true;
    let mut h = H::with(c, MemoryStore::default());
    h.instant(ANN, "anon", "ann");
    h.configure(ANN, "anon", &[("muc#roomconfig_whois", "moderators")]);
    h.join(BOB, "anon@chat.example.org/bob");
    let out = h.join(CY, "anon@chat.example.org/cy");
    assert_eq!(to(&out, BOB)[0].item_attr("jid"), None);
    assert_eq!(to(&out, ANN)[0].item_attr("jid"), Some(CY));
    let own = to(&out, CY)
        .into_iter()
        .find(|o| o.codes().contains(&110))
        .unwrap();
    assert!(!own.codes().contains(&100));
    assert!(
        to(&out, CY)
            .iter()
            .filter(|o| !o.codes().contains(&110) && o.name() == "presence")
            .all(|o| o.item_attr("jid").is_none())
    );
    // Semi-anonymous rooms are off unless the service allows them.
    let mut h2 = H::new();
    h2.instant(ANN, "anon", "ann");
    let out = h2.configure(ANN, "anon", &[("muc#roomconfig_whois", "moderators")]);
    assert_eq!(out[0].error().as_deref(), Some("not-acceptable"));
}

#[test]
fn limits_room_full_and_room_cap() {
    let mut c = cfg();
    c.max_rooms = 2;
    let mut h = H::with(c, MemoryStore::default());
    h.instant(ANN, "full", "ann");
    h.configure(ANN, "full", &[("muc#roomconfig_maxusers", "10")]);
    for i in 0..9 {
        h.join(
            &format!("u{i}@example.com/r"),
            &format!("full@chat.example.org/u{i}"),
        );
    }
    let out = h.join(BOB, "full@chat.example.org/bob");
    assert_eq!(out[0].error().as_deref(), Some("service-unavailable"));
    h.join(CY, "second@chat.example.org/cy");
    let out = h.join(DEE, "third@chat.example.org/dee");
    assert_eq!(out[0].error().as_deref(), Some("resource-constraint"));
    assert!(h.svc.room(&jid("third@chat.example.org")).is_none());
    // Creation policy.
    let mut c = cfg();
    c.creation = CreationPolicy::Domains(vec!["example.org".into()]);
    let mut h = H::with(c, MemoryStore::default());
    assert_eq!(
        h.join(CY, "x@chat.example.org/cy")[0].error().as_deref(),
        Some("not-allowed")
    );
    assert!(
        h.join(ANN, "x@chat.example.org/ann")[0]
            .codes()
            .contains(&201)
    );
    // Presence without a nick.
    assert_eq!(
        h.send(ANN, "<presence to='x@chat.example.org'/>")[0]
            .error()
            .as_deref(),
        Some("jid-malformed")
    );
    // Empty or overlong nicknames.
    let long = "n".repeat(300);
    assert_eq!(
        h.join(BOB, &format!("y@chat.example.org/{long}"))[0]
            .error()
            .as_deref(),
        Some("not-acceptable")
    );
}

#[test]
fn discovery_of_service_and_rooms() {
    let mut h = H::new();
    h.instant(ANN, "pub", "ann");
    h.configure(
        ANN,
        "pub",
        &[
            ("muc#roomconfig_persistentroom", "1"),
            ("muc#roomconfig_roomname", "Public"),
        ],
    );
    h.instant(ANN, "adhoc", "ann");
    h.instant(ANN, "hidden", "ann");
    h.configure(
        ANN,
        "hidden",
        &[
            ("muc#roomconfig_publicroom", "0"),
            ("muc#roomconfig_persistentroom", "1"),
        ],
    );
    let out = h.send(BOB, "<iq type='get' id='i' to='chat.example.org'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    let q = out[0]
        .el
        .get_child("query", "http://jabber.org/protocol/disco#info")
        .unwrap();
    assert!(q.children().any(|f| f.attr("var") == Some(MUC)));
    assert_eq!(
        q.get_child("identity", "http://jabber.org/protocol/disco#info")
            .unwrap()
            .attr("category"),
        Some("conference")
    );
    let items = |h: &mut H, who: &str| -> Vec<String> {
        let out = h.send(who, "<iq type='get' id='i' to='chat.example.org'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
        out[0]
            .el
            .get_child("query", "http://jabber.org/protocol/disco#items")
            .unwrap()
            .children()
            .filter_map(|i| i.attr("jid").map(str::to_owned))
            .collect()
    };
    // Ad hoc rooms are listed only to their owner.
    assert_eq!(items(&mut h, BOB), vec!["pub@chat.example.org"]);
    assert_eq!(
        items(&mut h, ANN),
        vec!["adhoc@chat.example.org", "pub@chat.example.org"]
    );
    let out = h.send(BOB, "<iq type='get' id='i' to='pub@chat.example.org'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    let q = out[0]
        .el
        .get_child("query", "http://jabber.org/protocol/disco#info")
        .unwrap();
    let feats: Vec<&str> = q.children().filter_map(|f| f.attr("var")).collect();
    for f in [
        "muc_persistent",
        "muc_public",
        "muc_open",
        "muc_unmoderated",
        "muc_unsecured",
        "muc_nonanonymous",
        "urn:xmpp:occupant-id:0",
    ] {
        assert!(feats.contains(&f), "{f}");
    }
    assert_eq!(
        q.get_child("identity", "http://jabber.org/protocol/disco#info")
            .unwrap()
            .attr("name"),
        Some("Public")
    );
    // Room items go to occupants only.
    let out = h.send(BOB, "<iq type='get' id='i' to='pub@chat.example.org'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
    assert_eq!(
        out[0]
            .el
            .get_child("query", "http://jabber.org/protocol/disco#items")
            .unwrap()
            .children()
            .count(),
        0
    );
    let out = h.send(ANN, "<iq type='get' id='i' to='pub@chat.example.org'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
    assert_eq!(
        out[0]
            .el
            .get_child("query", "http://jabber.org/protocol/disco#items")
            .unwrap()
            .children()
            .count(),
        1
    );
    // Unknown requests get service-unavailable.
    let out = h.send(
        ANN,
        "<iq type='get' id='v' to='pub@chat.example.org'><query xmlns='jabber:iq:version'/></iq>",
    );
    assert_eq!(out[0].error().as_deref(), Some("service-unavailable"));
}

#[test]
fn session_end_leaves_rooms() {
    let mut h = H::new();
    h.instant(ANN, "a", "ann");
    h.instant(ANN, "b", "ann");
    h.join(BOB, "a@chat.example.org/bob");
    h.join(BOB, "b@chat.example.org/bob");
    let out = h.svc.session_ended(h.now, h.wall, &jid(ANN));
    assert_eq!(out.len(), 2, "bob hears ann leave both rooms");
    assert!(out.iter().all(|d| d.to.as_str() == BOB));
    let out = h.svc.session_ended(h.now, h.wall, &jid(BOB));
    assert!(out.is_empty());
    assert_eq!(
        h.svc.rooms().count(),
        0,
        "temporary rooms end with their last occupant"
    );
}

#[test]
fn persistent_rooms_survive_restart_with_archive() {
    let mut h = H::new();
    h.instant(ANN, "keep", "ann");
    h.configure(
        ANN,
        "keep",
        &[
            ("muc#roomconfig_persistentroom", "1"),
            ("muc#roomconfig_roomname", "Keeper"),
        ],
    );
    h.join(BOB, "keep@chat.example.org/bob");
    h.admin_set(
        ANN,
        "keep",
        "<item affiliation='member' jid='bob@example.org'/>",
    );
    h.admin_set(
        ANN,
        "keep",
        "<item affiliation='outcast' jid='troll@example.com'><reason>spam</reason></item>",
    );
    h.send(
        BOB,
        "<message to='keep@chat.example.org' type='groupchat'><subject>Kept</subject></message>",
    );
    for (i, who) in [ANN, BOB, ANN].iter().enumerate() {
        h.say(who, "keep", &format!("note {i} about Rust"));
        h.tick(60);
    }
    h.say(BOB, "keep", "unrelated");
    // Leaving empties but keeps the room.
    h.send(
        ANN,
        "<presence type='unavailable' to='keep@chat.example.org/ann'/>",
    );
    h.send(
        BOB,
        "<presence type='unavailable' to='keep@chat.example.org/bob'/>",
    );
    assert!(h.svc.room(&jid("keep@chat.example.org")).is_some());
    let room = jid("keep@chat.example.org");
    let q = ArchiveQuery {
        text: Some("rust".into()),
        ..ArchiveQuery::default()
    };
    assert_eq!(h.svc.search_archive(&room, &q).unwrap().len(), 3);
    let q = ArchiveQuery {
        sender: Some("bob@example.org".into()),
        ..ArchiveQuery::default()
    };
    let bob: Vec<String> = h
        .svc
        .search_archive(&room, &q)
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(bob, vec!["note 1 about Rust", "unrelated"]);
    let q = ArchiveQuery {
        since: Some(h.wall - Duration::from_secs(61)),
        ..ArchiveQuery::default()
    };
    assert_eq!(h.svc.search_archive(&room, &q).unwrap().len(), 2);
    // Restart on the same store.
    let store = std::mem::replace(
        &mut h.svc,
        MucService::new(jid(SVC), cfg(), MemoryStore::default()).unwrap(),
    )
    .into_store();
    let mut h2 = H::with(cfg(), store);
    h2.now = h.now;
    h2.wall = h.wall;
    let r = h2.svc.room(&room).unwrap();
    assert_eq!(r.config().name, "Keeper");
    assert_eq!(r.affiliation(&jid("bob@example.org")), Affiliation::Member);
    assert_eq!(
        r.affiliation(&jid("troll@example.com")),
        Affiliation::Outcast
    );
    assert_eq!(r.subject(), Some(("Kept", "bob")));
    assert_eq!(
        h2.join("troll@example.com/x", "keep@chat.example.org/t")[0]
            .error()
            .as_deref(),
        Some("forbidden")
    );
    let out = h2.join(BOB, "keep@chat.example.org/bob");
    let bodies: Vec<String> = out.iter().filter_map(Out::body).collect();
    assert_eq!(bodies.len(), 4, "history restored from the archive");
    assert!(
        out.iter()
            .filter(|o| o.body().is_some())
            .all(|o| o.el.get_child("delay", "urn:xmpp:delay").is_some())
    );
    // Destroying a persistent room removes it from the store.
    h2.send(ANN, "<iq type='set' id='d' to='keep@chat.example.org'><query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query></iq>");
    assert!(h2.svc.store().load_rooms().unwrap().is_empty());
}

#[test]
fn lost_database_blocks_new_persistent_rooms_only() {
    let mut h = H::new();
    h.instant(ANN, "p", "ann");
    h.configure(ANN, "p", &[("muc#roomconfig_persistentroom", "1")]);
    h.instant(ANN, "q", "ann");
    h.svc.store_mut().set_failing(true);
    let out = h.configure(ANN, "q", &[("muc#roomconfig_persistentroom", "1")]);
    assert_eq!(out[0].error().as_deref(), Some("internal-server-error"));
    assert!(
        !h.svc
            .room(&jid("q@chat.example.org"))
            .unwrap()
            .config()
            .persistent
    );
    // Rooms keep running.
    assert_eq!(h.say(ANN, "p", "still here").len(), 1);
    h.svc.store_mut().set_failing(false);
    assert!(
        h.svc
            .search_archive(&jid("p@chat.example.org"), &ArchiveQuery::default())
            .unwrap()
            .is_empty(),
        "not written while down"
    );
    // Persistent-room cap.
    let mut c = cfg();
    c.max_persistent_rooms = 1;
    let mut h = H::with(c, MemoryStore::default());
    h.instant(ANN, "p", "ann");
    h.configure(ANN, "p", &[("muc#roomconfig_persistentroom", "1")]);
    h.instant(ANN, "q", "ann");
    let out = h.configure(ANN, "q", &[("muc#roomconfig_persistentroom", "1")]);
    assert_eq!(out[0].error().as_deref(), Some("resource-constraint"));
}

/// The interop scenario (three clients): create, configure members-only,
/// invite, join, talk, change subject, kick, ban, destroy.
#[test]
fn three_client_scenario() {
    let mut h = H::new();
    // create + configure members-only
    let out = h.join(ANN, "team@chat.example.org/ann");
    assert!(out[0].codes().contains(&201));
    let out = h.configure(
        ANN,
        "team",
        &[
            ("muc#roomconfig_membersonly", "1"),
            ("muc#roomconfig_roomname", "Team"),
        ],
    );
    assert_eq!(out[0].ty(), Some("result"));
    // invite two users
    for who in ["bob@example.org", "cy@example.net"] {
        let out = h.send(ANN, &format!("<message to='team@chat.example.org'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='{who}'/></x></message>"));
        assert_eq!(out[0].to, who);
    }
    // join
    let out = h.join(BOB, "team@chat.example.org/bob");
    assert!(to(&out, BOB).iter().any(|o| o.codes().contains(&110)));
    h.join(CY, "team@chat.example.org/cy");
    assert_eq!(
        h.svc
            .room(&jid("team@chat.example.org"))
            .unwrap()
            .occupants()
            .len(),
        3
    );
    // talk
    assert_eq!(h.say(BOB, "team", "hello").len(), 3);
    // change subject
    let out = h.send(CY, "<message to='team@chat.example.org' type='groupchat'><subject>Sprint 5</subject></message>");
    assert_eq!(out.len(), 3);
    // kick
    let out = h.admin_set(ANN, "team", "<item nick='cy' role='none'/>");
    assert!(out[0].codes().contains(&307));
    // ban
    let out = h.admin_set(
        ANN,
        "team",
        "<item affiliation='outcast' jid='bob@example.org'/>",
    );
    assert!(to(&out, BOB)[0].codes().contains(&301));
    assert_eq!(
        h.join(BOB, "team@chat.example.org/bob")[0]
            .error()
            .as_deref(),
        Some("forbidden")
    );
    // destroy
    let out = h.send(ANN, "<iq type='set' id='d' to='team@chat.example.org'><query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query></iq>");
    assert_eq!(out.last().unwrap().ty(), Some("result"));
    assert!(h.svc.room(&jid("team@chat.example.org")).is_none());
}

/// A join into a room of n occupants costs 2n + 2 deliveries (n presences
/// to the newcomer, n to the others, the self-presence and the subject).
#[test]
fn join_is_linear() {
    let mut c = cfg();
    c.default_max_occupants = 1000;
    let mut h = H::with(c, MemoryStore::default());
    h.instant(ANN, "big", "ann");
    for n in 1..300usize {
        let who = format!("u{n}@example.com/r");
        let out = h.svc.handle_stanza(
            h.now,
            h.wall,
            &jid(&who),
            xml(&format!("<presence to='big@chat.example.org/u{n}'/>")),
        );
        assert_eq!(out.len(), 2 * n + 2);
    }
    let out = h.say(ANN, "big", "all");
    assert_eq!(out.len(), 300);
    h.check();
}

/// XEP-0045 §5.2.1 affiliation privileges, exercised through the engine:
/// each row is an action, each column an affiliation of the actor (bob).
#[test]
fn affiliation_privilege_table() {
    #[derive(Clone, Copy, Debug)]
    enum Act {
        EnterMembersOnly,
        SpeakInModerated,
        RetrieveMemberList,
        BanUser,
        EditMemberList,
        GrantModerator,
        EditAdminList,
        EditOwnerList,
        ChangeConfig,
        DestroyRoom,
    }
    use Act::*;
    fn attempt(aff: &str, act: Act) -> bool {
        let mut h = H::new();
        h.instant(ANN, "t", "ann");
        if aff != "none" {
            h.admin_set(
                ANN,
                "t",
                &format!("<item affiliation='{aff}' jid='bob@example.org'/>"),
            );
        }
        h.join(CY, "t@chat.example.org/cy");
        match act {
            EnterMembersOnly => {
                h.configure(ANN, "t", &[("muc#roomconfig_membersonly", "1")]);
                return h
                    .join(BOB, "t@chat.example.org/bob")
                    .iter()
                    .any(|o| o.codes().contains(&110));
            }
            SpeakInModerated => {
                h.configure(ANN, "t", &[("muc#roomconfig_moderatedroom", "1")]);
                h.join(BOB, "t@chat.example.org/bob");
                return h.say(BOB, "t", "hello").iter().all(|o| o.error().is_none());
            }
            _ => {}
        }
        h.join(BOB, "t@chat.example.org/bob");
        let out = match act {
            RetrieveMemberList => h.send(BOB, "<iq type='get' id='q' to='t@chat.example.org'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member'/></query></iq>"),
            BanUser => h.admin_set(BOB, "t", "<item affiliation='outcast' jid='dee@example.net'/>"),
            EditMemberList => h.admin_set(BOB, "t", "<item affiliation='member' jid='dee@example.net'/>"),
            GrantModerator => h.admin_set(BOB, "t", "<item nick='cy' role='moderator'/>"),
            EditAdminList => h.admin_set(BOB, "t", "<item affiliation='admin' jid='dee@example.net'/>"),
            EditOwnerList => h.admin_set(BOB, "t", "<item affiliation='owner' jid='dee@example.net'/>"),
            ChangeConfig => h.configure(BOB, "t", &[("muc#roomconfig_roomname", "Mine")]),
            DestroyRoom => h.send(BOB, "<iq type='set' id='d' to='t@chat.example.org'><query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query></iq>"),
            EnterMembersOnly | SpeakInModerated => unreachable!(),
        };
        h.check();
        out.iter().any(|o| o.ty() == Some("result") && o.to == BOB)
    }
    // (action, none, member, admin, owner)
    let table = [
        (EnterMembersOnly, false, true, true, true),
        (SpeakInModerated, false, true, true, true),
        (RetrieveMemberList, false, true, true, true),
        (BanUser, false, false, true, true),
        (EditMemberList, false, false, true, true),
        (GrantModerator, false, false, true, true),
        (EditAdminList, false, false, false, true),
        (EditOwnerList, false, false, false, true),
        (ChangeConfig, false, false, false, true),
        (DestroyRoom, false, false, false, true),
    ];
    for (act, none, member, admin, owner) in table {
        for (aff, want) in [
            ("none", none),
            ("member", member),
            ("admin", admin),
            ("owner", owner),
        ] {
            assert_eq!(attempt(aff, act), want, "{act:?} as {aff}");
        }
    }
    // Outcasts cannot even enter.
    let mut h = H::new();
    h.instant(ANN, "t", "ann");
    h.admin_set(
        ANN,
        "t",
        "<item affiliation='outcast' jid='bob@example.org'/>",
    );
    assert_eq!(
        h.join(BOB, "t@chat.example.org/bob")[0].error().as_deref(),
        Some("forbidden")
    );
}
