//! The presence server's subscription table (notifier, compositor and
//! transaction table behind `PresenceServer`) fed arbitrary messages:
//! the input is split on `\0` into datagrams from a few peers, time moves
//! on between them, and nothing may panic.
#![no_main]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use presence_model::authz::{Decision, Reason};
use sip_simple::server::{PresenceServer, ServerConfig};
use sip_simple::subscription::LocalEndpoint;
use sip_simple::transaction::{Output, Remote, Transport};
use sip_simple::SipUri;

fuzz_target!(|data: &[u8]| {
    let mut n = 0u64;
    let ids = move || {
        n += 1;
        format!("id{n}")
    };
    let local = LocalEndpoint {
        via_host: "127.0.0.1".into(),
        via_port: Some(5060),
        transport: Transport::Udp,
        contact: SipUri::new(None, "127.0.0.1:5060"),
    };
    let users: BTreeSet<String> = ["alice", "bob"].into_iter().map(String::from).collect();
    let mut cfg = ServerConfig::new(local, "localhost", users);
    cfg.notifier.min_expires = 1;
    cfg.compositor.min_expires = 1;
    let mut s = PresenceServer::new(cfg, ids, ids, |_: &str, w: &str, _: usize| {
        if w.starts_with('b') {
            Decision::confirm(Reason::AskMe)
        } else {
            Decision::allow(Reason::AutoAuthorized)
        }
    });
    let t0 = Instant::now();
    let mut now = t0;
    for (i, chunk) in data.split(|b| *b == 0).enumerate() {
        let (step, msg) = chunk.split_first().map_or((0, chunk), |(a, r)| (*a, r));
        now += Duration::from_secs(u64::from(step) * 8);
        let remote = Remote {
            transport: if step & 1 == 0 { Transport::Udp } else { Transport::Tcp },
            addr: SocketAddr::from(([127, 0, 0, 1], 7000 + (i % 3) as u16)),
        };
        s.handle_bytes(now, msg, remote);
        s.handle_timeout(now);
        while let Some(o) = s.poll_output() {
            if matches!(o, Output::Timeout(_)) {
                break;
            }
        }
    }
});
