//! Property: any sequence of stanzas keeps every room's invariants (at
//! least one owner, no banned or non-member occupant where forbidden,
//! consistent indexes) and every output parses.

mod ops;

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
    #[test]
    fn invariants_hold(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        ops::run(&data);
    }
}

/// A sequence that creates, configures members-only, bans and rejoins.
#[test]
fn scripted_sequence() {
    // join ann r1, instant config, member bob, membersonly, ban bob, bob joins
    let data = [
        0u8, 0, 0, 0, // ann joins r1 as ann
        9, 0, 0, 0, // ann submits instant config
        7, 0, 0, 1, // ann sets bob's affiliation (AFFS[(0^1)%6] = none)
        0, 1, 0, 1, // bob joins as bob
        7, 2, 0, 1, // ann bans? AFFS[(2^1)%6]=outcast for bob
        0, 1, 0, 1, // bob tries again
        3, 0, 0, 0, // subject
        13, 0, 0, 0, // ann's session ends
    ];
    ops::run(&data);
}
