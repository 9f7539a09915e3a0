//! SIP messages (RFC 3261 §7): requests and responses with their headers and
//! body, typed access to the headers, and builders.
//!
//! Parsing keeps every header line, in order, as a [`Header`]; the core
//! headers that every layer needs (Via, From, To, Call-ID, CSeq,
//! Max-Forwards, Content-Length) are typed and checked while parsing, the
//! others are typed when asked for.

pub mod header;
pub mod lex;
pub mod method;
pub(crate) mod parse;
mod serialize;
pub mod typed;
pub mod uri;

use bytes::Bytes;

use crate::error::ParseError;
use crate::text::Text;

pub use header::{Header, HeaderName};
pub use method::Method;
pub use typed::{CSeq, Contact, Event, MediaType, NameAddr, SubscriptionState, Via};
pub use uri::{SipUri, TelUri, Uri};

use typed::{check_call_id, check_date, parse_u32, single_token, token_list};

/// A Request-Line without the version (always SIP/2.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    /// The method.
    pub method: Method,
    /// The Request-URI.
    pub uri: Uri,
}

/// A Status-Line without the version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    /// Status code, 100..=699.
    pub code: u16,
    /// Reason phrase (may be empty).
    pub reason: Text,
}

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// A request.
    Request(RequestLine),
    /// A response.
    Response(StatusLine),
}

/// The typed core headers, derived from the header list.
#[derive(Debug, Clone, Default)]
struct Core {
    vias: Vec<Via>,
    from: Option<NameAddr>,
    to: Option<NameAddr>,
    call_id: Option<Text>,
    cseq: Option<CSeq>,
    max_forwards: Option<u32>,
    content_length: Option<u32>,
    /// A single-valued header that appeared more than once.
    duplicate: Option<HeaderName>,
    /// Content-Length headers disagreed (RFC 4475 §3.3.9).
    conflicting_length: bool,
}

/// A SIP request or response.
///
/// Headers are kept as written, in order; the core ones are also typed.
/// Equality compares the start line, the headers and the body.
#[derive(Debug, Clone)]
pub struct Message {
    start: StartLine,
    headers: Vec<Header>,
    pub(crate) body: Bytes,
    core: Box<Core>,
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.start == other.start && self.headers == other.headers && self.body == other.body
    }
}
impl Eq for Message {}

/// What is semantically wrong with a well-formed message, and the status a
/// server should answer a request with (RFC 3261 §8.2, RFC 4475 §3.3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// A mandatory header is missing (400).
    #[error("missing mandatory header {0}")]
    MissingHeader(&'static str),
    /// A single-valued header appears more than once (400).
    #[error("header {0} appears more than once")]
    DuplicateHeader(String),
    /// Content-Length headers disagree (400; close a stream connection).
    #[error("conflicting Content-Length headers")]
    ConflictingContentLength,
    /// The Request-URI scheme is not sip, sips or tel (416).
    #[error("unsupported URI scheme")]
    UnsupportedUriScheme,
}

impl Rejection {
    /// The status code to answer with.
    pub fn status_code(&self) -> u16 {
        match self {
            Rejection::UnsupportedUriScheme => 416,
            _ => 400,
        }
    }
}

impl Message {
    /// Assembles a message from its parts, typing and checking the core
    /// headers.
    pub fn from_parts(
        start: StartLine,
        headers: Vec<Header>,
        body: Bytes,
    ) -> Result<Message, ParseError> {
        let core = build_core(&start, &headers)?;
        Ok(Message {
            start,
            headers,
            body,
            core,
        })
    }

    /// A response with a status line only (no headers): the fallback when
    /// nothing better can be built.
    pub(crate) fn bare_response(code: u16, reason: &str) -> Message {
        Message {
            start: StartLine::Response(StatusLine {
                code,
                reason: Text::from(reason.to_owned()),
            }),
            headers: Vec::new(),
            body: Bytes::new(),
            core: Box::default(),
        }
    }

