//! Preparation and enforcement of the three JID parts (RFC 7622 §3.2–§3.4).
//!
//! Every part has two implementations: a fast path for plain ASCII input that
//! can be decided with byte checks, and the full path that runs PRECIS
//! (RFC 8264/8265) or UTS #46 processing. The fast path only ever *accepts*;
//! anything it is not sure about goes to the full path, so both give the same
//! answer (a unit property test compares them on arbitrary ASCII).

use std::borrow::Cow;
use std::net::Ipv6Addr;

use idna::uts46::{AsciiDenyList, Hyphens, Uts46};
use precis_core::profile::Profile;
use precis_core::{Error as PrecisError, IdentifierClass, StringClass, UnexpectedError};
use precis_profiles::{OpaqueString, UsernameCaseMapped};

use super::{JidError, JidPart};

/// Largest size in bytes of a normalized JID part (RFC 7622 §3.1).
pub const MAX_PART_LEN: usize = 1023;

/// Largest size in bytes of a part *before* normalization.
///
/// Normalization can shrink a string (width mapping turns three-byte
/// full-width letters into one-byte ASCII, UTS #46 drops ignorable code
/// points), so the raw input may legitimately be longer than
/// [`MAX_PART_LEN`]. Anything longer than four times the limit cannot be a
/// sensible address and is refused before any Unicode processing is done,
/// which bounds the work a peer can cause.
pub const MAX_PART_INPUT_LEN: usize = 4 * MAX_PART_LEN;

/// Characters that RFC 7622 §3.3.1 removes from the localpart although the
/// PRECIS IdentifierClass allows them.
const LOCALPART_EXCLUDED: &[char] = &['"', '&', '\'', '/', ':', '<', '>', '@'];

/// How many times the PRECIS rules are applied before a string that keeps
/// changing is rejected (RFC 8264 §7: the first application plus up to three
/// more).
const MAX_PRECIS_ROUNDS: usize = 4;

fn check_input_len(part: JidPart, s: &str) -> Result<(), JidError> {
    if s.is_empty() {
        return Err(JidError::Empty(part));
    }
    if s.len() > MAX_PART_INPUT_LEN {
        return Err(JidError::TooLong {
            part,
            len: s.len(),
            max: MAX_PART_INPUT_LEN,
        });
    }
    Ok(())
}

fn check_output_len(part: JidPart, s: &str) -> Result<(), JidError> {
    if s.is_empty() {
        return Err(JidError::Empty(part));
    }
    if s.len() > MAX_PART_LEN {
        return Err(JidError::TooLong {
            part,
            len: s.len(),
            max: MAX_PART_LEN,
        });
    }
    Ok(())
}

fn codepoint_char(cp: u32) -> char {
    char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER)
}

fn map_precis_error(part: JidPart, err: PrecisError) -> JidError {
    match err {
        PrecisError::BadCodepoint(info) => JidError::DisallowedChar {
            part,
            ch: codepoint_char(info.cp),
        },
        PrecisError::Unexpected(UnexpectedError::ContextRuleNotApplicable(info))
        | PrecisError::Unexpected(UnexpectedError::MissingContextRule(info)) => {
            JidError::DisallowedChar {
                part,
                ch: codepoint_char(info.cp),
            }
        }
        // The two profiles used here only report `Invalid` for an empty
        // result (ruled out before, their mappings never delete code points)
        // or, for UsernameCaseMapped, a failed Bidi Rule (RFC 5893).
        PrecisError::Invalid => match part {
            JidPart::Local => JidError::Bidi(part),
            _ => JidError::Precis(part),
        },
        PrecisError::Unexpected(_) => JidError::Precis(part),
    }
}

/// Applies `enforce` until the output no longer changes (RFC 8264 §7).
fn enforce_stable<'a, F>(part: JidPart, s: &'a str, enforce: F) -> Result<Cow<'a, str>, JidError>
where
    F: for<'b> Fn(&'b str) -> Result<Cow<'b, str>, PrecisError>,
{
    let first = enforce(s).map_err(|e| map_precis_error(part, e))?;
    let mut current: String = match first {
        Cow::Borrowed(b) => return Ok(Cow::Borrowed(b)),
        Cow::Owned(o) => o,
    };
    for _ in 1..MAX_PRECIS_ROUNDS {
        let next = enforce(&current).map_err(|e| map_precis_error(part, e))?;
        match next {
            // Unchanged: the string is stable.
            Cow::Borrowed(_) => return Ok(Cow::Owned(current)),
            Cow::Owned(o) if o == current => return Ok(Cow::Owned(current)),
            Cow::Owned(o) => current = o,
        }
    }
    Err(JidError::Unstable(part))
}

