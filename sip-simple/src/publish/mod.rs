//! Event state publication (RFC 3903) for the presence package, as Sans-IO
//! engines:
//!
//! * [`Compositor`]: the server's event state compositor (§6). It keeps
//!   each publication of a presentity apart under its own entity tag,
//!   answers 200 with `SIP-ETag` and `Expires`, 412 for an unknown
//!   `SIP-If-Match`, 423 with `Min-Expires`, 489 for another package, 415
//!   for another body type, and composes the live publications into one
//!   PIDF document ([`crate::pidf::compose`]).
//! * [`Publisher`]: the event publication agent (§4): initial PUBLISH,
//!   refresh (no body, `SIP-If-Match`), modify (new body, `SIP-If-Match`)
//!   and remove (`Expires: 0`); after a 412 it starts over with an initial
//!   PUBLISH.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::message::{Event, HeaderName, MediaType, Message, Method, NameAddr, SipUri, Uri};
use crate::pidf::{Presence, XmlLimits, compose};
use crate::subscription::notifier::{aor, simple};
use crate::subscription::{IdGenerator, LocalEndpoint};

/// Limits of a [`Compositor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompositorConfig {
    /// Longest publication granted. Default 3600 s.
    pub max_expires: u32,
    /// Shortest accepted (else 423). Default 60 s.
    pub min_expires: u32,
    /// Duration when PUBLISH has no Expires (RFC 3903 §6, the package
    /// default; RFC 3856 says 3600). Default 3600 s.
    pub default_expires: u32,
    /// Most publications per presentity (else 403). Default 16.
    pub max_per_resource: usize,
    /// Most publications overall (else 503). Default 10 000.
    pub max_publications: usize,
    /// Bounds on PIDF bodies.
    pub xml: XmlLimits,
}

impl Default for CompositorConfig {
    fn default() -> Self {
        CompositorConfig {
            max_expires: 3600,
            min_expires: 60,
            default_expires: 3600,
            max_per_resource: 16,
            max_publications: 10_000,
            xml: XmlLimits::DEFAULT,
        }
    }
}

#[derive(Debug, Clone)]
struct Publication {
    etag: String,
    doc: Presence,
    expires_at: Instant,
}

/// What a PUBLISH did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishOutcome {
    /// The response to send.
    pub response: Message,
    /// The presentity whose composed state changed (NOTIFY its watchers).
    pub changed: Option<String>,
}

/// The event state compositor: see the [module docs](self).
pub struct Compositor<G> {
    cfg: CompositorConfig,
    ids: G,
    pubs: HashMap<String, Vec<Publication>>,
}

impl<G> std::fmt::Debug for Compositor<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compositor")
            .field("resources", &self.pubs.len())
            .finish()
    }
}

impl<G: IdGenerator> Compositor<G> {
    /// An empty compositor; entity tags come from `ids`.
    pub fn new(cfg: CompositorConfig, ids: G) -> Compositor<G> {
        Compositor {
            cfg,
            ids,
            pubs: HashMap::new(),
        }
    }

    /// Live publications of `resource`.
    pub fn publications(&self, resource: &str) -> usize {
        self.pubs.get(resource).map_or(0, Vec::len)
    }

    fn total(&self) -> usize {
        self.pubs.values().map(Vec::len).sum()
    }

    /// The composed state of `resource` (`user@host`), if it has
    /// publications.
    pub fn composed(&self, resource: &str) -> Option<Presence> {
        let list = self.pubs.get(resource)?;
        if list.is_empty() {
            return None;
        }
        Some(compose(
            &format!("pres:{resource}"),
            list.iter().map(|p| &p.doc),
        ))
    }