    /// Parses one message from a datagram with default [`Limits`](crate::Limits)
    /// (see [`parse_datagram`](crate::framing::parse_datagram)).
    pub fn parse(data: &[u8]) -> Result<Message, ParseError> {
        crate::framing::parse_datagram(data, &crate::Limits::DEFAULT)
    }

    /// Starts a request.
    pub fn request(method: Method, uri: impl Into<Uri>) -> MessageBuilder {
        MessageBuilder::new(StartLine::Request(RequestLine {
            method,
            uri: uri.into(),
        }))
    }

    /// Starts a response with a status code and reason phrase.
    pub fn response(code: u16, reason: &str) -> MessageBuilder {
        MessageBuilder::new(StartLine::Response(StatusLine {
            code,
            reason: Text::from(reason.to_owned()),
        }))
    }

    /// Starts a response to `request` that copies its Via, From, To, Call-ID
    /// and CSeq headers (RFC 3261 §8.2.6.2). Add the To tag with
    /// [`MessageBuilder::to_tag`] where the UAS needs one.
    pub fn response_to(request: &Message, code: u16, reason: &str) -> MessageBuilder {
        let mut b = Message::response(code, reason);
        for h in &request.headers {
            if matches!(
                h.name,
                HeaderName::Via
                    | HeaderName::From
                    | HeaderName::To
                    | HeaderName::CallId
                    | HeaderName::CSeq
            ) {
                b.headers.push(h.clone());
            }
        }
        b
    }

    /// Replaces the Request-URI of a request (a proxy retargeting it,
    /// RFC 3261 §16.6 step 2). Returns false for a response.
    pub fn set_request_uri(&mut self, uri: Uri) -> bool {
        match &mut self.start {
            StartLine::Request(r) => {
                r.uri = uri;
                true
            }
            StartLine::Response(_) => false,
        }
    }

