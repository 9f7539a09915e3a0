//! Example XMPP server: the `xmpp-core` stream engine and IM hub on tokio
//! sockets.
//!
//! Registered users (from `--user name:password` flags or a users file)
//! log in over STARTTLS (the default) or direct TLS with SCRAM or PLAIN,
//! bind resources, and get the RFC 6121 IM and presence service of
//! `xmpp_core::im::Hub`: rosters, subscriptions under the authorization
//! policy, presence, message routing with forking and a sticky resource,
//! and offline messages. Rosters, pending subscription requests, offline
//! messages and policies are kept in `--data-dir` and survive a restart.
//! Start it with no arguments for a working server on 127.0.0.1:5222 for
//! the domain `localhost`, with a generated self-signed certificate and
//! demo users alice and bob.
//!
//! This file only moves bytes and stanzas: every IM rule is in the hub.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use examples::ids::RandomIds;
use examples::store::{DiskDb, DiskOffline, DiskPolicies, DiskRooms, DiskRosters};
use examples::users::Users;
use presence_model::authz::Limit;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use xmpp_core::im::{Delivery, Hub, HubConfig, Now};
use xmpp_core::jid::Jid;
use xmpp_core::ns;
use xmpp_core::stream::{BindError, Event, IdSource, Output, ServerConfig, ServerStream, TlsMode};
use xmpp_core::xml::to_bytes;
use xmpp_core::{StreamError, StreamErrorCondition};
use xmpp_sm::{Disposition, Registry, RegistryEvent, SendError, SmStream};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Tls {
    /// STARTTLS offered and required before authentication.
    Required,
    /// STARTTLS offered, not required.
    Optional,
    /// Plaintext only (no TLS at all). Never use beyond loopback tests.
    Disabled,
}

/// Example XMPP server built on the xmpp-core Sans-IO engines: the
/// stream engine and the RFC 6121 IM and presence hub (rosters,
/// subscriptions under the authorization policy, presence, message
/// routing, offline messages), persisted in --data-dir.
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
    /// Directory of the database (imp.redb) holding rosters, pending
    /// subscription requests, offline messages and authorization
    /// policies. Created if missing; reuse it to keep them across
    /// restarts.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// "Maximum Contact List Size" per user; 0 means no limit.
    #[arg(long, default_value_t = 200)]
    max_contacts: u32,
    /// "Maximum Watchers": how many users may subscribe to one user; 0
    /// means no limit.
    #[arg(long, default_value_t = 200)]
    max_watchers: u32,
    /// Turn off auto-authorization of local subscriptions: requests go
    /// to the user's client for approval.
    #[arg(long)]
    no_auto_authorize: bool,
    /// Offline messages kept per user; 0 means no limit.
    #[arg(long, default_value_t = 100)]
    offline_per_user: u32,
    /// Offline messages kept on this node in all; 0 means no limit.
    #[arg(long, default_value_t = 30_000)]
    offline_per_node: u32,
    /// "Suppress Offline Instant Messaging": refuse messages for users
    /// with no available resource instead of storing them.
    #[arg(long)]
    suppress_offline: bool,
    /// Most simultaneous sessions per user; 0 means no limit.
    #[arg(long, default_value_t = 10)]
    max_sessions: u32,
}

enum ToSession {
    /// A stanza serialized for the `jabber:client` namespace.
    Stanza(Bytes),
    Kick(StreamError),
}

type ServerHub = Hub<DiskRosters, DiskOffline, DiskPolicies>;

struct Server {
    config: ServerConfig,
    direct_config: ServerConfig,
    /// Where to reach each bound session with a live connection.
    sessions: Mutex<HashMap<Jid, mpsc::Sender<ToSession>>>,
    hub: Mutex<ServerHub>,
    /// The XEP-0045 service on `conference.<domain>`.
    muc: Mutex<muc::MucService<DiskRooms>>,
    muc_domain: String,
    /// XEP-0198 resumption registry.
    sm: Mutex<Registry>,
}

