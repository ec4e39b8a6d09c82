//! The plan both FFT backends run: tiles of the input, their spectra times the kernel's,
//! inverse transforms into bands of the output.

use rustfft::num_complex::Complex;

use super::Blocking;
use super::columns::*;
use super::kernel::*;
use super::threads::*;
use super::transforms::*;
use crate::backend::contract::check_buffer_len;
use crate::backend::plan::ConvPlan;
use crate::backend::plan::{ThreadScratch, with_thread_scratch};
use crate::error::ConvError;
use crate::geometry::Geometry;
use crate::num::ConvNum;
use crate::parallel;

/// Buffers one call of an FFT-based plan keeps per thread besides the kernel spectra.
#[derive(Default)]
pub(crate) struct SpectralScratch<T> {
    /// Row spectra of one tile's input planes (stage 1), then the inverse column transforms of
    /// its output planes (stage 2, for stage 3).
    pub(super) row_spectra: Vec<Complex<T>>,
    /// Per worker of a stage.
    pub(super) workers: Vec<WorkerBuffers<T>>,
    /// The kernel spectra of the last plan dropped on this thread, for the next one (a one-shot
    /// call makes and drops a plan each time).
    pub(super) spare_kernel_spectra: Vec<Complex<T>>,
}

impl<T: ConvNum> ThreadScratch for SpectralScratch<T> {
    fn bytes(&self) -> usize {
        let workers: usize = self
            .workers
            .iter()
            .map(|w| w.real.capacity() + 2 * w.block.capacity() + 2 * w.fft.capacity())
            .sum();
        let spectra = self.row_spectra.capacity() + self.spare_kernel_spectra.capacity();
        (2 * spectra + workers) * size_of::<T>()
    }
}

/// An FFT backend prepared for one geometry and kernel: the tiling, the transform plans and the
/// kernel spectra. [`Fft`](super::Fft) is the case of one tile covering the whole input;
/// [`OverlapSave`](super::OverlapSave) cuts the output into many.
///
/// Each tile is one 2-D transform per input plane in three stages, each shared out over the
/// worker threads when the call is not split otherwise: row transforms into blocks of rows
/// ([`Plans::forward_rows`]); per frequency column, the gathered columns, their transforms, the
/// channel sums with the kernel spectra and the inverse column transforms, written back into
/// the blocks ([`Plans::forward_columns`]); per output row, the gathered grid row's inverse
/// transform ([`Plans::inverse_rows`]). A one-row grid (1-D) skips the column stage.
pub(crate) struct SpectralPlan<T: ConvNum> {
    pub(super) name: &'static str,
    pub(super) geometry: Geometry,
    pub(super) blocking: [Blocking; 2],
    pub(super) plans: Plans<T>,
    pub(super) kernel: KernelSpectra<T>,
}

impl<T: ConvNum> SpectralPlan<T> {
    /// Checks the kernel, plans the transforms for `blocking` and transforms the kernel.
    pub(crate) fn new(
        name: &'static str,
        g: &Geometry,
        kernel: &[T],
        blocking: [Blocking; 2],
    ) -> Result<Self, ConvError> {
        Self::make(name, g, kernel, blocking, false)
    }

    /// As [`SpectralPlan::new`], for a plan that will be executed once: with one image and one
    /// tile, only the kernel's rows are transformed now (see [`KernelSpectra::Rows`]).
    pub(crate) fn for_one_call(
        name: &'static str,
        g: &Geometry,
        kernel: &[T],
        blocking: [Blocking; 2],
    ) -> Result<Self, ConvError> {
        let one_tile = g
            .plane_axes()
            .iter()
            .zip(&blocking)
            .all(|(axis, b)| b.tile > axis.input - axis.effective_kernel());
        let columns = blocking[0].grid > 1;
        Self::make(name, g, kernel, blocking, g.batch() == 1 && one_tile && columns)
    }

    pub(super) fn make(
        name: &'static str,
        g: &Geometry,
        kernel: &[T],
        blocking: [Blocking; 2],
        rows_only: bool,
    ) -> Result<Self, ConvError> {
        check_buffer_len("kernel", g.kernel_len(), kernel.len())?;
        let plans = Plans::<T>::new(blocking.map(|b| b.grid));
        let threads = transform_threads(g, plans.grid);
        let kernel = with_thread_scratch(|scratch: &mut SpectralScratch<T>| {
            if rows_only {
                let mut row_spectra = Vec::new();
                kernel_row_spectra(
                    g,
                    kernel,
                    &plans,
                    &mut row_spectra,
                    worker_buffers(&mut scratch.workers, threads),
                );
                KernelSpectra::Rows(row_spectra)
            } else {
                KernelSpectra::Transformed(kernel_spectra(g, kernel, &plans, scratch, threads))
            }
        });
        Ok(SpectralPlan { name, geometry: *g, blocking, plans, kernel })
    }
}

