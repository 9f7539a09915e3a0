//! Message framing (RFC 3261 §7.5, §18.3): one datagram is one message;
//! on a stream (TCP/TLS) Content-Length is mandatory and delimits messages,
//! and CRLFs between messages (keep-alives, RFC 5626 §3.5.1) are skipped.

use bytes::{Buf, Bytes, BytesMut};

use crate::error::ParseError;
use crate::limits::Limits;
use crate::message::Message;
use crate::message::parse::parse_head;

/// The searcher for the empty line that ends a header section, built once.
fn end_of_head() -> &'static memchr::memmem::Finder<'static> {
    static FINDER: std::sync::OnceLock<memchr::memmem::Finder<'static>> =
        std::sync::OnceLock::new();
    FINDER.get_or_init(|| memchr::memmem::Finder::new(b"\r\n\r\n"))
}

/// Length of leading CR/LF octets.
fn leading_crlf(data: &[u8]) -> usize {
    data.iter()
        .take_while(|c| **c == b'\r' || **c == b'\n')
        .count()
}

/// Parses one message from one datagram.
///
/// Octets after the body that Content-Length announces are ignored (RFC 4475
/// §3.1.1.8); without Content-Length the body is the rest of the datagram
/// (§18.3). A header section that ends at the end of the datagram without
/// the empty line is accepted. A Content-Length larger than what arrived is
/// an error (answer 400).
pub fn parse_datagram(data: &[u8], limits: &Limits) -> Result<Message, ParseError> {
    if data.len() > limits.max_message_size {
        return Err(ParseError::MessageTooLarge);
    }
    let data = &data[leading_crlf(data)..];
    let (head, rest) = match end_of_head().find(data) {
        Some(end) => (&data[..end + 2], &data[end + 4..]),
        None if data.ends_with(b"\r\n") => (data, &data[data.len()..]),
        None => return Err(ParseError::Unterminated),
    };
    let (start, headers) = parse_head(head, limits)?;
    let mut msg = Message::from_parts(start, headers, Bytes::new())?;
    let body = match msg.content_length() {
        Some(n) if !msg.has_conflicting_length() => {
            let n = n as usize;
            if n > limits.max_body_size {
                return Err(ParseError::BodyTooLarge);
            }
            rest.get(..n).ok_or(ParseError::TruncatedBody)?
        }
        _ => rest,
    };
    if body.len() > limits.max_body_size {
        return Err(ParseError::BodyTooLarge);
    }
    msg.body = Bytes::copy_from_slice(body);
    Ok(msg)
}

/// True if `data` looks like a response (starts with `SIP/`): a refused
/// response is dropped, never answered.
pub fn is_response(data: &[u8]) -> bool {
    let data = &data[leading_crlf(data)..];
    data.get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
}

/// The reason phrase RFC 3261 §21 gives for the codes this crate answers
/// with (and a few more); `"Error"` for others.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        412 => "Conditional Request Failed",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        423 => "Interval Too Brief",
        481 => "Call/Transaction Does Not Exist",
        483 => "Too Many Hops",
        489 => "Bad Event",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        _ => "Error",
    }
}

