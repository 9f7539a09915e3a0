//! XEP-0198 element reading: arbitrary bytes parsed as one element in the
//! `jabber:client` stream context, then read as a stream-management
//! element; whatever reads must write back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xmpp_core::ns;
use xmpp_core::xml::{Limits, NsContext, parse_element};
use xmpp_sm::SmElement;

fuzz_target!(|data: &[u8]| {
    let Ok(e) = parse_element(data, &NsContext::stream(ns::CLIENT), &Limits::default()) else {
        return;
    };
    if let Ok(sm) = SmElement::parse(&e) {
        assert_eq!(SmElement::parse(&sm.to_element()), Ok(sm));
    }
});
