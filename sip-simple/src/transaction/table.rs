//! The transaction table (RFC 3261 §17.1.3, §17.2.3): creates client
//! transactions for outgoing requests, routes incoming responses to them and
//! incoming requests to server transactions (creating one for a new
//! request), absorbs retransmissions, and forgets terminated transactions.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::Instant;

use super::client::{ClientEvent, ClientTransaction};
use super::server::{ServerEvent, ServerTransaction};
use super::{BranchGenerator, Output, Remote, Timers, TransactionKey, Transmit};
use crate::error::TransactionError;
#[cfg(test)]
use crate::message::Via;
use crate::message::typed::MAGIC_COOKIE;
use crate::message::{Message, Method};
use crate::text::Text;

/// A message that arrived, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The parsed message.
    pub message: Message,
    /// Its source.
    pub remote: Remote,
}

/// What the table tells its transaction user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum TableEvent {
    /// A new request: a server transaction was created for it. Answer with
    /// [`TransactionTable::send_response`] and this key.
    Request {
        /// The server transaction.
        key: TransactionKey,
        /// The request.
        request: Message,
        /// Where it came from.
        remote: Remote,
    },
    /// A response to a request sent with [`TransactionTable::send_request`].
    Response {
        /// The client transaction.
        key: TransactionKey,
        /// The response.
        response: Message,
    },
    /// A client transaction timed out (timer F).
    Timeout {
        /// The client transaction.
        key: TransactionKey,
    },
    /// A transport error ended a transaction.
    TransportError {
        /// The transaction.
        key: TransactionKey,
    },
    /// A transaction ended and was removed.
    Terminated {
        /// The transaction.
        key: TransactionKey,
    },
    /// A message no transaction takes: a response matching no client
    /// transaction, an INVITE or ACK (not handled here), or a request without
    /// a usable Via.
    Unmatched(Received),
}

/// Routes messages to non-INVITE transactions. See the
/// [module docs](super) for the engine contract.
pub struct TransactionTable<G> {
    timers: Timers,
    branches: G,
    max_transactions: usize,
    clients: HashMap<TransactionKey, ClientTransaction>,
    servers: HashMap<TransactionKey, ServerTransaction>,
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
    deadline_keys: HashMap<u64, TransactionKey>,
    /// Per transaction, the deadline in the heap and its id, so an unchanged
    /// deadline is not pushed again.
    scheduled: HashMap<TransactionKey, (Instant, u64)>,
    seq: u64,
    out: VecDeque<Output<TableEvent>>,
}

impl<G> std::fmt::Debug for TransactionTable<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionTable")
            .field("clients", &self.clients.len())
            .field("servers", &self.servers.len())
            .finish()
    }
}

/// Default bound on live transactions in one table.
pub const DEFAULT_MAX_TRANSACTIONS: usize = 10_000;

impl<G: BranchGenerator> TransactionTable<G> {
    /// A table using `timers` and taking branch ids from `branches`. It holds
    /// at most [`DEFAULT_MAX_TRANSACTIONS`] transactions.
    pub fn new(timers: Timers, branches: G) -> Self {
        TransactionTable {
            timers,
            branches,
            max_transactions: DEFAULT_MAX_TRANSACTIONS,
            clients: HashMap::new(),
            servers: HashMap::new(),
            deadlines: BinaryHeap::new(),
            deadline_keys: HashMap::new(),
            scheduled: HashMap::new(),
            seq: 0,
            out: VecDeque::new(),
        }
    }

    /// Sets the most live transactions; beyond it new requests from peers
    /// are answered 503 without state, and `send_request` fails.
    pub fn with_max_transactions(mut self, max: usize) -> Self {
        self.max_transactions = max;
        self
    }

    /// Live transactions (client and server).
    pub fn len(&self) -> usize {
        self.clients.len() + self.servers.len()
    }

    /// True if no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sends a non-INVITE request in a new client transaction. The topmost
    /// Via gets a fresh `z9hG4bK` branch from the generator (replacing any).
    pub fn send_request(
        &mut self,
        now: Instant,
        mut request: Message,
        remote: Remote,
    ) -> Result<TransactionKey, TransactionError> {
        if self.len() >= self.max_transactions {
            return Err(TransactionError::TableFull);
        }
        let mut via = request
            .top_via()
            .cloned()
            .ok_or(TransactionError::MissingVia)?;
        let branch = format!("{MAGIC_COOKIE}{}", self.branches.next_branch());
        via.params
            .set(Text::from_static("branch"), Some(Text::from(branch)));
        request
            .replace_top_via(&via)
            .map_err(|_| TransactionError::MissingVia)?;
        let tx = ClientTransaction::new(now, &request, remote, self.timers)?;
        let key = tx.key().clone();
        self.clients.insert(key.clone(), tx);
        self.drain_client(&key);
        Ok(key)
    }

