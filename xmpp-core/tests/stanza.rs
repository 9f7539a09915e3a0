//! Typed stanza views over stanzas read from the wire (RFC 6120 §8,
//! RFC 6121 §4–§5), error replies (§8.3.1), and a build → serialize →
//! parse round-trip property.

use proptest::prelude::*;
use xmpp_core::ns;
use xmpp_core::stanza::{
    DefinedCondition, ErrorType, Iq, IqType, Message, MessageType, Presence, PresenceType, Show,
    Stanza, StanzaError, StanzaParseError, make_error_reply, make_error_reply_with_payload,
};
use xmpp_core::xml::{
    Element, Frame, Framer, Limits, NsContext, StreamHeader, parse_element, to_bytes,
};

const CLIENT_HEADER: &str = "<stream:stream from='shakespeare.example' to='lear@shakespeare.example' \
     version='1.0' xml:lang='en' id='st-9' xmlns='jabber:client' \
     xmlns:stream='http://etherx.jabber.org/streams'>";

/// Frames and parses `body` after a client stream header, returning the
/// header and the parsed elements.
fn read_stream(header: &str, body: &str) -> (StreamHeader, Vec<Element>) {
    let mut framer = Framer::new(Limits::default());
    framer.push(header.as_bytes());
    framer.push(body.as_bytes());
    let Ok(Some(Frame::StreamOpen(h))) = framer.next_frame() else {
        panic!("no stream header")
    };
    let mut out = Vec::new();
    while let Some(f) = framer.next_frame().expect("framing") {
        if let Frame::Element(raw) = f {
            out.push(parse_element(&raw, &h.context, framer.limits()).expect("parse"));
        }
    }
    (h, out)
}

fn stanzas(body: &str) -> Vec<Result<Stanza, StanzaParseError>> {
    let (h, els) = read_stream(CLIENT_HEADER, body);
    els.into_iter()
        .map(|e| Stanza::from_element(e, h.content_ns()))
        .collect()
}

#[test]
fn chat_message_from_the_wire() {
    let got = stanzas(
        "<message from='regan@shakespeare.example/hall' to='lear@shakespeare.example' \
           type='chat' id='k2' xml:lang='en'>\
           <subject>The storm</subject>\
           <body>Come in out of the rain.</body>\
           <body xml:lang='de'>Komm herein aus dem Regen.</body>\
           <thread parent='t-0'>t-1</thread>\
           <active xmlns='http://jabber.org/protocol/chatstates'/>\
         </message>",
    );
    let [Ok(Stanza::Message(m))] = got.as_slice() else {
        panic!("{got:?}")
    };
    assert_eq!(m.message_type(), MessageType::Chat);
    assert_eq!(m.from(), Some("regan@shakespeare.example/hall"));
    assert_eq!(m.to(), Some("lear@shakespeare.example"));
    assert_eq!(m.id(), Some("k2"));
    assert_eq!(m.lang(), Some("en"));
    assert_eq!(m.subject(&[]).as_deref(), Some("The storm"));
    assert_eq!(
        m.body(&["de-AT"]).as_deref(),
        Some("Komm herein aus dem Regen.")
    );
    assert_eq!(m.body(&["en"]).as_deref(), Some("Come in out of the rain."));
    let langs: Vec<_> = m.bodies().map(|(l, _)| l).collect();
    assert_eq!(langs, [Some("en"), Some("de")]);
    assert_eq!(m.thread().as_deref(), Some("t-1"));
    assert_eq!(m.thread_parent(), Some("t-0"));
    assert_eq!(m.payloads().count(), 1);
}

#[test]
fn presence_and_iq_from_the_wire() {
    let got = stanzas(
        "<presence xml:lang='en'><show>dnd</show><status>rehearsing</status>\
           <status xml:lang='fr'>en répétition</status><priority>12</priority>\
           <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' \
              node='https://app.example' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>\
         <presence type='subscribe' to='goneril@shakespeare.example'/>\
         <iq type='get' id='rost-1'><query xmlns='jabber:iq:roster'/></iq>\
         <iq type='result' id='ping-3' from='shakespeare.example'/>",
    );
    let [
        Ok(Stanza::Presence(avail)),
        Ok(Stanza::Presence(sub)),
        Ok(Stanza::Iq(get)),
        Ok(Stanza::Iq(res)),
    ] = got.as_slice()
    else {
        panic!("{got:?}")
    };
    assert_eq!(avail.presence_type(), PresenceType::Available);
    assert_eq!(avail.show(), Some(Show::Dnd));
    assert_eq!(avail.priority(), 12);
    assert_eq!(avail.status(&["fr"]).as_deref(), Some("en répétition"));
    assert_eq!(avail.status(&[]).as_deref(), Some("rehearsing"));
    assert!(
        avail
            .payload_named("c", "http://jabber.org/protocol/caps")
            .is_some()
    );
    assert_eq!(sub.presence_type(), PresenceType::Subscribe);
    assert_eq!(get.iq_type(), IqType::Get);
    assert_eq!(get.payload().map(Element::ns), Some(ns::ROSTER));
    assert_eq!(res.iq_type(), IqType::Result);
    assert!(res.payload().is_none());
}

