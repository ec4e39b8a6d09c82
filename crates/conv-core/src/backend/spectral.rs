//! Shared machinery of the FFT-based backends: 2-D real transforms on a fixed grid, kernel
//! spectra, channel sums in the frequency domain, and the scratch of one call. Not a backend itself.

use std::sync::Arc;

use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex;
use rustfft::{Fft as ComplexFft, FftPlanner};

use std::convert::Infallible;

use super::plan::{ThreadScratch, with_thread_scratch};
use super::{ConvPlan, check_buffer_len};
use crate::error::ConvError;
use crate::geometry::{Geometry, check_bytes, checked_product};
use crate::num::ConvNum;
use crate::parallel;

/// Transform-grid size and output-tile size along one axis: each tile of `tile` stride-1 outputs
/// reads `grid` input samples (`tile + span - 1`, or fewer at the end).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Blocking {
    pub(crate) grid: usize,
    pub(crate) tile: usize,
}

/// Refuses with [`ConvError::TooLarge`] when the spectra of one call (every kernel plane, and
/// every input channel of a batch item or every output plane, whichever are more: they share a
/// buffer) on a `grid` exceed `cap_bytes`.
pub(crate) fn check_workspace<T: ConvNum>(
    g: &Geometry,
    [lh, lw]: [usize; 2],
    cap_bytes: usize,
    what: &'static str,
) -> Result<(), ConvError> {
    let spectra = g.in_channels.max(g.out_channels) + g.out_channels * g.in_per_group();
    let values = checked_product([spectra, lh, lw / 2 + 1], what)?;
    check_bytes(values, size_of::<Complex<T>>(), cap_bytes, what)
}

/// The process's real and complex FFT planners for element type `T` (one pair per type; the
/// planners cache every size they have planned).
fn with_planners<T: ConvNum, R>(work: impl FnOnce(&mut RealFftPlanner<T>, &mut FftPlanner<T>) -> R) -> R {
    use std::any::{Any, TypeId};
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock, PoisonError};
    type Planners = HashMap<TypeId, Box<dyn Any + Send>>;
    static PLANNERS: OnceLock<Mutex<Planners>> = OnceLock::new();
    let mut planners = PLANNERS.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner);
    let entry = planners
        .entry(TypeId::of::<T>())
        .or_insert_with(|| Box::new((RealFftPlanner::<T>::new(), FftPlanner::<T>::new())));
    match entry.downcast_mut::<(RealFftPlanner<T>, FftPlanner<T>)>() {
        Some((real, complex)) => work(real, complex),
        // Unreachable (the map is keyed by the type it holds); plan afresh rather than panic.
        None => work(&mut RealFftPlanner::new(), &mut FftPlanner::new()),
    }
}

