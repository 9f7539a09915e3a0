//! Client <-> server round trips for every mechanism (including the -PLUS
//! variants with both channel-binding types) and every failure path, on the
//! server (RFC 6120 §6.5 conditions) and on the client.

use std::collections::HashMap;
use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use xmpp_core::sasl::{
    ChannelBinding, ClientSession, CredentialStore, FailureCondition, Mechanism, SaslError,
    SaslFailure, ScramCredentials, ScramHash, ServerSession, ServerStep, accept_mechanism,
    server_mechanisms,
};

const ITER: u32 = 4096;

/// The test deployment's users: (name, password, hashes with keys).
const USERS: &[(&str, &str, &[ScramHash])] = &[
    (
        "romeo",
        "Wherefore art thou?",
        &[ScramHash::Sha1, ScramHash::Sha256],
    ),
    (
        "juliet",
        "r0m30 myL0v3",
        &[ScramHash::Sha1, ScramHash::Sha256],
    ),
    ("nurse", "old-style", &[ScramHash::Sha1]),
    ("tybalt", "banished", &[ScramHash::Sha1, ScramHash::Sha256]),
    ("paris", "expired!", &[ScramHash::Sha1, ScramHash::Sha256]),
    ("friar", "busy busy", &[ScramHash::Sha1, ScramHash::Sha256]),
    (
        "mont,ague=1",
        "house",
        &[ScramHash::Sha1, ScramHash::Sha256],
    ),
];

static KEYS: LazyLock<HashMap<(String, ScramHash), ScramCredentials>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for (i, (name, password, hashes)) in USERS.iter().enumerate() {
        for hash in *hashes {
            let salt = format!("salt-of-{i}").into_bytes();
            let creds = ScramCredentials::derive(*hash, password, &salt, ITER).unwrap();
            map.insert(((*name).to_owned(), *hash), creds);
        }
    }
    map
});

struct Store;

impl CredentialStore for Store {
    fn scram_credentials(&self, username: &str, hash: ScramHash) -> Option<ScramCredentials> {
        KEYS.get(&(username.to_owned(), hash)).cloned()
    }

    fn verify_token(&self, token: &str, _authzid: Option<&str>) -> Option<String> {
        match token {
            "dG9rZW4tcm9tZW8=" => Some("romeo".into()),
            "tybalt-token" => Some("tybalt".into()),
            _ => None,
        }
    }

    fn may_authorize(&self, authcid: &str, authzid: &str) -> bool {
        let bare = authzid.split('@').next().unwrap_or_default();
        authcid == authzid
            || authcid == bare
            || (authcid == "friar" && authzid.ends_with("@verona.example"))
    }

    fn account_status(&self, username: &str) -> Result<(), SaslFailure> {
        match username {
            "tybalt" => Err(SaslFailure::new(FailureCondition::AccountDisabled)),
            "paris" => Err(SaslFailure::new(FailureCondition::CredentialsExpired)),
            "CN=offline" => Err(SaslFailure::new(FailureCondition::TemporaryAuthFailure)),
            _ => Ok(()),
        }
    }

    fn unknown_user_secret(&self) -> &[u8] {
        b"verona test secret"
    }
}

const EXPORTER: &[u8] = &[0x42; 32];
const END_POINT: &[u8] = &[0x17; 32];

/// How an exchange ended.
#[derive(Debug, PartialEq)]
enum End {
    /// The server reported success and the client accepted it.
    Ok {
        username: String,
        authzid: Option<String>,
    },
    /// The server failed the exchange.
    Server(SaslFailure),
    /// The client gave up.
    Client(SaslError),
}

fn drive(client: &mut ClientSession, server: &mut ServerSession, initial: bool) -> End {
    let mut input = if initial {
        match client.initial_response() {
            Ok(r) => r,
            Err(e) => return End::Client(e),
        }
    } else {
        None
    };
    for _ in 0..8 {
        match server.step(&Store, input.as_deref()) {
            Ok(ServerStep::Challenge(c)) => match client.step(&c) {
                Ok(r) => input = Some(r),
                Err(e) => return End::Client(e),
            },
            Ok(ServerStep::Success {
                username,
                authzid,
                additional_data,
            }) => {
                return match client.finish(additional_data.as_deref()) {
                    Ok(()) => End::Ok { username, authzid },
                    Err(e) => End::Client(e),
                };
            }
            Err(f) => return End::Server(f),
        }
    }
    panic!("exchange did not terminate");
}

struct Case<'a> {
    mechanism: Mechanism,
    user: &'a str,
    secret: &'a str,
    authzid: Option<&'a str>,
    client_cb: ChannelBinding,
    server_cb: ChannelBinding,
    y_flag: bool,
    initial: bool,
    external: Option<&'a str>,
}

