//! The XEP-0198 elements (§3 enabling, §4 acks, §5 resumption, §6 error
//! handling) read from and written to [`Element`] trees.

use xmpp_core::ns;
use xmpp_core::stream_error::{StreamError, StreamErrorCondition};
use xmpp_core::xml::Element;

/// Longest session id (`id`, `previd`) accepted from a peer, in bytes.
pub const MAX_ID_LEN: usize = 256;
/// Longest `location` accepted from a peer, in bytes.
pub const MAX_LOCATION_LEN: usize = 1024;

/// Why an element could not be read as a stream-management element.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The element is not in the `urn:xmpp:sm:3` namespace.
    #[error("not a stream management element")]
    NotSm,
    /// An element of the namespace this crate does not know.
    #[error("unknown stream management element <{0}/>")]
    Unknown(String),
    /// A required attribute is missing.
    #[error("missing attribute '{0}'")]
    Missing(&'static str),
    /// A count is not a decimal number in 0..2^32.
    #[error("invalid count '{0}'")]
    BadCount(String),
    /// An id or location is longer than the documented limit.
    #[error("attribute '{0}' is too long")]
    TooLong(&'static str),
}

/// One XEP-0198 element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmElement {
    /// `<enable/>` (§3): the client asks for stream management.
    Enable {
        /// Whether the client wants resumption.
        resume: bool,
        /// The client's preferred resumption timeout, in seconds.
        max: Option<u32>,
    },
    /// `<enabled/>` (§3): the server agreed.
    Enabled {
        /// The session id for later resumption.
        id: Option<String>,
        /// Whether the session can be resumed.
        resume: bool,
        /// The resumption timeout the server will honour, in seconds.
        max: Option<u32>,
        /// Where to reconnect for resumption.
        location: Option<String>,
    },
    /// `<resume/>` (§5): resume the session `previd`; `h` counts the
    /// stanzas the client handled.
    Resume {
        /// The id from `<enabled/>`.
        previd: String,
        /// The client's handled count.
        h: u32,
    },
    /// `<resumed/>` (§5): the session is back; `h` counts the stanzas the
    /// server handled.
    Resumed {
        /// The resumed session's id.
        previd: String,
        /// The server's handled count.
        h: u32,
    },
    /// `<failed/>` (§3, §5): the request was refused.
    Failed {
        /// The sender's handled count, when known (XEP-0198 §5: it lets
        /// the client resend exactly what the server did not handle).
        h: Option<u32>,
        /// The stanza error condition, when given.
        condition: Option<String>,
    },
    /// `<r/>` (§4): please acknowledge.
    Request,
    /// `<a/>` (§4): `h` stanzas were handled.
    Ack {
        /// The handled count.
        h: u32,
    },
}

fn count(e: &Element, name: &'static str) -> Result<u32, WireError> {
    let v = e.attr(name).ok_or(WireError::Missing(name))?;
    opt_count(Some(v)).map(|c| c.unwrap_or_default())
}

fn opt_count(v: Option<&str>) -> Result<Option<u32>, WireError> {
    match v {
        None => Ok(None),
        Some(s) => {
            if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(WireError::BadCount(s.chars().take(16).collect()));
            }
            s.parse::<u32>()
                .map(Some)
                .map_err(|_| WireError::BadCount(s.to_owned()))
        }
    }
}

fn flag(e: &Element, name: &str) -> bool {
    matches!(e.attr(name), Some("true" | "1"))
}

fn bounded(v: Option<&str>, name: &'static str, limit: usize) -> Result<Option<String>, WireError> {
    match v {
        Some(s) if s.len() > limit => Err(WireError::TooLong(name)),
        other => Ok(other.map(str::to_owned)),
    }
}

impl SmElement {
    /// Reads `e`. Attribute values are bounded by [`MAX_ID_LEN`] and
    /// [`MAX_LOCATION_LEN`]; counts must be plain decimal numbers.
    pub fn parse(e: &Element) -> Result<Self, WireError> {
        if e.ns() != ns::SM {
            return Err(WireError::NotSm);
        }
        Ok(match e.name() {
            "enable" => SmElement::Enable {
                resume: flag(e, "resume"),
                max: opt_count(e.attr("max"))?,
            },
            "enabled" => SmElement::Enabled {
                id: bounded(e.attr("id"), "id", MAX_ID_LEN)?,
                resume: flag(e, "resume"),
                max: opt_count(e.attr("max"))?,
                location: bounded(e.attr("location"), "location", MAX_LOCATION_LEN)?,
            },
            "resume" | "resumed" => {
                let previd = bounded(e.attr("previd"), "previd", MAX_ID_LEN)?
                    .ok_or(WireError::Missing("previd"))?;
                let h = count(e, "h")?;
                if e.name() == "resume" {
                    SmElement::Resume { previd, h }
                } else {
                    SmElement::Resumed { previd, h }
                }
            }
            "failed" => SmElement::Failed {
                h: opt_count(e.attr("h"))?,
                condition: e
                    .children()
                    .find(|c| c.ns() == ns::STANZAS && c.name() != "text")
                    .map(|c| c.name().to_owned()),
            },
            "r" => SmElement::Request,
            "a" => SmElement::Ack { h: count(e, "h")? },
            other => return Err(WireError::Unknown(other.chars().take(64).collect())),
        })
    }