    /// The start line.
    pub fn start_line(&self) -> &StartLine {
        &self.start
    }
    /// True for a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request(_))
    }
    /// The request line, if a request.
    pub fn request_line(&self) -> Option<&RequestLine> {
        match &self.start {
            StartLine::Request(r) => Some(r),
            StartLine::Response(_) => None,
        }
    }
    /// The method of a request.
    pub fn method(&self) -> Option<&Method> {
        self.request_line().map(|r| &r.method)
    }
    /// The Request-URI of a request.
    pub fn request_uri(&self) -> Option<&Uri> {
        self.request_line().map(|r| &r.uri)
    }
    /// The status line, if a response.
    pub fn status_line(&self) -> Option<&StatusLine> {
        match &self.start {
            StartLine::Response(s) => Some(s),
            StartLine::Request(_) => None,
        }
    }
    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        self.status_line().map(|s| s.code)
    }
    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
    /// Replaces the body and the Content-Length header.
    pub fn set_body(&mut self, body: Bytes) {
        self.body = body;
        let len = Text::from(self.body.len().to_string());
        self.headers.retain(|h| h.name != HeaderName::ContentLength);
        self.headers
            .push(Header::new(HeaderName::ContentLength, len));
        self.core.content_length = u32::try_from(self.body.len()).ok();
        self.core.conflicting_length = false;
    }

    /// All header lines, in order.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }
    /// The first header line called `name`.
    pub fn header(&self, name: impl Into<HeaderName>) -> Option<&Text> {
        let name = name.into();
        self.headers
            .iter()
            .find(|h| h.name == name)
            .map(|h| &h.value)
    }
    /// Every value of `name`: repeated lines and comma-separated values
    /// within a line, in order.
    pub fn header_values(&self, name: impl Into<HeaderName>) -> Vec<&str> {
        let name = name.into();
        self.headers
            .iter()
            .filter(|h| h.name == name)
            .flat_map(|h| lex::split_commas(&h.value))
            .filter(|v| !v.is_empty())
            .collect()
    }
    /// Appends a header line, re-typing the core headers. On error the
    /// message is left unchanged (as for every editing method).
    pub fn push_header(&mut self, header: Header) -> Result<(), ParseError> {
        self.edit(|h| h.push(header))
    }
    /// Inserts a header line at the top (as a proxy adds a Via).
    pub fn prepend_header(&mut self, header: Header) -> Result<(), ParseError> {
        self.edit(|h| h.insert(0, header))
    }
    /// Removes every line called `name`.
    pub fn remove_header(&mut self, name: impl Into<HeaderName>) -> Result<(), ParseError> {
        let name = name.into();
        self.edit(|h| h.retain(|h| h.name != name))
    }

    /// Applies `f` to the header list and re-types the core headers, undoing
    /// the change if they no longer parse.
    fn edit(&mut self, f: impl FnOnce(&mut Vec<Header>)) -> Result<(), ParseError> {
        let mut headers = self.headers.clone();
        f(&mut headers);
        self.core = build_core(&self.start, &headers)?;
        self.headers = headers;
        Ok(())
    }
    /// Replaces every line called `name` by one line with `value`, at the
    /// position of the first one (or at the end).
    pub fn set_header(
        &mut self,
        name: impl Into<HeaderName>,
        value: impl Into<Text>,
    ) -> Result<(), ParseError> {
        let name = name.into();
        let value = value.into();
        self.edit(
            |headers| match headers.iter().position(|h| h.name == name) {
                Some(i) => {
                    if let Some(h) = headers.get_mut(i) {
                        h.value = value;
                    }
                    let mut n = 0;
                    headers.retain(|h| {
                        let keep = h.name != name || n == 0;
                        if h.name == name {
                            n += 1;
                        }
                        keep
                    });
                }
                None => headers.push(Header { name, value }),
            },
        )
    }

    /// Replaces the topmost Via value (the first value of the first Via
    /// line), keeping the others.
    pub fn replace_top_via(&mut self, via: &Via) -> Result<(), ParseError> {
        let Some(h) = self.headers.iter_mut().find(|h| h.name == HeaderName::Via) else {
            return Err(ParseError::header("Via"));
        };
        let mut values: Vec<String> = lex::split_commas(&h.value).map(str::to_owned).collect();
        match values.first_mut() {
            Some(first) => *first = via.to_string(),
            None => values.push(via.to_string()),
        }
        let old = std::mem::replace(&mut h.value, Text::from(values.join(", ")));
        match build_core(&self.start, &self.headers) {
            Ok(core) => {
                self.core = core;
                Ok(())
            }
            Err(e) => {
                if let Some(h) = self.headers.iter_mut().find(|h| h.name == HeaderName::Via) {
                    h.value = old;
                }
                Err(e)
            }
        }
    }

    /// Every Via value, topmost first.
    pub fn vias(&self) -> &[Via] {
        &self.core.vias
    }
    /// The topmost Via.
    pub fn top_via(&self) -> Option<&Via> {
        self.core.vias.first()
    }
    /// From.
    pub fn from(&self) -> Option<&NameAddr> {
        self.core.from.as_ref()
    }
    /// To.
    pub fn to(&self) -> Option<&NameAddr> {
        self.core.to.as_ref()
    }
    /// Call-ID.
    pub fn call_id(&self) -> Option<&str> {
        self.core.call_id.as_deref()
    }
    /// CSeq.
    pub fn cseq(&self) -> Option<&CSeq> {
        self.core.cseq.as_ref()
    }
    /// Max-Forwards.
    pub fn max_forwards(&self) -> Option<u32> {
        self.core.max_forwards
    }
    /// Content-Length as written (the first one).
    pub fn content_length(&self) -> Option<u32> {
        self.core.content_length
    }
    pub(crate) fn has_conflicting_length(&self) -> bool {
        self.core.conflicting_length
    }

    fn base(&self, h: &Header) -> Text {
        h.value.clone()
    }

    /// Contact values, from every Contact line.
    pub fn contacts(&self) -> Result<Vec<Contact>, ParseError> {
        let mut out = Vec::new();
        for h in self
            .headers
            .iter()
            .filter(|h| h.name == HeaderName::Contact)
        {
            parse_contacts(&self.base(h), &h.value, &mut out)?;
        }
        Ok(out)
    }
    /// Route values.
    pub fn routes(&self) -> Result<Vec<NameAddr>, ParseError> {
        self.name_addr_list(HeaderName::Route, "Route")
    }
    /// Record-Route values.
    pub fn record_routes(&self) -> Result<Vec<NameAddr>, ParseError> {
        self.name_addr_list(HeaderName::RecordRoute, "Record-Route")
    }
    fn name_addr_list(&self, name: HeaderName, field: &str) -> Result<Vec<NameAddr>, ParseError> {
        let mut out = Vec::new();
        for h in self.headers.iter().filter(|h| h.name == name) {
            for v in lex::split_commas(&h.value) {
                out.push(NameAddr::parse_one(&h.value, v, field)?);
            }
        }
        Ok(out)
    }
    fn scalar(&self, name: HeaderName, field: &str) -> Result<Option<u32>, ParseError> {
        self.header(name)
            .map(|v| parse_u32(v).map_err(|_| ParseError::header(field)))
            .transpose()
    }
    /// Expires (delta-seconds).
    pub fn expires(&self) -> Result<Option<u32>, ParseError> {
        self.scalar(HeaderName::Expires, "Expires")
    }
    /// Min-Expires (delta-seconds).
    pub fn min_expires(&self) -> Result<Option<u32>, ParseError> {
        self.scalar(HeaderName::MinExpires, "Min-Expires")
    }
    /// Event (RFC 6665).
    pub fn event(&self) -> Result<Option<Event>, ParseError> {
        self.header(HeaderName::Event)
            .map(|v| Event::parse(v, v))
            .transpose()
    }
    /// Subscription-State (RFC 6665).
    pub fn subscription_state(&self) -> Result<Option<SubscriptionState>, ParseError> {
        self.header(HeaderName::SubscriptionState)
            .map(|v| SubscriptionState::parse(v, v))
            .transpose()
    }
    /// SIP-ETag (RFC 3903).
    pub fn sip_etag(&self) -> Result<Option<Text>, ParseError> {
        self.header(HeaderName::SipETag)
            .map(|v| single_token(v, v, "SIP-ETag"))
            .transpose()
    }
    /// SIP-If-Match (RFC 3903).
    pub fn sip_if_match(&self) -> Result<Option<Text>, ParseError> {
        self.header(HeaderName::SipIfMatch)
            .map(|v| single_token(v, v, "SIP-If-Match"))
            .transpose()
    }
    /// Content-Type.
    pub fn content_type(&self) -> Result<Option<MediaType>, ParseError> {
        self.header(HeaderName::ContentType)
            .map(|v| MediaType::parse(v, v))
            .transpose()
    }
    fn tokens(&self, name: HeaderName, field: &str) -> Result<Vec<Text>, ParseError> {
        let mut out = Vec::new();
        for h in self.headers.iter().filter(|h| h.name == name) {
            out.extend(token_list(&h.value, &h.value, field)?);
        }
        Ok(out)
    }
    /// Allow-Events package names.
    pub fn allow_events(&self) -> Result<Vec<Text>, ParseError> {
        self.tokens(HeaderName::AllowEvents, "Allow-Events")
    }
    /// Require option tags.
    pub fn require(&self) -> Result<Vec<Text>, ParseError> {
        self.tokens(HeaderName::Require, "Require")
    }
    /// Proxy-Require option tags.
    pub fn proxy_require(&self) -> Result<Vec<Text>, ParseError> {
        self.tokens(HeaderName::ProxyRequire, "Proxy-Require")
    }
    /// Supported option tags.
    pub fn supported(&self) -> Result<Vec<Text>, ParseError> {
        self.tokens(HeaderName::Supported, "Supported")
    }
    /// Allow methods.
    pub fn allow(&self) -> Result<Vec<Method>, ParseError> {
        Ok(self
            .tokens(HeaderName::Allow, "Allow")?
            .into_iter()
            .map(Method::from_text)
            .collect())
    }

    /// Option tags in Require that are not in `supported`: a UAS answers 420
    /// (Bad Extension) listing them in Unsupported (RFC 3261 §8.2.2.3).
    pub fn unsupported_requirements(&self, supported: &[&str]) -> Result<Vec<Text>, ParseError> {
        Ok(self
            .require()?
            .into_iter()
            .filter(|t| !supported.iter().any(|s| s.eq_ignore_ascii_case(t)))
            .collect())
    }

    /// Semantic checks on a well-formed request (RFC 3261 §8.1.1, §8.2.2,
    /// RFC 4475 §3.3): mandatory headers present once, Content-Length
    /// consistent, Request-URI scheme supported.
    pub fn check(&self) -> Result<(), Rejection> {
        if self.core.conflicting_length {
            return Err(Rejection::ConflictingContentLength);
        }
        if let Some(d) = &self.core.duplicate {
            return Err(Rejection::DuplicateHeader(d.as_str().to_owned()));
        }
        let missing = [
            (self.core.vias.is_empty(), "Via"),
            (self.core.from.is_none(), "From"),
            (self.core.to.is_none(), "To"),
            (self.core.call_id.is_none(), "Call-ID"),
            (self.core.cseq.is_none(), "CSeq"),
        ];
        if let Some((_, name)) = missing.iter().find(|(m, _)| *m) {
            return Err(Rejection::MissingHeader(name));
        }
        if let Some(uri) = self.request_uri()
            && matches!(uri, Uri::Other(_))
        {
            return Err(Rejection::UnsupportedUriScheme);
        }
        Ok(())
    }
}

