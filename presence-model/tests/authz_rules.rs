//! One table row per authorization rule of REQUIREMENTS §4 and the roster
//! limits of §1. Each row is named after the requirement it checks, and
//! rows come in contrasting pairs so that breaking a rule flips at least
//! one of them.

use presence_model::address::{Address, Domain};
use presence_model::authz::{
    AcceptEffects, AcceptRequest, AuthzError, Decision, DefaultPolicy, Limit, PolicyLimits,
    Protocol, Reason, ReciprocalAdd, ServiceConfig, SubscriptionRequest, UserPolicy, Verdict,
    Visibility, accept_subscription, authorize_subscription, may_send_im, visibility,
    visibility_changes,
};

const OWNER: &str = "juliet@verona.example";

fn addr(s: &str) -> Address {
    Address::parse(s).unwrap()
}

/// The settings a row varies; everything else is the product default.
#[derive(Clone, Copy)]
struct Setup {
    auto_authorize: bool,
    sharing: bool,
    im: bool,
    max_watchers: Limit,
    default: DefaultPolicy,
    ask_me: bool,
    allowed: &'static [&'static str],
    blocked: &'static [&'static str],
}

const BASE: Setup = Setup {
    auto_authorize: true,
    sharing: true,
    im: true,
    max_watchers: Limit::Max(200),
    default: DefaultPolicy::AllowAll,
    ask_me: false,
    allowed: &[],
    blocked: &[],
};

impl Setup {
    fn config(&self) -> ServiceConfig {
        let mut cfg = ServiceConfig::new(
            ["verona.example", "padua.example"].map(|d| Domain::parse(d).unwrap()),
        );
        cfg.auto_authorize = self.auto_authorize;
        cfg.availability_sharing = self.sharing;
        cfg.instant_messaging = self.im;
        cfg.max_watchers = self.max_watchers;
        cfg
    }

    fn policy(&self) -> UserPolicy {
        let limits = PolicyLimits::default();
        let mut p = UserPolicy::new(self.default);
        p.set_ask_me_for_external(self.ask_me);
        for e in self.allowed {
            p.allow(e.parse().unwrap(), &limits).unwrap();
        }
        for e in self.blocked {
            p.block(e.parse().unwrap(), &limits).unwrap();
        }
        p
    }
}

struct SubRow {
    name: &'static str,
    setup: Setup,
    watcher: &'static str,
    protocol: Protocol,
    watchers: usize,
    expect: Decision,
}

const fn sub(
    name: &'static str,
    setup: Setup,
    watcher: &'static str,
    protocol: Protocol,
    expect: Decision,
) -> SubRow {
    SubRow {
        name,
        setup,
        watcher,
        protocol,
        watchers: 0,
        expect,
    }
}

use Protocol::{Sip, Xmpp};

