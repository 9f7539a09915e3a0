//! Runs the jxmpp JID test vectors in `shared/corpus/jid/` (see its
//! README.md for the file format) against [`xmpp_core::Jid`].
//!
//! Every valid entry must parse to exactly the expected parts (absent parts
//! must be absent), every invalid entry must be rejected. The entries we
//! knowingly disagree with are listed in [`KNOWN_DIFFERENCES`] with the reason;
//! for those the test asserts our documented result instead, so a change in
//! behaviour is noticed either way.

use std::path::PathBuf;

use xmpp_core::Jid;

/// Where the corpus lives: `/work/shared/corpus/jid` next to the repository.
const CORPUS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus/jid/");

const RS: char = '\u{1e}';
const US: char = '\u{1f}';

/// Entries of `valid/main` where this crate intentionally differs, as
/// (input, our normalized JID, reason).
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[(
    "\u{3c2}@example.com",
    "\u{3c2}@example.com",
    "the corpus expects GREEK SMALL LETTER FINAL SIGMA to map to U+03C3 (the \
     Unicode default case folding of RFC 7613/7564), and marks this itself as \
     doubtful; RFC 8265 §3.3.2, which obsoletes RFC 7613, maps case with \
     toLowerCase(), which leaves the already lower-case U+03C2 unchanged",
)];

fn corpus_file(rel: &str) -> String {
    let path = PathBuf::from(CORPUS_DIR).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "JID corpus file {} is missing or unreadable ({e}); it must be present \
             for this test to mean anything",
            path.display()
        )
    })
}

struct ValidEntry {
    input: String,
    local: String,
    domain: String,
    resource: String,
}

/// Parses `valid/main`: `jid:` LF, input RS LF, local US domain US resource
/// RS LF; every other line is a comment.
fn valid_entries() -> Vec<ValidEntry> {
    let text = corpus_file("valid/main");
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i] == "jid:" && i + 2 < lines.len() {
            let input = lines[i + 1].strip_suffix(RS);
            let norm = lines[i + 2].strip_suffix(RS);
            if let (Some(input), Some(norm)) = (input, norm) {
                let fields: Vec<&str> = norm.split(US).collect();
                if fields.len() == 3 && !input.contains([RS, US]) {
                    out.push(ValidEntry {
                        input: input.to_owned(),
                        local: fields[0].to_owned(),
                        domain: fields[1].to_owned(),
                        resource: fields[2].to_owned(),
                    });
                    i += 3;
                    continue;
                }
            }
        }
        i += 1;
    }
    out
}

/// Parses `invalid/main`: `invalid jid:` LF, then everything up to the
/// first RS LF is the value.
fn invalid_entries() -> Vec<String> {
    let text = corpus_file("invalid/main");
    let header = "invalid jid:\n";
    let terminator = format!("{RS}\n");
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(pos) = rest.find(header) {
        // The header must start a line.
        let at_line_start = pos == 0 || rest[..pos].ends_with('\n');
        let after = &rest[pos + header.len()..];
        if !at_line_start {
            rest = after;
            continue;
        }
        let end = after
            .find(&terminator)
            .expect("an invalid-JID entry without its RS LF terminator");
        out.push(after[..end].to_owned());
        rest = &after[end + terminator.len()..];
    }
    out
}

fn opt(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

#[test]
fn valid_corpus() {
    let entries = valid_entries();
    // The README counts 22 records.
    assert_eq!(entries.len(), 22, "unexpected number of valid entries");
    let mut failures = Vec::new();
    let mut known_seen = 0;
    for e in &entries {
        let known = KNOWN_DIFFERENCES.iter().find(|k| k.0 == e.input);
        let got = Jid::new(&e.input);
        if let Some((_, ours, _reason)) = known {
            known_seen += 1;
            match &got {
                Ok(j) if j.as_str() == *ours => {}
                other => failures.push(format!(
                    "{:?}: listed difference expects {ours:?}, got {other:?}",
                    e.input
                )),
            }
            continue;
        }
        match got {
            Ok(j) => {
                let want = (opt(&e.local), e.domain.as_str(), opt(&e.resource));
                let have = (j.local(), j.domain(), j.resource());
                if want != have {
                    failures.push(format!("{:?}: want {want:?}, got {have:?}", e.input));
                }
                // The normalized form must parse to itself.
                if Jid::new(j.as_str()).as_ref() != Ok(&j) {
                    failures.push(format!("{:?}: normalized form is not stable", e.input));
                }
            }
            Err(err) => failures.push(format!("{:?}: rejected: {err}", e.input)),
        }
    }
    assert_eq!(
        known_seen,
        KNOWN_DIFFERENCES.len(),
        "a listed difference is no longer in the corpus"
    );
    assert!(
        failures.is_empty(),
        "valid JID corpus failures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn invalid_corpus() {
    let entries = invalid_entries();
    // The README counts 24 records (one of them twice).
    assert_eq!(entries.len(), 24, "unexpected number of invalid entries");
    assert!(
        entries.iter().any(|e| e.contains('\u{1}')),
        "the SOH entry was lost"
    );
    let accepted: Vec<String> = entries
        .iter()
        .filter_map(|e| Jid::new(e).ok().map(|j| format!("{e:?} accepted as {j:?}")))
        .collect();
    assert!(
        accepted.is_empty(),
        "invalid JID corpus failures:\n{}",
        accepted.join("\n")
    );
}
