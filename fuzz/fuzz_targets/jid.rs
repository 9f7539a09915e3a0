//! Fuzz target `jid`: any UTF-8 input that `Jid::new` accepts must parse back
//! to the same JID from its normalized string, and its parts must rebuild it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xmpp_core::Jid;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(jid) = Jid::new(s) else {
        return;
    };
    let again = Jid::new(jid.as_str());
    assert_eq!(again.as_ref(), Ok(&jid), "normalized form does not re-parse to itself");
    let rebuilt = Jid::from_parts(jid.local(), jid.domain(), jid.resource());
    assert_eq!(rebuilt.as_ref(), Ok(&jid), "parts do not rebuild the JID");
    assert!(jid.bare().is_bare());
});
