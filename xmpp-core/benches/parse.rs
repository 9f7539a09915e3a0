//! Parsing a realistic client stanza stream: ours (framer + parser +
//! typed stanza view) against `minidom` 0.19, the tree type of the
//! xmpp-rs family (`xmpp-parsers`, `tokio-xmpp`).
//!
//! The stream: 1000 stanzas in a fixed mix, each built with our stanza
//! builders and serialized once before timing:
//! 30% one-to-one chat messages (body, thread, chat state), 20% presence
//! broadcasts (show, status, priority, entity capabilities `<c/>`), 10%
//! roster results with six items, 20% XMPP pings (`get` and `result`),
//! 20% MUC groupchat messages with XEP-0203 `<delay/>`.
//!
//! What each benchmark does (criterion reports time per iteration of all
//! 1000 stanzas; divide by 1000 for per-stanza time, or read the
//! elements/s throughput):
//! - `ours/full`: the stream header and every stanza through
//!   `Framer` → `parse_element` → `Stanza::from_element`.
//! - `ours/framing`: the `Framer` alone (finding stanza boundaries).
//! - `minidom/per_stanza`: each stanza as its own document string with
//!   `xmlns='jabber:client'` declared (prepared outside the timed loop),
//!   parsed with `Element::from_str`. This is what a program gets from
//!   minidom when it parses framed stanzas one by one, which is the job
//!   `ours/full` does; it pays minidom's parser setup per stanza.
//! - `minidom/whole_stream`: the whole stream, closed with
//!   `</stream:stream>`, parsed as one document. minidom's best case:
//!   one parser for all stanzas, no per-stanza setup, no typed view.
//!   The ratio against this one is the conservative figure to quote.

use std::hint::black_box;
use std::str::FromStr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use xmpp_core::ns;
use xmpp_core::stanza::{Iq, Message, Presence, Show, Stanza};
use xmpp_core::xml::{Element, Frame, Framer, Limits, parse_element, to_bytes};

const N: usize = 1000;

const HEADER: &str = "<?xml version='1.0'?><stream:stream from='capulet.example' \
    to='juliet@capulet.example' version='1.0' xml:lang='en' id='bench-1' \
    xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

const CAPS: &str = "http://jabber.org/protocol/caps";
const CHATSTATES: &str = "http://jabber.org/protocol/chatstates";
const MUC_USER: &str = "http://jabber.org/protocol/muc#user";

fn stanza(i: usize) -> Element {
    let friend = format!("friend{}@montague.example", i % 37);
    match i % 10 {
        0..=2 => Message::chat(
            &format!("{friend}/phone"),
            &format!(
                "Message number {i}: shall we meet at the orchard at {} o'clock? \
                 Bring the lute & the lantern.",
                i % 12 + 1
            ),
        )
        .with_from("juliet@capulet.example/balcony")
        .with_id(&format!("msg-{i}"))
        .with_thread(&format!("thread-{}", i % 50), None)
        .with_payload(Element::new("active", CHATSTATES))
        .into(),
        3 | 4 => Presence::available()
            .with_from(&format!("{friend}/laptop"))
            .with_to("juliet@capulet.example")
            .with_show(if i.is_multiple_of(2) {
                Show::Away
            } else {
                Show::Dnd
            })
            .with_status(None, "at the masked ball until late")
            .with_priority(5)
            .with_payload(
                Element::new("c", CAPS)
                    .with_attr("hash", "sha-1")
                    .with_attr("node", "https://client.montague.example")
                    .with_attr("ver", "q07IKJEyjvHSyhy//CH0CxmKi8w="),
            )
            .into(),
        5 => {
            let mut query = Element::new("query", ns::ROSTER).with_attr("ver", format!("v{i}"));
            for k in 0..6 {
                query.append_child(
                    Element::new("item", ns::ROSTER)
                        .with_attr("jid", format!("contact{k}@verona.example"))
                        .with_attr("name", format!("Contact {k}"))
                        .with_attr("subscription", "both")
                        .with_child(Element::new("group", ns::ROSTER).with_text("Friends")),
                );
            }
            let req = Iq::get(&format!("roster-{i}"), Element::new("query", ns::ROSTER))
                .with_from("juliet@capulet.example/balcony");
            Iq::result_for(&req, Some(query)).into()
        }
        6 => Iq::get(&format!("ping-{i}"), Element::new("ping", ns::PING))
            .with_from("capulet.example")
            .with_to("juliet@capulet.example/balcony")
            .into(),
        7 => {
            let req = Iq::get(&format!("ping-{i}"), Element::new("ping", ns::PING))
                .with_from("juliet@capulet.example/balcony")
                .with_to("capulet.example");
            Iq::result_for(&req, None).into()
        }
        _ => Message::groupchat(
            "juliet@capulet.example/balcony",
            &format!("[{i}] Good night, good night! Parting is such sweet sorrow."),
        )
        .with_from(&format!("garden@rooms.verona.example/nick{}", i % 23))
        .with_id(&format!("muc-{i}"))
        .with_payload(
            Element::new("delay", ns::DELAY)
                .with_attr("from", "garden@rooms.verona.example")
                .with_attr("stamp", format!("2026-02-14T21:{:02}:05Z", i % 60)),
        )
        .with_payload(
            Element::new("x", MUC_USER).with_child(
                Element::new("item", MUC_USER)
                    .with_attr("affiliation", "member")
                    .with_attr("role", "participant"),
            ),
        )
        .into(),
    }
}

