//! Simulation of a client and a server transaction table talking over a
//! lossy, duplicating, delaying in-memory UDP wire with virtual time.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sip_simple::framing::parse_datagram;
use sip_simple::transaction::{
    BranchGenerator, Output, Received, Remote, TableEvent, Timers, TransactionTable, Transport,
};
use sip_simple::{Limits, Message, Method, NameAddr, SipUri, Via};

/// Deterministic xorshift generator for the wire's faults.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

struct Wire {
    rng: Rng,
    loss: u64,
    dup: u64,
    in_flight: Vec<(Instant, SocketAddr, SocketAddr, bytes::Bytes)>,
}

impl Wire {
    fn send(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, payload: bytes::Bytes) {
        let copies = if self.rng.chance(self.dup) { 2 } else { 1 };
        for _ in 0..copies {
            if self.rng.chance(self.loss) {
                continue;
            }
            let delay = Duration::from_millis(5 + self.rng.next() % 200);
            self.in_flight
                .push((now + delay, from, to, payload.clone()));
        }
    }
    fn next_delivery(&self) -> Option<Instant> {
        self.in_flight.iter().map(|p| p.0).min()
    }
    fn take_due(&mut self, now: Instant) -> Vec<(SocketAddr, SocketAddr, bytes::Bytes)> {
        let mut due = Vec::new();
        let mut i = 0;
        while i < self.in_flight.len() {
            if self.in_flight[i].0 <= now {
                let (_, f, t, p) = self.in_flight.swap_remove(i);
                due.push((f, t, p));
            } else {
                i += 1;
            }
        }
        due
    }
}

struct Node<G> {
    addr: SocketAddr,
    table: TransactionTable<G>,
    next_timeout: Option<Instant>,
    events: Vec<TableEvent>,
}

impl<G: BranchGenerator> Node<G> {
    fn drain(&mut self, now: Instant, wire: &mut Wire) -> Vec<TableEvent> {
        let mut fresh = Vec::new();
        self.next_timeout = None;
        while let Some(o) = self.table.poll_output() {
            match o {
                Output::Transmit(t) => wire.send(now, self.addr, t.remote.addr, t.payload),
                Output::Event(e) => fresh.push(e),
                Output::Timeout(at) => {
                    self.next_timeout = Some(at);
                    break;
                }
            }
        }
        self.events.extend(fresh.iter().cloned());
        fresh
    }
}

fn udp(addr: SocketAddr) -> Remote {
    Remote {
        transport: Transport::Udp,
        addr,
    }
}

fn message_request(n: u32) -> Message {
    Message::request(Method::Message, SipUri::new(Some("bob"), "192.0.2.20"))
        .via(&Via::new(
            "UDP",
            "192.0.2.10",
            Some(5060),
            "z9hG4bKplaceholder",
        ))
        .max_forwards(70)
        .from(
            &NameAddr::new(SipUri::new(Some("alice"), "example.com")).with_param("tag", Some("a")),
        )
        .to(&NameAddr::new(SipUri::new(Some("bob"), "example.org")))
        .call_id(&format!("sim-{n}@192.0.2.10"))
        .cseq(n, Method::Message)
        .body(
            &sip_simple::MediaType::new("text", "plain"),
            format!("hello {n}"),
        )
        .build()
        .unwrap()
}

struct Outcome {
    finals: usize,
    timeouts: usize,
    server_requests: usize,
    finished_at: Duration,
    tables_empty: bool,
}