impl<'a> Case<'a> {
    fn new(mechanism: Mechanism, user: &'a str, secret: &'a str) -> Self {
        Case {
            mechanism,
            user,
            secret,
            authzid: None,
            client_cb: ChannelBinding::None,
            server_cb: ChannelBinding::None,
            y_flag: false,
            initial: true,
            external: None,
        }
    }

    fn run(&self) -> End {
        let mut client = match ClientSession::new(
            self.mechanism,
            self.user,
            self.secret,
            self.authzid,
            "clientNONCE+1",
            self.client_cb.clone(),
            self.y_flag,
        ) {
            Ok(c) => c,
            Err(e) => return End::Client(e),
        };
        let mut server = match ServerSession::new(
            self.mechanism,
            self.server_cb.clone(),
            "serverNONCE/2",
            self.external,
        ) {
            Ok(s) => s,
            Err(f) => return End::Server(f),
        };
        drive(&mut client, &mut server, self.initial)
    }
}

fn ok(username: &str, authzid: Option<&str>) -> End {
    End::Ok {
        username: username.to_owned(),
        authzid: authzid.map(str::to_owned),
    }
}

fn condition(end: End) -> FailureCondition {
    match end {
        End::Server(f) => f.condition,
        other => panic!("expected a server failure, got {other:?}"),
    }
}

fn text(end: &End) -> Option<&str> {
    match end {
        End::Server(f) => f.text.as_deref(),
        _ => None,
    }
}

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

const SCRAM: [Mechanism; 2] = [Mechanism::ScramSha1, Mechanism::ScramSha256];
const PLUS: [Mechanism; 2] = [Mechanism::ScramSha1Plus, Mechanism::ScramSha256Plus];

// ---- round trips -----------------------------------------------------------

#[test]
fn plain_round_trip() {
    let c = Case::new(Mechanism::Plain, "juliet", "r0m30 myL0v3");
    assert_eq!(c.run(), ok("juliet", None));
    // Without an initial response: empty challenge first.
    let c = Case {
        initial: false,
        ..Case::new(Mechanism::Plain, "Juliet", "r0m30 myL0v3")
    };
    assert_eq!(c.run(), ok("juliet", None));
    // A user with SHA-1 keys only.
    assert_eq!(
        Case::new(Mechanism::Plain, "nurse", "old-style").run(),
        ok("nurse", None)
    );
    let c = Case {
        authzid: Some("juliet@capulet.example"),
        ..Case::new(Mechanism::Plain, "juliet", "r0m30 myL0v3")
    };
    assert_eq!(c.run(), ok("juliet", Some("juliet@capulet.example")));
}

#[test]
fn scram_round_trips() {
    for m in SCRAM {
        assert_eq!(
            Case::new(m, "romeo", "Wherefore art thou?").run(),
            ok("romeo", None)
        );
        // Case-mapped user name, no initial response, authorization identity
        // with characters that need escaping.
        let c = Case {
            authzid: Some("friar@verona.example,cell=1"),
            initial: false,
            ..Case::new(m, "FRIAR", "busy busy")
        };
        assert_eq!(c.run(), ok("friar", Some("friar@verona.example,cell=1")));
        // A user name that needs escaping itself.
        assert_eq!(
            Case::new(m, "mont,ague=1", "house").run(),
            ok("mont,ague=1", None)
        );
    }
    assert_eq!(
        Case::new(Mechanism::ScramSha1, "nurse", "old-style").run(),
        ok("nurse", None)
    );
}

#[test]
fn scram_plus_round_trips_with_both_binding_types() {
    for m in PLUS {
        for cb in [
            ChannelBinding::TlsExporter(EXPORTER.to_vec()),
            ChannelBinding::TlsServerEndPoint(END_POINT.to_vec()),
        ] {
            let c = Case {
                client_cb: cb.clone(),
                server_cb: cb,
                authzid: Some("romeo@montague.example"),
                ..Case::new(m, "romeo", "Wherefore art thou?")
            };
            assert_eq!(c.run(), ok("romeo", Some("romeo@montague.example")));
        }
    }
}

#[test]
fn scram_y_flag_accepted_when_server_has_no_binding() {
    for m in SCRAM {
        let c = Case {
            y_flag: true,
            ..Case::new(m, "romeo", "Wherefore art thou?")
        };
        assert_eq!(c.run(), ok("romeo", None));
    }
}