struct Corpus {
    /// Header and stanzas, as one client would receive them.
    stream: Vec<u8>,
    /// Each stanza as a standalone document with its namespace declared.
    standalone: Vec<String>,
    /// The whole stream, closed.
    document: String,
}

fn corpus() -> Corpus {
    let mut stream = HEADER.as_bytes().to_vec();
    let mut standalone = Vec::with_capacity(N);
    for i in 0..N {
        let el = stanza(i);
        stream.extend_from_slice(&to_bytes(&el, ns::CLIENT));
        standalone.push(String::from_utf8(to_bytes(&el, "").to_vec()).expect("utf-8"));
    }
    let mut document = String::from_utf8(stream.clone()).expect("utf-8");
    document.push_str("</stream:stream>");
    Corpus {
        stream,
        standalone,
        document,
    }
}

fn ours_full(stream: &[u8]) -> usize {
    let mut framer = Framer::new(Limits::default());
    framer.push(stream);
    let mut ctx = None;
    let mut n = 0;
    while let Some(frame) = framer.next_frame().expect("frame") {
        match frame {
            Frame::StreamOpen(h) => ctx = Some(h),
            Frame::Element(raw) => {
                let h = ctx.as_ref().expect("header first");
                let el = parse_element(&raw, &h.context, framer.limits()).expect("parse");
                let s = Stanza::from_element(el, h.content_ns()).expect("stanza");
                black_box(&s);
                n += 1;
            }
            Frame::StreamClose => {}
        }
    }
    n
}

fn ours_framing(stream: &[u8]) -> usize {
    let mut framer = Framer::new(Limits::default());
    framer.push(stream);
    let mut n = 0;
    while let Some(frame) = framer.next_frame().expect("frame") {
        black_box(&frame);
        n += 1;
    }
    n
}

fn minidom_per_stanza(docs: &[String]) -> usize {
    let mut n = 0;
    for d in docs {
        let el = minidom::Element::from_str(d).expect("minidom parse");
        black_box(&el);
        n += 1;
    }
    n
}

fn minidom_whole(doc: &str) -> usize {
    let root = minidom::Element::from_str(doc).expect("minidom parse");
    root.children().count()
}

fn bench(c: &mut Criterion) {
    let corpus = corpus();
    // The setups must agree on what they parsed before being timed.
    assert_eq!(ours_full(&corpus.stream), N);
    assert_eq!(ours_framing(&corpus.stream), N + 1);
    assert_eq!(minidom_per_stanza(&corpus.standalone), N);
    assert_eq!(minidom_whole(&corpus.document), N);

    let mut g = c.benchmark_group("parse_1000_stanzas");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("ours/full", |b| {
        b.iter(|| ours_full(black_box(&corpus.stream)))
    });
    g.bench_function("ours/framing", |b| {
        b.iter(|| ours_framing(black_box(&corpus.stream)))
    });
    g.bench_function("minidom/per_stanza", |b| {
        b.iter(|| minidom_per_stanza(black_box(&corpus.standalone)))
    });
    g.bench_function("minidom/whole_stream", |b| {
        b.iter(|| minidom_whole(black_box(&corpus.document)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