#[test]
fn invalid_stanzas_from_the_wire_map_to_bad_request() {
    let got = stanzas(
        "<iq type='get' id='two'><a xmlns='urn:x'/><b xmlns='urn:x'/></iq>\
         <iq type='set' id='none'/>\
         <iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>\
         <presence><priority>300</priority></presence>\
         <presence><show>sleeping</show></presence>\
         <presence type='hidden'/>",
    );
    assert_eq!(got.len(), 6);
    for r in &got {
        let err = r.as_ref().expect_err("must be rejected");
        assert_eq!(err.condition(), DefinedCondition::BadRequest, "{err}");
        assert_eq!(err.stream_condition(), None);
    }
}

#[test]
fn server_stream_stanzas() {
    let header = "<stream:stream from='a.example' to='b.example' version='1.0' \
                  xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>";
    let (h, els) = read_stream(
        header,
        "<message from='x@a.example' to='y@b.example'><body>hi</body></message>",
    );
    assert_eq!(h.content_ns(), ns::SERVER);
    let el = els.into_iter().next().unwrap();
    let Stanza::Message(m) = Stanza::from_element(el.clone(), ns::SERVER).unwrap() else {
        panic!()
    };
    assert_eq!(m.content_ns(), ns::SERVER);
    assert_eq!(m.body(&[]).as_deref(), Some("hi"));
    // Both addresses are required between servers.
    let mut bare = el.clone();
    bare.remove_attr("from");
    assert_eq!(
        Stanza::from_element(bare, ns::SERVER).unwrap_err(),
        StanzaParseError::ImproperAddressing("from")
    );
    // The same element does not belong in a client stream.
    assert!(matches!(
        Stanza::from_element(el, ns::CLIENT),
        Err(StanzaParseError::WrongNamespace { .. })
    ));
}

#[test]
fn error_reply_over_the_wire() {
    // A client sends an IQ the server does not understand; the server
    // answers with an error that echoes the payload.
    let (h, els) = read_stream(
        CLIENT_HEADER,
        "<iq type='set' id='u-8' to='shakespeare.example' from='lear@shakespeare.example/throne'>\
           <crown xmlns='urn:example:regalia'/></iq>",
    );
    let req = &els[0];
    let err = StanzaError::new(DefinedCondition::ServiceUnavailable)
        .with_text(Some("en"), "no crowns here")
        .with_by("shakespeare.example");
    let reply = make_error_reply_with_payload(req, err.clone()).unwrap();
    let bytes = to_bytes(&reply, h.content_ns());
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.starts_with("<iq "), "{text}");
    let back = parse_element(&bytes, &h.context, &Limits::default()).unwrap();
    let iq = Iq::try_from(back).unwrap();
    assert_eq!(iq.iq_type(), IqType::Error);
    assert_eq!(iq.id(), Some("u-8"));
    assert_eq!(iq.to(), Some("lear@shakespeare.example/throne"));
    assert_eq!(iq.from(), Some("shakespeare.example"));
    assert_eq!(iq.payload().map(Element::name), Some("crown"));
    let got = iq.error().unwrap();
    assert_eq!(got, err);
    assert_eq!(got.error_type, ErrorType::Cancel);
    // Never an error in reply to an error.
    assert!(make_error_reply(iq.as_element(), err).is_none());
}

#[test]
fn parse_error_becomes_a_stanza_error() {
    let bad = Element::new("iq", ns::CLIENT)
        .with_attr("type", "get")
        .with_attr("id", "e1")
        .with_attr("from", "lear@shakespeare.example/throne");
    let err = Stanza::validate(&bad, ns::CLIENT).unwrap_err();
    let reply = make_error_reply(&bad, StanzaError::from(&err)).unwrap();
    let reply = Iq::try_from(reply).unwrap();
    let got = reply.error().unwrap();
    assert_eq!(got.condition, DefinedCondition::BadRequest);
    assert_eq!(got.error_type, ErrorType::Modify);
    assert_eq!(reply.to(), Some("lear@shakespeare.example/throne"));
}

// ---- round-trip property ----

/// Text of XML 1.0 characters (the parser rejects the others).
fn xml_text() -> impl Strategy<Value = String> {
    "[^\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\u{fffe}\u{ffff}]{0,24}"
}

fn lang() -> impl Strategy<Value = String> {
    "[a-z]{2}(-[A-Z]{2})?"
}

fn envelope() -> impl Strategy<
    Value = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ),
> {
    (
        proptest::option::of(xml_text()),
        proptest::option::of(xml_text()),
        proptest::option::of(xml_text()),
        proptest::option::of(lang()),
    )
}

fn payload() -> impl Strategy<Value = Element> {
    (
        "[a-z][a-z0-9-]{0,8}",
        "urn:example:[a-z]{1,6}",
        proptest::collection::vec(("[a-z]{1,6}", xml_text()), 0..3),
        xml_text(),
    )
        .prop_map(|(name, ns, attrs, text)| {
            let mut e = Element::new(name, ns);
            for (k, v) in attrs {
                e.set_attr(k, v);
            }
            e.with_text(text)
        })
}