impl<T: ConvNum> Drop for SpectralPlan<T> {
    /// Leaves transformed kernel spectra to the next plan made on this thread (when larger
    /// than what the thread keeps already).
    fn drop(&mut self) {
        if let KernelSpectra::Transformed(spectra) = &mut self.kernel {
            let spectra = std::mem::take(spectra);
            with_thread_scratch(|scratch: &mut SpectralScratch<T>| {
                if spectra.capacity() > scratch.spare_kernel_spectra.capacity() {
                    scratch.spare_kernel_spectra = spectra;
                }
            });
        }
    }
}

impl<T: ConvNum> ConvPlan<T> for SpectralPlan<T> {
    fn backend_name(&self) -> &str {
        self.name
    }

    fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    fn execute(&self, input: &[T], output: &mut [T]) -> Result<(), ConvError> {
        let g = &self.geometry;
        check_buffer_len("input", g.input_len(), input.len())?;
        check_buffer_len("output", g.output_len(), output.len())?;
        let cols = g.plane_axes()[1];
        let everything = [0..usize::MAX, 0..usize::MAX];
        let (split_axis, threads) = tile_split(g, self.blocking);
        if threads <= 1 {
            if let Some(item_threads) = item_threads(g) {
                // One tile per image and a batch to share out: whole batch items per thread.
                let item_len = g.out_channels() * g.output_plane();
                let mut states = vec![(); item_threads];
                return parallel::split_items(output, item_len, &mut states, |piece, first, ()| {
                    let items = first..first + piece.len() / item_len;
                    let mut planes: Vec<&mut [T]> = piece.chunks_exact_mut(g.output_plane()).collect();
                    self.run_tiles(input, items, &everything, [0, 0], &mut planes, 1);
                    Ok(())
                });
            }
            // One tile per image: the stages of each transform are shared out instead.
            let mut planes: Vec<&mut [T]> = output.chunks_exact_mut(g.output_plane()).collect();
            let inner = transform_threads(g, self.plans.grid);
            self.run_tiles(input, 0..g.batch(), &everything, [0, 0], &mut planes, inner);
            return Ok(());
        }
        let tiles = tile_starts(g, self.blocking, split_axis);
        let mut planes: Vec<&mut [T]> = output.chunks_exact_mut(g.output_plane()).collect();
        let mut jobs = Vec::with_capacity(threads);
        for worker in 0..threads {
            let first = worker * tiles.len() / threads;
            let end = (worker + 1) * tiles.len() / threads;
            let unit_range = tiles[first]..tiles.get(end).copied().unwrap_or(usize::MAX);
            let axis = g.plane_axes()[split_axis];
            // Outputs of the band: the stride-1 positions of its tiles that are on the stride grid.
            let unit_end = unit_range.end.min(axis.input - axis.effective_kernel() + 1);
            let band = unit_range.start.div_ceil(axis.stride)..unit_end.div_ceil(axis.stride);
            let band_len = if split_axis == 0 { band.len() * cols.output } else { band.len() };
            let mut mine = Vec::with_capacity(planes.len());
            for plane in &mut planes {
                let take = band_len.min(plane.len());
                let (head, rest) = std::mem::take(plane).split_at_mut(take);
                mine.push(head);
                *plane = rest;
            }
            let region = if split_axis == 0 { [band.start, 0] } else { [0, band.start] };
            let tile_ranges =
                if split_axis == 0 { [unit_range, 0..usize::MAX] } else { [0..usize::MAX, unit_range] };
            jobs.push((tile_ranges, region, mine));
        }
        let run = |job: &mut [Band<'_, T>], _: usize| {
            for (tile_ranges, region, planes) in job.iter_mut() {
                self.run_tiles(input, 0..g.batch(), tile_ranges, *region, planes, 1);
            }
            Ok(())
        };
        parallel::split_output(&mut jobs, threads, run)
    }
}

