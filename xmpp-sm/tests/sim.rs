//! The proof of XEP-0198 losslessness: client and server engines
//! exchange messages both ways over a virtual-time wire that is cut at
//! random points (with the server noticing or left half-open), delivers
//! bytes in random chunks after random delays, while the client reconnects
//! and resumes at random times, optionally with counters starting just
//! below 2^32 so they wrap mid-run. Every message must be delivered at
//! most once, and delivered or returned to its sender (bounced by the
//! server's timeout policy, or handed back to the client application as
//! unconfirmed).
//!
//! `SM_SIM_CASES` sets the number of schedules (default 2000).

mod support;

use std::time::Duration;

use proptest::prelude::*;
use support::{Rng, World};
use xmpp_sm::{ClientSmConfig, ServerConfig, TimeoutPolicy};

fn cases() -> u32 {
    std::env::var("SM_SIM_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

#[derive(Debug, Default)]
struct Stats {
    resumes: usize,
    failed_resumes: usize,
    expiries: usize,
}

fn run(seed: u64, wrap: bool, steps: usize, offline: bool) -> Stats {
    let mut rng = Rng(seed | 1);
    let origin = if wrap {
        u32::MAX - rng.below(40) as u32
    } else {
        0
    };
    let server = ServerConfig {
        buffer: 5 + rng.below(146) as usize,
        ack_request_every: 1 + rng.below(8) as u32,
        resume_timeout: Duration::from_secs(30 + rng.below(61)),
        ack_timeout: Duration::from_secs(5 + rng.below(30)),
        counter_origin: origin,
        policy: if offline {
            TimeoutPolicy::OfflineIfLastResource
        } else {
            TimeoutPolicy::Bounce
        },
        ..ServerConfig::default()
    };
    let client = ClientSmConfig {
        ack_request_every: 1 + rng.below(8) as u32,
        max: if rng.chance(30) {
            Some(10 + rng.below(100) as u32)
        } else {
            None
        },
        counter_origin: origin,
        max_queue: 100_000,
        ..ClientSmConfig::default()
    };
    let mut w = World::new(server, client);
    w.connect();
    w.pump();
    for _ in 0..steps {
        match rng.below(100) {
            0..=21 => w.hub_send(),
            22..=41 => w.client_send(),
            42..=76 => {
                let max = 1 + rng.below(400) as usize;
                for _ in 0..=rng.below(8) {
                    w.transfer(&mut rng, max);
                }
            }
            77..=81 => {
                let notices = rng.chance(60);
                w.cut(notices);
            }
            82..=88 => {
                if w.cc.is_none() || rng.chance(10) {
                    w.connect();
                    w.pump();
                }
            }
            89..=98 => w.advance(Duration::from_millis(rng.below(5_000))),
            _ => w.advance(Duration::from_secs(20 + rng.below(100))),
        }
    }
    // Final act: a clean connection, everything exchanged and settled.
    for _ in 0..3 {
        if w.cc.is_none() {
            w.connect();
        }
        w.settle();
        w.advance(Duration::from_millis(1));
        w.settle();
    }
    if let Some(cc) = w.cc.as_mut() {
        w.client.request_ack(w.now, &mut cc.c);
    }
    w.settle();
    assert!(w.client.is_active(), "the final connection is managed");
    assert_eq!(w.client.pending(), 0, "client stanzas left unsent");
    assert!(w.offline.is_empty(), "offline messages left undelivered");
    for (n, f) in w.down.iter().enumerate() {
        // Offline storage of an expired session's unacknowledged messages
        // can repeat one the client got but never acknowledged; nothing
        // else may be duplicated.
        let allowed = 1 + f.ambiguous;
        assert!(f.delivered <= allowed, "hub message {n} duplicated: {f:?}");
        assert!(f.returned <= 1, "hub message {n} returned twice: {f:?}");
        assert!(f.delivered + f.returned >= 1, "hub message {n} lost");
    }
    for (n, f) in w.up.iter().enumerate() {
        assert!(f.delivered <= 1, "client message {n} duplicated: {f:?}");
        assert!(f.returned <= 1, "client message {n} returned twice: {f:?}");
        assert!(f.delivered + f.returned >= 1, "client message {n} lost");
    }
    let mut stats = Stats::default();
    for e in &w.client_events {
        match e {
            xmpp_sm::ClientEvent::Resumed { .. } => stats.resumes += 1,
            xmpp_sm::ClientEvent::ResumeFailed { .. } => stats.failed_resumes += 1,
            _ => {}
        }
    }
    stats.expiries = w
        .registry_events
        .iter()
        .filter(|e| matches!(e, xmpp_sm::RegistryEvent::Expired(_)))
        .count();
    stats
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn every_message_delivered_once_or_returned(
        seed in any::<u64>(),
        wrap in any::<bool>(),
        steps in 20usize..250,
        offline in any::<bool>(),
    ) {
        run(seed, wrap, steps, offline);
    }
}

/// The schedules really exercise resumption, failed resumption and
/// expiry (a property that never resumes would prove nothing).
#[test]
fn schedules_cover_resume_failure_and_expiry() {
    let mut total = Stats::default();
    for seed in 1..200u64 {
        let s = run(seed * 7919, seed % 2 == 0, 200, seed % 3 == 0);
        total.resumes += s.resumes;
        total.failed_resumes += s.failed_resumes;
        total.expiries += s.expiries;
    }
    assert!(total.resumes > 50, "{total:?}");
    assert!(total.failed_resumes > 5, "{total:?}");
    assert!(total.expiries > 5, "{total:?}");
}
