//! Shared machinery of the FFT-based backends: 2-D real transforms on a fixed grid, kernel
//! spectra, channel sums in the frequency domain, and the scratch of one call. Not a backend itself.

use std::sync::Arc;

use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex;
use rustfft::{Fft as ComplexFft, FftPlanner};

use super::plan::Scratch;
use super::{ConvPlan, check_len};
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

/// Refuses with [`ConvError::TooLarge`] when the spectra of one call (every input channel of a
/// batch item, every kernel plane, one product) on a `grid` exceed `cap_bytes`.
pub(crate) fn check_workspace<T: ConvNum>(
    g: &Geometry,
    [lh, lw]: [usize; 2],
    cap_bytes: usize,
    what: &'static str,
) -> Result<(), ConvError> {
    let spectra = g.in_channels + g.out_channels * g.in_per_group() + 1;
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

    /// Complex values per plane spectrum.
    pub(crate) fn spectrum_len(&self) -> usize {
        self.grid[0] * self.half_width()
    }

    /// Forward 2-D transform of a real `rows x cols` plane placed at the origin of the grid.
    /// The spectrum is stored column-major (`half_width` columns of `LH` values).
    pub(crate) fn forward(&self, plane: &[T], cols: usize, spectrum: &mut [Complex<T>], row: &mut [T]) {
        let [lh, _] = self.grid;
        let hw = self.half_width();
        let rows = plane.len() / cols;
        let mut row_spectrum = vec![Complex::default(); hw];
        spectrum.fill(Complex::default());
        for (r, source) in plane.chunks_exact(cols).enumerate().take(rows) {
            row[..cols].copy_from_slice(source);
            row[cols..].fill(T::zero());
            self.row_forward.process(row, &mut row_spectrum).expect("row buffers have the planned lengths");
            for (k, value) in row_spectrum.iter().enumerate() {
                spectrum[k * lh + r] = *value;
            }
        }
        if lh > 1 {
            self.column_forward.process(spectrum);
        }
    }

    /// Inverse 2-D transform of a column-major spectrum (destroyed); calls `emit(r, row)` with
    /// each real grid row `r` in `wanted_rows`, unnormalised.
    pub(crate) fn inverse(
        &self,
        spectrum: &mut [Complex<T>],
        wanted_rows: impl Iterator<Item = usize>,
        row: &mut [T],
        mut emit: impl FnMut(usize, &[T]),
    ) {
        let [lh, lw] = self.grid;
        let hw = self.half_width();
        if lh > 1 {
            self.column_inverse.process(spectrum);
        }
        let mut row_spectrum = vec![Complex::default(); hw];
        for r in wanted_rows {
            for (k, value) in row_spectrum.iter_mut().enumerate() {
                *value = spectrum[k * lh + r];
            }
            // A real signal's DC (and, for even length, Nyquist) bins are real; drop rounding noise.
            row_spectrum[0].im = T::zero();
            if lw % 2 == 0 {
                row_spectrum[hw - 1].im = T::zero();
            }
            self.row_inverse.process(&mut row_spectrum, row).expect("row buffers have the planned lengths");
            emit(r, row);
        }
    }
}

/// Spectra of every kernel plane on `plans.grid`, each plane flipped and dilated into
/// correlation-as-convolution form: valid output `(y, x)` of an input placed at the origin sits at
/// grid position `(y + KH' - 1, x + KW' - 1)`, with `KH'`, `KW'` the dilated kernel spans.
pub(crate) fn kernel_spectra<T: ConvNum>(g: &Geometry, kernel: &[T], plans: &Plans<T>) -> Vec<Complex<T>> {
    let [rows, cols] = g.axes;
    let (span_rows, span_cols) = (rows.effective_kernel(), cols.effective_kernel());
    let spectrum_len = plans.spectrum_len();
    let mut placed = vec![T::zero(); span_rows * span_cols];
    let mut row = vec![T::zero(); plans.grid[1]];
    let mut spectra = vec![Complex::default(); g.out_channels * g.in_per_group() * spectrum_len];
    for (spectrum, kernel) in
        spectra.chunks_exact_mut(spectrum_len).zip(kernel.chunks_exact(g.kernel_plane()))
    {
        placed.fill(T::zero());
        for i in 0..rows.kernel {
            for j in 0..cols.kernel {
                let r = span_rows - 1 - i * rows.dilation;
                let s = span_cols - 1 - j * cols.dilation;
                placed[r * span_cols + s] = kernel[i * cols.kernel + j];
            }
        }
        plans.forward(&placed, span_cols, spectrum, &mut row);
    }
    spectra
}

