//! Fuzzes the XML stream path: arbitrary bytes cut into chunks whose sizes
//! come from the input, fed to `xml::Framer`; every framed element is
//! parsed with `parse_element` in the stream header's namespace context
//! and, when valid, checked to survive serialize → parse unchanged, then
//! offered to `Stanza::from_element`.
//!
//! Input layout: byte 0 — bits 0-3: number of chunk-size bytes that
//! follow (0-15), bits 4-5: 0/1 prepend a `jabber:client` /
//! `jabber:server` stream header, 2/3 none (the input must bring its
//! own); then the chunk sizes (each byte + 1, used in a cycle); then the
//! stream bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xmpp_core::stanza::{Stanza, StanzaError, make_error_reply};
use xmpp_core::xml::{Frame, Framer, Limits, NsContext, parse_element, to_bytes};

const HEADERS: [&[u8]; 2] = [
    b"<stream:stream to='example.com' version='1.0' xmlns='jabber:client' \
      xmlns:stream='http://etherx.jabber.org/streams'>",
    b"<stream:stream to='example.com' version='1.0' xmlns='jabber:server' \
      xmlns:stream='http://etherx.jabber.org/streams'>",
];

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let n_sizes = usize::from(control & 0x0f).min(rest.len());
    let (sizes, stream) = rest.split_at(n_sizes);
    let header = HEADERS.get(usize::from((control >> 4) & 0x03)).copied();

    let limits = Limits {
        // Small limits so the fuzzer reaches them.
        max_stanza_bytes: 4096,
        max_depth: 8,
        max_attributes: 8,
        max_text_bytes: 1024,
        ..Limits::default()
    };
    let mut framer = Framer::new(limits);
    let mut ctx: Option<NsContext> = None;
    let mut input: Vec<u8> = Vec::with_capacity(stream.len() + 200);
    if let Some(h) = header {
        input.extend_from_slice(h);
    }
    input.extend_from_slice(stream);

    let mut pos = 0;
    let mut i = 0;
    while pos < input.len() {
        let size = sizes
            .get(i % sizes.len().max(1))
            .map_or(input.len(), |&b| usize::from(b) + 1);
        i += 1;
        let end = (pos + size).min(input.len());
        framer.push(&input[pos..end]);
        pos = end;
        loop {
            match framer.next_frame() {
                Ok(Some(Frame::StreamOpen(h))) => ctx = Some(h.context),
                Ok(Some(Frame::Element(raw))) => {
                    let Some(ctx) = &ctx else {
                        panic!("element before the stream header");
                    };
                    check_element(&raw, ctx, framer.limits());
                }
                Ok(Some(Frame::StreamClose)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});

fn check_element(raw: &[u8], ctx: &NsContext, limits: &Limits) {
    let Ok(el) = parse_element(raw, ctx, limits) else {
        return;
    };
    let bytes = to_bytes(&el, &ctx.default_ns);
    let again = parse_element(&bytes, ctx, &Limits::default());
    assert_eq!(
        again.as_ref(),
        Ok(&el),
        "re-parse of {:?} differs",
        String::from_utf8_lossy(&bytes)
    );
    let original = el.clone();
    match Stanza::from_element(el, &ctx.default_ns) {
        Ok(s) => {
            let _ = (s.to(), s.from(), s.id(), s.is_error());
            match &s {
                Stanza::Message(m) => {
                    let _ = (m.message_type(), m.body(&["en"]), m.thread(), m.error());
                    let _ = m.bodies().count() + m.subjects().count();
                }
                Stanza::Presence(p) => {
                    let _ = (p.presence_type(), p.show(), p.priority(), p.status(&[]));
                }
                Stanza::Iq(iq) => {
                    let _ = (iq.iq_type(), iq.payload(), iq.error());
                }
            }
            let reply = s.error_reply(StanzaError::new(
                xmpp_core::stanza::DefinedCondition::ServiceUnavailable,
            ));
            assert_eq!(reply.is_none(), s.is_error());
        }
        Err(e) => {
            let _ = (e.condition(), e.stream_condition());
            let _ = make_error_reply(&original, StanzaError::from(&e));
        }
    }
}
