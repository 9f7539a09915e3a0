//! The authorization rules themselves: pure functions from the service
//! settings, the user's policy and the other party to a [`Decision`].
//!
//! Implements REQUIREMENTS §4 "Authorization". Nothing here stores state
//! or does I/O; policies come from a [`crate::authz::PolicyStore`] or
//! wherever the application keeps them.
//!
//! # Subscription rules, in the order they are applied
//!
//! 1. A user watching themself is allowed ([`Reason::OwnAddress`]).
//! 2. With availability sharing off, everyone else is politely blocked.
//! 3. A **local SIP** watcher while auto-authorization is **off** is
//!    blocked ([`Reason::SipRequiresAutoAuthorization`]). This comes before
//!    the blocked list so that every SIP watcher gets the same `403`: a
//!    blocked one answered differently could tell it was blocked.
//! 4. The blocked list politely blocks; the allowed list allows, for every
//!    watcher (local or external, either protocol).
//! 5. A **local** watcher on neither list:
//!    - default "block all": politely blocked. The product's SIP rule
//!      ("auto-authorized except watchers on the blocked list") is read
//!      with "block all" as blocking every unlisted watcher, because the
//!      same policy must govern both protocols; otherwise a user who
//!      blocks everyone would still be visible to SIP clients.
//!    - default "allow all" and auto-authorization on: allowed without a
//!      prompt ([`Reason::AutoAuthorized`]), XMPP and SIP alike.
//!    - default "allow all" and auto-authorization off: the request goes
//!      to the user's client ([`Reason::UserConsentRequired`]).
//! 6. An **external** (federated) watcher on neither list:
//!    auto-authorization does not apply. "Ask me" sends the request to the
//!    user ([`Reason::AskMe`]); otherwise the default policy decides.
//! 7. A SIP watcher whose answer would be [`Verdict::Confirm`] is blocked
//!    instead ([`Reason::SipPromptUnsupported`]).
//! 8. An answer of allow or confirm becomes a block when the user already
//!    has "Maximum Watchers" watchers ([`Reason::WatcherLimitReached`]):
//!    others cannot add a user at the limit, and asking the user about a
//!    request that could not be granted helps no one.

use crate::address::Address;
use crate::authz::{
    AuthzError, Decision, DefaultPolicy, ListMatch, Protocol, Reason, ServiceConfig, UserPolicy,
    Verdict, Visibility,
};

/// A request from `watcher` to see the presence of `owner`.
#[derive(Clone, Copy, Debug)]
pub struct SubscriptionRequest<'a> {
    /// The presentity: the user whose presence is asked for.
    pub owner: &'a Address,
    /// The owner's policy.
    pub owner_policy: &'a UserPolicy,
    /// Who asks.
    pub watcher: &'a Address,
    /// The protocol the watcher asks over.
    pub protocol: Protocol,
    /// How many watchers the owner has now, not counting `watcher` (so a
    /// refresh of an existing subscription does not count twice).
    pub owner_watcher_count: usize,
}

/// Decides a subscription request (XMPP `subscribe`, SIP `SUBSCRIBE` to
/// the presence event package, or an ad-hoc subscription).
///
/// The rules and their order are in the module documentation.
pub fn authorize_subscription(cfg: &ServiceConfig, req: &SubscriptionRequest<'_>) -> Decision {
    if req.watcher == req.owner {
        return Decision::allow(Reason::OwnAddress);
    }
    if !cfg.availability_sharing {
        return Decision::polite_block(Reason::AvailabilitySharingDisabled);
    }
    let local = cfg.is_local(req.watcher.domain());
    if local && req.protocol == Protocol::Sip && !cfg.auto_authorize {
        return Decision::block(Reason::SipRequiresAutoAuthorization);
    }
    let policy = req.owner_policy;
    let decision = match policy.list_match(req.watcher) {
        ListMatch::Blocked => Decision::polite_block(Reason::BlockedList),
        ListMatch::Allowed => Decision::allow(Reason::AllowedList),
        ListMatch::Neither if local => match policy.default_policy() {
            DefaultPolicy::BlockAll => Decision::polite_block(Reason::DefaultBlockAll),
            DefaultPolicy::AllowAll if cfg.auto_authorize => {
                Decision::allow(Reason::AutoAuthorized)
            }
            DefaultPolicy::AllowAll => Decision::confirm(Reason::UserConsentRequired),
        },
        ListMatch::Neither if policy.ask_me_for_external() => Decision::confirm(Reason::AskMe),
        ListMatch::Neither => by_default(policy.default_policy()),
    };
    let decision = if decision.verdict == Verdict::Confirm && req.protocol == Protocol::Sip {
        Decision::block(Reason::SipPromptUnsupported)
    } else {
        decision
    };
    if matches!(decision.verdict, Verdict::Allow | Verdict::Confirm)
        && cfg.max_watchers.is_reached(req.owner_watcher_count)
    {
        return Decision::block(Reason::WatcherLimitReached);
    }
    decision
}

