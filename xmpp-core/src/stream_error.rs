//! Stream errors (RFC 6120 §4.9): the conditions, and conversion to and
//! from the `<stream:error/>` element.

use crate::ns;
use crate::xml::Element;

macro_rules! conditions {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, )*) => {
        /// A defined stream error condition (RFC 6120 §4.9.3).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum StreamErrorCondition {
            $( $(#[$doc])* $variant, )*
        }

        impl StreamErrorCondition {
            /// The condition's element name.
            pub fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $name, )* }
            }

            /// The condition named `name`, if it is a defined one.
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $( $name => Some(Self::$variant), )* _ => None }
            }
        }
    };
}

conditions! {
    /// The entity sent XML that cannot be processed (§4.9.3.1).
    BadFormat => "bad-format",
    /// An unsupported or undeclared namespace prefix (§4.9.3.2).
    BadNamespacePrefix => "bad-namespace-prefix",
    /// A new stream for this entity replaced this one (§4.9.3.3).
    Conflict => "conflict",
    /// A peer is not responding (§4.9.3.4).
    ConnectionTimeout => "connection-timeout",
    /// The `to` domain is no longer served here (§4.9.3.5).
    HostGone => "host-gone",
    /// The `to` domain is not served here (§4.9.3.6).
    HostUnknown => "host-unknown",
    /// A stanza sent between two servers lacks a `to` or `from` (§4.9.3.7).
    ImproperAddressing => "improper-addressing",
    /// A misconfiguration or internal error (§4.9.3.8).
    InternalServerError => "internal-server-error",
    /// The `from` address is not authorized for this stream (§4.9.3.9).
    InvalidFrom => "invalid-from",
    /// The stream or content namespace is not supported (§4.9.3.10).
    InvalidNamespace => "invalid-namespace",
    /// Invalid XML for the protocol (§4.9.3.11).
    InvalidXml => "invalid-xml",
    /// Data was sent before the stream was authenticated (§4.9.3.12).
    NotAuthorized => "not-authorized",
    /// The data is not well-formed (§4.9.3.13).
    NotWellFormed => "not-well-formed",
    /// A local service policy was violated (§4.9.3.14).
    PolicyViolation => "policy-violation",
    /// A remote server could not be reached (§4.9.3.15).
    RemoteConnectionFailed => "remote-connection-failed",
    /// The server is closing streams for a reason such as
    /// reconfiguration (§4.9.3.16).
    Reset => "reset",
    /// The server lacks resources (§4.9.3.17).
    ResourceConstraint => "resource-constraint",
    /// Restricted XML: comments, PIs, DTDs, entity references (§4.9.3.18).
    RestrictedXml => "restricted-xml",
    /// Redirection to another host (§4.9.3.19).
    SeeOtherHost => "see-other-host",
    /// The server is being shut down (§4.9.3.20).
    SystemShutdown => "system-shutdown",
    /// A condition not in this list (§4.9.3.21).
    UndefinedCondition => "undefined-condition",
    /// The encoding is not supported (§4.9.3.22).
    UnsupportedEncoding => "unsupported-encoding",
    /// A mandatory-to-negotiate feature is not supported (§4.9.3.23).
    UnsupportedFeature => "unsupported-feature",
    /// A first-level child of the stream is not supported (§4.9.3.24).
    UnsupportedStanzaType => "unsupported-stanza-type",
    /// The stream version is not supported (§4.9.3.25).
    UnsupportedVersion => "unsupported-version",
}

/// A stream error: condition, optional descriptive text, optional
/// application-specific condition element (RFC 6120 §4.9.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamError {
    /// The defined condition.
    pub condition: StreamErrorCondition,
    /// Human-readable text, for debugging.
    pub text: Option<String>,
    /// For `see-other-host`: the host (and port) to reconnect to.
    pub other_host: Option<String>,
    /// An application-specific condition element.
    pub application: Option<Element>,
}

impl StreamError {
    /// A stream error with `condition` and nothing else.
    pub fn new(condition: StreamErrorCondition) -> Self {
        StreamError {
            condition,
            text: None,
            other_host: None,
            application: None,
        }
    }

    /// Adds descriptive text.
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// The `<stream:error/>` element.
    pub fn to_element(&self) -> Element {
        let mut cond = Element::new(self.condition.as_str(), ns::STREAMS);
        if let Some(h) = &self.other_host {
            cond.append_text(h);
        }
        let mut e = Element::new("error", ns::STREAM).with_child(cond);
        if let Some(t) = &self.text {
            e.append_child(
                Element::new("text", ns::STREAMS)
                    .with_attr("xml:lang", "en")
                    .with_text(t),
            );
        }
        if let Some(app) = &self.application {
            e.append_child(app.clone());
        }
        e
    }

    /// Reads a `<stream:error/>` element. A missing or unknown condition
    /// is read as `undefined-condition`, as a receiver must be lenient.
    pub fn from_element(e: &Element) -> Option<Self> {
        if !e.is("error", ns::STREAM) {
            return None;
        }
        let mut err = StreamError::new(StreamErrorCondition::UndefinedCondition);
        for c in e.children() {
            if c.ns() == ns::STREAMS {
                if c.name() == "text" {
                    err.text = Some(c.text());
                } else if let Some(cond) = StreamErrorCondition::from_name(c.name()) {
                    err.condition = cond;
                    if cond == StreamErrorCondition::SeeOtherHost {
                        err.other_host = Some(c.text());
                    }
                }
            } else if err.application.is_none() {
                err.application = Some(c.clone());
            }
        }
        Some(err)
    }
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.condition.as_str())?;
        if let Some(t) = &self.text {
            write!(f, ": {t}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_element() {
        let mut e = StreamError::new(StreamErrorCondition::SeeOtherHost).with_text("moved");
        e.other_host = Some("[2001:db8::1]:5222".into());
        let back = StreamError::from_element(&e.to_element()).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn every_condition_name_round_trips() {
        for name in [
            "bad-format",
            "bad-namespace-prefix",
            "conflict",
            "connection-timeout",
            "host-gone",
            "host-unknown",
            "improper-addressing",
            "internal-server-error",
            "invalid-from",
            "invalid-namespace",
            "invalid-xml",
            "not-authorized",
            "not-well-formed",
            "policy-violation",
            "remote-connection-failed",
            "reset",
            "resource-constraint",
            "restricted-xml",
            "see-other-host",
            "system-shutdown",
            "undefined-condition",
            "unsupported-encoding",
            "unsupported-feature",
            "unsupported-stanza-type",
            "unsupported-version",
        ] {
            assert_eq!(
                StreamErrorCondition::from_name(name).unwrap().as_str(),
                name
            );
        }
        assert!(StreamErrorCondition::from_name("made-up").is_none());
    }

    #[test]
    fn unknown_condition_reads_as_undefined() {
        let e = Element::new("error", ns::STREAM)
            .with_child(Element::new("brand-new", ns::STREAMS))
            .with_child(Element::new("app", "urn:example"));
        let err = StreamError::from_element(&e).unwrap();
        assert_eq!(err.condition, StreamErrorCondition::UndefinedCondition);
        assert_eq!(err.application.unwrap().name(), "app");
    }
}
