//! XML for XMPP streams: a byte-level [`Framer`], a quick-xml based
//! parser into [`Element`] trees, and a serializer into `BytesMut`
//! (RFC 6120 §4, §11).
//!
//! ```
//! use xmpp_core::xml::{Framer, Frame, Limits, parse_element};
//!
//! let mut framer = Framer::new(Limits::default());
//! framer.push(b"<stream:stream xmlns='jabber:client' \
//!     xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>");
//! framer.push(b"<message to='juliet@example.com'><body>hi</bo");
//! let Some(Frame::StreamOpen(header)) = framer.next_frame()? else { panic!() };
//! assert!(framer.next_frame()?.is_none(), "the message is incomplete");
//! framer.push(b"dy></message>");
//! let Some(Frame::Element(raw)) = framer.next_frame()? else { panic!() };
//! let msg = parse_element(&raw, &header.context, framer.limits())?;
//! assert!(msg.is("message", "jabber:client"));
//! assert_eq!(msg.get_child("body", "jabber:client").unwrap().text(), "hi");
//! # Ok::<(), xmpp_core::xml::XmlError>(())
//! ```

mod element;
mod error;
mod framer;
mod limits;
mod parse;
mod write;

pub use element::{Attribute, Element, Node, XML_NS};
pub use error::{Limit, XmlError};
pub use framer::{Frame, Framer};
pub use limits::Limits;
pub use parse::{NsContext, StreamHeader, parse_element, parse_stream_header};
pub use write::{WriteContext, escape_attr, escape_text, to_bytes, write_element};
