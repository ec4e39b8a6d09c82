//! The FFT backends' plan for volumes (a depth axis longer than 1): the 3-D real transform on a
//! grid `[LD, LH, LW]`, tile by tile. Planar problems keep the staged 2-D plan (`plan.rs`),
//! which this leaves untouched.
//!
//! A 3-D transform is three passes of 1-D transforms: real-to-complex along each grid row
//! (width), then complex along the height and the depth. The spectrum of a grid is stored
//! slice after slice, row after row, `LW / 2 + 1` frequencies per row; the height pass
//! transposes each slice so that its columns are contiguous, the depth pass gathers blocks of
//! frequency columns across the slices. Every pass is shared out over the worker threads.

use std::convert::Infallible;
use std::sync::Arc;

use realfft::{ComplexToReal, RealToComplex};
use rustfft::Fft as ComplexFft;
use rustfft::num_complex::Complex;

use super::columns::{WorkerBuffers, at_least};
use super::{Blocking, with_planners};
use crate::backend::contract::check_buffer_len;
use crate::backend::layout::transpose_items;
use crate::backend::plan::{ConvPlan, ThreadScratch, with_thread_scratch};
use crate::error::ConvError;
use crate::geometry::{AxisGeometry, Geometry};
use crate::num::ConvNum;
use crate::parallel;

/// Frequency columns gathered per depth transform batch.
const DEPTH_COLUMNS: usize = 16;

/// Grid points per thread below which a pass is not shared out.
const MIN_POINTS_PER_THREAD: u128 = 1 << 15;

/// The transforms of one grid `[LD, LH, LW]`.
struct Transforms<T: ConvNum> {
    grid: [usize; 3],
    row_forward: Arc<dyn RealToComplex<T>>,
    row_inverse: Arc<dyn ComplexToReal<T>>,
    /// Forward and inverse along the height, then along the depth.
    height: [Arc<dyn ComplexFft<T>>; 2],
    depth: [Arc<dyn ComplexFft<T>>; 2],
}

/// The spectra buffer of the calls on a thread, kept between calls: a volume's spectra are tens
/// of MB, and memory fresh from the system is faulted in page by page on every call (that was
/// two thirds of the time of a one-shot 144^3 call in f64).
#[derive(Default)]
struct VolumeSpectra<T>(Vec<Complex<T>>);

/// The kernel spectra left by the last plan dropped on a thread, for the next one (kept apart
/// from [`VolumeSpectra`]: each stays under the per-thread keep limit on its own).
#[derive(Default)]
struct SpareKernelSpectra<T>(Vec<Complex<T>>);

impl<T: ConvNum> ThreadScratch for VolumeSpectra<T> {
    fn bytes(&self) -> usize {
        self.0.capacity() * 2 * size_of::<T>()
    }
}

impl<T: ConvNum> ThreadScratch for SpareKernelSpectra<T> {
    fn bytes(&self) -> usize {
        self.0.capacity() * 2 * size_of::<T>()
    }
}

impl<T: ConvNum> Transforms<T> {
    fn new(grid: [usize; 3]) -> Self {
        with_planners::<T, _>(|real, complex| Transforms {
            grid,
            row_forward: real.plan_fft_forward(grid[2]),
            row_inverse: real.plan_fft_inverse(grid[2]),
            height: [complex.plan_fft_forward(grid[1]), complex.plan_fft_inverse(grid[1])],
            depth: [complex.plan_fft_forward(grid[0]), complex.plan_fft_inverse(grid[0])],
        })
    }

    /// Frequencies per grid row.
    fn half(&self) -> usize {
        self.grid[2] / 2 + 1
    }

    /// Complex values of one slice's spectrum, and of the whole grid's.
    fn slice_len(&self) -> usize {
        self.grid[1] * self.half()
    }

    fn spectrum_len(&self) -> usize {
        self.grid[0] * self.slice_len()
    }

    fn scratch_len(&self) -> usize {
        let [height_fwd, height_inv] = &self.height;
        let [depth_fwd, depth_inv] = &self.depth;
        self.row_forward
            .get_scratch_len()
            .max(self.row_inverse.get_scratch_len())
            .max(height_fwd.get_inplace_scratch_len())
            .max(height_inv.get_inplace_scratch_len())
            .max(depth_fwd.get_inplace_scratch_len())
            .max(depth_inv.get_inplace_scratch_len())
    }

