//! Presence documents: PIDF (RFC 3863) with the data model of RFC 4479
//! (person, service, device) and the RPID extensions of RFC 4480
//! (activities, mood, place-type, privacy, user-input), plus
//! [`compose`] to merge several publications of one presentity
//! (RFC 3903 §4, the compositor's job) into one document.
//!
//! Parsing is strict on XML well-formedness ([`xml::Element::parse`]) and
//! on the PIDF structure the RFC requires (`<presence entity>`, `<tuple
//! id>` with `<status>`), and tolerant of extensions: every element in an
//! unknown namespace is kept as an [`xml::Element`] and written back.
//! [`Presence::parse_lenient`] additionally accepts a `<presence>` without
//! `entity` (RFC 4479 §7.1 prints such an example).
//!
//! ```
//! use sip_simple::pidf::{Basic, Presence, Tuple, Person, rpid};
//!
//! let mut doc = Presence::new("pres:alice@example.com");
//! doc.tuples.push(Tuple::new("t1", Basic::Open).with_contact("sip:alice@pc.example.com"));
//! doc.persons.push(Person::new("p1").with(rpid::activities(&["busy"])));
//! let bytes = doc.to_xml();
//! let back = Presence::parse(bytes.as_bytes(), &Default::default()).unwrap();
//! assert_eq!(back, doc);
//! assert_eq!(back.persons[0].activities(), vec!["busy".to_string()]);
//! ```

pub mod rpid;
pub mod xml;

use thiserror::Error;

pub use xml::{Element, Node, XmlLimits};

/// PIDF namespace (RFC 3863 §4.1).
pub const NS_PIDF: &str = "urn:ietf:params:xml:ns:pidf";
/// Data-model namespace (RFC 4479 §6).
pub const NS_DM: &str = "urn:ietf:params:xml:ns:pidf:data-model";
/// RPID namespace (RFC 4480 §3).
pub const NS_RPID: &str = "urn:ietf:params:xml:ns:pidf:rpid";
/// Capabilities namespace (RFC 5196).
pub const NS_CAPS: &str = "urn:ietf:params:xml:ns:pidf:caps";
/// Contact information namespace (RFC 4482).
pub const NS_CIPID: &str = "urn:ietf:params:xml:ns:pidf:cipid";

/// Prefixes used when writing documents.
pub(crate) const PREFIXES: &[(&str, &str)] = &[
    (NS_DM, "dm"),
    (NS_RPID, "rpid"),
    (NS_CAPS, "caps"),
    (NS_CIPID, "c"),
];

/// Errors reading a presence or watcher-information document.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PidfError {
    /// Not well-formed XML.
    #[error("malformed XML: {0}")]
    Malformed(&'static str),
    /// Bigger than [`XmlLimits::max_bytes`] or [`XmlLimits::max_elements`].
    #[error("document too large")]
    TooLarge,
    /// Deeper than [`XmlLimits::max_depth`].
    #[error("document nested too deeply")]
    TooDeep,
    /// Well-formed but not the document type expected.
    #[error("invalid document: {0}")]
    Invalid(&'static str),
}

/// `<basic>` status (RFC 3863 §4.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Basic {
    /// `open`: ready to accept communication.
    Open,
    /// `closed`: not accepting communication.
    Closed,
}

impl Basic {
    fn as_str(self) -> &'static str {
        match self {
            Basic::Open => "open",
            Basic::Closed => "closed",
        }
    }
}

/// A `<note>` with its optional `xml:lang` (RFC 3863 §4.1.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The text.
    pub text: String,
    /// Language tag.
    pub lang: Option<String>,
}

impl Note {
    fn from_element(e: &Element) -> Note {
        Note {
            text: e.text(),
            lang: e.attr(xml::XML_NS, "lang").map(str::to_owned),
        }
    }
    fn to_element(&self, ns: &str) -> Element {
        let mut e = Element::new(ns, "note").with_text(&self.text);
        if let Some(l) = &self.lang {
            e.set_attr(xml::XML_NS, "lang", l);
        }
        e
    }
}

/// `<status>`: basic status and extension elements (RFC 3863 §4.1.4).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// `<basic>`, if present.
    pub basic: Option<Basic>,
    /// Other status elements, kept as read.
    pub extensions: Vec<Element>,
}

/// `<contact>` with its optional priority (RFC 3863 §4.1.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The URI (whitespace kept as read).
    pub uri: String,
    /// The `priority` attribute as written (a qvalue).
    pub priority: Option<String>,
}

