//! Parsing of the start line and header section (RFC 3261 §7.1, §7.2,
//! §7.3.1, §25.1): request and status lines, header lines with folding
//! undone, limits enforced line by line.

use std::sync::Arc;

use crate::error::ParseError;
use crate::limits::Limits;
use crate::message::header::{Header, HeaderName};
use crate::message::lex::{find_byte, is_token, trim_ws, trim_ws_end};
use crate::message::uri::{Uri, parse_uri};
use crate::message::{Method, RequestLine, StartLine, StatusLine};
use crate::text::Text;

/// Parses the head of a message: `head` is the start line and every header
/// line, each ending in CRLF, without the empty line that ends the section.
pub(crate) fn parse_head(
    head: &[u8],
    limits: &Limits,
) -> Result<(StartLine, Vec<Header>), ParseError> {
    let s = std::str::from_utf8(head).map_err(|_| ParseError::NotUtf8)?;
    let base = Text::from_shared(Arc::from(s));
    let s = base.as_str();
    let mut lines = Lines { rest: s };
    let first = lines.next().ok_or(ParseError::BadStartLine)??;
    if first.len() > limits.max_header_line {
        return Err(ParseError::HeaderLineTooLong);
    }
    let start = parse_start_line(&base, first)?;

    let mut headers: Vec<Header> = Vec::with_capacity(16);
    // A header whose value was folded is assembled here.
    let mut pending: Option<(HeaderName, &str, String)> = None;
    let mut current: Option<(&str, &str)> = None;
    for line in lines {
        let line = line?;
        if line.starts_with([' ', '\t']) {
            // Continuation (RFC 3261 §7.3.1): folding is equivalent to one SP.
            let cont = trim_ws(line);
            if let Some((name, value)) = current.take() {
                let mut v = String::with_capacity(value.len() + cont.len() + 1);
                v.push_str(value);
                pending = Some((HeaderName::parse_shared(&base, name), name, v));
            }
            let Some((_, _, v)) = pending.as_mut() else {
                return Err(ParseError::BadHeaderLine);
            };
            if !cont.is_empty() {
                if !v.is_empty() {
                    v.push(' ');
                }
                v.push_str(cont);
            }
            if v.len() > limits.max_header_line {
                return Err(ParseError::HeaderLineTooLong);
            }
            continue;
        }
        flush(&base, &mut headers, &mut current, &mut pending, limits)?;
        if line.len() > limits.max_header_line {
            return Err(ParseError::HeaderLineTooLong);
        }
        let colon = memchr::memchr(b':', line.as_bytes()).ok_or(ParseError::BadHeaderLine)?;
        let name = trim_ws_end(&line[..colon]);
        if !is_token(name) {
            return Err(ParseError::BadHeaderLine);
        }
        let value = trim_ws(&line[colon + 1..]);
        current = Some((name, value));
    }
    flush(&base, &mut headers, &mut current, &mut pending, limits)?;
    Ok((start, headers))
}

fn flush<'a>(
    base: &Text,
    headers: &mut Vec<Header>,
    current: &mut Option<(&'a str, &'a str)>,
    pending: &mut Option<(HeaderName, &'a str, String)>,
    limits: &Limits,
) -> Result<(), ParseError> {
    let h = if let Some((name, value)) = current.take() {
        Header {
            name: HeaderName::parse_shared(base, name),
            value: base.slice_ref(value),
        }
    } else if let Some((name, _, value)) = pending.take() {
        Header {
            name,
            value: Text::from(value),
        }
    } else {
        return Ok(());
    };
    if headers.len() >= limits.max_headers {
        return Err(ParseError::TooManyHeaders);
    }
    headers.push(h);
    Ok(())
}

/// Iterates over CRLF-terminated lines; a bare CR or LF inside a line is an
/// error.
struct Lines<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Lines<'a> {
    type Item = Result<&'a str, ParseError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let b = self.rest.as_bytes();
        // One scan for either octet: the first must be the CR of a CRLF.
        let Some(pos) = memchr::memchr2(b'\r', b'\n', b) else {
            // The last line may lack its CRLF when a datagram's header section
            // ends at the end of the datagram.
            let line = self.rest;
            self.rest = "";
            return Some(Ok(line));
        };
        if b.get(pos) != Some(&b'\r') || b.get(pos + 1) != Some(&b'\n') {
            self.rest = "";
            return Some(Err(ParseError::BadHeaderLine));
        }
        let line = &self.rest[..pos];
        self.rest = &self.rest[pos + 2..];
        Some(Ok(line))
    }
}

fn check_version(v: &str) -> Result<(), ParseError> {
    if v.eq_ignore_ascii_case("SIP/2.0") {
        return Ok(());
    }
    let other = v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
        && v[4..].split_once('.').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        });
    Err(if other {
        ParseError::UnsupportedVersion
    } else {
        ParseError::BadStartLine
    })
}

