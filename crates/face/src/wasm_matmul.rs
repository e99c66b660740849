//! A 4 x 8 f32 matrix-product kernel for the browser, registered with tract's own kernel
//! dispatch (its `MmmRoutine` and `MmmTier` inventories) so that every matrix product the
//! networks make in the page runs on it.
//!
//! tract 0.23.9 picks its 8 x 8 wasm kernel for every f32 product: sixteen 128-bit
//! accumulators, chosen by measurements under wasmtime. V8 gives wasm fifteen vector registers
//! on x86-64 (xmm15 is its scratch), so in Chromium those sixteen accumulators and the operands
//! spill to the stack on every step of the inner loop: in Chromium 156 tract's kernel runs
//! MobileFaceNet's 1 x 1 convolutions at 22-26 GFLOP/s. A 4 x 8 tile (eight accumulators, two
//! B vectors, one broadcast) keeps everything in registers: its inner loop alone runs at 38-43,
//! and the network's matrix products take half the time they took (docs/BENCHMARKS.md, "A
//! matrix-product kernel that fits V8's registers").
//! Each output is summed in the same order as by tract's kernel (a multiply, then an add,
//! along k), so the values are the same bit for bit.
//!
//! Natively nothing changes: tract's own x86-64 and ARM kernels are left alone.

use tract_nnef::prelude::{Datum, DatumType};
use tract_nnef::tract_core::tract_linalg::isa::Arch;
use tract_nnef::tract_core::tract_linalg::mmm::{DynKernel, FusedKerSpec, Query, Suitable};
use tract_nnef::tract_core::tract_linalg::mmm_routines::MmmRoutine;
use tract_nnef::tract_core::tract_linalg::mmm_tiers::MmmTier;
use tract_nnef::tract_core::tract_linalg::pack::PackedFormat;
use tract_nnef::tract_core::tract_linalg::{Scaler, isa::IsaSet};

/// The kernel's name in tract's dispatch (and in its error messages).
pub const KERNEL_NAME: &str = "cf_wasm_f32_4x8";

/// Rows of the output tile (the packed weights' panel width).
const MR: usize = 4;
/// 128-bit vectors per row of the output tile (eight columns).
const NV: usize = 2;

/// The kernel, as tract's dispatch holds it.
pub fn kernel() -> DynKernel<MR, { 4 * NV }, f32> {
    // 16-byte aligned panels: every load of the inner loop is a whole vector.
    let mut kernel = DynKernel::new(
        KERNEL_NAME,
        kernel_f32_4x8,
        PackedFormat::new(f32::datum_type(), MR, 16),
        PackedFormat::new(f32::datum_type(), 4 * NV, 16),
    );
    kernel.arch = Some(Arch::Wasm32Simd128);
    kernel
}

inventory::submit! {
    MmmRoutine { make: || kernel().mmm() }
}

/// Above tract's own wasm tier (precedence 1): every f32 product with more than one column
/// runs on this kernel. A matrix-vector product (one column) keeps tract's, which walk a column
/// of weights at a time.
fn preferred(
    _isa: &IsaSet,
    accumulator: DatumType,
    query: &Query,
    _suitable: &[Suitable],
) -> Option<&'static str> {
    (accumulator == DatumType::F32 && query.n != Some(1)).then_some(KERNEL_NAME)
}

inventory::submit! {
    MmmTier {
        arch: Some(Arch::Wasm32Simd128),
        precedence: 2,
        name: "celebrityfaces-wasm",
        applies: |_| true,
        preferred,
    }
}