/// Decides whether `sender` may send an instant message to `recipient`,
/// whose policy is `recipient_policy`.
///
/// The same policy gates IM and availability: blocked list and "block
/// all" politely block (the sender is answered as if the recipient were
/// unreachable), the allowed list and "allow all" allow, and an external
/// sender on neither list under "ask me" is [`Verdict::Confirm`].
/// Auto-authorization concerns availability only and plays no part here.
/// With instant messaging switched off service-wide every message is
/// blocked.
pub fn may_send_im(
    cfg: &ServiceConfig,
    sender: &Address,
    recipient: &Address,
    recipient_policy: &UserPolicy,
) -> Decision {
    if !cfg.instant_messaging {
        return Decision::block(Reason::InstantMessagingDisabled);
    }
    if sender == recipient {
        return Decision::allow(Reason::OwnAddress);
    }
    match recipient_policy.list_match(sender) {
        ListMatch::Blocked => Decision::polite_block(Reason::BlockedList),
        ListMatch::Allowed => Decision::allow(Reason::AllowedList),
        ListMatch::Neither
            if recipient_policy.ask_me_for_external() && !cfg.is_local(sender.domain()) =>
        {
            Decision::confirm(Reason::AskMe)
        }
        ListMatch::Neither => by_default(recipient_policy.default_policy()),
    }
}

/// What `watcher` may see of `owner`'s presence right now.
///
/// `authorized` says whether the watcher holds a granted subscription
/// (roster or ad-hoc); without one it sees nothing but "unavailable". The
/// policy is consulted again on every call, so a watcher the user blocks
/// after granting sees "unavailable" from then on: blocked watchers
/// "always see the user as unavailable". The same holds for "block all"
/// towards unlisted watchers.
///
/// An authorized external watcher on neither list under "ask me" sees
/// everything: its subscription came from the user's own answer.
pub fn visibility(
    cfg: &ServiceConfig,
    owner: &Address,
    owner_policy: &UserPolicy,
    watcher: &Address,
    authorized: bool,
) -> Visibility {
    if watcher == owner {
        return Visibility::Full;
    }
    if !cfg.availability_sharing {
        return Visibility::UnavailableOnly(Reason::AvailabilitySharingDisabled);
    }
    let local = cfg.is_local(watcher.domain());
    let hidden_by = match owner_policy.list_match(watcher) {
        ListMatch::Blocked => Some(Reason::BlockedList),
        ListMatch::Allowed => None,
        ListMatch::Neither if !local && owner_policy.ask_me_for_external() => None,
        ListMatch::Neither => match owner_policy.default_policy() {
            DefaultPolicy::BlockAll => Some(Reason::DefaultBlockAll),
            DefaultPolicy::AllowAll => None,
        },
    };
    match hidden_by {
        Some(reason) => Visibility::UnavailableOnly(reason),
        None if authorized => Visibility::Full,
        None => Visibility::UnavailableOnly(Reason::NoSubscription),
    }
}

