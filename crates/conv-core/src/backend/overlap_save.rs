//! The blocked FFT backend: overlap-save, for long signals and large images with small kernels.

use super::spectral::{Blocking, check_workspace, spectral_features, spectral_plan, spectral_threads};
use super::{ConvBackend, ConvPlan, ConvProblem};
use crate::error::ConvError;
use crate::geometry::Geometry;
use crate::num::ConvNum;
use crate::{next_fast_len, transform_len};

/// Convolves block by block with small FFTs (overlap-save), instead of one transform of the whole
/// input.
///
/// The stride-1 output is cut into tiles of `B` samples per axis. Each tile reads an input
/// segment of `B + K' - 1` samples (`K'` the dilated kernel span), transforms it on a grid of
/// `L = B + K' - 1` (a size rustfft transforms quickly), multiplies by the kernel spectrum
/// (computed once, on that small grid) and keeps the `B` outputs the circular wrap-around cannot
/// reach. This is the blocked method of scipy's `oaconvolve` in its overlap-save form, which fits
/// the valid problem the backends solve: segments overlap in the input, and outputs never need
/// adding up.
///
/// Cost: about `(n / B) * L log L` per plane instead of `n log n` for one big transform, and the
/// workspace is a few small grids instead of the whole plane: it wins for inputs many times
/// longer than the kernel. `L` is [`transform_len`]`(8 K')` (at least 64), or the whole input's
/// transform length when that is smaller. Workspace over the cap
/// ([`OverlapSave::DEFAULT_CAP_BYTES`]) is refused with [`ConvError::TooLarge`].
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

    /// The transform grid `[LD, LH, LW]` used for a geometry.
    pub fn grid(&self, g: &Geometry) -> [usize; 3] {
        self.blocking(g).map(|axis| axis.grid)
    }

    /// How many threads a call on this geometry keeps busy.
    pub(crate) fn threads(&self, g: &Geometry) -> usize {
        spectral_threads(g, self.blocking(g))
    }

    fn blocking(&self, g: &Geometry) -> [Blocking; 3] {
        g.axes().map(|axis| {
            let span = axis.effective_kernel();
            let whole = transform_len(axis.input);
            let target = match self.grid {
                Some(grid) => next_fast_len(grid.max(span)),
                None => transform_len((8 * span).max(64)),
            };
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
        check_workspace::<T>(g, self.grid(g), self.cap_bytes, "overlap-save workspace")
    }

    /// The FFT's counts per tile of this instance's grid, times the tiles
    /// (`backend/spectral/cost.rs`).
    fn cost_features(&self, g: &Geometry) -> Result<Vec<f64>, ConvError> {
        let counts = crate::cost::Counts::of(g);
        let grid = self.grid(g);
        let tiles: f64 = g
            .axes()
            .iter()
            .zip(grid)
            .map(|(axis, l)| {
                let unit = axis.input - axis.effective_kernel() + 1;
                let tile = (l + 1).saturating_sub(axis.effective_kernel()).max(1);
                unit.div_ceil(tile) as f64
            })
            .product();
        Ok(spectral_features(g, &counts, grid, tiles, self.threads(g)))
    }

    fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        let g = problem.geometry();
        self.plan(g, problem.kernel())?.execute(problem.input(), output)
    }

    fn plan<'a>(&'a self, g: &Geometry, kernel: &[T]) -> Result<Box<dyn ConvPlan<T> + 'a>, ConvError> {
        <Self as ConvBackend<T>>::supports(self, g)?;
        spectral_plan("overlap-save", g, kernel, self.blocking(g), false)
    }
}
