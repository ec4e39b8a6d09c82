//! The convolution theorem: the inverse transform of a product of spectra is the circular
//! convolution; with enough zero padding, circular convolution is linear convolution.

use ndarray::{Array1, ArrayBase, Data, Ix1};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

use crate::error::{FourierError, finite, within_budget};

/// The operand's samples, contiguous, after checking their number against
/// [`MAX_SAMPLES`](crate::MAX_SAMPLES) (before anything is read) and that they are finite.
fn finite_samples<S: Data<Elem = f64>>(values: &ArrayBase<S, Ix1>) -> Result<Vec<f64>, FourierError> {
    within_budget("samples", values.len(), 1)?;
    values.iter().map(|&v| finite("sample", v)).collect()
}

/// Two operands of the same non-zero length.
fn same_length<S1: Data<Elem = f64>, S2: Data<Elem = f64>>(
    a: &ArrayBase<S1, Ix1>,
    b: &ArrayBase<S2, Ix1>,
) -> Result<(Vec<f64>, Vec<f64>), FourierError> {
    if a.len() != b.len() || a.is_empty() {
        return Err(FourierError::LengthMismatch { left: a.len(), right: b.len() });
    }
    Ok((finite_samples(a)?, finite_samples(b)?))
}

/// Circular convolution by its definition, `c[n] = sum_m a[m] b[(n - m) mod N]`: `O(N^2)`.
///
/// # Errors
/// [`FourierError::LengthMismatch`] unless both have the same non-zero length;
/// [`FourierError::NotFinite`] for a non-finite sample; [`FourierError::TooLarge`] for more
/// than [`MAX_SAMPLES`](crate::MAX_SAMPLES) samples or `N^2` over
/// [`MAX_OPERATIONS`](crate::MAX_OPERATIONS) (use [`circular_convolve_fft`]).
pub fn circular_convolve<S1, S2>(
    a: &ArrayBase<S1, Ix1>,
    b: &ArrayBase<S2, Ix1>,
) -> Result<Array1<f64>, FourierError>
where
    S1: Data<Elem = f64>,
    S2: Data<Elem = f64>,
{
    within_budget("samples", a.len(), a.len())?;
    let (a, b) = same_length(a, b)?;
    let n = a.len();
    Ok((0..n).map(|k| (0..n).map(|m| a[m] * b[(k + n - m) % n]).sum()).collect())
}

/// Circular convolution through the convolution theorem, `IFFT(FFT(a) . FFT(b))`: `O(N log N)`.
///
/// # Errors
/// As [`circular_convolve`], without its `N^2` budget: at most
/// [`MAX_SAMPLES`](crate::MAX_SAMPLES) samples.
///
/// # Examples
/// ```
/// use fourier::ndarray::array;
/// let c = fourier::circular_convolve_fft(&array![1.0, 2.0, 3.0], &array![0.0, 1.0, 0.0])?;
/// // Convolving with a shifted impulse rotates the signal.
/// for (got, want) in c.iter().zip([3.0, 1.0, 2.0]) {
///     assert!((got - want).abs() < 1e-12);
/// }
/// # Ok::<(), fourier::FourierError>(())
/// ```
pub fn circular_convolve_fft<S1, S2>(
    a: &ArrayBase<S1, Ix1>,
    b: &ArrayBase<S2, Ix1>,
) -> Result<Array1<f64>, FourierError>
where
    S1: Data<Elem = f64>,
    S2: Data<Elem = f64>,
{
    let (a, b) = same_length(a, b)?;
    Ok(convolve_spectra(&a, &b, a.len()))
}

/// Linear convolution (length `N + M - 1`) by zero-padding both operands to that length and
/// convolving circularly: the padding leaves room for every product, so nothing wraps around.
///
/// # Errors
/// [`FourierError::LengthMismatch`] if either operand is empty; [`FourierError::NotFinite`];
/// [`FourierError::TooLarge`] for an operand over [`MAX_SAMPLES`](crate::MAX_SAMPLES).
pub fn linear_convolve_fft<S1, S2>(
    a: &ArrayBase<S1, Ix1>,
    b: &ArrayBase<S2, Ix1>,
) -> Result<Array1<f64>, FourierError>
where
    S1: Data<Elem = f64>,
    S2: Data<Elem = f64>,
{
    if a.is_empty() || b.is_empty() {
        return Err(FourierError::LengthMismatch { left: a.len(), right: b.len() });
    }
    let (a, b) = (finite_samples(a)?, finite_samples(b)?);
    Ok(convolve_spectra(&a, &b, a.len() + b.len() - 1))
}

/// `IFFT(FFT(a) . FFT(b))` with both zero-padded to `len`.
fn convolve_spectra(a: &[f64], b: &[f64], len: usize) -> Array1<f64> {
    let mut planner = FftPlanner::new();
    let forward = planner.plan_fft_forward(len);
    let inverse = planner.plan_fft_inverse(len);
    let spectrum = |x: &[f64]| {
        let mut buffer: Vec<Complex<f64>> = x.iter().map(|&v| Complex::new(v, 0.0)).collect();
        buffer.resize(len, Complex::default());
        forward.process(&mut buffer);
        buffer
    };
    let mut product: Vec<Complex<f64>> = spectrum(a).iter().zip(spectrum(b)).map(|(x, y)| x * y).collect();
    inverse.process(&mut product);
    product.iter().map(|c| c.re / len as f64).collect()
}
