//! JID escaping for localparts (XEP-0106, version 1.1.1).
//!
//! Ten characters have an escape sequence made of a backslash and two
//! lower-case hex digits: space `\20`, `"` `\22`, `&` `\26`, `'` `\27`,
//! `/` `\2f`, `:` `\3a`, `<` `\3c`, `>` `\3e`, `@` `\40` and the backslash
//! itself `\5c`. The first nine are not allowed in a localpart (RFC 7622
//! §3.3.1 and the IdentifierClass ban on spaces); the backslash is escaped
//! only where it would otherwise be read as the start of one of the ten
//! sequences (XEP-0106 §4.1, rule 7). Escaping applies to localparts only.
//!
//! [`escape_node`] turns a human-entered name into a localpart,
//! [`unescape_node`] turns a localpart back into the name to display.

/// The ten escapable characters and the two hex digits of their sequence.
const TABLE: [(char, &str); 10] = [
    (' ', "20"),
    ('"', "22"),
    ('&', "26"),
    ('\'', "27"),
    ('/', "2f"),
    (':', "3a"),
    ('<', "3c"),
    ('>', "3e"),
    ('@', "40"),
    ('\\', "5c"),
];

fn code_of(c: char) -> Option<&'static str> {
    TABLE.iter().find(|(ch, _)| *ch == c).map(|(_, code)| *code)
}

/// The character that `\` + the first two bytes of `s` stand for, if those
/// bytes are one of the ten codes (case matters: `\2F` is not a sequence).
fn char_of(s: &str) -> Option<char> {
    let code = s.get(..2)?;
    TABLE.iter().find(|(_, c)| *c == code).map(|(ch, _)| *ch)
}

/// Escapes a name for use as a localpart (XEP-0106 §4.2).
///
/// Each of the nine disallowed characters becomes its `\hh` sequence; a
/// backslash becomes `\5c` only when it is followed by the two characters of
/// one of the ten codes, any other backslash is kept as it is. Leading and
/// trailing spaces are removed first, because an escaped localpart must not
/// start or end with `\20` (XEP-0106 §5.1, rule 6).
///
/// The result contains none of the characters RFC 7622 bans from a
/// localpart, but it is not otherwise checked: pass it to
/// [`Jid::from_parts`](crate::jid::Jid::from_parts) to validate it.
pub fn escape_node(name: &str) -> String {
    let name = name.trim_matches(' ');
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.char_indices() {
        match c {
            '\\' => {
                let after = name.get(i + 1..).unwrap_or_default();
                if char_of(after).is_some() {
                    out.push_str("\\5c");
                } else {
                    out.push('\\');
                }
            }
            _ => match code_of(c) {
                Some(code) => {
                    out.push('\\');
                    out.push_str(code);
                }
                None => out.push(c),
            },
        }
    }
    out
}

