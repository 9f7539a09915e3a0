//! RFC 4475 and RFC 5118 torture messages, driven by the corpus manifests.
//! Each message must give the outcome its manifest expects; many also have
//! their parsed values checked.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sip_simple::framing::{error_response, is_response, parse_datagram};
use sip_simple::{
    Contact, HeaderName, Limits, Message, Method, ParseError, Rejection, Uri, unescape,
};

fn corpus_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus")).join(name);
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "torture corpus missing at {} (expected ../shared/corpus beside the repository)",
        dir.display()
    );
    dir
}

struct Case {
    expected: String,
    bytes: Vec<u8>,
}

fn load(name: &str) -> BTreeMap<String, Case> {
    let dir = corpus_dir(name);
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let mut out = BTreeMap::new();
    for line in manifest.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let bytes = std::fs::read(dir.join(format!("{}.dat", cols[0])))
            .unwrap_or_else(|e| panic!("{}: {e}", cols[0]));
        out.insert(
            cols[0].to_owned(),
            Case {
                expected: cols[2].to_owned(),
                bytes,
            },
        );
    }
    assert!(!out.is_empty());
    out
}

fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
    parse_datagram(bytes, &Limits::default())
}

/// What the stack does with a datagram: parse, then the semantic check for
/// requests. `Ok` means accepted.
fn outcome(bytes: &[u8]) -> Result<Message, String> {
    let m = parse(bytes).map_err(|e| format!("parse: {e} ({})", e.status_code()))?;
    Ok(m)
}