/// Transforms of one grid size.
pub(crate) struct Plans<T: ConvNum> {
    pub(crate) grid: [usize; 2],
    row_forward: Arc<dyn RealToComplex<T>>,
    row_inverse: Arc<dyn ComplexToReal<T>>,
    column_forward: Arc<dyn ComplexFft<T>>,
    column_inverse: Arc<dyn ComplexFft<T>>,
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
    fn scratch_len(&self) -> usize {
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

/// `product = sum over the group's input channels c of inputs[c] . kernels[o, c]`: spectra (or
/// columns of them) of `product.len()` values each, `inputs` one per input channel, `kernels`
/// one per kernel plane.
fn channel_sum<T: ConvNum>(
    g: &Geometry,
    o: usize,
    inputs: &[Complex<T>],
    kernels: &[Complex<T>],
    product: &mut [Complex<T>],
) {
    let len = product.len();
    let (per_group, first_channel) = (g.in_per_group(), o / g.out_per_group() * g.in_per_group());
    for c in 0..per_group {
        let x = &inputs[(first_channel + c) * len..][..len];
        let w = &kernels[(o * per_group + c) * len..][..len];
        if c == 0 {
            product.iter_mut().zip(x).zip(w).for_each(|((p, &a), &b)| *p = a * b);
        } else {
            product.iter_mut().zip(x).zip(w).for_each(|((p, &a), &b)| *p = *p + a * b);
        }
    }
}

/// Copies columns out of blocks of rows into the groups of `block` (group `j`: `group_len`
/// values, plane `first_plane + p`'s column at `(first_plane + p) * lh`): for each of `planes`
/// planes of `rows` rows, `run_of(p, row_block)` is that block's run of the block's columns
/// (`ROW_BLOCK` values per column, its rows adjacent).
fn gather_columns<'a, V: Copy + 'a>(
    block: &mut [V],
    [group_len, lh]: [usize; 2],
    first_plane: usize,
    [planes, rows]: [usize; 2],
    run_of: impl Fn(usize, usize) -> &'a [V],
) {
    for p in 0..planes {
        for row_block in 0..rows.div_ceil(ROW_BLOCK) {
            let first_row = row_block * ROW_BLOCK;
            let count = ROW_BLOCK.min(rows - first_row);
            for (j, run) in run_of(p, row_block).chunks_exact(ROW_BLOCK).enumerate() {
                let at = j * group_len + (first_plane + p) * lh + first_row;
                copy_run(&mut block[at..][..count], &run[..count]);
            }
        }
    }
}

/// `destination = source`, unrolled for a whole block of rows (a call to `memmove` for 8
/// values costs about what the copy does).
fn copy_run<V: Copy>(destination: &mut [V], source: &[V]) {
    match (<&mut [V; ROW_BLOCK]>::try_from(&mut *destination), <&[V; ROW_BLOCK]>::try_from(source)) {
        (Ok(destination), Ok(source)) => *destination = *source,
        _ => destination.copy_from_slice(source),
    }
}

/// One worker's share of a buffer of blocks of rows (each `half_width * ROW_BLOCK` values,
/// frequency column after frequency column): its range of frequency columns, and the run of
/// those columns in every block.
pub(crate) struct ColumnRuns<'a, T> {
    range: std::ops::Range<usize>,
    runs: Vec<&'a mut [Complex<T>]>,
}

/// Planes of row spectra every worker of stage 2 reads whole (the kernel's, in a call that
/// transforms its columns): `planes` planes of `rows` rows in [`Plans::forward_rows`]'s layout.
pub(crate) struct SharedRows<'a, T> {
    spectra: &'a [Complex<T>],
    planes: usize,
    rows: usize,
}

/// `buffer`'s blocks of rows cut by the column ranges of `threads` workers.
fn column_runs<T>(buffer: &mut [Complex<T>], half_width: usize, threads: usize) -> Vec<ColumnRuns<'_, T>> {
    let ranges = column_ranges(half_width, threads);
    let blocks = buffer.len() / (half_width * ROW_BLOCK).max(1);
    let mut shares: Vec<ColumnRuns<'_, T>> =
        ranges.into_iter().map(|range| ColumnRuns { range, runs: Vec::with_capacity(blocks) }).collect();
    for block in buffer.chunks_exact_mut(half_width * ROW_BLOCK) {
        let mut rest = block;
        for share in &mut shares {
            let (mine, tail) = std::mem::take(&mut rest).split_at_mut(share.range.len() * ROW_BLOCK);
            share.runs.push(mine);
            rest = tail;
        }
    }
    shares
}

/// `0..columns` cut into `threads` (at least one) nearly equal ranges.
fn column_ranges(columns: usize, threads: usize) -> Vec<std::ops::Range<usize>> {
    let threads = threads.clamp(1, columns.max(1));
    (0..threads).map(|t| t * columns / threads..(t + 1) * columns / threads).collect()
}

/// Frequency columns transposed together in [`Plans::forward_columns`] (each row read fetches
/// this many adjacent values).
const COLUMN_BLOCK: usize = 8;

/// Grid rows gathered together in [`Plans::inverse_rows`] (each read of a column fetches up to
/// this many adjacent values).
const ROW_BLOCK: usize = 8;

/// `buffer` grown to at least `len` values (new ones `fill`), as a slice of exactly `len`.
fn at_least<V: Clone>(buffer: &mut Vec<V>, len: usize, fill: V) -> &mut [V] {
    if buffer.len() < len {
        buffer.resize(len, fill);
    }
    &mut buffer[..len]
}

/// The first `threads` (at least one) of a thread's worker buffers, made if missing.
fn worker_buffers<T: ConvNum>(
    workers: &mut Vec<WorkerBuffers<T>>,
    threads: usize,
) -> &mut [WorkerBuffers<T>] {
    let threads = threads.max(1);
    if workers.len() < threads {
        workers.resize_with(threads, WorkerBuffers::default);
    }
    &mut workers[..threads]
}

/// The buffers one worker of a transform stage uses: a real grid row, a block of row spectra
/// and the transforms' scratch.
#[derive(Default)]
pub(crate) struct WorkerBuffers<T> {
    real: Vec<T>,
    block: Vec<Complex<T>>,
    fft: Vec<Complex<T>>,
}

