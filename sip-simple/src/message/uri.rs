//! SIP, SIPS and TEL URIs (RFC 3261 §19.1, §25.1; RFC 3966) with
//! parameters, headers and `%HEX` escapes, plus any other absolute URI kept
//! as opaque text. IPv6 references follow RFC 5118 (the three-colon form of
//! §4.10 is tolerated).

use std::fmt;

use crate::error::ParseError;
use crate::message::lex::{Param, Params, find_byte, span, unescape};
use crate::text::Text;

/// A URI as found in a Request-URI or a name-addr.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Uri {
    /// `sip:` or `sips:` URI.
    Sip(SipUri),
    /// `tel:` URI (RFC 3966).
    Tel(TelUri),
    /// Any other absolute URI, kept verbatim (`scheme:rest`).
    Other(Text),
}

/// A `sip:`/`sips:` URI. Parts keep their `%HEX` escapes; use
/// [`unescape`](crate::unescape()) to decode one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SipUri {
    /// `true` for `sips:`.
    pub secure: bool,
    /// User part, escaped as written.
    pub user: Option<Text>,
    /// Password, escaped as written.
    pub password: Option<Text>,
    /// Host: a hostname, an IPv4 address or a bracketed IPv6 reference.
    pub host: Text,
    /// Port, if given.
    pub port: Option<u16>,
    /// URI parameters (`;transport=tcp;lr`).
    pub params: Params,
    /// URI headers (`?Subject=x&Route=...`), escaped as written.
    pub headers: Vec<(Text, Text)>,
}

/// A `tel:` URI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TelUri {
    /// The telephone number, as written.
    pub number: Text,
    /// Parameters such as `phone-context`.
    pub params: Params,
}

impl SipUri {
    /// A `sip:` URI with the given user and host and nothing else.
    pub fn new(user: Option<&str>, host: &str) -> SipUri {
        SipUri {
            secure: false,
            user: user.map(|u| Text::from(u.to_owned())),
            password: None,
            host: Text::from(host.to_owned()),
            port: None,
            params: Params::new(),
            headers: Vec::new(),
        }
    }

    /// The user part with escapes decoded once.
    pub fn user_unescaped(&self) -> Option<Vec<u8>> {
        self.user.as_deref().map(unescape)
    }

    /// True if the host is a bracketed IPv6 reference.
    pub fn is_ipv6(&self) -> bool {
        self.host.starts_with('[')
    }
}

impl Uri {
    /// Parses a complete URI (the whole string must be the URI).
    pub fn parse(s: &str) -> Result<Uri, ParseError> {
        parse_uri(&Text::from(s.to_owned()), s)
    }

    /// The scheme, lower-case for the known ones.
    pub fn scheme(&self) -> &str {
        match self {
            Uri::Sip(u) if u.secure => "sips",
            Uri::Sip(_) => "sip",
            Uri::Tel(_) => "tel",
            Uri::Other(t) => t.split(':').next().unwrap_or(""),
        }
    }

    /// The SIP/SIPS URI, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// The URI parameters (empty for opaque URIs).
    pub fn params(&self) -> Option<&Params> {
        match self {
            Uri::Sip(u) => Some(&u.params),
            Uri::Tel(t) => Some(&t.params),
            Uri::Other(_) => None,
        }
    }
}

impl From<SipUri> for Uri {
    fn from(u: SipUri) -> Uri {
        Uri::Sip(u)
    }
}

fn bad() -> ParseError {
    ParseError::header("URI")
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        )
}

/// Checks `s` only has `unreserved`, valid `%HEX` escapes, or bytes in
/// `extra`; non-empty unless `allow_empty`.
fn check_chars(s: &str, extra: &[u8], allow_empty: bool) -> Result<(), ParseError> {
    if s.is_empty() && !allow_empty {
        return Err(bad());
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            let ok = b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return Err(bad());
            }
            i += 3;
            continue;
        }
        if !(is_unreserved(c) || extra.contains(&c)) {
            return Err(bad());
        }
        i += 1;
    }
    Ok(())
}

const USER_EXTRA: &[u8] = b"&=+$,;?/";
const PASSWORD_EXTRA: &[u8] = b"&=+$,";
const PARAM_EXTRA: &[u8] = b"[]/:&+$";
const HEADER_EXTRA: &[u8] = b"[]/?:+$";

