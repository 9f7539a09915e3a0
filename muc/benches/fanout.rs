//! Fan-out benchmarks (issue 6 §7): a groupchat message to a room of 1000
//! occupants, and a join into a room of 1000 (join + leave cycle), against
//! a naive baseline that rebuilds and serializes the stanza per recipient.

use std::time::{Instant, SystemTime};

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use muc::{MemoryStore, MucService, ServiceConfig};
use xmpp_core::Jid;
use xmpp_core::xml::{Element, to_bytes};

const N: usize = 1000;

fn room_of(n: usize) -> (MucService, Vec<Jid>) {
    let cfg = ServiceConfig {
        default_max_occupants: 1000,
        ..ServiceConfig::default()
    };
    let mut svc = MucService::new(
        Jid::new("chat.example.org").unwrap(),
        cfg,
        MemoryStore::default(),
    )
    .unwrap();
    let now = Instant::now();
    let wall = SystemTime::now();
    let mut users = Vec::new();
    for i in 0..n {
        let who = Jid::new(&format!("user{i}@example.org/res")).unwrap();
        let p = Element::new("presence", "jabber:client")
            .with_attr("to", format!("big@chat.example.org/user{i}"))
            .with_child(Element::new("x", "http://jabber.org/protocol/muc"));
        svc.handle_stanza(now, wall, &who, p);
        if i == 0 {
            let iq = Element::new("iq", "jabber:client")
                .with_attr("type", "set")
                .with_attr("id", "c")
                .with_attr("to", "big@chat.example.org")
                .with_child(
                    Element::new("query", "http://jabber.org/protocol/muc#owner")
                        .with_child(Element::new("x", "jabber:x:data").with_attr("type", "submit")),
                );
            svc.handle_stanza(now, wall, &who, iq);
        }
        users.push(who);
    }
    assert_eq!(
        svc.room(&Jid::new("big@chat.example.org").unwrap())
            .unwrap()
            .occupants()
            .len(),
        n
    );
    (svc, users)
}

fn message() -> Element {
    Element::new("message", "jabber:client")
        .with_attr("to", "big@chat.example.org")
        .with_attr("type", "groupchat")
        .with_attr("id", "m-42")
        .with_child(
            Element::new("body", "jabber:client")
                .with_text("The build is green again, thanks everyone!"),
        )
}

fn bench(c: &mut Criterion) {
    let (mut svc, users) = room_of(N);
    let now = Instant::now();
    let wall = SystemTime::now();
    let sender = users[1].clone();
    let mut g = c.benchmark_group("muc_message_1000");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("engine_deliveries", |b| {
        b.iter_batched(
            message,
            |m| {
                let out = svc.handle_stanza(now, wall, &sender, m);
                assert_eq!(out.len(), N);
                out
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("engine_plus_host_write", |b| {
        let mut buf = BytesMut::with_capacity(1 << 20);
        b.iter_batched(
            message,
            |m| {
                let out = svc.handle_stanza(now, wall, &sender, m);
                buf.clear();
                for d in &out {
                    d.write_to(&mut buf);
                }
                buf.len()
            },
            BatchSize::SmallInput,
        )
    });
    // Baseline: build and serialize the stanza once per recipient.
    let room = svc
        .room(&Jid::new("big@chat.example.org").unwrap())
        .unwrap();
    let recipients: Vec<Jid> = room
        .occupants()
        .iter()
        .map(|o| o.real_jid().clone())
        .collect();
    g.bench_function("naive_rebuild_per_recipient", |b| {
        b.iter(|| {
            let mut total = 0;
            for r in &recipients {
                let mut m = message();
                m.set_attr("to", r.as_str());
                m.set_attr("from", "big@chat.example.org/user1");
                m.append_child(
                    Element::new("occupant-id", "urn:xmpp:occupant-id:0")
                        .with_attr("id", "0123456789abcdef"),
                );
                total += to_bytes(&m, "jabber:client").len();
            }
            total
        })
    });
    g.finish();

    let (mut svc, _) = room_of(N - 1);
    let newcomer = Jid::new("late@example.org/res").unwrap();
    let join = Element::new("presence", "jabber:client")
        .with_attr("to", "big@chat.example.org/late")
        .with_child(Element::new("x", "http://jabber.org/protocol/muc"));
    let leave = Element::new("presence", "jabber:client")
        .with_attr("to", "big@chat.example.org/late")
        .with_attr("type", "unavailable");
    let mut g = c.benchmark_group("muc_join_1000");
    g.throughput(Throughput::Elements(1));
    g.bench_function("join", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                let out = svc.handle_stanza(now, wall, &newcomer, join.clone());
                total += t.elapsed();
                assert_eq!(out.len(), 2 * (N - 1) + 2);
                drop(out);
                svc.handle_stanza(now, wall, &newcomer, leave.clone());
            }
            total
        })
    });
    g.bench_function("leave", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                drop(svc.handle_stanza(now, wall, &newcomer, join.clone()));
                let t = Instant::now();
                let out = svc.handle_stanza(now, wall, &newcomer, leave.clone());
                total += t.elapsed();
                assert_eq!(out.len(), N);
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