/// Row spectra (stage 1, in [`Plans::forward_rows`]'s layout) of every kernel plane, each
/// plane flipped and dilated into correlation-as-convolution form (valid output `(y, x)` of an
/// input placed at the origin then sits at grid position `(y + KH' - 1, x + KW' - 1)`, with
/// `KH'`, `KW'` the dilated kernel spans) and scaled by `1 / (LH * LW)`, the normalisation the
/// inverse transforms leave out. The planes have `KH'` rows each.
fn kernel_row_spectra<T: ConvNum>(
    g: &Geometry,
    kernel: &[T],
    plans: &Plans<T>,
    row_spectra: &mut Vec<Complex<T>>,
    workers: &mut [WorkerBuffers<T>],
) {
    let [rows, cols] = g.axes;
    let (span_rows, span_cols) = (rows.effective_kernel(), cols.effective_kernel());
    let planes = g.out_channels * g.in_per_group();
    let scale = T::one() / T::from_f64_lossy((plans.grid[0] * plans.grid[1]) as f64);
    let mut placed = vec![T::zero(); planes * span_rows * span_cols];
    for (placed, kernel) in
        placed.chunks_exact_mut(span_rows * span_cols).zip(kernel.chunks_exact(g.kernel_plane()))
    {
        for i in 0..rows.kernel {
            for j in 0..cols.kernel {
                let r = span_rows - 1 - i * rows.dilation;
                let s = span_cols - 1 - j * cols.dilation;
                placed[r * span_cols + s] = kernel[i * cols.kernel + j] * scale;
            }
        }
    }
    let row_spectra = at_least(row_spectra, plans.row_spectra_len([planes, span_rows]), Complex::default());
    let row_of = |p: usize, r: usize| &placed[(p * span_rows + r) * span_cols..][..span_cols];
    plans.forward_rows(span_rows, row_of, row_spectra, workers);
}

/// Spectra of every kernel plane on `plans.grid` (as [`kernel_row_spectra`], then the columns).
///
/// Layout: one group per frequency column `k`, holding that column of every kernel plane
/// (`O * Cg` columns of `grid[0]` values, in kernel order); on a one-row grid, spectrum after
/// spectrum.
fn kernel_spectra<T: ConvNum>(
    g: &Geometry,
    kernel: &[T],
    plans: &Plans<T>,
    scratch: &mut SpectralScratch<T>,
    threads: usize,
) -> Vec<Complex<T>> {
    let planes = g.out_channels * g.in_per_group();
    let span_rows = g.axes[0].effective_kernel();
    let SpectralScratch { row_spectra, workers, spare_kernel_spectra, .. } = scratch;
    let workers = worker_buffers(workers, threads);
    if plans.grid[0] == 1 {
        // One row: the row spectra are the spectra.
        let mut spectra = std::mem::take(spare_kernel_spectra);
        kernel_row_spectra(g, kernel, plans, &mut spectra, workers);
        spectra.truncate(plans.row_spectra_len([planes, span_rows]));
        return spectra;
    }
    kernel_row_spectra(g, kernel, plans, row_spectra, workers);
    let row_spectra = &mut row_spectra[..plans.row_spectra_len([planes, span_rows])];
    let group_len = planes * plans.grid[0];
    // Every value is written below; a buffer a dropped plan left is reused as it is.
    let mut spectra = std::mem::take(spare_kernel_spectra);
    spectra.truncate(plans.half_width() * group_len);
    spectra.resize(plans.half_width() * group_len, Complex::default());
    // Each worker's range of columns is one run of the spectra.
    let mut outputs = Vec::with_capacity(workers.len());
    let mut rest = spectra.as_mut_slice();
    for range in column_ranges(plans.half_width(), workers.len()) {
        let (mine, tail) = std::mem::take(&mut rest).split_at_mut(range.len() * group_len);
        outputs.push(mine);
        rest = tail;
    }
    let copy = |k0: usize,
                groups: &mut [Complex<T>],
                _: &mut [Complex<T>],
                runs: &mut ColumnRuns<'_, T>,
                out: &mut &mut [Complex<T>]| {
        out[(k0 - runs.range.start) * group_len..][..groups.len()].copy_from_slice(groups);
    };
    let runs = column_runs(row_spectra, plans.half_width(), workers.len());
    let shares = runs.into_iter().zip(outputs).collect();
    plans.forward_columns([planes, span_rows], None, 0, workers, shares, copy);
    spectra
}

