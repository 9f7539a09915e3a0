//! What the authorization engine answers, and how each protocol carries
//! the answer out.
//!
//! The four verdicts are the subscription-handling actions of the presence
//! authorization rules, RFC 5025 §3.2.1: `allow`, `confirm`,
//! `polite-block` and `block`. The product's "blocked watchers always see
//! the user as unavailable" is `polite-block`; an explicit refusal (limits,
//! services switched off, SIP without auto-authorization) is `block`.
//!
//! # Carrying out a subscription verdict
//!
//! | verdict | XMPP (RFC 6121 §3.1) | SIP notifier (RFC 6665, RFC 3856) |
//! |---|---|---|
//! | [`Verdict::Allow`] | answer `subscribed` for the user and send current presence | `200 OK`, `Subscription-State: active`, NOTIFY the real PIDF |
//! | [`Verdict::Confirm`] | deliver the `subscribe` to the user's clients (store it while they are offline) | never returned for SIP (see [`Reason::SipPromptUnsupported`]) |
//! | [`Verdict::PoliteBlock`] | do not forward the `subscribe` and do not answer `unsubscribed` (that would reveal the block); to a watcher that already has a subscription send one `unavailable` presence and nothing after | `200 OK`, `Subscription-State: active`, and NOTIFY only a PIDF whose tuple has basic status `closed`, whatever the user's real state |
//! | [`Verdict::Block`] | answer `unsubscribed` for the user; for [`Reason::WatcherLimitReached`] a presence error `<policy-violation/>` (RFC 6120 §8.3.3.12) | `403 Forbidden` |
//!
//! # Carrying out an IM verdict
//!
//! | verdict | XMPP | SIP `MESSAGE` (RFC 3428) |
//! |---|---|---|
//! | [`Verdict::Allow`] | route the message | forward it |
//! | [`Verdict::Confirm`] | deliver it marked as a request from a stranger, for the user to accept | the same, or `480` if the client cannot show requests |
//! | [`Verdict::PoliteBlock`] | drop it with `<service-unavailable/>`, the answer for an unreachable user (as XEP-0016 blocking does) | `480 Temporarily Unavailable` |
//! | [`Verdict::Block`] | `<not-allowed/>` (`<service-unavailable/>` when IM is switched off) | `403 Forbidden` |

/// The protocol a watcher or sender uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// XMPP (RFC 6120/6121; the product claims RFC 3920/3921).
    Xmpp,
    /// SIP/SIMPLE (RFC 3856 presence, RFC 3428 MESSAGE).
    Sip,
}

/// What to do with a request (RFC 5025 §3.2.1 subscription handling).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Grant it.
    Allow,
    /// Ask the user (`confirm`; the product's prompt).
    Confirm,
    /// Pretend to grant it, but show the user as unavailable and reveal
    /// nothing (`polite-block`).
    PoliteBlock,
    /// Refuse it openly (`block`).
    Block,
}

/// Which rule produced a verdict. Each rule of REQUIREMENTS §4 has its
/// own reason, so callers can log it and tests can pin it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The watcher is the user: users always see their own status.
    OwnAddress,
    /// Auto-authorization granted a local watcher without prompting.
    AutoAuthorized,
    /// The watcher is on the user's allowed list.
    AllowedList,
    /// Nothing else applied and the user's default is "allow all".
    DefaultAllowAll,
    /// Auto-authorization is off, so the local watcher's request goes to
    /// the user's client, as in standard XMPP.
    UserConsentRequired,
    /// An external watcher on neither list, and the user chose "ask me".
    AskMe,
    /// The watcher is on the user's blocked list.
    BlockedList,
    /// Nothing else applied and the user's default is "block all".
    DefaultBlockAll,
    /// The user already has the "Maximum Watchers" number of watchers.
    WatcherLimitReached,
    /// A local SIP watcher, while auto-authorization is off: the product
    /// does not support SIP clients in that mode.
    SipRequiresAutoAuthorization,
    /// The rules say "ask the user", but a SIP watcher has no way to be
    /// held for the user's answer in this product.
    SipPromptUnsupported,
    /// "Enable availability sharing" is off: users see only their own
    /// status.
    AvailabilitySharingDisabled,
    /// "Enable instant messaging" is off.
    InstantMessagingDisabled,
    /// The watcher holds no granted subscription.
    NoSubscription,
}

/// A verdict and the rule that produced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decision {
    /// What to do.
    pub verdict: Verdict,
    /// Why.
    pub reason: Reason,
}

impl Decision {
    /// A decision from its parts.
    pub const fn new(verdict: Verdict, reason: Reason) -> Self {
        Self { verdict, reason }
    }

    /// An [`Verdict::Allow`] decision.
    pub const fn allow(reason: Reason) -> Self {
        Self::new(Verdict::Allow, reason)
    }

    /// A [`Verdict::Confirm`] decision.
    pub const fn confirm(reason: Reason) -> Self {
        Self::new(Verdict::Confirm, reason)
    }

    /// A [`Verdict::PoliteBlock`] decision.
    pub const fn polite_block(reason: Reason) -> Self {
        Self::new(Verdict::PoliteBlock, reason)
    }

    /// A [`Verdict::Block`] decision.
    pub const fn block(reason: Reason) -> Self {
        Self::new(Verdict::Block, reason)
    }

    /// Whether the verdict is [`Verdict::Allow`].
    pub fn is_allow(&self) -> bool {
        self.verdict == Verdict::Allow
    }
}

/// How much of a user's presence a watcher may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// The composed presence, as published.
    Full,
    /// Only "unavailable" (XMPP `type='unavailable'`, PIDF basic
    /// `closed`), whatever the user's real state; the reason says why.
    UnavailableOnly(Reason),
}
