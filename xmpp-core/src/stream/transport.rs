//! The byte path shared by both stream roles: optional TLS (rustls,
//! driven entirely in memory), the XML framer, and the outgoing buffer.
//!
//! Incoming socket bytes go through TLS when it is active and then into
//! the framer; outgoing XML goes through TLS when it is active and then
//! into `out`, which the engine hands to its caller as
//! [`super::Output::Transmit`]. Switching to TLS after `<proceed/>` moves
//! any bytes the framer had buffered beyond `<starttls/>` into TLS, so a
//! ClientHello that arrived in the same read is not lost (RFC 6120
//! §5.4.3.3).

use std::io::{Read, Write};

use bytes::{Bytes, BytesMut};
use rustls::{Connection, ProtocolVersion};

use crate::xml::{Element, Framer, Limits, WriteContext, write_element};

/// Why the transport cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TransportError {
    /// TLS failed (handshake or record layer).
    Tls(String),
}

pub(crate) struct Transport {
    pub framer: Framer,
    tls: Option<Connection>,
    tls_established: bool,
    /// Bytes ready for the socket.
    out: BytesMut,
    /// The content namespace of the current stream, for serialization.
    pub content_ns: &'static str,
    /// The peer closed TLS with close_notify.
    pub tls_closed: bool,
}

impl Transport {
    pub fn new(limits: Limits, content_ns: &'static str) -> Self {
        Transport {
            framer: Framer::new(limits),
            tls: None,
            tls_established: false,
            out: BytesMut::with_capacity(4096),
            content_ns,
            tls_closed: false,
        }
    }

    /// Starts TLS on this transport. Bytes buffered in the framer beyond
    /// the last frame are TLS records and are fed to the new connection.
    pub fn start_tls(&mut self, conn: Connection) -> Result<bool, TransportError> {
        let pending = self.framer.take_buffered();
        self.framer.restart();
        self.tls = Some(conn);
        self.flush_tls()?;
        if pending.is_empty() {
            Ok(false)
        } else {
            self.receive(&pending)
        }
    }

    /// Feeds socket bytes. Returns whether the TLS handshake completed
    /// during this call.
    pub fn receive(&mut self, data: &[u8]) -> Result<bool, TransportError> {
        let Some(conn) = self.tls.as_mut() else {
            self.framer.push(data);
            return Ok(false);
        };
        let mut rest = data;
        let mut plain = [0u8; 16 * 1024];
        while !rest.is_empty() {
            let n = conn
                .read_tls(&mut rest)
                .map_err(|e| TransportError::Tls(e.to_string()))?;
            let state = match conn.process_new_packets() {
                Ok(s) => s,
                Err(e) => {
                    // Let the alert rustls queued reach the peer.
                    let _ = Self::drain(conn, &mut self.out);
                    return Err(TransportError::Tls(e.to_string()));
                }
            };
            let mut to_read = state.plaintext_bytes_to_read();
            while to_read > 0 {
                let cap = to_read.min(plain.len());
                let got = conn
                    .reader()
                    .read(&mut plain[..cap])
                    .map_err(|e| TransportError::Tls(e.to_string()))?;
                if got == 0 {
                    break;
                }
                self.framer.push(&plain[..got]);
                to_read -= got;
            }
            if state.peer_has_closed() {
                self.tls_closed = true;
            }
            if n == 0 {
                break;
            }
        }
        self.flush_tls()?;
        let newly = !self.tls_established && !conn_handshaking(self.tls.as_ref());
        if newly {
            self.tls_established = true;
        }
        Ok(newly)
    }

    fn drain(conn: &mut Connection, out: &mut BytesMut) -> Result<(), TransportError> {
        while conn.wants_write() {
            let mut w = BufWriter(out);
            conn.write_tls(&mut w)
                .map_err(|e| TransportError::Tls(e.to_string()))?;
        }
        Ok(())
    }

    fn flush_tls(&mut self) -> Result<(), TransportError> {
        match self.tls.as_mut() {
            Some(conn) => Self::drain(conn, &mut self.out),
            None => Ok(()),
        }
    }

    /// Sends raw stream bytes (header, close tag, whitespace).
    pub fn send_raw(&mut self, data: &[u8]) -> Result<(), TransportError> {
        match self.tls.as_mut() {
            Some(conn) => {
                conn.writer()
                    .write_all(data)
                    .map_err(|e| TransportError::Tls(e.to_string()))?;
                self.flush_tls()
            }
            None => {
                self.out.extend_from_slice(data);
                Ok(())
            }
        }
    }

    /// Serializes and sends one top-level element.
    pub fn send_element(&mut self, e: &Element) -> Result<(), TransportError> {
        let ctx = WriteContext {
            default_ns: self.content_ns,
            stream_prefix: true,
        };
        if self.tls.is_some() {
            let mut buf = BytesMut::with_capacity(256);
            write_element(&mut buf, e, ctx);
            self.send_raw(&buf)
        } else {
            write_element(&mut self.out, e, ctx);
            Ok(())
        }
    }

    /// Sends TLS close_notify, if TLS is active.
    pub fn close_tls(&mut self) {
        if let Some(conn) = self.tls.as_mut() {
            conn.send_close_notify();
            let _ = Self::drain(conn, &mut self.out);
        }
    }

    /// Takes the bytes ready for the socket.
    pub fn take_out(&mut self) -> Option<Bytes> {
        if self.out.is_empty() {
            None
        } else {
            Some(self.out.split().freeze())
        }
    }

    /// RFC 9266 `tls-exporter` channel binding data, available once the
    /// handshake is done and only for TLS 1.3 (RFC 9266 §3).
    pub fn tls_exporter(&self) -> Option<Vec<u8>> {
        let conn = self.tls.as_ref()?;
        if !self.tls_established || conn.protocol_version() != Some(ProtocolVersion::TLSv1_3) {
            return None;
        }
        conn.export_keying_material(vec![0u8; 32], b"EXPORTER-Channel-Binding", None)
            .ok()
    }
}

fn conn_handshaking(c: Option<&Connection>) -> bool {
    c.is_some_and(|c| c.is_handshaking())
}

struct BufWriter<'a>(&'a mut BytesMut);

impl Write for BufWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