/// tract's kernel calling convention: a list of fused operations over one output tile, ended
/// by `Done`.
///
/// # Safety
/// As for tract's own kernels: each operation's pointers reach what tract's matrix-product
/// driver gives a 4 x 8 tile (panels of `k` steps of four weights and eight activations, four
/// per-row and eight per-column values, a tile of four rows by eight columns to add or store).
unsafe fn kernel_f32_4x8(operations: &[FusedKerSpec<f32>]) -> isize {
    use std::arch::wasm32::{
        f32x4, f32x4_add, f32x4_extract_lane, f32x4_gt, f32x4_max, f32x4_min, f32x4_mul,
        f32x4_splat, f32x4_sub, i32x4_shuffle, v128, v128_bitselect, v128_load, v128_load32_splat,
        v128_store,
    };
    type Tile = [v128; MR * NV];
    #[inline(always)]
    fn each(acc: &mut Tile, f: impl Fn(v128) -> v128) {
        for value in acc.iter_mut() {
            *value = f(*value);
        }
    }
    #[inline(always)]
    unsafe fn per_row(acc: &mut Tile, rows: *const f32, f: impl Fn(v128, v128) -> v128) {
        for r in 0..MR {
            // SAFETY: tract hands a per-row operation MR values.
            let s = f32x4_splat(unsafe { *rows.add(r) });
            for j in 0..NV {
                acc[r * NV + j] = f(s, acc[r * NV + j]);
            }
        }
    }
    #[inline(always)]
    unsafe fn per_col(acc: &mut Tile, cols: *const f32, f: impl Fn(v128, v128) -> v128) {
        let cols = cols as *const v128;
        for r in 0..MR {
            for j in 0..NV {
                // SAFETY: tract hands a per-column operation 4 * NV values.
                acc[r * NV + j] = f(unsafe { v128_load(cols.add(j)) }, acc[r * NV + j]);
            }
        }
    }
    let zero = f32x4_splat(0.0);
    let mut acc: Tile = [zero; MR * NV];
    // SAFETY: each arm reads and writes only what tract hands a tile of this kernel's shape
    // (the function's safety section).
    unsafe {
        for operation in operations {
            match *operation {
                FusedKerSpec::Done => break,
                FusedKerSpec::Clear => acc = [zero; MR * NV],
                FusedKerSpec::LoadTile(_cols, rows) => {
                    let rows = rows as *const v128;
                    for (i, value) in acc.iter_mut().enumerate() {
                        *value = v128_load(rows.add(i));
                    }
                }
                FusedKerSpec::ScalarMin(a) => each(&mut acc, |v| f32x4_min(f32x4_splat(a), v)),
                FusedKerSpec::ScalarMax(a) => each(&mut acc, |v| f32x4_max(f32x4_splat(a), v)),
                FusedKerSpec::ScalarAdd(a) => each(&mut acc, |v| f32x4_add(f32x4_splat(a), v)),
                FusedKerSpec::ScalarMul(a) => each(&mut acc, |v| f32x4_mul(f32x4_splat(a), v)),
                FusedKerSpec::ScalarSub(a) => each(&mut acc, |v| f32x4_sub(f32x4_splat(a), v)),
                FusedKerSpec::ScalarSubF(a) => each(&mut acc, |v| f32x4_sub(v, f32x4_splat(a))),
                FusedKerSpec::LeakyRelu(a) => each(&mut acc, |v| {
                    v128_bitselect(v, f32x4_mul(f32x4_splat(a), v), f32x4_gt(v, zero))
                }),
                FusedKerSpec::PerRowMin(rows) => per_row(&mut acc, rows, |a, b| f32x4_min(a, b)),
                FusedKerSpec::PerRowMax(rows) => per_row(&mut acc, rows, |a, b| f32x4_max(a, b)),
                FusedKerSpec::PerRowAdd(rows) => per_row(&mut acc, rows, |a, b| f32x4_add(a, b)),
                FusedKerSpec::PerRowMul(rows) => per_row(&mut acc, rows, |a, b| f32x4_mul(a, b)),
                FusedKerSpec::PerRowSub(rows) => per_row(&mut acc, rows, |a, b| f32x4_sub(a, b)),
                FusedKerSpec::PerRowSubF(rows) => per_row(&mut acc, rows, |s, v| f32x4_sub(v, s)),
                FusedKerSpec::PerColMin(cols) => per_col(&mut acc, cols, |a, b| f32x4_min(a, b)),
                FusedKerSpec::PerColMax(cols) => per_col(&mut acc, cols, |a, b| f32x4_max(a, b)),
                FusedKerSpec::PerColAdd(cols) => per_col(&mut acc, cols, |a, b| f32x4_add(a, b)),
                FusedKerSpec::PerColMul(cols) => per_col(&mut acc, cols, |a, b| f32x4_mul(a, b)),
                FusedKerSpec::PerColSub(cols) => per_col(&mut acc, cols, |a, b| f32x4_sub(a, b)),
                FusedKerSpec::PerColSubF(cols) => per_col(&mut acc, cols, |c, v| f32x4_sub(v, c)),
                // Quantised scalings, which an f32 product is not given; done as tract's f32
                // kernels do them.
                FusedKerSpec::QScale(shift, policy, multiplier) => {
                    let scale = Scaler::from_fuse_params(shift, policy, multiplier).scale;
                    each(&mut acc, |v| f32x4_mul(f32x4_splat(scale), v))
                }
                FusedKerSpec::RoundingShiftRight(shift, _) => {
                    let scale = 2f32.powi(-(shift as i32));
                    each(&mut acc, |v| f32x4_mul(f32x4_splat(scale), v))
                }
                FusedKerSpec::ShiftLeft(shift) => {
                    let scale = 2f32.powi(shift as i32);
                    each(&mut acc, |v| f32x4_mul(f32x4_splat(scale), v))
                }
                FusedKerSpec::AddRowColProducts(rows, cols) => {
                    let cols = cols as *const v128;
                    for r in 0..MR {
                        let s = f32x4_splat(*rows.add(r));
                        for j in 0..NV {
                            acc[r * NV + j] =
                                f32x4_add(acc[r * NV + j], f32x4_mul(s, v128_load(cols.add(j))));
                        }
                    }
                }
                FusedKerSpec::AddUnicast(tile) => {
                    let (rows, cols) = (tile.row_byte_stride, tile.col_byte_stride);
                    for r in 0..MR {
                        let row = tile.ptr.offset(rows * r as isize);
                        let at = |c: usize| *(row.offset(cols * c as isize) as *const f32);
                        for j in 0..NV {
                            let c = 4 * j;
                            let tile = f32x4(at(c), at(c + 1), at(c + 2), at(c + 3));
                            acc[r * NV + j] = f32x4_add(tile, acc[r * NV + j]);
                        }
                    }
                }
                FusedKerSpec::Store(tile) => {
                    let (rows, cols) = (tile.row_byte_stride, tile.col_byte_stride);
                    // A column of the tile in one piece (YuNet's products run with the pixels
                    // along the tile's rows, and tract's scratch for a border tile is laid out
                    // so): each 4 x 4 block transposed, its columns stored as whole vectors.
                    if rows == 4 && MR == 4 {
                        for j in 0..NV {
                            let [r0, r1, r2, r3] = [0, 1, 2, 3].map(|r| acc[r * NV + j]);
                            let (low01, high01) = (
                                i32x4_shuffle::<0, 4, 1, 5>(r0, r1),
                                i32x4_shuffle::<2, 6, 3, 7>(r0, r1),
                            );
                            let (low23, high23) = (
                                i32x4_shuffle::<0, 4, 1, 5>(r2, r3),
                                i32x4_shuffle::<2, 6, 3, 7>(r2, r3),
                            );
                            let columns = [
                                i32x4_shuffle::<0, 1, 4, 5>(low01, low23),
                                i32x4_shuffle::<2, 3, 6, 7>(low01, low23),
                                i32x4_shuffle::<0, 1, 4, 5>(high01, high23),
                                i32x4_shuffle::<2, 3, 6, 7>(high01, high23),
                            ];
                            for (c, column) in columns.into_iter().enumerate() {
                                let at = tile.ptr.offset(cols * (4 * j + c) as isize);
                                v128_store(at as *mut v128, column);
                            }
                        }
                        continue;
                    }
                    for r in 0..MR {
                        let row = tile.ptr.offset(rows * r as isize);
                        for j in 0..NV {
                            let value = acc[r * NV + j];
                            // A row of the tile in one piece (a convolution's channel plane)
                            // takes whole vectors.
                            if cols == 4 {
                                v128_store(row.add(16 * j) as *mut v128, value);
                                continue;
                            }
                            let at = |c: usize| row.offset(cols * (4 * j + c) as isize) as *mut f32;
                            *at(0) = f32x4_extract_lane::<0>(value);
                            *at(1) = f32x4_extract_lane::<1>(value);
                            *at(2) = f32x4_extract_lane::<2>(value);
                            *at(3) = f32x4_extract_lane::<3>(value);
                        }
                    }
                }
                FusedKerSpec::AddMatMul { k, pa, pb, .. } => {
                    let (weights, activations) = (pa as *const f32, pb as *const v128);
                    for step in 0..k {
                        let b: [v128; NV] =
                            std::array::from_fn(|j| v128_load(activations.add(NV * step + j)));
                        for r in 0..MR {
                            let a = v128_load32_splat(weights.add(MR * step + r) as *const u32);
                            for j in 0..NV {
                                acc[r * NV + j] = f32x4_add(acc[r * NV + j], f32x4_mul(a, b[j]));
                            }
                        }
                    }
                }
            }
        }
    }
    0
}
