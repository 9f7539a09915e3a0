//! XMPP addresses (JIDs) as defined by RFC 7622.
//!
//! A JID has the form `[localpart@]domainpart[/resourcepart]` (§3.1). [`Jid`]
//! parses a string into its three parts, prepares and enforces each one
//! (§3.2 domainpart: IDNA2008/UTS #46 to U-labels, lower case, no trailing
//! dot, IP literals kept; §3.3 localpart: PRECIS UsernameCaseMapped; §3.4
//! resourcepart: PRECIS OpaqueString) and keeps the normalized result, so two
//! [`Jid`]s are equal exactly when RFC 7622 says the addresses are the same.
//!
//! Each part is limited to [`MAX_PART_LEN`] bytes after normalization; before
//! normalization a part may not exceed [`MAX_PART_INPUT_LEN`] bytes, which
//! bounds the Unicode work done on peer input.
//!
//! [`escaping`] implements XEP-0106 JID escaping for localparts.

pub mod escaping;
mod prep;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

pub use prep::{MAX_PART_INPUT_LEN, MAX_PART_LEN};

/// One of the three parts of a JID, used to say where an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JidPart {
    /// The localpart (before `@`), RFC 7622 §3.3.
    Local,
    /// The domainpart, RFC 7622 §3.2.
    Domain,
    /// The resourcepart (after `/`), RFC 7622 §3.4.
    Resource,
}

impl fmt::Display for JidPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JidPart::Local => "localpart",
            JidPart::Domain => "domainpart",
            JidPart::Resource => "resourcepart",
        })
    }
}

/// Why a string is not a valid JID (RFC 7622).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JidError {
    /// A part is empty: the whole string or the domainpart is empty, or a
    /// separator (`@`, `/`) is present with nothing on its side (§3.1).
    #[error("{0} is empty")]
    Empty(JidPart),
    /// A part is longer than allowed (1023 bytes after normalization, §3.1;
    /// [`MAX_PART_INPUT_LEN`] bytes before).
    #[error("{part} is {len} bytes long, the limit is {max}")]
    TooLong {
        /// The part that is too long.
        part: JidPart,
        /// Its length in bytes.
        len: usize,
        /// The limit it broke.
        max: usize,
    },
    /// A part contains a character its profile does not allow: a PRECIS
    /// DISALLOWED or UNASSIGNED code point, a contextual code point outside
    /// its context, one of `"&'/:<>@` in a localpart (§3.3.1), or an ASCII
    /// character other than letters, digits, `-` and `.` in a domain name.
    #[error("{part} contains the disallowed character {ch:?} (U+{:04X})", u32::from(*ch))]
    DisallowedChar {
        /// The part with the character.
        part: JidPart,
        /// The first offending character.
        ch: char,
    },
    /// A part with right-to-left characters breaks the Bidi Rule (RFC 5893)
    /// that its profile requires.
    #[error("{0} violates the Bidi Rule (RFC 5893)")]
    Bidi(JidPart),
    /// Applying the PRECIS rules did not reach a stable string (RFC 8264 §7).
    #[error("{0} does not become stable under its PRECIS profile")]
    Unstable(JidPart),
    /// The PRECIS profile rejected the part for another reason.
    #[error("{0} is rejected by its PRECIS profile")]
    Precis(JidPart),
    /// The domainpart is not a valid internationalized domain name (IDNA2008
    /// as processed by UTS #46: bad A-label, disallowed code point, hyphen
    /// rules, Bidi or joiner rules).
    #[error("domainpart is not a valid internationalized domain name")]
    Idna,
    /// The domainpart has an empty label (`a..b`, `.a`).
    #[error("domainpart has an empty label")]
    EmptyLabel,
    /// The domainpart starts with `[` but is not a valid IPv6 literal.
    #[error("domainpart is not a valid IPv6 literal")]
    InvalidIpLiteral,
}

impl JidError {
    /// The part of the JID the error is about.
    pub fn part(&self) -> JidPart {
        match self {
            JidError::Empty(p)
            | JidError::Bidi(p)
            | JidError::Unstable(p)
            | JidError::Precis(p)
            | JidError::TooLong { part: p, .. }
            | JidError::DisallowedChar { part: p, .. } => *p,
            JidError::Idna | JidError::EmptyLabel | JidError::InvalidIpLiteral => JidPart::Domain,
        }
    }
}

/// A normalized XMPP address (RFC 7622).
///
/// The normalized string is stored once behind an [`Arc`], so cloning is a
/// reference-count increment. Equality, hashing and ordering use the
/// normalized string, which determines the parts uniquely (neither the
/// localpart nor the domainpart can contain `@` or `/`).
#[derive(Clone)]
pub struct Jid {
    full: Arc<str>,
    /// Byte offset of the domainpart; 0 when there is no localpart,
    /// otherwise one past the `@`.
    domain_start: u16,
    /// Byte offset one past the domainpart; equal to the length when there
    /// is no resourcepart, otherwise the offset of the `/`.
    domain_end: u16,
}

/// Splits a JID string at its separators (RFC 7622 §3.1): the first `/`
/// starts the resourcepart, and the first `@` before it ends the localpart.
fn split(s: &str) -> (Option<&str>, &str, Option<&str>) {
    let (rest, resource) = match s.split_once('/') {
        Some((r, res)) => (r, Some(res)),
        None => (s, None),
    };
    let (local, domain) = match rest.split_once('@') {
        Some((l, d)) => (Some(l), d),
        None => (None, rest),
    };
    (local, domain, resource)
}