#[test]
fn scram_server_final_as_challenge() {
    for m in SCRAM {
        let mut client = client_with(
            m,
            "romeo",
            "Wherefore art thou?",
            None,
            "abc",
            ChannelBinding::None,
        );
        let mut server = ServerSession::new(m, ChannelBinding::None, "def", None).unwrap();
        let first = client.initial_response().unwrap();
        let ServerStep::Challenge(sf) = server.step(&Store, first.as_deref()).unwrap() else {
            panic!()
        };
        let fin = client.step(&sf).unwrap();
        let ServerStep::Success {
            additional_data: Some(v),
            ..
        } = server.step(&Store, Some(&fin)).unwrap()
        else {
            panic!()
        };
        // An older server sends the server-final message as a challenge and
        // then an empty success.
        assert_eq!(client.step(&v).unwrap(), Vec::<u8>::new());
        client.finish(None).unwrap();
    }
}

#[test]
fn oauthbearer_round_trip() {
    assert_eq!(
        Case::new(Mechanism::OAuthBearer, "", "dG9rZW4tcm9tZW8=").run(),
        ok("romeo", None)
    );
    let c = Case {
        authzid: Some("romeo@montague.example"),
        initial: false,
        ..Case::new(Mechanism::OAuthBearer, "", "dG9rZW4tcm9tZW8=")
    };
    assert_eq!(c.run(), ok("romeo", Some("romeo@montague.example")));
}

#[test]
fn oauthbearer_rejected_token_follows_rfc7628_error_flow() {
    let mut client = client_with(
        Mechanism::OAuthBearer,
        "",
        "bogus",
        None,
        "",
        ChannelBinding::None,
    );
    let mut server =
        ServerSession::new(Mechanism::OAuthBearer, ChannelBinding::None, "", None).unwrap();
    let ir = client.initial_response().unwrap();
    let ServerStep::Challenge(doc) = server.step(&Store, ir.as_deref()).unwrap() else {
        panic!("expected the error document")
    };
    assert!(String::from_utf8_lossy(&doc).contains("\"status\":\"invalid_token\""));
    let dummy = client.step(&doc).unwrap();
    assert_eq!(dummy, vec![0x01]);
    assert!(client.oauthbearer_error().is_some());
    let f = server.step(&Store, Some(&dummy)).unwrap_err();
    assert_eq!(f.condition, FailureCondition::NotAuthorized);
    assert!(matches!(
        client.finish(None),
        Err(SaslError::OAuthBearerRejected(_))
    ));
}

#[test]
fn external_round_trip() {
    let c = Case {
        external: Some("juliet@capulet.example"),
        ..Case::new(Mechanism::External, "", "")
    };
    assert_eq!(c.run(), ok("juliet@capulet.example", None));
    let c = Case {
        external: Some("juliet@capulet.example"),
        authzid: Some("juliet@capulet.example"),
        initial: false,
        ..Case::new(Mechanism::External, "", "")
    };
    assert_eq!(
        c.run(),
        ok("juliet@capulet.example", Some("juliet@capulet.example"))
    );
}

// ---- server failure conditions (RFC 6120 §6.5) -----------------------------

#[test]
fn aborted() {
    let mut s =
        ServerSession::new(Mechanism::ScramSha256, ChannelBinding::None, "n", None).unwrap();
    s.step(&Store, None).unwrap();
    assert_eq!(s.abort().condition, FailureCondition::Aborted);
    assert!(s.is_finished());
    assert_eq!(
        s.step(&Store, Some(b"n,,n=romeo,r=x"))
            .unwrap_err()
            .condition,
        FailureCondition::MalformedRequest
    );
}

#[test]
fn account_disabled_and_credentials_expired_after_valid_credentials() {
    for m in [
        Mechanism::Plain,
        Mechanism::ScramSha1,
        Mechanism::ScramSha256,
    ] {
        assert_eq!(
            condition(Case::new(m, "tybalt", "banished").run()),
            FailureCondition::AccountDisabled
        );
        assert_eq!(
            condition(Case::new(m, "paris", "expired!").run()),
            FailureCondition::CredentialsExpired
        );
        // With the wrong password the account state is not revealed.
        assert_eq!(
            condition(Case::new(m, "tybalt", "wrong").run()),
            FailureCondition::NotAuthorized
        );
    }
    assert_eq!(
        condition(Case::new(Mechanism::OAuthBearer, "", "tybalt-token").run()),
        FailureCondition::AccountDisabled
    );
    let c = Case {
        external: Some("CN=offline"),
        ..Case::new(Mechanism::External, "", "")
    };
    assert_eq!(condition(c.run()), FailureCondition::TemporaryAuthFailure);
}