/// `product = sum over the group's channels c of input[c] . kernel[o, c]` (spectra of
/// `spectrum_len` values each; `input_spectra` holds one batch item's channels).
pub(crate) fn channel_sum<T: ConvNum>(
    g: &Geometry,
    o: usize,
    input_spectra: &[Complex<T>],
    kernel_spectra: &[Complex<T>],
    product: &mut [Complex<T>],
) {
    let len = product.len();
    let group = o / g.out_per_group();
    product.fill(Complex::default());
    for c in 0..g.in_per_group() {
        let x = &input_spectra[(group * g.in_per_group() + c) * len..][..len];
        let k = &kernel_spectra[(o * g.in_per_group() + c) * len..][..len];
        for ((p, &a), &b) in product.iter_mut().zip(x).zip(k) {
            *p = *p + a * b;
        }
    }
}

/// Buffers one call of an FFT-based plan needs besides the kernel spectra.
pub(crate) struct SpectralScratch<T: ConvNum> {
    /// One real grid row.
    pub(crate) row: Vec<T>,
    /// The spectra of one batch item's input channels.
    pub(crate) input_spectra: Vec<Complex<T>>,
    /// The channel sum of one output plane.
    pub(crate) product: Vec<Complex<T>>,
    /// A real input segment (overlap-save only).
    pub(crate) segment: Vec<T>,
}

impl<T: ConvNum> SpectralScratch<T> {
    pub(crate) fn new(g: &Geometry, plans: &Plans<T>) -> Self {
        let [lh, lw] = plans.grid;
        SpectralScratch {
            row: vec![T::zero(); lw],
            input_spectra: vec![Complex::default(); g.in_channels * plans.spectrum_len()],
            product: vec![Complex::default(); plans.spectrum_len()],
            segment: vec![T::zero(); lh * lw],
        }
    }
}

/// An FFT backend prepared for one geometry and kernel: the tiling, the transform plans and the
/// kernel spectra. [`Fft`](super::Fft) is the case of one tile covering the whole input;
/// [`OverlapSave`](super::OverlapSave) cuts the output into many.
pub(crate) struct SpectralPlan<T: ConvNum> {
    name: &'static str,
    geometry: Geometry,
    blocking: [Blocking; 2],
    plans: Plans<T>,
    kernel_spectra: Vec<Complex<T>>,
    scratch: Scratch<SpectralScratch<T>>,
}

impl<T: ConvNum> SpectralPlan<T> {
    /// Checks the kernel, plans the transforms for `blocking` and transforms the kernel.
    pub(crate) fn new(
        name: &'static str,
        g: &Geometry,
        kernel: &[T],
        blocking: [Blocking; 2],
    ) -> Result<Self, ConvError> {
        g.validate()?;
        check_len("kernel", g.kernel_len()?, kernel.len())?;
        let plans = Plans::<T>::new(blocking.map(|b| b.grid));
        let kernel_spectra = kernel_spectra(g, kernel, &plans);
        let scratch = Scratch::new(SpectralScratch::new(g, &plans));
        Ok(SpectralPlan { name, geometry: *g, blocking, plans, kernel_spectra, scratch })
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
        check_len("input", g.input_len()?, input.len())?;
        check_len("output", g.output_len()?, output.len())?;
        let cols = g.axes[1];
        let (split_axis, threads) = tile_split(g, self.blocking);
        let tiles = tile_starts(g, self.blocking, split_axis);
        let mut planes: Vec<&mut [T]> = output.chunks_exact_mut(g.output_plane()).collect();
        if threads <= 1 {
            self.run_tiles(input, &[0..usize::MAX, 0..usize::MAX], [0, 0], &mut planes);
            return Ok(());
        }
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
                self.run_tiles(input, tile_ranges, *region, planes);
            }
            Ok(())
        };
        parallel::split_output(&mut jobs, threads, run)
    }
}

