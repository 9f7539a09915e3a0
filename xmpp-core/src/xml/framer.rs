//! A byte-level framer for XMPP streams (RFC 6120 §4.2–§4.4, §11).
//!
//! quick-xml cannot resume on partial input, so the stream is first cut
//! into frames here: the stream header, each complete top-level element
//! (a stanza or a stream-level element such as `<auth/>`), and the stream
//! close tag. The framer is fed arbitrary chunks (one byte at a time
//! works) and never rescans bytes it has already classified, so feeding a
//! stanza in `n` pieces costs the same as feeding it whole.
//!
//! It rejects what XMPP forbids before any parser sees it: comments,
//! processing instructions (the XML declaration is allowed only at the
//! start of a stream), DTDs, text outside stanzas, and oversized or
//! over-deep elements. A stream restart (after STARTTLS or SASL success)
//! keeps bytes already received, so a new stream header that arrived in
//! the same read as the element before it is not lost.

use bytes::{Buf, Bytes, BytesMut};

use super::error::{Limit, XmlError};
use super::limits::Limits;
use super::parse::{StreamHeader, parse_stream_header};

/// One unit cut from the stream by the [`Framer`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The opening `<stream:stream>` tag, parsed.
    StreamOpen(StreamHeader),
    /// The raw bytes of one complete top-level element, from its `<` to
    /// its final `>`. Parse it with [`super::parse_element`].
    Element(Bytes),
    /// The closing `</stream:stream>` tag.
    StreamClose,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scan {
    /// Before the stream header: whitespace, an XML declaration, then the
    /// header start tag.
    Prolog,
    /// Between tags (character data inside a stanza, or whitespace
    /// between stanzas).
    Content,
    /// Just after `<`.
    TagOpen,
    /// Inside a start tag, after its first name character.
    StartTag,
    /// Inside an end tag.
    EndTag,
    /// After `<!`; the number of bytes of `[CDATA[` matched so far.
    Bang(u8),
    /// Inside a CDATA section; the number of trailing `]` seen (0..=2).
    CData(u8),
    /// Inside the XML declaration `<?xml ...?>`.
    Declaration,
    /// After the stream close tag, or after an error.
    Done,
}

const CDATA_OPEN: &[u8] = b"[CDATA[";

/// Cuts a byte stream into [`Frame`]s. See the module documentation.
#[derive(Debug)]
pub struct Framer {
    limits: Limits,
    buf: BytesMut,
    /// Scan position in `buf`; the frame being scanned starts at 0.
    pos: usize,
    scan: Scan,
    depth: usize,
    quote: u8,
    prev: u8,
    header_seen: bool,
    decl_allowed: bool,
    /// Qualified name of the stream element, e.g. `stream:stream`.
    stream_qname: String,
    error: Option<XmlError>,
}

impl Framer {
    /// A framer expecting a stream header, with the given limits.
    pub fn new(limits: Limits) -> Self {
        Framer {
            limits,
            buf: BytesMut::new(),
            pos: 0,
            scan: Scan::Prolog,
            depth: 0,
            quote: 0,
            prev: 0,
            header_seen: false,
            decl_allowed: true,
            stream_qname: String::new(),
            error: None,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Appends received bytes. Call [`Framer::next_frame`] until it
    /// returns `Ok(None)` after every push.
    pub fn push(&mut self, data: &[u8]) {
        if self.scan != Scan::Done {
            self.buf.extend_from_slice(data);
        }
    }

    /// Number of received bytes not yet returned in a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Whether the stream close tag has been seen.
    pub fn is_closed(&self) -> bool {
        self.scan == Scan::Done && self.error.is_none()
    }

    /// Expects a fresh stream header next (RFC 6120 §4.3.3, after TLS or
    /// SASL negotiation). Bytes already buffered are kept and framed as
    /// part of the new stream.
    pub fn restart(&mut self) {
        self.pos = 0;
        self.scan = Scan::Prolog;
        self.depth = 0;
        self.quote = 0;
        self.prev = 0;
        self.header_seen = false;
        self.decl_allowed = true;
        self.stream_qname.clear();
        self.error = None;
    }

    /// Removes and returns every buffered byte not yet framed, e.g. bytes
    /// that follow `<starttls/>` and belong to the TLS layer.
    pub fn take_buffered(&mut self) -> BytesMut {
        self.pos = 0;
        self.buf.split()
    }

    /// Returns the next complete frame, `Ok(None)` when more bytes are
    /// needed, or the error that ends the stream. After an error every
    /// later call returns the same error.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, XmlError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match self.scan_frame() {
            Ok(f) => Ok(f),
            Err(e) => {
                self.scan = Scan::Done;
                self.buf.clear();
                self.pos = 0;
                self.error = Some(e.clone());
                Err(e)
            }
        }
    }