#[test]
fn encryption_required_mechanism_too_weak_invalid_mechanism() {
    let advertised = server_mechanisms(false, &ChannelBinding::None, false);
    let cond = |name: &str, adv: &[Mechanism], tls: bool| {
        accept_mechanism(name, adv, tls).unwrap_err().condition
    };
    assert_eq!(
        cond("PLAIN", &advertised, false),
        FailureCondition::EncryptionRequired
    );
    assert_eq!(
        cond("OAUTHBEARER", &advertised, false),
        FailureCondition::EncryptionRequired
    );
    assert_eq!(
        cond("SCRAM-SHA-1", &[Mechanism::ScramSha256Plus], true),
        FailureCondition::MechanismTooWeak
    );
    assert_eq!(
        cond("CRAM-MD5", &advertised, false),
        FailureCondition::InvalidMechanism
    );
    // A -PLUS session without binding data, EXTERNAL without an identity.
    for m in PLUS {
        let c = Case {
            client_cb: ChannelBinding::TlsExporter(EXPORTER.to_vec()),
            ..Case::new(m, "romeo", "Wherefore art thou?")
        };
        assert_eq!(condition(c.run()), FailureCondition::InvalidMechanism);
    }
    assert_eq!(
        condition(Case::new(Mechanism::External, "", "").run()),
        FailureCondition::InvalidMechanism
    );
}

#[test]
fn temporary_auth_failure_for_bad_server_nonce() {
    for nonce in ["", "has,comma", "has space"] {
        let f = ServerSession::new(Mechanism::ScramSha1, ChannelBinding::None, nonce, None)
            .unwrap_err();
        assert_eq!(f.condition, FailureCondition::TemporaryAuthFailure);
    }
}

#[test]
fn incorrect_encoding() {
    let server_first = |m| {
        let mut s = ServerSession::new(m, ChannelBinding::None, "srv", None).unwrap();
        let ServerStep::Challenge(_) = s.step(&Store, Some(b"n,,n=romeo,r=cli")).unwrap() else {
            panic!()
        };
        s
    };
    let cases: [&[u8]; 4] = [
        b"c=b!ws,r=clisrv,p=AAAA",
        b"c=biws,r=clisrv,p=***",
        b"c=biws,r=clisrv,p=\xff",
        b"c=biw,r=clisrv,p=AAAA",
    ];
    for input in cases {
        let mut s = server_first(Mechanism::ScramSha1);
        let f = s.step(&Store, Some(input)).unwrap_err();
        assert_eq!(
            f.condition,
            FailureCondition::IncorrectEncoding,
            "{input:?}"
        );
    }
    let mut s =
        ServerSession::new(Mechanism::ScramSha1, ChannelBinding::None, "srv", None).unwrap();
    assert_eq!(
        s.step(&Store, Some(b"n,,n=\xc3,r=x"))
            .unwrap_err()
            .condition,
        FailureCondition::IncorrectEncoding
    );
    let mut s =
        ServerSession::new(Mechanism::ScramSha1, ChannelBinding::None, "srv", None).unwrap();
    assert_eq!(
        s.step(&Store, Some(b"n,a=bad=escape,n=romeo,r=x"))
            .unwrap_err()
            .condition,
        FailureCondition::IncorrectEncoding
    );
}

#[test]
fn invalid_authzid() {
    for m in [
        Mechanism::Plain,
        Mechanism::ScramSha1,
        Mechanism::ScramSha256,
    ] {
        let c = Case {
            authzid: Some("juliet@capulet.example"),
            ..Case::new(m, "romeo", "Wherefore art thou?")
        };
        assert_eq!(condition(c.run()), FailureCondition::InvalidAuthzid);
    }
    let c = Case {
        authzid: Some("juliet@capulet.example"),
        ..Case::new(Mechanism::OAuthBearer, "", "dG9rZW4tcm9tZW8=")
    };
    assert_eq!(condition(c.run()), FailureCondition::InvalidAuthzid);
    let c = Case {
        external: Some("romeo@montague.example"),
        authzid: Some("juliet@capulet.example"),
        ..Case::new(Mechanism::External, "", "")
    };
    assert_eq!(condition(c.run()), FailureCondition::InvalidAuthzid);
}

fn server_error(m: Mechanism, cb: ChannelBinding, msgs: &[&[u8]]) -> SaslFailure {
    let mut s = ServerSession::new(m, cb, "srv", Some("ext@example")).unwrap();
    let (last, rest) = msgs.split_last().unwrap();
    for msg in rest {
        s.step(&Store, Some(msg)).unwrap();
    }
    s.step(&Store, Some(last)).unwrap_err()
}