/// Parses a whole URI out of `s`, sharing text with `base`.
pub(crate) fn parse_uri(base: &Text, s: &str) -> Result<Uri, ParseError> {
    let colon = find_byte(s, b':').ok_or_else(bad)?;
    let scheme = &s[..colon];
    let rest = &s[colon + 1..];
    let first = scheme.as_bytes().first().copied().ok_or_else(bad)?;
    if !first.is_ascii_alphabetic()
        || !scheme
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        return Err(bad());
    }
    if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
        parse_sip(base, scheme.len() == 4, rest).map(Uri::Sip)
    } else if scheme.eq_ignore_ascii_case("tel") {
        parse_tel(base, rest).map(Uri::Tel)
    } else {
        // absoluteURI: any visible character except those that delimit it.
        if rest.is_empty()
            || !rest
                .bytes()
                .all(|c| c.is_ascii_graphic() && !matches!(c, b'<' | b'>' | b'"'))
        {
            return Err(bad());
        }
        Ok(Uri::Other(base.slice_ref(s)))
    }
}

fn parse_sip(base: &Text, secure: bool, s: &str) -> Result<SipUri, ParseError> {
    let (userinfo, hostpart) = match find_byte(s, b'@') {
        Some(at) => (Some(&s[..at]), &s[at + 1..]),
        None => (None, s),
    };
    let (user, password) = match userinfo {
        Some(ui) => {
            let (u, p) = match find_byte(ui, b':') {
                Some(c) => (&ui[..c], Some(&ui[c + 1..])),
                None => (ui, None),
            };
            check_chars(u, USER_EXTRA, false)?;
            if let Some(p) = p {
                check_chars(p, PASSWORD_EXTRA, true)?;
            }
            (Some(base.slice_ref(u)), p.map(|p| base.slice_ref(p)))
        }
        None => (None, None),
    };
    let (host, rest) = parse_host(hostpart)?;
    let (port, mut rest) = match rest.strip_prefix(':') {
        Some(r) => {
            let end = span(r, |c| c.is_ascii_digit());
            let port: u16 = r[..end].parse().map_err(|_| bad())?;
            (Some(port), &r[end..])
        }
        None => (None, rest),
    };
    let mut params = Params::new();
    while let Some(r) = rest.strip_prefix(';') {
        let end = crate::message::lex::find_any(r, b"?;").unwrap_or(r.len());
        let item = &r[..end];
        let (n, v) = match find_byte(item, b'=') {
            Some(eq) => (&item[..eq], Some(&item[eq + 1..])),
            None => (item, None),
        };
        check_chars(n, PARAM_EXTRA, false)?;
        if let Some(v) = v {
            check_chars(v, PARAM_EXTRA, false)?;
        }
        params.0.push(Param {
            name: base.slice_common(n),
            value: v.map(|v| base.slice_common(v)),
        });
        rest = &r[end..];
    }
    let mut headers = Vec::new();
    if let Some(r) = rest.strip_prefix('?') {
        for h in r.split('&') {
            let eq = find_byte(h, b'=').ok_or_else(bad)?;
            let (n, v) = (&h[..eq], &h[eq + 1..]);
            check_chars(n, HEADER_EXTRA, false)?;
            check_chars(v, HEADER_EXTRA, true)?;
            headers.push((base.slice_ref(n), base.slice_ref(v)));
        }
        rest = "";
    }
    if !rest.is_empty() {
        return Err(bad());
    }
    Ok(SipUri {
        secure,
        user,
        password,
        host: base.slice_ref(host),
        port,
        params,
        headers,
    })
}

