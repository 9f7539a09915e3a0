//! Fuzzes the transaction table: the input is a script of operations
//! (messages arriving from a few peers, time passing, the TU answering or
//! sending requests). The table must never panic, and must end empty once
//! enough time has passed.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use sip_simple::framing::parse_datagram;
use sip_simple::transaction::{
    Output, Received, Remote, TableEvent, Timers, TransactionKey, TransactionTable, Transport,
};
use sip_simple::{Limits, Message};

fn remote(b: u8) -> Remote {
    Remote {
        transport: if b & 1 == 0 {
            Transport::Udp
        } else {
            Transport::Tcp
        },
        addr: SocketAddr::from(([192, 0, 2, b], 5060)),
    }
}

fuzz_target!(|data: &[u8]| {
    let t0 = Instant::now();
    let mut now = t0;
    let mut n = 0u32;
    let mut table = TransactionTable::new(Timers::DEFAULT, move || {
        n += 1;
        n.to_string()
    })
    .with_max_transactions(16);
    let mut requests: Vec<(TransactionKey, Message)> = Vec::new();
    for op in data.split(|b| *b == 0xff) {
        let Some((&code, rest)) = op.split_first() else {
            continue;
        };
        match code % 4 {
            0 => {
                now += Duration::from_millis(u64::from(rest.first().copied().unwrap_or(0)) * 200);
                table.handle_timeout(now);
            }
            1 => {
                if let Ok(message) = parse_datagram(rest, &Limits::DEFAULT) {
                    table.handle_input(
                        now,
                        Received {
                            message,
                            remote: remote(code),
                        },
                    );
                }
            }
            2 => {
                if let Some((key, req)) = requests.last() {
                    let status = 100 + u16::from(rest.first().copied().unwrap_or(100)) * 2;
                    if let Ok(resp) = Message::response_to(req, status, "X").build() {
                        let _ = table.send_response(now, key, &resp);
                    }
                }
            }
            _ => {
                if let Ok(message) = parse_datagram(rest, &Limits::DEFAULT) {
                    let _ = table.send_request(now, message, remote(code));
                }
            }
        }
        while let Some(o) = table.poll_output() {
            match o {
                Output::Event(TableEvent::Request { key, request, .. }) => {
                    requests.push((key, request));
                }
                Output::Timeout(at) => {
                    assert!(at + Duration::from_secs(3600) > now);
                    break;
                }
                _ => {}
            }
        }
    }
    // Answer everything, then let every timer run out.
    for (key, req) in &requests {
        if let Ok(resp) = Message::response_to(req, 500, "Bye").build() {
            let _ = table.send_response(now, key, &resp);
        }
    }
    for _ in 0..200 {
        now += Duration::from_secs(1);
        table.handle_timeout(now);
        while let Some(o) = table.poll_output() {
            if matches!(o, Output::Timeout(_)) {
                break;
            }
        }
    }
    assert!(table.is_empty(), "transactions left after 200 s");
});
