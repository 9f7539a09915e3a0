//! Protocol-neutral authorization: who may see a user's availability and
//! who may send them instant messages, for the XMPP and SIP sides alike.
//!
//! Implements REQUIREMENTS §4 "Authorization" and "Subscriptions and
//! limits", and the contact/watcher limits of §1 "Roster":
//!
//! - [`ServiceConfig`]: the service-wide switches (auto-authorization,
//!   availability sharing, IM), the hosted domains and the limits.
//! - [`UserPolicy`]: a user's allowed and blocked lists, default policy and
//!   "ask me" option, with [`PolicyStore`] to keep them.
//! - [`authorize_subscription`], [`may_send_im`], [`visibility`],
//!   [`visibility_changes`] and [`accept_subscription`]: the rules, as
//!   pure functions returning a [`Decision`] (RFC 5025 subscription
//!   handling) with its [`Reason`], a [`Visibility`] or the effects of a
//!   grant.
//! - [`Limit`]: "Maximum Contact List Size" and "Maximum Watchers",
//!   including batch truncation.
//! - [`AdhocSubscriptions`]: the Sans-IO table of ad-hoc subscriptions
//!   with their count limit and time to live.
//!
//! ```
//! use presence_model::address::{Address, Domain};
//! use presence_model::authz::{
//!     authorize_subscription, Protocol, Reason, ServiceConfig, SubscriptionRequest,
//!     UserPolicy, Verdict,
//! };
//!
//! let cfg = ServiceConfig::new([Domain::parse("verona.example").unwrap()]);
//! let juliet = Address::parse("juliet@verona.example").unwrap();
//! let romeo = Address::parse("romeo@verona.example").unwrap();
//! let policy = UserPolicy::default();
//! let decision = authorize_subscription(
//!     &cfg,
//!     &SubscriptionRequest {
//!         owner: &juliet,
//!         owner_policy: &policy,
//!         watcher: &romeo,
//!         protocol: Protocol::Sip,
//!         owner_watcher_count: 0,
//!     },
//! );
//! assert_eq!(decision.verdict, Verdict::Allow);
//! assert_eq!(decision.reason, Reason::AutoAuthorized);
//! ```

mod adhoc;
mod config;
mod decision;
mod engine;
mod error;
mod policy;
mod store;

pub use adhoc::{AdhocGrant, AdhocKey, AdhocSubscriptions};
pub use config::{AdhocConfig, Limit, PolicyLimits, ServiceConfig};
pub use decision::{Decision, Protocol, Reason, Verdict, Visibility};
pub use engine::{
    AcceptEffects, AcceptRequest, ReciprocalAdd, SubscriptionRequest, accept_subscription,
    authorize_subscription, may_send_im, visibility, visibility_changes,
};
pub use error::AuthzError;
pub use policy::{DefaultPolicy, Entry, ListMatch, UserPolicy};
pub use store::{InMemoryPolicyStore, PolicyStore};
