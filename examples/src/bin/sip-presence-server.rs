//! A registrar-less SIP/SIMPLE presence server: PUBLISH, SUBSCRIBE
//! (`presence`, `presence.winfo`) and MESSAGE for local users, over UDP and
//! TCP on one port. All protocol rules live in
//! `sip_simple::server::PresenceServer`; this binary only moves bytes.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use clap::Parser;
use presence_model::address::{Address, Domain};
use presence_model::authz::{ServiceConfig, UserPolicy};
use sip_simple::framing::StreamFramer;
use sip_simple::server::{PresenceServer, ServerConfig, ServerEvent};
use sip_simple::subscription::{LocalEndpoint, PolicyAuthorizer};
use sip_simple::transaction::{Output, Remote, Transport};
use sip_simple::{Limits, SipUri};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;

#[derive(Parser, Debug)]
#[command(about = "Example SIP presence server (PUBLISH, SUBSCRIBE, MESSAGE)")]
struct Args {
    /// Address for both UDP and TCP.
    #[arg(long, default_value = "127.0.0.1:5060")]
    listen: SocketAddr,
    /// The domain whose users are served.
    #[arg(long, default_value = "localhost")]
    domain: String,
    /// A local user name (repeat for more).
    #[arg(long = "user", value_name = "NAME")]
    users: Vec<String>,
    /// Host put in Via and Contact (default: the listen address).
    #[arg(long)]
    public_host: Option<String>,
    /// Longest subscription or publication granted, in seconds.
    #[arg(long, default_value_t = 3600)]
    max_expires: u32,
}

fn random_id() -> String {
    let mut b = [0u8; 12];
    // Tags and entity tags must be unguessable; without the OS generator
    // the server cannot run safely.
    getrandom::fill(&mut b).expect("operating system random generator");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

enum Input {
    Bytes(Bytes, Remote),
    Connected(SocketAddr, mpsc::Sender<Bytes>),
    Closed(SocketAddr),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let udp = std::sync::Arc::new(UdpSocket::bind(args.listen).await?);
    let local_addr = udp.local_addr()?;
    let tcp = TcpListener::bind(local_addr).await?;
    let host = args
        .public_host
        .clone()
        .unwrap_or_else(|| local_addr.ip().to_string());
    let local = LocalEndpoint {
        via_host: host.clone(),
        via_port: Some(local_addr.port()),
        transport: Transport::Udp,
        contact: SipUri::new(None, &format!("{host}:{}", local_addr.port())),
    };
    let users: BTreeSet<String> = args.users.iter().cloned().collect();
    let mut cfg = ServerConfig::new(local, &args.domain, users);
    cfg.notifier.max_expires = args.max_expires;
    cfg.compositor.max_expires = args.max_expires;
    let domain = Domain::parse(&args.domain)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let mut service = ServiceConfig::new([domain]);
    service.auto_authorize = true;
    let authz = PolicyAuthorizer {
        config: service,
        policies: |_: &Address| UserPolicy::default(),
    };
    let mut server = PresenceServer::new(
        cfg,
        random_id as fn() -> String,
        random_id as fn() -> String,
        authz,
    );
    eprintln!(
        "sip-presence-server listening on {local_addr} (udp, tcp) for {}",
        args.domain
    );

    let (tx, mut rx) = mpsc::channel::<Input>(1024);
    {
        let udp = udp.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65_535];
            while let Ok((n, from)) = udp.recv_from(&mut buf).await {
                let remote = Remote {
                    transport: Transport::Udp,
                    addr: from,
                };
                let data = Bytes::copy_from_slice(buf.get(..n).unwrap_or_default());
                if tx.send(Input::Bytes(data, remote)).await.is_err() {
                    break;
                }
            }
        });
    }
    {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Ok((stream, peer)) = tcp.accept().await {
                let tx = tx.clone();
                tokio::spawn(serve_tcp(stream, peer, tx));
            }
        });
    }

    let mut conns: HashMap<SocketAddr, mpsc::Sender<Bytes>> = HashMap::new();
    let mut next: Option<Instant> = None;
    loop {
        let sleep = async {
            match next {
                Some(t) => tokio::time::sleep_until(t.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            input = rx.recv() => match input {
                Some(Input::Bytes(data, remote)) => server.handle_bytes(Instant::now(), &data, remote),
                Some(Input::Connected(a, s)) => { conns.insert(a, s); }
                Some(Input::Closed(a)) => { conns.remove(&a); }
                None => break,
            },
            _ = sleep => server.handle_timeout(Instant::now()),
        }
        next = None;
        while let Some(o) = server.poll_output() {
            match o {
                Output::Transmit(t) => match t.remote.transport {
                    Transport::Udp => {
                        let _ = udp.send_to(&t.payload, t.remote.addr).await;
                    }
                    _ => {
                        if let Some(c) = conns.get(&t.remote.addr) {
                            let _ = c.send(t.payload).await;
                        }
                    }
                },
                Output::Event(ServerEvent::InstantMessage { from, to, relayed }) => {
                    eprintln!("MESSAGE {from} -> {to} (relayed: {relayed})");
                }
                Output::Timeout(t) => {
                    next = Some(t);
                    break;
                }
            }
        }
    }
    Ok(())
}

async fn serve_tcp(stream: tokio::net::TcpStream, peer: SocketAddr, tx: mpsc::Sender<Input>) {
    let (mut rd, mut wr) = stream.into_split();
    let (out_tx, mut out_rx) = mpsc::channel::<Bytes>(64);
    if tx.send(Input::Connected(peer, out_tx)).await.is_err() {
        return;
    }
    tokio::spawn(async move {
        while let Some(b) = out_rx.recv().await {
            if wr.write_all(&b).await.is_err() {
                break;
            }
        }
    });
    let mut framer = StreamFramer::new(Limits::DEFAULT);
    let mut buf = vec![0u8; 16 * 1024];
    let remote = Remote {
        transport: Transport::Tcp,
        addr: peer,
    };
    'read: loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        framer.feed(buf.get(..n).unwrap_or_default());
        loop {
            match framer.next_message() {
                Ok(Some(m)) => {
                    if tx.send(Input::Bytes(m.to_bytes(), remote)).await.is_err() {
                        break 'read;
                    }
                }
                Ok(None) => break,
                // A framing error leaves the stream unsynchronized: close.
                Err(_) => break 'read,
            }
        }
    }
    let _ = tx.send(Input::Closed(peer)).await;
}