    /// Threads for the passes of one grid.
    fn threads(&self) -> usize {
        grid_threads(self.grid)
    }

    /// The forward 3-D transform into `spectrum` of the grid whose row `(q, r)` is
    /// `row_of(q, r)` (at most `LW` values, zero beyond; `None`: a row of zeros).
    fn forward<'a>(
        &self,
        spectrum: &mut [Complex<T>],
        row_of: impl Fn(usize, usize) -> Option<&'a [T]> + Sync,
        threads: usize,
    ) where
        T: 'a,
    {
        let (half, lh) = (self.half(), self.grid[1]);
        let scratch_len = self.scratch_len();
        let mut states: Vec<WorkerBuffers<T>> = (0..threads).map(|_| WorkerBuffers::default()).collect();
        let Ok(()) =
            parallel::split_items(spectrum, self.slice_len(), &mut states, |slices, first, buffers| {
                let WorkerBuffers { real, block: columns, fft: scratch } = buffers;
                let real = at_least(real, self.grid[2], T::zero());
                let scratch = at_least(scratch, scratch_len, Complex::default());
                for (i, slice) in slices.chunks_exact_mut(self.slice_len()).enumerate() {
                    // A slice of zero rows (past a kernel's span) stays zero: no height pass.
                    let mut any_row = false;
                    for (r, spectrum_row) in slice.chunks_exact_mut(half).enumerate() {
                        match row_of(first + i, r) {
                            None => spectrum_row.fill(Complex::default()),
                            Some(source) => {
                                any_row = true;
                                real[..source.len()].copy_from_slice(source);
                                real[source.len()..].fill(T::zero());
                                let _ = self.row_forward.process_with_scratch(real, spectrum_row, scratch);
                            }
                        }
                    }
                    if lh > 1 && any_row {
                        let columns = at_least(columns, self.slice_len(), Complex::default());
                        transpose_items(slice, columns, lh, half);
                        self.height[0].process_with_scratch(columns, scratch);
                        transpose_items(columns, slice, half, lh);
                    }
                }
                Ok::<(), Infallible>(())
            });
        self.depth_pass(spectrum, 0, threads);
    }

    /// The depth transforms (`direction` 0 forward, 1 inverse) of every frequency column of
    /// `spectrum`, shared out over `threads` by bands of columns.
    fn depth_pass(&self, spectrum: &mut [Complex<T>], direction: usize, threads: usize) {
        let (ld, slice_len) = (self.grid[0], self.slice_len());
        if ld == 1 {
            return;
        }
        let threads = threads.clamp(1, slice_len);
        // Band t holds columns bounds[t]..bounds[t + 1] of every slice.
        let bounds: Vec<usize> = (0..=threads).map(|t| t * slice_len / threads).collect();
        let mut bands: Vec<Vec<&mut [Complex<T>]>> = (0..threads).map(|_| Vec::with_capacity(ld)).collect();
        for slice in spectrum.chunks_exact_mut(slice_len) {
            let mut rest = slice;
            for (t, band) in bands.iter_mut().enumerate() {
                let (head, tail) = std::mem::take(&mut rest).split_at_mut(bounds[t + 1] - bounds[t]);
                band.push(head);
                rest = tail;
            }
        }
        let scratch_len = self.scratch_len();
        let transform = &self.depth[direction];
        let Ok(()) = parallel::split_output(&mut bands, threads, |piece, _| {
            let mut columns = vec![Complex::default(); DEPTH_COLUMNS * ld];
            let mut scratch = vec![Complex::default(); scratch_len];
            for band in piece.iter_mut() {
                let width = band.first().map_or(0, |slice| slice.len());
                for k0 in (0..width).step_by(DEPTH_COLUMNS) {
                    let count = DEPTH_COLUMNS.min(width - k0);
                    let columns = &mut columns[..count * ld];
                    for (q, slice) in band.iter().enumerate() {
                        for (j, &value) in slice[k0..k0 + count].iter().enumerate() {
                            columns[j * ld + q] = value;
                        }
                    }
                    transform.process_with_scratch(columns, &mut scratch);
                    for (q, slice) in band.iter_mut().enumerate() {
                        for (j, value) in slice[k0..k0 + count].iter_mut().enumerate() {
                            *value = columns[j * ld + q];
                        }
                    }
                }
            }
            Ok::<(), Infallible>(())
        });
    }

    /// The inverse transform of `spectrum` (overwritten), for the grid slices listed in
    /// `wanted`: `emit(slice_index, values_of_row(r), out)` is called per wanted slice with its
    /// real rows (unnormalised), to write the slice's outputs into `out`.
    fn inverse(
        &self,
        spectrum: &mut [Complex<T>],
        wanted: Vec<(usize, &mut [T])>,
        rows: &[usize],
        emit: impl Fn(usize, &[T], &mut [T]) + Sync,
        threads: usize,
    ) {
        self.depth_pass(spectrum, 1, threads);
        let (half, lh, lw) = (self.half(), self.grid[1], self.grid[2]);
        let slice_len = self.slice_len();
        // Pair each wanted slice's spectrum with its output.
        let mut slices: Vec<Option<&mut [Complex<T>]>> =
            spectrum.chunks_exact_mut(slice_len).map(Some).collect();
        let mut jobs: Vec<(&mut [Complex<T>], &mut [T])> = Vec::with_capacity(wanted.len());
        for (q, out) in wanted {
            if let Some(slice) = slices.get_mut(q).and_then(Option::take) {
                jobs.push((slice, out));
            }
        }
        let scratch_len = self.scratch_len();
        let Ok(()) = parallel::split_output(&mut jobs, threads, |piece, _| {
            let mut columns = vec![Complex::default(); slice_len];
            let mut scratch = vec![Complex::default(); scratch_len];
            let mut real = vec![T::zero(); lw];
            for (slice, out) in piece.iter_mut() {
                if lh > 1 {
                    transpose_items(slice, &mut columns, lh, half);
                    self.height[1].process_with_scratch(&mut columns, &mut scratch);
                    transpose_items(&columns, slice, half, lh);
                }
                for &r in rows {
                    let row = &mut slice[r * half..][..half];
                    // A real signal's DC (and, for even length, Nyquist) bins are real.
                    row[0].im = T::zero();
                    if lw % 2 == 0 {
                        row[half - 1].im = T::zero();
                    }
                    let _ = self.row_inverse.process_with_scratch(row, &mut real, &mut scratch);
                    emit(r, &real, out);
                }
            }
            Ok::<(), Infallible>(())
        });
    }
}

