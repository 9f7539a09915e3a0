//! Unit tests for [`Jid`], modelled on the examples of RFC 7622 §3.5 with
//! our own names and values.

use super::*;
use proptest::prelude::*;
use std::collections::HashSet;

fn jid(s: &str) -> Jid {
    Jid::new(s).unwrap_or_else(|e| panic!("{s:?} should be a JID: {e}"))
}

fn parts(s: &str) -> (Option<String>, String, Option<String>) {
    let j = jid(s);
    (
        j.local().map(str::to_owned),
        j.domain().to_owned(),
        j.resource().map(str::to_owned),
    )
}

fn err(s: &str) -> JidError {
    match Jid::new(s) {
        Ok(j) => panic!("{s:?} should be rejected, got {j:?}"),
        Err(e) => e,
    }
}

/// The same parse, but forcing every part through the full PRECIS/IDNA path.
fn new_full(s: &str) -> Result<Jid, JidError> {
    let (local, domain, resource) = split(s);
    let local = local.map(prep::localpart_full).transpose()?;
    let domain = prep::domainpart_full(domain)?;
    let resource = resource.map(prep::resourcepart_full).transpose()?;
    Ok(Jid::assemble(Some(s), local, domain, resource))
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

// ------------------------------------------------------- RFC 7622 §3.5 style

#[test]
fn bare_and_full() {
    assert_eq!(
        parts("romeo@verona.example"),
        (some("romeo"), "verona.example".into(), None)
    );
    assert_eq!(
        parts("romeo@verona.example/orchard"),
        (some("romeo"), "verona.example".into(), some("orchard"))
    );
}

#[test]
fn resource_may_hold_space_at_and_slash() {
    assert_eq!(
        jid("romeo@verona.example/under the balcony").resource(),
        Some("under the balcony")
    );
    assert_eq!(
        jid("romeo@verona.example/mail@home").resource(),
        Some("mail@home")
    );
    assert_eq!(
        jid("romeo@verona.example/a/b@c/d").resource(),
        Some("a/b@c/d")
    );
    // Leading space in a resourcepart is allowed (RFC 7622 erratum 4560).
    assert_eq!(jid("romeo@verona.example/ lead").resource(), Some(" lead"));
}

#[test]
fn domain_only_forms() {
    assert_eq!(
        parts("verona.example"),
        (None, "verona.example".into(), None)
    );
    assert_eq!(
        parts("verona.example/feed"),
        (None, "verona.example".into(), some("feed"))
    );
    // The '@' after the first '/' belongs to the resource.
    assert_eq!(
        parts("chat.verona.example/nurse@capulet.example"),
        (
            None,
            "chat.verona.example".into(),
            some("nurse@capulet.example")
        )
    );
    assert_eq!(
        parts("host/res@x/y"),
        (None, "host".into(), some("res@x/y"))
    );
}

#[test]
fn escaped_space_is_an_ordinary_localpart() {
    assert_eq!(
        jid("friar\\20laurence@verona.example").local(),
        Some("friar\\20laurence")
    );
}

#[test]
fn localpart_case_mapping_keeps_sharp_s() {
    assert_eq!(jid("Strasse@verona.example").local(), Some("strasse"));
    assert_eq!(jid("Straße@verona.example").local(), Some("straße"));
    assert_ne!(jid("strasse@verona.example"), jid("straße@verona.example"));
}

#[test]
fn greek_letters_in_localpart() {
    assert_eq!(jid("\u{3c0}@verona.example").local(), Some("\u{3c0}"));
    // Capital sigma maps to small sigma.
    assert_eq!(jid("\u{3a3}@verona.example").local(), Some("\u{3c3}"));
    assert_eq!(jid("\u{3c3}@verona.example").local(), Some("\u{3c3}"));
    // Final sigma is already lower case: toLowerCase (RFC 8265) keeps it.
    assert_eq!(jid("\u{3c2}@verona.example").local(), Some("\u{3c2}"));
}

#[test]
fn width_mapping_in_localpart() {
    assert_eq!(
        jid("\u{FF2A}\u{FF55}\u{FF4C}@verona.example").local(),
        Some("jul")
    );
}

#[test]
fn symbols_allowed_in_resource_only() {
    assert_eq!(
        jid("king@verona.example/\u{2655}").resource(),
        Some("\u{2655}")
    );
    assert_eq!(
        err("\u{2655}@verona.example"),
        JidError::DisallowedChar {
            part: JidPart::Local,
            ch: '\u{2655}'
        }
    );
    assert_eq!(
        jid("tybalt@verona.example/\u{1F377}").resource(),
        Some("\u{1F377}")
    );
}

#[test]
fn code_points_newer_than_unicode_6_3_are_unassigned() {
    // The PRECIS tables in use are those of Unicode 6.3; U+1F5E1 (dagger
    // knife) came with Unicode 7.0 and is therefore UNASSIGNED.
    assert_eq!(
        err("tybalt@verona.example/\u{1F5E1}"),
        JidError::DisallowedChar {
            part: JidPart::Resource,
            ch: '\u{1F5E1}'
        }
    );
}

#[test]
fn resource_is_case_preserving_and_nfc() {
    assert_eq!(jid("a@b.example/MiXeD").resource(), Some("MiXeD"));
    // e + combining acute becomes the precomposed letter.
    assert_eq!(jid("a@b.example/cafe\u{301}").resource(), Some("caf\u{e9}"));
    // A non-ASCII space becomes U+0020.
    assert_eq!(jid("a@b.example/x\u{2003}y").resource(), Some("x y"));
}

#[test]
fn invalid_examples() {
    let local_bad = |s: &str, ch: char| {
        assert_eq!(
            err(s),
            JidError::DisallowedChar {
                part: JidPart::Local,
                ch
            },
            "{s:?}"
        );
    };
    local_bad("\"mercutio\"@verona.example", '"');
    local_bad("friar laurence@verona.example", ' ');
    local_bad("a&b@verona.example", '&');
    local_bad("o'hara@verona.example", '\'');
    local_bad("c:d@verona.example", ':');
    local_bad("<x>@verona.example", '<');
    local_bad("sir\u{2163}@verona.example", '\u{2163}');
    local_bad("ro\u{7}meo@verona.example", '\u{7}');
    // Full-width '@' passes the IdentifierClass but maps to '@'.
    local_bad("a\u{FF20}b@verona.example", '@');

    assert_eq!(err("@verona.example"), JidError::Empty(JidPart::Local));
    assert_eq!(err("romeo@"), JidError::Empty(JidPart::Domain));
    assert_eq!(err("/orchard"), JidError::Empty(JidPart::Domain));
    assert_eq!(
        err("romeo@verona.example/"),
        JidError::Empty(JidPart::Resource)
    );
    assert_eq!(err(""), JidError::Empty(JidPart::Domain));
    assert_eq!(err("@"), JidError::Empty(JidPart::Local));
    assert_eq!(err("/"), JidError::Empty(JidPart::Domain));
    assert_eq!(
        err("romeo@@verona.example"),
        JidError::DisallowedChar {
            part: JidPart::Domain,
            ch: '@'
        }
    );
    assert_eq!(
        err("x@verona.example/a\u{61c}b"),
        JidError::DisallowedChar {
            part: JidPart::Resource,
            ch: '\u{61c}'
        }
    );
    assert_eq!(
        err("x@verona.example/tab\there"),
        JidError::DisallowedChar {
            part: JidPart::Resource,
            ch: '\t'
        }
    );
}

#[test]
fn bidi_rule_in_localpart() {
    // A right-to-left localpart may not contain left-to-right letters.
    assert_eq!(
        err("\u{5d0}a@verona.example"),
        JidError::Bidi(JidPart::Local)
    );
    assert_eq!(
        jid("\u{5d0}\u{5d1}@verona.example").local(),
        Some("\u{5d0}\u{5d1}")
    );
}

// ------------------------------------------------------------- domainparts

#[test]
fn domain_is_lower_cased() {
    assert_eq!(jid("nurse@CAPULET.Example").domain(), "capulet.example");
    assert_eq!(jid("nurse@Capulet").domain(), "capulet");
}

#[test]
fn trailing_dot_removed() {
    assert_eq!(jid("nurse@capulet.example.").domain(), "capulet.example");
    assert_eq!(
        jid("nurse@capulet.example./r").as_str(),
        "nurse@capulet.example/r"
    );
    assert_eq!(jid("capulet.example\u{3002}").domain(), "capulet.example");
    assert_eq!(jid("capulet\u{FF0E}example").domain(), "capulet.example");
    assert_eq!(jid("nurse@capulet.example."), jid("nurse@capulet.example"));
    assert_eq!(err("capulet.example.."), JidError::EmptyLabel);
    assert_eq!(err("capulet..example"), JidError::EmptyLabel);
    assert_eq!(err(".capulet.example"), JidError::EmptyLabel);
    assert_eq!(err("."), JidError::Empty(JidPart::Domain));
}

#[test]
fn internationalized_domains() {
    // Pre-composed and decomposed forms, upper case and A-label all give the
    // same U-label.
    let want = "k\u{f6}ln.example";
    assert_eq!(jid("a@k\u{f6}ln.example").domain(), want);
    assert_eq!(jid("a@ko\u{308}ln.example").domain(), want);
    assert_eq!(jid("a@K\u{d6}LN.example").domain(), want);
    assert_eq!(jid("a@xn--kln-sna.example").domain(), want);
    assert_eq!(jid("a@XN--KLN-SNA.EXAMPLE").domain(), want);
    // Sharp s is kept (nontransitional processing).
    assert_eq!(jid("stra\u{df}e.example").domain(), "stra\u{df}e.example");
    // Symbols are valid in UTS #46 but not in IDNA2008.
    assert_eq!(
        err("a@\u{2655}.example"),
        JidError::DisallowedChar {
            part: JidPart::Domain,
            ch: '\u{2655}'
        }
    );
    assert_eq!(
        err("a@x\u{2192}y.example"),
        JidError::DisallowedChar {
            part: JidPart::Domain,
            ch: '\u{2192}'
        }
    );
    // Contextual rule: a middle dot is only valid between two 'l'.
    assert_eq!(jid("l\u{b7}l.example").domain(), "l\u{b7}l.example");
    assert!(Jid::new("a\u{b7}b.example").is_err());
    assert_eq!(err("a@xn--zz.example"), JidError::Idna);
}

#[test]
fn hyphen_rules() {
    assert_eq!(jid("a-b.example").domain(), "a-b.example");
    assert_eq!(err("-ab.example"), JidError::Idna);
    assert_eq!(err("ab-.example"), JidError::Idna);
    assert_eq!(err("ab--c.example"), JidError::Idna);
}

#[test]
fn ascii_outside_ldh_is_named() {
    for (s, ch) in [
        ("a_b.example", '_'),
        ("a b", ' '),
        ("a!b", '!'),
        ("x%y", '%'),
    ] {
        assert_eq!(
            err(s),
            JidError::DisallowedChar {
                part: JidPart::Domain,
                ch
            },
            "{s:?}"
        );
    }
}

#[test]
fn long_labels_are_allowed() {
    let label = "l".repeat(100);
    assert_eq!(
        jid(&format!("u@{label}.example")).domain(),
        format!("{label}.example")
    );
}

#[test]
fn ip_literals() {
    assert_eq!(jid("juliet@198.51.100.7").domain(), "198.51.100.7");
    assert_eq!(jid("juliet@[2001:db8::7]/r").domain(), "[2001:db8::7]");
    assert_eq!(jid("juliet@[2001:DB8::A]").domain(), "[2001:db8::a]");
    assert_eq!(jid("[::ffff:192.0.2.1]").domain(), "[::ffff:192.0.2.1]");
    assert_eq!(jid("juliet@[fe80::1%eth0]").domain(), "[fe80::1%eth0]");
    for bad in [
        "[::1",
        "[zz::1]",
        "[::1%]",
        "[::1%a b]",
        "[]",
        "[192.0.2.1]",
        "[::1].",
    ] {
        assert_eq!(err(bad), JidError::InvalidIpLiteral, "{bad:?}");
    }
}

// ---------------------------------------------------------------- lengths

#[test]
fn part_length_limits() {
    let max = "a".repeat(MAX_PART_LEN);
    let over = "a".repeat(MAX_PART_LEN + 1);
    let j = jid(&format!("{max}@{max}/{max}"));
    assert_eq!(j.as_str().len(), 3 * MAX_PART_LEN + 2);
    assert_eq!(j.resource().map(str::len), Some(MAX_PART_LEN));
    assert_eq!(j.bare().domain(), max);
    for (s, part) in [
        (format!("{over}@x"), JidPart::Local),
        (format!("x@{over}"), JidPart::Domain),
        (format!("x@y/{over}"), JidPart::Resource),
    ] {
        assert_eq!(
            err(&s),
            JidError::TooLong {
                part,
                len: MAX_PART_LEN + 1,
                max: MAX_PART_LEN
            }
        );
    }
    // The limit is in bytes: 512 two-byte letters are too many.
    let wide = "\u{e9}".repeat(512);
    assert!(matches!(
        err(&format!("x@y/{wide}")),
        JidError::TooLong { .. }
    ));
    let huge = "a".repeat(MAX_PART_INPUT_LEN + 1);
    assert_eq!(
        err(&format!("x@y/{huge}")),
        JidError::TooLong {
            part: JidPart::Resource,
            len: MAX_PART_INPUT_LEN + 1,
            max: MAX_PART_INPUT_LEN
        }
    );
}

// -------------------------------------------------------------------- API

#[test]
fn accessors_and_derived_jids() {
    let full = jid("Juliet@Capulet.Example/Balcony");
    assert_eq!(full.as_str(), "juliet@capulet.example/Balcony");
    assert_eq!(full.to_string(), "juliet@capulet.example/Balcony");
    assert_eq!(
        format!("{full:?}"),
        "Jid(\"juliet@capulet.example/Balcony\")"
    );
    assert!(full.is_full() && !full.is_bare());

    let bare = full.bare();
    assert_eq!(bare.as_str(), "juliet@capulet.example");
    assert!(bare.is_bare() && !bare.is_full());
    assert_eq!(bare.local(), Some("juliet"));
    assert_eq!(bare.resource(), None);
    assert!(Arc::ptr_eq(&bare.full, &bare.bare().full));

    let moved = full.with_resource("Tomb\u{2003}Scene").unwrap();
    assert_eq!(moved.as_str(), "juliet@capulet.example/Tomb Scene");
    assert_eq!(bare.with_resource("x").unwrap().resource(), Some("x"));
    assert_eq!(
        full.with_resource(""),
        Err(JidError::Empty(JidPart::Resource))
    );

    let dom = full.domain_jid();
    assert_eq!(dom.as_str(), "capulet.example");
    assert_eq!(dom.local(), None);
    assert!(dom.is_bare());
    assert!(Arc::ptr_eq(&dom.full, &dom.domain_jid().full));
    let svc = jid("capulet.example/admin");
    assert_eq!(svc.domain_jid(), dom);
    assert_eq!(svc.bare(), dom);

    let cloned = full.clone();
    assert!(Arc::ptr_eq(&cloned.full, &full.full));
}

#[test]
fn from_parts_normalizes_each_part() {
    let j = Jid::from_parts(Some("ROMEO"), "Verona.Example.", Some("Garden")).unwrap();
    assert_eq!(j.as_str(), "romeo@verona.example/Garden");
    assert_eq!(j, jid("romeo@verona.example/Garden"));
    assert_eq!(
        Jid::from_parts(None, "verona.example", None)
            .unwrap()
            .as_str(),
        "verona.example"
    );
    assert_eq!(
        Jid::from_parts(Some(""), "verona.example", None),
        Err(JidError::Empty(JidPart::Local))
    );
    assert_eq!(
        Jid::from_parts(None, "verona.example", Some("")),
        Err(JidError::Empty(JidPart::Resource))
    );
    assert_eq!(
        Jid::from_parts(None, "", None),
        Err(JidError::Empty(JidPart::Domain))
    );
    // Separators cannot be smuggled into the parts.
    assert!(Jid::from_parts(Some("a@b"), "verona.example", None).is_err());
    assert!(Jid::from_parts(Some("a/b"), "verona.example", None).is_err());
    assert!(Jid::from_parts(None, "a/b", None).is_err());
    assert!(Jid::from_parts(None, "a@b", None).is_err());
    let r = Jid::from_parts(None, "verona.example", Some("x@y/z")).unwrap();
    assert_eq!(r.resource(), Some("x@y/z"));
}

#[test]
fn equality_hash_order_use_normalized_form() {
    let mut set = HashSet::new();
    set.insert(jid("Romeo@Verona.Example"));
    assert!(set.contains(&jid("romeo@verona.example.")));
    assert!(!set.contains(&jid("romeo@verona.example/x")));
    let mut v = [jid("b@x"), jid("a@x/2"), jid("a@x"), jid("a@x/1")];
    v.sort();
    let s: Vec<&str> = v.iter().map(Jid::as_str).collect();
    assert_eq!(s, ["a@x", "a@x/1", "a@x/2", "b@x"]);
    assert_eq!("A@X".parse::<Jid>(), Ok(jid("a@x")));
    assert_eq!(Jid::try_from("A@X"), Ok(jid("a@x")));
}

#[test]
fn errors_name_their_part() {
    assert_eq!(err("@x").part(), JidPart::Local);
    assert_eq!(err("x@-y").part(), JidPart::Domain);
    assert_eq!(err("x@y/").part(), JidPart::Resource);
    assert_eq!(err("[::1").part(), JidPart::Domain);
    assert_eq!(err("@x").to_string(), "localpart is empty");
    assert_eq!(
        err("a b@x").to_string(),
        "localpart contains the disallowed character ' ' (U+0020)"
    );
}

#[test]
fn equals_concat_checks_everything() {
    assert!(equals_concat(
        "a@b/c",
        [Some("a"), Some("@"), Some("b"), Some("/"), Some("c")]
    ));
    assert!(equals_concat("b", [None, None, Some("b"), None, None]));
    assert!(!equals_concat(
        "a@b/c",
        [Some("a"), Some("@"), Some("b"), Some("/"), Some("C")]
    ));
    assert!(!equals_concat(
        "a@bc",
        [Some("a"), Some("@"), Some("b"), None, None]
    ));
}

// ------------------------------------------------------------- properties

/// Strings that look like JIDs: a mix of ASCII, separators and some
/// non-ASCII letters, marks, spaces and symbols.
fn jid_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-zA-Z0-9]{1,6}",
        1 => "[@/.\\-_ \\[\\]:%]",
        1 => "[\u{e0}-\u{ff}\u{391}-\u{3c9}\u{5d0}-\u{5ea}\u{300}-\u{36f}\u{2000}-\u{200d}\u{3002}\u{ff01}-\u{ff5e}\u{2160}-\u{2188}\u{2654}-\u{265f}]{1,3}",
        1 => "\\PC{1,3}",
    ];
    prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

