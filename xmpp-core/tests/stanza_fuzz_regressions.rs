//! Regression tests for inputs found by the `xml_stream` fuzz target:
//! every well-formed element must survive serialize → parse unchanged.

use xmpp_core::xml::{Element, Limits, NsContext, parse_element, to_bytes};

fn reparse(raw: &str) -> (Element, Element) {
    let ctx = NsContext::stream("jabber:client");
    let el = parse_element(raw.as_bytes(), &ctx, &Limits::default()).expect("first parse");
    let bytes = to_bytes(&el, &ctx.default_ns);
    let again = parse_element(&bytes, &ctx, &Limits::default()).unwrap_or_else(|e| {
        panic!(
            "re-parse of {:?} failed: {e}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (el, again)
}

#[test]
fn attribute_namespace_containing_a_closing_brace() {
    // The attribute's namespace URI contains `}`, which the Clark-notation
    // name `{uri}local` must not be split at.
    let (el, again) = reparse("<message xmlns:p='urn:a}b' p:x='1'/>");
    assert_eq!(el.attr("{urn:a}b}x"), Some("1"));
    assert_eq!(again, el);
}

#[test]
fn duplicate_attributes_and_declarations_are_refused() {
    let ctx = NsContext::stream("jabber:client");
    for raw in [
        "<message a='1' a='2'/>",
        "<message xmlns='jabber:client' xmlns='jabber:client'/>",
        "<message xmlns:p='urn:a' xmlns:p='urn:b'/>",
        "<message xmlns:p='urn:a' xmlns:q='urn:a' p:x='1' q:x='2'/>",
        "<message><x b='1' c='2' b='3'/></message>",
    ] {
        let err = parse_element(raw.as_bytes(), &ctx, &Limits::default()).unwrap_err();
        assert_eq!(
            err.condition(),
            xmpp_core::StreamErrorCondition::NotWellFormed,
            "{raw}"
        );
    }
    // The same local name in different namespaces, or an attribute that
    // shares a name with a declaration's prefix, is fine.
    for raw in [
        "<message xmlns:p='urn:a' xmlns:q='urn:b' p:x='1' q:x='2' x='3'/>",
        "<message xmlns:p='urn:a' p='1'/>",
        "<message xmlns:p='urn:a'><x xmlns:p='urn:b' p:y='1'/></message>",
    ] {
        assert!(
            parse_element(raw.as_bytes(), &ctx, &Limits::default()).is_ok(),
            "{raw}"
        );
    }
}

#[test]
fn start_tag_scanning_in_any_chunking() {
    use xmpp_core::xml::{Frame, Framer};
    // Quotes holding `/`, `>` and the other quote character, and a `/`
    // just before a `>` that is inside a value: only a `/>` outside
    // quotes makes an empty element.
    let input = "<stream:stream xmlns='jabber:client' \
                 xmlns:stream='http://etherx.jabber.org/streams'>\
                 <presence a='x/' b=\"y'>/\" c='/>'/>\
                 <message d='/'><body e=\"/>\">t/</body></message>";
    for chunk in 1..=input.len() {
        let mut f = Framer::new(Limits::default());
        let mut got = Vec::new();
        for piece in input.as_bytes().chunks(chunk) {
            f.push(piece);
            while let Some(fr) = f.next_frame().expect("frames") {
                if let Frame::Element(raw) = fr {
                    got.push(String::from_utf8(raw.to_vec()).expect("utf-8"));
                }
            }
        }
        assert_eq!(
            got,
            [
                "<presence a='x/' b=\"y'>/\" c='/>'/>",
                "<message d='/'><body e=\"/>\">t/</body></message>"
            ],
            "chunk size {chunk}"
        );
    }
    let mut f = Framer::new(Limits::default());
    f.push(b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams'><a b='<'/>");
    assert!(matches!(f.next_frame(), Ok(Some(Frame::StreamOpen(_)))));
    assert!(f.next_frame().is_err(), "`<` in a value");
    let mut f = Framer::new(Limits::default());
    f.push(b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams'><a <b/>");
    assert!(matches!(f.next_frame(), Ok(Some(Frame::StreamOpen(_)))));
    assert!(f.next_frame().is_err(), "`<` inside a tag");
}