fn parse_contacts(base: &Text, value: &str, out: &mut Vec<Contact>) -> Result<(), ParseError> {
    if value.trim() == "*" {
        out.push(Contact::Star);
        return Ok(());
    }
    for v in lex::split_commas(value) {
        out.push(Contact::Addr(NameAddr::parse_one(base, v, "Contact")?));
    }
    Ok(())
}

fn set_once<T>(slot: &mut Option<T>, v: T, name: &HeaderName, dup: &mut Option<HeaderName>) {
    if slot.is_none() {
        *slot = Some(v);
    } else if dup.is_none() {
        *dup = Some(name.clone());
    }
}

fn build_core(start: &StartLine, headers: &[Header]) -> Result<Box<Core>, ParseError> {
    let mut c = Box::<Core>::default();
    let is_register = matches!(start, StartLine::Request(r) if r.method == Method::Register);
    for h in headers {
        let v = &h.value;
        match h.name {
            HeaderName::Via => {
                for one in lex::split_commas(v) {
                    c.vias.push(Via::parse_one(v, one)?);
                }
            }
            HeaderName::From => {
                let a = NameAddr::parse_one(v, v, "From")?;
                set_once(&mut c.from, a, &h.name, &mut c.duplicate);
            }
            HeaderName::To => {
                let a = NameAddr::parse_one(v, v, "To")?;
                set_once(&mut c.to, a, &h.name, &mut c.duplicate);
            }
            HeaderName::CallId => {
                check_call_id(v)?;
                set_once(&mut c.call_id, v.clone(), &h.name, &mut c.duplicate);
            }
            HeaderName::CSeq => {
                let cs = CSeq::parse(v, v)?;
                set_once(&mut c.cseq, cs, &h.name, &mut c.duplicate);
            }
            HeaderName::MaxForwards => {
                let mf = parse_u32(v)
                    .ok()
                    .filter(|m| *m <= 255)
                    .ok_or_else(|| ParseError::header("Max-Forwards"))?;
                set_once(&mut c.max_forwards, mf, &h.name, &mut c.duplicate);
            }
            HeaderName::ContentLength => {
                let n = parse_u32(v).map_err(|_| ParseError::BadContentLength)?;
                match c.content_length {
                    Some(old) if old != n => c.conflicting_length = true,
                    Some(_) => {}
                    None => c.content_length = Some(n),
                }
            }
            // A registrar stores Contact bindings, so a REGISTER's Contact is
            // checked up front (RFC 4475 §3.1.2.13); elsewhere Contact is
            // typed when asked for.
            HeaderName::Contact if is_register => {
                let mut tmp = Vec::new();
                parse_contacts(v, v, &mut tmp)?;
            }
            HeaderName::Date => check_date(v)?,
            _ => {}
        }
    }
    if let (StartLine::Request(r), Some(cseq)) = (start, &c.cseq)
        && r.method != cseq.method
    {
        return Err(if r.method.is_known() {
            ParseError::CSeqMethodMismatch
        } else {
            ParseError::UnknownMethodMismatch
        });
    }
    Ok(c)
}