/// The watchers whose view of `owner` changes when the owner's policy
/// goes from `before` to `after`, each with the view they get now.
///
/// `watchers` are the owner's authorized watchers (roster and ad-hoc).
/// For each one returned, the application sends what the new view calls
/// for: [`Visibility::UnavailableOnly`] means one "unavailable" (XMPP
/// `<presence type='unavailable'/>`, SIP NOTIFY with basic `closed`) and
/// silence after it; [`Visibility::Full`] means the current presence.
/// This is how a newly blocked watcher comes to "always see the user as
/// unavailable" at once rather than at the next change.
pub fn visibility_changes<'w>(
    cfg: &ServiceConfig,
    owner: &Address,
    before: &UserPolicy,
    after: &UserPolicy,
    watchers: impl IntoIterator<Item = &'w Address>,
) -> Vec<(&'w Address, Visibility)> {
    watchers
        .into_iter()
        .filter_map(|w| {
            let old = visibility(cfg, owner, before, w, true);
            let new = visibility(cfg, owner, after, w, true);
            let changed = matches!(
                (old, new),
                (Visibility::Full, Visibility::UnavailableOnly(_))
                    | (Visibility::UnavailableOnly(_), Visibility::Full)
            );
            changed.then_some((w, new))
        })
        .collect()
}

/// The owner's side of a granted subscription.
#[derive(Clone, Copy, Debug)]
pub struct AcceptRequest<'a> {
    /// The user who grants.
    pub owner: &'a Address,
    /// The watcher being granted.
    pub watcher: &'a Address,
    /// How many watchers the owner has now, not counting `watcher`.
    pub owner_watcher_count: usize,
    /// How many contacts the owner's contact list holds now.
    pub owner_contact_count: usize,
    /// Whether `watcher` is already on the owner's contact list.
    pub watcher_in_owner_contacts: bool,
}

/// What the application must do after a subscription is granted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptEffects {
    /// Whether, and why not, the watcher goes onto the owner's contact
    /// list.
    pub reciprocal_add: ReciprocalAdd,
}

/// The product's auto-reciprocal add: with auto-authorization off, once B
/// accepts A, A is added to B's contact list.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReciprocalAdd {
    /// Add this contact (the watcher) to the owner's contact list; over
    /// XMPP, also send the owner's `subscribe` to it (RFC 6121 §3.1), so
    /// the relationship becomes mutual.
    Add(Address),
    /// Auto-authorization is on: the product adds nothing.
    AutoAuthorizationOn,
    /// The watcher is the owner.
    OwnAddress,
    /// The watcher is already on the owner's contact list.
    AlreadyInContactList,
    /// The owner's contact list is full ("the user cannot add contacts").
    ContactLimitReached {
        /// The configured "Maximum Contact List Size".
        max: u32,
    },
}

/// Records that the owner granted `req.watcher`'s subscription and says
/// what follows.
///
/// Call it when the user accepts a [`Verdict::Confirm`] prompt, and when
/// a request is allowed by the owner's own policy ([`Verdict::Allow`]),
/// since that policy is the owner's standing answer.
///
/// The reciprocal add ignores the owner's policy on purpose: the product
/// adds A to B's contact list "even if B blocks that domain, blocks all,
/// or uses ask me". It does respect the owner's contact-list limit.
///
/// Fails with [`AuthzError::WatcherLimitReached`] when the owner already
/// has "Maximum Watchers" watchers: the grant itself is then impossible.
pub fn accept_subscription(
    cfg: &ServiceConfig,
    req: &AcceptRequest<'_>,
) -> Result<AcceptEffects, AuthzError> {
    if req.owner == req.watcher {
        return Ok(AcceptEffects {
            reciprocal_add: ReciprocalAdd::OwnAddress,
        });
    }
    if let Some(max) = cfg.max_watchers.max()
        && cfg.max_watchers.is_reached(req.owner_watcher_count)
    {
        return Err(AuthzError::WatcherLimitReached { max });
    }
    let reciprocal_add = if cfg.auto_authorize {
        ReciprocalAdd::AutoAuthorizationOn
    } else if req.watcher_in_owner_contacts {
        ReciprocalAdd::AlreadyInContactList
    } else if let Some(max) = cfg.max_contacts.max()
        && cfg.max_contacts.is_reached(req.owner_contact_count)
    {
        ReciprocalAdd::ContactLimitReached { max }
    } else {
        ReciprocalAdd::Add(req.watcher.clone())
    };
    Ok(AcceptEffects { reciprocal_add })
}

fn by_default(default: DefaultPolicy) -> Decision {
    match default {
        DefaultPolicy::AllowAll => Decision::allow(Reason::DefaultAllowAll),
        DefaultPolicy::BlockAll => Decision::polite_block(Reason::DefaultBlockAll),
    }
}