/// A `<tuple>`: one service of the presentity (RFC 3863 §4.1.2, RFC 4479
/// §3.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuple {
    /// The `id` attribute.
    pub id: String,
    /// `<status>`.
    pub status: Status,
    /// Extension elements of the tuple (data-model, caps, ...), kept.
    pub extensions: Vec<Element>,
    /// `<contact>`.
    pub contact: Option<Contact>,
    /// `<note>`s.
    pub notes: Vec<Note>,
    /// `<timestamp>`, as written.
    pub timestamp: Option<String>,
}

impl Tuple {
    /// A tuple with a basic status.
    pub fn new(id: &str, basic: Basic) -> Tuple {
        Tuple {
            id: id.to_owned(),
            status: Status {
                basic: Some(basic),
                extensions: Vec::new(),
            },
            extensions: Vec::new(),
            contact: None,
            notes: Vec::new(),
            timestamp: None,
        }
    }

    /// Sets the contact URI (builder style).
    pub fn with_contact(mut self, uri: &str) -> Tuple {
        self.contact = Some(Contact {
            uri: uri.to_owned(),
            priority: None,
        });
        self
    }

    /// Adds a note (builder style).
    pub fn with_note(mut self, text: &str) -> Tuple {
        self.notes.push(Note {
            text: text.to_owned(),
            lang: None,
        });
        self
    }

    fn from_element(e: &Element) -> Result<Tuple, PidfError> {
        let id = e
            .attr("", "id")
            .ok_or(PidfError::Invalid("tuple without id"))?;
        let mut status = None;
        let mut t = Tuple {
            id: id.to_owned(),
            status: Status::default(),
            extensions: Vec::new(),
            contact: None,
            notes: Vec::new(),
            timestamp: None,
        };
        for c in e.elements() {
            if c.ns == NS_PIDF {
                match c.name.as_str() {
                    "status" => {
                        let mut s = Status::default();
                        for x in c.elements() {
                            if x.is(NS_PIDF, "basic") {
                                s.basic = Some(match x.text().trim() {
                                    "open" => Basic::Open,
                                    "closed" => Basic::Closed,
                                    _ => return Err(PidfError::Invalid("basic status")),
                                });
                            } else {
                                s.extensions.push(x.clone());
                            }
                        }
                        status = Some(s);
                    }
                    "contact" => {
                        t.contact = Some(Contact {
                            uri: c.text(),
                            priority: c.attr("", "priority").map(str::to_owned),
                        })
                    }
                    "note" => t.notes.push(Note::from_element(c)),
                    "timestamp" => t.timestamp = Some(c.text()),
                    _ => t.extensions.push(c.clone()),
                }
            } else {
                t.extensions.push(c.clone());
            }
        }
        t.status = status.ok_or(PidfError::Invalid("tuple without status"))?;
        Ok(t)
    }

    fn to_element(&self) -> Element {
        let mut status = Element::new(NS_PIDF, "status");
        if let Some(b) = self.status.basic {
            status = status.with_child(Element::new(NS_PIDF, "basic").with_text(b.as_str()));
        }
        for x in &self.status.extensions {
            status = status.with_child(x.clone());
        }
        let mut e = Element::new(NS_PIDF, "tuple")
            .with_attr("id", &self.id)
            .with_child(status);
        for x in &self.extensions {
            e = e.with_child(x.clone());
        }
        if let Some(c) = &self.contact {
            let mut ce = Element::new(NS_PIDF, "contact").with_text(&c.uri);
            if let Some(p) = &c.priority {
                ce.set_attr("", "priority", p);
            }
            e = e.with_child(ce);
        }
        for n in &self.notes {
            e = e.with_child(n.to_element(NS_PIDF));
        }
        if let Some(ts) = &self.timestamp {
            e = e.with_child(Element::new(NS_PIDF, "timestamp").with_text(ts));
        }
        e
    }
}

/// A data-model `<dm:person>` (RFC 4479 §3.1.2): its children are kept in
/// order; RPID values are read with the accessors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The `id` attribute.
    pub id: String,
    /// Child elements (RPID, `dm:note`, `dm:timestamp`, extensions).
    pub elements: Vec<Element>,
}

/// A data-model `<dm:device>` (RFC 4479 §3.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The `id` attribute.
    pub id: String,
    /// Child elements (`dm:deviceID`, RPID, notes, extensions).
    pub elements: Vec<Element>,
}