#[test]
fn subscription_rules() {
    let auto_off = Setup {
        auto_authorize: false,
        ..BASE
    };
    let block_all = Setup {
        default: DefaultPolicy::BlockAll,
        ..BASE
    };
    let ask_me = Setup {
        ask_me: true,
        ..BASE
    };
    let rows = [
        sub(
            "auto-authorization on (default): local XMPP watcher accepted without prompting",
            BASE,
            "romeo@verona.example",
            Xmpp,
            Decision::allow(Reason::AutoAuthorized),
        ),
        sub(
            "auto-authorization covers every hosted domain",
            BASE,
            "romeo@padua.example",
            Xmpp,
            Decision::allow(Reason::AutoAuthorized),
        ),
        sub(
            "auto-authorization off: local XMPP request goes to the client",
            auto_off,
            "romeo@verona.example",
            Xmpp,
            Decision::confirm(Reason::UserConsentRequired),
        ),
        sub(
            "auto-authorization off: allowed list still pre-approves XMPP",
            Setup {
                allowed: &["romeo@verona.example"],
                ..auto_off
            },
            "romeo@verona.example",
            Xmpp,
            Decision::allow(Reason::AllowedList),
        ),
        sub(
            "auto-authorization off: blocked watcher is not prompted for",
            Setup {
                blocked: &["romeo@verona.example"],
                ..auto_off
            },
            "romeo@verona.example",
            Xmpp,
            Decision::polite_block(Reason::BlockedList),
        ),
        sub(
            "auto-authorization on does not override the user's blocked list",
            Setup {
                blocked: &["romeo@verona.example"],
                ..BASE
            },
            "romeo@verona.example",
            Xmpp,
            Decision::polite_block(Reason::BlockedList),
        ),
        sub(
            "SIP: local subscription always auto-authorized",
            BASE,
            "romeo@verona.example",
            Sip,
            Decision::allow(Reason::AutoAuthorized),
        ),
        sub(
            "SIP: ... except watchers on the user's blocked list",
            Setup {
                blocked: &["romeo@verona.example"],
                ..BASE
            },
            "romeo@verona.example",
            Sip,
            Decision::polite_block(Reason::BlockedList),
        ),
        sub(
            "SIP: blocked whole domain also excluded",
            Setup {
                blocked: &["padua.example"],
                ..BASE
            },
            "romeo@padua.example",
            Sip,
            Decision::polite_block(Reason::BlockedList),
        ),
        sub(
            "SIP: 'ask me' does not apply to local SIP watchers",
            ask_me,
            "romeo@verona.example",
            Sip,
            Decision::allow(Reason::AutoAuthorized),
        ),
        sub(
            "auto-authorization off: SIP clients unsupported",
            auto_off,
            "romeo@verona.example",
            Sip,
            Decision::block(Reason::SipRequiresAutoAuthorization),
        ),
        sub(
            "auto-authorization off: SIP unsupported even for an allowed watcher",
            Setup {
                allowed: &["romeo@verona.example"],
                ..auto_off
            },
            "romeo@verona.example",
            Sip,
            Decision::block(Reason::SipRequiresAutoAuthorization),
        ),
        sub(
            "auto-authorization off: blocked SIP watcher answered like any other (no leak)",
            Setup {
                blocked: &["romeo@verona.example"],
                ..auto_off
            },
            "romeo@verona.example",
            Sip,
            Decision::block(Reason::SipRequiresAutoAuthorization),
        ),
        sub(
            "blocked list of whole domains",
            Setup {
                blocked: &["verona.example"],
                ..BASE
            },
            "romeo@verona.example",
            Xmpp,
            Decision::polite_block(Reason::BlockedList),
        ),
        sub(
            "blocked domain, allowed user: user entry is more specific",
            Setup {
                blocked: &["verona.example"],
                allowed: &["romeo@verona.example"],
                ..BASE
            },
            "romeo@verona.example",
            Xmpp,
            Decision::allow(Reason::AllowedList),
        ),
        sub(
            "allowed domain, blocked user: user entry is more specific",
            Setup {
                allowed: &["verona.example"],
                blocked: &["tybalt@verona.example"],
                ..BASE
            },
            "tybalt@verona.example",
            Xmpp,
            Decision::polite_block(Reason::BlockedList),
        ),
        sub(
            "default policy block all: unlisted local watcher sees unavailable",
            block_all,
            "romeo@verona.example",
            Xmpp,
            Decision::polite_block(Reason::DefaultBlockAll),
        ),
        sub(
            "default policy block all applies to SIP watchers too",
            block_all,
            "romeo@verona.example",
            Sip,
            Decision::polite_block(Reason::DefaultBlockAll),
        ),
        sub(
            "default policy block all: allowed list still allowed",
            Setup {
                allowed: &["romeo@verona.example"],
                ..block_all
            },
            "romeo@verona.example",
            Xmpp,
            Decision::allow(Reason::AllowedList),
        ),
        sub(
            "default policy block all: allowed domain still allowed",
            Setup {
                allowed: &["verona.example"],
                ..block_all
            },
            "romeo@verona.example",
            Sip,
            Decision::allow(Reason::AllowedList),
        ),
        sub(
            "federation: auto-authorization not applied, default allow all decides",
            BASE,
            "romeo@mantua.example",
            Xmpp,
            Decision::allow(Reason::DefaultAllowAll),
        ),
        sub(
            "federation: auto-authorization not applied, default block all decides",
            block_all,
            "romeo@mantua.example",
            Xmpp,
            Decision::polite_block(Reason::DefaultBlockAll),
        ),
        sub(
            "federation: 'ask me' and contact on neither list reaches the client",
            ask_me,
            "romeo@mantua.example",
            Xmpp,
            Decision::confirm(Reason::AskMe),
        ),
        sub(
            "federation: 'ask me' beats default block all for unlisted contacts",
            Setup {
                ask_me: true,
                ..block_all
            },
            "romeo@mantua.example",
            Xmpp,
            Decision::confirm(Reason::AskMe),
        ),
        sub(
            "federation: 'ask me' but allowed list: accepted without asking",
            Setup {
                allowed: &["mantua.example"],
                ..ask_me
            },
            "romeo@mantua.example",
            Xmpp,
            Decision::allow(Reason::AllowedList),
        ),
        sub(
            "federation: 'ask me' but blocked list: blocked without asking",
            Setup {
                blocked: &["romeo@mantua.example"],
                ..ask_me
            },
            "romeo@mantua.example",
            Xmpp,
            Decision::polite_block(Reason::BlockedList),
        ),
        sub(
            "federation: the auto-authorization switch changes nothing",
            Setup {
                ask_me: false,
                ..auto_off
            },
            "romeo@mantua.example",
            Xmpp,
            Decision::allow(Reason::DefaultAllowAll),
        ),
        sub(
            "'ask me' is for external contacts only",
            ask_me,
            "romeo@verona.example",
            Xmpp,
            Decision::allow(Reason::AutoAuthorized),
        ),
        sub(
            "federation over SIP: a prompt is impossible, so block",
            ask_me,
            "romeo@mantua.example",
            Sip,
            Decision::block(Reason::SipPromptUnsupported),
        ),
        sub(
            "availability sharing off: users see only their own status",
            Setup {
                sharing: false,
                ..BASE
            },
            "romeo@verona.example",
            Xmpp,
            Decision::polite_block(Reason::AvailabilitySharingDisabled),
        ),
        sub(
            "availability sharing off: own status still visible",
            Setup {
                sharing: false,
                blocked: &["verona.example"],
                ..BASE
            },
            OWNER,
            Sip,
            Decision::allow(Reason::OwnAddress),
        ),
        sub(
            "URI uniqueness is case-insensitive: block matches any letter case",
            Setup {
                blocked: &["Romeo@Verona.EXAMPLE"],
                ..BASE
            },
            "ROMEO@verona.example",
            Xmpp,
            Decision::polite_block(Reason::BlockedList),
        ),
        sub(
            "domain entry matches that exact domain: subdomain not covered",
            Setup {
                blocked: &["mantua.example"],
                ..BASE
            },
            "romeo@chat.mantua.example",
            Xmpp,
            Decision::allow(Reason::DefaultAllowAll),
        ),
        SubRow {
            watchers: 199,
            ..sub(
                "Maximum Watchers 200: the 200th watcher is admitted",
                BASE,
                "romeo@verona.example",
                Xmpp,
                Decision::allow(Reason::AutoAuthorized),
            )
        },
        SubRow {
            watchers: 200,
            ..sub(
                "Maximum Watchers 200: others cannot add a user at the limit",
                BASE,
                "romeo@verona.example",
                Xmpp,
                Decision::block(Reason::WatcherLimitReached),
            )
        },
        SubRow {
            watchers: 200,
            ..sub(
                "Maximum Watchers: no prompt for a request that cannot be granted",
                auto_off,
                "romeo@verona.example",
                Xmpp,
                Decision::block(Reason::WatcherLimitReached),
            )
        },
        SubRow {
            watchers: 200,
            ..sub(
                "Maximum Watchers: a blocked watcher still only sees unavailable",
                Setup {
                    blocked: &["romeo@verona.example"],
                    ..BASE
                },
                "romeo@verona.example",
                Sip,
                Decision::polite_block(Reason::BlockedList),
            )
        },
        SubRow {
            watchers: 1_000_000,
            ..sub(
                "Maximum Watchers 'No Limit' option",
                Setup {
                    max_watchers: Limit::NoLimit,
                    ..BASE
                },
                "romeo@verona.example",
                Sip,
                Decision::allow(Reason::AutoAuthorized),
            )
        },
    ];
    let owner = addr(OWNER);
    for row in &rows {
        let cfg = row.setup.config();
        let policy = row.setup.policy();
        let watcher = addr(row.watcher);
        let got = authorize_subscription(
            &cfg,
            &SubscriptionRequest {
                owner: &owner,
                owner_policy: &policy,
                watcher: &watcher,
                protocol: row.protocol,
                owner_watcher_count: row.watchers,
            },
        );
        assert_eq!(got, row.expect, "rule: {}", row.name);
    }
}

