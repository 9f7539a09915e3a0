//! The authorization hook the notifier asks before activating a
//! subscription (REQUIREMENTS §4, RFC 5025 §3.2.1 verdicts).

use presence_model::address::Address;
use presence_model::authz::{
    Decision, Protocol, Reason, ServiceConfig, SubscriptionRequest, UserPolicy,
    authorize_subscription,
};

/// Decides whether `watcher` may see `presentity` (both SIP AoRs as
/// `user@host`). `watcher_count` is how many other watchers the presentity
/// has now.
pub trait Authorizer {
    /// The decision.
    fn authorize(&mut self, presentity: &str, watcher: &str, watcher_count: usize) -> Decision;
}

impl<F: FnMut(&str, &str, usize) -> Decision> Authorizer for F {
    fn authorize(&mut self, presentity: &str, watcher: &str, watcher_count: usize) -> Decision {
        self(presentity, watcher, watcher_count)
    }
}

/// An [`Authorizer`] over `presence_model::authz::authorize_subscription`
/// with a service configuration and a per-user policy lookup. Addresses
/// that do not parse are blocked.
pub struct PolicyAuthorizer<P> {
    /// The service-wide configuration.
    pub config: ServiceConfig,
    /// Looks up a presentity's policy.
    pub policies: P,
}

impl<P: FnMut(&Address) -> UserPolicy> Authorizer for PolicyAuthorizer<P> {
    fn authorize(&mut self, presentity: &str, watcher: &str, watcher_count: usize) -> Decision {
        let (Ok(owner), Ok(w)) = (Address::parse(presentity), Address::parse(watcher)) else {
            return Decision::block(Reason::NoSubscription);
        };
        let policy = (self.policies)(&owner);
        authorize_subscription(
            &self.config,
            &SubscriptionRequest {
                owner: &owner,
                owner_policy: &policy,
                watcher: &w,
                protocol: Protocol::Sip,
                owner_watcher_count: watcher_count,
            },
        )
    }
}