fn parse_start_line(base: &Text, line: &str) -> Result<StartLine, ParseError> {
    if line
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
    {
        let sp = find_byte(line, b' ').ok_or(ParseError::BadStartLine)?;
        let (version, rest) = (&line[..sp], &line[sp + 1..]);
        check_version(version)?;
        let sp = find_byte(rest, b' ').ok_or(ParseError::BadStatusCode)?;
        let (code, reason) = (&rest[..sp], &rest[sp + 1..]);
        if code.len() != 3 || !code.bytes().all(|c| c.is_ascii_digit()) {
            return Err(ParseError::BadStatusCode);
        }
        let code: u16 = code.parse().map_err(|_| ParseError::BadStatusCode)?;
        if !(100..=699).contains(&code) {
            return Err(ParseError::BadStatusCode);
        }
        return Ok(StartLine::Response(StatusLine {
            code,
            reason: base.slice_ref(reason),
        }));
    }
    let sp1 = find_byte(line, b' ').ok_or(ParseError::BadStartLine)?;
    let (method, rest) = (&line[..sp1], &line[sp1 + 1..]);
    let sp2 = find_byte(rest, b' ').ok_or(ParseError::BadStartLine)?;
    let (uri, version) = (&rest[..sp2], &rest[sp2 + 1..]);
    if version.contains(' ') {
        return Err(ParseError::BadStartLine);
    }
    if !is_token(method) {
        return Err(ParseError::BadStartLine);
    }
    check_version(version)?;
    let uri = parse_uri(base, uri).map_err(|_| ParseError::BadRequestUri)?;
    if let Uri::Sip(u) = &uri {
        // A Request-URI must not carry headers (RFC 3261 §19.1.1 table).
        if !u.headers.is_empty() {
            return Err(ParseError::BadRequestUri);
        }
    }
    Ok(StartLine::Request(RequestLine {
        method: Method::known(method).unwrap_or_else(|| Method::Extension(base.slice_ref(method))),
        uri,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(s: &str) -> Result<(StartLine, Vec<Header>), ParseError> {
        parse_head(s.as_bytes(), &Limits::default())
    }

    #[test]
    fn folding_and_names() {
        let (start, h) =
            head("NOTIFY sip:w@192.0.2.4 SIP/2.0\r\nSubject : one\r\n  two\r\n\tthree\r\nX-A:\r\n")
                .unwrap();
        assert!(matches!(start, StartLine::Request(ref r) if r.method == Method::Notify));
        assert_eq!(h[0].name, HeaderName::Subject);
        assert_eq!(h[0].value, "one two three");
        assert_eq!(h[1].value, "");
    }

    #[test]
    fn start_line_errors() {
        assert_eq!(
            head("OPTIONS  sip:a@b SIP/2.0\r\n").unwrap_err(),
            ParseError::BadStartLine
        );
        assert_eq!(
            head("OPTIONS sip:a@b SIP/2.0 \r\n").unwrap_err(),
            ParseError::BadStartLine
        );
        assert_eq!(
            head("OPTIONS sip:a@b SIP/3.1\r\n").unwrap_err(),
            ParseError::UnsupportedVersion
        );
        assert_eq!(
            head("SIP/2.0 1000 Big\r\n").unwrap_err(),
            ParseError::BadStatusCode
        );
        assert_eq!(
            head("SIP/2.0 099 Low\r\n").unwrap_err(),
            ParseError::BadStatusCode
        );
        assert_eq!(
            head("MESSAGE sip:a@b?x=y SIP/2.0\r\n").unwrap_err(),
            ParseError::BadRequestUri
        );
        assert_eq!(head("SIP/2.0 180 \r\n").unwrap().1.len(), 0);
        assert_eq!(
            head("OPTIONS sip:a@b SIP/2.0\r\n cont\r\n").unwrap_err(),
            ParseError::BadHeaderLine
        );
        assert_eq!(
            head("OPTIONS sip:a@b SIP/2.0\r\nNoColon\r\n").unwrap_err(),
            ParseError::BadHeaderLine
        );
        assert_eq!(
            head("OPTIONS sip:a@b SIP/2.0\nA: b\n").unwrap_err(),
            ParseError::BadHeaderLine
        );
    }

    #[test]
    fn header_limits() {
        let limits = Limits {
            max_headers: 2,
            max_header_line: 40,
            ..Limits::default()
        };
        let many = "OPTIONS sip:a@b SIP/2.0\r\nA: 1\r\nB: 2\r\nC: 3\r\n";
        assert_eq!(
            parse_head(many.as_bytes(), &limits).unwrap_err(),
            ParseError::TooManyHeaders
        );
        let long = format!("OPTIONS sip:a@b SIP/2.0\r\nA: {}\r\n", "x".repeat(50));
        assert_eq!(
            parse_head(long.as_bytes(), &limits).unwrap_err(),
            ParseError::HeaderLineTooLong
        );
    }
}
