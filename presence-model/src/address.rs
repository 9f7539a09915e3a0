//! Protocol-neutral user addresses (`user@domain`) and domains.
//!
//! Both protocols name a user by a local part and a domain: a bare JID
//! (RFC 7622 §3) on the XMPP side, the user and host of a `sip:`/`pres:`
//! URI (RFC 3261 §19.1, RFC 3859) on the SIP side. The caller strips what
//! is protocol-specific (scheme, resource, URI parameters) and hands this
//! module the `user@domain` core.
//!
//! # Comparison
//!
//! The product states that "URI uniqueness is case-insensitive"
//! (REQUIREMENTS §1, Addressing), so two addresses that differ only in
//! letter case are the same user. Both parts are therefore folded to lower
//! case (Unicode default lower-case mapping, `str::to_lowercase`) when an
//! [`Address`] or [`Domain`] is built, and equality, ordering and hashing
//! work on the folded form. A caller that already applied the PRECIS
//! `UsernameCaseMapped` profile (RFC 8265) gets the same result, since that
//! profile also lower-cases. A single trailing dot on a domain is removed
//! (RFC 7622 §3.2), so `example.com.` and `example.com` are one domain.
//!
//! # Limits
//!
//! Addresses come from peers, so their size is bounded by
//! [`AddressLimits`]; the default is RFC 7622's 1023 bytes per part.

use core::fmt;
use core::str::FromStr;

use crate::authz::AuthzError;

/// Upper bounds on the parts of an address, in bytes after case folding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressLimits {
    /// Longest accepted local part. Default 1023 (RFC 7622 §3.3).
    pub max_local: usize,
    /// Longest accepted domain. Default 1023 (RFC 7622 §3.2).
    pub max_domain: usize,
}

impl Default for AddressLimits {
    fn default() -> Self {
        Self {
            max_local: 1023,
            max_domain: 1023,
        }
    }
}

/// A domain name, case-folded, without a trailing dot.
///
/// Domains are compared exactly: `example.com` and `chat.example.com` are
/// different domains.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Domain(String);

impl Domain {
    /// Parses and normalizes a domain using the default [`AddressLimits`].
    pub fn parse(s: &str) -> Result<Self, AuthzError> {
        Self::parse_with(s, &AddressLimits::default())
    }

    /// Parses and normalizes a domain, enforcing `limits.max_domain`.
    ///
    /// Rejects an empty domain, an empty label (`a..b`, `.a`), and any
    /// whitespace, control character, `@` or `/`.
    pub fn parse_with(s: &str, limits: &AddressLimits) -> Result<Self, AuthzError> {
        let trimmed = s.strip_suffix('.').unwrap_or(s);
        // Checked before folding so an oversized input is refused without
        // allocating; folding can grow a string, so check again after.
        if trimmed.len() > limits.max_domain.saturating_mul(3) {
            return Err(AuthzError::DomainTooLong {
                max: limits.max_domain,
            });
        }
        if trimmed.is_empty() {
            return Err(AuthzError::InvalidDomain("empty domain"));
        }
        if trimmed.split('.').any(str::is_empty) {
            return Err(AuthzError::InvalidDomain("empty label"));
        }
        if trimmed
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '@' || c == '/')
        {
            return Err(AuthzError::InvalidDomain("forbidden character"));
        }
        let folded = trimmed.to_lowercase();
        if folded.len() > limits.max_domain {
            return Err(AuthzError::DomainTooLong {
                max: limits.max_domain,
            });
        }
        Ok(Self(folded))
    }

    /// The normalized (lower-case) domain text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Domain {
    type Err = AuthzError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A user: a local part and a [`Domain`], both case-folded.
///
/// This is the presentity or watcher identity that authorization works
/// on; it is the same for a user whichever protocol they use.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    local: String,
    domain: Domain,
}

impl Address {
    /// Parses `local@domain` with the default [`AddressLimits`].
    pub fn parse(s: &str) -> Result<Self, AuthzError> {
        Self::parse_with(s, &AddressLimits::default())
    }

    /// Parses `local@domain`, enforcing `limits`.
    ///
    /// The split is on the **last** `@`, as the product's export parsing
    /// does: `bjones@usa@example.com` is user `bjones@usa` at
    /// `example.com`, and an escaped UPN such as `alice%20@corp.example@corp.example`
    /// keeps its inner `@` in the local part.
    pub fn parse_with(s: &str, limits: &AddressLimits) -> Result<Self, AuthzError> {
        let (local, domain) = s.rsplit_once('@').ok_or(AuthzError::MissingAt)?;
        Self::from_parts_with(local, domain, limits)
    }

    /// Builds an address from its two parts with the default limits.
    pub fn from_parts(local: &str, domain: &str) -> Result<Self, AuthzError> {
        Self::from_parts_with(local, domain, &AddressLimits::default())
    }

    /// Builds an address from its two parts, enforcing `limits`.
    ///
    /// The local part must be non-empty and free of whitespace and control
    /// characters; the domain follows [`Domain::parse_with`].
    pub fn from_parts_with(
        local: &str,
        domain: &str,
        limits: &AddressLimits,
    ) -> Result<Self, AuthzError> {
        if local.len() > limits.max_local.saturating_mul(3) {
            return Err(AuthzError::LocalPartTooLong {
                max: limits.max_local,
            });
        }
        if local.is_empty() {
            return Err(AuthzError::InvalidLocalPart("empty local part"));
        }
        if local.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(AuthzError::InvalidLocalPart("forbidden character"));
        }
        let folded = local.to_lowercase();
        if folded.len() > limits.max_local {
            return Err(AuthzError::LocalPartTooLong {
                max: limits.max_local,
            });
        }
        Ok(Self {
            local: folded,
            domain: Domain::parse_with(domain, limits)?,
        })
    }

    /// The case-folded local part.
    pub fn local(&self) -> &str {
        &self.local
    }

    /// The domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

impl FromStr for Address {
    type Err = AuthzError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_part_and_domain_compare_case_insensitively() {
        let a = Address::parse("Romeo@Montague.Example").unwrap();
        let b = Address::parse("romeo@montague.example").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "romeo@montague.example");
    }

    #[test]
    fn trailing_dot_is_dropped_from_domain() {
        assert_eq!(
            Domain::parse("verona.example.").unwrap(),
            Domain::parse("verona.example").unwrap()
        );
    }

    #[test]
    fn split_is_on_the_last_at_sign() {
        let a = Address::parse("bjones@usa@corp.example").unwrap();
        assert_eq!(a.local(), "bjones@usa");
        assert_eq!(a.domain().as_str(), "corp.example");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "no-at-sign",
            "@verona.example",
            "juliet@",
            "juliet@.example",
            "juliet@a..example",
            "ju liet@verona.example",
            "juliet@ver ona.example",
            "juliet@verona.example/balcony",
            "juliet\u{0}@verona.example",
            "juliet@.",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn oversized_parts_are_refused() {
        let limits = AddressLimits {
            max_local: 4,
            max_domain: 6,
        };
        assert!(Address::parse_with("abcd@ab.cd", &limits).is_ok());
        assert_eq!(
            Address::parse_with("abcde@ab.cd", &limits),
            Err(AuthzError::LocalPartTooLong { max: 4 })
        );
        assert_eq!(
            Address::parse_with("abcd@abc.cde", &limits),
            Err(AuthzError::DomainTooLong { max: 6 })
        );
        let huge = format!("{}@x.example", "a".repeat(5000));
        assert!(Address::parse(&huge).is_err());
    }
}