/// Locks a mutex; a poisoned lock (a panic elsewhere) is still usable
/// for this example's plain maps.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now() -> Now {
    Now::new(Instant::now(), SystemTime::now())
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
    let mut config = config;

    let db = DiskDb::open(&args.data_dir)?;
    let mut hub_config = HubConfig::new(domain.clone());
    hub_config.authz.max_contacts = Limit::from_zero_unlimited(args.max_contacts);
    hub_config.authz.max_watchers = Limit::from_zero_unlimited(args.max_watchers);
    hub_config.authz.auto_authorize = !args.no_auto_authorize;
    hub_config.offline.per_user = Limit::from_zero_unlimited(args.offline_per_user);
    hub_config.offline.per_node = Limit::from_zero_unlimited(args.offline_per_node);
    hub_config.offline.suppress = args.suppress_offline;
    hub_config.max_sessions_per_user = Limit::from_zero_unlimited(args.max_sessions);
    hub_config.software_name = "imp xmpp-server".to_owned();
    let muc_domain = format!("conference.{domain}");
    hub_config.disco_items = vec![muc_domain.clone()];
    let known = users.clone();
    let hub = Hub::new(
        hub_config,
        db.rosters(),
        db.offline(),
        db.policies(),
        move |j: &Jid| j.local().is_some_and(|l| known.exists(l)),
    );

    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| e.to_string())?;
    let muc_config = muc::ServiceConfig {
        occupant_id_secret: secret.to_vec(),
        ..muc::ServiceConfig::default()
    };
    let muc_jid = Jid::new(&muc_domain).map_err(|e| format!("{muc_domain}: {e}"))?;
    let muc = muc::MucService::new(muc_jid, muc_config, db.rooms())
        .map_err(|e| format!("loading rooms: {e}"))?;

    let sm_config = xmpp_sm::ServerConfig::default();
    config.post_auth_features = sm_config.feature().into_iter().collect();
    // The hub answers roster gets that carry `ver` (RFC 6121 §2.6).
    config.post_auth_features.push(xmpp_core::xml::Element::new(
        "ver",
        "urn:xmpp:features:rosterver",
    ));
    direct_config.post_auth_features = config.post_auth_features.clone();
    let sm = Registry::new(sm_config, Box::new(RandomIds)).map_err(|e| e.to_string())?;

    let server = Arc::new(Server {
        config,
        direct_config,
        sessions: Mutex::new(HashMap::new()),
        hub: Mutex::new(hub),
        muc: Mutex::new(muc),
        muc_domain,
        sm: Mutex::new(sm),
    });
    tokio::spawn(sm_timer(server.clone()));

    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("listen on {}: {e}", args.listen))?;
    eprintln!(
        "xmpp-server: domain {domain}, {} account(s), listening on {} (TLS {:?}), data in {}",
        users.len(),
        args.listen,
        args.tls,
        args.data_dir.display()
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
    let mut sm = SmStream::new(&lock(&server.sm));
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
                Output::Event(ev) => {
                    let ev = {
                        let mut reg = lock(&server.sm);
                        sm.on_event(Instant::now(), &mut reg, &mut engine, ev, |full| {
                            other_resource_online(&server, full)
                        })
                    };
                    if let Some(ev) = ev {
                        on_event(&server, &mut engine, &tx, &mut me, ev);
                    }
                }
                Output::Timeout(at) => {
                    deadline = Some(at);
                    break;
                }
            }
        }
        if engine.is_closed() {
            break;
        }
        let deadline = match (deadline, sm.next_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
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
                ToSession::Stanza(bytes) => {
                    let sent = {
                        let mut reg = lock(&server.sm);
                        sm.send_bytes(Instant::now(), &mut reg, &mut engine, bytes)
                    };
                    if let (Err(SendError::Undeliverable(bytes)), Some(jid)) = (sent, &me) {
                        // The session moved on (resumed elsewhere, or
                        // closing): hand the stanza to whatever holds it now.
                        deliver(&server, vec![(jid.clone(), bytes)]);
                    }
                }
                ToSession::Kick(err) => engine.close_with_error(Instant::now(), err),
            },
            () = sleep => {
                let now = Instant::now();
                engine.handle_timeout(now);
                let mut reg = lock(&server.sm);
                sm.handle_timeout(now, &mut reg, &mut engine);
            }
        }
    }
    let _ = wr.shutdown().await;
    // A stream-managed session that lost its connection hibernates and
    // stays online for the hub until it is resumed or expires.
    let hibernating = {
        let mut reg = lock(&server.sm);
        sm.connection_lost(Instant::now(), &mut reg);
        me.as_ref().is_some_and(|j| reg.is_hibernating(j))
    };
    if let Some(jid) = me {
        if hibernating {
            let mut sessions = lock(&server.sessions);
            if sessions.get(&jid).is_some_and(|s| s.same_channel(&tx)) {
                sessions.remove(&jid);
            }
        } else {
            end_session(&server, &jid, Some(&tx));
        }
    }
}

