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