/// Builds the answer to a request that could not be parsed: status
/// `err.status_code()`, with the Via, From, To, Call-ID and CSeq lines copied
/// verbatim from `data` (RFC 3261 §8.2.6.2), and `to_tag` added to To when
/// it has no tag. Returns `None` for a response (never answered) or when
/// those lines cannot be found in the first `limits.max_message_size`
/// octets; the caller then drops the datagram or closes the connection.
pub fn error_response(
    data: &[u8],
    err: &ParseError,
    to_tag: &str,
    limits: &Limits,
) -> Option<Bytes> {
    if is_response(data) {
        return None;
    }
    let data = &data[..data.len().min(limits.max_message_size)];
    let data = &data[leading_crlf(data)..];
    let head_end = end_of_head().find(data).unwrap_or(data.len());
    let head = data.get(..head_end)?;
    let mut copied: Vec<(crate::HeaderName, &[u8])> = Vec::new();
    for line in head.split(|b| *b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            // A folded line: keep it attached to a copied header only.
            continue;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let Ok(name) = std::str::from_utf8(&line[..colon]) else {
            continue;
        };
        let name = crate::HeaderName::from_name(name.trim());
        if matches!(
            name,
            crate::HeaderName::Via
                | crate::HeaderName::From
                | crate::HeaderName::To
                | crate::HeaderName::CallId
                | crate::HeaderName::CSeq
        ) && line.len() <= limits.max_header_line
        {
            copied.push((name, &line[colon + 1..]));
        }
    }
    for needed in [
        crate::HeaderName::Via,
        crate::HeaderName::From,
        crate::HeaderName::To,
        crate::HeaderName::CallId,
        crate::HeaderName::CSeq,
    ] {
        if !copied.iter().any(|(n, _)| *n == needed) {
            return None;
        }
    }
    let code = err.status_code();
    let mut out = BytesMut::with_capacity(512);
    out.extend_from_slice(format!("SIP/2.0 {code} {}\r\n", reason_phrase(code)).as_bytes());
    for (name, value) in copied {
        let value = trim_octets(value);
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        if name == crate::HeaderName::To
            && memchr::memmem::find(value, b";tag=").is_none()
            && !to_tag.is_empty()
        {
            out.extend_from_slice(b";tag=");
            out.extend_from_slice(to_tag.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    Some(out.freeze())
}

fn trim_octets(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| *b != b' ' && *b != b'\t')
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| *b != b' ' && *b != b'\t')
        .map_or(start, |e| e + 1);
    v.get(start..end).unwrap_or(&[])
}

/// Splits a byte stream into messages. Feed it whatever the connection
/// delivered, then call [`next_message`](StreamFramer::next_message) until
/// it returns `Ok(None)`.
///
/// After an error the connection is out of sync: the framer keeps returning
/// that error and the caller should send the answer (if the message was a
/// request) and close the connection.
#[derive(Debug)]
pub struct StreamFramer {
    buf: BytesMut,
    limits: Limits,
    failed: Option<ParseError>,
    /// Bytes already known to hold no CRLFCRLF, so rescans start later.
    scanned: usize,
    /// A parsed head waiting for its body: the body's offset and length.
    waiting: Option<(Message, usize, usize)>,
}

impl StreamFramer {
    /// A framer enforcing `limits`.
    pub fn new(limits: Limits) -> StreamFramer {
        StreamFramer {
            buf: BytesMut::new(),
            limits,
            failed: None,
            scanned: 0,
            waiting: None,
        }
    }

    /// Appends received octets.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(chunk);
        }
    }

    /// Octets buffered and not yet returned as a message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    fn fail(&mut self, e: ParseError) -> Result<Option<Message>, ParseError> {
        self.failed = Some(e.clone());
        self.buf.clear();
        self.waiting = None;
        Err(e)
    }

    /// Returns the waiting message once its body has arrived.
    fn complete(&mut self) -> Option<Message> {
        let (_, start, len) = self.waiting.as_ref()?;
        let total = start + len;
        if self.buf.len() < total {
            return None;
        }
        let start = *start;
        let (mut msg, _, _) = self.waiting.take()?;
        let frame = self.buf.split_to(total).freeze();
        self.scanned = 0;
        msg.body = frame.slice(start..);
        Some(msg)
    }

    /// The next complete message, `Ok(None)` if more input is needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, ParseError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.waiting.is_some() {
            return Ok(self.complete());
        }
        let skip = leading_crlf(&self.buf);
        // Keep a lone trailing CR: it may start the CRLF of a longer run.
        if skip > 0 {
            self.buf.advance(skip);
            self.scanned = 0;
        }
        if self.buf.is_empty() {
            return Ok(None);
        }
        let from = self.scanned.saturating_sub(3);
        let Some(pos) = end_of_head().find(&self.buf[from..]) else {
            self.scanned = self.buf.len();
            if self.buf.len() > self.limits.max_message_size {
                return self.fail(ParseError::MessageTooLarge);
            }
            let line_start = memchr::memrchr(b'\n', &self.buf).map_or(0, |p| p + 1);
            if self.buf.len() - line_start > self.limits.max_header_line {
                return self.fail(ParseError::HeaderLineTooLong);
            }
            return Ok(None);
        };
        let end = from + pos;
        if end + 4 > self.limits.max_message_size {
            return self.fail(ParseError::MessageTooLarge);
        }
        let (start, headers) = match parse_head(&self.buf[..end + 2], &self.limits) {
            Ok(v) => v,
            Err(e) => return self.fail(e),
        };
        let mut msg = match Message::from_parts(start, headers, Bytes::new()) {
            Ok(m) => m,
            Err(e) => return self.fail(e),
        };
        if msg.has_conflicting_length() {
            return self.fail(ParseError::BadContentLength);
        }
        let Some(len) = msg.content_length() else {
            return self.fail(ParseError::MissingContentLength);
        };
        let len = len as usize;
        if len > self.limits.max_body_size {
            return self.fail(ParseError::BodyTooLarge);
        }
        let total = end + 4 + len;
        if total > self.limits.max_message_size {
            return self.fail(ParseError::MessageTooLarge);
        }
        msg.body = Bytes::new();
        self.waiting = Some((msg, end + 4, len));
        Ok(self.complete())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: &[u8] = b"MESSAGE sip:bob@example.org SIP/2.0\r\n\
Via: SIP/2.0/TCP pc.example.com;branch=z9hG4bKm1\r\n\
Max-Forwards: 70\r\nFrom: <sip:al@example.com>;tag=1\r\nTo: <sip:bob@example.org>\r\n\
Call-ID: m1@pc\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";

    #[test]
    fn datagram_body_by_content_length() {
        let mut d = REQ.to_vec();
        d.extend_from_slice(b"TRAILING JUNK");
        let m = parse_datagram(&d, &Limits::DEFAULT).unwrap();
        assert_eq!(&m.body()[..], b"hello");
        assert_eq!(
            parse_datagram(&REQ[..REQ.len() - 1], &Limits::DEFAULT).unwrap_err(),
            ParseError::TruncatedBody
        );
        let small = Limits {
            max_message_size: 100,
            ..Limits::DEFAULT
        };
        assert_eq!(parse_datagram(REQ, &small).unwrap_err().status_code(), 513);
        let tiny_body = Limits {
            max_body_size: 2,
            ..Limits::DEFAULT
        };
        assert_eq!(
            parse_datagram(REQ, &tiny_body).unwrap_err().status_code(),
            413
        );
    }

    #[test]
    fn error_responses_copy_the_transaction_headers() {
        let bad = b"OPTIONS sip:a@example.com SIP/9.9\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bKe1\r\n\
From: <sip:b@example.com>;tag=9\r\nTo: <sip:a@example.com>\r\nCall-ID: e1\r\nCSeq: 1 OPTIONS\r\n\r\n";
        let err = parse_datagram(bad, &Limits::DEFAULT).unwrap_err();
        let resp = error_response(bad, &err, "t1", &Limits::DEFAULT).unwrap();
        let m = Message::parse(&resp).unwrap();
        assert_eq!(m.status(), Some(505));
        assert_eq!(m.status_line().unwrap().reason, "Version Not Supported");
        assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bKe1"));
        assert_eq!(m.to().unwrap().tag(), Some("t1"));
        assert_eq!(m.cseq().unwrap().seq, 1);
        // No Call-ID: nothing to answer with.
        let partial =
            b"OPTIONS sip:a@example.com SIP/9.9\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKe2\r\n\r\n";
        assert_eq!(error_response(partial, &err, "t", &Limits::DEFAULT), None);
        let resp_in = b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n";
        assert_eq!(error_response(resp_in, &err, "t", &Limits::DEFAULT), None);
    }

    #[test]
    fn stream_in_small_chunks_with_keepalives() {
        let mut wire = b"\r\n\r\n".to_vec();
        wire.extend_from_slice(REQ);
        wire.extend_from_slice(b"\r\n\r\n\r\n");
        wire.extend_from_slice(REQ);
        let mut f = StreamFramer::new(Limits::DEFAULT);
        let mut got = Vec::new();
        for chunk in wire.chunks(7) {
            f.feed(chunk);
            while let Some(m) = f.next_message().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(&got[1].body()[..], b"hello");
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn stream_body_arriving_octet_by_octet() {
        let mut f = StreamFramer::new(Limits::DEFAULT);
        let split = REQ.len() - 5;
        f.feed(&REQ[..split]);
        assert_eq!(f.next_message().unwrap(), None);
        for b in &REQ[split..REQ.len() - 1] {
            f.feed(std::slice::from_ref(b));
            assert_eq!(f.next_message().unwrap(), None);
        }
        f.feed(&REQ[REQ.len() - 1..]);
        f.feed(b"\r\n");
        let m = f.next_message().unwrap().unwrap();
        assert_eq!(&m.body()[..], b"hello");
        assert_eq!(f.next_message().unwrap(), None);
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn stream_requires_content_length_and_limits() {
        let mut f = StreamFramer::new(Limits::DEFAULT);
        f.feed(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKx\r\n\r\n");
        assert_eq!(
            f.next_message().unwrap_err(),
            ParseError::MissingContentLength
        );
        assert!(f.next_message().is_err());
        let mut f = StreamFramer::new(Limits {
            max_header_line: 16,
            ..Limits::DEFAULT
        });
        f.feed(&[b'a'; 40]);
        assert_eq!(f.next_message().unwrap_err(), ParseError::HeaderLineTooLong);
        let mut f = StreamFramer::new(Limits {
            max_message_size: 64,
            max_header_line: 1000,
            ..Limits::DEFAULT
        });
        f.feed(&[b'a'; 30]);
        assert_eq!(f.next_message().unwrap(), None);
        f.feed(b"\r\n");
        f.feed(&[b'a'; 40]);
        assert_eq!(f.next_message().unwrap_err(), ParseError::MessageTooLarge);
    }
}