/// Whether `full`'s user has another bound resource.
fn other_resource_online(server: &Server, full: &Jid) -> bool {
    lock(&server.sessions)
        .keys()
        .any(|j| j != full && j.bare() == full.bare())
}

/// The server-wide stream management timer: expires hibernated sessions
/// and applies the timeout policy to what they had not acknowledged.
async fn sm_timer(server: Arc<Server>) {
    loop {
        let next = lock(&server.sm).next_timeout();
        let wait = next
            .map(|at| at.saturating_duration_since(Instant::now()))
            .unwrap_or(std::time::Duration::from_secs(1))
            .min(std::time::Duration::from_secs(1));
        tokio::time::sleep(wait).await;
        let events: Vec<RegistryEvent> = {
            let mut reg = lock(&server.sm);
            reg.handle_timeout(Instant::now(), |full| other_resource_online(&server, full));
            std::iter::from_fn(|| reg.poll_event()).collect()
        };
        for ev in events {
            let RegistryEvent::Expired(expired) = ev else {
                continue;
            };
            for d in expired.unacked {
                match d {
                    Disposition::Bounce { error, .. } => {
                        if let Some(to) = error.attr("to").and_then(|t| Jid::new(t).ok()) {
                            deliver(&server, vec![(to, to_bytes(&error, ns::CLIENT))]);
                        }
                    }
                    Disposition::Offline(m) => {
                        let out = lock(&server.hub).store_offline_message(now(), &expired.full, m);
                        dispatch(&server, out);
                    }
                    // Errors, results and presence are never bounced (RFC 6120 §8.3.1).
                    _ => {}
                }
            }
            end_session(&server, &expired.full, None);
        }
    }
}

fn end_session(server: &Server, jid: &Jid, tx: Option<&mpsc::Sender<ToSession>>) {
    {
        let mut sessions = lock(&server.sessions);
        if sessions
            .get(jid)
            .is_some_and(|s| tx.is_none_or(|tx| s.same_channel(tx)))
        {
            sessions.remove(jid);
        } else if tx.is_some() {
            // Another connection owns this resource now.
            return;
        }
    }
    let out = lock(&server.hub).session_ended(now(), jid);
    dispatch(server, out);
    let out = lock(&server.muc).session_ended(Instant::now(), SystemTime::now(), jid);
    dispatch_muc(server, out);
}

/// Hands each hub delivery to its session. Remote deliveries cannot
/// occur: this server configures no remote route.
fn dispatch(server: &Server, out: Vec<Delivery>) {
    let items = out
        .into_iter()
        .map(|d| (d.to, to_bytes(&d.stanza, ns::CLIENT)))
        .collect();
    deliver(server, items);
}

