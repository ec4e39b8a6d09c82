//! The im2col backend: gather patches into a matrix, then one GEMM. `channels_first.rs` solves
//! the canonical `[N, C, H, W]` problem, `channels_last.rs` the `[N, H, W, C]` one and a
//! layer's kernel gradient; both use the shifted-views policy below. `small_channels.rs` and
//! `small_channels_first.rs` solve layers with few input channels without a patch matrix.

mod channels_first;
mod channels_last;
mod columns;
pub(crate) mod small_channels;
mod small_channels_first;
#[cfg(test)]
mod tests;

pub use channels_last::kernel_gradient;

use super::depth::{lowered_geometry, slices_per_call, solve_by_depth_lowering};
use super::layout::solve_through_channels_first;
use super::plan::{KernelPlan, Scratch, ThreadBuffers, with_thread_scratch};
use super::{ConvBackend, ConvPlan, ConvProblem, check_buffer_len};
use crate::error::ConvError;
use crate::geometry::{Geometry, check_bytes, checked_product};
use crate::num::ConvNum;
use crate::parallel;
use channels_first::{Im2colPlan, Layout};
use columns::solve_in_column_tiles;

/// The patch matrix of one product is kept near this size: small output planes of several
/// batch items share one product up to it, large planes are cut into bands of output rows
/// under it. Wide enough for the GEMM to run near its peak, small enough to stay in the core's
/// cache between being filled and being packed by the GEMM.
const PRODUCT_TARGET_BYTES: usize = 2 << 20;

/// Lowers the convolution to a matrix product through a patch matrix.
///
/// For one batch item and group, the patch matrix has one row per kernel tap `(c, i, j)`
/// (`Cg*KH*KW` rows) and one column per output position `(y, x)`; column `(y, x)` holds the input
/// window under the kernel at that position. The output of the group is then
/// `W (Og x Cg*KH*KW) * patches`, computed by [`convkit_gemm`] (the `gemm` crate's AVX2/AVX-512
/// kernels). Batch items are shared out over the cores when the problem is large enough; small
/// output planes of several items sit side by side in one wider product. It is the transpose
/// view of the Toeplitz product: the same sums, with the kernel as the small dense matrix and
/// the input repeated instead.
///
/// A volume is lowered along its depth first (`backend/depth.rs`): output slice `z` is the
/// planar problem whose channels are the `(channel, kernel slice)` pairs, so its patch matrix
/// has one row per tap `(c, h, i, j)`: the volume-to-columns matrix.
///
/// When the kernel's rows are longer than the output's (the weight gradient of a CNN layer is
/// such a problem: a 30x30 "kernel" giving a 3x3 output), the patch matrix is stored the other
/// way round, one row per output position, so that it is filled by copying kernel-row runs of
/// the input rather than a great many runs of two or three values; the GEMM reads it
/// transposed.
///
/// Large planes with unit strides and enough channels skip the patch matrix altogether
/// (*shifted views*): computed over the input's full row width, the outputs of kernel tap
/// `(i, j)` are `W_ij (Og x Cg)` times the input planes seen from offset `i*W + j` — a strided
/// view of the input itself, with no copy. The layer is then `KH*KW` accumulating products
/// whose right factor the GEMM packs straight from the input, and the `KW - 1` extra columns per
/// output row it computes are dropped when the result is copied into place. Writing the patch
/// matrix (nine copies of the input for a 3x3 kernel) was a sixth of the time of a 56x56x64
/// layer.
///
/// Layers with few taps (`C*KH*KW <= 32`: an RGB or grey image under a 3x3 kernel) and unit
/// strides skip the GEMM too: a block of up to eight output planes is accumulated in vector
/// registers over 32 consecutive positions of the flattened plane, each input run multiplied by
/// one broadcast weight per plane (`small_channels_first.rs`; `small_channels.rs` for channels
/// last). The GEMM's inner dimension would be 27 or 9 there, too short for its blocking.
///
/// The patch matrix is built for a band of output rows at a time, so it never exceeds the cap
/// ([`Im2col::DEFAULT_CAP_BYTES`] unless set with [`Im2col::with_cap_bytes`]). A problem whose
/// single output row needs more (a long signal with a long kernel) is solved in tiles of output
/// columns, each its own narrower problem; only one whose single output position needs more than
/// the cap is refused with [`ConvError::TooLarge`].
///
/// # Numerics
/// Each output is a dot product of a kernel row with one patch: NaN and infinity reach exactly
/// the outputs whose window covers them, as in [`Direct`](super::Direct). The summation order is
/// the GEMM kernel's, so results differ from Direct by rounding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Im2col {
    cap_bytes: usize,
}