macro_rules! apply_envelope {
    ($s:expr, $env:expr) => {{
        let (to, from, id, lang) = $env;
        let mut s = $s;
        s.set_to(to.as_deref());
        s.set_from(from.as_deref());
        s.set_id(id.as_deref());
        s.set_lang(lang.as_deref());
        s
    }};
}

fn message() -> impl Strategy<Value = Message> {
    (
        envelope(),
        prop_oneof![
            Just(MessageType::Chat),
            Just(MessageType::Groupchat),
            Just(MessageType::Headline),
            Just(MessageType::Normal),
            Just(MessageType::Error),
        ],
        proptest::collection::vec((proptest::option::of(lang()), xml_text()), 0..3),
        proptest::option::of(xml_text()),
        proptest::option::of((xml_text(), proptest::option::of(xml_text()))),
        proptest::collection::vec(payload(), 0..3),
    )
        .prop_map(|(env, t, bodies, subject, thread, payloads)| {
            let mut m = apply_envelope!(Message::new().with_type(t), env);
            for (l, b) in bodies {
                m.set_body(l.as_deref(), Some(&b));
            }
            m.set_subject(None, subject.as_deref());
            if let Some((id, parent)) = thread {
                m.set_thread(Some(&id), parent.as_deref());
            }
            for p in payloads {
                m.add_payload(p);
            }
            m
        })
}

fn presence() -> impl Strategy<Value = Presence> {
    (
        envelope(),
        prop_oneof![
            Just(PresenceType::Available),
            Just(PresenceType::Unavailable),
            Just(PresenceType::Subscribe),
            Just(PresenceType::Subscribed),
            Just(PresenceType::Unsubscribe),
            Just(PresenceType::Unsubscribed),
            Just(PresenceType::Probe),
        ],
        proptest::option::of(prop_oneof![
            Just(Show::Away),
            Just(Show::Chat),
            Just(Show::Dnd),
            Just(Show::Xa)
        ]),
        proptest::collection::vec((proptest::option::of(lang()), xml_text()), 0..3),
        proptest::option::of(any::<i8>()),
        proptest::collection::vec(payload(), 0..2),
    )
        .prop_map(|(env, t, show, statuses, prio, payloads)| {
            let mut p = apply_envelope!(Presence::new(t), env);
            p.set_show(show);
            for (l, s) in statuses {
                p.set_status(l.as_deref(), Some(&s));
            }
            p.set_priority(prio);
            for x in payloads {
                p.add_payload(x);
            }
            p
        })
}

fn iq() -> impl Strategy<Value = Iq> {
    (
        envelope(),
        xml_text(),
        0..4u8,
        payload(),
        proptest::option::of(payload()),
    )
        .prop_map(|(env, id, kind, p, result_payload)| {
            let (to, from, _, lang) = env;
            let req = match kind {
                0 => Iq::get(&id, p),
                _ => Iq::set(&id, p),
            };
            let mut iq = match kind {
                2 => Iq::result_for(&req, result_payload),
                3 => Iq::error_for(
                    &req,
                    StanzaError::new(DefinedCondition::ItemNotFound).with_text(None, "gone"),
                )
                .expect("a request can be answered"),
                _ => req,
            };
            iq.set_to(to.as_deref());
            iq.set_from(from.as_deref());
            iq.set_lang(lang.as_deref());
            iq
        })
}

fn round_trip(s: Stanza, content_ns: &str) -> Stanza {
    let el: Element = s.into();
    let bytes = to_bytes(&el, content_ns);
    let ctx = NsContext::stream(content_ns);
    let parsed = parse_element(&bytes, &ctx, &Limits::default()).expect("parse");
    Stanza::from_element(parsed, content_ns).expect("valid stanza")
}

proptest! {
    #[test]
    fn built_messages_round_trip(m in message(), server in any::<bool>()) {
        let content_ns = if server { ns::SERVER } else { ns::CLIENT };
        let mut m = m.with_content_ns(content_ns);
        if server {
            // Server-to-server stanzas always carry both addresses.
            let to = m.to().unwrap_or("room@muc.example.net").to_owned();
            let from = m.from().unwrap_or("a.example").to_owned();
            m.set_to(Some(&to));
            m.set_from(Some(&from));
        }
        let back = round_trip(m.clone().into(), content_ns);
        prop_assert_eq!(back, Stanza::Message(m));
    }

    #[test]
    fn built_presences_round_trip(p in presence()) {
        let back = round_trip(p.clone().into(), ns::CLIENT);
        let Stanza::Presence(q) = &back else { panic!("{back:?}") };
        prop_assert_eq!(q.priority(), p.priority());
        prop_assert_eq!(q.show(), p.show());
        prop_assert_eq!(back, Stanza::Presence(p));
    }

    #[test]
    fn built_iqs_round_trip(iq in iq()) {
        let back = round_trip(iq.clone().into(), ns::CLIENT);
        prop_assert_eq!(back, Stanza::Iq(iq));
    }
}