macro_rules! dm_component {
    ($t:ident, $name:literal) => {
        impl $t {
            /// An empty component with this id.
            pub fn new(id: &str) -> $t {
                $t {
                    id: id.to_owned(),
                    elements: Vec::new(),
                }
            }
            /// Adds a child element (builder style).
            pub fn with(mut self, e: Element) -> $t {
                self.elements.push(e);
                self
            }
            /// The first child `{ns}name`.
            pub fn element(&self, ns: &str, name: &str) -> Option<&Element> {
                self.elements.iter().find(|e| e.is(ns, name))
            }
            /// `<dm:note>`s.
            pub fn notes(&self) -> Vec<Note> {
                self.elements
                    .iter()
                    .filter(|e| e.is(NS_DM, "note"))
                    .map(Note::from_element)
                    .collect()
            }
            /// RPID `<activities>` (RFC 4480 §3.2): the activity names
            /// (`other` values give their text).
            pub fn activities(&self) -> Vec<String> {
                rpid::values(self.element(NS_RPID, "activities"))
            }
            /// RPID `<mood>` values (RFC 4480 §3.7).
            pub fn mood(&self) -> Vec<String> {
                rpid::values(self.element(NS_RPID, "mood"))
            }
            /// RPID `<place-type>` values (RFC 4480 §3.8).
            pub fn place_type(&self) -> Vec<String> {
                rpid::values(self.element(NS_RPID, "place-type"))
            }
            /// RPID `<privacy>` values (RFC 4480 §3.9).
            pub fn privacy(&self) -> Vec<String> {
                rpid::values(self.element(NS_RPID, "privacy"))
            }
            /// RPID `<user-input>` (RFC 4480 §3.15).
            pub fn user_input(&self) -> Option<rpid::UserInput> {
                self.element(NS_RPID, "user-input")
                    .and_then(rpid::UserInput::from_element)
            }
            fn from_element(e: &Element) -> Result<$t, PidfError> {
                let id = e
                    .attr("", "id")
                    .ok_or(PidfError::Invalid(concat!($name, " without id")))?;
                Ok($t {
                    id: id.to_owned(),
                    elements: e.elements().cloned().collect(),
                })
            }
            fn to_element(&self) -> Element {
                let mut e = Element::new(NS_DM, $name).with_attr("id", &self.id);
                for c in &self.elements {
                    e = e.with_child(c.clone());
                }
                e
            }
        }
    };
}

dm_component!(Person, "person");
dm_component!(Device, "device");

impl Device {
    /// `<dm:deviceID>` (RFC 4479 §6).
    pub fn device_id(&self) -> Option<String> {
        self.element(NS_DM, "deviceID").map(Element::text)
    }
}

/// A PIDF document (RFC 3863 §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    /// The `entity` attribute: the presentity URI.
    pub entity: Option<String>,
    /// `<tuple>`s (services).
    pub tuples: Vec<Tuple>,
    /// Presence-level `<note>`s.
    pub notes: Vec<Note>,
    /// `<dm:person>` elements.
    pub persons: Vec<Person>,
    /// `<dm:device>` elements.
    pub devices: Vec<Device>,
    /// Other presence-level extension elements, kept.
    pub extensions: Vec<Element>,
}

impl Presence {
    /// An empty document for `entity`.
    pub fn new(entity: &str) -> Presence {
        Presence {
            entity: Some(entity.to_owned()),
            tuples: Vec::new(),
            notes: Vec::new(),
            persons: Vec::new(),
            devices: Vec::new(),
            extensions: Vec::new(),
        }
    }

    /// Parses a PIDF document; `entity` is required (RFC 3863 §4.1.1).
    pub fn parse(data: &[u8], limits: &XmlLimits) -> Result<Presence, PidfError> {
        let p = Self::parse_lenient(data, limits)?;
        if p.entity.is_none() {
            return Err(PidfError::Invalid("presence without entity"));
        }
        Ok(p)
    }

    /// Parses a PIDF document, accepting a missing `entity`.
    pub fn parse_lenient(data: &[u8], limits: &XmlLimits) -> Result<Presence, PidfError> {
        let root = Element::parse(data, limits)?;
        Self::from_element(&root)
    }

    /// Reads a `<presence>` element.
    pub fn from_element(root: &Element) -> Result<Presence, PidfError> {
        if !root.is(NS_PIDF, "presence") {
            return Err(PidfError::Invalid("root is not a PIDF <presence>"));
        }
        let mut p = Presence {
            entity: root.attr("", "entity").map(str::to_owned),
            tuples: Vec::new(),
            notes: Vec::new(),
            persons: Vec::new(),
            devices: Vec::new(),
            extensions: Vec::new(),
        };
        for c in root.elements() {
            if c.is(NS_PIDF, "tuple") {
                p.tuples.push(Tuple::from_element(c)?);
            } else if c.is(NS_PIDF, "note") {
                p.notes.push(Note::from_element(c));
            } else if c.is(NS_DM, "person") {
                p.persons.push(Person::from_element(c)?);
            } else if c.is(NS_DM, "device") {
                p.devices.push(Device::from_element(c)?);
            } else {
                p.extensions.push(c.clone());
            }
        }
        Ok(p)
    }

