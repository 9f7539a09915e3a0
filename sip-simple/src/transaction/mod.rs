//! Non-INVITE client and server transactions (RFC 3261 §17.1.2, §17.2.2)
//! and the transaction table that routes messages to them (§17.1.3,
//! §17.2.3), as Sans-IO engines.
//!
//! Every engine has the same face: feed it with `handle_input(now, ..)`,
//! tell it time passed with `handle_timeout(now)` (spurious calls are
//! no-ops), then drain `poll_output()` until it yields
//! [`Output::Timeout`] (when to call `handle_timeout` next) or `None`
//! (nothing left to do, no timer running).

mod client;
mod key;
mod server;
mod table;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

pub use client::{ClientEvent, ClientState, ClientTransaction};
pub use key::TransactionKey;
pub use server::{ServerEvent, ServerState, ServerTransaction};
pub use table::{DEFAULT_MAX_TRANSACTIONS, Received, TableEvent, TransactionTable};

/// A transport protocol (RFC 3261 §18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP: unreliable, so transactions retransmit.
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP.
    Tls,
    /// SCTP.
    Sctp,
}

impl Transport {
    /// True for transports that deliver reliably: no retransmissions, and
    /// timers J and K are zero (RFC 3261 §17.1.2.2, §17.2.2).
    pub fn is_reliable(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// The Via transport token.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Sctp => "SCTP",
        }
    }
}

/// The far end of a message: transport and address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Remote {
    /// The transport.
    pub transport: Transport,
    /// The peer's address (source of an incoming message, destination of an
    /// outgoing one).
    pub addr: SocketAddr,
}

/// Octets to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send them.
    pub remote: Remote,
    /// One serialized message.
    pub payload: Bytes,
}

/// What an engine asks of its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output<E> {
    /// Send these octets.
    Transmit(Transmit),
    /// Tell the transaction user.
    Event(E),
    /// Call `handle_timeout` at this instant (or earlier; that is harmless).
    Timeout(Instant),
}

/// The timer base values of RFC 3261 §17.1.1.1 and Table 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate. Default 500 ms.
    pub t1: Duration,
    /// Longest retransmit interval for non-INVITE requests. Default 4 s.
    pub t2: Duration,
    /// Longest time a message stays in the network. Default 5 s.
    pub t4: Duration,
}

impl Timers {
    /// The RFC 3261 defaults.
    pub const DEFAULT: Timers = Timers {
        t1: Duration::from_millis(500),
        t2: Duration::from_secs(4),
        t4: Duration::from_secs(5),
    };

    /// 64*T1: timer F and timer J.
    pub fn timeout(&self) -> Duration {
        self.t1.saturating_mul(64)
    }
}

impl Default for Timers {
    fn default() -> Self {
        Timers::DEFAULT
    }
}

/// Source of branch ids for new client transactions. Implemented for any
/// `FnMut() -> String`. The value returned is put after the magic cookie
/// `z9hG4bK`; it must be unique over space and time (RFC 3261 §8.1.1.7).
pub trait BranchGenerator {
    /// A new unique branch suffix.
    fn next_branch(&mut self) -> String;
}

impl<F: FnMut() -> String> BranchGenerator for F {
    fn next_branch(&mut self) -> String {
        self()
    }
}

/// `now + d`, or `now` if that is not representable (absurd timer
/// configuration must not panic).
pub(crate) fn after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d).unwrap_or(now)
}

/// Earliest of optional instants.
pub(crate) fn earliest(times: &[Option<Instant>]) -> Option<Instant> {
    times.iter().flatten().min().copied()
}
