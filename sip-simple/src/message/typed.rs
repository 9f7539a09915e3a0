//! Typed views of header values (RFC 3261 §20, RFC 6665 §8.2, RFC 3903
//! §11.3): Via, name-addr headers (From, To, Contact, Route, Record-Route),
//! CSeq, Event, Subscription-State, Content-Type and the scalar headers.
//! Every type parses from a header value and prints back to one.

use std::fmt;

use crate::error::ParseError;
use crate::message::Method;
use crate::message::lex::{self, Params, is_token_char, is_word, sep, sws, token};
use crate::message::uri::{Uri, parse_host, parse_uri};
use crate::text::Text;
use nom::Parser;

fn err(name: &str) -> ParseError {
    ParseError::header(name)
}

/// One Via value (RFC 3261 §20.42): sent-protocol, sent-by and parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Via {
    /// Protocol name, normally `SIP`.
    pub protocol: Text,
    /// Protocol version, normally `2.0`.
    pub version: Text,
    /// Transport (`UDP`, `TCP`, `TLS`, `SCTP` or an extension token).
    pub transport: Text,
    /// sent-by host.
    pub host: Text,
    /// sent-by port.
    pub port: Option<u16>,
    /// via-params (`branch`, `received`, `rport`, `maddr`, `ttl`, ...).
    pub params: Params,
}

/// The RFC 3261 magic cookie that starts a compliant branch (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

impl Via {
    /// A `SIP/2.0/<transport> host[:port];branch=<branch>` value.
    pub fn new(transport: &str, host: &str, port: Option<u16>, branch: &str) -> Via {
        let mut params = Params::new();
        params.set("branch", Some(Text::from(branch.to_owned())));
        Via {
            protocol: Text::from_static("SIP"),
            version: Text::from_static("2.0"),
            transport: Text::from(transport.to_owned()),
            host: Text::from(host.to_owned()),
            port,
            params,
        }
    }

    /// The branch parameter.
    pub fn branch(&self) -> Option<&str> {
        self.params.value("branch")
    }

    /// True if the branch starts with the magic cookie and carries an id after
    /// it (RFC 4475 §3.2.1: a bare cookie is treated as RFC 2543).
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch()
            .is_some_and(|b| b.len() > MAGIC_COOKIE.len() && b.starts_with(MAGIC_COOKIE))
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<&str> {
        self.params.value("received")
    }

    /// `host[:port]` as written.
    pub fn sent_by(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.to_string(),
        }
    }

    pub(crate) fn parse_one(base: &Text, s: &str) -> Result<Via, ParseError> {
        let e = || err("Via");
        // sent-protocol = protocol-name SLASH protocol-version SLASH transport
        let (r, (protocol, _, version, _, transport)) = (
            token,
            lex::separator('/'),
            token,
            lex::separator('/'),
            token,
        )
            .parse(sws(s))
            .map_err(|_| e())?;
        let r2 = sws(r);
        if r2.len() == r.len() {
            return Err(e());
        }
        let (host, r) = parse_host(r2).map_err(|_| e())?;
        let (r, port) = match sep(r, ':') {
            Some(p) => {
                let end = lex::span(p, |c| c.is_ascii_digit());
                let port: u16 = p[..end].parse().map_err(|_| e())?;
                (&p[end..], Some(port))
            }
            None => (r, None),
        };
        let (r, params) = lex::params(base, r).map_err(|_| e())?;
        if !sws(r).is_empty() {
            return Err(e());
        }
        Ok(Via {
            protocol: base.slice_common(protocol),
            version: base.slice_common(version),
            transport: base.slice_common(transport),
            host: base.slice_ref(host),
            port,
            params,
        })
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{} {}",
            self.protocol, self.version, self.transport, self.host
        )?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)
    }
}

/// A name-addr or addr-spec with header parameters: the value of From, To,
/// Contact, Route, Record-Route (RFC 3261 §20.10, §20.20, §20.39).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NameAddr {
    /// Display name as written (a quoted-string with its quotes, or tokens).
    pub display_name: Option<Text>,
    /// The URI.
    pub uri: Uri,
    /// Header parameters after the URI (`tag`, `q`, `expires`, ...).
    pub params: Params,
}

impl NameAddr {
    /// A value with just a URI.
    pub fn new(uri: impl Into<Uri>) -> NameAddr {
        NameAddr {
            display_name: None,
            uri: uri.into(),
            params: Params::new(),
        }
    }

    /// Sets a display name (quoted on output).
    pub fn with_display_name(mut self, name: &str) -> NameAddr {
        self.display_name = Some(Text::from(lex::quote(name)));
        self
    }

    /// Adds or replaces a parameter.
    pub fn with_param(mut self, name: &str, value: Option<&str>) -> NameAddr {
        self.params.set(
            Text::from(name.to_owned()),
            value.map(|v| Text::from(v.to_owned())),
        );
        self
    }