#[test]
fn malformed_requests() {
    let none = || ChannelBinding::None;
    let exporter = || ChannelBinding::TlsExporter(EXPORTER.to_vec());
    let first: &[u8] = b"n,,n=romeo,r=cli";
    let cases: Vec<(Mechanism, ChannelBinding, Vec<&[u8]>)> = vec![
        // PLAIN: wrong number of fields, empty identity or password, non-UTF-8.
        (Mechanism::Plain, none(), vec![b"romeo"]),
        (Mechanism::Plain, none(), vec![b"\0romeo"]),
        (Mechanism::Plain, none(), vec![b"\0romeo\0pw\0x"]),
        (Mechanism::Plain, none(), vec![b"\0\0pw"]),
        (Mechanism::Plain, none(), vec![b"\0romeo\0"]),
        (Mechanism::Plain, none(), vec![b"\0romeo\0\xff"]),
        // SCRAM client-first.
        (Mechanism::ScramSha1, none(), vec![b""]),
        (Mechanism::ScramSha1, none(), vec![b"x,,n=romeo,r=a"]),
        (Mechanism::ScramSha1, none(), vec![b"n,,m=ext,n=romeo,r=a"]),
        (Mechanism::ScramSha1, none(), vec![b"n,,r=a,n=romeo"]),
        (Mechanism::ScramSha1, none(), vec![b"n,,n=romeo"]),
        (Mechanism::ScramSha1, none(), vec![b"n,,n=romeo,r="]),
        (Mechanism::ScramSha1, none(), vec![b"n,,n=romeo,r=a b"]),
        (Mechanism::ScramSha1, none(), vec![b"n,,n=romeo,r=a,bogus"]),
        (
            Mechanism::ScramSha1,
            none(),
            vec![b"p=tls-exporter,,n=romeo,r=a"],
        ),
        (
            Mechanism::ScramSha1Plus,
            exporter(),
            vec![b"n,,n=romeo,r=a"],
        ),
        (
            Mechanism::ScramSha256Plus,
            exporter(),
            vec![b"y,,n=romeo,r=a"],
        ),
        // SCRAM client-final.
        (
            Mechanism::ScramSha256,
            none(),
            vec![first, b"c=biws,r=clisrv"],
        ),
        (
            Mechanism::ScramSha256,
            none(),
            vec![first, b"r=clisrv,c=biws,p=AAAA"],
        ),
        (
            Mechanism::ScramSha256,
            none(),
            vec![first, b"c=biws,p=AAAA"],
        ),
        (
            Mechanism::ScramSha256,
            none(),
            vec![first, b"c=biws,r=clisrv,p=AAAA,x=1"],
        ),
        (
            Mechanism::ScramSha256,
            none(),
            vec![first, b"c=biws,r=clisrv,1=x,p=AAAA"],
        ),
        (Mechanism::ScramSha256, none(), vec![first, b"p=AAAA"]),
        // OAUTHBEARER.
        (Mechanism::OAuthBearer, none(), vec![b"n,,auth=Bearer x"]),
        (
            Mechanism::OAuthBearer,
            none(),
            vec![b"n,,\x01host=a\x01\x01"],
        ),
        (
            Mechanism::OAuthBearer,
            none(),
            vec![b"n,,\x01auth=Bearer bogus\x01\x01", b"junk"],
        ),
        // EXTERNAL.
        (Mechanism::External, none(), vec![b"a\0b"]),
        (Mechanism::External, none(), vec![b"\xff"]),
    ];
    for (m, cb, msgs) in cases {
        let f = server_error(m, cb, &msgs);
        assert_eq!(
            f.condition,
            FailureCondition::MalformedRequest,
            "{m} {msgs:?}"
        );
    }
}

#[test]
fn unknown_mandatory_extension_is_rejected() {
    let f = server_error(
        Mechanism::ScramSha1,
        ChannelBinding::None,
        &[b"n,,m=x,n=romeo,r=a"],
    );
    assert_eq!(f.text.as_deref(), Some("extensions-not-supported"));
}

#[test]
fn optional_extensions_are_ignored() {
    let mut s =
        ServerSession::new(Mechanism::ScramSha1, ChannelBinding::None, "srv", None).unwrap();
    assert!(matches!(
        s.step(&Store, Some(b"n,,n=romeo,r=cli,x=future")),
        Ok(ServerStep::Challenge(_))
    ));
}

#[test]
fn oversized_and_repeated_messages() {
    let mut s = ServerSession::new(Mechanism::Plain, ChannelBinding::None, "srv", None)
        .unwrap()
        .with_max_message_size(16);
    let f = s.step(&Store, Some(&[b'a'; 17])).unwrap_err();
    assert_eq!(f.condition, FailureCondition::MalformedRequest);
    let mut s = ServerSession::new(Mechanism::Plain, ChannelBinding::None, "srv", None).unwrap();
    let big = vec![b'x'; xmpp_core::sasl::DEFAULT_MAX_MESSAGE_SIZE + 1];
    assert_eq!(
        s.step(&Store, Some(&big)).unwrap_err().condition,
        FailureCondition::MalformedRequest
    );
    // After success, the exchange is over.
    let mut s = ServerSession::new(Mechanism::Plain, ChannelBinding::None, "srv", None).unwrap();
    assert!(matches!(
        s.step(&Store, Some(b"\0nurse\0old-style")),
        Ok(ServerStep::Success { .. })
    ));
    assert_eq!(
        s.step(&Store, Some(b"\0nurse\0old-style"))
            .unwrap_err()
            .condition,
        FailureCondition::MalformedRequest
    );
}