impl<T: ConvNum> SpectralPlan<T> {
    /// Computes, for the batch items `items`, the tiles whose starts lie in `tile_ranges` into
    /// `planes`: the bands (beginning at output row and column `region`) of the output planes of
    /// those items, item after item. The stages of each tile's transforms use `threads` threads.
    pub(super) fn run_tiles(
        &self,
        input: &[T],
        items: std::ops::Range<usize>,
        tile_ranges: &[std::ops::Range<usize>; 2],
        region: [usize; 2],
        planes: &mut [&mut [T]],
        threads: usize,
    ) {
        let g = &self.geometry;
        let [rows, cols] = g.plane_axes();
        let [block_rows, block_cols] = self.blocking;
        // Stride-1 output extent: the tiles cover it; strided outputs are sampled from it.
        let span_rows = rows.effective_kernel();
        let (unit_rows, unit_cols) = (rows.input - span_rows + 1, cols.input - cols.effective_kernel() + 1);
        let [row_range, col_range] = tile_ranges;
        with_thread_scratch(|scratch: &mut SpectralScratch<T>| {
            for (index, n) in items.enumerate() {
                let item_planes = &mut planes[index * g.out_channels()..][..g.out_channels()];
                let item_len = g.in_channels() * g.input_plane();
                let item = &input[n * item_len..][..item_len];
                for u0 in (0..unit_rows).step_by(block_rows.tile).filter(|u| row_range.contains(u)) {
                    for v0 in (0..unit_cols).step_by(block_cols.tile).filter(|v| col_range.contains(v)) {
                        self.run_tile(item, [u0, v0], region, item_planes, scratch, threads);
                    }
                }
            }
        });
    }

    /// One tile of a batch item (`item`, its input planes) whose stride-1 outputs start at
    /// `[u0, v0]`, written into the item's output plane bands that begin at output row and
    /// column `region`.
    pub(super) fn run_tile(
        &self,
        item: &[T],
        [u0, v0]: [usize; 2],
        [y0, x0]: [usize; 2],
        planes: &mut [&mut [T]],
        scratch: &mut SpectralScratch<T>,
        threads: usize,
    ) {
        let g = &self.geometry;
        let plans = &self.plans;
        let [rows, cols] = g.plane_axes();
        let [block_rows, block_cols] = self.blocking;
        let [lh, _] = plans.grid;
        let hw = plans.half_width();
        let span_rows = rows.effective_kernel();
        let (channels, outputs, per_group) = (g.in_channels(), g.out_channels(), g.in_per_group());
        let SpectralScratch { row_spectra, workers, .. } = scratch;
        let workers = worker_buffers(workers, threads);

        // Stage 1: the input segment's rows (read in place), into blocks of rows that stage 2
        // overwrites with the output planes' inverse column transforms, column by column.
        let seg_rows = block_rows.grid.min(rows.input - u0);
        let seg_cols = block_cols.grid.min(cols.input - v0);
        let in_plane = g.input_plane();
        let rows_per_block = plans.row_block();
        let row_blocks = seg_rows.div_ceil(rows_per_block);
        let block_len = hw * rows_per_block;
        // A one-row grid keeps its products after the inputs; otherwise they share the blocks.
        let buffer_len = if lh == 1 {
            (channels + outputs) * hw
        } else {
            plans.row_spectra_len([channels.max(outputs), seg_rows])
        };
        let row_spectra = at_least(row_spectra, buffer_len, Complex::default());
        let row_of = |c: usize, r: usize| &item[c * in_plane + (u0 + r) * cols.input + v0..][..seg_cols];
        plans.forward_rows(seg_rows, row_of, &mut row_spectra[..channels * row_blocks * block_len], workers);
        if lh == 1 {
            // One row: stage 2 is the channel sums of the row spectra themselves.
            let (inputs, products) = row_spectra.split_at_mut(channels * hw);
            let (KernelSpectra::Transformed(kernels) | KernelSpectra::Rows(kernels)) = &self.kernel;
            for (o, product) in products.chunks_exact_mut(hw).enumerate() {
                channel_sum(g, o, inputs, kernels, product);
            }
            self.inverse_tile([u0, v0], [y0, x0], planes, &row_spectra[channels * hw..], workers);
            return;
        }

        // Stage 2: per frequency column, the input columns, then the channel sum of each output
        // and its inverse column transform, whose grid rows below `seg_rows` (the only ones
        // stage 3 reads) go back into the blocks of rows.
        let kernel_group = outputs * per_group * lh;
        let (shared, own_kernel_len) = match &self.kernel {
            KernelSpectra::Transformed(_) => (None, 0),
            KernelSpectra::Rows(spectra) => {
                let rows = span_rows;
                (Some(SharedRows { spectra, planes: outputs * per_group, rows }), kernel_group)
            }
        };
        let group_len = channels * lh + own_kernel_len + lh;
        let multiply = |k0: usize,
                        groups: &mut [Complex<T>],
                        fft_scratch: &mut [Complex<T>],
                        runs: &mut ColumnRuns<'_, T>,
                        (): &mut ()| {
            for (j, group) in groups.chunks_exact_mut(group_len).enumerate() {
                let (inputs, rest) = group.split_at_mut(channels * lh);
                let (own_kernels, product) = rest.split_at_mut(own_kernel_len);
                let kernels = match &self.kernel {
                    KernelSpectra::Transformed(spectra) => {
                        &spectra[(k0 + j) * kernel_group..][..kernel_group]
                    }
                    KernelSpectra::Rows(_) => &*own_kernels,
                };
                let at = (k0 + j - runs.range.start) * ROW_BLOCK;
                for o in 0..outputs {
                    channel_sum(g, o, inputs, kernels, product);
                    if lh > 1 {
                        plans.column_inverse.process_with_scratch(product, fft_scratch);
                    }
                    for (b, rows) in product[..seg_rows].chunks(ROW_BLOCK).enumerate() {
                        copy_run(&mut runs.runs[o * row_blocks + b][at..][..rows.len()], rows);
                    }
                }
            }
        };
        let runs = column_runs(row_spectra, hw, workers.len());
        let shares = runs.into_iter().map(|runs| (runs, ())).collect();
        plans.forward_columns([channels, seg_rows], shared, lh, workers, shares, multiply);
        self.inverse_tile([u0, v0], [y0, x0], planes, row_spectra, workers);
    }

