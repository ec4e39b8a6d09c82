//! Shared machinery of the FFT-based backends: 2-D real transforms on a fixed grid, kernel
//! spectra, channel sums in the frequency domain, and the scratch of one call. Not a backend itself.

use std::sync::Arc;

use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex;
use rustfft::{Fft as ComplexFft, FftPlanner};

use crate::geometry::Geometry;
use crate::num::ConvNum;

/// Transforms of one grid size, planned once per call.
pub(crate) struct Plans<T: ConvNum> {
    pub(crate) grid: [usize; 2],
    row_forward: Arc<dyn RealToComplex<T>>,
    row_inverse: Arc<dyn ComplexToReal<T>>,
    column_forward: Arc<dyn ComplexFft<T>>,
    column_inverse: Arc<dyn ComplexFft<T>>,
}

impl<T: ConvNum> Plans<T> {
    pub(crate) fn new(grid: [usize; 2]) -> Self {
        let mut real = RealFftPlanner::<T>::new();
        let mut complex = FftPlanner::<T>::new();
        Plans {
            grid,
            row_forward: real.plan_fft_forward(grid[1]),
            row_inverse: real.plan_fft_inverse(grid[1]),
            column_forward: complex.plan_fft_forward(grid[0]),
            column_inverse: complex.plan_fft_inverse(grid[0]),
        }
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