/// The tiles a worker computes (stride-1 start positions per axis, half-open), the first output
/// row and column of its band, and the band of every output plane.
type Band<'a, T> = ([std::ops::Range<usize>; 2], [usize; 2], Vec<&'a mut [T]>);

/// Multiply-adds of direct work per thread below which an FFT plan call uses fewer threads.
const MIN_MULTIPLY_ADDS_PER_THREAD: u128 = 1 << 22;

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
    parallel::threads_for(g.multiply_adds(), MIN_MULTIPLY_ADDS_PER_THREAD.max(per_tile)).min(tiles.max(1))
}

impl<T: ConvNum> SpectralPlan<T> {
    /// Computes the tiles whose starts lie in `tile_ranges` into `planes`, the bands of every
    /// output plane that begin at output row and column `region`.
    fn run_tiles(
        &self,
        input: &[T],
        tile_ranges: &[std::ops::Range<usize>; 2],
        region: [usize; 2],
        planes: &mut [&mut [T]],
    ) {
        let g = &self.geometry;
        let plans = &self.plans;
        let [rows, cols] = g.axes;
        let [block_rows, block_cols] = self.blocking;
        let spectrum_len = plans.spectrum_len();
        let (span_rows, span_cols) = (rows.effective_kernel(), cols.effective_kernel());
        // Stride-1 output extent: the tiles cover it; strided outputs are sampled from it.
        let (unit_rows, unit_cols) = (rows.input - span_rows + 1, cols.input - span_cols + 1);
        let scale = T::one() / T::from_f64_lossy((block_rows.grid * block_cols.grid) as f64);
        let in_plane = g.input_plane();
        let [y0, x0] = region;
        let [row_range, col_range] = tile_ranges;
        self.scratch.with(
            || SpectralScratch::new(g, plans),
            |scratch| {
                let SpectralScratch { row, input_spectra, product, segment } = scratch;
                for n in 0..g.batch {
                    for u0 in (0..unit_rows).step_by(block_rows.tile).filter(|u| row_range.contains(u)) {
                        for v0 in (0..unit_cols).step_by(block_cols.tile).filter(|v| col_range.contains(v)) {
                            let seg_rows = block_rows.grid.min(rows.input - u0);
                            let seg_cols = block_cols.grid.min(cols.input - v0);
                            for (c, spectrum) in input_spectra.chunks_exact_mut(spectrum_len).enumerate() {
                                let plane = &input[(n * g.in_channels + c) * in_plane..][..in_plane];
                                let segment = &mut segment[..seg_rows * seg_cols];
                                for (r, dest) in segment.chunks_exact_mut(seg_cols).enumerate() {
                                    dest.copy_from_slice(&plane[(u0 + r) * cols.input + v0..][..seg_cols]);
                                }
                                plans.forward(segment, seg_cols, spectrum, row);
                            }
                            let tile_rows = u0..(u0 + block_rows.tile).min(unit_rows);
                            let tile_end = (v0 + block_cols.tile).min(unit_cols);
                            // Stride-1 output columns of this tile that are on the stride grid.
                            let first_col = v0.div_ceil(cols.stride) * cols.stride;
                            for o in 0..g.out_channels {
                                channel_sum(g, o, input_spectra, &self.kernel_spectra, product);
                                let out = &mut *planes[n * g.out_channels + o];
                                let wanted = tile_rows
                                    .clone()
                                    .filter(|u| u % rows.stride == 0)
                                    .map(|u| u - u0 + span_rows - 1);
                                plans.inverse(product, wanted, row, |r, values| {
                                    let y = (r + u0 + 1 - span_rows) / rows.stride;
                                    for v in (first_col..tile_end).step_by(cols.stride) {
                                        out[(y - y0) * cols.output + v / cols.stride - x0] =
                                            values[v - v0 + span_cols - 1] * scale;
                                    }
                                });
                            }
                        }
                    }
                }
            },
        );
    }
}