// ---------------------------------------------------------------- localpart

/// Prepares and enforces a localpart: PRECIS UsernameCaseMapped profile
/// (RFC 8265 §3.3) plus the RFC 7622 §3.3.1 exclusions, at most
/// [`MAX_PART_LEN`] bytes.
///
/// The PRECIS tables of `precis-core` are those of Unicode 6.3 (the baseline
/// of the IANA PRECIS registry), so code points assigned later are
/// UNASSIGNED and rejected, here and in the other two parts.
pub fn localpart(s: &str) -> Result<Cow<'_, str>, JidError> {
    match localpart_ascii(s) {
        Some(out) => Ok(out),
        None => localpart_full(s),
    }
}

/// Fast path: printable ASCII without the excluded characters is valid under
/// the IdentifierClass; width mapping, NFC and the Bidi Rule cannot change or
/// reject it, so only lower-casing remains.
fn localpart_ascii(s: &str) -> Option<Cow<'_, str>> {
    if s.is_empty() || s.len() > MAX_PART_LEN {
        return None;
    }
    let mut upper = false;
    for &b in s.as_bytes() {
        if !(0x21..=0x7e).contains(&b) || LOCALPART_EXCLUDED.contains(&char::from(b)) {
            return None;
        }
        upper |= b.is_ascii_uppercase();
    }
    Some(if upper {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    })
}

pub(super) fn localpart_full(s: &str) -> Result<Cow<'_, str>, JidError> {
    let part = JidPart::Local;
    check_input_len(part, s)?;
    let profile = UsernameCaseMapped::new();
    let out = enforce_stable(part, s, |x| profile.enforce(x))?;
    if let Some(ch) = out.chars().find(|c| LOCALPART_EXCLUDED.contains(c)) {
        return Err(JidError::DisallowedChar { part, ch });
    }
    check_output_len(part, &out)?;
    Ok(out)
}

// ------------------------------------------------------------- resourcepart

/// Prepares and enforces a resourcepart: PRECIS OpaqueString profile
/// (RFC 8265 §4.2), at most [`MAX_PART_LEN`] bytes.
pub fn resourcepart(s: &str) -> Result<Cow<'_, str>, JidError> {
    match resourcepart_ascii(s) {
        Some(out) => Ok(out),
        None => resourcepart_full(s),
    }
}

/// Fast path: printable ASCII and U+0020 are valid under the FreeformClass and
/// OpaqueString maps none of them.
fn resourcepart_ascii(s: &str) -> Option<Cow<'_, str>> {
    if s.is_empty() || s.len() > MAX_PART_LEN {
        return None;
    }
    s.bytes()
        .all(|b| (0x20..=0x7e).contains(&b))
        .then_some(Cow::Borrowed(s))
}

pub(super) fn resourcepart_full(s: &str) -> Result<Cow<'_, str>, JidError> {
    let part = JidPart::Resource;
    check_input_len(part, s)?;
    let profile = OpaqueString::new();
    let out = enforce_stable(part, s, |x| profile.enforce(x))?;
    check_output_len(part, &out)?;
    Ok(out)
}

// --------------------------------------------------------------- domainpart

/// Prepares and enforces a domainpart (RFC 7622 §3.2): an IP literal (IPv4
/// dotted quad, or an IPv6 address in brackets, optionally with an RFC 4007
/// zone index) or a domain name whose labels are NR-LDH labels or U-labels.
/// A-labels are converted to U-labels, upper case is mapped to lower case
/// (UTS #46 mapping), one trailing dot is removed. At most [`MAX_PART_LEN`]
/// bytes.
pub fn domainpart(s: &str) -> Result<Cow<'_, str>, JidError> {
    match domainpart_ascii(s) {
        Some(out) => Ok(out),
        None => domainpart_full(s),
    }
}