/// A plan's kernel in the frequency domain.
enum KernelSpectra<T> {
    /// Transformed on the whole grid ([`kernel_spectra`]'s layout).
    Transformed(Vec<Complex<T>>),
    /// Only row-transformed ([`kernel_row_spectra`]), for a plan used once on one image: its
    /// call transforms the kernel's columns alongside the input's, block by block, and never
    /// stores the whole kernel spectra.
    Rows(Vec<Complex<T>>),
}

/// Buffers one call of an FFT-based plan keeps per thread besides the kernel spectra.
#[derive(Default)]
pub(crate) struct SpectralScratch<T> {
    /// Row spectra of one tile's input planes (stage 1), then the inverse column transforms of
    /// its output planes (stage 2, for stage 3).
    row_spectra: Vec<Complex<T>>,
    /// Per worker of a stage.
    workers: Vec<WorkerBuffers<T>>,
    /// The kernel spectra of the last plan dropped on this thread, for the next one (a one-shot
    /// call makes and drops a plan each time).
    spare_kernel_spectra: Vec<Complex<T>>,
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
    name: &'static str,
    geometry: Geometry,
    blocking: [Blocking; 2],
    plans: Plans<T>,
    kernel: KernelSpectra<T>,
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
        let one_tile =
            g.axes.iter().zip(&blocking).all(|(axis, b)| b.tile > axis.input - axis.effective_kernel());
        let columns = blocking[0].grid > 1;
        Self::make(name, g, kernel, blocking, g.batch == 1 && one_tile && columns)
    }

    fn make(
        name: &'static str,
        g: &Geometry,
        kernel: &[T],
        blocking: [Blocking; 2],
        rows_only: bool,
    ) -> Result<Self, ConvError> {
        g.validate()?;
        check_buffer_len("kernel", g.kernel_len()?, kernel.len())?;
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
        check_buffer_len("input", g.input_len()?, input.len())?;
        check_buffer_len("output", g.output_len()?, output.len())?;
        let cols = g.axes[1];
        let everything = [0..usize::MAX, 0..usize::MAX];
        let (split_axis, threads) = tile_split(g, self.blocking);
        if threads <= 1 {
            if let Some(item_threads) = item_threads(g) {
                // One tile per image and a batch to share out: whole batch items per thread.
                let item_len = g.out_channels * g.output_plane();
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
            self.run_tiles(input, 0..g.batch, &everything, [0, 0], &mut planes, inner);
            return Ok(());
        }
        let tiles = tile_starts(g, self.blocking, split_axis);
        let mut planes: Vec<&mut [T]> = output.chunks_exact_mut(g.output_plane()).collect();
        let mut jobs = Vec::with_capacity(threads);
        for worker in 0..threads {
            let first = worker * tiles.len() / threads;
            let end = (worker + 1) * tiles.len() / threads;
            let unit_range = tiles[first]..tiles.get(end).copied().unwrap_or(usize::MAX);
            let axis = g.axes[split_axis];
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
                self.run_tiles(input, 0..g.batch, tile_ranges, *region, planes, 1);
            }
            Ok(())
        };
        parallel::split_output(&mut jobs, threads, run)
    }
}

/// The tiles a worker computes (stride-1 start positions per axis, half-open), the first output
/// row and column of its band, and the band of every output plane.
type Band<'a, T> = ([std::ops::Range<usize>; 2], [usize; 2], Vec<&'a mut [T]>);

/// Grid points (times the planes transformed) per thread below which the stages of one tile's
/// transforms are not shared out: a 2-D transform of fewer costs about what handing it to
/// another thread does.
const MIN_GRID_POINTS_PER_THREAD: u128 = 1 << 16;

/// Threads for the stages of one tile's transforms on `grid` (see
/// [`MIN_GRID_POINTS_PER_THREAD`]).
fn transform_threads(g: &Geometry, [lh, lw]: [usize; 2]) -> usize {
    let planes = g.in_channels + g.out_channels * (1 + g.in_per_group());
    parallel::threads_for((lh * lw * planes) as u128, MIN_GRID_POINTS_PER_THREAD)
}

/// Threads sharing out whole batch items, when one tile covers each image and the batch has
/// at least one item per thread.
fn item_threads(g: &Geometry) -> Option<usize> {
    let threads = parallel::threads_for(g.batch as u128, 1).min(g.batch);
    (threads > 1 && threads >= parallel::max_threads()).then_some(threads)
}

