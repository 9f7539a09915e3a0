//! Bounds on everything a peer controls while a SIP message is framed and
//! parsed (RFC 3261 §18.3 leaves these to the implementation).

/// Size limits applied by the parser and the stream framer. Breaking one gives
/// a [`ParseError`](crate::ParseError) whose
/// [`status_code`](crate::ParseError::status_code) is the answer to send
/// (on a stream, close the connection after it: the framing is lost).
///
/// Over-long header sections are answered 513 (Message Too Large, RFC 3261
/// §21.5.13), not 494: 494 is "Security Agreement Required" (RFC 3329).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest whole message (start line, headers and body) in octets.
    /// Default 64 KiB. Breaking it answers 513 (Message Too Large).
    pub max_message_size: usize,
    /// Most header lines (after unfolding) in one message. Default 128.
    /// Breaking it answers 513.
    pub max_headers: usize,
    /// Longest single header line (after unfolding), and the longest start
    /// line. Default 8 KiB. Breaking it answers 513.
    pub max_header_line: usize,
    /// Largest body (Content-Length) accepted. Default 64 KiB.
    /// Breaking it answers 413 (Request Entity Too Large).
    pub max_body_size: usize,
}

impl Limits {
    /// The defaults documented on each field.
    pub const DEFAULT: Limits = Limits {
        max_message_size: 64 * 1024,
        max_headers: 128,
        max_header_line: 8 * 1024,
        max_body_size: 64 * 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