struct ImRow {
    name: &'static str,
    setup: Setup,
    sender: &'static str,
    expect: Decision,
}

#[test]
fn instant_message_rules() {
    let block_all = Setup {
        default: DefaultPolicy::BlockAll,
        ..BASE
    };
    let rows = [
        ImRow {
            name: "same policy applies to IM: default allow all",
            setup: BASE,
            sender: "romeo@verona.example",
            expect: Decision::allow(Reason::DefaultAllowAll),
        },
        ImRow {
            name: "same policy applies to IM: blocked user cannot send",
            setup: Setup {
                blocked: &["romeo@verona.example"],
                ..BASE
            },
            sender: "romeo@verona.example",
            expect: Decision::polite_block(Reason::BlockedList),
        },
        ImRow {
            name: "same policy applies to IM: blocked domain cannot send",
            setup: Setup {
                blocked: &["mantua.example"],
                ..BASE
            },
            sender: "romeo@mantua.example",
            expect: Decision::polite_block(Reason::BlockedList),
        },
        ImRow {
            name: "same policy applies to IM: block all",
            setup: block_all,
            sender: "romeo@verona.example",
            expect: Decision::polite_block(Reason::DefaultBlockAll),
        },
        ImRow {
            name: "same policy applies to IM: allowed list under block all",
            setup: Setup {
                allowed: &["romeo@verona.example"],
                ..block_all
            },
            sender: "romeo@verona.example",
            expect: Decision::allow(Reason::AllowedList),
        },
        ImRow {
            name: "same policy applies to IM: 'ask me' for an external sender",
            setup: Setup {
                ask_me: true,
                ..BASE
            },
            sender: "romeo@mantua.example",
            expect: Decision::confirm(Reason::AskMe),
        },
        ImRow {
            name: "IM: 'ask me' is for external senders only",
            setup: Setup {
                ask_me: true,
                ..block_all
            },
            sender: "romeo@verona.example",
            expect: Decision::polite_block(Reason::DefaultBlockAll),
        },
        ImRow {
            name: "IM: auto-authorization concerns availability, not IM",
            setup: Setup {
                auto_authorize: false,
                ..BASE
            },
            sender: "romeo@verona.example",
            expect: Decision::allow(Reason::DefaultAllowAll),
        },
        ImRow {
            name: "IM: availability sharing off does not stop IM",
            setup: Setup {
                sharing: false,
                ..BASE
            },
            sender: "romeo@verona.example",
            expect: Decision::allow(Reason::DefaultAllowAll),
        },
        ImRow {
            name: "'Enable instant messaging' off: nothing is delivered",
            setup: Setup { im: false, ..BASE },
            sender: "romeo@verona.example",
            expect: Decision::block(Reason::InstantMessagingDisabled),
        },
    ];
    let owner = addr(OWNER);
    for row in &rows {
        let got = may_send_im(
            &row.setup.config(),
            &addr(row.sender),
            &owner,
            &row.setup.policy(),
        );
        assert_eq!(got, row.expect, "rule: {}", row.name);
    }
}

