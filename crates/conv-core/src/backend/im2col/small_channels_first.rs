//! Channels-first layers with few input channels (an RGB image's three, a grey digit's one),
//! solved without a patch matrix: a block of output planes is accumulated in vector registers
//! over runs of 16 consecutive positions of the *flattened* plane, each input run broadcast-
//! multiplied by one weight per output plane.
//!
//! Counted over whole input rows (position `q = y * W + x`, `x < W`), the outputs of kernel tap
//! `(c, i, j)` read the input plane `c` from `q + i * W + j` on: one contiguous run per tap and
//! run of positions, for every output plane alike. The `KW - 1` positions per row past the
//! output's width are computed and dropped when the block is stored (the *shifted views* of
//! `mod.rs`, here at the level of registers). With three channels and a 3x3 kernel the patch
//! matrix's 27 rows make the GEMM's inner dimension too short for its blocking; here the
//! weights (`C*KH*KW x O`, a few KiB) stay in the first-level cache and the input is read in
//! place, as `small_channels.rs` does for channels last.

use super::channels_first::copy_row;
use crate::geometry::Geometry;
use crate::num::ConvNum;

/// Kernel taps (`C * KH * KW`) up to which a layer is solved here: beyond, the GEMM's inner
/// dimension is long enough for its blocking.
const MAX_TAPS: usize = 32;

/// Positions per vector run (one AVX-512 register of f32; two of f64).
const LANES: usize = 16;

/// Vector runs per register block: `RUNS * LANES` consecutive positions share each weight.
const RUNS: usize = 2;

/// Output planes per register block for `T`: the sums fill 16 vector registers either way (f32: 8
/// planes x 2 runs x 1 register; f64: 4 planes x 2 runs x 2 registers), leaving the rest of the
/// 32 for the input runs and the broadcast weights (more planes spill).
fn planes_per_block<T>() -> usize {
    if size_of::<T>() <= 4 { 8 } else { 4 }
}

/// Whether [`solve`] takes this (canonical, channels-first) geometry: planar, ungrouped, unit
/// strides, at most [`MAX_TAPS`] taps, and the dropped positions (`KW - 1` per input row,
/// column dilation included) at most a quarter of a row: a 3x3 kernel on rows of 8 or more.
pub(crate) fn applies(g: &Geometry) -> bool {
    let [rows, cols] = g.plane_axes();
    g.is_planar()
        && g.groups() == 1
        && rows.stride == 1
        && cols.stride == 1
        && rows.output > 0
        && cols.output > 0
        && g.in_channels().saturating_mul(g.kernel_plane()) <= MAX_TAPS
        && (cols.effective_kernel() - 1).saturating_mul(4) <= cols.input
}

/// Fills `piece`, output planes `first_plane ..` (plane `n * O + o`, `OH * OW` values each),
/// from the channels-first `input` and the weights by tap (`by_tap[tap * O + o]`, tap
/// `(c * KH + i) * KW + j`; [`weights_by_tap`]).
pub(crate) fn solve<T: ConvNum>(
    g: &Geometry,
    input: &[T],
    by_tap: &[T],
    piece: &mut [T],
    first_plane: usize,
) {
    pulp::Arch::new().dispatch(Planes { g, input, by_tap, piece, first_plane });
}

/// The kernel bank `[O, C, KH, KW]` as `C*KH*KW` rows of `O` weights: the weights of one tap for
/// every output plane side by side.
pub(crate) fn weights_by_tap<T: ConvNum>(g: &Geometry, kernel: &[T]) -> Vec<T> {
    let (o_count, taps) = (g.out_channels(), g.in_channels() * g.kernel_plane());
    let mut by_tap = vec![T::zero(); o_count * taps];
    for (o, bank) in kernel.chunks_exact(taps.max(1)).enumerate().take(o_count) {
        for (tap, &value) in bank.iter().enumerate() {
            by_tap[tap * o_count + o] = value;
        }
    }
    by_tap
}