#[test]
fn not_authorized_paths() {
    for m in [
        Mechanism::Plain,
        Mechanism::ScramSha1,
        Mechanism::ScramSha256,
    ] {
        assert_eq!(
            condition(Case::new(m, "romeo", "Wherefore art thou!").run()),
            FailureCondition::NotAuthorized
        );
        assert_eq!(
            condition(Case::new(m, "benvolio", "anything").run()),
            FailureCondition::NotAuthorized
        );
    }
    // A PRECIS-invalid user name in a hand-made message.
    let f = server_error(Mechanism::Plain, ChannelBinding::None, &[b"\0ro meo\0pw"]);
    assert_eq!(f.condition, FailureCondition::NotAuthorized);
    let f = server_error(
        Mechanism::ScramSha1,
        ChannelBinding::None,
        &[b"n,,n=ro meo,r=a"],
    );
    assert_eq!(f.condition, FailureCondition::NotAuthorized);
    assert_eq!(f.text.as_deref(), Some("invalid-username-encoding"));
    let f = server_error(
        Mechanism::ScramSha1,
        ChannelBinding::None,
        &[b"n,,n=ro=2meo,r=a"],
    );
    assert_eq!(f.text.as_deref(), Some("invalid-username-encoding"));
    // Nonce not echoed.
    let f = server_error(
        Mechanism::ScramSha1,
        ChannelBinding::None,
        &[b"n,,n=romeo,r=cli", b"c=biws,r=clixxx,p=AAAA"],
    );
    assert_eq!(f.condition, FailureCondition::NotAuthorized);
    // Proof of the wrong length.
    let f = server_error(
        Mechanism::ScramSha1,
        ChannelBinding::None,
        &[b"n,,n=romeo,r=cli", b"c=biws,r=clisrv,p=AAAA"],
    );
    assert_eq!(f.text.as_deref(), Some("invalid-proof"));
    // OAUTHBEARER with a token the verifier rejects: see the RFC 7628 flow test.
    assert_eq!(
        condition(Case::new(Mechanism::OAuthBearer, "", "bogus").run()),
        FailureCondition::NotAuthorized
    );
}

#[test]
fn unknown_user_is_indistinguishable_from_wrong_password() {
    let first_for = |user: &str| {
        let mut s =
            ServerSession::new(Mechanism::ScramSha256, ChannelBinding::None, "srv", None).unwrap();
        let msg = format!("n,,n={user},r=cli");
        let ServerStep::Challenge(c) = s.step(&Store, Some(msg.as_bytes())).unwrap() else {
            panic!()
        };
        String::from_utf8(c).unwrap()
    };
    let known = first_for("romeo");
    let unknown = first_for("benvolio");
    // Same shape: nonce, 16-octet salt, same iteration count.
    let shape = |s: &str| {
        let parts: Vec<&str> = s.split(',').collect();
        (
            parts.len(),
            B64.decode(&parts[1][2..]).unwrap().len(),
            parts[2].to_owned(),
        )
    };
    assert_eq!(shape(&unknown), (3, 16, "i=4096".to_owned()));
    assert_eq!(shape(&known).0, shape(&unknown).0);
    assert_eq!(shape(&known).2, shape(&unknown).2);
    // Stable across attempts, different per user.
    assert_eq!(unknown, first_for("benvolio"));
    assert_ne!(unknown, first_for("mercutio"));
    // The final answer is the same as for a wrong password.
    for m in SCRAM {
        let unknown = Case::new(m, "benvolio", "x").run();
        let wrong = Case::new(m, "romeo", "x").run();
        assert_eq!(unknown, wrong);
        assert_eq!(text(&unknown), Some("invalid-proof"));
    }
    assert_eq!(
        Case::new(Mechanism::Plain, "benvolio", "x").run(),
        Case::new(Mechanism::Plain, "romeo", "x").run()
    );
}

#[test]
fn downgrade_protection() {
    // The client supports binding but saw no -PLUS while the server offers it.
    for m in SCRAM {
        let c = Case {
            y_flag: true,
            server_cb: ChannelBinding::TlsExporter(EXPORTER.to_vec()),
            ..Case::new(m, "romeo", "Wherefore art thou?")
        };
        let end = c.run();
        assert_eq!(text(&end), Some("server-does-support-channel-binding"));
        assert_eq!(condition(end), FailureCondition::NotAuthorized);
        // With `n` the server accepts the non-PLUS mechanism.
        let c = Case {
            server_cb: ChannelBinding::TlsExporter(EXPORTER.to_vec()),
            ..Case::new(m, "romeo", "Wherefore art thou?")
        };
        assert_eq!(c.run(), ok("romeo", None));
    }
}

