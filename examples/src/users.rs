//! An in-memory account store: SCRAM credentials derived once from
//! configured passwords, so the plaintext is not kept.

use std::collections::HashMap;

use xmpp_core::sasl::{CredentialStore, ScramCredentials, ScramHash};

/// Accounts by (prepared) username.
pub struct Users {
    accounts: HashMap<String, [ScramCredentials; 2]>,
    /// Secret for the fake SCRAM parameters of unknown users, random per
    /// process so they cannot be predicted.
    secret: [u8; 32],
}

impl Users {
    /// An empty store.
    pub fn new() -> Result<Self, String> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| e.to_string())?;
        Ok(Users {
            accounts: HashMap::new(),
            secret,
        })
    }

    /// Adds an account; the salt is random, the iteration count 4096.
    pub fn add(&mut self, username: &str, password: &str) -> Result<(), String> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
        let sha1 = ScramCredentials::derive(ScramHash::Sha1, password, &salt, 4096)
            .map_err(|e| e.to_string())?;
        let sha256 = ScramCredentials::derive(ScramHash::Sha256, password, &salt, 4096)
            .map_err(|e| e.to_string())?;
        self.accounts
            .insert(username.to_lowercase(), [sha1, sha256]);
        Ok(())
    }

    /// Whether an account exists.
    pub fn exists(&self, username: &str) -> bool {
        self.accounts.contains_key(username)
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether there are no accounts.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// Parses `name:password`.
    pub fn parse_spec(spec: &str) -> Result<(String, String), String> {
        match spec.split_once(':') {
            Some((u, p)) if !u.is_empty() && !p.is_empty() => Ok((u.to_owned(), p.to_owned())),
            _ => Err(format!("`{spec}`: expected name:password")),
        }
    }
}

impl CredentialStore for Users {
    fn scram_credentials(&self, username: &str, hash: ScramHash) -> Option<ScramCredentials> {
        let c = self.accounts.get(username)?;
        Some(match hash {
            ScramHash::Sha1 => c[0].clone(),
            ScramHash::Sha256 => c[1].clone(),
        })
    }

    fn unknown_user_secret(&self) -> &[u8] {
        &self.secret
    }
}
