//! The PIDF/RPID/data-model/watcherinfo/partial-PIDF corpus in
//! shared/corpus/pidf (see its README and MANIFEST.tsv): every document
//! parses as its MANIFEST says and survives a write/read round trip.

use sip_simple::pidf::{Element, NS_DM, NS_RPID, Presence, XmlLimits};
use sip_simple::winfo::WatcherInfo;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus/pidf");

fn manifest() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(format!("{DIR}/MANIFEST.tsv"))
        .unwrap_or_else(|e| panic!("PIDF corpus missing at {DIR}: {e}"));
    let rows: Vec<(String, String)> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_owned(), f[2].to_owned())
        })
        .collect();
    assert_eq!(rows.len(), 12, "MANIFEST.tsv should list 12 documents");
    rows
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_manifest_entry_behaves_as_expected() {
    let l = XmlLimits::DEFAULT;
    for (name, expected) in manifest() {
        let data = read(&name);
        // Every document is well-formed XML.
        let root = Element::parse(&data, &l).unwrap_or_else(|e| panic!("{name}: {e}"));
        if name.starts_with("rfc3858") {
            let w = WatcherInfo::parse(&data, &l).unwrap();
            assert_eq!(w.lists[0].watchers.len(), 2);
            let again = WatcherInfo::parse(w.to_xml().as_bytes(), &l).unwrap();
            assert_eq!(again, w, "{name}");
        } else if name.starts_with("rfc5262") {
            // Partial PIDF is not a <presence> document.
            assert!(Presence::parse(&data, &l).is_err(), "{name}");
            let out = root.to_document("", &[]);
            assert_eq!(Element::parse(out.as_bytes(), &l).unwrap(), root, "{name}");
        } else {
            let strict = Presence::parse(&data, &l);
            match expected.as_str() {
                "valid" => {
                    let p = strict.unwrap_or_else(|e| panic!("{name}: {e}"));
                    let again = Presence::parse(p.to_xml().as_bytes(), &l).unwrap();
                    assert_eq!(again, p, "{name}");
                }
                "invalid" => {
                    assert!(strict.is_err(), "{name} should be rejected");
                    let p = Presence::parse_lenient(&data, &l).unwrap();
                    assert!(p.entity.is_none());
                    assert_eq!(
                        Presence::parse_lenient(p.to_xml().as_bytes(), &l).unwrap(),
                        p
                    );
                }
                other => panic!("unknown expectation {other}"),
            }
        }
    }
}

#[test]
fn rpid_example_values() {
    let p = Presence::parse(&read("rfc4480-4-rpid-example.xml"), &XmlLimits::DEFAULT).unwrap();
    assert_eq!(p.tuples.len(), 3);
    assert_eq!(p.tuples[0].notes.len(), 2);
    assert_eq!(p.tuples[0].notes[1].lang.as_deref(), Some("fr"));
    assert_eq!(
        p.tuples[0].contact.as_ref().unwrap().priority.as_deref(),
        Some("0.8")
    );
    assert!(
        p.tuples[0]
            .extensions
            .iter()
            .any(|e| e.is(NS_DM, "deviceID"))
    );
    let person = &p.persons[0];
    assert_eq!(person.activities(), vec!["away".to_string()]);
    assert_eq!(
        person.mood(),
        vec!["angry".to_string(), "brooding".to_string()]
    );
    assert!(person.element(NS_RPID, "sphere").is_some());
    let device = &p.devices[0];
    assert_eq!(
        device.device_id().as_deref(),
        Some("urn:device:0003ba4811e3")
    );
    let ui = device.user_input().unwrap();
    assert!(ui.idle);
    assert_eq!(ui.idle_threshold, Some(600));
}

#[test]
fn unknown_extensions_are_kept() {
    let data = read("rfc3863-4.3.3-must-understand.xml");
    let p = Presence::parse(&data, &XmlLimits::DEFAULT).unwrap();
    let out = p.to_xml();
    let again = Presence::parse(out.as_bytes(), &XmlLimits::DEFAULT).unwrap();
    assert_eq!(again, p);
    let ext_count: usize = p
        .tuples
        .iter()
        .map(|t| t.extensions.len() + t.status.extensions.len())
        .sum::<usize>()
        + p.extensions.len();
    assert!(ext_count > 0, "the mustUnderstand extension must be kept");
}

mod props {
    use proptest::prelude::*;
    use sip_simple::pidf::{Basic, Person, Presence, Tuple, XmlLimits, rpid};

    fn text() -> impl Strategy<Value = String> {
        // Any XML-legal characters, including markup ones that need escaping.
        proptest::string::string_regex("[a-zA-Z0-9 <>&\"'.:/@\u{e9}\u{4e16}-]{0,20}").unwrap()
    }

    proptest! {
        #[test]
        fn built_documents_round_trip(
            entity in "[a-z]{1,8}@[a-z]{1,8}\\.example",
            tuples in proptest::collection::vec(("[a-z][a-z0-9]{0,7}", any::<bool>(), text()), 0..4),
            note in proptest::option::of(text()),
            acts in proptest::collection::vec(prop_oneof![Just("busy"), Just("away"), Just("meeting")], 0..3),
        ) {
            let mut p = Presence::new(&format!("pres:{entity}"));
            for (id, open, n) in &tuples {
                let t = Tuple::new(id, if *open { Basic::Open } else { Basic::Closed })
                    .with_contact(&format!("sip:{entity}"))
                    .with_note(n);
                p.tuples.push(t);
            }
            if let Some(n) = note {
                p.notes.push(sip_simple::pidf::Note { text: n, lang: Some("en".into()) });
            }
            p.persons.push(Person::new("p").with(rpid::activities(&acts)));
            let back = Presence::parse(p.to_xml().as_bytes(), &XmlLimits::DEFAULT).unwrap();
            prop_assert_eq!(&back, &p);
            prop_assert_eq!(back.persons[0].activities().len(), acts.len());
        }
    }
}