#[test]
fn channel_binding_mismatches() {
    for m in PLUS {
        // Different binding data: a man in the middle terminating TLS.
        let c = Case {
            client_cb: ChannelBinding::TlsExporter(vec![1; 32]),
            server_cb: ChannelBinding::TlsExporter(EXPORTER.to_vec()),
            ..Case::new(m, "romeo", "Wherefore art thou?")
        };
        let end = c.run();
        assert_eq!(text(&end), Some("channel-bindings-dont-match"));
        assert_eq!(condition(end), FailureCondition::NotAuthorized);
        // A binding type the server does not offer.
        let c = Case {
            client_cb: ChannelBinding::TlsServerEndPoint(END_POINT.to_vec()),
            server_cb: ChannelBinding::TlsExporter(EXPORTER.to_vec()),
            ..Case::new(m, "romeo", "Wherefore art thou?")
        };
        let end = c.run();
        assert_eq!(text(&end), Some("unsupported-channel-binding-type"));
    }
}

// ---- client-side errors ----------------------------------------------------

fn scram_client(m: Mechanism) -> ClientSession {
    let mut c = client_with(m, "romeo", "pw", None, "cli", ChannelBinding::None);
    assert_eq!(
        c.initial_response().unwrap().unwrap(),
        b"n,,n=romeo,r=cli".to_vec()
    );
    c
}

#[test]
fn client_rejects_bad_server_first() {
    let cases: Vec<(&[u8], SaslError)> = vec![
        (
            b"e=other-error",
            SaslError::ServerError("other-error".into()),
        ),
        (
            b"m=x,r=clisrv,s=c2FsdA==,i=4096",
            SaslError::UnsupportedExtension,
        ),
        (b"r=othersrv,s=c2FsdA==,i=4096", SaslError::NonceMismatch),
        (b"r=cli,s=c2FsdA==,i=4096", SaslError::NonceMismatch),
        (
            b"r=clisrv,s=c2FsdA==,i=4095",
            SaslError::IterationCountTooLow {
                got: 4095,
                min: 4096,
            },
        ),
        (
            b"r=clisrv,s=c2FsdA==,i=4294967295",
            SaslError::IterationCountTooHigh {
                got: u32::MAX,
                max: xmpp_core::sasl::DEFAULT_MAX_ITERATIONS,
            },
        ),
        (b"r=clisrv,s=,i=4096", SaslError::InvalidSalt),
        (
            b"r=clisrv,s=!!,i=4096",
            SaslError::MalformedMessage("salt is not valid base64"),
        ),
        (
            b"r=clisrv,s=c2FsdA==,i=0",
            SaslError::MalformedMessage("invalid iteration count"),
        ),
        (
            b"r=clisrv,s=c2FsdA==",
            SaslError::MalformedMessage("missing iteration count"),
        ),
        (
            b"r=clisrv,i=4096",
            SaslError::MalformedMessage("missing salt attribute"),
        ),
        (
            b"s=c2FsdA==,i=4096",
            SaslError::MalformedMessage("missing nonce attribute"),
        ),
        (
            b"r=clisrv,s=c2FsdA==,i=4096,bad",
            SaslError::MalformedMessage("invalid extension attribute"),
        ),
        (
            b"\xff",
            SaslError::MalformedMessage("server-first message is not UTF-8"),
        ),
    ];
    for (challenge, expected) in cases {
        let mut c = scram_client(Mechanism::ScramSha1);
        assert_eq!(c.step(challenge), Err(expected), "{challenge:?}");
        // The exchange is over after an error.
        assert_eq!(c.step(challenge), Err(SaslError::UnexpectedMessage));
    }
}

#[test]
fn client_iteration_limits_are_configurable() {
    let mut c = client_with(
        Mechanism::ScramSha1,
        "romeo",
        "pw",
        None,
        "cli",
        ChannelBinding::None,
    )
    .with_iteration_limits(10_000, 20_000);
    c.initial_response().unwrap();
    assert_eq!(
        c.step(b"r=clisrv,s=c2FsdA==,i=4096"),
        Err(SaslError::IterationCountTooLow {
            got: 4096,
            min: 10_000
        })
    );
}

#[test]
fn client_checks_server_final() {
    let prepare = || {
        let mut c = scram_client(Mechanism::ScramSha256);
        c.step(b"r=clisrv,s=c2FsdA==,i=4096").unwrap();
        c
    };
    assert_eq!(
        prepare().finish(Some(b"e=invalid-proof")),
        Err(SaslError::ServerError("invalid-proof".into()))
    );
    assert_eq!(
        prepare().finish(None),
        Err(SaslError::MissingServerSignature)
    );
    assert_eq!(
        prepare().finish(Some(b"v=AAAA")),
        Err(SaslError::ServerSignatureMismatch)
    );
    assert!(matches!(
        prepare().finish(Some(b"x=1")),
        Err(SaslError::MalformedMessage(_))
    ));
    assert!(matches!(
        prepare().step(b"v=***"),
        Err(SaslError::MalformedMessage(_))
    ));
}

