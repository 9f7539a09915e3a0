//! Example XMPP server: the `xmpp-core` stream engine on tokio sockets.
//!
//! Registered users (from `--user name:password` flags or a users file)
//! log in over STARTTLS (the default) or direct TLS with SCRAM or PLAIN,
//! bind resources, and exchange messages. Start it with no arguments for
//! a working server on 127.0.0.1:5222 for the domain `localhost`, with a
//! generated self-signed certificate and demo users alice and bob.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use clap::{Parser, ValueEnum};
use examples::ids::RandomIds;
use examples::users::Users;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use xmpp_core::jid::Jid;
use xmpp_core::ns;
use xmpp_core::stream::{Event, IdSource, Output, ServerConfig, ServerStream, TlsMode};
use xmpp_core::xml::Element;
use xmpp_core::{StreamError, StreamErrorCondition};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Tls {
    /// STARTTLS offered and required before authentication.
    Required,
    /// STARTTLS offered, not required.
    Optional,
    /// Plaintext only (no TLS at all). Never use beyond loopback tests.
    Disabled,
}

/// Example XMPP server built on the xmpp-core Sans-IO engine.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address for client connections (STARTTLS / plaintext).
    #[arg(long, default_value = "127.0.0.1:5222")]
    listen: SocketAddr,
    /// Also accept direct-TLS client connections (XEP-0368) here, e.g.
    /// 127.0.0.1:5223.
    #[arg(long)]
    listen_direct_tls: Option<SocketAddr>,
    /// The XMPP domain served.
    #[arg(long, default_value = "localhost")]
    domain: String,
    /// An account as name:password; repeat for more. Without any --user
    /// or --users-file, demo accounts alice:alice and bob:bob exist.
    #[arg(long = "user", value_name = "NAME:PASSWORD")]
    users: Vec<String>,
    /// A file with one name:password per line (# starts a comment).
    #[arg(long)]
    users_file: Option<PathBuf>,
    /// TLS policy for --listen.
    #[arg(long, value_enum, default_value = "required")]
    tls: Tls,
    /// PEM certificate chain; without it a self-signed certificate for
    /// the domain is generated at start-up.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key for --cert.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Write the certificate in use (PEM) to this file, so clients can
    /// be told to trust a generated one.
    #[arg(long)]
    write_cert: Option<PathBuf>,
    /// Allow PLAIN on connections without TLS (only with --tls disabled).
    #[arg(long)]
    allow_plain_without_tls: bool,
}

enum ToSession {
    Stanza(Element),
    Kick(StreamError),
}

struct Session {
    tx: mpsc::Sender<ToSession>,
    /// Priority of the last available presence; `None` before initial
    /// presence.
    priority: Option<i8>,
}

struct Server {
    domain: String,
    config: ServerConfig,
    direct_config: ServerConfig,
    sessions: Mutex<HashMap<Jid, Session>>,
    users: Arc<Users>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xmpp-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let domain = Jid::new(&args.domain)
        .map_err(|e| format!("--domain {}: {e}", args.domain))?
        .domain()
        .to_owned();
    let mut users = Users::new()?;
    let mut specs = args.users.clone();
    if let Some(path) = &args.users_file {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        specs.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned),
        );
    }
    if specs.is_empty() {
        specs = vec!["alice:alice".into(), "bob:bob".into()];
    }
    for spec in &specs {
        let (u, p) = Users::parse_spec(spec)?;
        users.add(&u, &p)?;
    }
    let users = Arc::new(users);

    let identity = match (&args.cert, &args.key) {
        (Some(c), Some(k)) => examples::tls::load(c, k)?,
        _ => examples::tls::generate(std::slice::from_ref(&domain))?,
    };
    if let Some(path) = &args.write_cert {
        std::fs::write(path, &identity.leaf_pem).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let tls = examples::tls::server_config(&identity)?;
    let mut config = ServerConfig::new(domain.clone(), Some(tls.clone()), users.clone());
    config.tls_mode = match args.tls {
        Tls::Required => TlsMode::Required,
        Tls::Optional => TlsMode::Optional,
        Tls::Disabled => TlsMode::Disabled,
    };
    config.allow_plain_without_tls = args.allow_plain_without_tls;
    let mut direct_config = config.clone();
    direct_config.tls_mode = TlsMode::Direct;

    let server = Arc::new(Server {
        domain: domain.clone(),
        config,
        direct_config,
        sessions: Mutex::new(HashMap::new()),
        users: users.clone(),
    });

    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("listen on {}: {e}", args.listen))?;
    eprintln!(
        "xmpp-server: domain {domain}, {} account(s), listening on {} (TLS {:?})",
        users.len(),
        args.listen,
        args.tls
    );
    if let Some(addr) = args.listen_direct_tls {
        let direct = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("listen on {addr}: {e}"))?;
        eprintln!("xmpp-server: direct TLS on {addr}");
        let server = server.clone();
        tokio::spawn(async move {
            loop {
                if let Ok((sock, _)) = direct.accept().await {
                    tokio::spawn(connection(sock, server.clone(), true));
                }
            }
        });
    }
    loop {
        match listener.accept().await {
            Ok((sock, _)) => {
                tokio::spawn(connection(sock, server.clone(), false));
            }
            Err(e) => eprintln!("xmpp-server: accept: {e}"),
        }
    }
}