struct VisRow {
    name: &'static str,
    setup: Setup,
    watcher: &'static str,
    authorized: bool,
    expect: Visibility,
}

#[test]
fn visibility_rules() {
    let block_all = Setup {
        default: DefaultPolicy::BlockAll,
        ..BASE
    };
    let rows = [
        VisRow {
            name: "authorized watcher sees full presence",
            setup: BASE,
            watcher: "romeo@verona.example",
            authorized: true,
            expect: Visibility::Full,
        },
        VisRow {
            name: "watcher without a subscription sees only unavailable",
            setup: BASE,
            watcher: "romeo@verona.example",
            authorized: false,
            expect: Visibility::UnavailableOnly(Reason::NoSubscription),
        },
        VisRow {
            name: "blocked watchers always see the user as unavailable (even if granted before)",
            setup: Setup {
                blocked: &["romeo@verona.example"],
                ..BASE
            },
            watcher: "romeo@verona.example",
            authorized: true,
            expect: Visibility::UnavailableOnly(Reason::BlockedList),
        },
        VisRow {
            name: "blocked domain: every user of it sees unavailable",
            setup: Setup {
                blocked: &["mantua.example"],
                ..BASE
            },
            watcher: "romeo@mantua.example",
            authorized: true,
            expect: Visibility::UnavailableOnly(Reason::BlockedList),
        },
        VisRow {
            name: "block all hides the user from unlisted watchers",
            setup: block_all,
            watcher: "romeo@verona.example",
            authorized: true,
            expect: Visibility::UnavailableOnly(Reason::DefaultBlockAll),
        },
        VisRow {
            name: "block all still shows the user to the allowed list",
            setup: Setup {
                allowed: &["romeo@verona.example"],
                ..block_all
            },
            watcher: "romeo@verona.example",
            authorized: true,
            expect: Visibility::Full,
        },
        VisRow {
            name: "external watcher accepted under 'ask me' sees full presence",
            setup: Setup {
                ask_me: true,
                ..block_all
            },
            watcher: "romeo@mantua.example",
            authorized: true,
            expect: Visibility::Full,
        },
        VisRow {
            name: "availability sharing off: others see unavailable",
            setup: Setup {
                sharing: false,
                ..BASE
            },
            watcher: "romeo@verona.example",
            authorized: true,
            expect: Visibility::UnavailableOnly(Reason::AvailabilitySharingDisabled),
        },
        VisRow {
            name: "availability sharing off: users see their own status",
            setup: Setup {
                sharing: false,
                ..BASE
            },
            watcher: OWNER,
            authorized: false,
            expect: Visibility::Full,
        },
    ];
    let owner = addr(OWNER);
    for row in &rows {
        let got = visibility(
            &row.setup.config(),
            &owner,
            &row.setup.policy(),
            &addr(row.watcher),
            row.authorized,
        );
        assert_eq!(got, row.expect, "rule: {}", row.name);
    }
}

