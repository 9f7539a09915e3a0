//! Random identifiers for the engines' [`IdSource`] from the operating
//! system's generator.

use xmpp_core::stream::IdSource;

/// Ids of 16 random bytes, hex-encoded (32 characters).
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn next_id(&mut self) -> String {
        let mut b = [0u8; 16];
        // The OS generator failing is not recoverable for a server that
        // must hand out unguessable ids.
        getrandom::fill(&mut b).expect("operating system random generator");
        let mut s = String::with_capacity(32);
        for x in b {
            s.push_str(&format!("{x:02x}"));
        }
        s
    }
}