    /// Handles a PUBLISH whose Request-URI is a local presentity
    /// (`resource_exists`; else 404).
    pub fn handle_publish(
        &mut self,
        now: Instant,
        req: &Message,
        resource_exists: bool,
    ) -> PublishOutcome {
        let reply = |code: u16| PublishOutcome {
            response: simple(req, code),
            changed: None,
        };
        match req.event() {
            Ok(Some(e)) if e.package.eq_ignore_ascii_case("presence") => {}
            Ok(_) => {
                let r = Message::response_to(req, 489, "Bad Event")
                    .to_tag("e")
                    .header(HeaderName::AllowEvents, "presence")
                    .build()
                    .unwrap_or_else(|_| simple(req, 489));
                return PublishOutcome {
                    response: r,
                    changed: None,
                };
            }
            Err(_) => return reply(400),
        }
        if !resource_exists {
            return reply(404);
        }
        let Some(resource) = req.request_uri().and_then(aor) else {
            return reply(416);
        };
        let Ok(expires) = req.expires() else {
            return reply(400);
        };
        let expires = expires.unwrap_or(self.cfg.default_expires);
        if expires != 0 && expires < self.cfg.min_expires {
            let r = Message::response_to(req, 423, "Interval Too Brief")
                .to_tag("e")
                .header(HeaderName::MinExpires, self.cfg.min_expires.to_string())
                .build()
                .unwrap_or_else(|_| simple(req, 423));
            return PublishOutcome {
                response: r,
                changed: None,
            };
        }
        let granted = expires.min(self.cfg.max_expires);
        let doc = if req.body().is_empty() {
            None
        } else {
            match req.content_type() {
                Ok(Some(ct)) if ct.is("application", "pidf+xml") => {}
                _ => return reply(415),
            }
            match Presence::parse_lenient(req.body(), &self.cfg.xml) {
                Ok(d) => Some(d),
                Err(_) => return reply(400),
            }
        };
        let if_match = match req.sip_if_match() {
            Ok(v) => v,
            Err(_) => return reply(400),
        };
        let expires_at = now + Duration::from_secs(u64::from(granted));
        let new_tag = self.ids.next_id();
        let etag_out;
        match if_match {
            None => {
                // Initial publication: needs a body (§6 step 4).
                let Some(doc) = doc else { return reply(400) };
                if granted == 0 {
                    return reply(400);
                }
                if self.total() >= self.cfg.max_publications {
                    return reply(503);
                }
                let list = self.pubs.entry(resource.clone()).or_default();
                if list.len() >= self.cfg.max_per_resource {
                    return reply(403);
                }
                list.push(Publication {
                    etag: new_tag.clone(),
                    doc,
                    expires_at,
                });
                etag_out = new_tag;
            }
            Some(tag) => {
                let Some(list) = self.pubs.get_mut(&resource) else {
                    return reply(412);
                };
                let Some(pos) = list.iter().position(|p| p.etag == tag.as_str()) else {
                    return reply(412);
                };
                if granted == 0 {
                    list.remove(pos);
                    if list.is_empty() {
                        self.pubs.remove(&resource);
                    }
                    etag_out = tag.to_string();
                } else {
                    let Some(p) = list.get_mut(pos) else {
                        return reply(412);
                    };
                    p.etag = new_tag.clone();
                    p.expires_at = expires_at;
                    let modified = doc.is_some();
                    if let Some(d) = doc {
                        p.doc = d;
                    }
                    let response = ok(req, &new_tag, granted);
                    return PublishOutcome {
                        response,
                        changed: modified.then_some(resource),
                    };
                }
            }
        }
        PublishOutcome {
            response: ok(req, &etag_out, granted),
            changed: Some(resource),
        }
    }

    /// When to call [`Compositor::handle_timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pubs.values().flatten().map(|p| p.expires_at).min()
    }

    /// Drops expired publications; returns the presentities whose composed
    /// state changed.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<String> {
        let mut changed = Vec::new();
        self.pubs.retain(|r, list| {
            let before = list.len();
            list.retain(|p| p.expires_at > now);
            if list.len() != before {
                changed.push(r.clone());
            }
            !list.is_empty()
        });
        changed.sort();
        changed
    }
}

fn ok(req: &Message, etag: &str, granted: u32) -> Message {
    Message::response_to(req, 200, "OK")
        .to_tag("p")
        .header(HeaderName::SipETag, etag.to_owned())
        .expires(granted)
        .build()
        .unwrap_or_else(|_| simple(req, 200))
}

/// What a PUBLISH response means to the [`Publisher`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum PublisherEvent {
    /// Accepted: the entity tag and duration.
    Published {
        /// The new entity tag.
        etag: String,
        /// Granted seconds.
        expires: u32,
    },
    /// The publication was removed.
    Removed,
    /// Send this PUBLISH instead (after 412 or 423).
    Retry(Message),
    /// Failed with this status.
    Failed(u16),
    /// Not for this publisher, or provisional.
    None,
}

/// An event publication agent for one presentity: see the
/// [module docs](self).
pub struct Publisher<G> {
    local: LocalEndpoint,
    aor: SipUri,
    expires: u32,
    ids: G,
    etag: Option<String>,
    doc: Option<Presence>,
    cseq: u32,
    refresh_at: Option<Instant>,
    pending_call_id: Option<String>,
    removing: bool,
}