/// True when `s` is exactly the concatenation of the present `pieces`.
fn equals_concat(s: &str, pieces: [Option<&str>; 5]) -> bool {
    let mut rest = s;
    for piece in pieces.into_iter().flatten() {
        match rest.strip_prefix(piece) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

fn offset(n: usize) -> u16 {
    // Parts are at most 1023 bytes, so a JID is at most 3071 bytes.
    u16::try_from(n).unwrap_or(u16::MAX)
}

impl Jid {
    /// Parses and normalizes a JID string.
    ///
    /// Already normalized ASCII input is copied once into the shared string
    /// and not processed further; other input goes through the full PRECIS
    /// and IDNA processing.
    pub fn new(s: &str) -> Result<Jid, JidError> {
        let (local, domain, resource) = split(s);
        let local = local.map(prep::localpart).transpose()?;
        let domain = prep::domainpart(domain)?;
        let resource = resource.map(prep::resourcepart).transpose()?;
        Ok(Self::assemble(Some(s), local, domain, resource))
    }

    /// Builds a JID from separate parts, normalizing each one.
    ///
    /// `Some("")` for the localpart or resourcepart is an error, as is an
    /// empty domainpart.
    pub fn from_parts(
        local: Option<&str>,
        domain: &str,
        resource: Option<&str>,
    ) -> Result<Jid, JidError> {
        let local = local.map(prep::localpart).transpose()?;
        let domain = prep::domainpart(domain)?;
        let resource = resource.map(prep::resourcepart).transpose()?;
        Ok(Self::assemble(None, local, domain, resource))
    }

    /// Joins normalized parts; reuses `input` when it already is the result.
    fn assemble(
        input: Option<&str>,
        local: Option<Cow<'_, str>>,
        domain: Cow<'_, str>,
        resource: Option<Cow<'_, str>>,
    ) -> Jid {
        let local_len = local.as_ref().map_or(0, |l| l.len() + 1);
        let domain_start = local_len;
        let domain_end = domain_start + domain.len();
        let total = domain_end + resource.as_ref().map_or(0, |r| r.len() + 1);
        let unchanged = input.filter(|i| {
            i.len() == total
                && equals_concat(
                    i,
                    [
                        local.as_deref(),
                        local.as_ref().map(|_| "@"),
                        Some(&*domain),
                        resource.as_ref().map(|_| "/"),
                        resource.as_deref(),
                    ],
                )
        });
        let full: Arc<str> = match unchanged {
            Some(i) => Arc::from(i),
            None => {
                let mut out = String::with_capacity(total);
                if let Some(l) = &local {
                    out.push_str(l);
                    out.push('@');
                }
                out.push_str(&domain);
                if let Some(r) = &resource {
                    out.push('/');
                    out.push_str(r);
                }
                Arc::from(out)
            }
        };
        Jid {
            full,
            domain_start: offset(domain_start),
            domain_end: offset(domain_end),
        }
    }

    /// The normalized localpart, if any.
    pub fn local(&self) -> Option<&str> {
        let start = usize::from(self.domain_start);
        if start == 0 {
            return None;
        }
        self.full.get(..start - 1)
    }

    /// The normalized domainpart.
    pub fn domain(&self) -> &str {
        self.full
            .get(usize::from(self.domain_start)..usize::from(self.domain_end))
            .unwrap_or_default()
    }

    /// The normalized resourcepart, if any.
    pub fn resource(&self) -> Option<&str> {
        let end = usize::from(self.domain_end);
        if end >= self.full.len() {
            return None;
        }
        self.full.get(end + 1..)
    }

    /// The bare JID: the same address without its resourcepart.
    pub fn bare(&self) -> Jid {
        if self.is_bare() {
            return self.clone();
        }
        let end = usize::from(self.domain_end);
        Jid {
            full: Arc::from(self.full.get(..end).unwrap_or_default()),
            domain_start: self.domain_start,
            domain_end: self.domain_end,
        }
    }

    /// True when the JID has no resourcepart.
    pub fn is_bare(&self) -> bool {
        usize::from(self.domain_end) >= self.full.len()
    }

    /// True when the JID has a resourcepart.
    pub fn is_full(&self) -> bool {
        !self.is_bare()
    }

    /// The same bare JID with the resourcepart `res` (normalized with the
    /// OpaqueString profile); replaces any existing resourcepart.
    pub fn with_resource(&self, res: &str) -> Result<Jid, JidError> {
        let res = prep::resourcepart(res)?;
        let end = usize::from(self.domain_end);
        let bare = self.full.get(..end).unwrap_or_default();
        let mut out = String::with_capacity(end + 1 + res.len());
        out.push_str(bare);
        out.push('/');
        out.push_str(&res);
        Ok(Jid {
            full: Arc::from(out),
            domain_start: self.domain_start,
            domain_end: self.domain_end,
        })
    }

    /// The JID made of the domainpart alone (the server or service address).
    pub fn domain_jid(&self) -> Jid {
        if self.domain_start == 0 && self.is_bare() {
            return self.clone();
        }
        let domain = self.domain();
        Jid {
            full: Arc::from(domain),
            domain_start: 0,
            domain_end: offset(domain.len()),
        }
    }

    /// The normalized string form of the JID.
    pub fn as_str(&self) -> &str {
        &self.full
    }
}

impl FromStr for Jid {
    type Err = JidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Jid::new(s)
    }
}

impl TryFrom<&str> for Jid {
    type Error = JidError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Jid::new(s)
    }
}

impl fmt::Display for Jid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Jid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Jid").field(&self.as_str()).finish()
    }
}

impl AsRef<str> for Jid {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Jid {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Jid {}

impl Hash for Jid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for Jid {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Jid {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

#[cfg(test)]
mod tests;
