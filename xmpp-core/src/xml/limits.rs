//! Bounds on everything a peer controls in an XML stream (DESIGN: "Bad
//! input and limits"). Breaking one is answered with the
//! `<policy-violation/>` stream error.

/// Configurable limits for the framer and parser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest top-level element, in bytes. Default 256 KiB.
    pub max_stanza_bytes: usize,
    /// Largest stream header, in bytes. Default 8 KiB.
    pub max_header_bytes: usize,
    /// Deepest element nesting inside a stanza (the stanza itself is
    /// depth 1). Default 32.
    pub max_depth: usize,
    /// Most attributes on one element, namespace declarations included.
    /// Default 64.
    pub max_attributes: usize,
    /// Longest attribute value after unescaping, in bytes. Default 16 KiB.
    pub max_attribute_bytes: usize,
    /// Longest character data in one element, in bytes. Default 128 KiB.
    pub max_text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_stanza_bytes: 256 * 1024,
            max_header_bytes: 8 * 1024,
            max_depth: 32,
            max_attributes: 64,
            max_attribute_bytes: 16 * 1024,
            max_text_bytes: 128 * 1024,
        }
    }
}
