//! Stream negotiation engines for both roles (RFC 6120 §4–§7): stream
//! headers and features, STARTTLS (§5) or direct TLS (XEP-0368) with
//! rustls running inside the engine, SASL (§6), resource binding (§7),
//! whitespace keep-alives, stream errors and closing.
//!
//! Both engines follow the crate-wide Sans-IO contract: the caller moves
//! bytes between its socket and the engine and drains the engine's
//! output after every call that changes it.
//!
//! ```text
//! engine.handle_input(now, &bytes);      // bytes read from the socket
//! engine.handle_timeout(now);            // time passed; spurious calls are no-ops
//! while let Some(out) = engine.poll_output() {
//!     match out {
//!         Output::Transmit(bytes) => { /* write to the socket */ }
//!         Output::Event(ev)       => { /* tell the application */ }
//!         Output::Timeout(at)     => { /* call handle_timeout at `at` */ break }
//!     }
//! }
//! ```
//!
//! After [`Event::Closed`] the caller writes any remaining transmits and
//! closes the socket; the engine accepts no more input.

mod client;
mod server;
mod transport;

use std::time::Instant;

use bytes::Bytes;

use crate::jid::Jid;
use crate::stream_error::StreamError;
use crate::xml::{Element, StreamHeader};

pub use client::{ClientConfig, ClientStream};
pub use server::{BindError, ServerConfig, ServerStream};

/// What an engine asks of its caller.
#[derive(Debug)]
pub enum Output {
    /// Bytes to write to the socket, in order.
    Transmit(Bytes),
    /// Something the application must know about.
    Event(Event),
    /// Call `handle_timeout` at this instant (or earlier); always the
    /// last output of a drain.
    Timeout(Instant),
}

/// Notifications from a stream engine to the application.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The peer's stream header arrived (once per stream restart).
    StreamOpened(StreamHeader),
    /// The TLS handshake completed.
    TlsEstablished,
    /// SASL succeeded. On the server, `jid` is the authenticated bare JID.
    Authenticated {
        /// The authenticated (bare) JID.
        jid: Jid,
        /// The SASL mechanism that was used.
        mechanism: &'static str,
    },
    /// Server role: the client asked to bind a resource. Answer with
    /// [`ServerStream::complete_bind`].
    BindRequested {
        /// The resource the client asked for, if any (not yet prepared).
        requested: Option<String>,
    },
    /// The stream is ready for stanzas; `jid` is the bound full JID.
    Bound {
        /// The full JID of this session.
        jid: Jid,
    },
    /// A stanza (`message`, `presence` or `iq`) arrived. On the server,
    /// its `from` has been stamped with the session's full JID.
    Stanza(Element),
    /// A top-level element that is neither a stanza nor part of the core
    /// negotiation (for example XEP-0198 `<r/>`, `<a/>`, `<enable/>`,
    /// `<resume/>`), left to a higher layer.
    Nonza(Element),
    /// Client role: the stream features received after authentication,
    /// before binding (a higher layer can look for `<sm/>` here).
    Features(Element),
    /// The stream is over. Write any pending output, then close the
    /// socket.
    Closed {
        /// The stream error that ended it, if any.
        error: Option<StreamError>,
        /// Whether the peer's error or close ended it (rather than ours).
        by_peer: bool,
    },
}

/// How TLS is used on a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TlsMode {
    /// STARTTLS is offered and must be negotiated before anything else
    /// (RFC 6120 §5.3.1 "mandatory-to-negotiate"). The default.
    #[default]
    Required,
    /// STARTTLS is offered but not required; SASL is offered too before
    /// TLS (PLAIN only if explicitly allowed).
    Optional,
    /// The connection starts with TLS (XEP-0368 "direct TLS").
    Direct,
    /// No TLS at all. For tests and trusted loopback links only.
    Disabled,
}

/// A source of identifiers and nonces (stream ids, SASL nonces, generated
/// resources). Engines never create randomness themselves.
pub trait IdSource: Send {
    /// A fresh identifier: unique, unpredictable in production, made of
    /// characters that are safe in XML attributes and SASL (letters,
    /// digits, `-`, `_`).
    fn next_id(&mut self) -> String;
}

/// A deterministic [`IdSource`] for tests: `prefix` followed by a counter.
#[derive(Clone, Debug)]
pub struct SequentialIds {
    prefix: String,
    next: u64,
}

impl SequentialIds {
    /// Ids `prefix0`, `prefix1`, …
    pub fn new(prefix: &str) -> Self {
        SequentialIds {
            prefix: prefix.to_owned(),
            next: 0,
        }
    }
}

impl IdSource for SequentialIds {
    fn next_id(&mut self) -> String {
        let id = format!("{}{}", self.prefix, self.next);
        self.next += 1;
        id
    }
}

/// Output queue shared by both engines: transmits first, then events,
/// then one timeout per drain.
#[derive(Debug, Default)]
struct Outbox {
    events: std::collections::VecDeque<Event>,
    timeout_reported: bool,
}

impl Outbox {
    /// The next output in the contract's order: bytes for the socket,
    /// then events, then `deadline` once per drain.
    fn poll(
        &mut self,
        transport: &mut transport::Transport,
        deadline: Option<Instant>,
    ) -> Option<Output> {
        if let Some(b) = transport.take_out() {
            return Some(Output::Transmit(b));
        }
        if let Some(ev) = self.events.pop_front() {
            return Some(Output::Event(ev));
        }
        if self.timeout_reported {
            return None;
        }
        self.timeout_reported = true;
        deadline.map(Output::Timeout)
    }

    /// Feeds socket bytes through the transport; a TLS handshake that
    /// completes here sets `tls_done` and is reported as an event.
    fn receive(
        &mut self,
        transport: &mut transport::Transport,
        tls_done: &mut bool,
        data: &[u8],
    ) -> Result<(), transport::TransportError> {
        if transport.receive(data)? {
            *tls_done = true;
            self.events.push_back(Event::TlsEstablished);
        }
        Ok(())
    }
}
