//! Deconvolution, the inverse of convolution: exact polynomial division, and regularised
//! (Wiener-style) division of spectra for long, noisy signals.

use ndarray::{Array1, Array2, ArrayBase, Data, Ix1, Ix2};
use rustfft::num_complex::Complex;
use rustfft::{FftDirection, FftPlanner};

use crate::error::{ConvError, Operand};
use crate::next_fast_len;
use crate::num::ConvNum;
use crate::{Mode, convolve};

/// Polynomial division with `scipy.signal.deconvolve`'s semantics: returns `(quotient,
/// remainder)` with `signal = convolve(divisor, quotient) + remainder`, the quotient of length
/// `len(signal) - len(divisor) + 1` (empty, with the whole signal as remainder, when the divisor
/// is longer), the remainder of the signal's length.
///
/// # Errors
/// [`ConvError::Empty`] for an empty operand; [`ConvError::InvalidParameter`] (naming
/// `divisor[0]`) when the divisor's leading coefficient is zero or not finite, where scipy
/// would divide by zero; [`ConvError::TooLarge`] for a signal (a broadcast view, say) over
/// [`DEFAULT_MAX_BUFFER_BYTES`](crate::DEFAULT_MAX_BUFFER_BYTES), before anything is copied.
///
/// # Examples
/// `(1 + 2t)(3 + 4t + 5t^2) = 3 + 10t + 13t^2 + 10t^3`, divided back:
/// ```
/// use conv_core::deconvolve;
/// use ndarray::array;
/// let (quotient, remainder) = deconvolve(&array![3.0_f64, 10.0, 13.0, 10.0], &array![1.0, 2.0])?;
/// assert_eq!(quotient, array![3.0, 4.0, 5.0]);
/// assert!(remainder.iter().all(|r| r.abs() < 1e-12));
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn deconvolve<T, S1, S2>(
    signal: &ArrayBase<S1, Ix1>,
    divisor: &ArrayBase<S2, Ix1>,
) -> Result<(Array1<T>, Array1<T>), ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    if signal.is_empty() {
        return Err(ConvError::Empty { operand: Operand::Input, shape: vec![0] });
    }
    if divisor.is_empty() {
        return Err(ConvError::Empty { operand: Operand::Kernel, shape: vec![0] });
    }
    let lead = divisor[0];
    if lead == T::zero() || !lead.is_finite() {
        return Err(ConvError::InvalidParameter {
            name: "divisor[0]",
            value: lead.to_f64_lossy(),
            reason: "the divisor's leading coefficient must be finite and non-zero (it divides every step)",
        });
    }
    let (n, d) = (signal.len(), divisor.len());
    // The remainder is a copy of the signal: refuse a view too large to copy before copying it.
    crate::geometry::check_bytes(
        n,
        size_of::<T>(),
        crate::DEFAULT_MAX_BUFFER_BYTES,
        "deconvolution remainder",
    )?;
    if d > n {
        return Ok((Array1::zeros(0), signal.to_owned()));
    }
    // Long division, highest power of t^-1 first (coefficients are in increasing powers of t,
    // as in scipy, which divides starting from the first coefficient).
    let mut rest: Vec<T> = signal.to_vec();
    let mut quotient = Array1::zeros(n - d + 1);
    for i in 0..=n - d {
        let q = rest[i] / lead;
        quotient[i] = q;
        for (r, &c) in rest[i..i + d].iter_mut().zip(divisor) {
            *r = *r - q * c;
        }
    }
    // As scipy: the remainder is what the quotient does not explain.
    let explained = convolve(divisor, &quotient, Mode::Full)?;
    let remainder = Array1::from_iter(signal.iter().zip(&explained).map(|(&s, &e)| s - e));
    Ok((quotient, remainder))
}

/// Regularised deconvolution of a 1-D signal through its spectrum:
/// `X = Y conj(K) / (|K|^2 + lambda)`, where `Y` is the spectrum of `observed` (a full
/// convolution of the unknown with `kernel`, perhaps noisy) and `K` the kernel's.
///
/// Returns the estimate of the unknown, of length `len(observed) - len(kernel) + 1`. With
/// `lambda = 0` and noiseless data this inverts the convolution exactly (to rounding) wherever
/// `K` has no zeros; a positive `lambda` (in units of `|K|^2`, so relative to the kernel's energy
/// per frequency) damps the frequencies the kernel nearly erases, where noise would otherwise be
/// amplified without bound. The error of the estimate then grows about linearly with the noise,
/// and `lambda` trades noise amplification against blurring.
///
/// # Errors
/// [`ConvError::Empty`] for empty operands, [`ConvError::ValidModeShapes`] when the kernel is
/// longer than `observed`, [`ConvError::InvalidParameter`] for a negative or non-finite
/// `lambda`, [`ConvError::NonFinite`] for non-finite data, [`ConvError::TooLarge`] when the spectra would exceed
/// [`DEFAULT_MAX_BUFFER_BYTES`](crate::DEFAULT_MAX_BUFFER_BYTES).
pub fn wiener_deconvolve<T, S1, S2>(
    observed: &ArrayBase<S1, Ix1>,
    kernel: &ArrayBase<S2, Ix1>,
    lambda: f64,
) -> Result<Array1<T>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    let rows = observed.view().insert_axis(ndarray::Axis(0));
    let kernel_rows = kernel.view().insert_axis(ndarray::Axis(0));
    // Errors name the caller's 1-D shapes, not the one-row images solved here.
    let estimate = wiener_deconvolve2d(&rows, &kernel_rows, lambda).map_err(|error| match error {
        ConvError::Empty { operand, .. } => {
            let len = if operand == Operand::Input { observed.len() } else { kernel.len() };
            ConvError::Empty { operand, shape: vec![len] }
        }
        ConvError::ValidModeShapes { .. } => {
            ConvError::ValidModeShapes { input: vec![observed.len()], kernel: vec![kernel.len()] }
        }
        other => other,
    })?;
    Ok(estimate.row(0).to_owned())
}

