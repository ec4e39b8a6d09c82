//! The stages of a 2-D real transform on one grid: row transforms, column transforms, the
//! inverse, shared over the worker threads.

use std::convert::Infallible;
use std::sync::Arc;

use realfft::{ComplexToReal, RealToComplex};
use rustfft::Fft as ComplexFft;
use rustfft::num_complex::Complex;

use super::columns::*;
use super::with_planners;
use crate::num::ConvNum;
use crate::parallel;

/// Transforms of one grid size.
pub(crate) struct Plans<T: ConvNum> {
    pub(crate) grid: [usize; 2],
    pub(super) row_forward: Arc<dyn RealToComplex<T>>,
    pub(super) row_inverse: Arc<dyn ComplexToReal<T>>,
    pub(super) column_forward: Arc<dyn ComplexFft<T>>,
    pub(super) column_inverse: Arc<dyn ComplexFft<T>>,
}

impl<T: ConvNum> Plans<T> {
    /// Plans for `grid`, from planners kept for the life of the process: a size planned once
    /// (twiddle factors, algorithm choice) is reused by every later call, as scipy's pocketfft
    /// caches its plans.
    pub(crate) fn new(grid: [usize; 2]) -> Self {
        with_planners::<T, _>(|real, complex| Plans {
            grid,
            row_forward: real.plan_fft_forward(grid[1]),
            row_inverse: real.plan_fft_inverse(grid[1]),
            column_forward: complex.plan_fft_forward(grid[0]),
            column_inverse: complex.plan_fft_inverse(grid[0]),
        })
    }

    /// Complex values per row spectrum.
    pub(crate) fn half_width(&self) -> usize {
        self.grid[1] / 2 + 1
    }

    /// Scratch values any of the four transforms needs.
    pub(super) fn scratch_len(&self) -> usize {
        self.row_forward
            .get_scratch_len()
            .max(self.row_inverse.get_scratch_len())
            .max(self.column_forward.get_inplace_scratch_len())
            .max(self.column_inverse.get_inplace_scratch_len())
    }

    /// Rows per block of row spectra: [`ROW_BLOCK`], or 1 on a one-row grid (whose row spectra
    /// are then simply one after the other, and are the whole spectra).
    pub(crate) fn row_block(&self) -> usize {
        if self.grid[0] == 1 { 1 } else { ROW_BLOCK }
    }

    /// Values of the row spectra of `planes` planes of `rows` rows (see [`Plans::forward_rows`]).
    pub(crate) fn row_spectra_len(&self, [planes, rows]: [usize; 2]) -> usize {
        let block = self.row_block();
        planes * rows.div_ceil(block) * block * self.half_width()
    }

