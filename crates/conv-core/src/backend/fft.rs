//! The FFT backend: the convolution theorem with rustfft.

use rustfft::num_complex::Complex;

use super::plan::Scratch;
use super::spectral::{Plans, SpectralScratch, channel_sum, kernel_spectra};
use super::{ConvBackend, ConvPlan, ConvProblem, check_len};
use crate::error::ConvError;
use crate::geometry::{Geometry, check_bytes, checked_product};
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
/// Cost: `O((N*C + O*Cg + N*O) * L log L)` transforms plus `O(N*O*Cg*L)` products, independent
/// of the kernel size: this backend wins for large kernels. Workspace: `C + O*Cg + 1` spectra of
/// `LH * (LW/2 + 1)` complex values, refused over the cap ([`Fft::DEFAULT_CAP_BYTES`] unless set
/// with [`Fft::with_cap_bytes`]).
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
        let [lh, lw] = Self::grid(g);
        let spectra = g.in_channels + g.out_channels * g.in_per_group() + 1;
        let values = checked_product([spectra, lh, lw / 2 + 1], "FFT workspace")?;
        check_bytes(values, size_of::<Complex<T>>(), self.cap_bytes, "FFT workspace")
    }

    fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        let g = problem.geometry();
        self.plan(g, problem.kernel())?.execute(problem.input(), output)
    }

    fn plan<'a>(&'a self, g: &Geometry, kernel: &[T]) -> Result<Box<dyn ConvPlan<T> + 'a>, ConvError> {
        <Self as ConvBackend<T>>::supports(self, g)?;
        check_len("kernel", g.kernel_len()?, kernel.len())?;
        let plans = Plans::<T>::new(Self::grid(g));
        let kernel_spectra = kernel_spectra(g, kernel, &plans);
        let scratch = Scratch::new(SpectralScratch::new(g, &plans));
        Ok(Box::new(FftPlan { geometry: *g, plans, kernel_spectra, scratch }))
    }
}

/// [`Fft`] prepared for one geometry and kernel: transform plans and kernel spectra.
struct FftPlan<T: ConvNum> {
    geometry: Geometry,
    plans: Plans<T>,
    kernel_spectra: Vec<Complex<T>>,
    scratch: Scratch<SpectralScratch<T>>,
}

impl<T: ConvNum> ConvPlan<T> for FftPlan<T> {
    fn backend_name(&self) -> &str {
        "fft"
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
        let [lh, lw] = plans.grid;
        let spectrum_len = plans.spectrum_len();
        let (span_rows, span_cols) = (rows.effective_kernel(), cols.effective_kernel());
        let scale = T::one() / T::from_f64_lossy((lh * lw) as f64);
        let (in_plane, out_plane) = (g.input_plane(), g.output_plane());
        self.scratch.with(
            || SpectralScratch::new(g, plans),
            |scratch| {
                let SpectralScratch { row, input_spectra, product, .. } = scratch;
                for n in 0..g.batch {
                    for (c, spectrum) in input_spectra.chunks_exact_mut(spectrum_len).enumerate() {
                        let plane = &input[(n * g.in_channels + c) * in_plane..][..in_plane];
                        plans.forward(plane, cols.input, spectrum, row);
                    }
                    for o in 0..g.out_channels {
                        channel_sum(g, o, input_spectra, &self.kernel_spectra, product);
                        let out = &mut output[(n * g.out_channels + o) * out_plane..][..out_plane];
                        let wanted = (0..rows.output).map(|y| y * rows.stride + span_rows - 1);
                        plans.inverse(product, wanted, row, |r, values| {
                            let y = (r + 1 - span_rows) / rows.stride;
                            let out_row = &mut out[y * cols.output..][..cols.output];
                            let first = span_cols - 1;
                            for (dest, &v) in
                                out_row.iter_mut().zip(values[first..].iter().step_by(cols.stride))
                            {
                                *dest = v * scale;
                            }
                        });
                    }
                }
            },
        );
        Ok(())
    }
}