    /// The document as an element tree.
    pub fn to_element(&self) -> Element {
        let mut root = Element::new(NS_PIDF, "presence");
        if let Some(e) = &self.entity {
            root.set_attr("", "entity", e);
        }
        for t in &self.tuples {
            root = root.with_child(t.to_element());
        }
        for n in &self.notes {
            root = root.with_child(n.to_element(NS_PIDF));
        }
        for x in &self.persons {
            root = root.with_child(x.to_element());
        }
        for x in &self.devices {
            root = root.with_child(x.to_element());
        }
        for x in &self.extensions {
            root = root.with_child(x.clone());
        }
        root
    }

    /// Serializes the document (`application/pidf+xml`).
    pub fn to_xml(&self) -> String {
        self.to_element().to_document(NS_PIDF, PREFIXES)
    }

    /// The same entity with one closed tuple and nothing else: what a
    /// politely blocked watcher sees (RFC 5025 §3.2.1 `polite-block`).
    pub fn closed(entity: &str) -> Presence {
        let mut p = Presence::new(entity);
        p.tuples.push(Tuple::new("closed", Basic::Closed));
        p
    }
}

/// Composes the publications of one presentity into a single document
/// (RFC 3903 §4 leaves the policy to the compositor; this one is a union):
/// tuples, persons and devices from every publication, later ones
/// replacing earlier ones with the same id; notes and extensions appended.
pub fn compose<'a>(entity: &str, publications: impl IntoIterator<Item = &'a Presence>) -> Presence {
    let mut out = Presence::new(entity);
    for p in publications {
        for t in &p.tuples {
            match out.tuples.iter_mut().find(|x| x.id == t.id) {
                Some(x) => *x = t.clone(),
                None => out.tuples.push(t.clone()),
            }
        }
        for t in &p.persons {
            match out.persons.iter_mut().find(|x| x.id == t.id) {
                Some(x) => *x = t.clone(),
                None => out.persons.push(t.clone()),
            }
        }
        for t in &p.devices {
            match out.devices.iter_mut().find(|x| x.id == t.id) {
                Some(x) => *x = t.clone(),
                None => out.devices.push(t.clone()),
            }
        }
        out.notes.extend(p.notes.iter().cloned());
        out.extensions.extend(p.extensions.iter().cloned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_document() {
        let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:carol@example.net">
  <tuple id="x9"><status><basic>closed</basic></status></tuple>
</presence>"#;
        let p = Presence::parse(doc, &XmlLimits::DEFAULT).unwrap();
        assert_eq!(p.entity.as_deref(), Some("pres:carol@example.net"));
        assert_eq!(p.tuples[0].status.basic, Some(Basic::Closed));
        assert_eq!(
            Presence::parse(p.to_xml().as_bytes(), &XmlLimits::DEFAULT).unwrap(),
            p
        );
    }

    #[test]
    fn structure_errors() {
        let l = XmlLimits::DEFAULT;
        let bad: [&[u8]; 5] = [
            br#"<presence xmlns="urn:ietf:params:xml:ns:pidf"><tuple id="a"><status/></tuple></presence>"#,
            br#"<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:a@b"><tuple><status/></tuple></presence>"#,
            br#"<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:a@b"><tuple id="a"/></presence>"#,
            br#"<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:a@b"><tuple id="a"><status><basic>maybe</basic></status></tuple></presence>"#,
            br#"<presence xmlns="urn:example" entity="pres:a@b"/>"#,
        ];
        for b in bad {
            assert!(matches!(Presence::parse(b, &l), Err(PidfError::Invalid(_))));
        }
        assert!(Presence::parse_lenient(bad[0], &l).is_ok());
    }

    #[test]
    fn compose_keeps_publications_apart_by_id() {
        let mut a = Presence::new("pres:u@x");
        a.tuples.push(Tuple::new("phone", Basic::Open));
        let mut b = Presence::new("pres:u@x");
        b.tuples.push(Tuple::new("pc", Basic::Closed));
        b.persons
            .push(Person::new("me").with(rpid::activities(&["meeting"])));
        let mut c = Presence::new("pres:u@x");
        c.tuples.push(Tuple::new("phone", Basic::Closed));
        let out = compose("pres:u@x", [&a, &b, &c]);
        assert_eq!(out.tuples.len(), 2);
        assert_eq!(out.tuples[0].status.basic, Some(Basic::Closed));
        assert_eq!(out.persons[0].activities(), vec!["meeting".to_string()]);
    }

    #[test]
    fn closed_document() {
        let p = Presence::closed("pres:z@y");
        assert_eq!(p.tuples.len(), 1);
        assert_eq!(p.tuples[0].status.basic, Some(Basic::Closed));
    }
}
