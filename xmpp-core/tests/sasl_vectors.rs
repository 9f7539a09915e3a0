//! The worked SCRAM examples of RFC 5802 §5 (SCRAM-SHA-1) and RFC 7677 §3
//! (SCRAM-SHA-256), reproduced message for message in both roles.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use xmpp_core::sasl::{
    ChannelBinding, ClientSession, CredentialStore, Mechanism, ScramCredentials, ScramHash,
    ServerSession, ServerStep,
};

/// One exchange of an RFC example.
struct Example {
    mechanism: Mechanism,
    hash: ScramHash,
    client_nonce: &'static str,
    server_nonce: &'static str,
    salt_b64: &'static str,
    client_first: &'static str,
    server_first: &'static str,
    client_final: &'static str,
    server_final: &'static str,
}

/// Both examples use the user name "user" with the password "pencil" and
/// 4096 iterations.
const USER: &str = "user";
const PASSWORD: &str = "pencil";
const ITERATIONS: u32 = 4096;

const SHA1: Example = Example {
    mechanism: Mechanism::ScramSha1,
    hash: ScramHash::Sha1,
    client_nonce: "fyko+d2lbbFgONRv9qkxdawL",
    server_nonce: "3rfcNHYJY1ZVvWVs7j",
    salt_b64: "QSXCR+Q6sek8bf92",
    client_first: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
    server_first: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
    client_final: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    server_final: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
};

const SHA256: Example = Example {
    mechanism: Mechanism::ScramSha256,
    hash: ScramHash::Sha256,
    client_nonce: "rOprNGfwEbeRWgbNEkqO",
    server_nonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
    salt_b64: "W22ZaJ0SNY7soEsUEjb6gQ==",
    client_first: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
    server_first: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    client_final: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    server_final: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
};

/// A client session without the `y` flag.
fn client_with(
    m: Mechanism,
    user: &str,
    secret: &str,
    authzid: Option<&str>,
    nonce: &str,
    cb: ChannelBinding,
) -> ClientSession {
    ClientSession::new(m, user, secret, authzid, nonce, cb, false).unwrap()
}

struct OneUser(ScramHash, ScramCredentials);

impl CredentialStore for OneUser {
    fn scram_credentials(&self, username: &str, hash: ScramHash) -> Option<ScramCredentials> {
        (username == USER && hash == self.0).then(|| self.1.clone())
    }
}

fn client_side(ex: &Example) {
    let mut client = client_with(
        ex.mechanism,
        USER,
        PASSWORD,
        None,
        ex.client_nonce,
        ChannelBinding::None,
    );
    let first = client.initial_response().unwrap().unwrap();
    assert_eq!(String::from_utf8(first).unwrap(), ex.client_first);
    let fin = client.step(ex.server_first.as_bytes()).unwrap();
    assert_eq!(String::from_utf8(fin).unwrap(), ex.client_final);
    client.finish(Some(ex.server_final.as_bytes())).unwrap();
}

fn server_side(ex: &Example) {
    let salt = B64.decode(ex.salt_b64).unwrap();
    let creds = ScramCredentials::derive(ex.hash, PASSWORD, &salt, ITERATIONS).unwrap();
    let store = OneUser(ex.hash, creds);
    let mut server =
        ServerSession::new(ex.mechanism, ChannelBinding::None, ex.server_nonce, None).unwrap();
    let ServerStep::Challenge(first) = server
        .step(&store, Some(ex.client_first.as_bytes()))
        .unwrap()
    else {
        panic!("expected the server-first challenge");
    };
    assert_eq!(String::from_utf8(first).unwrap(), ex.server_first);
    let step = server
        .step(&store, Some(ex.client_final.as_bytes()))
        .unwrap();
    assert_eq!(
        step,
        ServerStep::Success {
            username: USER.to_owned(),
            authzid: None,
            additional_data: Some(ex.server_final.as_bytes().to_vec()),
        }
    );
}

#[test]
fn rfc5802_scram_sha1_client() {
    client_side(&SHA1);
}

#[test]
fn rfc5802_scram_sha1_server() {
    server_side(&SHA1);
}

#[test]
fn rfc7677_scram_sha256_client() {
    client_side(&SHA256);
}

#[test]
fn rfc7677_scram_sha256_server() {
    server_side(&SHA256);
}

#[test]
fn tampered_server_signature_is_detected() {
    for ex in [&SHA1, &SHA256] {
        let mut client = client_with(
            ex.mechanism,
            USER,
            PASSWORD,
            None,
            ex.client_nonce,
            ChannelBinding::None,
        );
        client.initial_response().unwrap();
        client.step(ex.server_first.as_bytes()).unwrap();
        let mut sig = B64.decode(&ex.server_final[2..]).unwrap();
        sig[0] ^= 1;
        let forged = format!("v={}", B64.encode(sig));
        assert_eq!(
            client.finish(Some(forged.as_bytes())),
            Err(xmpp_core::sasl::SaslError::ServerSignatureMismatch)
        );
    }
}

#[test]
fn wrong_password_gives_other_proof() {
    // The same exchange with another password must not reproduce the proof.
    let mut client = client_with(
        SHA1.mechanism,
        USER,
        "pencil2",
        None,
        SHA1.client_nonce,
        ChannelBinding::None,
    );
    client.initial_response().unwrap();
    let fin = client.step(SHA1.server_first.as_bytes()).unwrap();
    assert_ne!(String::from_utf8(fin).unwrap(), SHA1.client_final);
}