/// How many threads a call of a plan with this tiling keeps busy: those sharing its tiles, its
/// batch items, or the passes of each 2-D transform (a one-row transform's passes are mostly
/// its single row: counted as one).
pub(crate) fn call_threads(g: &Geometry, blocking: [Blocking; 2]) -> usize {
    let (_, tile_threads) = tile_split(g, blocking);
    if tile_threads > 1 {
        return tile_threads;
    }
    if let Some(threads) = item_threads(g) {
        return threads;
    }
    if blocking[0].grid > 1 { transform_threads(g, blocking.map(|b| b.grid)) } else { 1 }
}

/// The stride-1 start of every tile along `axis`.
fn tile_starts(g: &Geometry, blocking: [Blocking; 2], axis: usize) -> Vec<usize> {
    let a = g.axes[axis];
    (0..a.input - a.effective_kernel() + 1).step_by(blocking[axis].tile.max(1)).collect()
}

/// How a call of a plan with this tiling is split over the cores: the axis whose tiles are
/// shared out (rows when there are several rows of tiles, else the columns of a one-row
/// output) and the number of threads (at least one tile and 4 M multiply-adds of direct work
/// each; 1 for a 2-D output with a single row of tiles, whose bands would not be contiguous).
pub(crate) fn tile_split(g: &Geometry, blocking: [Blocking; 2]) -> (usize, usize) {
    let tile_count = |axis: usize| {
        let a = g.axes[axis];
        (a.input - a.effective_kernel() + 1).div_ceil(blocking[axis].tile.max(1))
    };
    let row_tiles = tile_count(0);
    if row_tiles > 1 {
        return (0, split_threads(g, row_tiles));
    }
    if g.axes[0].output > 1 {
        return (1, 1);
    }
    (1, split_threads(g, tile_count(1)))
}

fn split_threads(g: &Geometry, tiles: usize) -> usize {
    let per_tile = g.multiply_adds() / u128::try_from(tiles.max(1)).unwrap_or(1);
    parallel::threads_for(g.multiply_adds(), parallel::MIN_MULTIPLY_ADDS_PER_THREAD.max(per_tile))
        .min(tiles.max(1))
}

