//! SIP-specific event notification (RFC 6665) for the presence package
//! (RFC 3856) and the watcher-information template package (RFC 3857), as
//! Sans-IO dialog engines:
//!
//! * [`Notifier`]: the subscription table of a presence server. It answers
//!   SUBSCRIBE (200, 423 with Min-Expires, 489 with Allow-Events, 481, 403),
//!   asks an authorization hook ([`Authorizer`], normally
//!   [`PolicyAuthorizer`] over `presence_model::authz`) before activating a
//!   subscription, builds every NOTIFY (immediate, on state change, on
//!   refresh, on expiry with `reason=timeout`, on termination with any
//!   [`TerminationReason`] and `retry-after`) and tells watchers of a
//!   presentity who subscribes (`presence.winfo`, RFC 3858 bodies).
//! * [`Subscriber`]: a watcher's side: initial SUBSCRIBE, 423 retry with
//!   the Min-Expires value, refresh before expiry, NOTIFY handling with
//!   forked dialogs (RFC 6665 §4.1.2.4), un-subscribe with `Expires: 0`.
//!
//! Both produce [`Message`]s; the caller sends requests through a
//! [`crate::transaction::TransactionTable`] (which sets the Via branch)
//! and feeds responses back. Time comes in as `Instant`; tags and Call-IDs
//! come from an [`IdGenerator`].

mod authz;
pub(crate) mod notifier;
mod subscriber;

use crate::message::{Message, NameAddr, SipUri, Via};
use crate::transaction::Transport;

pub use authz::{Authorizer, PolicyAuthorizer};
pub use notifier::{
    Notifier, NotifierConfig, NotifierError, Notify, SubState, SubscribeOutcome, SubscriptionId,
    SubscriptionInfo,
};
pub use subscriber::{Notification, Subscriber, SubscriberConfig, SubscriberEvent};

/// Source of fresh identifiers (tags, Call-IDs, entity tags). Implemented
/// for any `FnMut() -> String`; values must be unique and, for tags and
/// entity tags, unguessable (RFC 3261 §19.3, RFC 3903 §4.1).
pub trait IdGenerator {
    /// A new identifier (a SIP token).
    fn next_id(&mut self) -> String;
}

impl<F: FnMut() -> String> IdGenerator for F {
    fn next_id(&mut self) -> String {
        self()
    }
}

/// Why a subscription ended (RFC 6665 §4.2.2, the `reason` parameter of
/// Subscription-State).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TerminationReason {
    /// It expired without refresh.
    Timeout,
    /// The notifier or the presentity refused it.
    Rejected,
    /// The resource no longer exists.
    NoResource,
    /// Ended by the notifier; the subscriber may re-subscribe at once.
    Deactivated,
    /// Ended; re-subscribe after `retry-after`.
    Probation,
    /// The authorization decision took too long; re-subscribe later.
    Giveup,
}

impl TerminationReason {
    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            TerminationReason::Timeout => "timeout",
            TerminationReason::Rejected => "rejected",
            TerminationReason::NoResource => "noresource",
            TerminationReason::Deactivated => "deactivated",
            TerminationReason::Probation => "probation",
            TerminationReason::Giveup => "giveup",
        }
    }

    /// Parses a parameter value (case-insensitive).
    pub fn parse(s: &str) -> Option<TerminationReason> {
        Some(match s.to_ascii_lowercase().as_str() {
            "timeout" => TerminationReason::Timeout,
            "rejected" => TerminationReason::Rejected,
            "noresource" => TerminationReason::NoResource,
            "deactivated" => TerminationReason::Deactivated,
            "probation" => TerminationReason::Probation,
            "giveup" => TerminationReason::Giveup,
            _ => return None,
        })
    }
}

/// This endpoint as seen in the messages it builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalEndpoint {
    /// Host for the Via sent-by.
    pub via_host: String,
    /// Port for the Via sent-by.
    pub via_port: Option<u16>,
    /// Transport for the Via.
    pub transport: Transport,
    /// The Contact URI (the remote target for in-dialog requests).
    pub contact: SipUri,
}

impl LocalEndpoint {
    /// A Via for a new request; the branch is a placeholder that the
    /// transaction table replaces.
    pub(crate) fn via(&self) -> Via {
        Via::new(
            self.transport.as_str(),
            &self.via_host,
            self.via_port,
            "z9hG4bKpending",
        )
    }
    pub(crate) fn contact(&self) -> crate::message::Contact {
        crate::message::Contact::Addr(NameAddr::new(self.contact.clone()))
    }
}

/// The first Contact address of a message, if any.
pub(crate) fn first_contact(m: &Message) -> Option<NameAddr> {
    m.contacts().ok()?.into_iter().find_map(|c| match c {
        crate::message::Contact::Addr(a) => Some(a),
        crate::message::Contact::Star => None,
    })
}
