//! Framer, parser and serializer behaviour on XMPP stream input.

use proptest::prelude::*;
use xmpp_core::StreamErrorCondition as C;
use xmpp_core::xml::{
    Element, Frame, Framer, Limit, Limits, NsContext, XmlError, parse_element, to_bytes,
};

const HEADER: &str = "<?xml version='1.0'?><stream:stream from='im.example.com' to='juliet@im.example.com' \
     version='1.0' xml:lang='en' id='s1' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

/// Feeds `input` in chunks of `chunk` bytes, collecting frames until the
/// input is used up or an error occurs.
fn frames(input: &[u8], chunk: usize, limits: Limits) -> (Vec<Frame>, Option<XmlError>) {
    let mut f = Framer::new(limits);
    let mut out = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        f.push(piece);
        loop {
            match f.next_frame() {
                Ok(Some(fr)) => out.push(fr),
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
    }
    (out, None)
}

fn error_of(body: &str) -> XmlError {
    let input = format!("{HEADER}{body}");
    let (_, err) = frames(input.as_bytes(), 7, Limits::default());
    match err {
        Some(e) => e,
        None => {
            // The framer accepted it; the parser must then refuse it.
            let (fr, _) = frames(input.as_bytes(), 4096, Limits::default());
            let Frame::StreamOpen(h) = &fr[0] else {
                panic!("no header")
            };
            for f in &fr[1..] {
                if let Frame::Element(raw) = f
                    && let Err(e) = parse_element(raw, &h.context, &Limits::default())
                {
                    return e;
                }
            }
            panic!("accepted: {body}")
        }
    }
}

#[test]
fn header_stanzas_and_close_in_any_chunking() {
    let body = "<message to='romeo@example.net' type='chat'><body>Art thou &lt;there&gt;?</body></message>\n \
                <presence/><iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq></stream:stream>";
    let input = format!("{HEADER}{body}");
    let reference = frames(input.as_bytes(), input.len(), Limits::default());
    assert!(reference.1.is_none());
    assert_eq!(reference.0.len(), 5);
    for chunk in [1, 2, 3, 5, 13, 64] {
        let got = frames(input.as_bytes(), chunk, Limits::default());
        assert_eq!(got, reference, "chunk size {chunk}");
    }
    let Frame::StreamOpen(h) = &reference.0[0] else {
        panic!()
    };
    assert_eq!(h.to.as_deref(), Some("juliet@im.example.com"));
    assert_eq!(h.id.as_deref(), Some("s1"));
    assert_eq!(h.lang.as_deref(), Some("en"));
    assert_eq!(h.version_numbers(), Some((1, 0)));
    assert_eq!(h.content_ns(), "jabber:client");
    let Frame::Element(raw) = &reference.0[1] else {
        panic!()
    };
    let msg = parse_element(raw, &h.context, &Limits::default()).unwrap();
    assert_eq!(
        msg.get_child("body", "jabber:client").unwrap().text(),
        "Art thou <there>?"
    );
    let Frame::Element(raw) = &reference.0[3] else {
        panic!()
    };
    let iq = parse_element(raw, &h.context, &Limits::default()).unwrap();
    assert!(iq.has_child("ping", "urn:xmpp:ping"));
    assert_eq!(reference.0[4], Frame::StreamClose);
}

#[test]
fn stream_prefixed_elements_resolve_to_the_stream_namespace() {
    let input = format!(
        "{HEADER}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"
    );
    let (fr, err) = frames(input.as_bytes(), 3, Limits::default());
    assert!(err.is_none());
    let Frame::StreamOpen(h) = &fr[0] else {
        panic!()
    };
    let Frame::Element(raw) = &fr[1] else {
        panic!()
    };
    let e = parse_element(raw, &h.context, &Limits::default()).unwrap();
    assert!(e.is("features", xmpp_core::ns::STREAM));
    assert!(e.has_child("bind", xmpp_core::ns::BIND));
}

#[test]
fn cdata_and_gt_in_attribute_values_do_not_confuse_the_framer() {
    let body =
        "<message a='x>y' b=\"/message>\"><body><![CDATA[</message> ]] ]]]></body></message>";
    let input = format!("{HEADER}{body}");
    let (fr, err) = frames(input.as_bytes(), 1, Limits::default());
    assert!(err.is_none(), "{err:?}");
    assert_eq!(fr.len(), 2);
    let Frame::StreamOpen(h) = &fr[0] else {
        panic!()
    };
    let Frame::Element(raw) = &fr[1] else {
        panic!()
    };
    let e = parse_element(raw, &h.context, &Limits::default()).unwrap();
    assert_eq!(e.attr("a"), Some("x>y"));
    assert_eq!(e.attr("b"), Some("/message>"));
    assert_eq!(
        e.get_child("body", "jabber:client").unwrap().text(),
        "</message> ]] ]"
    );
}

#[test]
fn restart_keeps_bytes_received_in_the_same_read() {
    // After SASL success the client's new header may arrive together with
    // the previous element: nothing may be lost across the restart.
    let mut f = Framer::new(Limits::default());
    f.push(HEADER.as_bytes());
    assert!(matches!(f.next_frame(), Ok(Some(Frame::StreamOpen(_)))));
    let tail = format!(
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>{HEADER}<iq type='set' id='b'/>"
    );
    f.push(tail.as_bytes());
    assert!(matches!(f.next_frame(), Ok(Some(Frame::Element(_)))));
    f.restart();
    assert!(matches!(f.next_frame(), Ok(Some(Frame::StreamOpen(_)))));
    let Ok(Some(Frame::Element(raw))) = f.next_frame() else {
        panic!()
    };
    assert_eq!(&raw[..], b"<iq type='set' id='b'/>");
    assert_eq!(f.next_frame(), Ok(None));
}

#[test]
fn take_buffered_hands_over_what_follows_starttls() {
    let mut f = Framer::new(Limits::default());
    f.push(HEADER.as_bytes());
    f.push(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\x16\x03\x01\x00");
    assert!(matches!(f.next_frame(), Ok(Some(Frame::StreamOpen(_)))));
    assert!(matches!(f.next_frame(), Ok(Some(Frame::Element(_)))));
    assert_eq!(&f.take_buffered()[..], b"\x16\x03\x01\x00");
    assert_eq!(f.buffered(), 0);
}

#[test]
fn whitespace_keepalives_are_skipped() {
    let input = format!("{HEADER} \n\t <presence/>\n\n\n");
    let (fr, err) = frames(input.as_bytes(), 1, Limits::default());
    assert!(err.is_none());
    assert_eq!(fr.len(), 2);
}

#[test]
fn forbidden_constructs_get_the_right_condition() {
    let cases: &[(&str, C)] = &[
        ("<!-- hi --><presence/>", C::RestrictedXml),
        ("<message><!-- hi --></message>", C::RestrictedXml),
        ("<!DOCTYPE x [<!ENTITY a 'b'>]>", C::RestrictedXml),
        ("<message><!ENTITY a 'b'></message>", C::RestrictedXml),
        ("<?php echo 1; ?>", C::RestrictedXml),
        ("<message><?pi x?></message>", C::RestrictedXml),
        ("<message><body>&ent;</body></message>", C::RestrictedXml),
        ("hello<presence/>", C::NotWellFormed),
        ("<message></presence>", C::NotWellFormed),
        ("<message a='1' a='2'/>", C::NotWellFormed),
        ("<message a='<'/>", C::NotWellFormed),
        ("<message><body>\u{1}</body></message>", C::NotWellFormed),
        ("<message><body>&#0;</body></message>", C::NotWellFormed),
        ("<message><body>&#xFFFE;</body></message>", C::NotWellFormed),
        ("<foo:message/>", C::BadNamespacePrefix),
        ("<message><x y:z='1'/></message>", C::BadNamespacePrefix),
        ("</presence>", C::NotWellFormed),
        ("<![CDATA[x]]>", C::NotWellFormed),
    ];
    for (body, want) in cases {
        assert_eq!(error_of(body).condition(), *want, "{body}");
    }
}

#[test]
fn invalid_utf8_is_not_well_formed() {
    let mut input = HEADER.as_bytes().to_vec();
    input.extend_from_slice(b"<message><body>\xff\xfe</body></message>");
    let (fr, err) = frames(&input, 5, Limits::default());
    assert!(err.is_none());
    let Frame::StreamOpen(h) = &fr[0] else {
        panic!()
    };
    let Frame::Element(raw) = &fr[1] else {
        panic!()
    };
    let e = parse_element(raw, &h.context, &Limits::default()).unwrap_err();
    assert_eq!(e.condition(), C::NotWellFormed);
}

#[test]
fn bad_headers() {
    let cases: &[(&str, C)] = &[
        (
            "<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong'>",
            C::InvalidNamespace,
        ),
        (
            "<stream:stream xmlns='jabber:client'>",
            C::BadNamespacePrefix,
        ),
        (
            "<stream:foo xmlns:stream='http://etherx.jabber.org/streams'>",
            C::BadFormat,
        ),
        (
            "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>",
            C::BadFormat,
        ),
        (
            "<stream xmlns='http://etherx.jabber.org/streams'>",
            C::InvalidNamespace,
        ),
        (
            "<?xml version='1.0' encoding='UTF-16'?><stream:stream>",
            C::UnsupportedEncoding,
        ),
        ("junk", C::NotWellFormed),
        ("<!DOCTYPE stream>", C::RestrictedXml),
    ];
    for (input, want) in cases {
        let (_, err) = frames(input.as_bytes(), 2, Limits::default());
        assert_eq!(err.map(|e| e.condition()), Some(*want), "{input}");
    }
}

#[test]
fn limits_are_policy_violations() {
    let small = Limits {
        max_stanza_bytes: 64,
        max_depth: 3,
        max_attributes: 2,
        max_attribute_bytes: 8,
        max_text_bytes: 10,
        ..Limits::default()
    };
    let cases: &[(String, Limit)] = &[
        (
            format!("<message><body>{}</body></message>", "x".repeat(100)),
            Limit::StanzaBytes,
        ),
        ("<a><b><c><d/></c></b></a>".to_owned(), Limit::Depth),
        ("<a x='1' y='2' z='3'/>".to_owned(), Limit::Attributes),
        ("<a x='123456789'/>".to_owned(), Limit::AttributeBytes),
        ("<a>12345678901</a>".to_owned(), Limit::TextBytes),
    ];
    for (body, want) in cases {
        let input = format!("{HEADER}{body}");
        let mut f = Framer::new(small.clone());
        f.push(input.as_bytes());
        let mut err = None;
        let mut ctx = None;
        loop {
            match f.next_frame() {
                Ok(Some(Frame::StreamOpen(h))) => ctx = Some(h.context),
                Ok(Some(Frame::Element(raw))) => {
                    err = parse_element(&raw, ctx.as_ref().unwrap(), &small).err();
                    break;
                }
                Ok(_) => break,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        assert_eq!(err, Some(XmlError::LimitExceeded(*want)), "{body}");
        assert_eq!(err.unwrap().condition(), C::PolicyViolation);
    }
}

#[test]
fn oversized_stanza_is_refused_before_it_is_complete() {
    let limits = Limits {
        max_stanza_bytes: 1024,
        ..Limits::default()
    };
    let mut f = Framer::new(limits);
    f.push(HEADER.as_bytes());
    assert!(f.next_frame().unwrap().is_some());
    f.push(b"<message><body>");
    for _ in 0..200 {
        f.push(b"0123456789");
        if let Err(e) = f.next_frame() {
            assert_eq!(e, XmlError::LimitExceeded(Limit::StanzaBytes));
            return;
        }
    }
    panic!("never refused");
}

#[test]
fn prefixed_namespaces_and_redeclarations() {
    let ctx = NsContext::stream("jabber:client");
    let raw = b"<message xmlns:x='urn:a'><x:foo x:attr='1' xml:lang='de'><bar xmlns='urn:b'><baz/></bar></x:foo></message>";
    let e = parse_element(raw, &ctx, &Limits::default()).unwrap();
    let foo = e.get_child("foo", "urn:a").unwrap();
    assert_eq!(foo.attr("{urn:a}attr"), Some("1"));
    assert_eq!(foo.attr("xml:lang"), Some("de"));
    let bar = foo.get_child("bar", "urn:b").unwrap();
    assert!(bar.has_child("baz", "urn:b"));
    // Serializing and parsing again gives the same tree.
    let again = parse_element(&to_bytes(&e, "jabber:client"), &ctx, &Limits::default()).unwrap();
    assert_eq!(again, e);
}

fn arb_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_.-]{0,8}"
}

fn arb_text() -> impl Strategy<Value = String> {
    // Any XML Char, including the characters that need escaping.
    proptest::collection::vec(
        prop_oneof![
            Just('<'),
            Just('>'),
            Just('&'),
            Just('"'),
            Just('\''),
            Just('\r'),
            Just('\n'),
            Just('\t'),
            Just(']'),
            any::<char>().prop_filter("xml char", |c| {
                (!c.is_control() || matches!(c, '\t' | '\n' | '\r'))
                    && !matches!(*c, '\u{FFFE}' | '\u{FFFF}')
            }),
        ],
        0..20,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn arb_element() -> impl Strategy<Value = Element> {
    let ns = prop_oneof![
        Just("jabber:client".to_owned()),
        Just("urn:x".to_owned()),
        Just(String::new())
    ];
    let leaf = (
        arb_name(),
        ns.clone(),
        proptest::collection::vec((arb_name(), arb_text()), 0..4),
        arb_text(),
    )
        .prop_map(|(n, ns, attrs, text)| {
            let mut e = Element::new(n, ns);
            for (k, v) in attrs {
                e.set_attr(k, v);
            }
            e.with_text(text)
        });
    leaf.prop_recursive(4, 32, 5, move |inner| {
        (
            arb_name(),
            ns.clone(),
            proptest::collection::vec(
                prop_oneof![inner.prop_map(Ok), arb_text().prop_map(Err),],
                0..5,
            ),
            prop_oneof![Just(None), Just(Some("en")), Just(Some("fr"))],
        )
            .prop_map(|(n, ns, kids, lang)| {
                let mut e = Element::new(n, ns).with_opt_attr("xml:lang", lang);
                for k in kids {
                    match k {
                        Ok(c) => e.append_child(c),
                        Err(t) => e.append_text(&t),
                    }
                }
                e
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_of_serialize_is_identity(e in arb_element()) {
        let ctx = NsContext::stream("jabber:client");
        let bytes = to_bytes(&e, "jabber:client");
        let back = parse_element(&bytes, &ctx, &Limits::default()).unwrap();
        prop_assert_eq!(back, e);
    }

    #[test]
    fn framing_is_independent_of_chunking(e in arb_element(), chunk in 1usize..40) {
        let mut input = HEADER.as_bytes().to_vec();
        input.extend_from_slice(&to_bytes(&e, "jabber:client"));
        input.extend_from_slice(b"</stream:stream>");
        let whole = frames(&input, input.len(), Limits::default());
        prop_assert!(whole.1.is_none());
        prop_assert_eq!(frames(&input, chunk, Limits::default()), whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300), chunk in 1usize..16) {
        let mut input = HEADER.as_bytes().to_vec();
        input.extend_from_slice(&data);
        let (fr, _) = frames(&input, chunk, Limits::default());
        if let Some(Frame::StreamOpen(h)) = fr.first() {
            for f in &fr[1..] {
                if let Frame::Element(raw) = f {
                    let _ = parse_element(raw, &h.context, &Limits::default());
                }
            }
        }
    }
}