/// Threads a volume plan tiled by `blocking` keeps busy (those of each tile's passes).
pub(super) fn threads(blocking: [Blocking; 3]) -> usize {
    grid_threads(blocking.map(|b| b.grid))
}

/// Threads for the passes of a grid of these sizes (see [`MIN_POINTS_PER_THREAD`]).
fn grid_threads(grid: [usize; 3]) -> usize {
    let points = grid.iter().fold(1u128, |p, &l| p.saturating_mul(l as u128));
    parallel::threads_for(points, MIN_POINTS_PER_THREAD)
}

/// The stride-1 output positions a tile starting at `u0` covers along `axis`, and the outputs
/// (on the stride grid) among them: `(first output, count, grid position of the first)`.
fn tile_outputs(axis: &AxisGeometry, blocking: Blocking, u0: usize) -> (usize, usize, usize) {
    let unit = axis.input - axis.effective_kernel() + 1;
    let end = (u0 + blocking.tile).min(unit);
    let first = u0.div_ceil(axis.stride);
    let count = end.div_ceil(axis.stride).saturating_sub(first);
    (first, count, first * axis.stride - u0 + axis.effective_kernel() - 1)
}

/// An FFT backend prepared for a volume geometry and kernel: tiles of `blocking` per axis (one
/// tile per axis for [`Fft`](crate::Fft)), the transforms of the grid, the kernel spectra.
pub(crate) struct VolumePlan<T: ConvNum> {
    name: &'static str,
    geometry: Geometry,
    blocking: [Blocking; 3],
    transforms: Transforms<T>,
    /// Spectra of the kernel planes (`O * Cg`, in kernel order), flipped and dilated into
    /// correlation-as-convolution form and scaled by `1 / (LD * LH * LW)`.
    kernel: Vec<Complex<T>>,
}