/// [`wiener_deconvolve`] for images: `observed` is the full 2-D convolution of the unknown image
/// with `kernel`; the estimate has shape `observed - kernel + 1` on each axis.
///
/// # Errors
/// As [`wiener_deconvolve`].
pub fn wiener_deconvolve2d<T, S1, S2>(
    observed: &ArrayBase<S1, Ix2>,
    kernel: &ArrayBase<S2, Ix2>,
    lambda: f64,
) -> Result<Array2<T>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    let (oh, ow) = observed.dim();
    let (kh, kw) = kernel.dim();
    if oh * ow == 0 {
        return Err(ConvError::Empty { operand: Operand::Input, shape: vec![oh, ow] });
    }
    if kh * kw == 0 {
        return Err(ConvError::Empty { operand: Operand::Kernel, shape: vec![kh, kw] });
    }
    if kh > oh || kw > ow {
        return Err(ConvError::ValidModeShapes { input: vec![oh, ow], kernel: vec![kh, kw] });
    }
    if !(lambda.is_finite() && lambda >= 0.0) {
        return Err(ConvError::InvalidParameter {
            name: "lambda",
            value: lambda,
            reason: "the regularisation weight must be finite and at least 0",
        });
    }
    // The observed signal is a linear convolution of length n + k - 1; a circular transform of
    // at least that size holds it without wrap-around.
    let (lh, lw) = (next_fast_len(oh), next_fast_len(ow));
    // Two spectra and a transpose buffer of the grid: refuse what would exhaust memory.
    let grid = crate::geometry::checked_product([lh, lw, 3], "deconvolution spectra")?;
    crate::geometry::check_bytes(
        grid,
        size_of::<Complex<T>>(),
        crate::DEFAULT_MAX_BUFFER_BYTES,
        "deconvolution spectra",
    )?;
    // Only now scan the values: the size check above is arithmetic, the scan reads every value.
    for (operand, values) in [(Operand::Input, observed.iter()), (Operand::Kernel, kernel.iter())] {
        for (index, v) in values.enumerate() {
            if !v.is_finite() {
                return Err(ConvError::NonFinite { operand, index, value: v.to_f64_lossy() });
            }
        }
    }
    let y = spectrum(observed, lh, lw);
    let k = spectrum(kernel, lh, lw);
    let lambda = T::from_f64_lossy(lambda);
    let mut x: Vec<Complex<T>> = y
        .iter()
        .zip(&k)
        .map(|(&y, &k)| {
            let power = k.norm_sqr() + lambda;
            if power == T::zero() { Complex::default() } else { y * k.conj() / power }
        })
        .collect();
    fft2d(&mut x, lh, lw, FftDirection::Inverse);
    let scale = T::one() / T::from_f64_lossy((lh * lw) as f64);
    let (eh, ew) = (oh - kh + 1, ow - kw + 1);
    Ok(Array2::from_shape_fn((eh, ew), |(r, c)| x[r * lw + c].re * scale))
}

/// 2-D complex spectrum of `values` zero-padded to `lh x lw` (row-major).
fn spectrum<T: ConvNum, S: Data<Elem = T>>(
    values: &ArrayBase<S, Ix2>,
    lh: usize,
    lw: usize,
) -> Vec<Complex<T>> {
    let mut grid = vec![Complex::default(); lh * lw];
    for ((r, c), &v) in values.indexed_iter() {
        grid[r * lw + c] = Complex::new(v, T::zero());
    }
    fft2d(&mut grid, lh, lw, FftDirection::Forward);
    grid
}

/// In-place 2-D FFT of a row-major `lh x lw` grid (unnormalised): rows, then columns through a
/// transpose.
fn fft2d<T: ConvNum>(grid: &mut [Complex<T>], lh: usize, lw: usize, direction: FftDirection) {
    let mut planner = FftPlanner::<T>::new();
    planner.plan_fft(lw, direction).process(grid);
    if lh == 1 {
        return;
    }
    let mut columns = vec![Complex::default(); lh * lw];
    for r in 0..lh {
        for c in 0..lw {
            columns[c * lh + r] = grid[r * lw + c];
        }
    }
    planner.plan_fft(lh, direction).process(&mut columns);
    for r in 0..lh {
        for c in 0..lw {
            grid[r * lw + c] = columns[c * lh + r];
        }
    }
}