/// Builds a [`Message`] header by header. Typed setters print the value;
/// [`build`](MessageBuilder::build) adds Content-Length and checks the core
/// headers.
#[derive(Debug, Clone)]
pub struct MessageBuilder {
    start: StartLine,
    headers: Vec<Header>,
    body: Bytes,
}

impl MessageBuilder {
    fn new(start: StartLine) -> Self {
        MessageBuilder {
            start,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }
    /// Appends any header.
    pub fn header(mut self, name: impl Into<HeaderName>, value: impl Into<Text>) -> Self {
        self.headers.push(Header::new(name, value));
        self
    }
    fn typed(self, name: HeaderName, v: &impl std::fmt::Display) -> Self {
        self.header(name, Text::from(v.to_string()))
    }
    /// Appends a Via.
    pub fn via(self, via: &Via) -> Self {
        self.typed(HeaderName::Via, via)
    }
    /// Sets From.
    pub fn from(self, from: &NameAddr) -> Self {
        self.typed(HeaderName::From, from)
    }
    /// Sets To.
    pub fn to(self, to: &NameAddr) -> Self {
        self.typed(HeaderName::To, to)
    }
    /// Adds a tag to the To header already present (a UAS answering
    /// out of dialog, RFC 3261 §8.2.6.2).
    pub fn to_tag(mut self, tag: &str) -> Self {
        if let Some(h) = self.headers.iter_mut().find(|h| h.name == HeaderName::To)
            && let Ok(mut a) = NameAddr::parse_one(&h.value, &h.value, "To")
            && a.tag().is_none()
        {
            a.params
                .set(Text::from_static("tag"), Some(Text::from(tag.to_owned())));
            h.value = Text::from(a.to_string());
        }
        self
    }
    /// Sets Call-ID.
    pub fn call_id(self, id: &str) -> Self {
        self.header(HeaderName::CallId, Text::from(id.to_owned()))
    }
    /// Sets CSeq; for a request the method is the request's.
    pub fn cseq(self, seq: u32, method: Method) -> Self {
        self.typed(HeaderName::CSeq, &CSeq { seq, method })
    }
    /// Sets Max-Forwards.
    pub fn max_forwards(self, n: u8) -> Self {
        self.typed(HeaderName::MaxForwards, &n)
    }
    /// Appends a Contact.
    pub fn contact(self, c: &Contact) -> Self {
        self.typed(HeaderName::Contact, c)
    }
    /// Sets Expires.
    pub fn expires(self, secs: u32) -> Self {
        self.typed(HeaderName::Expires, &secs)
    }
    /// Sets Event.
    pub fn event(self, e: &Event) -> Self {
        self.typed(HeaderName::Event, e)
    }
    /// Sets Subscription-State.
    pub fn subscription_state(self, s: &SubscriptionState) -> Self {
        self.typed(HeaderName::SubscriptionState, s)
    }
    /// Sets the body and its Content-Type.
    pub fn body(mut self, content_type: &MediaType, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self.typed(HeaderName::ContentType, content_type)
    }
    /// Finishes: adds Content-Length (replacing any) and checks the core
    /// headers.
    pub fn build(mut self) -> Result<Message, ParseError> {
        if let StartLine::Request(r) = &self.start {
            // Typed URIs can be built with any text; make sure it prints back
            // as a valid Request-URI.
            Uri::parse(&r.uri.to_string()).map_err(|_| ParseError::BadRequestUri)?;
        }
        self.headers.retain(|h| h.name != HeaderName::ContentLength);
        self.headers.push(Header::new(
            HeaderName::ContentLength,
            Text::from(self.body.len().to_string()),
        ));
        Message::from_parts(self.start, self.headers, self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A REGISTER and a PUBLISH in the style of RFC 3261 §10.2 and RFC 3903
    // §4, with our own names and values.
    const REGISTER: &[u8] = b"REGISTER sip:registrar.example.org SIP/2.0\r\n\
Via: SIP/2.0/TCP ua.example.org:5060;branch=z9hG4bKr55\r\n\
Max-Forwards: 70\r\n\
To: Gina <sip:gina@example.org>\r\n\
From: Gina <sip:gina@example.org>;tag=72d1\r\n\
Call-ID: reg-3b1@ua.example.org\r\n\
CSeq: 1826 REGISTER\r\n\
Contact: <sip:gina@192.0.2.77>;q=0.7;expires=3600, \"Desk\" <sip:gina@desk.example.org>;q=1\r\n\
m: <tel:+1-555-0188>\r\n\
Supported: path, outbound\r\n\
k: gruu\r\n\
Allow: INVITE, ACK, SUBSCRIBE,NOTIFY\r\n\
Allow-Events: presence, dialog\r\n\
Require: path\r\n\
Record-Route: <sip:p1.example.org;lr>, <sip:p2.example.org;lr>\r\n\
Route: <sip:edge.example.org;lr>\r\n\
Min-Expires: 60\r\n\
Expires: 7200\r\n\
Content-Length: 0\r\n\r\n";

    #[test]
    fn lazily_typed_headers() {
        let m = Message::parse(REGISTER).unwrap();
        let c = m.contacts().unwrap();
        assert_eq!(c.len(), 3);
        let Contact::Addr(first) = &c[0] else {
            panic!()
        };
        assert_eq!((first.q(), first.expires()), (Some(0.7), Some(3600)));
        let Contact::Addr(second) = &c[1] else {
            panic!()
        };
        assert_eq!(second.display_name_unquoted().as_deref(), Some("Desk"));
        assert_eq!(second.q(), Some(1.0));
        let Contact::Addr(third) = &c[2] else {
            panic!()
        };
        assert_eq!(third.uri.scheme(), "tel");
        assert_eq!(m.supported().unwrap(), ["path", "outbound", "gruu"]);
        assert_eq!(
            m.allow().unwrap(),
            [
                Method::Invite,
                Method::Ack,
                Method::Subscribe,
                Method::Notify
            ]
        );
        assert_eq!(m.allow_events().unwrap(), ["presence", "dialog"]);
        assert_eq!(m.require().unwrap(), ["path"]);
        assert!(m.unsupported_requirements(&["path"]).unwrap().is_empty());
        assert_eq!(m.record_routes().unwrap().len(), 2);
        assert!(m.routes().unwrap()[0].uri.params().unwrap().contains("lr"));
        assert_eq!(m.min_expires().unwrap(), Some(60));
        assert_eq!(m.expires().unwrap(), Some(7200));
        assert_eq!(m.to().unwrap().display_name.as_deref(), Some("Gina"));
        assert!(m.check().is_ok());
    }

    #[test]
    fn contact_star_and_bad_lazy_values() {
        let wire = String::from_utf8(REGISTER.to_vec())
            .unwrap()
            .replace(
                "Contact: <sip:gina@192.0.2.77>;q=0.7;expires=3600, \"Desk\" <sip:gina@desk.example.org>;q=1\r\nm: <tel:+1-555-0188>\r\n",
                "Contact: *\r\n",
            )
            .replace("Expires: 7200", "Expires: 0");
        let m = Message::parse(wire.as_bytes()).unwrap();
        assert_eq!(m.contacts().unwrap(), [Contact::Star]);
        assert_eq!(m.expires().unwrap(), Some(0));
        // Lazily typed headers report their own errors on access.
        let wire = wire.replace("Expires: 0", "Expires: soon");
        let m = Message::parse(wire.as_bytes()).unwrap();
        assert_eq!(m.expires(), Err(ParseError::header("Expires")));
        // A REGISTER's Contact is checked while parsing.
        let bad = wire.replace("Contact: *", "Contact: sip:x@example.org?Subject=hi");
        assert_eq!(
            Message::parse(bad.as_bytes()).unwrap_err(),
            ParseError::header("Contact")
        );
    }

    #[test]
    fn publish_etags_and_editing() {
        let mut m = Message::request(Method::Publish, SipUri::new(Some("hal"), "example.com"))
            .via(&Via::new(
                "TCP",
                "pua.example.com",
                Some(5060),
                "z9hG4bKpub",
            ))
            .from(
                &NameAddr::new(SipUri::new(Some("hal"), "example.com"))
                    .with_param("tag", Some("h1")),
            )
            .to(&NameAddr::new(SipUri::new(Some("hal"), "example.com")))
            .call_id("pub-7@pua")
            .cseq(2, Method::Publish)
            .max_forwards(70)
            .event(&Event::new("presence"))
            .expires(1800)
            .header(HeaderName::SipIfMatch, "b4e9x")
            .body(
                &MediaType::new("application", "pidf+xml"),
                &b"<presence/>"[..],
            )
            .build()
            .unwrap();
        assert_eq!(m.sip_if_match().unwrap().as_deref(), Some("b4e9x"));
        assert_eq!(m.content_length(), Some(11));
        assert!(
            m.content_type()
                .unwrap()
                .unwrap()
                .is("application", "PIDF+XML")
        );
        m.set_body(Bytes::from_static(b"<presence></presence>"));
        assert_eq!(m.content_length(), Some(21));
        m.set_header(HeaderName::SipIfMatch, "c5f0y").unwrap();
        assert_eq!(m.header_values(HeaderName::SipIfMatch), ["c5f0y"]);
        m.remove_header(HeaderName::SipIfMatch).unwrap();
        assert_eq!(m.sip_if_match().unwrap(), None);
        m.prepend_header(Header::new(
            HeaderName::Via,
            "SIP/2.0/TCP proxy.example.com;branch=z9hG4bKprx",
        ))
        .unwrap();
        assert_eq!(m.top_via().unwrap().host, "proxy.example.com");
        assert_eq!(m.vias().len(), 2);
        assert!(
            m.push_header(Header::new(HeaderName::CSeq, "x PUBLISH"))
                .is_err()
        );
        let back = Message::parse(&m.to_bytes()).unwrap();
        assert_eq!(back.body(), m.body());
        let ok = Message::response_to(&back, 200, "OK")
            .header(HeaderName::SipETag, "d6g1z")
            .build()
            .unwrap();
        assert_eq!(ok.sip_etag().unwrap().as_deref(), Some("d6g1z"));
        assert_eq!(ok.cseq().unwrap().method, Method::Publish);
        assert_eq!(ok.vias().len(), 2);
    }

    #[test]
    fn builder_rejects_unprintable_uri_and_bad_core_values() {
        let mut u = SipUri::new(Some("ok"), "example.com");
        u.params.set("bad param", None);
        assert_eq!(
            Message::request(Method::Options, u).build().unwrap_err(),
            ParseError::BadRequestUri
        );
        let r = Message::request(Method::Options, SipUri::new(None, "example.com"))
            .header(HeaderName::MaxForwards, "256")
            .build();
        assert_eq!(r.unwrap_err(), ParseError::header("Max-Forwards"));
    }

    #[test]
    fn rejections_have_status_codes() {
        assert_eq!(Rejection::UnsupportedUriScheme.status_code(), 416);
        assert_eq!(Rejection::MissingHeader("To").status_code(), 400);
        assert_eq!(Rejection::ConflictingContentLength.status_code(), 400);
    }
}
