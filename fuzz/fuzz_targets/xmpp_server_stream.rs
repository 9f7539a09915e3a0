//! The server stream engine fed arbitrary client bytes, in chunks whose
//! sizes come from the input, with time advancing between chunks. It must
//! never panic, and once closed it must stay closed.
#![no_main]

use std::sync::Arc;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use xmpp_core::sasl::{CredentialStore, ScramCredentials, ScramHash};
use xmpp_core::stream::{Event, Output, SequentialIds, ServerConfig, ServerStream, TlsMode};

struct OneUser;

impl CredentialStore for OneUser {
    fn scram_credentials(&self, username: &str, hash: ScramHash) -> Option<ScramCredentials> {
        (username == "juliet")
            .then(|| ScramCredentials::derive(hash, "pw", b"fixed-salt", 4096).ok())
            .flatten()
    }
}

fuzz_target!(|data: &[u8]| {
    let mut cfg = ServerConfig::new("capulet.example", None, Arc::new(OneUser));
    cfg.tls_mode = TlsMode::Disabled;
    cfg.allow_plain_without_tls = true;
    let start = Instant::now();
    let mut s = ServerStream::new(cfg, Box::new(SequentialIds::new("id")), start);
    let mut now = start;
    let mut rest = data;
    let mut closed = false;
    while !rest.is_empty() {
        let n = (usize::from(rest[0]) % 64 + 1).min(rest.len() - 1).max(1);
        let (chunk, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        now += Duration::from_millis(u64::from(chunk[0]) * 10);
        s.handle_input(now, chunk);
        s.handle_timeout(now);
        while let Some(o) = s.poll_output() {
            match o {
                Output::Event(Event::BindRequested { requested }) => {
                    let r = requested.unwrap_or_else(|| "gen".into());
                    s.complete_bind(now, Ok(r));
                }
                Output::Event(Event::Closed { .. }) => closed = true,
                Output::Event(_) | Output::Transmit(_) => {}
                Output::Timeout(_) => break,
            }
        }
        if closed {
            assert!(s.is_closed());
        }
    }
});
