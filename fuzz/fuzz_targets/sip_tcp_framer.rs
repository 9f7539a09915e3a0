//! Fuzzes the stream framer: the input is cut into chunks whose sizes come
//! from the first bytes; the framer must never panic, and every message it
//! returns must serialize and parse back equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_simple::framing::StreamFramer;
use sip_simple::{Limits, Message};

fuzz_target!(|data: &[u8]| {
    let (sizes, wire) = data.split_at(data.len().min(4));
    let limits = Limits {
        max_message_size: 4096,
        max_headers: 32,
        max_header_line: 512,
        max_body_size: 2048,
    };
    let mut framer = StreamFramer::new(limits);
    let mut rest = wire;
    let mut i = 0;
    while !rest.is_empty() {
        let n = (usize::from(sizes.get(i % sizes.len().max(1)).copied().unwrap_or(7)) % 64 + 1)
            .min(rest.len());
        i += 1;
        framer.feed(&rest[..n]);
        rest = &rest[n..];
        loop {
            match framer.next_message() {
                Ok(Some(m)) => {
                    let again = Message::parse(&m.to_bytes()).expect("reparse");
                    assert_eq!(again, m);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
