//! Header names and raw header fields (RFC 3261 §7.3, §20): case-insensitive
//! names, compact forms, unknown headers kept verbatim.

use std::fmt;

use crate::text::Text;

macro_rules! header_names {
    ($( $var:ident => $canon:literal $(, $compact:literal)? ;)*) => {
        /// A header field name. Known names are variants (matched
        /// case-insensitively, compact forms included); anything else is
        /// [`HeaderName::Other`], kept as written and compared
        /// case-insensitively.
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum HeaderName {
            $(
                #[doc = concat!("`", $canon, "`")]
                $var,
            )*
            /// An extension header, spelled as received.
            Other(Text),
        }

        impl HeaderName {
            /// The canonical (long) spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $( HeaderName::$var => $canon, )*
                    HeaderName::Other(t) => t,
                }
            }

            /// Looks a name up, compact forms included; unknown names become
            /// `Other` holding a copy of `name`.
            pub fn from_name(name: &str) -> HeaderName {
                Self::known(name).unwrap_or_else(|| HeaderName::Other(Text::from(name.to_owned())))
            }

            pub(crate) fn parse_shared(base: &Text, name: &str) -> HeaderName {
                Self::known(name).unwrap_or_else(|| HeaderName::Other(base.slice_ref(name)))
            }

            fn known(name: &str) -> Option<HeaderName> {
                $(
                    if (name.len() == $canon.len() && name.eq_ignore_ascii_case($canon))
                        $(|| (name.len() == 1 && name.eq_ignore_ascii_case($compact)))? {
                        return Some(HeaderName::$var);
                    }
                )*
                None
            }

            /// The compact form (RFC 3261 §7.3.3), if the name has one.
            pub fn compact(&self) -> Option<&'static str> {
                match self {
                    $( $( HeaderName::$var => Some($compact), )? )*
                    _ => None,
                }
            }
        }
    };
}

header_names! {
    Via => "Via", "v";
    From => "From", "f";
    To => "To", "t";
    CallId => "Call-ID", "i";
    CSeq => "CSeq";
    Contact => "Contact", "m";
    MaxForwards => "Max-Forwards";
    ContentLength => "Content-Length", "l";
    ContentType => "Content-Type", "c";
    Expires => "Expires";
    MinExpires => "Min-Expires";
    Event => "Event", "o";
    AllowEvents => "Allow-Events", "u";
    SubscriptionState => "Subscription-State";
    SipETag => "SIP-ETag";
    SipIfMatch => "SIP-If-Match";
    Route => "Route";
    RecordRoute => "Record-Route";
    Require => "Require";
    ProxyRequire => "Proxy-Require";
    Supported => "Supported", "k";
    Unsupported => "Unsupported";
    Allow => "Allow";
    Accept => "Accept";
    Subject => "Subject", "s";
    ContentEncoding => "Content-Encoding", "e";
    Date => "Date";
    ReferTo => "Refer-To", "r";
}

impl PartialEq for HeaderName {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (HeaderName::Other(a), HeaderName::Other(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}
impl Eq for HeaderName {}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for HeaderName {
    fn from(s: &str) -> Self {
        HeaderName::from_name(s)
    }
}

/// One header field line: its name and its value as text (folding undone,
/// surrounding whitespace trimmed). A line with several comma-separated
/// values stays one `Header`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field name.
    pub name: HeaderName,
    /// The field value.
    pub value: Text,
}

impl Header {
    /// A header from a name and a value.
    pub fn new(name: impl Into<HeaderName>, value: impl Into<Text>) -> Header {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_with_compact_forms() {
        assert_eq!(HeaderName::from_name("v"), HeaderName::Via);
        assert_eq!(HeaderName::from_name("cALL-id"), HeaderName::CallId);
        assert_eq!(HeaderName::from_name("O"), HeaderName::Event);
        assert_eq!(HeaderName::SipETag.as_str(), "SIP-ETag");
        assert_eq!(
            HeaderName::from_name("X-Thing"),
            HeaderName::from_name("x-thing")
        );
        assert_ne!(HeaderName::from_name("C%6Fntact"), HeaderName::Contact);
        assert_eq!(HeaderName::Contact.compact(), Some("m"));
    }
}
