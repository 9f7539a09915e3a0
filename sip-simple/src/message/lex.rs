//! Lexical building blocks of the SIP grammar (RFC 3261 §25.1): tokens,
//! separators with optional whitespace, quoted strings, generic parameters,
//! comma-separated lists and `%HEX` escapes. Built with nom over `&str`;
//! header values reach these after line folding has been undone, so linear
//! whitespace is only SP and HTAB here.

use nom::branch::alt;
use nom::combinator::opt;
use nom::sequence::preceded;
use nom::{IResult, Parser};

use crate::text::Text;

const fn class_table(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric();
        c += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

static TOKEN: [bool; 256] = class_table(b"-.!%*_+`'~");
static WORD: [bool; 256] = class_table(b"-.!%*_+`'~()<>:\\\"/[]?{}");

/// Octets allowed in a `token` (RFC 3261 §25.1).
pub(crate) fn is_token_byte(c: u8) -> bool {
    TOKEN[c as usize]
}

/// Characters allowed in a `token` (RFC 3261 §25.1).
pub(crate) fn is_token_char(c: char) -> bool {
    c.is_ascii() && TOKEN[c as usize]
}

/// True if `s` is a non-empty `word`.
pub(crate) fn is_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| WORD[c as usize])
}

/// True if `s` is a non-empty token.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_byte)
}

/// `s` without leading and trailing SP/HTAB.
pub(crate) fn trim_ws(s: &str) -> &str {
    let b = s.as_bytes();
    let start = b
        .iter()
        .position(|c| *c != b' ' && *c != b'\t')
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| *c != b' ' && *c != b'\t')
        .map_or(start, |e| e + 1);
    s.get(start..end).unwrap_or("")
}

/// `s` without trailing SP/HTAB.
pub(crate) fn trim_ws_end(s: &str) -> &str {
    let b = s.as_bytes();
    let end = b
        .iter()
        .rposition(|c| *c != b' ' && *c != b'\t')
        .map_or(0, |e| e + 1);
    s.get(..end).unwrap_or("")
}

/// Position of the first `c` in `s` (an ASCII octet).
pub(crate) fn find_byte(s: &str, c: u8) -> Option<usize> {
    // Values are short: a plain loop beats a SIMD search's setup.
    s.bytes().position(|b| b == c)
}

/// Length of the leading run of octets of `s` that satisfy `f`.
pub(crate) fn span(s: &str, f: impl Fn(u8) -> bool) -> usize {
    s.bytes().position(|c| !f(c)).unwrap_or(s.len())
}

/// Position of the first octet of `s` in `set`.
pub(crate) fn find_any(s: &str, set: &[u8]) -> Option<usize> {
    s.bytes().position(|c| set.contains(&c))
}

/// Optional whitespace.
pub(crate) fn sws(i: &str) -> &str {
    let b = i.as_bytes();
    let n = b.iter().take_while(|c| **c == b' ' || **c == b'\t').count();
    i.get(n..).unwrap_or("")
}

/// A token.
pub(crate) fn token(i: &str) -> IResult<&str, &str> {
    let n = span(i, is_token_byte);
    if n == 0 {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::TakeWhile1,
        )));
    }
    Ok((&i[n..], &i[..n]))
}

/// `SWS c SWS`: a separator with optional whitespace on both sides.
pub(crate) fn sep(i: &str, c: char) -> Option<&str> {
    let r = sws(i);
    r.strip_prefix(c).map(sws)
}

/// A quoted-string with its quotes; quoted-pairs are kept escaped.
/// Accepts any UTF-8 inside, rejects a bare CR/LF and an unterminated
/// string.
pub(crate) fn quoted_string(i: &str) -> IResult<&str, &str> {
    let err = || nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Char));
    let b = i.as_bytes();
    if b.first() != Some(&b'"') {
        return Err(err());
    }
    // Delimiters are ASCII, so scanning octets is safe on UTF-8 text; the
    // octet after a backslash must be ASCII (quoted-pair) and not CR/LF.
    let mut pos = 1;
    while let Some(&c) = b.get(pos) {
        match c {
            b'"' => {
                let end = pos + 1;
                return Ok((i.get(end..).unwrap_or(""), i.get(..end).unwrap_or("")));
            }
            b'\\' => match b.get(pos + 1) {
                Some(&q) if q != b'\n' && q != b'\r' && q.is_ascii() => pos += 2,
                _ => return Err(err()),
            },
            b'\r' | b'\n' => return Err(err()),
            _ => pos += 1,
        }
    }
    Err(err())
}

/// Removes the quotes and quoted-pair backslashes of a quoted-string;
/// anything else is returned unchanged.
pub fn unquote(s: &str) -> String {
    match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        None => s.to_owned(),
    }
}

/// Writes `s` as a quoted-string, escaping `"` and `\`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Decodes `%HEX` escapes once (not recursively). Invalid escapes are kept
/// as they are (RFC 4475 §3.1.1.5 shows `%` where it is not an escape).
pub fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Octets of a generic-param value that is not quoted: token chars plus
/// the host/IPv6 reference characters `[ ] :` (gen-value = token / host /
/// quoted-string).
fn is_gen_value_byte(c: u8) -> bool {
    is_token_byte(c) || matches!(c, b'[' | b']' | b':')
}