    fn scan_frame(&mut self) -> Result<Option<Frame>, XmlError> {
        while self.pos < self.buf.len() {
            let b = self.buf[self.pos];
            match self.scan {
                Scan::Done => {
                    self.buf.clear();
                    self.pos = 0;
                    return Ok(None);
                }
                Scan::Prolog | Scan::Content if self.depth == 0 => {
                    if is_ws(b) {
                        // Whitespace between top-level elements (and
                        // keep-alives) carries nothing: drop it now.
                        let ws = self.buf[self.pos..]
                            .iter()
                            .take_while(|&&c| is_ws(c))
                            .count();
                        self.buf.advance(self.pos + ws);
                        self.pos = 0;
                        continue;
                    }
                    if b != b'<' {
                        return Err(XmlError::nwf(if self.header_seen {
                            "character data outside a stanza"
                        } else {
                            "character data before the stream header"
                        }));
                    }
                    // A frame starts here; keep it at offset 0.
                    self.buf.advance(self.pos);
                    self.pos = 1;
                    self.scan = Scan::TagOpen;
                }
                Scan::Prolog | Scan::Content => {
                    // Character data inside a stanza: jump to the next tag.
                    match memchr::memchr(b'<', &self.buf[self.pos..]) {
                        Some(off) => {
                            self.pos += off + 1;
                            self.scan = Scan::TagOpen;
                        }
                        None => self.pos = self.buf.len(),
                    }
                }
                Scan::TagOpen => match b {
                    b'/' => {
                        self.pos += 1;
                        self.scan = Scan::EndTag;
                    }
                    b'!' => {
                        if self.depth == 0 {
                            return Err(forbidden_bang(self.buf.get(self.pos + 1).copied()));
                        }
                        self.pos += 1;
                        self.scan = Scan::Bang(0);
                    }
                    b'?' => {
                        if self.header_seen || !self.decl_allowed || self.depth != 0 {
                            return Err(XmlError::RestrictedXml("processing instruction"));
                        }
                        self.pos += 1;
                        self.prev = 0;
                        self.scan = Scan::Declaration;
                    }
                    _ => {
                        self.quote = 0;
                        self.prev = b;
                        self.pos += 1;
                        self.scan = Scan::StartTag;
                    }
                },
                Scan::StartTag => {
                    // Jump between the bytes that matter inside a tag:
                    // quotes, `>`, and the forbidden `<`.
                    let rest = &self.buf[self.pos..];
                    if self.quote != 0 {
                        match memchr::memchr2(self.quote, b'<', rest) {
                            Some(off) if rest[off] == b'<' => {
                                return Err(XmlError::nwf("`<` in an attribute value"));
                            }
                            Some(off) => {
                                self.quote = 0;
                                self.pos += off + 1;
                            }
                            None => self.pos = self.buf.len(),
                        }
                    } else {
                        let end = memchr::memchr3(b'"', b'\'', b'>', rest);
                        let scanned = &rest[..end.unwrap_or(rest.len())];
                        if memchr::memchr(b'<', scanned).is_some() {
                            return Err(XmlError::nwf("`<` inside a tag"));
                        }
                        match end {
                            Some(off) if rest[off] == b'>' => {
                                let gt = self.pos + off;
                                // Same size rule as for every other byte:
                                // the bytes before `>` count.
                                self.pos = gt;
                                self.check_size()?;
                                let empty = gt
                                    .checked_sub(1)
                                    .and_then(|i| self.buf.get(i))
                                    .is_some_and(|&c| c == b'/');
                                self.pos = gt + 1;
                                if let Some(frame) = self.end_of_start_tag(empty)? {
                                    return Ok(Some(frame));
                                }
                                continue;
                            }
                            Some(off) => {
                                self.quote = rest[off];
                                self.pos += off + 1;
                            }
                            None => self.pos = self.buf.len(),
                        }
                    }
                }
                Scan::EndTag => match memchr::memchr(b'>', &self.buf[self.pos..]) {
                    Some(off) => {
                        self.pos += off + 1;
                        if let Some(frame) = self.end_of_end_tag()? {
                            return Ok(Some(frame));
                        }
                    }
                    None => self.pos = self.buf.len(),
                },
                Scan::Bang(n) => {
                    let n = usize::from(n);
                    if CDATA_OPEN.get(n) != Some(&b) {
                        return Err(forbidden_bang(self.buf.get(self.pos - n).copied()));
                    }
                    self.pos += 1;
                    self.scan = if n + 1 == CDATA_OPEN.len() {
                        Scan::CData(0)
                    } else {
                        Scan::Bang((n + 1) as u8)
                    };
                }
                Scan::CData(k) => {
                    self.pos += 1;
                    self.scan = match b {
                        b']' => Scan::CData((k + 1).min(2)),
                        b'>' if k == 2 => Scan::Content,
                        _ => Scan::CData(0),
                    };
                }
                Scan::Declaration => {
                    self.pos += 1;
                    if b == b'>' && self.prev == b'?' {
                        check_declaration(&self.buf[..self.pos])?;
                        self.buf.advance(self.pos);
                        self.pos = 0;
                        self.decl_allowed = false;
                        self.scan = Scan::Prolog;
                        continue;
                    }
                    self.prev = b;
                }
            }
            self.check_size()?;
        }
        self.check_size()?;
        Ok(None)
    }