/// Strings that are always valid JIDs.
fn valid_jid() -> impl Strategy<Value = String> {
    (
        prop::option::of("[a-zA-Z0-9._\\-]{1,10}"),
        "[a-zA-Z0-9]{1,8}(\\.[a-zA-Z0-9]{1,8}){0,3}\\.?",
        prop::option::of("[ -~]{1,12}"),
    )
        .prop_map(|(l, d, r)| {
            let mut s = String::new();
            if let Some(l) = l {
                s.push_str(&l);
                s.push('@');
            }
            s.push_str(&d);
            if let Some(r) = r {
                s.push('/');
                s.push_str(&r);
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn normalization_is_idempotent(s in jid_like()) {
        if let Ok(j) = Jid::new(&s) {
            let again = Jid::new(j.as_str());
            prop_assert_eq!(again.as_ref(), Ok(&j));
            let again = again.unwrap();
            prop_assert_eq!(again.local(), j.local());
            prop_assert_eq!(again.domain(), j.domain());
            prop_assert_eq!(again.resource(), j.resource());
        }
    }

    #[test]
    fn fast_and_full_paths_agree(s in jid_like()) {
        prop_assert_eq!(Jid::new(&s), new_full(&s));
    }

    #[test]
    fn fast_and_full_paths_agree_on_ascii(s in "[\\x00-\\x7f]{0,24}") {
        prop_assert_eq!(Jid::new(&s), new_full(&s));
    }

    #[test]
    fn display_parse_round_trip(s in valid_jid()) {
        let j = Jid::new(&s).unwrap();
        let shown = j.to_string();
        prop_assert_eq!(shown.parse::<Jid>(), Ok(j.clone()));
        prop_assert_eq!(Jid::from_parts(j.local(), j.domain(), j.resource()), Ok(j));
    }

    #[test]
    fn bare_never_has_a_resource(s in prop_oneof![valid_jid(), jid_like()]) {
        if let Ok(j) = Jid::new(&s) {
            let b = j.bare();
            prop_assert!(b.is_bare());
            prop_assert_eq!(b.resource(), None);
            prop_assert_eq!(b.local(), j.local());
            prop_assert_eq!(b.domain(), j.domain());
            prop_assert_eq!(Jid::new(b.as_str()), Ok(b.clone()));
            let d = j.domain_jid();
            prop_assert_eq!(d.as_str(), j.domain());
            prop_assert!(d.local().is_none() && d.resource().is_none());
        }
    }

    #[test]
    fn parts_never_hold_separators_except_resource(s in jid_like()) {
        if let Ok(j) = Jid::new(&s) {
            prop_assert!(!j.local().unwrap_or("").contains(['@', '/']));
            prop_assert!(!j.domain().contains(['@', '/']));
            prop_assert!(j.local().is_none_or(|l| l.len() <= MAX_PART_LEN));
            prop_assert!(j.domain().len() <= MAX_PART_LEN);
            prop_assert!(j.resource().is_none_or(|r| r.len() <= MAX_PART_LEN));
        }
    }
}