impl Default for Im2col {
    fn default() -> Self {
        Im2col { cap_bytes: Self::DEFAULT_CAP_BYTES }
    }
}

impl Im2col {
    /// Default cap on the patch matrix: 64 MiB.
    pub const DEFAULT_CAP_BYTES: usize = 64 << 20;

    /// An im2col backend whose patch matrix may take at most `cap_bytes` bytes.
    pub fn with_cap_bytes(cap_bytes: usize) -> Self {
        Im2col { cap_bytes }
    }

    /// Output rows per patch-matrix band: as many as fit the product target (and the cap), at
    /// least one.
    fn rows_per_band<T>(&self, g: &Geometry) -> Result<usize, ConvError> {
        let taps = checked_product([g.in_per_group(), g.kernel_plane()], "patch matrix")?;
        let row_bytes = checked_product([taps, g.plane_axes()[1].output, size_of::<T>()], "patch matrix")?;
        check_bytes(row_bytes, 1, self.cap_bytes, "patch matrix (one output row)")?;
        // Bands of about the product target (never over the cap): the patch matrix is still in
        // cache when the GEMM packs it, and memory stays small.
        let band_bytes = PRODUCT_TARGET_BYTES.min(self.cap_bytes);
        Ok((band_bytes / row_bytes.max(1)).clamp(1, g.plane_axes()[0].output.max(1)))
    }

    /// Output columns per tile when one output row of patches is over this backend's cap
    /// (`columns.rs`), `None` when whole rows fit.
    ///
    /// # Errors
    /// [`ConvError::TooLarge`] when a single output position's patches exceed the cap.
    fn column_tile<T>(&self, g: &Geometry) -> Result<Option<usize>, ConvError> {
        columns::column_tile::<T>(g, PRODUCT_TARGET_BYTES, self.cap_bytes)
    }

    /// How many threads a call on this geometry uses: batch items are what is shared out.
    pub(crate) fn threads(g: &Geometry) -> usize {
        parallel::threads_for(g.multiply_adds(), parallel::MIN_MULTIPLY_ADDS_PER_THREAD).min(g.batch().max(1))
    }
}

impl<T: ConvNum> ConvBackend<T> for Im2col {
    fn name(&self) -> &str {
        "im2col"
    }

    fn supports(&self, g: &Geometry) -> Result<(), ConvError> {
        // Whole rows when they fit the cap, tiles of output columns when not: either way
        // supported, unless one output position is over the cap. A volume is lowered along
        // its depth (`backend/depth.rs`): the lowered problem of one output slice decides.
        if !g.is_planar() {
            slices_per_call::<T>(g, self.cap_bytes)?;
            return self.column_tile::<T>(&lowered_geometry(g, 1)?).map(drop);
        }
        self.column_tile::<T>(g).map(drop)
    }

    /// Multiply-adds; patch-matrix entries; the same weighted by `8 / min(Og, 8)` (a GEMM with
    /// few kernels, i.e. rows, runs far below peak) — each shared by the threads the call uses
    /// (batch items); values moved.
    fn cost_features(&self, g: &Geometry) -> Result<Vec<f64>, ConvError> {
        use crate::cost::{Counts, count};
        let counts = Counts::of(g);
        let patches =
            count(g.batch()) * count(g.in_channels()) * count(g.kernel_plane()) * count(g.output_plane());
        let thin = patches * (8.0 / g.out_per_group().min(8) as f64);
        let threads = Im2col::threads(g) as f64;
        Ok(vec![counts.multiply_adds / threads, patches / threads, thin / threads, counts.values])
    }

    fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        let g = problem.geometry();
        if !g.is_planar() {
            <Self as ConvBackend<T>>::supports(self, g)?;
            return solve_by_depth_lowering(self, problem, output, self.cap_bytes);
        }
        if let Some(tile) = self.column_tile::<T>(g)? {
            check_buffer_len("output", g.output_len(), output.len())?;
            return solve_in_column_tiles(problem, output, tile, |part, out| self.execute(part, out));
        }
        let layout = Layout::new::<T>(self, g)?;
        check_buffer_len("output", g.output_len(), output.len())?;
        with_thread_scratch(|buffers: &mut ThreadBuffers<T>| layout.run_split(problem, output, buffers))
    }

    fn plan<'a>(&'a self, g: &Geometry, kernel: &[T]) -> Result<Box<dyn ConvPlan<T> + 'a>, ConvError> {
        if !g.is_planar() || self.column_tile::<T>(g)?.is_some() {
            return Ok(Box::new(KernelPlan::new(self, g, kernel)?)); // tiled on every call
        }
        let layout = Layout::new::<T>(self, g)?;
        check_buffer_len("kernel", g.kernel_len(), kernel.len())?;
        Ok(Box::new(Im2colPlan { layout, kernel: kernel.to_vec(), buffers: Scratch::new(Vec::new()) }))
    }

    /// Ungrouped problems are solved natively (`channels_last.rs`: patch rows of contiguous
    /// runs, the output written in place); grouped ones through channels first.
    fn execute_channels_last(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        let g = problem.geometry();
        let tiled = !g.is_planar() || self.column_tile::<T>(g)?.is_some();
        if g.groups() == 1 && !tiled {
            channels_last::execute(problem, output)
        } else {
            solve_through_channels_first(self, problem, output)
        }
    }

    /// Ungrouped channels-last problems: one product on the patch matrix,
    /// `P^T G` ([`kernel_gradient`]), the patch matrix of the input transposed times the output
    /// gradient as a `positions x filters` matrix; others as the default (the correlation
    /// solved by this backend).
    fn kernel_gradient(
        &self,
        g: &Geometry,
        layout: crate::Layout,
        input: &[T],
        grad_output: &[T],
        grad_kernel: &mut [T],
    ) -> Result<(), ConvError> {
        if layout != crate::Layout::ChannelsLast || g.groups() != 1 || !g.is_planar() {
            return super::kernel_gradient_by_correlation(self, g, layout, input, grad_output, grad_kernel);
        }
        check_buffer_len("kernel gradient", g.kernel_len(), grad_kernel.len())?;
        // `[KH, KW, C, O]`, rearranged into the bank's `[O, C, KH, KW]`.
        let by_tap = kernel_gradient(g, input, grad_output)?;
        let (taps, channels, filters) = (g.kernel_plane(), g.in_channels(), g.out_channels());
        for (tap, per_channel) in by_tap.chunks_exact(channels * filters).enumerate() {
            for (c, per_filter) in per_channel.chunks_exact(filters).enumerate() {
                for (o, &value) in per_filter.iter().enumerate() {
                    grad_kernel[(o * channels + c) * taps + tap] = value;
                }
            }
        }
        Ok(())
    }
}

/// Shifted views are used only when each of their products sums over at least this many input
/// channels (fewer make each product too thin to run near the GEMM's peak) ...
const SHIFTED_MIN_CHANNELS: usize = 16;

/// ... and when the extra columns computed per output row (`KW - 1` of every input row) are at
/// most this fraction (1 / n) of the row.
const SHIFTED_MAX_WASTE_DENOMINATOR: usize = 8;

/// Whether `g` is solved through shifted views of the input rather than a patch matrix (see
/// [`Im2col`]), in either layout: unit strides, at least [`SHIFTED_MIN_CHANNELS`] channels summed
/// per product (`channels_per_product`), little waste. The channels-first path also needs one
/// batch item per product.
fn shifted_views_pay(g: &Geometry, channels_per_product: usize) -> bool {
    let [rows, cols] = g.plane_axes();
    rows.stride == 1
        && cols.stride == 1
        && channels_per_product >= SHIFTED_MIN_CHANNELS
        && (cols.effective_kernel() - 1) * SHIFTED_MAX_WASTE_DENOMINATOR <= cols.input
}