async fn connection(sock: TcpStream, server: Arc<Server>, direct: bool) {
    let _ = sock.set_nodelay(true);
    let (mut rd, mut wr) = sock.into_split();
    let cfg = if direct {
        server.direct_config.clone()
    } else {
        server.config.clone()
    };
    let mut engine = ServerStream::new(cfg, Box::new(RandomIds), Instant::now());
    let (tx, mut rx) = mpsc::channel::<ToSession>(4096);
    let mut buf = vec![0u8; 16 * 1024];
    let mut me: Option<Jid> = None;
    'conn: loop {
        let mut deadline = None;
        while let Some(out) = engine.poll_output() {
            match out {
                Output::Transmit(b) => {
                    if wr.write_all(&b).await.is_err() {
                        break 'conn;
                    }
                }
                Output::Event(ev) => on_event(&server, &mut engine, &tx, &mut me, ev),
                Output::Timeout(at) => {
                    deadline = Some(at);
                    break;
                }
            }
        }
        if engine.is_closed() {
            break;
        }
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = rd.read(&mut buf) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => engine.handle_input(Instant::now(), &buf[..n]),
            },
            Some(msg) = rx.recv() => match msg {
                ToSession::Stanza(e) => {
                    engine.send_stanza(&e);
                }
                ToSession::Kick(err) => engine.close_with_error(Instant::now(), err),
            },
            () = sleep => engine.handle_timeout(Instant::now()),
        }
    }
    let _ = wr.shutdown().await;
    if let Some(jid) = me
        && let Ok(mut sessions) = server.sessions.lock()
        && sessions.get(&jid).is_some_and(|s| s.tx.same_channel(&tx))
    {
        sessions.remove(&jid);
    }
}

fn on_event(
    server: &Server,
    engine: &mut ServerStream,
    tx: &mpsc::Sender<ToSession>,
    me: &mut Option<Jid>,
    ev: Event,
) {
    match ev {
        Event::BindRequested { requested } => {
            let resource = requested.unwrap_or_else(|| RandomIds.next_id());
            let Some(full) = engine
                .authenticated()
                .and_then(|b| b.with_resource(&resource).ok())
            else {
                engine.complete_bind(Instant::now(), Ok(resource));
                return;
            };
            // RFC 6120 §7.7.2.2: the new session takes the resource over;
            // the old one is closed with <conflict/>.
            if let Ok(mut sessions) = server.sessions.lock()
                && let Some(old) = sessions.remove(&full)
            {
                let _ = old.tx.try_send(ToSession::Kick(
                    StreamError::new(StreamErrorCondition::Conflict)
                        .with_text("replaced by a new session"),
                ));
            }
            engine.complete_bind(Instant::now(), Ok(resource));
        }
        Event::Bound { jid } => {
            if let Ok(mut sessions) = server.sessions.lock() {
                sessions.insert(
                    jid.clone(),
                    Session {
                        tx: tx.clone(),
                        priority: None,
                    },
                );
            }
            *me = Some(jid);
        }
        Event::Stanza(stanza) => {
            if let Some(from) = me.clone() {
                route(server, engine, &from, stanza);
            }
        }
        _ => {}
    }
}

fn route(server: &Server, engine: &mut ServerStream, from: &Jid, stanza: Element) {
    let to = match stanza.attr("to").map(Jid::new) {
        None => None,
        Some(Ok(j)) => Some(j),
        Some(Err(_)) => {
            return reply_error(engine, &stanza, "jid-malformed", "modify");
        }
    };
    let kind = stanza.name().to_owned();
    if kind == "presence" {
        note_presence(server, from, &stanza);
    }
    let Some(to) = to.filter(|t| t.domain() != server.domain || t.local().is_some()) else {
        return handle_for_server(server, engine, from, &stanza);
    };
    if to.domain() != server.domain {
        return reply_error(engine, &stanza, "remote-server-not-found", "cancel");
    }
    let Ok(sessions) = server.sessions.lock() else {
        return;
    };
    let targets: Vec<mpsc::Sender<ToSession>> = if to.is_full() {
        match sessions.get(&to) {
            Some(s) => vec![s.tx.clone()],
            // RFC 6121 §8.5.3.2.1: a message to an unavailable resource is
            // handled as if sent to the bare JID.
            None if kind == "message" => bare_targets(&sessions, &to.bare()),
            None => Vec::new(),
        }
    } else {
        bare_targets(&sessions, &to)
    };
    drop(sessions);
    if targets.is_empty() {
        if kind == "presence" {
            return;
        }
        let known = to.local().is_some_and(|l| server.users.exists(l));
        let cond = if known {
            "service-unavailable"
        } else {
            "item-not-found"
        };
        return reply_error(engine, &stanza, cond, "cancel");
    }
    for t in targets {
        if t.try_send(ToSession::Stanza(stanza.clone())).is_err() {
            reply_error(engine, &stanza, "resource-constraint", "wait");
        }
    }
}

