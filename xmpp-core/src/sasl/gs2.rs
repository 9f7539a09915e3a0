//! The GS2 header (RFC 5801 §4, as profiled by RFC 5802 §7 and RFC 7628 §3.1)
//! and the attribute syntax shared by SCRAM messages: `saslname` escaping
//! (`=2C` for `,`, `=3D` for `=`), the channel-binding flag, printable nonces.

/// Why a mechanism message could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// The message does not follow the grammar.
    Malformed(&'static str),
    /// An encoding inside the message is wrong (UTF-8, base64, `saslname`
    /// escapes): SCRAM's `invalid-encoding`.
    Encoding(&'static str),
}

impl ParseError {
    /// The explanatory text.
    pub(crate) fn text(&self) -> &'static str {
        match self {
            ParseError::Malformed(t) | ParseError::Encoding(t) => t,
        }
    }
}

/// The `gs2-cbind-flag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CbFlag {
    /// `n`: the client does not support channel binding.
    NotSupported,
    /// `y`: the client supports channel binding but thinks the server does not.
    ClientOnly,
    /// `p=<cb-name>`: the client uses channel binding of this type.
    Used(String),
}

/// A parsed GS2 header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Gs2Header<'a> {
    /// The channel-binding flag.
    pub(crate) flag: CbFlag,
    /// The unescaped authorization identity (`a=`), if any.
    pub(crate) authzid: Option<String>,
    /// The header exactly as received, including its final `,`.
    pub(crate) raw: &'a str,
}

/// Escapes a string into a `saslname`.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '=' => out.push_str("=3D"),
            ',' => out.push_str("=2C"),
            c => out.push(c),
        }
    }
    out
}

/// Unescapes a `saslname`: `=2C` and `=3D` are the only escapes; any other
/// `=`, a raw `,`, a NUL or an empty name is an error.
pub(crate) fn unescape(s: &str) -> Result<String, ParseError> {
    if s.is_empty() {
        return Err(ParseError::Malformed("empty name"));
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find(['=', ',', '\0']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(t) = tail.strip_prefix("=2C") {
            out.push(',');
            rest = t;
        } else if let Some(t) = tail.strip_prefix("=3D") {
            out.push('=');
            rest = t;
        } else {
            return Err(ParseError::Encoding("invalid '=' escape in name"));
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether `s` is a valid SCRAM nonce: printable ASCII except `,`, non-empty.
pub(crate) fn is_valid_nonce(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

/// Whether `part` is a syntactically valid optional extension attribute
/// (`ALPHA "=" 1*value-char`).
pub(crate) fn is_extension(part: &str) -> bool {
    let b = part.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b'=' && !part.contains('\0')
}

/// Builds a GS2 header.
pub(crate) fn header(flag: &CbFlag, authzid: Option<&str>) -> String {
    let mut out = match flag {
        CbFlag::NotSupported => "n,".to_owned(),
        CbFlag::ClientOnly => "y,".to_owned(),
        CbFlag::Used(name) => format!("p={name},"),
    };
    if let Some(a) = authzid {
        out.push_str("a=");
        out.push_str(&escape(a));
    }
    out.push(',');
    out
}

/// Parses the GS2 header at the start of `msg`, returning it and the rest.
pub(crate) fn parse_header(msg: &str) -> Result<(Gs2Header<'_>, &str), ParseError> {
    let (flag, after_flag) = if let Some(r) = msg.strip_prefix("n,") {
        (CbFlag::NotSupported, r)
    } else if let Some(r) = msg.strip_prefix("y,") {
        (CbFlag::ClientOnly, r)
    } else if let Some(r) = msg.strip_prefix("p=") {
        let (name, r) = r
            .split_once(',')
            .ok_or(ParseError::Malformed("unterminated channel-binding flag"))?;
        let ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !ok {
            return Err(ParseError::Malformed("invalid channel-binding type name"));
        }
        (CbFlag::Used(name.to_owned()), r)
    } else {
        return Err(ParseError::Malformed("invalid channel-binding flag"));
    };
    let (authzid, rest) = if let Some(r) = after_flag.strip_prefix(',') {
        (None, r)
    } else if let Some(r) = after_flag.strip_prefix("a=") {
        let (name, r) = r
            .split_once(',')
            .ok_or(ParseError::Malformed("unterminated authzid"))?;
        (Some(unescape(name)?), r)
    } else {
        return Err(ParseError::Malformed("invalid authzid field"));
    };
    let raw_len = msg.len() - rest.len();
    let raw = msg
        .get(..raw_len)
        .ok_or(ParseError::Malformed("invalid header"))?;
    Ok((Gs2Header { flag, authzid, raw }, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips() {
        assert_eq!(escape("a,b=c"), "a=2Cb=3Dc");
        assert_eq!(unescape("a=2Cb=3Dc").as_deref(), Ok("a,b=c"));
        assert_eq!(unescape("=3D=2C").as_deref(), Ok("=,"));
        assert_eq!(unescape("plain").as_deref(), Ok("plain"));
    }

    #[test]
    fn bad_escapes_fail() {
        for bad in ["a=2c", "a=", "a=3", "a=41", "x,y", "nul\0", ""] {
            assert!(unescape(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn nonce_syntax() {
        assert!(is_valid_nonce("abc~!+"));
        assert!(!is_valid_nonce(""));
        assert!(!is_valid_nonce("a,b"));
        assert!(!is_valid_nonce("a b"));
        assert!(!is_valid_nonce("\u{e9}"));
    }

    #[test]
    fn headers_parse_and_build() {
        let (h, rest) = parse_header("n,,n=u,r=x").unwrap();
        assert_eq!(h.flag, CbFlag::NotSupported);
        assert_eq!(h.authzid, None);
        assert_eq!(h.raw, "n,,");
        assert_eq!(rest, "n=u,r=x");

        assert!(parse_header("p=tls-exporter,a=me=40x,tail").is_err());
        let (h, rest) = parse_header("p=tls-exporter,a=me=3Dx=2C,tail").unwrap();
        assert_eq!(h.flag, CbFlag::Used("tls-exporter".into()));
        assert_eq!(h.authzid.as_deref(), Some("me=x,"));
        assert_eq!(h.raw, "p=tls-exporter,a=me=3Dx=2C,");
        assert_eq!(rest, "tail");

        let (h, _) = parse_header("y,a=bob,").unwrap();
        assert_eq!(h.flag, CbFlag::ClientOnly);
        assert_eq!(h.raw, "y,a=bob,");
        assert_eq!(header(&CbFlag::ClientOnly, Some("bob")), "y,a=bob,");
        assert_eq!(
            header(&CbFlag::Used("tls-server-end-point".into()), Some("a,b")),
            "p=tls-server-end-point,a=a=2Cb,"
        );
    }

    #[test]
    fn bad_headers_fail() {
        for bad in [
            "", "x,,", "n", "n,", "n,b=x,", "p=,,", "p=a b,,", "p=x", "F,n,,", "n,a=,",
        ] {
            assert!(parse_header(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn extension_syntax() {
        assert!(is_extension("x=1"));
        assert!(!is_extension("x="));
        assert!(!is_extension("1=a"));
        assert!(!is_extension("xy"));
    }
}
