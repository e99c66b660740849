//! The operators swapped in when a model is prepared give tract's own values (natively; the
//! browser's vector paths are checked by the same cases in tests/wasm_parity.rs).

#[path = "swapped_ops/cases.rs"]
mod cases;

#[test]
fn halving_gives_tracts_maxima_bit_for_bit() {
    // Rows of 2, 8 (one vector block) and 22 (blocks and a tail); with the maxima's indices
    // asked for and unread, as in the packed YuNet, and without.
    for (sides, with_indices) in [
        ([1, 2, 2], false),
        ([3, 4, 8], true),
        ([2, 6, 22], false),
        ([16, 10, 160], true),
    ] {
        let outcome = cases::pooling(sides, with_indices);
        assert!(outcome.was_swapped, "{sides:?}");
        outcome.assert_same_bits(&format!("{sides:?}"));
    }
}

#[test]
fn a_pooling_of_odd_sides_is_left_to_tract() {
    // tract drops the last row and column, which halving would not.
    let outcome = cases::pooling([2, 5, 4], false);
    assert!(!outcome.was_swapped);
}

#[test]
fn one_pass_gives_the_packed_forms_values() {
    // NHWC behind casts and HWC without, as in the network.
    for (shape, casts) in [(vec![1, 3, 5, 7], true), (vec![4, 6, 7], false)] {
        let outcome = cases::prelu(&shape, &cases::SLOPES, casts);
        assert!(outcome.was_swapped, "{shape:?}");
        outcome.assert_same_values(&format!("{shape:?}"));
    }
}

#[test]
fn what_is_not_a_prelu_is_left_to_tract() {
    // One slope for every channel of a wider tensor is not per channel of the last axis.
    assert!(!cases::prelu(&[2, 3, 4], &[0.5], false).was_swapped);
}

#[test]
fn doubling_gives_tracts_upsampling_bit_for_bit() {
    // Rows of one value and of several; YuNet's sides (64 channels, 10 x 10); the tile as
    // packed and the broadcast tract makes of it.
    for (sides, packed) in [
        ([1, 1, 1], true),
        ([2, 3, 5], false),
        ([2, 3, 5], true),
        ([64, 10, 10], true),
    ] {
        let outcome = cases::upsampling(sides, 2, packed);
        assert!(outcome.was_swapped, "{sides:?}");
        outcome.assert_same_bits(&format!("{sides:?}"));
    }
}

#[test]
fn an_upsampling_that_is_not_a_doubling_is_left_to_tract() {
    assert!(!cases::upsampling([2, 3, 3], 3, true).was_swapped);
    assert!(!cases::upsampling([2, 3, 3], 3, false).was_swapped);
}
