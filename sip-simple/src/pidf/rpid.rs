//! RPID element helpers (RFC 4480 §3): build the elements a publisher puts
//! in `<dm:person>` and read their values.

use super::{Element, NS_RPID};

/// Reads an enumeration container (`activities`, `mood`, `place-type`,
/// `privacy`): the local names of its child elements, skipping `note`;
/// for `other` the element's text is returned instead.
pub fn values(e: Option<&Element>) -> Vec<String> {
    let Some(e) = e else { return Vec::new() };
    e.elements()
        .filter(|c| !(c.ns == NS_RPID && c.name == "note"))
        .map(|c| {
            if c.name == "other" {
                c.text()
            } else {
                c.name.clone()
            }
        })
        .collect()
}

fn container(name: &str, values: &[&str]) -> Element {
    let mut e = Element::new(NS_RPID, name);
    for v in values {
        e = e.with_child(Element::new(NS_RPID, v));
    }
    e
}

/// `<rpid:activities>` with one empty element per activity (e.g. `busy`,
/// `on-the-phone`, `meeting`).
pub fn activities(values: &[&str]) -> Element {
    container("activities", values)
}

/// `<rpid:mood>` with one element per mood (e.g. `happy`).
pub fn mood(values: &[&str]) -> Element {
    container("mood", values)
}

/// `<rpid:place-type>` with one RPID element per place (e.g. `home`).
pub fn place_type(values: &[&str]) -> Element {
    container("place-type", values)
}

/// `<rpid:privacy>` with one element per privacy value (e.g. `quiet`).
pub fn privacy(values: &[&str]) -> Element {
    container("privacy", values)
}

/// `<rpid:user-input>` (RFC 4480 §3.15): whether the user is idle, and
/// when the last input happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInput {
    /// True for `idle`, false for `active`.
    pub idle: bool,
    /// `last-input` timestamp as written.
    pub last_input: Option<String>,
    /// `idle-threshold` seconds.
    pub idle_threshold: Option<u32>,
}

impl UserInput {
    /// Reads the element; `None` if the value is neither `idle` nor
    /// `active`.
    pub fn from_element(e: &Element) -> Option<UserInput> {
        let idle = match e.text().trim() {
            "idle" => true,
            "active" => false,
            _ => return None,
        };
        Some(UserInput {
            idle,
            last_input: e.attr("", "last-input").map(str::to_owned),
            idle_threshold: e.attr("", "idle-threshold").and_then(|v| v.parse().ok()),
        })
    }

    /// Builds the element.
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(NS_RPID, "user-input").with_text(if self.idle {
            "idle"
        } else {
            "active"
        });
        if let Some(t) = self.idle_threshold {
            e.set_attr("", "idle-threshold", &t.to_string());
        }
        if let Some(l) = &self.last_input {
            e.set_attr("", "last-input", l);
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_input_round_trip() {
        let u = UserInput {
            idle: true,
            last_input: Some("2026-01-02T03:04:05Z".into()),
            idle_threshold: Some(300),
        };
        assert_eq!(UserInput::from_element(&u.to_element()), Some(u));
        assert_eq!(
            UserInput::from_element(&Element::new(NS_RPID, "user-input").with_text("x")),
            None
        );
    }

    #[test]
    fn other_activity_text() {
        let e = Element::new(NS_RPID, "activities")
            .with_child(Element::new(NS_RPID, "note").with_text("n"))
            .with_child(Element::new(NS_RPID, "other").with_text("juggling"));
        assert_eq!(values(Some(&e)), vec!["juggling".to_string()]);
    }
}