    /// Stage 1 of a forward 2-D transform: the real-to-complex transform of every row of a set
    /// of planes of `rows` rows each, into `row_spectra`. `row_of(plane, r)` is row `r` of a
    /// plane, at most `grid[1]` values; the rest of the grid row is zero. The rows are shared
    /// out over `workers`, in blocks of [`Plans::row_block`] rows.
    ///
    /// Layout: plane after plane, block of rows after block of rows; within a block, frequency
    /// column after frequency column, the block's rows adjacent (so stage 2 reads each column
    /// of a block as one run).
    pub(crate) fn forward_rows<'a>(
        &self,
        rows: usize,
        row_of: impl Fn(usize, usize) -> &'a [T] + Sync,
        row_spectra: &mut [Complex<T>],
        workers: &mut [WorkerBuffers<T>],
    ) where
        T: 'a,
    {
        let hw = self.half_width();
        let scratch_len = self.scratch_len();
        let rows_per_block = self.row_block();
        let blocks_per_plane = rows.div_ceil(rows_per_block);
        let Ok(()) =
            parallel::split_items(row_spectra, rows_per_block * hw, workers, |piece, first, buffers| {
                let WorkerBuffers { real, block, fft } = buffers;
                let real = at_least(real, self.grid[1], T::zero());
                let block = at_least(block, rows_per_block * hw, Complex::default());
                let scratch = at_least(fft, scratch_len, Complex::default());
                for (i, transposed) in piece.chunks_exact_mut(rows_per_block * hw).enumerate() {
                    let (plane, row_block) = ((first + i) / blocks_per_plane, (first + i) % blocks_per_plane);
                    let first_row = row_block * rows_per_block;
                    let count = rows_per_block.min(rows - first_row);
                    // One row per block: the spectrum goes straight to its place.
                    let spectra = if rows_per_block == 1 { &mut *transposed } else { &mut *block };
                    for (r, spectrum) in spectra.chunks_exact_mut(hw).take(count).enumerate() {
                        let source = row_of(plane, first_row + r);
                        real[..source.len()].copy_from_slice(source);
                        real[source.len()..].fill(T::zero());
                        self.row_forward
                            .process_with_scratch(real, spectrum, scratch)
                            .expect("row buffers have the planned lengths");
                    }
                    if rows_per_block > 1 {
                        for (k, column) in transposed.chunks_exact_mut(rows_per_block).enumerate() {
                            for (r, value) in column.iter_mut().take(count).enumerate() {
                                *value = block[r * hw + k];
                            }
                        }
                    }
                }
                Ok::<(), Infallible>(())
            });
    }

    /// Stage 2 of a forward 2-D transform, over the frequency columns `k`, shared out as
    /// `shares`: per worker, its range of columns with their runs of a buffer of row spectra
    /// (see [`column_runs`]), and an output of the caller's. Per block of up to
    /// [`COLUMN_BLOCK`] columns, each column `k` becomes a group of values: column `k` of each
    /// of `planes` planes of row spectra (of `rows` rows, in the layout [`Plans::forward_rows`]
    /// leaves, read through the runs), then of each of the `shared` planes (read whole by every
    /// worker), each zero below its rows and column-transformed, then `extra` values for the
    /// caller. `then(k0, groups, scratch, runs, output)` runs on the block of groups of
    /// columns `k0..`; it may overwrite those columns in the runs, which are not read again.
    /// For grids of several rows (a one-row grid has no columns to transform).
    pub(crate) fn forward_columns<S: Send>(
        &self,
        [planes, rows]: [usize; 2],
        shared: Option<SharedRows<'_, T>>,
        extra: usize,
        workers: &mut [WorkerBuffers<T>],
        shares: Vec<(ColumnRuns<'_, T>, S)>,
        then: impl Fn(usize, &mut [Complex<T>], &mut [Complex<T>], &mut ColumnRuns<'_, T>, &mut S) + Sync,
    ) {
        let [lh, _] = self.grid;
        let scratch_len = self.scratch_len();
        let hw = self.half_width();
        let blocks_per_plane = rows.div_ceil(ROW_BLOCK);
        let shared_planes = shared.as_ref().map_or(0, |shared| shared.planes);
        let transformed_len = (planes + shared_planes) * lh;
        let group_len = transformed_len + extra;
        let mut jobs: Vec<_> = workers.iter_mut().zip(shares).collect();
        let threads = jobs.len();
        let Ok(()) = parallel::split_output(&mut jobs, threads, |piece, _| {
            for (buffers, (runs, output)) in piece.iter_mut() {
                let WorkerBuffers { block, fft, .. } = &mut **buffers;
                let block = at_least(block, COLUMN_BLOCK * group_len, Complex::default());
                let scratch = at_least(fft, scratch_len, Complex::default());
                for k0 in runs.range.clone().step_by(COLUMN_BLOCK) {
                    let width = COLUMN_BLOCK.min(runs.range.end - k0);
                    let block = &mut block[..width * group_len];
                    let at = (k0 - runs.range.start) * ROW_BLOCK;
                    let layout = [group_len, lh];
                    let run_of = |p: usize, row_block: usize| {
                        &runs.runs[p * blocks_per_plane + row_block][at..][..width * ROW_BLOCK]
                    };
                    gather_columns(block, layout, 0, [planes, rows], run_of);
                    if let Some(shared) = &shared {
                        let shared_blocks = shared.rows.div_ceil(ROW_BLOCK);
                        let run_of = |p: usize, row_block: usize| {
                            let start = ((p * shared_blocks + row_block) * hw + k0) * ROW_BLOCK;
                            &shared.spectra[start..][..width * ROW_BLOCK]
                        };
                        gather_columns(block, layout, planes, [shared.planes, shared.rows], run_of);
                    }
                    for group in block.chunks_exact_mut(group_len) {
                        let (transformed, _) = group.split_at_mut(transformed_len);
                        for (p, column) in transformed.chunks_exact_mut(lh).enumerate() {
                            let filled =
                                if p < planes { rows } else { shared.as_ref().map_or(0, |s| s.rows) };
                            column[filled..].fill(Complex::default());
                        }
                        if lh > 1 {
                            self.column_forward.process_with_scratch(transformed, scratch);
                        }
                    }
                    then(k0, block, scratch, runs, output);
                }
            }
            Ok::<(), Infallible>(())
        });
    }

    /// Stage 3, the inverse rows. `row_blocks` holds planes of grid rows in blocks of
    /// [`Plans::row_block`] rows, each block frequency column after frequency column with the block's
    /// rows adjacent (as `run_tile`'s stage 2 leaves the inverse column transforms). For each
    /// `out_rows[i]`, `source(i)` is the offset of its grid row (the block's start plus the row
    /// within the block); the row is gathered, inverse row-transformed (unnormalised) and handed
    /// to `emit(values, out_rows[i])`. The rows are shared out over `workers`.
    pub(crate) fn inverse_rows(
        &self,
        row_blocks: &[Complex<T>],
        out_rows: &mut [&mut [T]],
        source: impl Fn(usize) -> usize + Sync,
        emit: impl Fn(&[T], &mut [T]) + Sync,
        workers: &mut [WorkerBuffers<T>],
    ) {
        let [_, lw] = self.grid;
        let hw = self.half_width();
        let scratch_len = self.scratch_len();
        let rows_per_block = self.row_block();
        let Ok(()) = parallel::split_items(out_rows, 1, workers, |piece, first, buffers| {
            let WorkerBuffers { real, block, fft } = buffers;
            let real = at_least(real, lw, T::zero());
            let spectrum = at_least(block, hw, Complex::default());
            let scratch = at_least(fft, scratch_len, Complex::default());
            for (i, out) in piece.iter_mut().enumerate() {
                let row = &row_blocks[source(first + i)..];
                for (k, value) in spectrum.iter_mut().enumerate() {
                    *value = row[k * rows_per_block];
                }
                // A real signal's DC (and, for even length, Nyquist) bins are real; drop
                // rounding noise.
                spectrum[0].im = T::zero();
                if lw % 2 == 0 {
                    spectrum[hw - 1].im = T::zero();
                }
                self.row_inverse
                    .process_with_scratch(spectrum, real, scratch)
                    .expect("row buffers have the planned lengths");
                emit(real, out);
            }
            Ok::<(), Infallible>(())
        });
    }
}
