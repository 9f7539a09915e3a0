//! PIDF / watcherinfo parser: arbitrary bytes never panic, and whatever
//! parses survives a write/read round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_simple::pidf::{Element, Presence, XmlLimits};
use sip_simple::winfo::WatcherInfo;

fuzz_target!(|data: &[u8]| {
    let l = XmlLimits::DEFAULT;
    if let Ok(p) = Presence::parse_lenient(data, &l) {
        let again = Presence::parse_lenient(p.to_xml().as_bytes(), &l);
        assert_eq!(again.as_ref(), Ok(&p));
    }
    if let Ok(w) = WatcherInfo::parse(data, &l) {
        assert_eq!(WatcherInfo::parse(w.to_xml().as_bytes(), &l), Ok(w));
    }
    if let Ok(e) = Element::parse(data, &l) {
        let out = e.to_document("", &[]);
        assert_eq!(Element::parse(out.as_bytes(), &l), Ok(e));
    }
});