/// Splits a host (hostname, IPv4 or `[IPv6]`) off the front of `s`.
pub(crate) fn parse_host(s: &str) -> Result<(&str, &str), ParseError> {
    if s.starts_with('[') {
        let close = find_byte(s, b']').ok_or_else(bad)?;
        let inner = &s[1..close];
        // Lenient IPv6reference: hex digits, colons and dots (RFC 5118 §4.10
        // asks receivers to accept the extra colon).
        if inner.len() < 2
            || !inner.contains(':')
            || !inner
                .bytes()
                .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        {
            return Err(bad());
        }
        Ok((&s[..=close], &s[close + 1..]))
    } else {
        let end = span(s, |c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.');
        let host = &s[..end];
        if host.is_empty() || host.starts_with(['-', '.']) {
            return Err(bad());
        }
        Ok((host, &s[end..]))
    }
}

fn parse_tel(base: &Text, s: &str) -> Result<TelUri, ParseError> {
    let end = s.find(';').unwrap_or(s.len());
    let number = &s[..end];
    if number.is_empty()
        || !number
            .bytes()
            .all(|c| c.is_ascii_hexdigit() || b"*#+-.()pPwW".contains(&c))
    {
        return Err(bad());
    }
    let mut params = Params::new();
    for item in s[end..].split(';').skip(1) {
        let (n, v) = match item.find('=') {
            Some(eq) => (&item[..eq], Some(&item[eq + 1..])),
            None => (item, None),
        };
        check_chars(n, PARAM_EXTRA, false)?;
        if let Some(v) = v {
            check_chars(v, PARAM_EXTRA, false)?;
        }
        params.0.push(Param {
            name: base.slice_ref(n),
            value: v.map(|v| base.slice_ref(v)),
        });
    }
    Ok(TelUri {
        number: base.slice_ref(number),
        params,
    })
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(u) = &self.user {
            f.write_str(u)?;
            if let Some(p) = &self.password {
                write!(f, ":{p}")?;
            }
            f.write_str("@")?;
        }
        f.write_str(&self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)?;
        for (i, (n, v)) in self.headers.iter().enumerate() {
            f.write_str(if i == 0 { "?" } else { "&" })?;
            write!(f, "{n}={v}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(u) => u.fmt(f),
            Uri::Tel(t) => write!(f, "tel:{}{}", t.number, t.params),
            Uri::Other(t) => f.write_str(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_uri_parts() {
        let u =
            Uri::parse("sips:alice:secret@atlanta.example.com:5061;transport=tcp;lr?subject=hi&x=")
                .unwrap();
        let s = u.as_sip().unwrap();
        assert!(s.secure);
        assert_eq!(s.user.as_deref(), Some("alice"));
        assert_eq!(s.password.as_deref(), Some("secret"));
        assert_eq!(s.host, "atlanta.example.com");
        assert_eq!(s.port, Some(5061));
        assert_eq!(s.params.value("transport"), Some("tcp"));
        assert!(s.params.contains("lr"));
        assert_eq!(s.headers.len(), 2);
        assert_eq!(Uri::parse(&u.to_string()).unwrap(), u);
    }

    #[test]
    fn user_with_semicolon_and_escaped_at() {
        let u = Uri::parse("sip:bob;par=b%40example.org@example.com").unwrap();
        let s = u.as_sip().unwrap();
        assert_eq!(s.user_unescaped().unwrap(), b"bob;par=b@example.org");
        assert_eq!(s.host, "example.com");
    }

    #[test]
    fn ipv6_hosts() {
        let u = Uri::parse("sip:carol@[2001:db8::7]:5070").unwrap();
        assert_eq!(u.as_sip().unwrap().host, "[2001:db8::7]");
        assert_eq!(u.as_sip().unwrap().port, Some(5070));
        assert!(Uri::parse("sip:carol@2001:db8::7").is_err());
        assert!(Uri::parse("sip:carol@[2001:db8:::192.0.2.9]").is_ok());
    }

    #[test]
    fn tel_and_other() {
        let t = Uri::parse("tel:+1-555-0100;phone-context=example.com").unwrap();
        assert_eq!(t.scheme(), "tel");
        assert_eq!(
            t.params().unwrap().value("phone-context"),
            Some("example.com")
        );
        let o = Uri::parse("urn:service:sos").unwrap();
        assert_eq!(o.scheme(), "urn");
        assert_eq!(o.to_string(), "urn:service:sos");
    }

    #[test]
    fn rejects_bad_uris() {
        for s in [
            "sip:a b@host",
            "sip:user@",
            "<sip:x@y>",
            "sip:x@y:99999",
            "sip:%zz@h",
            "sip:h;=x",
        ] {
            assert!(Uri::parse(s).is_err(), "{s}");
        }
    }
}
