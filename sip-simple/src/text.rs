//! Cheap, shareable UTF-8 text used for every string a parsed SIP message
//! holds.
//!
//! A parsed message copies its header section once into a shared buffer;
//! every header value, URI part and parameter is then a [`Text`] pointing into
//! that buffer, so cloning or slicing never copies. Built values (from
//! `&'static str` or `String`) are just as cheap to hold.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// An immutable UTF-8 string that is either static or a range of a shared
/// buffer. Compares, hashes and orders like the `str` it derefs to.
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    Shared {
        buf: Arc<str>,
        start: usize,
        end: usize,
    },
}

impl Text {
    /// The empty text.
    pub const EMPTY: Text = Text(Repr::Static(""));

    /// Wraps a static string without allocating.
    pub const fn from_static(s: &'static str) -> Text {
        Text(Repr::Static(s))
    }

    /// Takes a shared buffer as a whole.
    pub fn from_shared(buf: Arc<str>) -> Text {
        let end = buf.len();
        Text(Repr::Shared { buf, start: 0, end })
    }

    /// The text as a `&str`.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(s) => s,
            Repr::Shared { buf, start, end } => buf.get(*start..*end).unwrap_or(""),
        }
    }

    /// Returns a `Text` for `sub`, which should be a sub-slice of `self`:
    /// then the buffer is shared, otherwise `sub` is copied.
    pub fn slice_ref(&self, sub: &str) -> Text {
        let me = self.as_str();
        let base = me.as_ptr() as usize;
        let p = sub.as_ptr() as usize;
        if p >= base && p.saturating_add(sub.len()) <= base.saturating_add(me.len()) {
            let off = p - base;
            match &self.0 {
                Repr::Static(s) => {
                    if let Some(piece) = s.get(off..off + sub.len()) {
                        return Text(Repr::Static(piece));
                    }
                }
                Repr::Shared { buf, start, .. } => {
                    // `sub` lies inside `self`, itself a valid range of `buf`,
                    // and is a `&str`, so its bounds are char boundaries.
                    let s = start + off;
                    return Text(Repr::Shared {
                        buf: buf.clone(),
                        start: s,
                        end: s + sub.len(),
                    });
                }
            }
        }
        Text::from(sub.to_owned())
    }
}

/// Tokens so common in SIP that a static copy is kept instead of sharing
/// the message buffer (saves a reference-count update per use).
const COMMON: &[&str] = &[
    "SIP",
    "2.0",
    "UDP",
    "TCP",
    "TLS",
    "branch",
    "tag",
    "rport",
    "received",
    "lr",
    "transport",
    "expires",
    "q",
    "maddr",
    "user",
    "phone",
    "id",
    "ttl",
];

impl Text {
    /// Like [`slice_ref`](Text::slice_ref), but returns a static text for a
    /// few very common tokens.
    pub fn slice_common(&self, sub: &str) -> Text {
        if sub.len() <= 9 {
            for c in COMMON {
                if *c == sub {
                    return Text::from_static(c);
                }
            }
        }
        self.slice_ref(sub)
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::EMPTY
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for Text {
    fn from(s: &'static str) -> Self {
        Text::from_static(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text::from_shared(Arc::from(s))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Text::from(s.clone())
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}
impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}
impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Text {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_ref_shares_and_copies() {
        let t = Text::from(String::from("Via: SIP/2.0/UDP host"));
        let s = t.as_str();
        let sub = t.slice_ref(&s[5..12]);
        assert_eq!(sub, "SIP/2.0");
        let foreign = t.slice_ref("elsewhere");
        assert_eq!(foreign, "elsewhere");
        let st = Text::from_static("alpha beta");
        assert_eq!(st.slice_ref(&st.as_str()[6..]), "beta");
    }
}