    /// The `tag` parameter (From/To, RFC 3261 §19.3).
    pub fn tag(&self) -> Option<&str> {
        self.params.value("tag")
    }

    /// The display name with quotes and escapes removed.
    pub fn display_name_unquoted(&self) -> Option<String> {
        self.display_name.as_deref().map(lex::unquote)
    }

    /// Contact `q` value (0.0 to 1.0), if present and valid.
    pub fn q(&self) -> Option<f32> {
        self.params
            .value("q")
            .and_then(|v| v.parse::<f32>().ok())
            .filter(|q| (0.0..=1.0).contains(q))
    }

    /// Contact `expires` parameter, if present and a valid delta-seconds.
    pub fn expires(&self) -> Option<u32> {
        self.params.value("expires").and_then(|v| parse_u32(v).ok())
    }

    /// Parses one value. `field` names the header for errors.
    pub(crate) fn parse_one(base: &Text, s: &str, field: &str) -> Result<NameAddr, ParseError> {
        let e = || err(field);
        let s = sws(s);
        let (display, r) = if s.starts_with('"') {
            let (r, q) = lex::quoted_string(s).map_err(|_| e())?;
            (Some(q), sws(r))
        } else {
            // *(token LWS) directly followed by '<' is a display name; RFC 4475
            // §3.1.1.6 asks to accept it without whitespace before '<'.
            let mut r = s;
            while let Ok((r2, _)) = token(r) {
                r = sws(r2);
            }
            if r.starts_with('<') && r.len() != s.len() {
                let d = s[..s.len() - r.len()].trim_end();
                (Some(d), r)
            } else {
                (None, s)
            }
        };
        let (uri, rest) = if let Some(inner) = r.strip_prefix('<') {
            let close = lex::find_byte(inner, b'>').ok_or_else(e)?;
            (
                parse_uri(base, &inner[..close]).map_err(|_| e())?,
                &inner[close + 1..],
            )
        } else {
            if display.is_some() {
                return Err(e());
            }
            // addr-spec form: a ';', ',' or '?' ends the URI (RFC 3261 §20).
            let end = lex::find_any(r, b";,? \t").unwrap_or(r.len());
            (parse_uri(base, &r[..end]).map_err(|_| e())?, &r[end..])
        };
        let (rest, params) = lex::params(base, rest).map_err(|_| e())?;
        if !sws(rest).is_empty() {
            return Err(e());
        }
        Ok(NameAddr {
            display_name: display.map(|d| base.slice_ref(d)),
            uri,
            params,
        })
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display_name {
            write!(f, "{d} ")?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

/// One Contact value: `*` or an address (RFC 3261 §20.10).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(clippy::large_enum_variant)]
pub enum Contact {
    /// `Contact: *` (REGISTER removing all bindings).
    Star,
    /// An address with its contact-params.
    Addr(NameAddr),
}

impl fmt::Display for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Contact::Star => f.write_str("*"),
            Contact::Addr(a) => a.fmt(f),
        }
    }
}

/// The CSeq header (RFC 3261 §20.16).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CSeq {
    /// Sequence number (at most 2^32 - 1).
    pub seq: u32,
    /// Method.
    pub method: Method,
}

impl CSeq {
    pub(crate) fn parse(base: &Text, s: &str) -> Result<CSeq, ParseError> {
        let e = || err("CSeq");
        let s = sws(s);
        let end = lex::span(s, |c| c.is_ascii_digit());
        let seq = parse_u32(&s[..end]).map_err(|_| e())?;
        let r = &s[end..];
        let m = sws(r);
        let gap = r.len() - m.len();
        let m = lex::trim_ws_end(m);
        if gap == 0 || !lex::is_token(m) {
            return Err(e());
        }
        Ok(CSeq {
            seq,
            method: Method::known(m).unwrap_or_else(|| Method::Extension(base.slice_ref(m))),
        })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// Parses `1*DIGIT` into a `u32`, rejecting overflow (RFC 4475 §3.1.2.4).
pub(crate) fn parse_u32(s: &str) -> Result<u32, ()> {
    let s = lex::trim_ws(s);
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(());
    }
    let digits = s.trim_start_matches('0');
    if digits.len() > 10 {
        return Err(());
    }
    if digits.is_empty() {
        return Ok(0);
    }
    digits.parse::<u32>().map_err(|_| ())
}

/// Validates a Call-ID: `word ["@" word]`.
pub(crate) fn check_call_id(s: &str) -> Result<(), ParseError> {
    let ok = match lex::find_byte(s, b'@') {
        Some(at) => {
            let (a, b) = (&s[..at], &s[at + 1..]);
            is_word(a) && is_word(b)
        }
        None => is_word(s),
    };
    if ok { Ok(()) } else { Err(err("Call-ID")) }
}

/// The Event header (RFC 6665 §8.2.1): package name and parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Event {
    /// Event package, e.g. `presence` (may carry `.template` parts).
    pub package: Text,
    /// Parameters such as `id`.
    pub params: Params,
}