impl<T: ConvNum> VolumePlan<T> {
    /// Checks the kernel, plans the transforms of `blocking`'s grid and transforms the kernel.
    ///
    /// # Errors
    /// [`ConvError::BufferLength`] for a kernel of the wrong length, [`ConvError::OutOfMemory`]
    /// for the spectra.
    pub(crate) fn new(
        name: &'static str,
        g: &Geometry,
        kernel: &[T],
        blocking: [Blocking; 3],
    ) -> Result<Self, ConvError> {
        check_buffer_len("kernel", g.kernel_len(), kernel.len())?;
        let transforms = Transforms::<T>::new(blocking.map(|b| b.grid));
        let spans = g.axes().map(|axis| axis.effective_kernel());
        let grid_points = transforms.grid.iter().product::<usize>();
        let scale = T::one() / T::from_f64_lossy(grid_points as f64);
        let spectrum_len = transforms.spectrum_len();
        let planes = g.out_channels() * g.in_per_group();
        // The buffer the last plan dropped on this thread left, if any: every value is written
        // by the transforms below.
        let mut spectra =
            with_thread_scratch(|spare: &mut SpareKernelSpectra<T>| std::mem::take(&mut spare.0));
        crate::buffers::resize(&mut spectra, planes * spectrum_len, Complex::default(), "kernel spectra")?;
        spectra.truncate(planes * spectrum_len);
        let mut placed = crate::buffers::filled(spans.iter().product(), T::zero(), "placed kernel")?;
        let [depth, rows, cols] = g.axes();
        let threads = transforms.threads();
        for (spectrum, taps) in
            spectra.chunks_exact_mut(spectrum_len).zip(kernel.chunks_exact(g.kernel_plane()))
        {
            // Tap (h, i, j) at (span - 1 - h * dilation) per axis: flipped and dilated.
            for (t, &tap) in taps.iter().enumerate() {
                let (h, i, j) =
                    (t / (rows.kernel * cols.kernel), t / cols.kernel % rows.kernel, t % cols.kernel);
                let q = spans[0] - 1 - h * depth.dilation;
                let r = spans[1] - 1 - i * rows.dilation;
                let s = spans[2] - 1 - j * cols.dilation;
                placed[(q * spans[1] + r) * spans[2] + s] = tap * scale;
            }
            let row_of = |q: usize, r: usize| {
                (q < spans[0] && r < spans[1]).then(|| &placed[(q * spans[1] + r) * spans[2]..][..spans[2]])
            };
            transforms.forward(spectrum, row_of, threads);
        }
        Ok(VolumePlan { name, geometry: *g, blocking, transforms, kernel: spectra })
    }

