//! The error type of the authorization area.

/// Why an authorization-area operation was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthzError {
    /// An address had no `@` between local part and domain.
    #[error("address has no '@'")]
    MissingAt,
    /// The local part of an address is empty or has a forbidden character.
    #[error("invalid local part: {0}")]
    InvalidLocalPart(&'static str),
    /// The local part is longer than the configured limit (bytes).
    #[error("local part longer than {max} bytes")]
    LocalPartTooLong {
        /// The limit that was exceeded.
        max: usize,
    },
    /// A domain is empty, has an empty label or a forbidden character.
    #[error("invalid domain: {0}")]
    InvalidDomain(&'static str),
    /// A domain is longer than the configured limit (bytes).
    #[error("domain longer than {max} bytes")]
    DomainTooLong {
        /// The limit that was exceeded.
        max: usize,
    },
    /// A user's allowed or blocked list is full.
    #[error("policy list already holds {max} entries")]
    PolicyListFull {
        /// The per-list limit.
        max: usize,
    },
    /// The presentity already has the maximum number of watchers
    /// ("Maximum Watchers"): nobody else can add them.
    #[error("watcher limit of {max} reached")]
    WatcherLimitReached {
        /// The configured "Maximum Watchers".
        max: u32,
    },
    /// The user's contact list is full ("Maximum Contact List Size").
    #[error("contact list limit of {max} reached")]
    ContactLimitReached {
        /// The configured "Maximum Contact List Size".
        max: u32,
    },
    /// The watcher already holds the maximum number of ad-hoc
    /// subscriptions.
    #[error("ad-hoc subscription limit of {max} per watcher reached")]
    AdhocLimitReached {
        /// The configured per-watcher ad-hoc maximum.
        max: u32,
    },
    /// The service-wide ad-hoc table is full.
    #[error("ad-hoc subscription table full ({max} entries)")]
    AdhocTableFull {
        /// The configured service-wide bound.
        max: usize,
    },
}
