//! Watcher information (RFC 3857 event template package `presence.winfo`,
//! RFC 3858 `application/watcherinfo+xml` documents): tells a presentity
//! who watches it, so it can authorize pending watchers.

use crate::pidf::PidfError;
use crate::pidf::xml::{Element, XmlLimits};

/// Watcher-information namespace (RFC 3858 §4).
pub const NS_WINFO: &str = "urn:ietf:params:xml:ns:watcherinfo";

/// A watcher's subscription status (RFC 3858 §4.2, RFC 3857 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatcherStatus {
    /// Waiting for the presentity's decision.
    Pending,
    /// Authorized and receiving notifications.
    Active,
    /// Refused, but shown as active to the watcher.
    Waiting,
    /// Ended.
    Terminated,
}

impl WatcherStatus {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            WatcherStatus::Pending => "pending",
            WatcherStatus::Active => "active",
            WatcherStatus::Waiting => "waiting",
            WatcherStatus::Terminated => "terminated",
        }
    }
    fn parse(s: &str) -> Option<WatcherStatus> {
        Some(match s {
            "pending" => WatcherStatus::Pending,
            "active" => WatcherStatus::Active,
            "waiting" => WatcherStatus::Waiting,
            "terminated" => WatcherStatus::Terminated,
            _ => return None,
        })
    }
}

/// One `<watcher>` (RFC 3858 §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watcher {
    /// The watcher's URI.
    pub uri: String,
    /// `id`: identifies the subscription.
    pub id: String,
    /// `status`.
    pub status: WatcherStatus,
    /// `event`: what changed (`subscribe`, `approved`, `deactivated`,
    /// `probation`, `rejected`, `timeout`, `giveup`, `noresource`).
    pub event: String,
    /// `display-name`.
    pub display_name: Option<String>,
    /// `duration-subscribed` seconds.
    pub duration_subscribed: Option<u64>,
}

/// A `<watcher-list>` for one resource and package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatcherList {
    /// The watched resource URI.
    pub resource: String,
    /// The watched package, e.g. `presence`.
    pub package: String,
    /// Its watchers.
    pub watchers: Vec<Watcher>,
}

/// A watcherinfo document (RFC 3858 §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatcherInfo {
    /// `version`, incremented per NOTIFY in a subscription.
    pub version: u32,
    /// True for `state="full"`, false for `partial`.
    pub full: bool,
    /// The lists.
    pub lists: Vec<WatcherList>,
}

impl WatcherInfo {
    /// Parses a document.
    pub fn parse(data: &[u8], limits: &XmlLimits) -> Result<WatcherInfo, PidfError> {
        let root = Element::parse(data, limits)?;
        if !root.is(NS_WINFO, "watcherinfo") {
            return Err(PidfError::Invalid("root is not <watcherinfo>"));
        }
        let version = root
            .attr("", "version")
            .and_then(|v| v.parse().ok())
            .ok_or(PidfError::Invalid("watcherinfo version"))?;
        let full = match root.attr("", "state") {
            Some("full") => true,
            Some("partial") => false,
            _ => return Err(PidfError::Invalid("watcherinfo state")),
        };
        let mut lists = Vec::new();
        for l in root.elements().filter(|e| e.is(NS_WINFO, "watcher-list")) {
            let (Some(resource), Some(package)) = (l.attr("", "resource"), l.attr("", "package"))
            else {
                return Err(PidfError::Invalid("watcher-list attributes"));
            };
            let mut watchers = Vec::new();
            for w in l.elements().filter(|e| e.is(NS_WINFO, "watcher")) {
                let (Some(id), Some(status), Some(event)) = (
                    w.attr("", "id"),
                    w.attr("", "status").and_then(WatcherStatus::parse),
                    w.attr("", "event"),
                ) else {
                    return Err(PidfError::Invalid("watcher attributes"));
                };
                watchers.push(Watcher {
                    uri: w.text().trim().to_owned(),
                    id: id.to_owned(),
                    status,
                    event: event.to_owned(),
                    display_name: w.attr("", "display-name").map(str::to_owned),
                    duration_subscribed: w
                        .attr("", "duration-subscribed")
                        .and_then(|v| v.parse().ok()),
                });
            }
            lists.push(WatcherList {
                resource: resource.to_owned(),
                package: package.to_owned(),
                watchers,
            });
        }
        Ok(WatcherInfo {
            version,
            full,
            lists,
        })
    }

    /// Serializes (`application/watcherinfo+xml`).
    pub fn to_xml(&self) -> String {
        let mut root = Element::new(NS_WINFO, "watcherinfo")
            .with_attr("version", &self.version.to_string())
            .with_attr("state", if self.full { "full" } else { "partial" });
        for l in &self.lists {
            let mut le = Element::new(NS_WINFO, "watcher-list")
                .with_attr("resource", &l.resource)
                .with_attr("package", &l.package);
            for w in &l.watchers {
                let mut we = Element::new(NS_WINFO, "watcher")
                    .with_attr("status", w.status.as_str())
                    .with_attr("id", &w.id)
                    .with_attr("event", &w.event)
                    .with_text(&w.uri);
                if let Some(d) = &w.display_name {
                    we.set_attr("", "display-name", d);
                }
                if let Some(d) = w.duration_subscribed {
                    we.set_attr("", "duration-subscribed", &d.to_string());
                }
                le = le.with_child(we);
            }
            root = root.with_child(le);
        }
        root.to_document(NS_WINFO, &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let w = WatcherInfo {
            version: 3,
            full: true,
            lists: vec![WatcherList {
                resource: "sip:kim@example.org".into(),
                package: "presence".into(),
                watchers: vec![Watcher {
                    uri: "sip:lee@example.org".into(),
                    id: "w1".into(),
                    status: WatcherStatus::Pending,
                    event: "subscribe".into(),
                    display_name: Some("Lee".into()),
                    duration_subscribed: None,
                }],
            }],
        };
        let x = w.to_xml();
        assert_eq!(
            WatcherInfo::parse(x.as_bytes(), &XmlLimits::DEFAULT).unwrap(),
            w
        );
        let bad = br#"<watcherinfo xmlns="urn:ietf:params:xml:ns:watcherinfo" version="x" state="full"/>"#;
        assert!(WatcherInfo::parse(bad, &XmlLimits::DEFAULT).is_err());
    }
}