struct AcceptRow {
    name: &'static str,
    auto_authorize: bool,
    watcher: &'static str,
    watchers: usize,
    contacts: usize,
    in_contacts: bool,
    expect: Result<ReciprocalAdd, AuthzError>,
}

#[test]
fn accept_rules() {
    const BASE_ROW: AcceptRow = AcceptRow {
        name: "",
        auto_authorize: false,
        watcher: "romeo@verona.example",
        watchers: 0,
        contacts: 0,
        in_contacts: false,
        expect: Err(AuthzError::MissingAt),
    };
    let rows = [
        AcceptRow {
            name: "auto-reciprocal add: auto-authorization off, B accepts A, A joins B's list",
            expect: Ok(ReciprocalAdd::Add(addr("romeo@verona.example"))),
            ..BASE_ROW
        },
        AcceptRow {
            name: "auto-reciprocal add applies to accepted external contacts too",
            watcher: "romeo@mantua.example",
            expect: Ok(ReciprocalAdd::Add(addr("romeo@mantua.example"))),
            ..BASE_ROW
        },
        AcceptRow {
            name: "auto-reciprocal add only with auto-authorization off",
            auto_authorize: true,
            expect: Ok(ReciprocalAdd::AutoAuthorizationOn),
            ..BASE_ROW
        },
        AcceptRow {
            name: "auto-reciprocal add: nothing to add when A is already a contact",
            in_contacts: true,
            expect: Ok(ReciprocalAdd::AlreadyInContactList),
            ..BASE_ROW
        },
        AcceptRow {
            name: "Maximum Contact List Size: at the limit the user cannot add contacts",
            contacts: 200,
            expect: Ok(ReciprocalAdd::ContactLimitReached { max: 200 }),
            ..BASE_ROW
        },
        AcceptRow {
            name: "Maximum Contact List Size: one below the limit still adds",
            contacts: 199,
            expect: Ok(ReciprocalAdd::Add(addr("romeo@verona.example"))),
            ..BASE_ROW
        },
        AcceptRow {
            name: "Maximum Watchers: a grant past the limit is refused",
            watchers: 200,
            expect: Err(AuthzError::WatcherLimitReached { max: 200 }),
            ..BASE_ROW
        },
        AcceptRow {
            name: "accepting oneself adds nothing",
            watcher: OWNER,
            expect: Ok(ReciprocalAdd::OwnAddress),
            ..BASE_ROW
        },
    ];
    let owner = addr(OWNER);
    for row in &rows {
        let cfg = Setup {
            auto_authorize: row.auto_authorize,
            ..BASE
        }
        .config();
        let watcher = addr(row.watcher);
        let got = accept_subscription(
            &cfg,
            &AcceptRequest {
                owner: &owner,
                watcher: &watcher,
                owner_watcher_count: row.watchers,
                owner_contact_count: row.contacts,
                watcher_in_owner_contacts: row.in_contacts,
            },
        )
        .map(|e| e.reciprocal_add);
        assert_eq!(got, row.expect, "rule: {}", row.name);
    }
}