/// True for a label that is a valid NR-LDH label: letters, digits and
/// hyphens, no hyphen first or last, and not a reserved `??--` label (which
/// includes A-labels; those go to the full path for decoding).
fn is_nr_ldh_label(label: &[u8]) -> bool {
    !label.is_empty()
        && label
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && label.first() != Some(&b'-')
        && label.last() != Some(&b'-')
        && label.get(2..4) != Some(b"--")
}

/// Fast path for all-ASCII domain names made of NR-LDH labels.
fn domainpart_ascii(s: &str) -> Option<Cow<'_, str>> {
    let name = s.strip_suffix('.').unwrap_or(s);
    if name.is_empty() || name.len() > MAX_PART_LEN {
        return None;
    }
    if !name.split('.').all(|l| is_nr_ldh_label(l.as_bytes())) {
        return None;
    }
    Some(if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    })
}

fn is_zone_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

/// An IPv6 literal `[addr]` or `[addr%zone]`; hex digits are lower-cased,
/// the address is otherwise kept as written.
fn ip_literal(s: &str) -> Result<Cow<'_, str>, JidError> {
    let inner = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .ok_or(JidError::InvalidIpLiteral)?;
    let (addr, zone) = match inner.split_once('%') {
        Some((a, z)) => (a, Some(z)),
        None => (inner, None),
    };
    if addr.parse::<Ipv6Addr>().is_err() {
        return Err(JidError::InvalidIpLiteral);
    }
    if zone.is_some_and(|z| z.is_empty() || !z.chars().all(is_zone_id_char)) {
        return Err(JidError::InvalidIpLiteral);
    }
    check_output_len(JidPart::Domain, s)?;
    Ok(if addr.bytes().any(|b| b.is_ascii_uppercase()) {
        let mut out = String::with_capacity(s.len());
        out.push('[');
        out.push_str(&addr.to_ascii_lowercase());
        if let Some(zone) = zone {
            out.push('%');
            out.push_str(zone);
        }
        out.push(']');
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    })
}

/// UTS #46 ToUnicode with the STD3 ASCII rules and hyphen checks, i.e. the
/// IDNA2008 validity rules for U-labels (RFC 5891 §5.4, RFC 5892/5893) with
/// the UTS #46 mappings (lower-casing, width folding) applied first.
fn idna_to_unicode(s: &str) -> Result<Cow<'_, str>, JidError> {
    let (out, result) = Uts46::new().to_unicode(s.as_bytes(), AsciiDenyList::STD3, Hyphens::Check);
    result.map_err(|_| JidError::Idna)?;
    Ok(out)
}