impl<T: ConvNum> SpectralPlan<T> {
    /// Computes, for the batch items `items`, the tiles whose starts lie in `tile_ranges` into
    /// `planes`: the bands (beginning at output row and column `region`) of the output planes of
    /// those items, item after item. The stages of each tile's transforms use `threads` threads.
    fn run_tiles(
        &self,
        input: &[T],
        items: std::ops::Range<usize>,
        tile_ranges: &[std::ops::Range<usize>; 2],
        region: [usize; 2],
        planes: &mut [&mut [T]],
        threads: usize,
    ) {
        let g = &self.geometry;
        let [rows, cols] = g.axes;
        let [block_rows, block_cols] = self.blocking;
        // Stride-1 output extent: the tiles cover it; strided outputs are sampled from it.
        let span_rows = rows.effective_kernel();
        let (unit_rows, unit_cols) = (rows.input - span_rows + 1, cols.input - cols.effective_kernel() + 1);
        let [row_range, col_range] = tile_ranges;
        with_thread_scratch(|scratch: &mut SpectralScratch<T>| {
            for (index, n) in items.enumerate() {
                let item_planes = &mut planes[index * g.out_channels..][..g.out_channels];
                let item_len = g.in_channels * g.input_plane();
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
    fn run_tile(
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
        let [rows, cols] = g.axes;
        let [block_rows, block_cols] = self.blocking;
        let [lh, _] = plans.grid;
        let hw = plans.half_width();
        let span_rows = rows.effective_kernel();
        let (channels, outputs, per_group) = (g.in_channels, g.out_channels, g.in_per_group());
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
    fn inverse_tile(
        &self,
        [u0, v0]: [usize; 2],
        [y0, x0]: [usize; 2],
        planes: &mut [&mut [T]],
        products: &[Complex<T>],
        workers: &mut [WorkerBuffers<T>],
    ) {
        let g = &self.geometry;
        let plans = &self.plans;
        let [rows, cols] = g.axes;
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
        let mut out_rows: Vec<&mut [T]> = Vec::with_capacity(g.out_channels * rows_per_plane);
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::backend::{ConvBackend, ConvProblem, Direct, Fft, OverlapSave};
    use crate::geometry::AxisGeometry;

    /// Batch, channels, filters, groups, and per axis `[input, kernel, stride, dilation]`.
    type Case = (usize, usize, usize, usize, [usize; 4], [usize; 4]);

    fn geometry((batch, c, o, groups, rows, cols): Case) -> Geometry {
        let axis = |index, [input, kernel, stride, dilation]: [usize; 4]| {
            AxisGeometry::new(index, input, kernel, stride, dilation).unwrap()
        };
        Geometry::new(batch, c, o, groups, [axis(0, rows), axis(1, cols)]).unwrap()
    }

    fn values(len: usize, seed: u64) -> Vec<f64> {
        // A fixed, irregular sequence in [-1, 1).
        (0..len as u64).map(|i| ((i * 7919 + seed * 104_729) % 2003) as f64 / 1001.5 - 1.0).collect()
    }

    fn assert_matches_direct(backend: &dyn ConvBackend<f64>, g: &Geometry, what: &str) {
        let input = values(g.input_len().unwrap(), 3);
        let kernel = values(g.kernel_len().unwrap(), 5);
        let problem = ConvProblem::new(*g, &input, &kernel).unwrap();
        let mut want = vec![0.0; g.output_len().unwrap()];
        Direct.execute(&problem, &mut want).unwrap();
        let mut got = vec![f64::NAN; want.len()];
        backend.execute(&problem, &mut got).unwrap();
        let bound = 1e-12 * (g.in_per_group() * g.kernel_plane()) as f64;
        for (k, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!((a - b).abs() < bound, "{what}, output {k}: {a} vs {b}");
        }
    }

    /// A backend answering through a plan of the wrapped one.
    struct Planned<B>(B);

    impl<B: ConvBackend<f64>> ConvBackend<f64> for Planned<B> {
        fn name(&self) -> &str {
            "planned"
        }

        fn supports(&self, g: &Geometry) -> Result<(), ConvError> {
            self.0.supports(g)
        }

        fn execute(&self, problem: &ConvProblem<'_, f64>, output: &mut [f64]) -> Result<(), ConvError> {
            self.0.plan(problem.geometry(), problem.kernel())?.execute(problem.input(), output)
        }
    }

    /// One image large enough that the stages of its transforms are shared out over the
    /// threads: every output of a grouped, strided, dilated problem, each grid row and column
    /// handled by whichever worker got it.
    #[test]
    fn transforms_shared_out_over_threads_match_direct() {
        for case in [
            (1, 2, 4, 2, [200, 7, 2, 1], [190, 5, 3, 2]),
            (1, 1, 1, 1, [300, 31, 1, 1], [257, 31, 1, 1]),
            (1, 3, 2, 1, [160, 4, 1, 3], [170, 6, 2, 1]),
        ] {
            let g = geometry(case);
            let plans = Plans::<f64>::new(Fft::grid(&g));
            assert_eq!(transform_threads(&g, plans.grid), parallel::max_threads(), "{case:?}");
            assert_eq!(tile_split(&g, [Blocking { grid: 1, tile: usize::MAX }; 2]).1, 1);
            // A one-shot call (the kernel's columns transformed inside the call) and a plan.
            assert_matches_direct(&Fft::default(), &g, &format!("{case:?}"));
            assert_matches_direct(&Planned(Fft::default()), &g, &format!("{case:?}, planned"));
        }
    }

    /// Small images and a batch: whole items per thread.
    #[test]
    fn batch_items_shared_out_match_direct() {
        let g = geometry((7, 4, 6, 2, [12, 3, 1, 1], [11, 5, 2, 1]));
        assert_matches_direct(&Fft::default(), &g, "batch of 7");
        assert_matches_direct(&Planned(Fft::default()), &g, "batch of 7, planned");
    }

    /// A long one-row output split by columns (its bands are pieces of one row), and tiles
    /// split by rows.
    #[test]
    fn tiles_shared_out_match_direct() {
        for case in [
            (1, 1, 1, 1, [1, 1, 1, 1], [300_000, 31, 1, 1]),
            (2, 1, 2, 1, [1, 1, 1, 1], [200_000, 40, 3, 2]),
            (1, 1, 2, 1, [400, 9, 2, 1], [300, 11, 1, 2]),
        ] {
            let g = geometry(case);
            let backend = OverlapSave::default();
            assert_eq!(backend.threads(&g), parallel::max_threads(), "{case:?}");
            assert_matches_direct(&backend, &g, &format!("{case:?}"));
        }
    }
}