    /// Sends a response in the server transaction `key`.
    pub fn send_response(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        response: &Message,
    ) -> Result<(), TransactionError> {
        let tx = self
            .servers
            .get_mut(key)
            .ok_or(TransactionError::NoSuchTransaction)?;
        tx.send_response(now, response)?;
        self.drain_server(key);
        Ok(())
    }

    /// The transport could not deliver for transaction `key`.
    pub fn handle_transport_error(&mut self, now: Instant, key: &TransactionKey) {
        if let Some(tx) = self.clients.get_mut(key) {
            tx.handle_transport_error(now);
            self.drain_client(key);
        } else if let Some(tx) = self.servers.get_mut(key) {
            tx.handle_transport_error(now);
            self.drain_server(key);
        }
    }

    /// A message arrived.
    pub fn handle_input(&mut self, now: Instant, input: Received) {
        if input.message.is_request() {
            self.handle_request(now, input);
        } else {
            let key = match TransactionKey::for_client(&input.message) {
                Ok(k) if self.clients.contains_key(&k) => k,
                _ => {
                    self.out
                        .push_back(Output::Event(TableEvent::Unmatched(input)));
                    return;
                }
            };
            if let Some(tx) = self.clients.get_mut(&key) {
                tx.handle_input(now, input.message);
            }
            self.drain_client(&key);
        }
    }

    fn handle_request(&mut self, now: Instant, input: Received) {
        let is_invite = matches!(input.message.method(), Some(Method::Invite | Method::Ack));
        let key = match TransactionKey::for_server(&input.message) {
            Ok(k) if !is_invite => k,
            _ => {
                self.out
                    .push_back(Output::Event(TableEvent::Unmatched(input)));
                return;
            }
        };
        if let Some(tx) = self.servers.get_mut(&key) {
            tx.handle_input(now, input.message);
            self.drain_server(&key);
            return;
        }
        if self.len() >= self.max_transactions {
            // Overload: answer statelessly (RFC 3261 §21.5.4).
            if let Ok(resp) =
                Message::response_to(&input.message, 503, "Service Unavailable").build()
            {
                self.out.push_back(Output::Transmit(Transmit {
                    remote: input.remote,
                    payload: resp.to_bytes(),
                }));
            }
            return;
        }
        let remote = input.remote;
        match ServerTransaction::new(now, input.message, remote, self.timers) {
            Ok(tx) => {
                self.servers.insert(key.clone(), tx);
                self.drain_server(&key);
            }
            Err(_) => {
                // Unreachable in practice: the key was computed above.
            }
        }
    }

