//! The non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8): hands
//! the request to the transaction user, sends its responses, answers
//! request retransmissions with the last response, and lingers for timer J.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;

use super::{Output, Remote, Timers, TransactionKey, Transmit, after};
use crate::error::TransactionError;
use crate::message::{Message, Method};

/// States of Figure 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// Request received, nothing sent yet.
    Trying,
    /// A provisional response was sent.
    Proceeding,
    /// A final response was sent; absorbing retransmissions (timer J).
    Completed,
    /// Done.
    Terminated,
}

/// What a server transaction tells its transaction user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum ServerEvent {
    /// The request that created the transaction (delivered once).
    Request(Message),
    /// The transport failed to deliver a response (§17.2.4).
    TransportError,
    /// The transaction ended and can be forgotten.
    Terminated,
}

/// A non-INVITE server transaction.
#[derive(Debug)]
pub struct ServerTransaction {
    key: TransactionKey,
    state: ServerState,
    remote: Remote,
    timers: Timers,
    last_response: Option<Bytes>,
    timer_j: Option<Instant>,
    out: VecDeque<Output<ServerEvent>>,
}

impl ServerTransaction {
    /// Creates the transaction for a request that arrived from `remote`, and
    /// queues [`ServerEvent::Request`] for the TU. Responses go back to
    /// `remote` (the source of the request, as RFC 3581 symmetric response
    /// routing does).
    pub fn new(
        _now: Instant,
        request: Message,
        remote: Remote,
        timers: Timers,
    ) -> Result<ServerTransaction, TransactionError> {
        match request.method() {
            None => return Err(TransactionError::WrongMessageKind),
            Some(Method::Invite | Method::Ack) => {
                return Err(TransactionError::InviteNotSupported);
            }
            Some(_) => {}
        }
        let key = TransactionKey::for_server(&request)?;
        let mut out = VecDeque::new();
        out.push_back(Output::Event(ServerEvent::Request(request)));
        Ok(ServerTransaction {
            key,
            state: ServerState::Trying,
            remote,
            timers,
            last_response: None,
            timer_j: None,
            out,
        })
    }

    /// The matching key.
    pub fn key(&self) -> &TransactionKey {
        &self.key
    }
    /// Where responses go.
    pub fn remote(&self) -> Remote {
        self.remote
    }
    /// The current state.
    pub fn state(&self) -> ServerState {
        self.state
    }
    /// True once terminated.
    pub fn is_terminated(&self) -> bool {
        self.state == ServerState::Terminated
    }

    /// A retransmission of the request arrived: it is absorbed, and the last
    /// response (if any) is sent again.
    pub fn handle_input(&mut self, _now: Instant, _request: Message) {
        if matches!(self.state, ServerState::Proceeding | ServerState::Completed)
            && let Some(r) = &self.last_response
        {
            self.out.push_back(Output::Transmit(Transmit {
                remote: self.remote,
                payload: r.clone(),
            }));
        }
    }

    /// The TU sends a response. Responses after the final one are refused.
    pub fn send_response(
        &mut self,
        now: Instant,
        response: &Message,
    ) -> Result<(), TransactionError> {
        let code = response
            .status()
            .ok_or(TransactionError::WrongMessageKind)?;
        if matches!(self.state, ServerState::Completed | ServerState::Terminated) {
            return Err(TransactionError::NoSuchTransaction);
        }
        let payload = response.to_bytes();
        self.last_response = Some(payload.clone());
        self.out.push_back(Output::Transmit(Transmit {
            remote: self.remote,
            payload,
        }));
        if code < 200 {
            self.state = ServerState::Proceeding;
        } else if self.remote.transport.is_reliable() {
            self.state = ServerState::Completed;
            self.terminate();
        } else {
            self.state = ServerState::Completed;
            self.timer_j = Some(after(now, self.timers.timeout()));
        }
        Ok(())
    }

    /// The transport failed to deliver a response.
    pub fn handle_transport_error(&mut self, _now: Instant) {
        if !self.is_terminated() {
            self.out
                .push_back(Output::Event(ServerEvent::TransportError));
            self.terminate();
        }
    }

