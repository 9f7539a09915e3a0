//! Parses a realistic presence mix (SUBSCRIBE, NOTIFY with a PIDF body,
//! PUBLISH with a PIDF body, 200 OK) with sip-simple and with rsip on the
//! same bytes. Run:
//! `cargo bench -p sip-simple --bench parse -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rsip::prelude::*;
use sip_simple::Limits;
use sip_simple::framing::parse_datagram;

const PIDF: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:dana@example.com\">\r\n\
  <tuple id=\"t8231\">\r\n    <status><basic>open</basic></status>\r\n\
    <contact priority=\"0.8\">sip:dana@desk.example.com</contact>\r\n\
    <note>In the lab until five</note>\r\n  </tuple>\r\n</presence>\r\n";

fn mix() -> Vec<Vec<u8>> {
    let subscribe = "SUBSCRIBE sip:dana@example.com SIP/2.0\r\n\
Via: SIP/2.0/TCP watcher.example.net:5060;branch=z9hG4bK9d0b7c1e;rport\r\n\
Max-Forwards: 70\r\n\
From: \"Eli Watcher\" <sip:eli@example.net>;tag=ab12f0\r\n\
To: <sip:dana@example.com>\r\n\
Call-ID: 5f1c2b7a9e@watcher.example.net\r\n\
CSeq: 17 SUBSCRIBE\r\n\
Contact: <sip:eli@192.0.2.33:5060;transport=tcp>\r\n\
Event: presence\r\n\
Accept: application/pidf+xml\r\n\
Expires: 3600\r\n\
Supported: eventlist\r\n\
User-Agent: bench-ua/1.0\r\n\
Content-Length: 0\r\n\r\n"
        .to_string();
    let notify = format!(
        "NOTIFY sip:eli@192.0.2.33:5060;transport=tcp SIP/2.0\r\n\
Via: SIP/2.0/TCP ps.example.com:5060;branch=z9hG4bK77ef0a2c\r\n\
Max-Forwards: 70\r\n\
From: <sip:dana@example.com>;tag=ff0931\r\n\
To: \"Eli Watcher\" <sip:eli@example.net>;tag=ab12f0\r\n\
Call-ID: 5f1c2b7a9e@watcher.example.net\r\n\
CSeq: 42 NOTIFY\r\n\
Contact: <sip:ps.example.com:5060;transport=tcp>\r\n\
Event: presence\r\n\
Subscription-State: active;expires=3599\r\n\
Content-Type: application/pidf+xml\r\n\
Content-Length: {}\r\n\r\n{PIDF}",
        PIDF.len()
    );
    let publish = format!(
        "PUBLISH sip:dana@example.com SIP/2.0\r\n\
Via: SIP/2.0/TCP desk.example.com:5060;branch=z9hG4bK4410aa9d\r\n\
Max-Forwards: 70\r\n\
From: <sip:dana@example.com>;tag=91c3\r\n\
To: <sip:dana@example.com>\r\n\
Call-ID: 81ac66d2@desk.example.com\r\n\
CSeq: 3 PUBLISH\r\n\
Event: presence\r\n\
Expires: 1800\r\n\
SIP-If-Match: dx200xyz\r\n\
Content-Type: application/pidf+xml\r\n\
Content-Length: {}\r\n\r\n{PIDF}",
        PIDF.len()
    );
    let ok = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/TCP desk.example.com:5060;branch=z9hG4bK4410aa9d;received=192.0.2.40\r\n\
From: <sip:dana@example.com>;tag=91c3\r\n\
To: <sip:dana@example.com>;tag=77aa01\r\n\
Call-ID: 81ac66d2@desk.example.com\r\n\
CSeq: 3 PUBLISH\r\n\
SIP-ETag: kwj449x\r\n\
Expires: 1800\r\n\
Content-Length: 0\r\n\r\n"
        .to_string();
    vec![
        subscribe.into_bytes(),
        notify.into_bytes(),
        publish.into_bytes(),
        ok.into_bytes(),
    ]
}

fn ours_typed(msg: &[u8]) -> usize {
    let m = parse_datagram(msg, &Limits::DEFAULT).expect("sip-simple parses the mix");
    // Core headers are typed during the parse; read them.
    let via = m.top_via().expect("via");
    let from = m.from().expect("from");
    let to = m.to().expect("to");
    let cseq = m.cseq().expect("cseq");
    let call_id = m.call_id().expect("call-id");
    via.branch().map_or(0, str::len)
        + from.tag().map_or(0, str::len)
        + to.params.0.len()
        + cseq.seq as usize
        + call_id.len()
}

fn rsip_untyped(msg: &[u8]) -> usize {
    let m = rsip::SipMessage::try_from(msg).expect("rsip parses the mix");
    m.headers().iter().count()
}

fn rsip_typed(msg: &[u8]) -> usize {
    let m = rsip::SipMessage::try_from(msg).expect("rsip parses the mix");
    let via = m.via_header().expect("via").typed().expect("typed via");
    let from = m.from_header().expect("from").typed().expect("typed from");
    let to = m.to_header().expect("to").typed().expect("typed to");
    let cseq = m.cseq_header().expect("cseq").typed().expect("typed cseq");
    let call_id = m.call_id_header().expect("call-id");
    via.params.len()
        + from.params.len()
        + to.params.len()
        + cseq.seq as usize
        + call_id.value().len()
}

fn bench(c: &mut Criterion) {
    let msgs = mix();
    let mut g = c.benchmark_group("presence-mix");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("sip-simple typed core", |b| {
        b.iter(|| msgs.iter().map(|m| ours_typed(black_box(m))).sum::<usize>())
    });
    g.bench_function("rsip untyped", |b| {
        b.iter(|| {
            msgs.iter()
                .map(|m| rsip_untyped(black_box(m)))
                .sum::<usize>()
        })
    });
    g.bench_function("rsip typed core", |b| {
        b.iter(|| msgs.iter().map(|m| rsip_typed(black_box(m))).sum::<usize>())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