/// A run of output planes to fill, compiled once per instruction set by `pulp`.
struct Planes<'a, T> {
    g: &'a Geometry,
    input: &'a [T],
    by_tap: &'a [T],
    piece: &'a mut [T],
    first_plane: usize,
}

impl<T: ConvNum> pulp::WithSimd for Planes<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Planes { g, input, by_tap, piece, first_plane } = self;
        let (o_count, plane) = (g.out_channels(), g.output_plane());
        let most = planes_per_block::<T>();
        let mut done = 0;
        for out in chunk_by_image(piece, plane, first_plane, o_count, most) {
            let index = first_plane + done;
            let block = Block::new(g, input, by_tap, index);
            done += out.len() / plane;
            match out.len() / plane {
                1 => block.fill::<1>(out),
                2 => block.fill::<2>(out),
                3 => block.fill::<3>(out),
                4 => block.fill::<4>(out),
                5 => block.fill::<5>(out),
                6 => block.fill::<6>(out),
                7 => block.fill::<7>(out),
                _ => block.fill::<8>(out),
            }
        }
    }
}

/// `piece` (whole planes, the first being plane `first_plane`) cut into runs of at most `most`
/// planes that belong to one image each.
fn chunk_by_image<T>(
    piece: &mut [T],
    plane: usize,
    first_plane: usize,
    o_count: usize,
    most: usize,
) -> impl Iterator<Item = &mut [T]> {
    let mut rest = piece;
    let mut index = first_plane;
    std::iter::from_fn(move || {
        let planes = rest.len() / plane.max(1);
        if planes == 0 {
            return None;
        }
        let left_in_image = o_count - index % o_count.max(1);
        let count = planes.min(most).min(left_in_image).max(1);
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(count * plane);
        rest = tail;
        index += count;
        Some(head)
    })
}

/// One image's output planes `first_o .. first_o + B`, with every size the loops read copied out
/// of the geometry: a call inside the loop over the taps (the geometry's accessors are not
/// inlined across codegen units) would spill the accumulators on every tap.
struct Block<'a, T> {
    input: &'a [T],
    by_tap: &'a [T],
    /// Offset of the image's first input value.
    image: usize,
    first_o: usize,
    o_count: usize,
    channels: usize,
    kernel_rows: usize,
    kernel_cols: usize,
    in_plane: usize,
    /// Input values between kernel rows (`row dilation * W`) and kernel columns.
    row_step: usize,
    col_step: usize,
    /// Flattened positions up to the last output's: `(OH - 1) * W + OW`.
    span: usize,
    width: usize,
    out_width: usize,
    out_plane: usize,
}

impl<'a, T: ConvNum> Block<'a, T> {
    fn new(g: &Geometry, input: &'a [T], by_tap: &'a [T], plane_index: usize) -> Self {
        let [rows, cols] = g.plane_axes();
        let o_count = g.out_channels();
        Block {
            input,
            by_tap,
            image: plane_index / o_count * g.in_channels() * g.input_plane(),
            first_o: plane_index % o_count,
            o_count,
            channels: g.in_channels(),
            kernel_rows: rows.kernel,
            kernel_cols: cols.kernel,
            in_plane: g.input_plane(),
            // Saturating: a dilation of any size with one kernel row is never multiplied by more than 0.
            row_step: rows.dilation.saturating_mul(cols.input),
            col_step: cols.dilation,
            span: (rows.output - 1) * cols.input + cols.output,
            width: cols.input,
            out_width: cols.output,
            out_plane: g.output_plane(),
        }
    }

    /// Offset in the input of tap `(c, i, j)` for the block's first flattened position.
    #[inline(always)]
    fn tap_offset(&self, c: usize, i: usize, j: usize) -> usize {
        self.image + c * self.in_plane + i * self.row_step + j * self.col_step
    }

    /// Fills the `B` planes of `out` run by run of `RUNS * LANES` flattened positions.
    #[inline(always)]
    fn fill<const B: usize>(&self, out: &mut [T]) {
        for start in (0..self.span).step_by(RUNS * LANES) {
            let acc = self.accumulate::<B>(start).unwrap_or_else(|| self.accumulate_checked::<B>(start));
            self.store(&acc, out, start);
        }
    }