pub(super) fn domainpart_full(s: &str) -> Result<Cow<'_, str>, JidError> {
    let part = JidPart::Domain;
    check_input_len(part, s)?;
    if s.starts_with('[') {
        return ip_literal(s);
    }
    // Name the culprit when an ASCII character outside letters, digits,
    // hyphen and dot is present; the STD3 rules would reject it anyway.
    if let Some(ch) = s
        .chars()
        .find(|c| c.is_ascii() && !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.')))
    {
        return Err(JidError::DisallowedChar { part, ch });
    }
    let mapped = idna_to_unicode(s)?;
    // RFC 7622 §3.2: a final label separator is removed. UTS #46 has already
    // mapped the other IDNA2008 dots (U+3002, U+FF0E, U+FF61) to '.'.
    let out: Cow<'_, str> = match mapped {
        Cow::Borrowed(b) => Cow::Borrowed(b.strip_suffix('.').unwrap_or(b)),
        Cow::Owned(mut o) => {
            if o.ends_with('.') {
                o.pop();
            }
            Cow::Owned(o)
        }
    };
    if out.is_empty() {
        return Err(JidError::Empty(part));
    }
    if out.split('.').any(str::is_empty) {
        return Err(JidError::EmptyLabel);
    }
    // UTS #46 keeps some code points valid that IDNA2008 disallows (symbols
    // and punctuation marked NV8/XV8 in its tables, e.g. U+2655). Each
    // U-label is therefore also checked against the PRECIS IdentifierClass,
    // which is derived by the same rules as the IDNA2008 PVALID set (RFC 5892
    // §2: letters, digits and combining marks valid; symbols, punctuation,
    // compatibility forms, unassigned code points disallowed; the same
    // exception and context rules) for code points that UTS #46 mapping
    // leaves in place.
    let class = IdentifierClass::default();
    for label in out.split('.').filter(|l| !l.is_ascii()) {
        class.allows(label).map_err(|e| map_precis_error(part, e))?;
    }
    check_output_len(part, &out)?;
    // The output must be a fixed point of the processing (it is for every
    // UTS #46 result seen so far; this guards Jid::new(j.as_str()) == j).
    if let Cow::Owned(o) = &out
        && idna_to_unicode(o)? != o.as_str()
    {
        return Err(JidError::Unstable(part));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same<'a>(
        fast: Option<Cow<'a, str>>,
        full: Result<Cow<'a, str>, JidError>,
    ) -> Result<(), TestCaseError> {
        if let Some(f) = fast {
            prop_assert_eq!(Ok(f), full);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn ascii_localpart_fast_path_matches_precis(s in "[\\x00-\\x7f]{0,20}") {
            same(localpart_ascii(&s), localpart_full(&s))?;
            prop_assert_eq!(localpart(&s), localpart_full(&s));
        }

        #[test]
        fn ascii_resourcepart_fast_path_matches_precis(s in "[\\x00-\\x7f]{0,20}") {
            same(resourcepart_ascii(&s), resourcepart_full(&s))?;
            prop_assert_eq!(resourcepart(&s), resourcepart_full(&s));
        }

        #[test]
        fn ascii_domainpart_fast_path_matches_idna(s in "[a-zA-Z0-9.\\-]{0,24}") {
            same(domainpart_ascii(&s), domainpart_full(&s))?;
            prop_assert_eq!(domainpart(&s), domainpart_full(&s));
        }

        #[test]
        fn ascii_domainpart_fast_path_matches_idna_any_byte(s in "[\\x00-\\x7f]{0,12}") {
            prop_assert_eq!(domainpart(&s), domainpart_full(&s));
        }

        #[test]
        fn label_shaped_domains_agree(s in "(xn--|[a-zA-Z0-9]{1,3})(-{0,2}[a-zA-Z0-9]{1,3}){0,3}(\\.[a-z0-9\\-]{1,5}){0,3}\\.?") {
            prop_assert_eq!(domainpart(&s), domainpart_full(&s));
        }
    }

    #[test]
    fn fast_paths_borrow_normalized_input() {
        assert!(matches!(localpart("juliet"), Ok(Cow::Borrowed("juliet"))));
        assert!(matches!(
            resourcepart("balcony 1"),
            Ok(Cow::Borrowed("balcony 1"))
        ));
        assert!(matches!(
            domainpart("im.example.com"),
            Ok(Cow::Borrowed("im.example.com"))
        ));
    }

    #[test]
    fn fast_paths_lowercase() {
        assert_eq!(localpart("RoMeO").as_deref(), Ok("romeo"));
        assert_eq!(domainpart("Verona.IT.").as_deref(), Ok("verona.it"));
        assert_eq!(resourcepart("Orchard").as_deref(), Ok("Orchard"));
    }

    #[test]
    fn raw_input_cap() {
        let long = "a".repeat(MAX_PART_INPUT_LEN + 1);
        assert!(matches!(localpart(&long), Err(JidError::TooLong { .. })));
        let ok_len = "a".repeat(MAX_PART_LEN);
        assert!(localpart(&ok_len).is_ok());
        let too_long = "a".repeat(MAX_PART_LEN + 1);
        assert_eq!(
            localpart(&too_long),
            Err(JidError::TooLong {
                part: JidPart::Local,
                len: MAX_PART_LEN + 1,
                max: MAX_PART_LEN
            })
        );
    }

    #[test]
    fn full_width_shrinks_below_the_limit() {
        // 400 full-width letters are 1200 bytes of input but 400 after width
        // mapping, so the length limit applies to the output.
        let wide = "\u{FF41}".repeat(400);
        assert_eq!(localpart(&wide).as_deref(), Ok("a".repeat(400).as_str()));
    }
}
