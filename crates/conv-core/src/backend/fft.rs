//! The FFT backend: the convolution theorem with rustfft.

use super::spectral::{Blocking, SpectralPlan, call_threads, check_workspace};
use super::{ConvBackend, ConvPlan, ConvProblem};
use crate::error::ConvError;
use crate::geometry::Geometry;
use crate::num::ConvNum;

/// Multiplies spectra: `x * k = IFFT(FFT(x) . FFT(k))`.
///
/// Each padded input plane and each (flipped, dilated) kernel plane is zero-padded to an
/// `LH x LW` grid, where `L` is the smallest size with no prime factor above 7 that holds the
/// padded input ([`next_fast_len`]). Since a valid correlation only reads outputs whose window
/// lies inside the input, the wrap-around of the circular convolution never reaches them, so
/// `L >= input` suffices. Rows go through a real-to-complex transform (realfft, half the work of
/// a complex one), columns through rustfft. Input channels are summed in the frequency domain,
/// so each output plane costs one inverse transform whatever the channel count. Strided
/// outputs are computed at stride 1 and sampled.
///
/// The three passes of each 2-D transform (rows; per frequency column the column transforms,
/// the channel sums and the inverse columns; inverse rows) are shared out over the worker
/// threads when one image is large enough, and whole images when a batch is. A one-shot call
/// on one image transforms the kernel's columns alongside the input's, a few at a time, instead
/// of storing the kernel's whole spectrum first; a [plan](ConvBackend::plan) keeps that
/// spectrum for all its calls.
///
/// Cost: `O((N*C + O*Cg + N*O) * L log L)` transforms plus `O(N*O*Cg*L)` products, independent
/// of the kernel size: this backend wins for large kernels. Workspace: `max(C, O) + O*Cg`
/// spectra of `LH * (LW/2 + 1)` complex values, refused over the cap ([`Fft::DEFAULT_CAP_BYTES`]
/// unless set with [`Fft::with_cap_bytes`]).
///
/// # Numerics
/// The error of each output is about `eps * log2(L)` times the norms of the operands, not of
/// the output: outputs much smaller than the operands lose relative accuracy (an exact zero
/// comes back as a tiny number). A NaN or infinity anywhere in an input plane spreads through
/// the transform to **every** output of that batch item, and one in a kernel to every output
/// of that kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fft {
    cap_bytes: usize,
}

impl Default for Fft {
    fn default() -> Self {
        Fft { cap_bytes: Self::DEFAULT_CAP_BYTES }
    }
}

/// The smallest `m >= n` whose prime factors are all 2, 3, 5 or 7 (even when `n > 2`, so the
/// real transform can use its half-length trick). These sizes are fast for rustfft.
///
/// # Examples
/// ```
/// assert_eq!(conv_core::next_fast_len(97), 98);
/// assert_eq!(conv_core::next_fast_len(1000), 1000);
/// assert_eq!(conv_core::next_fast_len(1), 1);
/// ```
pub fn next_fast_len(n: usize) -> usize {
    fn smooth(mut m: usize) -> bool {
        for p in [2, 3, 5, 7] {
            while m.is_multiple_of(p) {
                m /= p;
            }
        }
        m == 1
    }
    if n <= 2 {
        return n.max(1);
    }
    (n..).find(|&m| m % 2 == 0 && smooth(m)).unwrap_or(n)
}

impl Fft {
    /// Default cap on the spectra workspace: 1 GiB.
    pub const DEFAULT_CAP_BYTES: usize = 1 << 30;

    /// An FFT backend whose spectra may take at most `cap_bytes` bytes.
    pub fn with_cap_bytes(cap_bytes: usize) -> Self {
        Fft { cap_bytes }
    }

    /// One tile: the whole stride-1 output, on a grid holding the whole padded input.
    fn blocking(g: &Geometry) -> [Blocking; 2] {
        g.axes.map(|axis| Blocking {
            grid: next_fast_len(axis.input),
            tile: axis.input - axis.effective_kernel() + 1,
        })
    }

    /// How many threads a call on this geometry keeps busy.
    pub(crate) fn threads(g: &Geometry) -> usize {
        call_threads(g, Self::blocking(g))
    }

    /// The transform grid `[LH, LW]` for a geometry.
    pub fn grid(g: &Geometry) -> [usize; 2] {
        [next_fast_len(g.axes[0].input), next_fast_len(g.axes[1].input)]
    }
}

impl<T: ConvNum> ConvBackend<T> for Fft {
    fn name(&self) -> &str {
        "fft"
    }

    fn supports(&self, g: &Geometry) -> Result<(), ConvError> {
        check_workspace::<T>(g, Self::grid(g), self.cap_bytes, "FFT workspace")
    }

    fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        let g = problem.geometry();
        <Self as ConvBackend<T>>::supports(self, g)?;
        SpectralPlan::for_one_call("fft", g, problem.kernel(), Self::blocking(g))?
            .execute(problem.input(), output)
    }

    fn plan<'a>(&'a self, g: &Geometry, kernel: &[T]) -> Result<Box<dyn ConvPlan<T> + 'a>, ConvError> {
        g.validate()?;
        <Self as ConvBackend<T>>::supports(self, g)?;
        Ok(Box::new(SpectralPlan::new("fft", g, kernel, Self::blocking(g))?))
    }
}
