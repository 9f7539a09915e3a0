//! SIP/SIMPLE as Sans-IO engines: message parsing and serialization
//! (RFC 3261), non-INVITE transactions, subscriptions (RFC 6665, 3856),
//! PUBLISH (RFC 3903), PIDF bodies and MESSAGE (RFC 3428).
//!
//! This part holds the message layer and the non-INVITE transaction layer:
//!
//! * [`Message`]: requests and responses parsed from bytes
//!   ([`Message::parse`], [`framing::parse_datagram`],
//!   [`framing::StreamFramer`]) or built ([`Message::request`],
//!   [`Message::response_to`]), serialized with [`Message::to_bytes`]. Every
//!   header line is kept in order; Via, From, To, Call-ID, CSeq,
//!   Max-Forwards and Content-Length are typed while parsing, the others on
//!   access ([`Message::contacts`], [`Message::event`], ...).
//! * [`Limits`]: every size a peer controls is bounded; a broken limit or a
//!   syntax error is a [`ParseError`] whose [`ParseError::status_code`] is
//!   the answer, and [`framing::error_response`] builds that answer from the
//!   raw request. Semantic problems of a well-formed request (missing or
//!   repeated headers, unsupported URI scheme) come from [`Message::check`].
//! * [`transaction`]: client and server non-INVITE transactions and a
//!   [`transaction::TransactionTable`] that routes messages to them. They
//!   are Sans-IO: time comes in as `Instant`, output is drained with
//!   `poll_output()`, branch ids come from a caller-supplied generator.
//!
//!
//! On top of it, the SIMPLE layer:
//!
//! * [`subscription`]: RFC 6665 notifier and subscriber dialog engines for
//!   `presence` (RFC 3856) and `presence.winfo` (RFC 3857), with the
//!   [`subscription::Authorizer`] hook over `presence_model::authz`.
//! * [`publish`]: the RFC 3903 event state compositor and publisher.
//! * [`pidf`]: PIDF (RFC 3863) with RPID (RFC 4480) and the data model
//!   (RFC 4479), parsed and written with quick-xml; [`winfo`]: RFC 3858
//!   watcher-information documents.
//! * [`message_im`]: pager-mode MESSAGE (RFC 3428).
//! * [`server`]: all of it wired into one registrar-less presence server
//!   engine that a socket loop drives.
//!
//! Tags, Call-IDs and entity tags come from a caller-supplied
//! [`subscription::IdGenerator`]; time is always passed in.
//!
//! ```
//! use sip_simple::{Message, Method, NameAddr, SipUri, Via, HeaderName};
//!
//! let wire = b"SUBSCRIBE sip:bob@example.org SIP/2.0\r\n\
//! Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n\
//! Max-Forwards: 70\r\n\
//! From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n\
//! t: <sip:bob@example.org>\r\n\
//! Call-ID: a84b4c76e66710@pc33.example.com\r\n\
//! CSeq: 314159 SUBSCRIBE\r\n\
//! Event: presence\r\n\
//! Expires: 600\r\n\
//! Content-Length: 0\r\n\r\n";
//! let req = Message::parse(wire).unwrap();
//! assert_eq!(req.method(), Some(&Method::Subscribe));
//! assert_eq!(req.from().unwrap().tag(), Some("1928301774"));
//! assert_eq!(req.event().unwrap().unwrap().package, "presence");
//! assert_eq!(req.expires().unwrap(), Some(600));
//!
//! // Answer it, and build a new request.
//! let ok = Message::response_to(&req, 200, "OK").to_tag("xyz").expires(600).build().unwrap();
//! assert_eq!(ok.to().unwrap().tag(), Some("xyz"));
//! assert_eq!(Message::parse(&ok.to_bytes()).unwrap(), ok);
//!
//! let notify = Message::request(Method::Notify, SipUri::new(Some("alice"), "pc33.example.com"))
//!     .via(&Via::new("UDP", "example.org", None, "z9hG4bK1"))
//!     .from(&NameAddr::new(SipUri::new(Some("bob"), "example.org")).with_param("tag", Some("xyz")))
//!     .to(&NameAddr::new(SipUri::new(Some("alice"), "example.com")).with_param("tag", Some("1928301774")))
//!     .call_id("a84b4c76e66710@pc33.example.com")
//!     .cseq(1, Method::Notify)
//!     .max_forwards(70)
//!     .header("Subscription-State", "active;expires=600")
//!     .header(HeaderName::Event, "presence")
//!     .build()
//!     .unwrap();
//! assert_eq!(notify.subscription_state().unwrap().unwrap().expires(), Some(600));
//! ```
#![deny(missing_docs)]

pub mod error;
pub mod framing;
pub mod limits;
pub mod message;
pub mod message_im;
pub mod pidf;
pub mod publish;
pub mod server;
pub mod subscription;
pub mod text;
pub mod transaction;
pub mod winfo;

pub use error::{ParseError, TransactionError};
pub use limits::Limits;
pub use message::lex::{Param, Params, quote, unescape, unquote};
pub use message::{
    CSeq, Contact, Event, Header, HeaderName, MediaType, Message, MessageBuilder, Method, NameAddr,
    Rejection, RequestLine, SipUri, StartLine, StatusLine, SubscriptionState, TelUri, Uri, Via,
};
pub use text::Text;
