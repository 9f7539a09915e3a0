//! Where users' policies live between decisions.
//!
//! The engine takes a [`UserPolicy`] by reference and never stores one;
//! the application keeps them behind [`PolicyStore`], backed by whatever
//! it persists to. [`InMemoryPolicyStore`] serves tests and small servers.

use std::collections::HashMap;
use std::convert::Infallible;

use crate::address::Address;
use crate::authz::UserPolicy;

/// Storage of per-user authorization policies.
pub trait PolicyStore {
    /// Why a store operation failed (I/O, database, …).
    type Error: std::error::Error;

    /// The stored policy of `user`, or `None` when the user never set one.
    fn get(&self, user: &Address) -> Result<Option<UserPolicy>, Self::Error>;

    /// Stores `policy` as the policy of `user`, replacing any other.
    fn put(&mut self, user: &Address, policy: UserPolicy) -> Result<(), Self::Error>;

    /// Deletes the policy of `user`, returning it if there was one.
    fn remove(&mut self, user: &Address) -> Result<Option<UserPolicy>, Self::Error>;

    /// The policy of `user`, or the product default (allow all, no lists,
    /// "ask me" off) when none is stored.
    fn get_or_default(&self, user: &Address) -> Result<UserPolicy, Self::Error> {
        Ok(self.get(user)?.unwrap_or_default())
    }
}

/// A [`PolicyStore`] in a hash map; it cannot fail.
#[derive(Clone, Debug, Default)]
pub struct InMemoryPolicyStore {
    policies: HashMap<Address, UserPolicy>,
}

impl InMemoryPolicyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many users have a stored policy.
    pub fn len(&self) -> usize {
        self.policies.len()
    }

    /// Whether no policy is stored.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }
}

impl PolicyStore for InMemoryPolicyStore {
    type Error = Infallible;

    fn get(&self, user: &Address) -> Result<Option<UserPolicy>, Infallible> {
        Ok(self.policies.get(user).cloned())
    }

    fn put(&mut self, user: &Address, policy: UserPolicy) -> Result<(), Infallible> {
        self.policies.insert(user.clone(), policy);
        Ok(())
    }

    fn remove(&mut self, user: &Address) -> Result<Option<UserPolicy>, Infallible> {
        Ok(self.policies.remove(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::{DefaultPolicy, PolicyLimits};

    #[test]
    fn put_get_remove_and_default() {
        let mut store = InMemoryPolicyStore::new();
        let user = Address::parse("Juliet@Capulet.Example").unwrap();
        assert_eq!(store.get(&user), Ok(None));
        assert_eq!(store.get_or_default(&user), Ok(UserPolicy::default()));

        let mut policy = UserPolicy::new(DefaultPolicy::BlockAll);
        policy
            .allow(
                "romeo@montague.example".parse().unwrap(),
                &PolicyLimits::default(),
            )
            .unwrap();
        store.put(&user, policy.clone()).unwrap();
        assert_eq!(store.len(), 1);
        // Lookup is case-insensitive like every address comparison.
        let same = Address::parse("juliet@capulet.example").unwrap();
        assert_eq!(store.get(&same), Ok(Some(policy.clone())));
        assert_eq!(store.remove(&same), Ok(Some(policy)));
        assert!(store.is_empty());
    }
}
