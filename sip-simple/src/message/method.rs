//! SIP request methods (RFC 3261 §7.1, §27.4): the core ones, the SIMPLE
//! ones (SUBSCRIBE, NOTIFY, PUBLISH, MESSAGE) and extension tokens.

use std::fmt;

use crate::text::Text;

macro_rules! methods {
    ($( $var:ident => $s:literal ;)*) => {
        /// A request method. Method names are case-sensitive.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Method {
            $(
                #[doc = concat!("`", $s, "`")]
                $var,
            )*
            /// Any other method token.
            Extension(Text),
        }

        impl Method {
            /// The method name.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Method::$var => $s, )*
                    Method::Extension(t) => t,
                }
            }

            /// A known method for `s`, without allocating.
            pub(crate) fn known(s: &str) -> Option<Method> {
                match s {
                    $( $s => Some(Method::$var), )*
                    _ => None,
                }
            }

            pub(crate) fn from_text(t: Text) -> Method {
                match t.as_str() {
                    $( $s => Method::$var, )*
                    _ => Method::Extension(t),
                }
            }
        }
    };
}

methods! {
    Invite => "INVITE";
    Ack => "ACK";
    Bye => "BYE";
    Cancel => "CANCEL";
    Options => "OPTIONS";
    Register => "REGISTER";
    Subscribe => "SUBSCRIBE";
    Notify => "NOTIFY";
    Publish => "PUBLISH";
    Message => "MESSAGE";
    Info => "INFO";
    Prack => "PRACK";
    Update => "UPDATE";
    Refer => "REFER";
}

impl Method {
    /// Parses a method token; `None` if `s` is not a token.
    pub fn parse(s: &str) -> Option<Method> {
        crate::message::lex::is_token(s).then(|| Method::from_text(Text::from(s.to_owned())))
    }

    /// True for methods this crate knows (not [`Method::Extension`]).
    pub fn is_known(&self) -> bool {
        !matches!(self, Method::Extension(_))
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
