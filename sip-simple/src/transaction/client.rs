//! The non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6): sends
//! the request, retransmits it on timer E over unreliable transports, gives
//! up on timer F, and absorbs response retransmissions until timer K.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Output, Remote, Timers, TransactionKey, Transmit, after, earliest};
use crate::error::TransactionError;
use crate::message::{Message, Method};

/// States of Figure 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// Request sent, no response yet.
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived; waiting out retransmissions (timer K).
    Completed,
    /// Done.
    Terminated,
}

/// What a client transaction tells its transaction user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum ClientEvent {
    /// A provisional or final response (retransmissions are absorbed).
    Response(Message),
    /// Timer F fired before a final response: the request timed out (the TU
    /// treats it as a 408).
    Timeout,
    /// The transport reported a failure.
    TransportError,
    /// The transaction ended and can be forgotten.
    Terminated,
}

/// A non-INVITE client transaction.
#[derive(Debug)]
pub struct ClientTransaction {
    key: TransactionKey,
    state: ClientState,
    remote: Remote,
    timers: Timers,
    request: Bytes,
    timer_e: Option<Instant>,
    interval_e: Duration,
    timer_f: Option<Instant>,
    timer_k: Option<Instant>,
    out: VecDeque<Output<ClientEvent>>,
}

impl ClientTransaction {
    /// Starts the transaction: the request (non-INVITE, with a top Via
    /// branch) is queued for transmission to `remote` and timers E (UDP
    /// only) and F start.
    pub fn new(
        now: Instant,
        request: &Message,
        remote: Remote,
        timers: Timers,
    ) -> Result<ClientTransaction, TransactionError> {
        match request.method() {
            None => return Err(TransactionError::WrongMessageKind),
            Some(Method::Invite | Method::Ack) => {
                return Err(TransactionError::InviteNotSupported);
            }
            Some(_) => {}
        }
        let key = TransactionKey::for_client(request)?;
        let payload = request.to_bytes();
        let mut tx = ClientTransaction {
            key,
            state: ClientState::Trying,
            remote,
            timers,
            request: payload.clone(),
            timer_e: None,
            interval_e: timers.t1,
            timer_f: Some(after(now, timers.timeout())),
            timer_k: None,
            out: VecDeque::new(),
        };
        if !remote.transport.is_reliable() {
            tx.timer_e = Some(after(now, timers.t1));
        }
        tx.out
            .push_back(Output::Transmit(Transmit { remote, payload }));
        Ok(tx)
    }

    /// The matching key.
    pub fn key(&self) -> &TransactionKey {
        &self.key
    }
    /// The current state.
    pub fn state(&self) -> ClientState {
        self.state
    }
    /// True once terminated.
    pub fn is_terminated(&self) -> bool {
        self.state == ClientState::Terminated
    }

    /// A response matched to this transaction arrived.
    pub fn handle_input(&mut self, now: Instant, response: Message) {
        let Some(code) = response.status() else {
            return;
        };
        match self.state {
            ClientState::Trying | ClientState::Proceeding => {
                if code < 200 {
                    self.state = ClientState::Proceeding;
                    self.out
                        .push_back(Output::Event(ClientEvent::Response(response)));
                } else {
                    self.out
                        .push_back(Output::Event(ClientEvent::Response(response)));
                    self.timer_e = None;
                    self.timer_f = None;
                    self.state = ClientState::Completed;
                    if self.remote.transport.is_reliable() {
                        self.terminate();
                    } else {
                        self.timer_k = Some(after(now, self.timers.t4));
                    }
                }
            }
            // Retransmitted responses are absorbed (§17.1.2.2).
            ClientState::Completed | ClientState::Terminated => {}
        }
    }

    /// The transport failed to deliver the request (§17.1.4).
    pub fn handle_transport_error(&mut self, _now: Instant) {
        if matches!(self.state, ClientState::Trying | ClientState::Proceeding) {
            self.out
                .push_back(Output::Event(ClientEvent::TransportError));
            self.terminate();
        }
    }

    fn terminate(&mut self) {
        self.state = ClientState::Terminated;
        self.timer_e = None;
        self.timer_f = None;
        self.timer_k = None;
        self.out.push_back(Output::Event(ClientEvent::Terminated));
    }

