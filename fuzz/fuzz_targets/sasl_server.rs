//! Fuzzes the SASL server (and, with the same messages as challenges, the
//! client) of `xmpp_core::sasl`.
//!
//! Input layout: byte 0 selects the mechanism, byte 1 the channel binding;
//! the rest is split on 0xFF (never valid in UTF-8) into the successive
//! client messages, an empty first chunk meaning "no initial response".
#![no_main]

use libfuzzer_sys::fuzz_target;
use xmpp_core::sasl::{
    ChannelBinding, ClientSession, CredentialStore, Mechanism, ScramCredentials, ScramHash,
    ServerSession, ServerStep,
};

/// Every user exists, with cheap (one-iteration) keys so that PLAIN is fast.
struct Store;

impl CredentialStore for Store {
    fn scram_credentials(&self, username: &str, hash: ScramHash) -> Option<ScramCredentials> {
        (username.len() % 2 == 0).then(|| ScramCredentials {
            salt: b"fuzz-salt".to_vec(),
            iterations: 1,
            stored_key: vec![0x5a; hash.output_len()],
            server_key: vec![0xa5; hash.output_len()],
        })
    }

    fn verify_token(&self, token: &str, _authzid: Option<&str>) -> Option<String> {
        token.starts_with('a').then(|| token.to_owned())
    }

    fn unknown_user_iterations(&self, _hash: ScramHash) -> u32 {
        1
    }
}

fuzz_target!(|data: &[u8]| {
    let [m, cb, rest @ ..] = data else {
        return;
    };
    let mechanism =
        Mechanism::PREFERENCE_ORDER[usize::from(*m) % Mechanism::PREFERENCE_ORDER.len()];
    let binding = match cb % 3 {
        0 => ChannelBinding::None,
        1 => ChannelBinding::TlsExporter(vec![1; 32]),
        _ => ChannelBinding::TlsServerEndPoint(vec![2; 32]),
    };
    let messages: Vec<&[u8]> = rest.split(|b| *b == 0xff).take(8).collect();

    if let Ok(mut server) =
        ServerSession::new(mechanism, binding.clone(), "fuzzNonce", Some("ext@example"))
    {
        for (i, msg) in messages.iter().enumerate() {
            let input = if i == 0 && msg.is_empty() {
                None
            } else {
                Some(*msg)
            };
            match server.step(&Store, input) {
                Ok(ServerStep::Challenge(_)) => {}
                _ => {
                    assert!(server.is_finished());
                    break;
                }
            }
        }
    }

    if let Ok(client) = ClientSession::new(
        mechanism,
        "user",
        "pw",
        Some("me@example"),
        "cNonce",
        binding,
        cb & 4 != 0,
    ) {
        let mut client = client.with_iteration_limits(1, 16);
        let _ = client.initial_response();
        for msg in &messages {
            let _ = client.step(msg);
        }
        let _ = client.finish(messages.last().copied());
    }
});
