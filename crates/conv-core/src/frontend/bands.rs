//! Solving a padded image band by band: each band of output rows reads a band of padded input
//! rows, built in a small buffer the thread keeps, so the image is read once from memory instead
//! of being copied whole into a padded image first.
//!
//! A 2048^2 image with a 3x3 kernel in `same` mode is bound by memory traffic: padding a copy
//! (16 MB read, 16 MB written) and then convolving it (16 MB read again) cost 1.42 ms on one
//! call against 0.91 ms for the `valid` call that reads the image as it is (2-core AMD EPYC,
//! f32). A band of padded rows stays in the core's cache between being built and being read.
//! Each output is the same sum of the same products as in one call on the whole padded image,
//! so the Direct backend's results are unchanged bit for bit.

use super::{ConvBackend, ConvProblem, with_thread_buffers};
use crate::boundary::RowPadder;
use crate::error::ConvError;
use crate::geometry::AxisGeometry;
use crate::num::ConvNum;
use crate::parallel;
use crate::spec::{Layout, Resolved};

/// Padded values per band (about 128 KiB of f32): a band and its output stay in a core's L2.
const BAND_VALUES: usize = 1 << 15;

/// Kernels spanning more rows or columns than this are left to one call on the whole padded
/// image: `Auto` sends them to the transform backends, which want the whole image.
const MAX_KERNEL_SPAN: usize = 8;

/// Output rows below which a request is solved in one call (a band would be the whole image).
const MIN_OUTPUT_ROWS: usize = 64;

/// Direct-sum multiply-adds per thread below which the bands run on one thread. Lower than the
/// backends' own threshold: a small kernel's sums run at tens of GFLOP/s, so 2^20 of them are
/// about 40 us of work, well above the cost of waking a kept worker thread.
const MIN_MULTIPLY_ADDS_PER_THREAD: u128 = 1 << 20;

/// How a request divides into bands: output rows per band.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Bands {
    rows_per_band: usize,
}

/// The bands of a request, when solving band by band pays: one image and one kernel (`N`, `C`
/// and `O` all 1), two spatial axes, channels first, padding to build, a kernel of at most
/// [`MAX_KERNEL_SPAN`] in each direction and at least two bands of output rows.
pub(super) fn worth_solving_in_bands(resolved: &Resolved) -> Option<Bands> {
    let g = &resolved.geometry;
    let [depth, rows, cols] = g.axes();
    let single = g.batch() == 1 && g.in_channels() == 1 && g.out_channels() == 1;
    if !single
        || depth.input != 1
        || resolved.layout != Layout::ChannelsFirst
        || resolved.pads_nothing()
        || rows.effective_kernel() > MAX_KERNEL_SPAN
        || cols.effective_kernel() > MAX_KERNEL_SPAN
        || rows.output < MIN_OUTPUT_ROWS
    {
        return None;
    }
    // Enough rows to fill the band's budget, and at least four times the rows a band re-reads
    // from its neighbour (the kernel's span less one), so the overlap stays a small part.
    let by_budget = BAND_VALUES / cols.input.max(1);
    let by_overlap = 4 * (rows.effective_kernel() - 1) / rows.stride;
    let rows_per_band = by_budget.max(by_overlap).max(1);
    (rows_per_band * 2 <= rows.output).then_some(Bands { rows_per_band })
}

/// Solves the request band by band into `output` (`[OH, OW]`), the bands shared over the
/// worker threads; each band is padded into the worker's kept buffer and handed to `backend`
/// as a problem of its own.
pub(super) fn solve_in_bands<T: ConvNum>(
    input: &[T],
    resolved: &Resolved,
    bands: Bands,
    kernel: &[T],
    backend: &dyn ConvBackend<T>,
    output: &mut [T],
) -> Result<(), ConvError> {
    let geometry = resolved.geometry;
    let [_, rows, cols] = geometry.axes();
    let padder = RowPadder::new(input, resolved.unpadded_dims(), 1, resolved.pads, resolved.boundary);
    let threads = parallel::threads_for(geometry.multiply_adds(), MIN_MULTIPLY_ADDS_PER_THREAD);
    let mut states = vec![(); threads];
    parallel::split_items(output, cols.output, &mut states, |piece, first_row, ()| {
        with_thread_buffers(|(padded, _)| {
            for (band_index, band_out) in piece.chunks_mut(bands.rows_per_band * cols.output).enumerate() {
                let band_first = first_row + band_index * bands.rows_per_band;
                let band_rows = band_out.len() / cols.output.max(1);
                let reads = (band_rows - 1) * rows.stride + rows.effective_kernel();
                let len = reads * padder.padded_row_len();
                crate::buffers::resize_for_overwrite(padded, len, T::zero(), "padded band")?;
                padder.fill_rows(padded, band_first * rows.stride);
                let band = geometry.with_axis(1, AxisGeometry { input: reads, output: band_rows, ..rows })?;
                backend.execute(&ConvProblem::new(band, padded, kernel)?, band_out)?;
            }
            Ok(())
        })
    })
}
