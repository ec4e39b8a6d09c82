//! The direct backend: the definition of the canonical problem, evaluated term by term.

use super::{ConvBackend, ConvProblem, check_buffer_len};
use crate::error::ConvError;
use crate::geometry::Geometry;
use crate::num::ConvNum;
use crate::parallel;

/// Evaluates the defining sum directly: `O(N * O * OD * OH * OW * Cg * KD * KH * KW)` multiply-adds.
///
/// This is the reference oracle every other backend is tested against. Each output is the
/// defining sum, accumulated from zero in the order input channel, kernel slice (depth), kernel
/// row, kernel column — nothing else. For speed the outputs of a row are computed in tiles of 64 or 128 that stay in
/// vector registers while every tap is added (a register-blocked kernel, compiled for AVX2 or
/// AVX-512 when the CPU has them, chosen at run time), or, with at most 16 taps at stride 1,
/// in one pass with the weights held in registers; large problems are split over the cores.
/// None of this changes a single bit: the order of the sum per output is the same.
///
/// It supports every problem and needs no memory beyond the output.
///
/// # Numerics
/// Each output is a plain sum of products in the element type, in the order channel, kernel
/// slice, kernel row, kernel column (no fused multiply-add). NaN and infinity propagate as IEEE arithmetic
/// says: a NaN input sample makes NaN exactly the outputs whose window covers it (and a NaN
/// kernel tap makes every output of that kernel NaN).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Direct;

impl Direct {
    /// How many threads a call on this geometry uses.
    pub(crate) fn threads(g: &Geometry) -> usize {
        parallel::threads_for(g.multiply_adds(), parallel::MIN_MULTIPLY_ADDS_PER_THREAD)
    }
}

impl<T: ConvNum> ConvBackend<T> for Direct {
    fn name(&self) -> &str {
        "direct"
    }

    /// Every geometry: the defining sum has no limits beyond the buffers `Geometry::new` checked.
    fn supports(&self, _geometry: &Geometry) -> Result<(), ConvError> {
        Ok(())
    }

    /// Multiply-adds, and the taps gathered per output row (each a short loop), shared by the
    /// threads the call uses; values moved.
    fn cost_features(&self, g: &Geometry) -> Result<Vec<f64>, ConvError> {
        let counts = crate::cost::Counts::of(g);
        let threads = Direct::threads(g) as f64;
        let macs = counts.multiply_adds;
        Ok(vec![macs / threads, macs / g.axes()[2].output as f64 / threads, counts.values])
    }

    fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        let g = problem.geometry();
        check_buffer_len("output", g.output_len(), output.len())?;
        let threads = Direct::threads(g);
        let arch = pulp::Arch::new();
        parallel::split_output(output, threads, |piece, offset| {
            arch.dispatch(OutputRange { problem, outputs: piece, first: offset });
            Ok(())
        })
    }
}

/// A run of outputs to fill: those whose flat (N, O, OH, OW) indices start at `first`.
///
/// `pulp` compiles [`pulp::WithSimd::with_simd`] once per instruction set and calls the best
/// one the CPU has; everything below is `#[inline(always)]` so the loops are compiled, and
/// vectorised, inside it.
struct OutputRange<'a, 'p, T> {
    problem: &'a ConvProblem<'p, T>,
    outputs: &'a mut [T],
    first: usize,
}

impl<T: ConvNum> pulp::WithSimd for OutputRange<'_, '_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        if size_of::<T>() <= 4 {
            compute_outputs_tiled::<T, 128>(self.problem, self.outputs, self.first);
        } else {
            compute_outputs_tiled::<T, 64>(self.problem, self.outputs, self.first);
        }
    }
}