    /// Stage 3 of [`SpectralPlan::run_tile`]: the tile's output rows on the stride grid, of
    /// every output plane, from `products` (each output plane's inverse column transforms, in
    /// blocks of rows).
    pub(super) fn inverse_tile(
        &self,
        [u0, v0]: [usize; 2],
        [y0, x0]: [usize; 2],
        planes: &mut [&mut [T]],
        products: &[Complex<T>],
        workers: &mut [WorkerBuffers<T>],
    ) {
        let g = &self.geometry;
        let plans = &self.plans;
        let [rows, cols] = g.plane_axes();
        let [block_rows, block_cols] = self.blocking;
        let (span_rows, span_cols) = (rows.effective_kernel(), cols.effective_kernel());
        let (unit_rows, unit_cols) = (rows.input - span_rows + 1, cols.input - span_cols + 1);
        let rows_per_block = plans.row_block();
        let block_len = plans.half_width() * rows_per_block;
        let row_blocks = block_rows.grid.min(rows.input - u0).div_ceil(rows_per_block);
        let tile_rows = (u0.div_ceil(rows.stride) * rows.stride..(u0 + block_rows.tile).min(unit_rows))
            .step_by(rows.stride);
        let first_row = tile_rows.clone().next().unwrap_or(u0);
        let rows_per_plane = tile_rows.len();
        let mut out_rows: Vec<&mut [T]> = Vec::with_capacity(g.out_channels() * rows_per_plane);
        for plane in planes.iter_mut() {
            // A one-row output may be split by columns: its band is then the whole row.
            let row_len = if rows.output == 1 { plane.len().max(1) } else { cols.output };
            let y_start = first_row / rows.stride - y0;
            out_rows.extend(plane.chunks_mut(row_len).skip(y_start).take(rows_per_plane));
        }
        let source = |i: usize| {
            let (o, y) = (i / rows_per_plane, i % rows_per_plane);
            let grid_row = first_row + y * rows.stride - u0 + span_rows - 1;
            (o * row_blocks + grid_row / rows_per_block) * block_len + grid_row % rows_per_block
        };
        // Stride-1 output columns of this tile that are on the stride grid.
        let first_col = v0.div_ceil(cols.stride) * cols.stride;
        let tile_end = (v0 + block_cols.tile).min(unit_cols);
        let count = tile_end.saturating_sub(first_col).div_ceil(cols.stride);
        let (first_out, first_value) = (first_col / cols.stride - x0, first_col - v0 + span_cols - 1);
        // The kernel spectra carry the transforms' normalisation: the values are the outputs.
        let emit = |values: &[T], out: &mut [T]| {
            // A strided tile narrower than the stride may hold no output column.
            if count == 0 {
                return;
            }
            let out = &mut out[first_out..][..count];
            if cols.stride == 1 {
                out.copy_from_slice(&values[first_value..][..count]);
            } else {
                out.iter_mut()
                    .zip(values[first_value..].iter().step_by(cols.stride))
                    .for_each(|(o, &v)| *o = v);
            }
        };
        plans.inverse_rows(products, &mut out_rows, source, emit, workers);
    }
}
