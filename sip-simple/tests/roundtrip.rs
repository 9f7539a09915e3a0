//! Property tests: generated messages survive serialize → parse unchanged,
//! and the parser and stream framer never panic on arbitrary or mangled
//! input.

use proptest::prelude::*;
use sip_simple::framing::{StreamFramer, parse_datagram};
use sip_simple::{Header, HeaderName, Limits, MediaType, Message, Method, NameAddr, SipUri, Via};

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.!%*_+`'~-]{0,12}"
}

fn uri_token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.!*_+'~-]{0,12}"
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,8}(\\.[a-z][a-z0-9]{0,6}){0,3}",
        (any::<u8>(), any::<u8>()).prop_map(|(a, b)| format!("192.0.{a}.{b}")),
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| format!("[2001:db8::{a:x}:{b:x}]")),
    ]
}

fn sip_uri() -> impl Strategy<Value = SipUri> {
    (
        proptest::option::of("[a-zA-Z0-9._~+-]{1,10}(%[0-9A-F]{2})?"),
        host(),
        proptest::option::of(1u16..),
        proptest::collection::vec((uri_token(), proptest::option::of(uri_token())), 0..3),
        any::<bool>(),
    )
        .prop_map(|(user, host, port, params, secure)| {
            let mut u = SipUri::new(user.as_deref(), &host);
            u.port = port;
            u.secure = secure;
            for (n, v) in params {
                u.params.set(n, v.map(Into::into));
            }
            u
        })
}

fn name_addr() -> impl Strategy<Value = NameAddr> {
    (
        sip_uri(),
        proptest::option::of("[ -~]{0,20}"),
        proptest::option::of(token()),
    )
        .prop_map(|(uri, display, tag)| {
            let mut a = NameAddr::new(uri);
            if let Some(d) = display {
                a = a.with_display_name(&d);
            }
            if let Some(t) = tag {
                a = a.with_param("tag", Some(&t));
            }
            a
        })
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Subscribe),
        Just(Method::Notify),
        Just(Method::Publish),
        Just(Method::Message),
        Just(Method::Options),
        Just(Method::Register),
        token().prop_map(|t| Method::parse(&t).unwrap()),
    ]
}

/// Extension header values: visible text with inner spaces, no edges.
fn header_value() -> impl Strategy<Value = String> {
    "[!-~]([ -~]{0,30}[!-~])?"
}

prop_compose! {
    fn message()(
        is_request in any::<bool>(),
        method in method(),
        ruri in sip_uri(),
        code in 100u16..700,
        reason in "[A-Za-z][A-Za-z ]{0,15}",
        vias in proptest::collection::vec((prop_oneof![Just("UDP"), Just("TCP"), Just("TLS")], host(), proptest::option::of(1u16..), token()), 1..4),
        from in name_addr(),
        to in name_addr(),
        call_id in "[a-zA-Z0-9.!%*_+`'~-]{1,20}(@[a-z0-9.]{1,10})?",
        seq in any::<u32>(),
        extra in proptest::collection::vec(("X-[A-Za-z0-9-]{1,10}", header_value()), 0..5),
        body in proptest::collection::vec(any::<u8>(), 0..200),
    ) -> Message {
        let mut b = if is_request {
            Message::request(method.clone(), ruri)
        } else {
            Message::response(code, reason.trim_end())
        };
        for (t, h, p, br) in &vias {
            b = b.via(&Via::new(t, h, *p, &format!("z9hG4bK{br}")));
        }
        b = b.from(&from).to(&to).call_id(&call_id).cseq(seq, method).max_forwards(70);
        for (n, v) in extra {
            b = b.header(HeaderName::from_name(&n), v);
        }
        if !body.is_empty() {
            b = b.body(&MediaType::new("application", "octet-stream"), body);
        }
        let dbg = format!("{from} / {to}");
        b.build().unwrap_or_else(|e| panic!("{e}: {dbg}"))
    }
}

proptest! {
    #[test]
    fn serialize_then_parse_is_identity(m in message()) {
        let wire = m.to_bytes();
        let back = Message::parse(&wire).unwrap();
        prop_assert_eq!(&back, &m);
        prop_assert_eq!(back.to_bytes(), wire.clone());
        // The same bytes through the stream framer, split anywhere.
        let mut f = StreamFramer::new(Limits::DEFAULT);
        let cut = wire.len() / 3;
        f.feed(&wire[..cut]);
        prop_assert_eq!(f.next_message().unwrap(), None);
        f.feed(&wire[cut..]);
        prop_assert_eq!(f.next_message().unwrap(), Some(m));
    }

    #[test]
    fn parser_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_datagram(&data, &Limits::DEFAULT);
        let mut f = StreamFramer::new(Limits::DEFAULT);
        f.feed(&data);
        let _ = f.next_message();
    }

    #[test]
    fn mangled_messages_never_panic(m in message(), pos in any::<usize>(), byte in any::<u8>()) {
        let mut wire = m.to_bytes().to_vec();
        let i = pos % wire.len();
        wire[i] = byte;
        if let Ok(parsed) = parse_datagram(&wire, &Limits::DEFAULT) {
            // Whatever parses must serialize and parse back the same.
            let again = Message::parse(&parsed.to_bytes());
            prop_assert_eq!(again.ok(), Some(parsed));
        }
        let _ = parse_datagram(&wire[..i], &Limits::DEFAULT);
    }
}

#[test]
fn header_order_and_unknown_headers_are_kept() {
    let m = Message::parse(
        b"NOTIFY sip:w@192.0.2.9 SIP/2.0\r\nX-B: 2\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n\
X-A: 1\r\nv: SIP/2.0/UDP b;branch=z9hG4bK2, SIP/2.0/UDP c;branch=z9hG4bK3\r\n\
From: <sip:p@example.com>;tag=1\r\nTo: <sip:w@example.com>;tag=2\r\nCall-ID: n1\r\n\
CSeq: 2 NOTIFY\r\nContent-Length: 0\r\n\r\n",
    )
    .unwrap();
    let names: Vec<&str> = m
        .headers()
        .iter()
        .map(|h: &Header| h.name.as_str())
        .collect();
    assert_eq!(&names[..4], ["X-B", "Via", "X-A", "Via"]);
    assert_eq!(m.vias().len(), 3);
    assert_eq!(m.header_values(HeaderName::Via).len(), 3);
}