/// Walks `outputs` one output-row segment at a time and fills each segment tile by tile.
#[inline(always)]
fn compute_outputs_tiled<T: ConvNum, const TILE: usize>(
    problem: &ConvProblem<'_, T>,
    outputs: &mut [T],
    first: usize,
) {
    let g = problem.geometry();
    let cols = g.axes()[2];
    let plane_len = g.output_plane();
    let mut taps = Vec::with_capacity(g.in_per_group() * g.kernel_plane());
    let mut done = 0;
    while done < outputs.len() {
        let index = first + done;
        let (plane, within) = (index / plane_len, index % plane_len);
        // The output row (z, y) of the plane, flattened: `z * OH + y`.
        let (row, x0) = (within / cols.output, within % cols.output);
        let len = (cols.output - x0).min(outputs.len() - done);
        taps.clear();
        collect_taps(problem, plane, row, &mut taps);
        let segment = &mut outputs[done..done + len];
        if cols.stride == 1 && stream_few_taps(&taps, x0, segment) {
            done += len;
            continue;
        }
        // Full tiles, then the rest of the row in tiles of 16 and 8 (short rows are common in
        // CNN layers), then what is left one by one.
        let full = segment.len() / TILE * TILE;
        let (tiles, rest) = segment.split_at_mut(full);
        for (tile_index, tile) in tiles.chunks_exact_mut(TILE).enumerate() {
            fill_tile::<T, TILE>(&taps, (x0 + tile_index * TILE) * cols.stride, cols.stride, tile);
        }
        let mut x = x0 + full;
        let (sixteens, rest) = rest.split_at_mut(rest.len() / 16 * 16);
        for tile in sixteens.chunks_exact_mut(16) {
            fill_tile::<T, 16>(&taps, x * cols.stride, cols.stride, tile);
            x += 16;
        }
        let (eights, rest) = rest.split_at_mut(rest.len() / 8 * 8);
        for tile in eights.chunks_exact_mut(8) {
            fill_tile::<T, 8>(&taps, x * cols.stride, cols.stride, tile);
            x += 8;
        }
        partial_tile(&taps, x * cols.stride, cols.stride, rest);
        done += len;
    }
}

/// The terms that feed output row `row` (`z * OH + y`: slice `z`, row `y`) of output plane
/// `plane`, in summation order (input channel, kernel slice, kernel row, kernel column): each
/// tap's weight and the input row it scales, already shifted by the tap's column offset.
fn collect_taps<'p, T: ConvNum>(
    problem: &ConvProblem<'p, T>,
    plane: usize,
    row: usize,
    taps: &mut Vec<(T, &'p [T])>,
) {
    let g = problem.geometry();
    let [depth, rows, cols] = g.axes();
    let (z, y) = (row / rows.output, row % rows.output);
    let (n, o) = (plane / g.out_channels(), plane % g.out_channels());
    let group = o / g.out_per_group();
    for c in 0..g.in_per_group() {
        // Both planes exist: `plane < batch * out_channels` and `c < in_per_group`.
        let (Some(input), Some(kernel)) =
            (problem.input_plane(n, group * g.in_per_group() + c), problem.kernel_plane(o, c))
        else {
            return;
        };
        for kz in 0..depth.kernel {
            let slice = z * depth.stride + kz * depth.dilation;
            for ky in 0..rows.kernel {
                let row_start = (slice * rows.input + y * rows.stride + ky * rows.dilation) * cols.input;
                let input_row = &input[row_start..row_start + cols.input];
                let weights = &kernel[(kz * rows.kernel + ky) * cols.kernel..][..cols.kernel];
                for (kx, &weight) in weights.iter().enumerate() {
                    taps.push((weight, &input_row[kx * cols.dilation..]));
                }
            }
        }
    }
}

