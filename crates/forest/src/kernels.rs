//! Dot-product kernels.
//!
//! Written as fixed-width lane arrays so that LLVM vectorises them on x86 (SSE/AVX) and on wasm32
//! (simd128) alike without `unsafe` or intrinsics: a plain `zip().sum()` over floats cannot be
//! vectorised because it would reorder the additions.

const LANES: usize = 16;

/// Dot product of two f32 slices of equal length.
#[inline]
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0f32; LANES];
    let chunks_a = a.chunks_exact(LANES);
    let chunks_b = b.chunks_exact(LANES);
    let (tail_a, tail_b) = (chunks_a.remainder(), chunks_b.remainder());
    for (ca, cb) in chunks_a.zip(chunks_b) {
        for lane in 0..LANES {
            acc[lane] += ca[lane] * cb[lane];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (x, y) in tail_a.iter().zip(tail_b) {
        sum += x * y;
    }
    sum
}

/// Dot product of two i8 slices of equal length, accumulated exactly in i32.
///
/// Each 32-byte block is reduced on its own, with adjacent products added in pairs: the shape
/// of x86's `pmaddwd` and wasm's `i32x4.dot_i16x8_s`, which LLVM then emits. (Carrying lane
/// accumulators across blocks instead made LLVM fall back to 32-bit multiplies.)
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    debug_assert_eq!(a.len(), b.len());
    let (blocks_a, tail_a) = a.as_chunks::<32>();
    let (blocks_b, tail_b) = b.as_chunks::<32>();
    let mut sum = 0i32;
    for (x, y) in blocks_a.iter().zip(blocks_b) {
        sum += dot_block_i8(x, y).iter().sum::<i32>();
    }
    for (x, y) in tail_a.iter().zip(tail_b) {
        sum += i32::from(*x) * i32::from(*y);
    }
    sum
}

/// Dot product of two i8 slices of equal length, accumulated exactly in i32.
///
/// LLVM does not find wasm's `i32x4.dot_i16x8_s` on its own (it widens twice instead), so the
/// browser build spells it out: the same exact integer result, about twice as fast.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    use core::arch::wasm32::{
        i16x8_extend_high_i8x16, i16x8_extend_low_i8x16, i32x4_add, i32x4_dot_i16x8,
        i32x4_extract_lane, i32x4_splat, v128, v128_load,
    };
    debug_assert_eq!(a.len(), b.len());
    let (blocks_a, tail_a) = a.as_chunks::<16>();
    let (blocks_b, tail_b) = b.as_chunks::<16>();
    let mut acc = i32x4_splat(0);
    for (x, y) in blocks_a.iter().zip(blocks_b) {
        // SAFETY: each block is exactly 16 bytes, the size of a v128; wasm loads need no
        // alignment.
        let (x, y) = unsafe {
            (
                v128_load(x.as_ptr().cast::<v128>()),
                v128_load(y.as_ptr().cast::<v128>()),
            )
        };
        let low = i32x4_dot_i16x8(i16x8_extend_low_i8x16(x), i16x8_extend_low_i8x16(y));
        let high = i32x4_dot_i16x8(i16x8_extend_high_i8x16(x), i16x8_extend_high_i8x16(y));
        acc = i32x4_add(acc, i32x4_add(low, high));
    }
    let mut sum = i32x4_extract_lane::<0>(acc)
        + i32x4_extract_lane::<1>(acc)
        + i32x4_extract_lane::<2>(acc)
        + i32x4_extract_lane::<3>(acc);
    for (x, y) in tail_a.iter().zip(tail_b) {
        sum += i32::from(*x) * i32::from(*y);
    }
    sum
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn dot_block_i8(x: &[i8; 32], y: &[i8; 32]) -> [i32; 16] {
    let mut pairs = [0i32; 16];
    for (pair, out) in pairs.iter_mut().enumerate() {
        let (i, j) = (2 * pair, 2 * pair + 1);
        // |i8 * i8| <= 16384, so each product fits an i16.
        *out = i32::from(i16::from(x[i]) * i16::from(y[i]))
            + i32::from(i16::from(x[j]) * i16::from(y[j]));
    }
    pairs
}

/// Dot product of an f32 slice with an i8 slice, without the i8 scale.
#[inline]
pub fn dot_f32_i8(a: &[f32], b: &[i8]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0f32; LANES];
    let chunks_a = a.chunks_exact(LANES);
    let chunks_b = b.chunks_exact(LANES);
    let (tail_a, tail_b) = (chunks_a.remainder(), chunks_b.remainder());
    for (ca, cb) in chunks_a.zip(chunks_b) {
        for lane in 0..LANES {
            acc[lane] += ca[lane] * f32::from(cb[lane]);
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (x, y) in tail_a.iter().zip(tail_b) {
        sum += x * f32::from(*y);
    }
    sum
}

/// Scales `v` to unit length in place; a zero vector stays zero. Returns the original norm.
pub fn normalize(v: &mut [f32]) -> f32 {
    let norm = dot_f32(v, v).sqrt();
    if norm > 0.0 && norm.is_finite() {
        let inv = 1.0 / norm;
        v.iter_mut().for_each(|x| *x *= inv);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_agree_with_naive_sums_for_every_tail_length() {
        for len in 0..40 {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
            let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot_f32(&a, &b) - naive).abs() < 1e-4, "len {len}");

            let ai: Vec<i8> = (0..len).map(|i| (i * 37 % 255 - 127) as i8).collect();
            let bi: Vec<i8> = (0..len).map(|i| (i * 91 % 255 - 127) as i8).collect();
            let naive_i: i32 = ai
                .iter()
                .zip(&bi)
                .map(|(x, y)| i32::from(*x) * i32::from(*y))
                .sum();
            assert_eq!(dot_i8(&ai, &bi), naive_i, "len {len}");

            let naive_mixed: f32 = a.iter().zip(&bi).map(|(x, y)| x * f32::from(*y)).sum();
            assert!(
                (dot_f32_i8(&a, &bi) - naive_mixed).abs() < 1e-2,
                "len {len}"
            );
        }
    }

    #[test]
    fn normalize_makes_unit_vectors_and_keeps_zero() {
        let mut v = vec![3.0, 4.0];
        assert_eq!(normalize(&mut v), 5.0);
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        let mut zero = vec![0.0; 3];
        assert_eq!(normalize(&mut zero), 0.0);
        assert_eq!(zero, vec![0.0; 3]);
    }
}