    fn terminate(&mut self) {
        self.state = ServerState::Terminated;
        self.timer_j = None;
        self.out.push_back(Output::Event(ServerEvent::Terminated));
    }

    /// Time passed. Fires timer J when due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.timer_j.is_some_and(|t| t <= now) {
            self.terminate();
        }
    }

    /// The next deadline, if a timer runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer_j
    }

    /// Next output; see the [module docs](super).
    pub fn poll_output(&mut self) -> Option<Output<ServerEvent>> {
        self.out
            .pop_front()
            .or_else(|| self.poll_timeout().map(Output::Timeout))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::transaction::Transport;

    fn publish() -> Message {
        Message::parse(
            b"PUBLISH sip:dana@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pua.example.com;branch=z9hG4bKp1\r\nMax-Forwards: 70\r\n\
From: <sip:dana@example.com>;tag=d1\r\nTo: <sip:dana@example.com>\r\n\
Call-ID: p1@pua\r\nCSeq: 4 PUBLISH\r\nEvent: presence\r\nExpires: 3600\r\n\
Content-Length: 0\r\n\r\n",
        )
        .unwrap()
    }

    fn remote(transport: Transport) -> Remote {
        Remote {
            transport,
            addr: "198.51.100.7:5060".parse().unwrap(),
        }
    }

    fn sent(tx: &mut ServerTransaction) -> usize {
        let mut n = 0;
        while let Some(o) = tx.poll_output() {
            match o {
                Output::Transmit(_) => n += 1,
                Output::Timeout(_) => break,
                Output::Event(_) => {}
            }
        }
        n
    }

    #[test]
    fn request_retransmissions_get_last_response() {
        let t0 = Instant::now();
        let req = publish();
        let mut tx =
            ServerTransaction::new(t0, req.clone(), remote(Transport::Udp), Timers::DEFAULT)
                .unwrap();
        assert!(matches!(
            tx.poll_output(),
            Some(Output::Event(ServerEvent::Request(_)))
        ));
        // Trying: a retransmission is absorbed silently.
        tx.handle_input(t0, req.clone());
        assert_eq!(sent(&mut tx), 0);
        tx.send_response(
            t0,
            &Message::response_to(&req, 100, "Trying").build().unwrap(),
        )
        .unwrap();
        assert_eq!(sent(&mut tx), 1);
        tx.handle_input(t0, req.clone());
        assert_eq!(sent(&mut tx), 1);
        let ok = Message::response_to(&req, 200, "OK")
            .to_tag("s1")
            .build()
            .unwrap();
        tx.send_response(t0, &ok).unwrap();
        assert_eq!(tx.state(), ServerState::Completed);
        assert_eq!(sent(&mut tx), 1);
        tx.handle_input(t0 + Duration::from_secs(1), req.clone());
        match tx.poll_output() {
            Some(Output::Transmit(t)) => assert_eq!(t.payload, ok.to_bytes()),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            tx.poll_output(),
            Some(Output::Timeout(t0 + Duration::from_secs(32)))
        );
        assert!(tx.send_response(t0, &ok).is_err());
        tx.handle_timeout(t0 + Duration::from_secs(31));
        assert_eq!(tx.state(), ServerState::Completed);
        tx.handle_timeout(t0 + Duration::from_secs(32));
        assert_eq!(
            tx.poll_output(),
            Some(Output::Event(ServerEvent::Terminated))
        );
        assert_eq!(tx.poll_output(), None);
    }

    #[test]
    fn reliable_final_terminates_at_once() {
        let t0 = Instant::now();
        let req = publish();
        let mut tx =
            ServerTransaction::new(t0, req.clone(), remote(Transport::Tls), Timers::DEFAULT)
                .unwrap();
        tx.send_response(
            t0,
            &Message::response_to(&req, 412, "Conditional Request Failed")
                .build()
                .unwrap(),
        )
        .unwrap();
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_timeout(), None);
    }
}