#[test]
fn client_argument_errors() {
    let new = |m, user, pw, authzid, nonce, cb| {
        ClientSession::new(m, user, pw, authzid, nonce, cb, false).unwrap_err()
    };
    let none = || ChannelBinding::None;
    assert_eq!(
        new(Mechanism::ScramSha1Plus, "romeo", "pw", None, "n", none()),
        SaslError::ChannelBindingRequired(Mechanism::ScramSha1Plus)
    );
    assert_eq!(
        new(Mechanism::ScramSha1, "romeo", "pw", None, "a,b", none()),
        SaslError::InvalidNonce
    );
    assert_eq!(
        new(Mechanism::ScramSha256, "romeo", "", None, "n", none()),
        SaslError::InvalidPassword
    );
    assert_eq!(
        new(Mechanism::Plain, "ro meo", "pw", None, "n", none()),
        SaslError::InvalidUsername
    );
    assert_eq!(
        new(Mechanism::OAuthBearer, "", "not a token", None, "", none()),
        SaslError::InvalidToken
    );
    assert_eq!(
        new(Mechanism::External, "", "", Some("a\0b"), "", none()),
        SaslError::InvalidAuthzid
    );
}

#[test]
fn client_state_errors_and_limits() {
    let mut c = scram_client(Mechanism::ScramSha1);
    assert_eq!(c.initial_response(), Err(SaslError::UnexpectedMessage));
    let mut c = client_with(
        Mechanism::Plain,
        "romeo",
        "pw",
        None,
        "",
        ChannelBinding::None,
    )
    .with_max_message_size(8);
    assert_eq!(
        c.step(&[0; 9]),
        Err(SaslError::MessageTooLarge { size: 9, limit: 8 })
    );
    // PLAIN: empty first challenge gets the message, no further challenges.
    let mut c = client_with(
        Mechanism::Plain,
        "romeo",
        "pw",
        Some("r@x"),
        "",
        ChannelBinding::None,
    );
    assert_eq!(c.step(b"").unwrap(), b"r@x\0romeo\0pw".to_vec());
    assert_eq!(c.step(b"more"), Err(SaslError::UnexpectedMessage));
    // finish before anything was sent.
    let mut c = client_with(Mechanism::External, "", "", None, "", ChannelBinding::None);
    assert_eq!(c.finish(None), Err(SaslError::UnexpectedMessage));
    // EXTERNAL sends an empty initial response; success carries no data.
    let mut c = client_with(Mechanism::External, "", "", None, "", ChannelBinding::None);
    assert_eq!(c.initial_response().unwrap(), Some(Vec::new()));
    assert!(matches!(
        c.finish(Some(b"junk")),
        Err(SaslError::MalformedMessage(_))
    ));
    // A non-empty first challenge before the initial response is unexpected.
    let mut c = client_with(
        Mechanism::OAuthBearer,
        "",
        "tok",
        None,
        "",
        ChannelBinding::None,
    );
    assert_eq!(c.step(b"x"), Err(SaslError::UnexpectedMessage));
}

#[test]
fn client_y_and_p_flags_on_the_wire() {
    let mut c = ClientSession::new(
        Mechanism::ScramSha256,
        "romeo",
        "pw",
        Some("r,=@x"),
        "cli",
        ChannelBinding::TlsExporter(EXPORTER.to_vec()),
        true,
    )
    .unwrap();
    assert_eq!(
        c.initial_response().unwrap().unwrap(),
        b"y,a=r=2C=3D@x,n=romeo,r=cli".to_vec()
    );
    let mut c = ClientSession::new(
        Mechanism::ScramSha256Plus,
        "romeo",
        "pw",
        None,
        "cli",
        ChannelBinding::TlsServerEndPoint(END_POINT.to_vec()),
        false,
    )
    .unwrap();
    assert_eq!(
        c.initial_response().unwrap().unwrap(),
        b"p=tls-server-end-point,,n=romeo,r=cli".to_vec()
    );
    let fin = c.step(b"r=clisrv,s=c2FsdA==,i=4096").unwrap();
    let fin = String::from_utf8(fin).unwrap();
    let cb = fin.split(',').next().unwrap().strip_prefix("c=").unwrap();
    let mut expected = b"p=tls-server-end-point,,".to_vec();
    expected.extend_from_slice(END_POINT);
    assert_eq!(B64.decode(cb).unwrap(), expected);
}