/// Fills a stride-1 row segment whose outputs start at column `x` in one pass when there are
/// at most 16 taps (short 1-D kernels, a single-channel 3x3): the weights stay in registers and
/// each output's sum is finished before the next, the same sum in the same order as
/// [`full_tile`]'s. With so few taps the tiles' per-tap bookkeeping cost as much as the sums
/// (one core, 10^5 outputs: 3 taps 67-102 -> 31 us, 9 taps 80 -> 59 us, 16 taps 120 -> 102 us;
/// 512^2 * 3^2: 267 -> 200 us). Returns `false`, touching nothing, for more taps.
#[inline(always)]
fn stream_few_taps<T: ConvNum>(taps: &[(T, &[T])], x: usize, segment: &mut [T]) -> bool {
    match taps.len() {
        1 => stream_taps::<T, 1>(taps, x, segment),
        2 => stream_taps::<T, 2>(taps, x, segment),
        3 => stream_taps::<T, 3>(taps, x, segment),
        4 => stream_taps::<T, 4>(taps, x, segment),
        5 => stream_taps::<T, 5>(taps, x, segment),
        6 => stream_taps::<T, 6>(taps, x, segment),
        7 => stream_taps::<T, 7>(taps, x, segment),
        8 => stream_taps::<T, 8>(taps, x, segment),
        9 => stream_taps::<T, 9>(taps, x, segment),
        10 => stream_taps::<T, 10>(taps, x, segment),
        11 => stream_taps::<T, 11>(taps, x, segment),
        12 => stream_taps::<T, 12>(taps, x, segment),
        13 => stream_taps::<T, 13>(taps, x, segment),
        14 => stream_taps::<T, 14>(taps, x, segment),
        15 => stream_taps::<T, 15>(taps, x, segment),
        16 => stream_taps::<T, 16>(taps, x, segment),
        _ => false,
    }
}

/// [`stream_few_taps`] for exactly `K` taps (`false` for another count or a row too short).
#[inline(always)]
fn stream_taps<T: ConvNum, const K: usize>(taps: &[(T, &[T])], x: usize, segment: &mut [T]) -> bool {
    let Some(taps) = taps.first_chunk::<K>() else {
        return false;
    };
    let len = segment.len();
    let weights: [T; K] = std::array::from_fn(|t| taps[t].0);
    let rows: [&[T]; K] = std::array::from_fn(|t| taps[t].1.get(x..x + len).unwrap_or_default());
    if rows.iter().any(|row| row.len() != len) {
        return false;
    }
    for (i, output) in segment.iter_mut().enumerate() {
        let mut sum = T::zero();
        for (weight, row) in weights.iter().zip(&rows) {
            sum = sum + *weight * row[i];
        }
        *output = sum;
    }
    true
}

/// Fills a tile of exactly `TILE` outputs (does nothing to a tile of another length).
#[inline(always)]
fn fill_tile<T: ConvNum, const TILE: usize>(taps: &[(T, &[T])], x: usize, stride: usize, tile: &mut [T]) {
    if let Some(tile) = tile.first_chunk_mut::<TILE>() {
        full_tile::<T, TILE>(taps, x, stride, tile);
    }
}

/// Writes into `tile` the `TILE` consecutive outputs whose windows start at column `x` of the
/// shifted rows, accumulated in registers over every tap and stored once (written through
/// `tile` rather than returned: a returned array went through the stack, a copy that cost as
/// much as the sums of a three-tap kernel).
#[inline(always)]
fn full_tile<T: ConvNum, const TILE: usize>(
    taps: &[(T, &[T])],
    x: usize,
    stride: usize,
    tile: &mut [T; TILE],
) {
    let mut acc = [T::zero(); TILE];
    if stride == 1 {
        for &(weight, shifted_row) in taps {
            // The geometry guarantees the window: every output's taps lie inside the input row.
            if let Some(window) = shifted_row.get(x..).and_then(<[T]>::first_chunk::<TILE>) {
                for (sum, &value) in acc.iter_mut().zip(window) {
                    *sum = *sum + weight * value;
                }
            }
        }
    } else {
        for &(weight, shifted_row) in taps {
            for (sum, &value) in acc.iter_mut().zip(shifted_row[x..].iter().step_by(stride)) {
                *sum = *sum + weight * value;
            }
        }
    }
    *tile = acc;
}

/// The same sums as [`full_tile`] for a tile shorter than `TILE` (the end of a row).
#[inline(always)]
fn partial_tile<T: ConvNum>(taps: &[(T, &[T])], x: usize, stride: usize, tile: &mut [T]) {
    tile.fill(T::zero());
    if tile.is_empty() {
        return;
    }
    if stride == 1 {
        for &(weight, shifted_row) in taps {
            for (sum, &value) in tile.iter_mut().zip(&shifted_row[x..]) {
                *sum = *sum + weight * value;
            }
        }
    } else {
        for &(weight, shifted_row) in taps {
            for (sum, &value) in tile.iter_mut().zip(shifted_row[x..].iter().step_by(stride)) {
                *sum = *sum + weight * value;
            }
        }
    }
}