impl<G> std::fmt::Debug for Publisher<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("etag", &self.etag)
            .finish()
    }
}

impl<G: IdGenerator> Publisher<G> {
    /// A publisher for `aor` asking for `expires` seconds.
    pub fn new(local: LocalEndpoint, aor: SipUri, expires: u32, ids: G) -> Publisher<G> {
        Publisher {
            local,
            aor,
            expires,
            ids,
            etag: None,
            doc: None,
            cseq: 0,
            refresh_at: None,
            pending_call_id: None,
            removing: false,
        }
    }

    /// The current entity tag.
    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    fn build(&mut self, body: Option<&Presence>, expires: u32, if_match: bool) -> Option<Message> {
        self.cseq = self.cseq.checked_add(1)?;
        let call_id = self.ids.next_id();
        let tag = self.ids.next_id();
        self.pending_call_id = Some(call_id.clone());
        let mut b = Message::request(Method::Publish, Uri::from(self.aor.clone()))
            .via(&self.local.via())
            .max_forwards(70)
            .from(&NameAddr::new(self.aor.clone()).with_param("tag", Some(&tag)))
            .to(&NameAddr::new(self.aor.clone()))
            .call_id(&call_id)
            .cseq(self.cseq, Method::Publish)
            .event(&Event::new("presence"))
            .expires(expires);
        if if_match && let Some(e) = &self.etag {
            b = b.header(HeaderName::SipIfMatch, e.clone());
        }
        if let Some(d) = body {
            b = b.body(
                &MediaType::new("application", "pidf+xml"),
                Bytes::from(d.to_xml()),
            );
        }
        b.build().ok()
    }

    /// Publishes `doc`: an initial PUBLISH, or a modify when a publication
    /// exists.
    pub fn publish(&mut self, doc: Presence) -> Option<Message> {
        self.removing = false;
        let m = self.build(Some(&doc), self.expires, true);
        self.doc = Some(doc);
        m
    }

    /// Refreshes the publication (no body).
    pub fn refresh(&mut self) -> Option<Message> {
        self.etag.as_ref()?;
        self.build(None, self.expires, true)
    }

    /// Removes the publication (`Expires: 0`).
    pub fn remove(&mut self) -> Option<Message> {
        self.etag.as_ref()?;
        self.removing = true;
        self.refresh_at = None;
        self.build(None, 0, true)
    }

    /// A response to the last PUBLISH.
    pub fn handle_response(&mut self, now: Instant, resp: &Message) -> PublisherEvent {
        let Some(code) = resp.status() else {
            return PublisherEvent::None;
        };
        if resp.call_id() != self.pending_call_id.as_deref() {
            return PublisherEvent::None;
        }
        match code {
            100..=199 => PublisherEvent::None,
            200..=299 => {
                if self.removing {
                    self.etag = None;
                    self.refresh_at = None;
                    return PublisherEvent::Removed;
                }
                let Ok(Some(etag)) = resp.sip_etag() else {
                    return PublisherEvent::Failed(code);
                };
                let expires = resp.expires().ok().flatten().unwrap_or(self.expires);
                self.etag = Some(etag.to_string());
                let lead = if expires > 120 { 60 } else { expires / 2 };
                self.refresh_at =
                    (expires > 0).then(|| now + Duration::from_secs(u64::from(expires - lead)));
                PublisherEvent::Published {
                    etag: etag.to_string(),
                    expires,
                }
            }
            412 => {
                // The compositor lost our publication: start again (§4.1.2).
                self.etag = None;
                match self.doc.clone() {
                    Some(d) if !self.removing => match self.build(Some(&d), self.expires, false) {
                        Some(m) => PublisherEvent::Retry(m),
                        None => PublisherEvent::Failed(412),
                    },
                    _ => PublisherEvent::Failed(412),
                }
            }
            423 => match resp.min_expires().ok().flatten() {
                Some(min) if min > self.expires => {
                    self.expires = min;
                    let doc = self.doc.clone();
                    match self.build(doc.as_ref(), min, true) {
                        Some(m) => PublisherEvent::Retry(m),
                        None => PublisherEvent::Failed(423),
                    }
                }
                _ => PublisherEvent::Failed(423),
            },
            _ => PublisherEvent::Failed(code),
        }
    }

    /// When to call [`Publisher::handle_timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.refresh_at
    }

    /// Time passed: a refresh PUBLISH when due.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Message> {
        match self.refresh_at {
            Some(at) if at <= now => {
                self.refresh_at = None;
                self.refresh()
            }
            _ => None,
        }
    }
}
