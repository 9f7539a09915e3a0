//! Per-stanza XEP-0198 bookkeeping: queueing a serialized stanza with its
//! count and releasing it on acknowledgement (one `<a/>` per 5 stanzas,
//! the default request rate). Target: at most 50 ns per stanza, with no
//! allocation beyond the queued `Bytes` (a reference-count increment
//! here, as a hub fanning out one serialization does).

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use xmpp_sm::Unacked;

fn bookkeeping(c: &mut Criterion) {
    let stanza = Bytes::from_static(
        b"<message to='juliet@verona.example/balcony' type='chat' id='m1'><body>hello</body></message>",
    );
    let mut g = c.benchmark_group("sm");
    g.throughput(Throughput::Elements(5));
    g.bench_function("push_5_then_ack", |b| {
        let mut q = Unacked::with_capacity(u32::MAX - 3, 151);
        b.iter(|| {
            for _ in 0..5 {
                q.push(black_box(stanza.clone()));
            }
            let h = q.sent();
            black_box(q.ack(black_box(h)).ok());
        });
    });
    g.throughput(Throughput::Elements(100));
    g.bench_function("push_100_then_ack", |b| {
        let mut q = Unacked::with_capacity(0, 151);
        b.iter(|| {
            for _ in 0..100 {
                q.push(black_box(stanza.clone()));
            }
            let h = q.sent();
            black_box(q.ack(black_box(h)).ok());
        });
    });
    g.finish();
}

criterion_group!(benches, bookkeeping);
criterion_main!(benches);