fn bare_targets(sessions: &HashMap<Jid, Session>, bare: &Jid) -> Vec<mpsc::Sender<ToSession>> {
    let all: Vec<&Session> = sessions
        .iter()
        .filter(|(j, _)| j.bare() == *bare)
        .map(|(_, s)| s)
        .collect();
    // Non-negative priority resources first (RFC 6121 §8.5.2.1.1); when
    // none announced presence yet, every bound resource gets it.
    let preferred: Vec<_> = all
        .iter()
        .filter(|s| s.priority.is_some_and(|p| p >= 0))
        .map(|s| s.tx.clone())
        .collect();
    if preferred.is_empty() {
        all.iter()
            .filter(|s| s.priority.is_none())
            .map(|s| s.tx.clone())
            .collect()
    } else {
        preferred
    }
}

fn note_presence(server: &Server, from: &Jid, p: &Element) {
    if p.attr("to").is_some() {
        return;
    }
    let ty = p.attr("type");
    let priority = match ty {
        None => p
            .get_child("priority", ns::CLIENT)
            .and_then(|e| e.text().trim().parse::<i8>().ok())
            .or(Some(0)),
        Some("unavailable") => Some(-1),
        _ => return,
    };
    if let Ok(mut sessions) = server.sessions.lock()
        && let Some(s) = sessions.get_mut(from)
    {
        s.priority = priority;
    }
}

fn handle_for_server(server: &Server, engine: &mut ServerStream, from: &Jid, stanza: &Element) {
    if stanza.name() != "iq" {
        return;
    }
    let ty = stanza.attr("type").unwrap_or("");
    if ty == "result" || ty == "error" {
        return;
    }
    let id = stanza.attr("id").unwrap_or("").to_owned();
    let payload = stanza.children().next();
    let result = |child: Option<Element>| {
        let mut iq = Element::new("iq", ns::CLIENT)
            .with_attr("type", "result")
            .with_attr("id", id.clone())
            .with_attr("to", from.as_str());
        if stanza.attr("to").is_some() {
            iq.set_attr("from", server.domain.clone());
        }
        if let Some(c) = child {
            iq.append_child(c);
        }
        iq
    };
    let answer = match (ty, payload.map(|p| (p.ns(), p.name()))) {
        ("get", Some((ns::PING, "ping"))) => Some(result(None)),
        ("get", Some((ns::ROSTER, "query"))) => {
            Some(result(Some(Element::new("query", ns::ROSTER))))
        }
        ("get", Some((ns::DISCO_INFO, "query"))) => Some(result(Some(
            Element::new("query", ns::DISCO_INFO)
                .with_child(
                    Element::new("identity", ns::DISCO_INFO)
                        .with_attr("category", "server")
                        .with_attr("type", "im")
                        .with_attr("name", "imp example server"),
                )
                .with_child(
                    Element::new("feature", ns::DISCO_INFO).with_attr("var", ns::DISCO_INFO),
                )
                .with_child(Element::new("feature", ns::DISCO_INFO).with_attr("var", ns::PING))
                .with_child(Element::new("feature", ns::DISCO_INFO).with_attr("var", ns::VERSION)),
        ))),
        ("get", Some((ns::DISCO_ITEMS, "query"))) => {
            Some(result(Some(Element::new("query", ns::DISCO_ITEMS))))
        }
        ("get", Some((ns::VERSION, "query"))) => Some(result(Some(
            Element::new("query", ns::VERSION)
                .with_child(Element::new("name", ns::VERSION).with_text("imp xmpp-server"))
                .with_child(
                    Element::new("version", ns::VERSION).with_text(env!("CARGO_PKG_VERSION")),
                ),
        ))),
        _ => None,
    };
    match answer {
        Some(a) => {
            engine.send_stanza(&a);
        }
        None => reply_error(engine, stanza, "service-unavailable", "cancel"),
    }
}

/// Sends the sender an error reply (RFC 6120 §8.3.1); never answers an
/// error with an error.
fn reply_error(engine: &mut ServerStream, stanza: &Element, cond: &str, ty: &str) {
    if stanza.attr("type") == Some("error") {
        return;
    }
    let mut reply = Element::new(stanza.name(), ns::CLIENT).with_attr("type", "error");
    if let Some(id) = stanza.attr("id") {
        reply.set_attr("id", id);
    }
    if let Some(to) = stanza.attr("to") {
        reply.set_attr("from", to);
    }
    if let Some(from) = stanza.attr("from") {
        reply.set_attr("to", from);
    }
    reply.append_child(
        Element::new("error", ns::CLIENT)
            .with_attr("type", ty)
            .with_child(Element::new(cond, ns::STANZAS)),
    );
    engine.send_stanza(&reply);
}