    /// Time passed. Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.timer_f.is_some_and(|t| t <= now) {
            self.out.push_back(Output::Event(ClientEvent::Timeout));
            self.terminate();
            return;
        }
        if self.timer_k.is_some_and(|t| t <= now) {
            self.terminate();
            return;
        }
        if let Some(t) = self.timer_e
            && t <= now
        {
            // Trying doubles the interval up to T2; Proceeding uses T2.
            self.interval_e = match self.state {
                ClientState::Trying => self.interval_e.saturating_mul(2).min(self.timers.t2),
                _ => self.timers.t2,
            };
            self.timer_e = Some(after(now, self.interval_e));
            self.out.push_back(Output::Transmit(Transmit {
                remote: self.remote,
                payload: self.request.clone(),
            }));
        }
    }

    /// The next deadline, if a timer runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        earliest(&[self.timer_e, self.timer_f, self.timer_k])
    }

    /// Next output; see the [module docs](super).
    pub fn poll_output(&mut self) -> Option<Output<ClientEvent>> {
        self.out
            .pop_front()
            .or_else(|| self.poll_timeout().map(Output::Timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::Transport;

    fn options() -> Message {
        Message::parse(
            b"OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc.example.com;branch=z9hG4bKc1\r\nMax-Forwards: 70\r\n\
From: <sip:bob@biloxi.example.com>;tag=a1\r\nTo: <sip:carol@chicago.example.com>\r\n\
Call-ID: c1@pc\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap()
    }

    fn remote(transport: Transport) -> Remote {
        Remote {
            transport,
            addr: "192.0.2.4:5060".parse().unwrap(),
        }
    }

    fn drain(tx: &mut ClientTransaction) -> (usize, Vec<ClientEvent>, Option<Instant>) {
        let (mut sent, mut events) = (0, Vec::new());
        while let Some(o) = tx.poll_output() {
            match o {
                Output::Transmit(_) => sent += 1,
                Output::Event(e) => events.push(e),
                Output::Timeout(t) => return (sent, events, Some(t)),
            }
        }
        (sent, events, None)
    }

    #[test]
    fn udp_retransmits_with_backoff_then_times_out() {
        let t0 = Instant::now();
        let mut tx =
            ClientTransaction::new(t0, &options(), remote(Transport::Udp), Timers::DEFAULT)
                .unwrap();
        let (sent, _, next) = drain(&mut tx);
        assert_eq!(sent, 1);
        assert_eq!(next, Some(t0 + Duration::from_millis(500)));
        let mut at = t0;
        let mut gaps = Vec::new();
        let mut total = 0;
        loop {
            let (sent, events, next) = drain(&mut tx);
            total += sent;
            if events.contains(&ClientEvent::Timeout) {
                assert!(events.contains(&ClientEvent::Terminated));
                break;
            }
            let next = next.unwrap();
            gaps.push(next - at);
            at = next;
            tx.handle_timeout(at);
        }
        assert_eq!(at - t0, Duration::from_secs(32));
        assert_eq!(gaps[0], Duration::from_millis(500));
        assert_eq!(gaps[1], Duration::from_secs(1));
        assert_eq!(gaps[3], Duration::from_secs(4));
        assert_eq!(gaps[4], Duration::from_secs(4));
        assert_eq!(total, 10);
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_output(), None);
    }

    #[test]
    fn provisional_then_final_then_timer_k() {
        let t0 = Instant::now();
        let req = options();
        let mut tx =
            ClientTransaction::new(t0, &req, remote(Transport::Udp), Timers::DEFAULT).unwrap();
        drain(&mut tx);
        let trying = Message::response_to(&req, 100, "Trying").build().unwrap();
        tx.handle_input(t0, trying);
        assert_eq!(tx.state(), ClientState::Proceeding);
        // In Proceeding, timer E uses T2.
        tx.handle_timeout(t0 + Duration::from_millis(500));
        let (sent, _, next) = drain(&mut tx);
        assert_eq!(sent, 1);
        assert_eq!(next, Some(t0 + Duration::from_millis(4500)));
        let ok = Message::response_to(&req, 200, "OK").build().unwrap();
        tx.handle_input(t0 + Duration::from_secs(1), ok.clone());
        tx.handle_input(t0 + Duration::from_secs(1), ok);
        let (_, events, next) = drain(&mut tx);
        assert_eq!(events.len(), 1, "retransmission absorbed: {events:?}");
        assert_eq!(next, Some(t0 + Duration::from_secs(6)));
        tx.handle_timeout(t0 + Duration::from_secs(2));
        assert_eq!(tx.state(), ClientState::Completed);
        tx.handle_timeout(t0 + Duration::from_secs(6));
        assert!(tx.is_terminated());
    }

    #[test]
    fn reliable_transport_skips_retransmits_and_timer_k() {
        let t0 = Instant::now();
        let req = options();
        let mut tx =
            ClientTransaction::new(t0, &req, remote(Transport::Tcp), Timers::DEFAULT).unwrap();
        let (sent, _, next) = drain(&mut tx);
        assert_eq!((sent, next), (1, Some(t0 + Duration::from_secs(32))));
        tx.handle_timeout(t0 + Duration::from_secs(10));
        assert_eq!(drain(&mut tx).0, 0);
        tx.handle_input(
            t0,
            Message::response_to(&req, 404, "Not Found")
                .build()
                .unwrap(),
        );
        assert!(tx.is_terminated());
        tx.handle_transport_error(t0);
        let (_, events, next) = drain(&mut tx);
        assert_eq!(events.last(), Some(&ClientEvent::Terminated));
        assert_eq!(next, None);
    }

    #[test]
    fn refuses_invite_and_responses() {
        let t0 = Instant::now();
        let ok = Message::response_to(&options(), 200, "OK").build().unwrap();
        assert_eq!(
            ClientTransaction::new(t0, &ok, remote(Transport::Udp), Timers::DEFAULT).unwrap_err(),
            TransactionError::WrongMessageKind
        );
    }
}
