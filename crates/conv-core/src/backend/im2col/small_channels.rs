//! Channels-last layers with few input channels (an RGB image's three), solved without a patch
//! matrix: each output position's `O` values are accumulated in vector registers, one kernel
//! row of `KW * C` input values at a time, each value broadcast against a row of the weights.
//!
//! With three channels and a 3x3 kernel the GEMM's inner dimension is 27: too short for its
//! blocking, while building the 27-value patch rows and packing them cost as much again (the
//! profile of the 64x3x32x32 -> 32 layer: GEMM 50%, patch rows and copies 40%). Here the weights
//! (`KH * KW * C x O`, a few KiB) stay in the first-level cache and the input is read in place.

use crate::geometry::Geometry;
use crate::num::ConvNum;

/// Input values per kernel row (`KW * C`) up to which a layer is solved here (a power of two:
/// row reads are this long).
const MAX_ROW_VALUES: usize = 16;

/// Output channels per vector (one AVX-512 register of f32).
const LANES: usize = 16;

/// Output positions per register block along a row (their accumulators share each weight row).
const POSITIONS: usize = 6;

/// Whether [`solve`] takes this (ungrouped, channels-last, planar) geometry: a kernel row of at
/// most 16 contiguous input values (column dilation 1) and 16, 32, 48 or 64 output channels.
pub(crate) fn applies(g: &Geometry) -> bool {
    let [_, cols] = g.plane_axes();
    g.groups() == 1
        && g.axes()[0].output == 1
        && cols.dilation == 1
        && cols.kernel * g.in_channels() <= MAX_ROW_VALUES
        && (1..=4).contains(&(g.out_channels() / LANES))
        && g.out_channels().is_multiple_of(LANES)
}

/// Fills `piece`, the outputs of positions `first ..` (`p = (n * OH + y) * OW + x`, `O` values
/// each), from the channels-last `input` and the `KH * KW * C x O` weight matrix.
pub(super) fn solve<T: ConvNum>(g: &Geometry, input: &[T], weights: &[T], piece: &mut [T], first: usize) {
    pulp::Arch::new().dispatch(Positions { g, input, weights, piece, first });
}

/// A run of output positions to fill, compiled once per instruction set by `pulp`.
struct Positions<'a, T> {
    g: &'a Geometry,
    input: &'a [T],
    weights: &'a [T],
    piece: &'a mut [T],
    first: usize,
}

impl<T: ConvNum> pulp::WithSimd for Positions<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        match self.g.out_channels() / LANES {
            1 => self.fill::<1>(),
            2 => self.fill::<2>(),
            3 => self.fill::<3>(),
            _ => self.fill::<4>(),
        }
    }
}

impl<T: ConvNum> Positions<'_, T> {
    /// Fills the run in register blocks of `POSITIONS` positions (one at a time at a row's end)
    /// by all `CHUNKS * 16` output channels.
    #[inline(always)]
    fn fill<const CHUNKS: usize>(self) {
        let Positions { g, input, weights, piece, first } = self;
        let [rows, cols] = g.plane_axes();
        let (c, o_count) = (g.in_channels(), g.out_channels());
        let row_values = cols.kernel * c;
        let out_plane = rows.output * cols.output;
        let positions = piece.len() / o_count;
        let mut p = 0;
        while p < positions {
            let index = first + p;
            let (n, y, x) = (index / out_plane, index % out_plane / cols.output, index % cols.output);
            // Input offset of kernel row `ky`'s first value for position (n, y, x + q).
            let row_start = |ky: usize, q: usize| {
                ((n * rows.input + y * rows.stride + ky * rows.dilation) * cols.input + (x + q) * cols.stride)
                    * c
            };
            let block = if (cols.output - x).min(positions - p) >= POSITIONS { POSITIONS } else { 1 };
            let out = &mut piece[p * o_count..(p + block) * o_count];
            let done = if block == POSITIONS {
                accumulate::<T, POSITIONS, CHUNKS>(input, weights, out, row_values, rows.kernel, &row_start)
            } else {
                accumulate::<T, 1, CHUNKS>(input, weights, out, row_values, rows.kernel, &row_start)
            };
            if !done {
                accumulate_checked(input, weights, out, block, row_values, rows.kernel, &row_start);
            }
            p += block;
        }
    }
}

/// `P` consecutive positions of one output row, all `CHUNKS * 16` output channels: the
/// accumulators stay in registers over every kernel row and value, then are stored once. Each
/// kernel row is read as 16 values from its first (those past `row_values` are not used), so the
/// loops need no bounds checks; returns `false`, touching nothing, when such a read would pass
/// the end of the input (the last positions).
#[inline(always)]
fn accumulate<T: ConvNum, const P: usize, const CHUNKS: usize>(
    input: &[T],
    weights: &[T],
    out: &mut [T],
    row_values: usize,
    kernel_rows: usize,
    row_start: &impl Fn(usize, usize) -> usize,
) -> bool {
    let o_count = CHUNKS * LANES;
    let mut acc = [[[T::zero(); LANES]; CHUNKS]; P];
    for ky in 0..kernel_rows {
        let mut rows = [[T::zero(); MAX_ROW_VALUES]; P];
        for (q, row) in rows.iter_mut().enumerate() {
            match input.get(row_start(ky, q)..).and_then(<[T]>::first_chunk::<MAX_ROW_VALUES>) {
                Some(values) => *row = *values,
                None => return false,
            }
        }
        let first_weight = ky * row_values * o_count;
        for t in 0..row_values.min(MAX_ROW_VALUES) {
            let Some(w_row) = weights.get(first_weight + t * o_count..first_weight + (t + 1) * o_count)
            else {
                return false;
            };
            let mut w = [[T::zero(); LANES]; CHUNKS];
            for (k, lanes) in w.iter_mut().enumerate() {
                if let Some(values) = w_row.get(k * LANES..).and_then(<[T]>::first_chunk::<LANES>) {
                    *lanes = *values;
                }
            }
            for q in 0..P {
                // `t < 16`: the mask only tells the compiler so.
                let v = rows[q][t & (MAX_ROW_VALUES - 1)];
                for k in 0..CHUNKS {
                    for i in 0..LANES {
                        acc[q][k][i] = v.mul_add(w[k][i], acc[q][k][i]);
                    }
                }
            }
        }
    }
    for (q, sums) in acc.iter().enumerate() {
        for (k, lanes) in sums.iter().enumerate() {
            let at = q * o_count + k * LANES;
            if let Some(target) = out.get_mut(at..at + LANES) {
                target.copy_from_slice(lanes);
            }
        }
    }
    true
}

/// The same sums as [`accumulate`] for `block` positions, every input value read with its own
/// bounds check (the input's last positions).
fn accumulate_checked<T: ConvNum>(
    input: &[T],
    weights: &[T],
    out: &mut [T],
    block: usize,
    row_values: usize,
    kernel_rows: usize,
    row_start: &impl Fn(usize, usize) -> usize,
) {
    let o_count = out.len() / block.max(1);
    for (q, sums) in out.chunks_exact_mut(o_count.max(1)).enumerate().take(block) {
        sums.fill(T::zero());
        for ky in 0..kernel_rows {
            let start = row_start(ky, q);
            for t in 0..row_values {
                let v = input.get(start + t).copied().unwrap_or_else(T::zero);
                let Some(w) =
                    weights.get((ky * row_values + t) * o_count..(ky * row_values + t + 1) * o_count)
                else {
                    continue;
                };
                for (sum, &weight) in sums.iter_mut().zip(w) {
                    *sum = v.mul_add(weight, *sum);
                }
            }
        }
    }
}
