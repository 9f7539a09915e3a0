//! XEP-0198 server engine under arbitrary client bytes: a bound session
//! (optionally with stream management enabled) receives fuzzed input in
//! chunks, interleaved with outbound stanzas, timer runs, lost
//! connections and a resumption on a new connection. Nothing may panic.
#![no_main]

use std::sync::Arc;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use xmpp_core::sasl::{CredentialStore, ScramCredentials, ScramHash};
use xmpp_core::stream::{
    Event, Output, SequentialIds, ServerConfig as CoreConfig, ServerStream, TlsMode,
};
use xmpp_core::xml::Element;
use xmpp_sm::{Registry, ServerConfig, SmStream};

struct Users;

impl CredentialStore for Users {
    fn scram_credentials(&self, username: &str, hash: ScramHash) -> Option<ScramCredentials> {
        use hmac::{Hmac, Mac};
        use sha2::{Digest, Sha256};
        if username != "juliet" || hash != ScramHash::Sha256 {
            return None;
        }
        let mac = |key: &[u8], data: &[u8]| {
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
            m.update(data);
            Some(m.finalize().into_bytes().to_vec())
        };
        let salted = mac(b"pw", b"salt\0\0\0\x01")?;
        let client_key = mac(&salted, b"Client Key")?;
        Some(ScramCredentials {
            salt: b"salt".to_vec(),
            iterations: 1,
            stored_key: Sha256::digest(&client_key).to_vec(),
            server_key: mac(&salted, b"Server Key")?,
        })
    }
}

const HEADER: &[u8] = b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='verona.example' version='1.0'>";
// base64("\0juliet\0pw")
const AUTH: &[u8] =
    b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldABwdw==</auth>";

fn core() -> CoreConfig {
    let mut c = CoreConfig::new("verona.example", None, Arc::new(Users));
    c.tls_mode = TlsMode::Disabled;
    c.allow_plain_without_tls = true;
    c
}

fn drain(now: Instant, s: &mut ServerStream, sm: &mut SmStream, reg: &mut Registry) {
    while let Some(o) = s.poll_output() {
        match o {
            Output::Event(ev) => {
                if let Some(Event::BindRequested { .. }) = sm.on_event(now, reg, s, ev, |_| false)
                {
                    s.complete_bind(now, Ok("phone".to_owned()));
                }
            }
            Output::Timeout(_) => break,
            Output::Transmit(_) => {}
        }
    }
    reg.handle_timeout(now, |_| false);
    while reg.poll_event().is_some() {}
}

fn login(now: Instant, reg: &mut Registry, id: &str, bind: bool) -> (ServerStream, SmStream) {
    let mut s = ServerStream::new(core(), Box::new(SequentialIds::new(id)), now);
    let mut sm = SmStream::new(reg);
    s.handle_input(now, HEADER);
    s.handle_input(now, AUTH);
    drain(now, &mut s, &mut sm, reg);
    s.handle_input(now, HEADER);
    if bind {
        s.handle_input(
            now,
            b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>",
        );
    }
    drain(now, &mut s, &mut sm, reg);
    (s, sm)
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut now = Instant::now();
    let cfg = ServerConfig {
        buffer: 5 + usize::from(flags >> 4),
        ack_request_every: 1 + u32::from(flags & 3),
        ..ServerConfig::default()
    };
    let Ok(mut reg) = Registry::new(cfg, Box::new(SequentialIds::new("sm-"))) else {
        return;
    };
    let (mut s, mut sm) = login(now, &mut reg, "a", true);
    if flags & 4 != 0 {
        s.handle_input(now, b"<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
        drain(now, &mut s, &mut sm, &mut reg);
    }
    let stanza = Element::new("message", xmpp_core::ns::CLIENT)
        .with_attr("from", "romeo@verona.example/x")
        .with_attr("to", "juliet@verona.example/phone")
        .with_child(Element::new("body", xmpp_core::ns::CLIENT).with_text("hi"));
    for (i, chunk) in rest.split(|b| *b == 0xff).enumerate() {
        match chunk.first().copied().unwrap_or(0) % 8 {
            0 => {
                let _ = sm.send(now, &mut reg, &mut s, &stanza);
            }
            1 => {
                now += Duration::from_secs(u64::from(chunk.len() as u8));
                s.handle_timeout(now);
                sm.handle_timeout(now, &mut reg, &mut s);
            }
            2 if i % 3 == 0 => {
                sm.connection_lost(now, &mut reg);
                let (ns, nsm) = login(now, &mut reg, "b", false);
                s = ns;
                sm = nsm;
            }
            _ => {}
        }
        s.handle_input(now, chunk);
        drain(now, &mut s, &mut sm, &mut reg);
    }
    let _ = sm.room(&reg);
    let _ = reg.next_timeout();
});