/// "This happens even if B blocks that domain, blocks all, or uses 'ask
/// me'": the whole flow, from request through acceptance, for each of
/// those policies.
#[test]
fn reciprocal_add_happens_whatever_the_owners_policy() {
    let auto_off = Setup {
        auto_authorize: false,
        ..BASE
    };
    let cases = [
        (
            "B blocks A's domain but lets A in by name",
            Setup {
                blocked: &["mantua.example"],
                allowed: &["romeo@mantua.example"],
                ..auto_off
            },
            Verdict::Allow,
        ),
        (
            "B blocks all but lets A in by name",
            Setup {
                default: DefaultPolicy::BlockAll,
                allowed: &["romeo@mantua.example"],
                ..auto_off
            },
            Verdict::Allow,
        ),
        (
            "B uses 'ask me' and answers yes",
            Setup {
                ask_me: true,
                default: DefaultPolicy::BlockAll,
                ..auto_off
            },
            Verdict::Confirm,
        ),
    ];
    let owner = addr(OWNER);
    let watcher = addr("romeo@mantua.example");
    for (name, setup, verdict) in cases {
        let cfg = setup.config();
        let policy = setup.policy();
        let decision = authorize_subscription(
            &cfg,
            &SubscriptionRequest {
                owner: &owner,
                owner_policy: &policy,
                watcher: &watcher,
                protocol: Xmpp,
                owner_watcher_count: 0,
            },
        );
        assert_eq!(decision.verdict, verdict, "{name}");
        let effects = accept_subscription(
            &cfg,
            &AcceptRequest {
                owner: &owner,
                watcher: &watcher,
                owner_watcher_count: 0,
                owner_contact_count: 10,
                watcher_in_owner_contacts: false,
            },
        );
        assert_eq!(
            effects,
            Ok(AcceptEffects {
                reciprocal_add: ReciprocalAdd::Add(watcher.clone())
            }),
            "{name}"
        );
    }
}

#[test]
fn batch_add_is_truncated_at_the_contact_limit() {
    // "195 contacts, add 6, adds five."
    let cfg = BASE.config();
    assert_eq!(cfg.admit_contacts(195, 6), 5);
    assert_eq!(cfg.admit_contacts(200, 6), 0);
    let mut unlimited: ServiceConfig = cfg;
    unlimited.max_contacts = Limit::NoLimit;
    assert_eq!(unlimited.admit_contacts(195, 6), 6);
}

#[test]
fn blocking_an_existing_watcher_takes_effect_at_once() {
    let cfg = BASE.config();
    let owner = addr(OWNER);
    let before = BASE.policy();
    let after = Setup {
        blocked: &["mantua.example"],
        ..BASE
    }
    .policy();
    let watchers = [
        addr("romeo@mantua.example"),
        addr("nurse@verona.example"),
        addr("balthasar@mantua.example"),
    ];
    let blocked = visibility_changes(&cfg, &owner, &before, &after, &watchers);
    assert_eq!(
        blocked,
        vec![
            (
                &watchers[0],
                Visibility::UnavailableOnly(Reason::BlockedList)
            ),
            (
                &watchers[2],
                Visibility::UnavailableOnly(Reason::BlockedList)
            ),
        ]
    );
    let unblocked = visibility_changes(&cfg, &owner, &after, &before, &watchers);
    assert_eq!(
        unblocked,
        vec![
            (&watchers[0], Visibility::Full),
            (&watchers[2], Visibility::Full)
        ]
    );
    assert!(visibility_changes(&cfg, &owner, &before, &before, &watchers).is_empty());
}