#[test]
fn rfc4475_manifest_outcomes() {
    let cases = load("sip-torture");
    assert_eq!(cases.len(), 49);
    let mut failures = Vec::new();
    for (name, case) in &cases {
        let res = outcome(&case.bytes);
        let ok = match case.expected.as_str() {
            "valid" => match &res {
                Ok(m) => m.check().is_ok(),
                Err(_) => false,
            },
            "invalid" => res.is_err(),
            "valid-but-semantic-error" => res.is_ok(),
            other => panic!("unknown expectation {other}"),
        };
        if !ok {
            failures.push(format!(
                "{name} ({}): {:?}",
                case.expected,
                res.map(|m| m.check())
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "torture failures:\n{}",
        failures.join("\n")
    );
}

fn msg(name: &str) -> Message {
    let cases = load("sip-torture");
    parse(&cases[name].bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn err(name: &str) -> ParseError {
    let cases = load("sip-torture");
    parse(&cases[name].bytes).expect_err(name)
}

#[test]
fn wsinv_values() {
    let m = msg("wsinv");
    assert_eq!(m.method(), Some(&Method::Invite));
    assert_eq!(m.to().unwrap().tag(), Some("1918181833n"));
    assert_eq!(m.from().unwrap().tag(), Some("98asjd8"));
    assert_eq!(
        m.from().unwrap().display_name_unquoted().as_deref(),
        Some("J Rosenberg \\\"")
    );
    assert_eq!(m.max_forwards(), Some(68));
    assert_eq!(m.cseq().unwrap().seq, 9);
    assert_eq!(m.vias().len(), 3);
    assert_eq!(m.vias()[1].transport, "TCP");
    assert_eq!(m.vias()[1].branch(), Some("z9hG4bK9ikj8"));
    assert_eq!(m.vias()[2].host, "192.168.255.111");
    assert_eq!(m.header(HeaderName::Subject).map(|t| t.as_str()), Some(""));
    assert_eq!(
        m.header("NewFangledHeader").map(|t| t.as_str()),
        Some("newfangled value continued newfangled value")
    );
    assert_eq!(
        m.header("UnknownHeaderWithUnusualValue")
            .map(|t| t.as_str()),
        Some(";;,,;;,;")
    );
    let c = m.contacts().unwrap();
    let Contact::Addr(a) = &c[0] else { panic!() };
    assert_eq!(a.q(), Some(0.33));
    assert_eq!(a.params.value("newparam"), Some("newvalue"));
    let r = m.routes().unwrap();
    assert!(r[0].uri.params().unwrap().contains("unknown-no-value"));
    assert_eq!(m.body().len(), 150);
    assert_eq!(Message::parse(&m.to_bytes()).unwrap(), m);
}

#[test]
fn intmeth_values() {
    let m = msg("intmeth");
    assert_eq!(
        m.method().unwrap().as_str(),
        "!interesting-Method0123456789_*+`.%indeed'~"
    );
    assert!(!m.method().unwrap().is_known());
    let to = m.to().unwrap();
    assert_eq!(
        to.display_name_unquoted().as_deref(),
        Some("BEL:\x07 NUL:\0 DEL:\x7f")
    );
    let uri = m.request_uri().unwrap().as_sip().unwrap();
    assert_eq!(
        uri.password.as_deref(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(m.from().unwrap().tag(), Some("_token~1'+`*%!-."));
    assert_eq!(
        m.call_id(),
        Some("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
    );
    assert!(m.header("extensionHeader-!.%*+_`'~").is_some());
    assert_eq!(Message::parse(&m.to_bytes()).unwrap(), m);
}

#[test]
fn escapes_are_decoded_once() {
    let m = msg("esc01");
    let ru = m.request_uri().unwrap().as_sip().unwrap();
    assert_eq!(ru.user_unescaped().unwrap(), b"sips:user@example.com");
    let to = m
        .to()
        .unwrap()
        .uri
        .as_sip()
        .unwrap()
        .user_unescaped()
        .unwrap();
    assert_eq!(to, b"user");
    let Contact::Addr(c) = &m.contacts().unwrap()[0] else {
        panic!()
    };
    let p = &c.uri.params().unwrap().0;
    assert_eq!(unescape(&p[0].name), b"lr");
    assert_eq!(unescape(&p[1].name), b"name");
    assert_eq!(unescape(p[1].value.as_deref().unwrap()), b"value%41");

    let m = msg("escnull");
    assert_eq!(
        m.to()
            .unwrap()
            .uri
            .as_sip()
            .unwrap()
            .user_unescaped()
            .unwrap(),
        b"null-\0-null"
    );
    let c = m.contacts().unwrap();
    assert_eq!(c.len(), 2);
    assert_ne!(c[0], c[1]);

    let m = msg("esc02");
    assert_eq!(m.method().unwrap().as_str(), "RE%47IST%45R");
    assert_eq!(
        m.from().unwrap().display_name_unquoted().as_deref(),
        Some("%Z%45")
    );
    assert_eq!(m.contacts().unwrap().len(), 2);
    assert!(m.header("C%6Fntact").is_some());
}

#[test]
fn other_valid_values() {
    assert_eq!(
        msg("lwsdisp").from().unwrap().display_name.as_deref(),
        Some("caller")
    );
    let m = msg("longreq");
    assert!(m.from().unwrap().tag().unwrap().len() > 50);
    assert!(
        m.to()
            .unwrap()
            .uri
            .params()
            .unwrap()
            .iter()
            .any(|p| p.name.len() > 50)
    );
    assert!(m.vias().len() > 10);
    let m = msg("dblreq");
    assert_eq!(m.method(), Some(&Method::Register));
    assert!(m.body().is_empty());
    let m = msg("semiuri");
    let ru = m.request_uri().unwrap().as_sip().unwrap();
    assert_eq!(ru.user_unescaped().unwrap(), b"user;par=u@example.net");
    assert_eq!(ru.host, "example.com");
    assert_eq!(m.header_values(HeaderName::Accept).len(), 6);
    let m = msg("transports");
    let t: Vec<&str> = m.vias().iter().map(|v| v.transport.as_str()).collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
    let m = msg("mpart01");
    assert_eq!(m.body().len() as u32, m.content_length().unwrap());
    assert!(m.content_type().unwrap().unwrap().is("multipart", "mixed"));
    let m = msg("unreason");
    assert_eq!(m.status(), Some(200));
    assert!(
        m.status_line()
            .unwrap()
            .reason
            .starts_with("= 2**3 * 5**2 ")
    );
    let m = msg("noreason");
    assert_eq!(m.status(), Some(100));
    assert_eq!(m.status_line().unwrap().reason, "");
    // cparam01: ;unknownparam belongs to the Contact, not to the URI.
    let Contact::Addr(c) = &msg("cparam01").contacts().unwrap()[0] else {
        panic!()
    };
    assert!(c.params.contains("unknownparam"));
    assert!(c.uri.params().unwrap().is_empty());
    // cparam02: inside <> it is a URI parameter.
    let Contact::Addr(c) = &msg("cparam02").contacts().unwrap()[0] else {
        panic!()
    };
    assert!(c.uri.params().unwrap().contains("unknownparam"));
    assert!(c.params.is_empty());
    let Contact::Addr(c) = &msg("regescrt").contacts().unwrap()[0] else {
        panic!()
    };
    let h = &c.uri.as_sip().unwrap().headers;
    assert_eq!(h[0].0, "Route");
    assert_eq!(unescape(&h[0].1), b"<sip:sip.example.com>");
    let m = msg("inv2543");
    assert!(!m.top_via().unwrap().has_rfc3261_branch());
    assert!(m.from().unwrap().tag().is_none());
    assert!(m.content_length().is_none());
    assert!(m.body().starts_with(b"v=0"));
}

#[test]
fn invalid_messages_get_the_right_answer() {
    let cases = load("sip-torture");
    let expect = [
        ("badinv01", 400),
        ("clerr", 400),
        ("ncl", 400),
        ("scalar02", 400),
        ("quotbal", 400),
        ("ltgtruri", 400),
        ("lwsruri", 400),
        ("lwsstart", 400),
        ("trws", 400),
        ("escruri", 400),
        ("baddate", 400),
        ("regbadct", 400),
        ("badaspec", 400),
        ("baddn", 400),
        ("badvers", 505),
        ("mismatch01", 400),
        ("mismatch02", 501),
    ];
    for (name, code) in expect {
        assert!(!is_response(&cases[name].bytes), "{name}");
        let e = err(name);
        assert_eq!(e.status_code(), code, "{name}: {e:?}");
        // Every one of these still carries the five headers a response
        // copies, so an answer can be built.
        let answer = error_response(&cases[name].bytes, &e, "tt", &Limits::default())
            .unwrap_or_else(|| panic!("{name}: no answer"));
        assert!(
            answer.starts_with(format!("SIP/2.0 {code} ").as_bytes()),
            "{name}"
        );
    }
    // Bad responses are dropped, never answered.
    for name in ["scalarlg", "bigcode"] {
        assert!(is_response(&cases[name].bytes));
        let e = err(name);
        assert_eq!(
            error_response(&cases[name].bytes, &e, "tt", &Limits::default()),
            None
        );
    }
    assert_eq!(err("ncl"), ParseError::BadContentLength);
    assert_eq!(err("clerr"), ParseError::TruncatedBody);
    assert_eq!(err("bigcode"), ParseError::BadStatusCode);
}

#[test]
fn semantic_errors_are_visible() {
    let m = msg("badbranch");
    assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bK"));
    assert!(!m.top_via().unwrap().has_rfc3261_branch());
    assert_eq!(msg("insuf").check(), Err(Rejection::MissingHeader("From")));
    assert_eq!(msg("unkscm").check().unwrap_err().status_code(), 416);
    assert_eq!(msg("novelsc").check().unwrap_err().status_code(), 416);
    let m = msg("unksm2");
    assert!(matches!(m.to().unwrap().uri, Uri::Other(_)));
    assert!(matches!(m.from().unwrap().uri, Uri::Other(_)));
    let m = msg("bext01");
    assert_eq!(
        m.unsupported_requirements(&["100rel", "nothingSupportsThis"])
            .unwrap()
            .len(),
        1
    );
    assert!(!m.proxy_require().unwrap().is_empty());
    let m = msg("invut");
    assert!(
        m.content_type()
            .unwrap()
            .unwrap()
            .is("application", "unknownformat")
    );
    assert!(msg("regaut01").header("Authorization").is_some());
    assert!(matches!(
        msg("multi01").check(),
        Err(Rejection::DuplicateHeader(_))
    ));
    assert_eq!(
        msg("mcl01").check(),
        Err(Rejection::ConflictingContentLength)
    );
    assert_eq!(msg("bcast").vias()[1].host, "255.255.255.255");
    assert_eq!(msg("zeromf").max_forwards(), Some(0));
    assert!(msg("sdp01").header(HeaderName::Accept).is_some());
}

/// RFC 5118 files use bare LF and some lack the final empty line or carry
/// a wrong Content-Length (see the corpus README). This harness converts to
/// CRLF, ends the header section, and sets Content-Length to the body size.
fn crlf_fixup(raw: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(raw.to_vec()).unwrap();
    let text = text.replace("\r\n", "\n");
    let (head, body) = match text.split_once("\n\n") {
        Some((h, b)) => (h.to_owned(), b.replace('\n', "\r\n")),
        None => (text.trim_end_matches('\n').to_owned(), String::new()),
    };
    let mut out = String::new();
    for line in head.split('\n') {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("content-length") || lower.starts_with("l:") {
            out.push_str(&format!("Content-Length: {}\r\n", body.len()));
        } else {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    out.push_str(&body);
    out.into_bytes()
}

#[test]
fn rfc5118_manifest_outcomes() {
    let cases = load("sip-ipv6-torture");
    assert_eq!(cases.len(), 12);
    let mut failures = Vec::new();
    for (name, case) in &cases {
        let res = outcome(&crlf_fixup(&case.bytes));
        let ok = match case.expected.as_str() {
            "valid" => res.as_ref().is_ok_and(|m| m.check().is_ok()),
            "invalid" => res.is_err(),
            "valid-but-semantic-error" => res.is_ok(),
            other => panic!("unknown expectation {other}"),
        };
        if !ok {
            failures.push(format!(
                "{name} ({}): {:?}",
                case.expected,
                res.map(|m| m.check())
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "ipv6 torture failures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn rfc5118_values() {
    let cases = load("sip-ipv6-torture");
    let m = |n: &str| parse(&crlf_fixup(&cases[n].bytes)).unwrap();
    let good = m("ipv6-good");
    assert_eq!(
        good.request_uri().unwrap().as_sip().unwrap().host,
        "[2001:db8::10]"
    );
    assert!(good.top_via().unwrap().host.starts_with("[2001:db8::"));
    let amb = m("port-ambiguous");
    let u = amb.request_uri().unwrap().as_sip().unwrap().clone();
    assert_eq!((u.host.as_str(), u.port), ("[2001:db8::10:5070]", None));
    let un = m("port-unambiguous");
    let u = un.request_uri().unwrap().as_sip().unwrap().clone();
    assert_eq!((u.host.as_str(), u.port), ("[2001:db8::10]", Some(5070)));
    assert_eq!(
        m("via-received-param-with-delim")
            .top_via()
            .unwrap()
            .received(),
        Some("[2001:db8::9:255]")
    );
    assert_eq!(
        m("via-received-param-no-delim")
            .top_via()
            .unwrap()
            .received(),
        Some("2001:db8::9:255")
    );
    let mult = m("mult-ip-in-header");
    assert!(mult.vias().len() >= 3);
    assert!(
        mult.vias()
            .iter()
            .any(|v| v.port.is_some() && v.host.starts_with('['))
    );
    assert!(m("ipv6-in-sdp").body().windows(4).any(|w| w == b"IP6 "));
    assert_eq!(
        m("ipv4-mapped-ipv6").top_via().unwrap().host.as_str(),
        "[::ffff:192.0.2.10]"
    );
    assert_eq!(
        m("ipv6-bug-abnf-3-colons")
            .request_uri()
            .unwrap()
            .as_sip()
            .unwrap()
            .host,
        "[2001:db8:::192.0.2.1]"
    );
    let bad = parse(&crlf_fixup(&cases["ipv6-bad"].bytes)).unwrap_err();
    assert_eq!(bad.status_code(), 400);
}

#[test]
fn valid_messages_round_trip() {
    for (name, case) in load("sip-torture") {
        if let Ok(m) = parse(&case.bytes) {
            let again = Message::parse(&m.to_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(again, m, "{name}");
        }
    }
}

/// The same messages over a stream, cut into small chunks: a message with a
/// correct Content-Length frames to the same value as its datagram; one
/// without Content-Length or with conflicting ones breaks the connection.
#[test]
fn torture_messages_over_a_stream() {
    use sip_simple::framing::StreamFramer;
    let cases = load("sip-torture");
    let mut framed = 0;
    for (name, case) in &cases {
        let Ok(dgram) = parse(&case.bytes) else {
            continue;
        };
        let mut f = StreamFramer::new(Limits::default());
        let mut got = None;
        let mut error = None;
        for chunk in case.bytes.chunks(13) {
            f.feed(chunk);
            match f.next_message() {
                Ok(Some(m)) => {
                    got = Some(m);
                    break;
                }
                Ok(None) => {}
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        match name.as_str() {
            "inv2543" => assert_eq!(error, Some(ParseError::MissingContentLength)),
            "mcl01" => assert_eq!(error, Some(ParseError::BadContentLength)),
            _ => {
                let m = got.unwrap_or_else(|| panic!("{name}: not framed ({error:?})"));
                assert_eq!(m, dgram, "{name}");
                framed += 1;
            }
        }
    }
    assert!(framed >= 25, "only {framed} framed");
}