impl Event {
    /// An event header value for `package` without parameters.
    pub fn new(package: &str) -> Event {
        Event {
            package: Text::from(package.to_owned()),
            params: Params::new(),
        }
    }
    /// The `id` parameter.
    pub fn id(&self) -> Option<&str> {
        self.params.value("id")
    }
    /// Adds an `id` parameter (builder style).
    pub fn with_id(mut self, id: &str) -> Event {
        self.params
            .set(Text::from_static("id"), Some(Text::from(id.to_owned())));
        self
    }
    pub(crate) fn parse(base: &Text, s: &str) -> Result<Event, ParseError> {
        let (pkg, params) = token_with_params(base, s).ok_or_else(|| err("Event"))?;
        Ok(Event {
            package: pkg,
            params,
        })
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.package, self.params)
    }
}

/// The Subscription-State header (RFC 6665 §8.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubscriptionState {
    /// `active`, `pending`, `terminated` or an extension.
    pub state: Text,
    /// Parameters: `expires`, `reason`, `retry-after`, ...
    pub params: Params,
}

impl SubscriptionState {
    /// The `expires` parameter.
    pub fn expires(&self) -> Option<u32> {
        self.params.value("expires").and_then(|v| parse_u32(v).ok())
    }
    /// The `reason` parameter.
    pub fn reason(&self) -> Option<&str> {
        self.params.value("reason")
    }
    /// The `retry-after` parameter.
    pub fn retry_after(&self) -> Option<u32> {
        self.params
            .value("retry-after")
            .and_then(|v| parse_u32(v).ok())
    }
    pub(crate) fn parse(base: &Text, s: &str) -> Result<SubscriptionState, ParseError> {
        let (state, params) =
            token_with_params(base, s).ok_or_else(|| err("Subscription-State"))?;
        Ok(SubscriptionState { state, params })
    }
}

impl fmt::Display for SubscriptionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.state, self.params)
    }
}

/// A media type: the Content-Type header (RFC 3261 §20.15).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaType {
    /// Top-level type, e.g. `application`.
    pub mtype: Text,
    /// Subtype, e.g. `pidf+xml`.
    pub subtype: Text,
    /// Parameters such as `charset`.
    pub params: Params,
}

impl MediaType {
    /// A media type without parameters.
    pub fn new(mtype: &str, subtype: &str) -> MediaType {
        MediaType {
            mtype: Text::from(mtype.to_owned()),
            subtype: Text::from(subtype.to_owned()),
            params: Params::new(),
        }
    }
    /// True if this is `mtype/subtype`, compared case-insensitively.
    pub fn is(&self, mtype: &str, subtype: &str) -> bool {
        self.mtype.eq_ignore_ascii_case(mtype) && self.subtype.eq_ignore_ascii_case(subtype)
    }
    pub(crate) fn parse(base: &Text, s: &str) -> Result<MediaType, ParseError> {
        let e = || err("Content-Type");
        let (r, mtype) = token(sws(s)).map_err(|_| e())?;
        let r = sep(r, '/').ok_or_else(e)?;
        let (r, subtype) = token(r).map_err(|_| e())?;
        let (r, params) = lex::params(base, r).map_err(|_| e())?;
        if !sws(r).is_empty() {
            return Err(e());
        }
        Ok(MediaType {
            mtype: base.slice_ref(mtype),
            subtype: base.slice_ref(subtype),
            params,
        })
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}{}", self.mtype, self.subtype, self.params)
    }
}

fn token_with_params(base: &Text, s: &str) -> Option<(Text, Params)> {
    let (r, t) = token(sws(s)).ok()?;
    let (r, params) = lex::params(base, r).ok()?;
    if !sws(r).is_empty() {
        return None;
    }
    Some((base.slice_ref(t), params))
}

/// Parses a comma-separated token list (Require, Supported, Allow,
/// Allow-Events, ...). Empty values are allowed for an empty header.
pub(crate) fn token_list(base: &Text, s: &str, field: &str) -> Result<Vec<Text>, ParseError> {
    if s.trim().is_empty() {
        return Ok(Vec::new());
    }
    lex::split_commas(s)
        .map(|t| {
            if !t.is_empty() && t.chars().all(is_token_char) {
                Ok(base.slice_ref(t))
            } else {
                Err(err(field))
            }
        })
        .collect()
}