/// Hands MUC deliveries (serialized once, addressed per recipient) to
/// their sessions; a delivery to a bare JID (an invitation) goes to each
/// of the user's sessions.
fn dispatch_muc(server: &Server, out: Vec<muc::Delivery>) {
    let mut items = Vec::with_capacity(out.len());
    for d in out {
        if d.to.is_bare() {
            let full: Vec<Jid> = lock(&server.sessions)
                .keys()
                .filter(|j| j.bare() == d.to)
                .cloned()
                .collect();
            let bytes = d.to_bytes();
            items.extend(full.into_iter().map(|j| (j, bytes.clone())));
        } else {
            items.push((d.to.clone(), d.to_bytes()));
        }
    }
    deliver(server, items);
}

/// Sends serialized stanzas to full JIDs: to the live connection, else
/// to a hibernating stream-managed session, else (messages) to offline
/// storage.
fn deliver(server: &Server, items: Vec<(Jid, Bytes)>) {
    let mut missing = Vec::new();
    {
        let sessions = lock(&server.sessions);
        for (to, bytes) in items {
            match sessions.get(&to) {
                Some(tx) => {
                    if let Err(e) = tx.try_send(ToSession::Stanza(bytes)) {
                        let bytes = match e.into_inner() {
                            ToSession::Stanza(b) => b,
                            ToSession::Kick(_) => continue,
                        };
                        missing.push((to, bytes));
                    }
                }
                None => missing.push((to, bytes)),
            }
        }
    }
    for (to, bytes) in missing {
        let left = lock(&server.sm).enqueue(Instant::now(), &to, bytes);
        if let Err(bytes) = left {
            let parsed = xmpp_core::xml::parse_element(
                &bytes,
                &xmpp_core::xml::NsContext::stream(ns::CLIENT),
                &xmpp_core::xml::Limits::default(),
            );
            if let Ok(m) = parsed {
                let out = lock(&server.hub).store_offline_message(now(), &to, m);
                dispatch(server, out);
            }
        }
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
            // A fresh bind ends any hibernating session of that resource.
            lock(&server.sm).discard_hibernating(Instant::now(), &full);
            // RFC 6120 §7.7.2.2: the new session takes the resource over;
            // the old one is closed with <conflict/>.
            let old = lock(&server.sessions).get(&full).cloned();
            if let Some(old) = old {
                let _ = old.try_send(ToSession::Kick(
                    StreamError::new(StreamErrorCondition::Conflict)
                        .with_text("replaced by a new session"),
                ));
                end_session(server, &full, Some(&old));
            }
            if lock(&server.hub).session_bound(now(), &full).is_ok() {
                lock(&server.sessions).insert(full.clone(), tx.clone());
                *me = Some(full);
                engine.complete_bind(Instant::now(), Ok(resource));
            } else {
                // RFC 6120 §7.6.2.1: too many sessions for this account.
                engine.complete_bind(Instant::now(), Err(BindError::ResourceConstraint));
            }
        }
        Event::Bound { jid } if me.as_ref() != Some(&jid) => {
            // XEP-0198 resumption: the session (still online for the hub)
            // continues on this connection; an old connection still open
            // for it is closed.
            let old = lock(&server.sessions).insert(jid.clone(), tx.clone());
            if let Some(old) = old.filter(|o| !o.same_channel(tx)) {
                let _ = old.try_send(ToSession::Kick(
                    StreamError::new(StreamErrorCondition::Conflict)
                        .with_text("session resumed on another connection"),
                ));
            }
            *me = Some(jid);
        }
        Event::Stanza(stanza) => {
            let Some(from) = me.clone() else {
                return;
            };
            let to_muc = stanza
                .attr("to")
                .and_then(|t| Jid::new(t).ok())
                .is_some_and(|t| t.domain() == server.muc_domain);
            if to_muc {
                let out = lock(&server.muc).handle_stanza(
                    Instant::now(),
                    SystemTime::now(),
                    &from,
                    stanza,
                );
                dispatch_muc(server, out);
            } else {
                let out = lock(&server.hub).handle_stanza(now(), &from, stanza);
                dispatch(server, out);
            }
        }
        _ => {}
    }
}
