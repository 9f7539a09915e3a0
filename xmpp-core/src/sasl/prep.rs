//! String preparation of SASL identities and passwords with PRECIS (RFC 8264,
//! RFC 8265) in place of SASLprep (RFC 4013): `UsernameCaseMapped` for
//! authentication identities (RFC 8265 §3.3, the XMPP localpart profile of
//! RFC 7622) and `OpaqueString` for passwords (RFC 8265 §4.2), the PRECIS
//! replacements of SASLprep, for SCRAM and PLAIN.

use precis_core::profile::PrecisFastInvocation;
use precis_profiles::{OpaqueString, UsernameCaseMapped};

/// Enforces `UsernameCaseMapped` on an authentication identity; `None` if the
/// profile rejects it (including the empty string).
pub(crate) fn username(input: &str) -> Option<String> {
    UsernameCaseMapped::enforce(input)
        .ok()
        .map(|c| c.into_owned())
}

/// Enforces `OpaqueString` on a password; `None` if the profile rejects it
/// (including the empty string).
pub(crate) fn password(input: &str) -> Option<String> {
    OpaqueString::enforce(input).ok().map(|c| c.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_case_mapped_and_width_mapped() {
        assert_eq!(username("Juliet").as_deref(), Some("juliet"));
        // Fullwidth letters map to their ASCII counterparts.
        assert_eq!(username("\u{ff32}omeo").as_deref(), Some("romeo"));
        assert_eq!(username(""), None);
        assert_eq!(username("with space"), None);
        assert_eq!(username("ctl\u{7}"), None);
    }

    #[test]
    fn passwords_keep_case_and_map_spaces() {
        assert_eq!(password("Pencil Case").as_deref(), Some("Pencil Case"));
        // A non-ASCII space becomes U+0020.
        assert_eq!(password("a\u{a0}b").as_deref(), Some("a b"));
        assert_eq!(password(""), None);
        assert_eq!(password("nul\u{0}"), None);
    }
}
