//! Feeds arbitrary stanzas from three bound sessions into the IM hub
//! (`xmpp_core::im::Hub`). Input: chunks separated by NUL bytes; each
//! chunk's first byte picks the sender (or, with the high bit set, ends
//! and re-binds that sender's session), the rest is parsed as a stanza.
//! The hub must never panic and never deliver to an unbound session.
#![no_main]

use std::time::{Duration, Instant, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use presence_model::authz::InMemoryPolicyStore;
use xmpp_core::im::{Hub, HubConfig, InMemoryOfflineStore, InMemoryRosterStore, Now};
use xmpp_core::jid::Jid;
use xmpp_core::xml::{Limits, NsContext, parse_element};

const SENDERS: [&str; 3] = ["a@fz.example/1", "a@fz.example/2", "b@fz.example/1"];

fuzz_target!(|data: &[u8]| {
    let mut config = HubConfig::new("fz.example");
    config.authz.auto_authorize = data.first().is_some_and(|b| b & 1 == 0);
    let mut hub = Hub::new(
        config,
        InMemoryRosterStore::new(),
        InMemoryOfflineStore::new(),
        InMemoryPolicyStore::new(),
        |j: &Jid| j.local() != Some("nobody"),
    );
    let now = Now::new(Instant::now(), UNIX_EPOCH + Duration::from_secs(1_000_000));
    let senders: Vec<Jid> = SENDERS.iter().map(|s| Jid::new(s).unwrap()).collect();
    for s in &senders {
        let _ = hub.session_bound(now, s);
    }
    let ctx = NsContext::stream("jabber:client");
    let limits = Limits::default();
    for chunk in data.split(|b| *b == 0) {
        let Some((&first, rest)) = chunk.split_first() else {
            continue;
        };
        let who = &senders[usize::from(first & 0x7f) % senders.len()];
        let out = if first & 0x80 != 0 {
            let out = hub.session_ended(now, who);
            let _ = hub.session_bound(now, who);
            out
        } else {
            match parse_element(rest, &ctx, &limits) {
                Ok(e) => hub.handle_stanza(now, who, e),
                Err(_) => continue,
            }
        };
        for d in out {
            if d.to.domain() == "fz.example" {
                assert!(hub.sessions_of(&d.to).contains(&d.to));
            }
        }
    }
});
