//! Fuzz target: the MUC service fed arbitrary stanza sequences (generated
//! from the input bytes, plus raw bytes parsed as stanzas) never panics
//! and keeps its invariants: at least one owner per room, no banned
//! occupant inside, no non-member in a members-only room, consistent
//! occupant indexes, every output well-formed.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../muc/tests/ops/mod.rs"]
mod ops;

fuzz_target!(|data: &[u8]| {
    ops::run(data);
});