    /// The sums of the block's `B` planes at positions `start ..`, kept in registers over every
    /// tap; `None` when a run would read past the end of the input (the last runs of the last
    /// image).
    #[inline(always)]
    fn accumulate<const B: usize>(&self, start: usize) -> Option<[[[T; LANES]; RUNS]; B]> {
        let mut acc = [[[T::zero(); LANES]; RUNS]; B];
        let mut weights = self.by_tap.get(self.first_o..)?;
        for c in 0..self.channels {
            for i in 0..self.kernel_rows {
                for j in 0..self.kernel_cols {
                    let at = self.tap_offset(c, i, j) + start;
                    let mut runs = [[T::zero(); LANES]; RUNS];
                    for (r, run) in runs.iter_mut().enumerate() {
                        *run = *self.input.get(at + r * LANES..)?.first_chunk::<LANES>()?;
                    }
                    let w: [T; B] = *weights.first_chunk::<B>()?;
                    weights = weights.get(self.o_count..).unwrap_or(&[]);
                    // One block per plane, written out: left as a loop over the planes, the
                    // vectoriser takes that loop (eight planes, gathered from and scattered to
                    // the stack) instead of the runs of positions.
                    macro_rules! planes {
                        ($($b:literal)*) => {$(
                            if let (Some(sums), Some(&weight)) = (acc.get_mut($b), w.get($b)) {
                                for (sum_run, run) in sums.iter_mut().zip(&runs) {
                                    for (sum, &value) in sum_run.iter_mut().zip(run) {
                                        *sum = value.mul_add(weight, *sum);
                                    }
                                }
                            }
                        )*};
                    }
                    planes!(0 1 2 3 4 5 6 7);
                }
            }
        }
        Some(acc)
    }

    /// The same sums as [`Block::accumulate`], every value read with its own bounds check;
    /// values past the end of the input read as zero (they reach only dropped positions: every
    /// kept output reads inside its own image).
    fn accumulate_checked<const B: usize>(&self, start: usize) -> [[[T; LANES]; RUNS]; B] {
        let mut acc = [[[T::zero(); LANES]; RUNS]; B];
        let mut tap = 0;
        for c in 0..self.channels {
            for i in 0..self.kernel_rows {
                for j in 0..self.kernel_cols {
                    let at = self.tap_offset(c, i, j) + start;
                    for (b, sums) in acc.iter_mut().enumerate() {
                        let weight = self.by_tap.get(tap * self.o_count + self.first_o + b).copied();
                        let weight = weight.unwrap_or_else(T::zero);
                        for (k, sum) in sums.as_flattened_mut().iter_mut().enumerate() {
                            let value = self.input.get(at + k).copied().unwrap_or_else(T::zero);
                            *sum = value.mul_add(weight, *sum);
                        }
                    }
                    tap += 1;
                }
            }
        }
        acc
    }

    /// Stores the block's sums for flattened positions `start ..` into its `B` output planes
    /// (`OH x OW` each), dropping positions past a row's output width or past the last output.
    #[inline(always)]
    fn store<const B: usize>(&self, acc: &[[[T; LANES]; RUNS]; B], out: &mut [T], start: usize) {
        let end = (start + RUNS * LANES).min(self.span);
        let mut q = start;
        while q < end {
            let (y, x) = (q / self.width, q % self.width);
            let row_end = (y * self.width + self.width).min(end);
            if x < self.out_width {
                let kept = (y * self.width + self.out_width).min(row_end) - q;
                for (b, sums) in acc.iter().enumerate() {
                    let target = b * self.out_plane + y * self.out_width + x;
                    if let (Some(dest), Some(source)) =
                        (out.get_mut(target..target + kept), sums.as_flattened().get(q - start..))
                    {
                        copy_row(dest, source, 1);
                    }
                }
            }
            q = row_end;
        }
    }
}