    /// Time passed: fires every transaction timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((at, _))) = self.deadlines.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, id))) = self.deadlines.pop() else {
                break;
            };
            let Some(key) = self.deadline_keys.remove(&id) else {
                continue;
            };
            self.scheduled.remove(&key);
            if let Some(tx) = self.clients.get_mut(&key) {
                tx.handle_timeout(now);
                self.drain_client(&key);
            } else if let Some(tx) = self.servers.get_mut(&key) {
                tx.handle_timeout(now);
                self.drain_server(&key);
            }
        }
    }

    /// Next output; see the [module docs](super).
    pub fn poll_output(&mut self) -> Option<Output<TableEvent>> {
        if let Some(o) = self.out.pop_front() {
            return Some(o);
        }
        // Skip heap entries whose deadline was replaced or whose transaction
        // is gone.
        while let Some(Reverse((_, id))) = self.deadlines.peek() {
            if self.deadline_keys.contains_key(id) {
                break;
            }
            self.deadlines.pop();
        }
        self.deadlines
            .peek()
            .map(|Reverse((at, _))| Output::Timeout(*at))
    }

    fn schedule(&mut self, key: &TransactionKey, at: Option<Instant>) {
        let old = self.scheduled.get(key).copied();
        if old.map(|(t, _)| t) == at {
            return;
        }
        if let Some((_, id)) = old {
            self.deadline_keys.remove(&id);
            self.scheduled.remove(key);
        }
        if let Some(at) = at {
            self.seq += 1;
            self.scheduled.insert(key.clone(), (at, self.seq));
            self.deadlines.push(Reverse((at, self.seq)));
            self.deadline_keys.insert(self.seq, key.clone());
        }
    }

    fn drain_client(&mut self, key: &TransactionKey) {
        let Some(tx) = self.clients.get_mut(key) else {
            return;
        };
        let mut terminated = false;
        let mut next = None;
        while let Some(o) = tx.poll_output() {
            match o {
                Output::Transmit(t) => self.out.push_back(Output::Transmit(t)),
                Output::Timeout(at) => {
                    next = Some(at);
                    break;
                }
                Output::Event(e) => {
                    let key = key.clone();
                    let ev = match e {
                        ClientEvent::Response(response) => TableEvent::Response { key, response },
                        ClientEvent::Timeout => TableEvent::Timeout { key },
                        ClientEvent::TransportError => TableEvent::TransportError { key },
                        ClientEvent::Terminated => {
                            terminated = true;
                            TableEvent::Terminated { key }
                        }
                    };
                    self.out.push_back(Output::Event(ev));
                }
            }
        }
        if terminated {
            self.clients.remove(key);
        }
        self.reschedule(key, terminated, next);
    }

    fn drain_server(&mut self, key: &TransactionKey) {
        let Some(tx) = self.servers.get_mut(key) else {
            return;
        };
        let mut terminated = false;
        let mut next = None;
        let remote = tx.remote();
        while let Some(o) = tx.poll_output() {
            match o {
                Output::Transmit(t) => self.out.push_back(Output::Transmit(t)),
                Output::Timeout(at) => {
                    next = Some(at);
                    break;
                }
                Output::Event(e) => {
                    let key = key.clone();
                    let ev = match e {
                        ServerEvent::Request(request) => TableEvent::Request {
                            key,
                            request,
                            remote,
                        },
                        ServerEvent::TransportError => TableEvent::TransportError { key },
                        ServerEvent::Terminated => {
                            terminated = true;
                            TableEvent::Terminated { key }
                        }
                    };
                    self.out.push_back(Output::Event(ev));
                }
            }
        }
        if terminated {
            self.servers.remove(key);
        }
        self.reschedule(key, terminated, next);
    }

    /// After draining a transaction: forget the timer of a terminated one
    /// (and every timer index once the table is empty), else keep its
    /// next deadline.
    fn reschedule(&mut self, key: &TransactionKey, terminated: bool, next: Option<Instant>) {
        if !terminated {
            return self.schedule(key, next);
        }
        self.schedule(key, None);
        if self.is_empty() {
            self.deadlines.clear();
            self.deadline_keys.clear();
            self.scheduled.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::transaction::Transport;

    fn remote(port: u16) -> Remote {
        Remote {
            transport: Transport::Udp,
            addr: std::net::SocketAddr::from(([192, 0, 2, 1], port)),
        }
    }

    fn subscribe(branch: &str) -> Message {
        let s = format!(
            "SUBSCRIBE sip:erin@example.net SIP/2.0\r\nVia: SIP/2.0/UDP ws.example.com;branch={branch}\r\n\
Max-Forwards: 70\r\nFrom: <sip:frank@example.com>;tag=f7\r\nTo: <sip:erin@example.net>\r\n\
Call-ID: s9@ws\r\nCSeq: 3 SUBSCRIBE\r\nEvent: presence\r\nContent-Length: 0\r\n\r\n"
        );
        Message::parse(s.as_bytes()).unwrap()
    }

    fn drain(
        t: &mut TransactionTable<impl BranchGenerator>,
    ) -> (Vec<Transmit>, Vec<TableEvent>, Option<Instant>) {
        let (mut tx, mut ev) = (Vec::new(), Vec::new());
        while let Some(o) = t.poll_output() {
            match o {
                Output::Transmit(x) => tx.push(x),
                Output::Event(e) => ev.push(e),
                Output::Timeout(at) => return (tx, ev, Some(at)),
            }
        }
        (tx, ev, None)
    }

    #[test]
    fn server_side_absorbs_retransmissions() {
        let t0 = Instant::now();
        let mut table = TransactionTable::new(Timers::DEFAULT, || String::from("unused"));
        let req = subscribe("z9hG4bKs1");
        table.handle_input(
            t0,
            Received {
                message: req.clone(),
                remote: remote(5060),
            },
        );
        table.handle_input(
            t0,
            Received {
                message: req.clone(),
                remote: remote(5060),
            },
        );
        let (sent, events, _) = drain(&mut table);
        assert!(sent.is_empty());
        assert_eq!(events.len(), 1);
        let TableEvent::Request { key, .. } = &events[0] else {
            panic!("{events:?}")
        };
        let ok = Message::response_to(&req, 200, "OK")
            .to_tag("e1")
            .build()
            .unwrap();
        table.send_response(t0, key, &ok).unwrap();
        assert_eq!(drain(&mut table).0.len(), 1);
        table.handle_input(
            t0,
            Received {
                message: req.clone(),
                remote: remote(5060),
            },
        );
        let (sent, events, next) = drain(&mut table);
        assert_eq!((sent.len(), events.len()), (1, 0));
        assert_eq!(next, Some(t0 + Duration::from_secs(32)));
        table.handle_timeout(t0 + Duration::from_secs(1));
        table.handle_timeout(t0 + Duration::from_secs(32));
        let (_, events, next) = drain(&mut table);
        assert!(matches!(events[..], [TableEvent::Terminated { .. }]));
        assert_eq!(next, None);
        assert!(table.is_empty());
    }

    #[test]
    fn rfc2543_requests_match_without_a_branch() {
        let t0 = Instant::now();
        let mut table = TransactionTable::new(Timers::DEFAULT, || String::from("unused"));
        let old = Message::parse(
            b"OPTIONS sip:erin@example.net SIP/2.0\r\nVia: SIP/2.0/UDP legacy.example.com\r\n\
From: <sip:old@example.com>;tag=o1\r\nTo: <sip:erin@example.net>\r\nCall-ID: l1@legacy\r\n\
CSeq: 5 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
        table.handle_input(
            t0,
            Received {
                message: old.clone(),
                remote: remote(7),
            },
        );
        table.handle_input(
            t0,
            Received {
                message: old.clone(),
                remote: remote(7),
            },
        );
        let (_, events, _) = drain(&mut table);
        assert_eq!(events.len(), 1);
        let TableEvent::Request { key, .. } = &events[0] else {
            panic!()
        };
        assert!(matches!(key, TransactionKey::Rfc2543 { .. }));
        // A new CSeq is a new transaction.
        let mut next = old.clone();
        next.set_header(crate::message::HeaderName::CSeq, "6 OPTIONS")
            .unwrap();
        table.handle_input(
            t0,
            Received {
                message: next,
                remote: remote(7),
            },
        );
        assert_eq!(drain(&mut table).1.len(), 1);
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn client_side_gets_branch_from_generator() {
        let t0 = Instant::now();
        let mut n = 0;
        let mut table = TransactionTable::new(Timers::DEFAULT, move || {
            n += 1;
            format!("gen{n}")
        });
        let key = table
            .send_request(t0, subscribe("z9hG4bKold"), remote(5060))
            .unwrap();
        let (sent, _, _) = drain(&mut table);
        let wire = Message::parse(&sent[0].payload).unwrap();
        assert_eq!(wire.top_via().unwrap().branch(), Some("z9hG4bKgen1"));
        // A response for another branch is unmatched; ours is routed.
        let mut other = Message::response_to(&wire, 200, "OK").build().unwrap();
        other
            .replace_top_via(&Via::new("UDP", "ws.example.com", None, "z9hG4bKgen9"))
            .unwrap();
        table.handle_input(
            t0,
            Received {
                message: other,
                remote: remote(5060),
            },
        );
        let ok = Message::response_to(&wire, 200, "OK").build().unwrap();
        table.handle_input(
            t0,
            Received {
                message: ok.clone(),
                remote: remote(5060),
            },
        );
        table.handle_input(
            t0,
            Received {
                message: ok,
                remote: remote(5060),
            },
        );
        let (_, events, _) = drain(&mut table);
        assert!(matches!(events[0], TableEvent::Unmatched(_)));
        assert!(matches!(&events[1], TableEvent::Response { key: k, .. } if *k == key));
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn overload_answers_503_and_invite_is_unmatched() {
        let t0 = Instant::now();
        let mut table =
            TransactionTable::new(Timers::DEFAULT, || String::from("x")).with_max_transactions(1);
        table.handle_input(
            t0,
            Received {
                message: subscribe("z9hG4bKa"),
                remote: remote(1),
            },
        );
        table.handle_input(
            t0,
            Received {
                message: subscribe("z9hG4bKb"),
                remote: remote(2),
            },
        );
        let (sent, events, _) = drain(&mut table);
        assert_eq!(events.len(), 1);
        assert_eq!(
            Message::parse(&sent[0].payload).unwrap().status(),
            Some(503)
        );
        assert_eq!(sent[0].remote, remote(2));
        assert_eq!(
            table
                .send_request(t0, subscribe("z9hG4bKc"), remote(3))
                .unwrap_err(),
            TransactionError::TableFull
        );
        let invite = Message::parse(
            b"INVITE sip:erin@example.net SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKi\r\n\
From: <sip:f@example.com>;tag=1\r\nTo: <sip:erin@example.net>\r\nCall-ID: i1\r\n\
CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
        table.handle_input(
            t0,
            Received {
                message: invite,
                remote: remote(4),
            },
        );
        assert!(matches!(
            drain(&mut table).1[..],
            [TableEvent::Unmatched(_)]
        ));
    }
}