/// `SWS c SWS` as a nom parser (SLASH, EQUAL, COLON, SEMI of RFC 3261
/// §25.1).
pub(crate) fn separator(c: char) -> impl Fn(&str) -> IResult<&str, ()> {
    move |i: &str| match sep(i, c) {
        Some(r) => Ok((r, ())),
        None => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Char,
        ))),
    }
}

/// An unquoted gen-value (token, host or IPv6 reference).
fn gen_value(i: &str) -> IResult<&str, &str> {
    let n = span(i, is_gen_value_byte);
    if n == 0 {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::TakeWhile1,
        )));
    }
    Ok((&i[n..], &i[..n]))
}

/// One `generic-param`: name [= value], value raw (quotes kept).
pub(crate) fn generic_param(i: &str) -> IResult<&str, (&str, Option<&str>)> {
    (
        token,
        opt(preceded(separator('='), alt((quoted_string, gen_value)))),
    )
        .parse(i)
}

/// A list of `;`-introduced params, stopping at the first thing that is not
/// `SWS ";"`. A `;` not followed by a valid param is an error.
pub(crate) fn params<'a>(base: &Text, mut i: &'a str) -> Result<(&'a str, Params), ()> {
    let mut out = Params::default();
    while let Some(r) = sep(i, ';') {
        let (r2, (n, v)) = generic_param(r).map_err(|_| ())?;
        out.0.push(Param {
            name: base.slice_common(n),
            value: v.map(|v| base.slice_ref(v)),
        });
        i = r2;
    }
    Ok((i, out))
}

/// A parameter: `name` or `name=value`. Values keep their quotes, if any.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Param {
    /// Parameter name (compared case-insensitively).
    pub name: Text,
    /// Parameter value as written, or `None` for a flag parameter.
    pub value: Option<Text>,
}

/// An ordered list of parameters with case-insensitive lookup.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Params(pub Vec<Param>);

impl Params {
    /// Empty list.
    pub fn new() -> Self {
        Params(Vec::new())
    }
    /// The parameter named `name`, if present.
    pub fn find(&self, name: &str) -> Option<&Param> {
        self.0.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }
    /// The value of `name`: `Some(Some(v))` if it has one, `Some(None)` for a
    /// flag, `None` if absent.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.find(name).map(|p| p.value.as_deref())
    }
    /// The value of `name`, if present with a value.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).flatten()
    }
    /// True if `name` is present (with or without value).
    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_some()
    }
    /// Sets `name` to `value`, replacing an existing one in place.
    pub fn set(&mut self, name: impl Into<Text>, value: Option<Text>) {
        let name = name.into();
        match self
            .0
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case(&name))
        {
            Some(p) => p.value = value,
            None => self.0.push(Param { name, value }),
        }
    }
    /// Removes every parameter called `name`.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|p| !p.name.eq_ignore_ascii_case(name));
    }
    /// True if there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Iterates over the parameters in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Param> {
        self.0.iter()
    }
}

impl std::fmt::Display for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for p in &self.0 {
            f.write_str(";")?;
            f.write_str(&p.name)?;
            if let Some(v) = &p.value {
                f.write_str("=")?;
                f.write_str(v)?;
            }
        }
        Ok(())
    }
}

/// Splits a header value on top-level commas (outside quoted strings and
/// `<...>`), trimming whitespace around each element. Empty elements are
/// returned as empty strings so callers can reject them.
pub(crate) fn split_commas(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let cur = rest?;
        let b = cur.as_bytes();
        let mut in_q = false;
        let mut in_a = false;
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\\' if in_q => i += 1,
                b'"' => in_q = !in_q,
                b'<' if !in_q => in_a = true,
                b'>' if !in_q => in_a = false,
                b',' if !in_q && !in_a => {
                    rest = cur.get(i + 1..);
                    return Some(trim_ws(cur.get(..i).unwrap_or("")));
                }
                _ => {}
            }
            i += 1;
        }
        rest = None;
        Some(trim_ws(cur))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings() {
        assert_eq!(
            quoted_string(r#""a \"b\"" rest"#).unwrap(),
            (" rest", r#""a \"b\"""#)
        );
        assert!(quoted_string("\"open").is_err());
        assert_eq!(unquote(r#""x\\y\"""#), "x\\y\"");
        assert_eq!(quote("a\"b"), r#""a\"b""#);
    }

    #[test]
    fn escapes_decode_once() {
        assert_eq!(unescape("v%61lue%25%34%31"), b"value%41");
        assert_eq!(unescape("null-%00-null"), b"null-\0-null");
        assert_eq!(unescape("%Z%45"), b"%ZE");
        assert_eq!(unescape("end%4"), b"end%4");
    }

    #[test]
    fn commas_respect_quotes_and_angles() {
        let v: Vec<_> = split_commas(r#""a, b" <sip:x;p=1,2>, c ,"#).collect();
        assert_eq!(v, vec![r#""a, b" <sip:x;p=1,2>"#, "c", ""]);
    }

    #[test]
    fn params_with_spaces() {
        let t = Text::from_static(" ; tag = abc;lr ;q=0.5 rest");
        let (rest, p) = params(&t, &t).unwrap();
        assert_eq!(rest, " rest");
        assert_eq!(p.value("TAG"), Some("abc"));
        assert_eq!(p.get("lr"), Some(None));
        assert!(params(&Text::from_static(";;"), ";;").is_err());
    }
}