    /// One tile of batch item `item` (its input planes) starting at stride-1 output `start`,
    /// written into the item's output planes `planes`; `spectra` holds the input channels'
    /// spectra and one more for the products.
    fn run_tile(&self, item: &[T], start: [usize; 3], planes: &mut [&mut [T]], spectra: &mut [Complex<T>]) {
        let g = &self.geometry;
        let t = &self.transforms;
        let axes = g.axes();
        let [_, rows, cols] = axes;
        let threads = t.threads();
        let spectrum_len = t.spectrum_len();
        let (inputs, product) = spectra.split_at_mut(g.in_channels() * spectrum_len);
        let segment: [usize; 3] = std::array::from_fn(|a| t.grid[a].min(axes[a].input - start[a]));
        for (c, spectrum) in inputs.chunks_exact_mut(spectrum_len).enumerate() {
            let channel = &item[c * g.input_plane()..][..g.input_plane()];
            let row_of = |q: usize, r: usize| {
                (q < segment[0] && r < segment[1]).then(|| {
                    let row = ((start[0] + q) * rows.input + start[1] + r) * cols.input + start[2];
                    &channel[row..][..segment[2]]
                })
            };
            t.forward(spectrum, row_of, threads);
        }
        let tiles: [(usize, usize, usize); 3] =
            std::array::from_fn(|a| tile_outputs(&axes[a], self.blocking[a], start[a]));
        let [(first_z, count_z, grid_z), (first_y, count_y, grid_y), (first_x, count_x, grid_x)] = tiles;
        if count_z == 0 || count_y == 0 || count_x == 0 {
            return;
        }
        let grid_rows: Vec<usize> = (0..count_y).map(|y| grid_y + y * rows.stride).collect();
        let out_slice = rows.output * cols.output;
        let per_group = g.in_per_group();
        for (o, plane) in planes.iter_mut().enumerate() {
            let group = o / g.out_per_group();
            // The product of the group's input spectra with the kernel's, summed over channels.
            let kernels = &self.kernel[o * per_group * spectrum_len..][..per_group * spectrum_len];
            let group_inputs = &inputs[group * per_group * spectrum_len..][..per_group * spectrum_len];
            let chunk = spectrum_len.div_ceil(threads.max(1)).max(1);
            let mut states = vec![(); threads.max(1)];
            let Ok(()) = parallel::split_items(product, chunk, &mut states, |piece, first, ()| {
                let offset = first * chunk;
                piece.fill(Complex::default());
                for c in 0..per_group {
                    let x = &group_inputs[c * spectrum_len + offset..][..piece.len()];
                    let k = &kernels[c * spectrum_len + offset..][..piece.len()];
                    for ((p, &x), &k) in piece.iter_mut().zip(x).zip(k) {
                        *p = *p + x * k;
                    }
                }
                Ok::<(), Infallible>(())
            });
            let wanted = plane
                .chunks_exact_mut(out_slice)
                .skip(first_z)
                .take(count_z)
                .enumerate()
                .map(|(z, out)| (grid_z + z * axes[0].stride, out))
                .collect();
            let emit = |r: usize, values: &[T], out: &mut [T]| {
                let Some(y) = grid_rows.iter().position(|&row| row == r) else { return };
                let out = &mut out[(first_y + y) * cols.output + first_x..][..count_x];
                let values = values[grid_x..].iter().step_by(cols.stride);
                out.iter_mut().zip(values).for_each(|(o, &v)| *o = v);
            };
            t.inverse(product, wanted, &grid_rows, emit, threads);
        }
    }
}

impl<T: ConvNum> ConvPlan<T> for VolumePlan<T> {
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
        let spectrum_len = self.transforms.spectrum_len();
        with_thread_scratch(|spectra: &mut VolumeSpectra<T>| {
            // Every value is written before it is read (transforms, products): no clearing.
            let len = (g.in_channels() + 1) * spectrum_len;
            crate::buffers::resize(&mut spectra.0, len, Complex::default(), "spectra")?;
            self.run_tiles(input, output, &mut spectra.0[..len]);
            Ok(())
        })
    }
}

impl<T: ConvNum> Drop for VolumePlan<T> {
    /// Leaves the kernel spectra's buffer to the next plan made on this thread.
    fn drop(&mut self) {
        let kernel = std::mem::take(&mut self.kernel);
        with_thread_scratch(|spare: &mut SpareKernelSpectra<T>| {
            if kernel.capacity() > spare.0.capacity() {
                spare.0 = kernel;
            }
        });
    }
}

impl<T: ConvNum> VolumePlan<T> {
    /// Every tile of every batch item, in order, with `spectra` as the spectra buffer.
    fn run_tiles(&self, input: &[T], output: &mut [T], spectra: &mut [Complex<T>]) {
        let g = &self.geometry;
        let axes = g.axes();
        let starts: [Vec<usize>; 3] = std::array::from_fn(|a| {
            let unit = axes[a].input - axes[a].effective_kernel() + 1;
            (0..unit).step_by(self.blocking[a].tile.max(1)).collect()
        });
        let item_len = g.in_channels() * g.input_plane();
        for (item, item_output) in
            input.chunks_exact(item_len).zip(output.chunks_exact_mut(g.out_channels() * g.output_plane()))
        {
            let mut planes: Vec<&mut [T]> = item_output.chunks_exact_mut(g.output_plane()).collect();
            for &u in &starts[0] {
                for &v in &starts[1] {
                    for &w in &starts[2] {
                        self.run_tile(item, [u, v, w], &mut planes, spectra);
                    }
                }
            }
        }
    }
}