/// Unescapes a localpart for display (XEP-0106 §4.3).
///
/// Only the ten sequences are replaced; a backslash followed by anything
/// else, including upper-case hex (`\2F`) or codes of other characters
/// (`\41`), stays as it is (§5.3). A `\20` at the very start or end is kept
/// as well: an escaping entity never produces it there (rule 6), so it is
/// taken literally rather than turned into a leading or trailing space.
pub fn unescape_node(local: &str) -> String {
    let mut out = String::with_capacity(local.len());
    let mut rest = local;
    while let Some(pos) = rest.find('\\') {
        let (before, from_backslash) = rest.split_at(pos);
        out.push_str(before);
        let after = from_backslash.get(1..).unwrap_or_default();
        let start = local.len().saturating_sub(rest.len()) + pos;
        let at_edge = start == 0 || after.len() == 2;
        match char_of(after) {
            Some(' ') if at_edge => {
                out.push('\\');
                rest = after;
            }
            Some(c) => {
                out.push(c);
                rest = after.get(2..).unwrap_or_default();
            }
            None => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jid::Jid;
    use proptest::prelude::*;

    /// Pairs of (name as a person types it, escaped localpart), with the
    /// character mix of the XEP-0106 §6 examples table.
    const PAIRS: &[(&str, &str)] = &[
        ("deep space nine", "deep\\20space\\20nine"),
        ("say \"hi\" now", "say\\20\\22hi\\22\\20now"),
        ("r&d team", "r\\26d\\20team"),
        ("o'brien", "o\\27brien"),
        ("/.hidden", "\\2f.hidden"),
        ("::colons::", "\\3a\\3acolons\\3a\\3a"),
        ("<tag>", "\\3ctag\\3e"),
        ("mail@elsewhere", "mail\\40elsewhere"),
        // A backslash that does not start a sequence is kept.
        ("d:\\tmp", "d\\3a\\tmp"),
        ("d:\\\\tmp", "d\\3a\\\\tmp"),
        ("d:\\big files", "d\\3a\\big\\20files"),
        // A backslash that would start a sequence is escaped.
        ("d:\\5cents", "d\\3a\\5c5cents"),
        ("tab\\20stop", "tab\\5c20stop"),
        ("q\\27", "q\\5c27"),
    ];

    #[test]
    fn examples_escape_and_unescape() {
        for (name, escaped) in PAIRS {
            assert_eq!(escape_node(name), *escaped, "escaping {name:?}");
            assert_eq!(unescape_node(escaped), *name, "unescaping {escaped:?}");
        }
    }

    #[test]
    fn escaped_examples_are_valid_localparts() {
        for (_, escaped) in PAIRS {
            let jid = Jid::from_parts(Some(escaped), "example.net", None).unwrap();
            assert_eq!(jid.local(), Some(*escaped));
        }
    }

    #[test]
    fn every_table_entry() {
        for (c, code) in TABLE {
            let name = format!("x{c}y");
            let escaped = format!("x\\{code}y");
            if c == '\\' {
                // Not followed by a code: stays a plain backslash.
                assert_eq!(escape_node(&name), name);
            } else {
                assert_eq!(escape_node(&name), escaped);
            }
            assert_eq!(unescape_node(&escaped), name);
        }
    }

    #[test]
    fn partial_and_foreign_sequences_are_left_alone() {
        for s in [
            "\\3plus\\3is\\6",
            "bar\\baz",
            "ca\\41t",
            "x\\2Fy",
            "end\\",
            "\\",
            "\\4",
        ] {
            assert_eq!(escape_node(s), s);
            assert_eq!(unescape_node(s), s);
        }
    }

    #[test]
    fn spaces_at_the_edges() {
        assert_eq!(escape_node("  padded name "), "padded\\20name");
        assert_eq!(escape_node("   "), "");
        for s in ["\\20lead", "trail\\20", "\\20"] {
            assert_eq!(unescape_node(s), s);
        }
        assert_eq!(unescape_node("\\20\\20mid"), "\\20 mid");
    }

    #[test]
    fn unicode_passes_through() {
        assert_eq!(escape_node("zoë's café"), "zoë\\27s\\20café");
        assert_eq!(unescape_node("zoë\\27s\\20café"), "zoë's café");
    }

    proptest! {
        #[test]
        fn unescape_inverts_escape(s in "[a-c \\\\\"&'/:<>@25cf0]{0,16}") {
            let trimmed = s.trim_matches(' ');
            prop_assert_eq!(unescape_node(&escape_node(&s)), trimmed);
        }

        #[test]
        fn escaped_names_have_no_banned_characters(s in "\\PC{0,16}") {
            let e = escape_node(&s);
            prop_assert!(!e.contains([' ', '"', '&', '\'', '/', ':', '<', '>', '@']));
            prop_assert!(!e.starts_with("\\20") && !e.ends_with("\\20"));
        }

        #[test]
        fn unescape_never_panics(s in "\\PC{0,16}") {
            let _ = unescape_node(&s);
        }
    }
}
