//! The blocked FFT backend: overlap-save, for long signals and large images with small kernels.

use rustfft::num_complex::Complex;

use super::plan::Scratch;
use super::spectral::{Plans, SpectralScratch, channel_sum, kernel_spectra};
use super::{ConvBackend, ConvPlan, ConvProblem, check_len};
use crate::error::ConvError;
use crate::geometry::{Geometry, check_bytes, checked_product};
use crate::next_fast_len;
use crate::num::ConvNum;

/// Convolves block by block with small FFTs (overlap-save), instead of one transform of the whole
/// input.
///
/// The stride-1 output is cut into tiles of `B` samples per axis. Each tile reads an input
/// segment of `B + K' - 1` samples (`K'` the dilated kernel span), transforms it on a grid of
/// `L = B + K' - 1` (a size with prime factors at most 7), multiplies by the kernel spectrum (computed
/// once, on that small grid) and keeps the `B` outputs the circular wrap-around cannot reach. This
/// is the blocked method of scipy's `oaconvolve` in its overlap-save form, which fits the valid
/// problem the backends solve: segments overlap in the input, and outputs never need adding up.
///
/// Cost: about `(n / B) * L log L` per plane instead of `n log n` for one big transform, and the
/// workspace is a few small grids instead of the whole plane: it wins for inputs many times
/// longer than the kernel. `L` is the fast size at or above `8 K'` (at least 64), or the whole
/// input when that is smaller. Workspace over the cap ([`OverlapSave::DEFAULT_CAP_BYTES`]) is
/// refused with [`ConvError::TooLarge`].
///
/// # Numerics
/// As [`Fft`](super::Fft), but within a tile: a NaN or infinity spreads to every output of the
/// tiles whose segment contains it, not to the whole plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverlapSave {
    cap_bytes: usize,
    /// A fixed grid size per axis instead of the automatic choice.
    grid: Option<usize>,
}

impl Default for OverlapSave {
    fn default() -> Self {
        OverlapSave { cap_bytes: Self::DEFAULT_CAP_BYTES, grid: None }
    }
}

/// Grid size and tile size along one axis.
#[derive(Clone, Copy, Debug)]
struct Blocking {
    grid: usize,
    tile: usize,
}

impl OverlapSave {
    /// Default cap on the spectra workspace: 1 GiB.
    pub const DEFAULT_CAP_BYTES: usize = 1 << 30;

    /// An overlap-save backend whose spectra may take at most `cap_bytes` bytes.
    pub fn with_cap_bytes(cap_bytes: usize) -> Self {
        OverlapSave { cap_bytes, ..Self::default() }
    }

    /// An overlap-save backend with transform grids of (at least) `grid` samples per axis — the
    /// fast size at or above `max(grid, kernel span)` — instead of the automatic choice. Small
    /// grids mean many tiles: useful for testing the tiling on small problems.
    pub fn with_grid(grid: usize) -> Self {
        OverlapSave { grid: Some(grid), ..Self::default() }
    }

    /// The transform grid `[LH, LW]` used for a geometry.
    pub fn grid(&self, g: &Geometry) -> [usize; 2] {
        let [rows, cols] = self.blocking(g);
        [rows.grid, cols.grid]
    }

    fn blocking(&self, g: &Geometry) -> [Blocking; 2] {
        g.axes.map(|axis| {
            let span = axis.effective_kernel();
            let whole = next_fast_len(axis.input);
            let wanted = match self.grid {
                Some(grid) => grid.max(span),
                None => (8 * span).max(64),
            };
            let target = next_fast_len(wanted);
            if axis.input == 1 || target >= whole {
                Blocking { grid: whole, tile: axis.input - span + 1 }
            } else {
                Blocking { grid: target, tile: target - span + 1 }
            }
        })
    }
}

impl<T: ConvNum> ConvBackend<T> for OverlapSave {
    fn name(&self) -> &str {
        "overlap-save"
    }

    fn supports(&self, g: &Geometry) -> Result<(), ConvError> {
        let [lh, lw] = self.grid(g);
        let spectra = g.in_channels + g.out_channels * g.in_per_group() + 1;
        let values = checked_product([spectra, lh, lw / 2 + 1], "overlap-save workspace")?;
        check_bytes(values, size_of::<Complex<T>>(), self.cap_bytes, "overlap-save workspace")
    }

    fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        let g = problem.geometry();
        self.plan(g, problem.kernel())?.execute(problem.input(), output)
    }

    fn plan<'a>(&'a self, g: &Geometry, kernel: &[T]) -> Result<Box<dyn ConvPlan<T> + 'a>, ConvError> {
        <Self as ConvBackend<T>>::supports(self, g)?;
        check_len("kernel", g.kernel_len()?, kernel.len())?;
        let blocking = self.blocking(g);
        let plans = Plans::<T>::new(blocking.map(|b| b.grid));
        let kernel_spectra = kernel_spectra(g, kernel, &plans);
        let scratch = Scratch::new(SpectralScratch::new(g, &plans));
        Ok(Box::new(OverlapSavePlan { geometry: *g, blocking, plans, kernel_spectra, scratch }))
    }
}

/// [`OverlapSave`] prepared for one geometry and kernel: tiling, transform plans, kernel spectra.
struct OverlapSavePlan<T: ConvNum> {
    geometry: Geometry,
    blocking: [Blocking; 2],
    plans: Plans<T>,
    kernel_spectra: Vec<Complex<T>>,
    scratch: Scratch<SpectralScratch<T>>,
}

impl<T: ConvNum> ConvPlan<T> for OverlapSavePlan<T> {
    fn backend_name(&self) -> &str {
        "overlap-save"
    }

    fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    fn execute(&self, input: &[T], output: &mut [T]) -> Result<(), ConvError> {
        let g = &self.geometry;
        check_len("input", g.input_len()?, input.len())?;
        check_len("output", g.output_len()?, output.len())?;
        let plans = &self.plans;
        let [rows, cols] = g.axes;
        let [block_rows, block_cols] = self.blocking;
        let spectrum_len = plans.spectrum_len();
        let (span_rows, span_cols) = (rows.effective_kernel(), cols.effective_kernel());
        // Stride-1 output extent: the tiles cover it; strided outputs are sampled from it.
        let (unit_rows, unit_cols) = (rows.input - span_rows + 1, cols.input - span_cols + 1);
        let scale = T::one() / T::from_f64_lossy((block_rows.grid * block_cols.grid) as f64);
        let (in_plane, out_plane) = (g.input_plane(), g.output_plane());
        self.scratch.with(
            || SpectralScratch::new(g, plans),
            |scratch| {
                let SpectralScratch { row, input_spectra, product, segment } = scratch;
                for n in 0..g.batch {
                    for u0 in (0..unit_rows).step_by(block_rows.tile) {
                        for v0 in (0..unit_cols).step_by(block_cols.tile) {
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
                                let out = &mut output[(n * g.out_channels + o) * out_plane..][..out_plane];
                                let wanted = tile_rows
                                    .clone()
                                    .filter(|u| u % rows.stride == 0)
                                    .map(|u| u - u0 + span_rows - 1);
                                plans.inverse(product, wanted, row, |r, values| {
                                    let y = (r + u0 + 1 - span_rows) / rows.stride;
                                    for v in (first_col..tile_end).step_by(cols.stride) {
                                        out[y * cols.output + v / cols.stride] =
                                            values[v - v0 + span_cols - 1] * scale;
                                    }
                                });
                            }
                        }
                    }
                }
            },
        );
        Ok(())
    }
}