/// Runs `count` MESSAGE transactions from a client to a server that answers
/// 200 at once.
fn run(seed: u64, loss: u64, dup: u64, count: u32) -> Outcome {
    let t0 = Instant::now();
    let client_addr: SocketAddr = "192.0.2.10:5060".parse().unwrap();
    let server_addr: SocketAddr = "192.0.2.20:5060".parse().unwrap();
    let mut wire = Wire {
        rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
        loss,
        dup,
        in_flight: Vec::new(),
    };
    let mut n = 0u32;
    let mut client = Node {
        addr: client_addr,
        table: TransactionTable::new(Timers::DEFAULT, move || {
            n += 1;
            format!("sim{n}")
        }),
        next_timeout: None,
        events: Vec::new(),
    };
    let mut server = Node {
        addr: server_addr,
        table: TransactionTable::new(Timers::DEFAULT, || String::from("server-never-sends")),
        next_timeout: None,
        events: Vec::new(),
    };
    let mut now = t0;
    for i in 1..=count {
        client
            .table
            .send_request(now, message_request(i), udp(server_addr))
            .unwrap();
    }
    client.drain(now, &mut wire);
    let mut pending: VecDeque<TableEvent> = VecDeque::new();
    for _ in 0..100_000 {
        let next = [
            wire.next_delivery(),
            client.next_timeout,
            server.next_timeout,
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else { break };
        now = now.max(next);
        for (from, to, payload) in wire.take_due(now) {
            let message = parse_datagram(&payload, &Limits::DEFAULT).unwrap();
            let input = Received {
                message,
                remote: udp(from),
            };
            if to == server_addr {
                server.table.handle_input(now, input);
            } else {
                client.table.handle_input(now, input);
            }
        }
        client.table.handle_timeout(now);
        server.table.handle_timeout(now);
        client.drain(now, &mut wire);
        pending.extend(server.drain(now, &mut wire));
        while let Some(ev) = pending.pop_front() {
            if let TableEvent::Request { key, request, .. } = ev {
                let ok = Message::response_to(&request, 200, "OK")
                    .to_tag("srv")
                    .build()
                    .unwrap();
                server.table.send_response(now, &key, &ok).unwrap();
                pending.extend(server.drain(now, &mut wire));
            }
        }
    }
    let finals = client
        .events
        .iter()
        .filter(|e| matches!(e, TableEvent::Response { response, .. } if response.status() == Some(200)))
        .count();
    let timeouts = client
        .events
        .iter()
        .filter(|e| matches!(e, TableEvent::Timeout { .. }))
        .count();
    let server_requests = server
        .events
        .iter()
        .filter(|e| matches!(e, TableEvent::Request { .. }))
        .count();
    Outcome {
        finals,
        timeouts,
        server_requests,
        finished_at: now - t0,
        tables_empty: client.table.is_empty() && server.table.is_empty(),
    }
}

#[test]
fn clean_wire_delivers_each_transaction_once() {
    let o = run(1, 0, 0, 20);
    assert_eq!((o.finals, o.timeouts, o.server_requests), (20, 0, 20));
    assert!(o.tables_empty);
    // Timer J (64*T1) is the last thing to run on the server.
    assert!(o.finished_at >= Duration::from_secs(32));
}

#[test]
fn lossy_duplicating_wire_never_duplicates_or_loses_silently() {
    let mut delivered = 0;
    for seed in 1..=60 {
        let o = run(seed, 30, 20, 5);
        // Every client transaction ends exactly once: a final or a timeout.
        assert_eq!(o.finals + o.timeouts, 5, "seed {seed}");
        // The server TU sees each request at most once, retransmissions
        // absorbed; a final implies the request got there.
        assert!(
            o.server_requests <= 5 && o.server_requests >= o.finals,
            "seed {seed}"
        );
        assert!(o.tables_empty, "seed {seed}");
        delivered += o.finals;
    }
    // With 30% loss and 11 sends over 32 s, almost every transaction succeeds.
    assert!(delivered >= 290, "only {delivered} of 300 delivered");
}

#[test]
fn dead_wire_times_out_after_64_t1() {
    let o = run(7, 100, 0, 3);
    assert_eq!((o.finals, o.timeouts, o.server_requests), (0, 3, 0));
    assert_eq!(o.finished_at, Duration::from_secs(32));
    assert!(o.tables_empty);
}