/// Checks an RFC 1123 date in the only form SIP allows (§20.17): the zone
/// must be `GMT`.
pub(crate) fn check_date(s: &str) -> Result<(), ParseError> {
    let e = || err("Date");
    let (wkday, rest) = s.split_once(',').ok_or_else(e)?;
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if !DAYS.contains(&wkday.trim()) {
        return Err(e());
    }
    let parts: Vec<&str> = rest.split_whitespace().collect();
    let [day, month, year, time, zone] = parts.as_slice() else {
        return Err(e());
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|c| c.is_ascii_digit());
    let t: Vec<&str> = time.split(':').collect();
    if !digits(day, 2)
        || !MONTHS.contains(month)
        || !digits(year, 4)
        || t.len() != 3
        || !t.iter().all(|p| digits(p, 2))
        || *zone != "GMT"
    {
        return Err(e());
    }
    Ok(())
}

/// Checks that `s` is a single token (SIP-ETag, SIP-If-Match).
pub(crate) fn single_token(base: &Text, s: &str, field: &str) -> Result<Text, ParseError> {
    let t = lex::trim_ws(s);
    if lex::is_token(t) {
        Ok(base.slice_ref(t))
    } else {
        Err(err(field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &'static str) -> Text {
        Text::from_static(s)
    }

    #[test]
    fn via_with_spaces_and_params() {
        let s = t(
            " SIP / 2.0 / TCP  proxy.example.org:5070 ; branch = z9hG4bKab12 ;received=[2001:db8::3]",
        );
        let v = Via::parse_one(&s, &s).unwrap();
        assert_eq!(v.transport, "TCP");
        assert_eq!(v.host, "proxy.example.org");
        assert_eq!(v.port, Some(5070));
        assert_eq!(v.branch(), Some("z9hG4bKab12"));
        assert!(v.has_rfc3261_branch());
        assert_eq!(v.received(), Some("[2001:db8::3]"));
        let again = t("SIP/2.0/UDP h;branch=z9hG4bK");
        assert!(!Via::parse_one(&again, &again).unwrap().has_rfc3261_branch());
        let bad = t("SIP/2.0/UDP h;;");
        assert!(Via::parse_one(&bad, &bad).is_err());
    }

    #[test]
    fn name_addr_forms() {
        let s = t(r#""Mr. \"Q\"" <sip:q@lab.example.net>;tag=77"#);
        let a = NameAddr::parse_one(&s, &s, "From").unwrap();
        assert_eq!(a.display_name_unquoted().as_deref(), Some(r#"Mr. "Q""#));
        assert_eq!(a.tag(), Some("77"));
        let s = t("sip:plain@example.net;tag=1;expires=60");
        let a = NameAddr::parse_one(&s, &s, "To").unwrap();
        assert!(a.display_name.is_none());
        assert_eq!(a.expires(), Some(60));
        let s = t("Agent Smith<sip:smith@example.net>");
        let a = NameAddr::parse_one(&s, &s, "From").unwrap();
        assert_eq!(a.display_name.as_deref(), Some("Agent Smith"));
        for bad in [
            "Smith, Agent <sip:a@b>",
            "<sip:a@b",
            "< sip:a@b>",
            "\"open <sip:a@b>",
        ] {
            let s = Text::from(bad.to_owned());
            assert!(NameAddr::parse_one(&s, &s, "To").is_err(), "{bad}");
        }
    }

    #[test]
    fn cseq_and_scalars() {
        let s = t("0042  SUBSCRIBE");
        let c = CSeq::parse(&s, &s).unwrap();
        assert_eq!(c.seq, 42);
        assert_eq!(c.method, Method::Subscribe);
        let s = t("4294967296 OPTIONS");
        assert!(CSeq::parse(&s, &s).is_err());
        assert_eq!(parse_u32("4294967295"), Ok(u32::MAX));
        assert!(parse_u32("-1").is_err());
    }

    #[test]
    fn dates() {
        assert!(check_date("Sat, 13 Nov 2010 23:29:00 GMT").is_ok());
        assert!(check_date("Sat, 13 Nov 2010 23:29:00 PST").is_err());
    }

    #[test]
    fn event_state_and_media_type() {
        let s = t("presence;id=7");
        let e = Event::parse(&s, &s).unwrap();
        assert_eq!(e.package, "presence");
        assert_eq!(e.id(), Some("7"));
        let s = t("terminated;reason=timeout;retry-after=30");
        let st = SubscriptionState::parse(&s, &s).unwrap();
        assert_eq!(st.reason(), Some("timeout"));
        assert_eq!(st.retry_after(), Some(30));
        let s = t("application/pidf+xml;charset=utf-8");
        let m = MediaType::parse(&s, &s).unwrap();
        assert!(m.is("APPLICATION", "pidf+xml"));
        assert_eq!(m.to_string(), "application/pidf+xml;charset=utf-8");
    }
}
