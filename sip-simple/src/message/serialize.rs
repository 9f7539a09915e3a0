//! Serialization of messages (RFC 3261 §7): start line, one header line per
//! stored header with its canonical name, empty line, body. Parsing the
//! output gives back an equal [`Message`].

use std::fmt::Write as _;

use bytes::{BufMut, Bytes, BytesMut};

use crate::message::{Message, StartLine};

impl Message {
    /// Appends the wire form to `out`.
    pub fn write_to(&self, out: &mut BytesMut) {
        let mut head = String::with_capacity(256 + self.headers.len() * 48);
        match &self.start {
            StartLine::Request(r) => {
                let _ = write!(head, "{} {} SIP/2.0\r\n", r.method, r.uri);
            }
            StartLine::Response(s) => {
                let _ = write!(head, "SIP/2.0 {:03} {}\r\n", s.code, s.reason);
            }
        }
        for h in &self.headers {
            head.push_str(h.name.as_str());
            head.push_str(": ");
            head.push_str(&h.value);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        out.reserve(head.len() + self.body.len());
        out.put_slice(head.as_bytes());
        out.put_slice(&self.body);
    }

    /// The wire form.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.write_to(&mut out);
        out.freeze()
    }
}

impl std::fmt::Display for Message {
    /// The wire form, with the body shown lossily as UTF-8.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}