    fn check_size(&self) -> Result<(), XmlError> {
        if !self.header_seen {
            if self.pos > self.limits.max_header_bytes {
                return Err(XmlError::LimitExceeded(Limit::HeaderBytes));
            }
        } else if self.pos > self.limits.max_stanza_bytes {
            return Err(XmlError::LimitExceeded(Limit::StanzaBytes));
        }
        Ok(())
    }

    fn end_of_start_tag(&mut self, empty: bool) -> Result<Option<Frame>, XmlError> {
        self.scan = Scan::Content;
        if !self.header_seen {
            if empty {
                return Err(XmlError::BadFormat("self-closed stream header".into()));
            }
            self.check_size()?;
            let raw = self.buf.split_to(self.pos);
            self.pos = 0;
            let header = parse_stream_header(&raw)?;
            self.stream_qname = header.qualified_name.clone();
            self.header_seen = true;
            self.decl_allowed = false;
            return Ok(Some(Frame::StreamOpen(header)));
        }
        if empty {
            if self.depth >= self.limits.max_depth {
                return Err(XmlError::LimitExceeded(Limit::Depth));
            }
            if self.depth == 0 {
                return Ok(Some(self.take_element()));
            }
        } else {
            self.depth += 1;
            if self.depth > self.limits.max_depth {
                return Err(XmlError::LimitExceeded(Limit::Depth));
            }
        }
        Ok(None)
    }

    fn end_of_end_tag(&mut self) -> Result<Option<Frame>, XmlError> {
        self.scan = Scan::Content;
        if self.depth == 0 {
            // A close tag at the top level can only close the stream.
            let name = self.buf[2..self.pos - 1].trim_ascii();
            if self.header_seen && name == self.stream_qname.as_bytes() {
                self.buf.clear();
                self.pos = 0;
                self.scan = Scan::Done;
                return Ok(Some(Frame::StreamClose));
            }
            return Err(XmlError::nwf("unexpected end tag at the top level"));
        }
        self.depth -= 1;
        if self.depth == 0 {
            return Ok(Some(self.take_element()));
        }
        Ok(None)
    }

    fn take_element(&mut self) -> Frame {
        let raw = self.buf.split_to(self.pos).freeze();
        self.pos = 0;
        Frame::Element(raw)
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn forbidden_bang(next: Option<u8>) -> XmlError {
    match next {
        Some(b'-') => XmlError::RestrictedXml("comment"),
        Some(b'D') => XmlError::RestrictedXml("document type declaration"),
        Some(b'E') => XmlError::RestrictedXml("entity declaration"),
        Some(b'[') => XmlError::nwf("CDATA section outside an element"),
        _ => XmlError::RestrictedXml("markup declaration"),
    }
}

/// Checks an XML declaration: only `<?xml ...?>` itself, and only UTF-8.
fn check_declaration(raw: &[u8]) -> Result<(), XmlError> {
    let inner = raw
        .strip_prefix(b"<?")
        .and_then(|r| r.strip_suffix(b"?>"))
        .ok_or_else(|| XmlError::nwf("broken XML declaration"))?;
    let target_end = inner.iter().position(|&b| is_ws(b)).unwrap_or(inner.len());
    if &inner[..target_end] != b"xml" {
        return Err(XmlError::RestrictedXml("processing instruction"));
    }
    let rest = std::str::from_utf8(&inner[target_end..])
        .map_err(|_| XmlError::nwf("invalid UTF-8 in the XML declaration"))?;
    if let Some(idx) = rest.find("encoding") {
        let value = rest[idx + "encoding".len()..]
            .trim_start()
            .strip_prefix('=')
            .map(str::trim_start)
            .and_then(|v| {
                let q = v.chars().next()?;
                if q != '"' && q != '\'' {
                    return None;
                }
                v[1..].split(q).next()
            })
            .ok_or_else(|| XmlError::nwf("broken encoding in the XML declaration"))?;
        if !value.eq_ignore_ascii_case("utf-8") {
            return Err(XmlError::UnsupportedEncoding(value.to_owned()));
        }
    }
    Ok(())
}
