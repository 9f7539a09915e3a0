//! Properties: arbitrary (or mutated valid) input never panics the SASL server
//! or client, always ends the exchange within a bounded number of steps, and
//! honest client/server pairs always succeed.

use std::sync::LazyLock;

use proptest::prelude::*;
use xmpp_core::sasl::{
    ChannelBinding, ClientSession, CredentialStore, Mechanism, ScramCredentials, ScramHash,
    ServerSession, ServerStep,
};

const PASSWORD: &str = "correct horse";

static SHA1: LazyLock<ScramCredentials> = LazyLock::new(|| {
    ScramCredentials::derive(ScramHash::Sha1, PASSWORD, b"pepper-and-salt", 4096).unwrap()
});
static SHA256: LazyLock<ScramCredentials> = LazyLock::new(|| {
    ScramCredentials::derive(ScramHash::Sha256, PASSWORD, b"pepper-and-salt", 4096).unwrap()
});

/// Every user exists with the same password (so random names reach the
/// credential checks).
struct Everyone;

impl CredentialStore for Everyone {
    fn scram_credentials(&self, _username: &str, hash: ScramHash) -> Option<ScramCredentials> {
        Some(match hash {
            ScramHash::Sha1 => SHA1.clone(),
            ScramHash::Sha256 => SHA256.clone(),
        })
    }

    fn verify_token(&self, token: &str, _authzid: Option<&str>) -> Option<String> {
        (token.len() > 3).then(|| token.to_owned())
    }

    fn may_authorize(&self, _authcid: &str, authzid: &str) -> bool {
        !authzid.starts_with('x')
    }
}

fn mechanism() -> impl Strategy<Value = Mechanism> {
    proptest::sample::select(Mechanism::PREFERENCE_ORDER.to_vec())
}

fn binding() -> impl Strategy<Value = ChannelBinding> {
    prop_oneof![
        Just(ChannelBinding::None),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(ChannelBinding::TlsExporter),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(ChannelBinding::TlsServerEndPoint),
    ]
}

/// Messages biased towards the mechanisms' syntax.
fn message() -> impl Strategy<Value = Option<Vec<u8>>> {
    let structured = proptest::string::string_regex(
        "(n|y|p=tls-exporter|p=tls-server-end-point|p=x)?,(a=[a-z=2C3D]{0,6})?,(m=x,)?(n=[a-zA-Z=,]{0,8})?(,r=[!-~]{0,8})?(,c=[A-Za-z0-9+/=]{0,12})?(,x=1)?(,p=[A-Za-z0-9+/=]{0,44})?(\x01auth=Bearer [a-z]{0,6}\x01\x01)?",
    )
    .unwrap()
    .prop_map(String::into_bytes);
    prop_oneof![
        Just(None),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Some),
        structured.prop_map(Some),
    ]
}

/// Runs a server on arbitrary input; must not panic and must terminate.
fn run_server(m: Mechanism, cb: ChannelBinding, inputs: &[Option<Vec<u8>>]) {
    let Ok(mut server) = ServerSession::new(m, cb, "srvNonce", Some("ext@example")) else {
        return;
    };
    for input in inputs {
        let r = server.step(&Everyone, input.as_deref());
        if let Ok(ServerStep::Success { username, .. }) = &r {
            assert!(!username.is_empty());
        }
        if !matches!(r, Ok(ServerStep::Challenge(_))) {
            assert!(server.is_finished());
            // Finished sessions keep failing.
            assert!(server.step(&Everyone, Some(b"x")).is_err());
            return;
        }
    }
}

