//! Fuzzes the SIP datagram parser: no panic on any input, and whatever
//! parses must serialize and parse back to an equal message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_simple::framing::{error_response, parse_datagram};
use sip_simple::{Limits, Message};

fuzz_target!(|data: &[u8]| {
    let m = match parse_datagram(data, &Limits::DEFAULT) {
        Ok(m) => m,
        Err(e) => {
            // The best-effort answer must not panic, and is itself a response.
            if let Some(answer) = error_response(data, &e, "fz", &Limits::DEFAULT) {
                assert!(answer.starts_with(b"SIP/2.0 "));
            }
            return;
        }
    };
    // Lazily typed headers must not panic either.
    let _ = m.contacts();
    let _ = m.routes();
    let _ = m.record_routes();
    let _ = m.event();
    let _ = m.subscription_state();
    let _ = m.content_type();
    let _ = m.expires();
    let _ = m.allow();
    let _ = m.supported();
    let _ = m.sip_etag();
    let _ = m.check();
    let wire = m.to_bytes();
    let again = Message::parse(&wire).expect("serialized message must parse");
    assert_eq!(again, m);
});