    /// The element to send.
    pub fn to_element(&self) -> Element {
        match self {
            SmElement::Enable { resume, max } => Element::new("enable", ns::SM)
                .with_opt_attr("resume", resume.then_some("true"))
                .with_opt_attr("max", max.map(|m| m.to_string())),
            SmElement::Enabled {
                id,
                resume,
                max,
                location,
            } => Element::new("enabled", ns::SM)
                .with_opt_attr("id", id.clone())
                .with_opt_attr("resume", resume.then_some("true"))
                .with_opt_attr("max", max.map(|m| m.to_string()))
                .with_opt_attr("location", location.clone()),
            SmElement::Resume { previd, h } => Element::new("resume", ns::SM)
                .with_attr("previd", previd.clone())
                .with_attr("h", h.to_string()),
            SmElement::Resumed { previd, h } => Element::new("resumed", ns::SM)
                .with_attr("previd", previd.clone())
                .with_attr("h", h.to_string()),
            SmElement::Failed { h, condition } => {
                let mut f =
                    Element::new("failed", ns::SM).with_opt_attr("h", h.map(|h| h.to_string()));
                if let Some(c) = condition {
                    f.append_child(Element::new(c.clone(), ns::STANZAS));
                }
                f
            }
            SmElement::Request => Element::new("r", ns::SM),
            SmElement::Ack { h } => Element::new("a", ns::SM).with_attr("h", h.to_string()),
        }
    }

    /// `<failed/>` with a stanza error condition and optional count.
    pub fn failed(condition: &str, h: Option<u32>) -> Self {
        SmElement::Failed {
            h,
            condition: Some(condition.to_owned()),
        }
    }
}

/// The stream error for an acknowledgement of more stanzas than were sent
/// (XEP-0198 §4): `undefined-condition` carrying
/// `<handled-count-too-high h=.. send-count=../>`.
pub fn handled_count_too_high(h: u32, sent: u32) -> StreamError {
    let mut err = StreamError::new(StreamErrorCondition::UndefinedCondition)
        .with_text("You acknowledged stanzas that I didn't send.");
    err.application = Some(
        Element::new("handled-count-too-high", ns::SM)
            .with_attr("h", h.to_string())
            .with_attr("send-count", sent.to_string()),
    );
    err
}

/// The stream error for a malformed stream-management element.
pub fn malformed(e: &WireError) -> StreamError {
    StreamError::new(StreamErrorCondition::InvalidXml).with_text(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(name: &str) -> Element {
        Element::new(name, ns::SM)
    }

    #[test]
    fn enable_with_resume_and_max() {
        let e = el("enable").with_attr("resume", "1").with_attr("max", "45");
        assert_eq!(
            SmElement::parse(&e),
            Ok(SmElement::Enable {
                resume: true,
                max: Some(45)
            })
        );
        let plain = el("enable");
        assert_eq!(
            SmElement::parse(&plain),
            Ok(SmElement::Enable {
                resume: false,
                max: None
            })
        );
    }

    #[test]
    fn round_trips() {
        let all = [
            SmElement::Enable {
                resume: true,
                max: Some(70),
            },
            SmElement::Enabled {
                id: Some("sess-7".into()),
                resume: true,
                max: Some(60),
                location: Some("[2001:db8::9]:5222".into()),
            },
            SmElement::Resume {
                previd: "sess-7".into(),
                h: u32::MAX,
            },
            SmElement::Resumed {
                previd: "sess-7".into(),
                h: 0,
            },
            SmElement::failed("item-not-found", Some(12)),
            SmElement::Failed {
                h: None,
                condition: None,
            },
            SmElement::Request,
            SmElement::Ack { h: 4_000_000_000 },
        ];
        for x in all {
            assert_eq!(SmElement::parse(&x.to_element()), Ok(x));
        }
    }

    #[test]
    fn counts_are_strict() {
        for bad in ["", "-1", "+3", "4294967296", "0x10", " 5", "99999999999999"] {
            let e = el("a").with_attr("h", bad);
            assert!(
                matches!(SmElement::parse(&e), Err(WireError::BadCount(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            SmElement::parse(&el("a").with_attr("h", "4294967295")),
            Ok(SmElement::Ack { h: u32::MAX })
        );
        assert_eq!(SmElement::parse(&el("a")), Err(WireError::Missing("h")));
        assert_eq!(
            SmElement::parse(&el("resume").with_attr("h", "1")),
            Err(WireError::Missing("previd"))
        );
    }

    #[test]
    fn ids_are_bounded() {
        let long = "k".repeat(MAX_ID_LEN + 1);
        let e = el("resume").with_attr("previd", long).with_attr("h", "0");
        assert_eq!(SmElement::parse(&e), Err(WireError::TooLong("previd")));
    }

    #[test]
    fn foreign_and_unknown() {
        assert_eq!(
            SmElement::parse(&Element::new("r", "urn:xmpp:sm:2")),
            Err(WireError::NotSm)
        );
        assert_eq!(
            SmElement::parse(&el("gimme")),
            Err(WireError::Unknown("gimme".into()))
        );
    }

    #[test]
    fn too_high_error_shape() {
        let err = handled_count_too_high(9, 4);
        let e = err.to_element();
        let app = e.get_child("handled-count-too-high", ns::SM).unwrap();
        assert_eq!(app.attr("h"), Some("9"));
        assert_eq!(app.attr("send-count"), Some("4"));
        assert!(e.has_child("undefined-condition", ns::STREAMS));
    }
}