/// Applies byte-level mutations to a valid message.
fn mutate(mut msg: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(pos, op, byte) in edits {
        if msg.is_empty() {
            msg.push(byte);
            continue;
        }
        let i = pos % msg.len();
        match op % 3 {
            0 => msg[i] = byte,
            1 => {
                msg.remove(i);
            }
            _ => msg.insert(i, byte),
        }
    }
    msg
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn server_never_panics_on_arbitrary_input(
        m in mechanism(),
        cb in binding(),
        inputs in proptest::collection::vec(message(), 1..5),
    ) {
        run_server(m, cb, &inputs);
    }

    #[test]
    fn client_never_panics_on_arbitrary_challenges(
        m in mechanism(),
        cb in binding(),
        initial in any::<bool>(),
        challenges in proptest::collection::vec(message(), 1..4),
        success in message(),
    ) {
        let Ok(mut client) = ClientSession::new(m, "user", "pw", Some("me"), "cNonce", cb, false)
        else {
            return Ok(());
        };
        if initial {
            prop_assert!(client.initial_response().is_ok());
        }
        for c in &challenges {
            let _ = client.step(c.as_deref().unwrap_or_default());
        }
        let _ = client.finish(success.as_deref());
        prop_assert!(client.finish(None).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn mutated_client_messages_never_panic(
        m in mechanism(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..4),
        which in 0usize..2,
    ) {
        let cb = ChannelBinding::TlsExporter(vec![9; 32]);
        let secret = if m == Mechanism::OAuthBearer { "token" } else { PASSWORD };
        let mut client =
            ClientSession::new(m, "user", secret, None, "cNonce", cb.clone(), false)
                .unwrap()
                .with_iteration_limits(1, 1 << 20);
        let mut server = ServerSession::new(m, cb, "srvNonce", Some("ext@example")).unwrap();
        let mut msg = client.initial_response().unwrap().unwrap_or_default();
        for step in 0..3 {
            let input = if step == which { mutate(msg.clone(), &edits) } else { msg.clone() };
            match server.step(&Everyone, Some(&input)) {
                Ok(ServerStep::Challenge(c)) => match client.step(&c) {
                    Ok(next) => msg = next,
                    Err(_) => return Ok(()),
                },
                Ok(ServerStep::Success { additional_data, .. }) => {
                    let _ = client.finish(additional_data.as_deref());
                    return Ok(());
                }
                Err(_) => return Ok(()),
            }
        }
    }

    #[test]
    fn honest_scram_exchanges_succeed(
        user in "[a-z][a-z0-9.,=@-]{0,12}",
        client_nonce in r"[!-+\x2D-~]{1,24}",
        server_nonce in r"[!-+\x2D-~]{1,24}",
        authzid in proptest::option::of("[a-w][a-z,=@]{0,10}"),
        sha256 in any::<bool>(),
        plus in any::<bool>(),
        exporter in any::<bool>(),
    ) {
        let m = match (sha256, plus) {
            (false, false) => Mechanism::ScramSha1,
            (false, true) => Mechanism::ScramSha1Plus,
            (true, false) => Mechanism::ScramSha256,
            (true, true) => Mechanism::ScramSha256Plus,
        };
        let cb = if exporter {
            ChannelBinding::TlsExporter(client_nonce.as_bytes().to_vec())
        } else {
            ChannelBinding::TlsServerEndPoint(server_nonce.as_bytes().to_vec())
        };
        let mut client = ClientSession::new(
            m, &user, PASSWORD, authzid.as_deref(), &client_nonce, cb.clone(), false,
        ).unwrap();
        let mut server = ServerSession::new(m, cb, &server_nonce, None).unwrap();
        let first = client.initial_response().unwrap();
        let ServerStep::Challenge(sf) = server.step(&Everyone, first.as_deref()).unwrap() else {
            panic!("expected a challenge");
        };
        let fin = client.step(&sf).unwrap();
        let ServerStep::Success { username, authzid: granted, additional_data } =
            server.step(&Everyone, Some(&fin)).unwrap()
        else {
            panic!("expected success");
        };
        prop_assert_eq!(username, user);
        prop_assert_eq!(granted, authzid);
        prop_assert!(client.finish(additional_data.as_deref()).is_ok());
    }
}
