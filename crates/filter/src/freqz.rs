//! The frequency response of a digital filter (`scipy.signal.freqz` and `sosfreqz`).

use std::f64::consts::PI;

use num_complex::Complex64;
use rustfft::FftPlanner;

use crate::error::{FilterError, check_alloc, check_coefficients};
use crate::sos::{Section, check_sections};

/// A frequency response: `frequencies[i]` in radians per sample (pi is the Nyquist frequency)
/// and the complex gain `response[i]` there.
#[derive(Debug, Clone, PartialEq)]
pub struct FrequencyResponse {
    /// Angular frequencies, radians per sample.
    pub frequencies: Vec<f64>,
    /// `H(e^{i w})` at each frequency.
    pub response: Vec<Complex64>,
}

impl FrequencyResponse {
    /// The gain in decibels, `20 log10 |H|` (minus infinity at an exact zero).
    #[must_use]
    pub fn gain_db(&self) -> Vec<f64> {
        self.response.iter().map(|h| 20.0 * h.norm().log10()).collect()
    }
}

/// `H(e^{iw}) = (sum_k b[k] e^{-iwk}) / (sum_k a[k] e^{-iwk})` at `points` frequencies evenly
/// spaced over [0, pi) (`whole = false`) or [0, 2 pi) (`whole = true`), like
/// `scipy.signal.freqz(b, a, worN=points, whole=whole)`. Both polynomials are evaluated by
/// one FFT of the zero-padded coefficients when they fit in it (as scipy does), else term by term.
///
/// # Errors
/// [`FilterError::Empty`] / [`FilterError::NotFinite`] for bad coefficients,
/// [`FilterError::LeadingDenominatorZero`] is not raised (only `H` matters here, a zero `a` is
/// allowed and gives infinities), [`FilterError::Parameter`] for zero points,
/// [`FilterError::TooLarge`] for sizes over the cap.
///
/// # Examples
/// ```
/// use filter::freqz;
/// // The two-tap average passes zero frequency and stops the Nyquist frequency.
/// let h = freqz(&[0.5, 0.5], &[1.0], 4, true)?;
/// assert!((h.response[0].re - 1.0).abs() < 1e-15);
/// assert!(h.response[2].norm() < 1e-15);
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn freqz(b: &[f64], a: &[f64], points: usize, whole: bool) -> Result<FrequencyResponse, FilterError> {
    check_coefficients("b", b)?;
    check_coefficients("a", a)?;
    let frequencies = frequency_grid(points, whole)?;
    let numerator = polynomial_on_circle(b, points, whole)?;
    let denominator = polynomial_on_circle(a, points, whole)?;
    let response = numerator.iter().zip(&denominator).map(|(n, d)| n / d).collect();
    Ok(FrequencyResponse { frequencies, response })
}

/// The response of second-order sections, the product of theirs
/// (`scipy.signal.sosfreqz(sos, worN=points, whole=whole)`).
///
/// # Errors
/// As [`freqz`], plus the sections' checks ([`FilterError::SectionNotNormalised`]).
pub fn sosfreqz(sos: &[Section<f64>], points: usize, whole: bool) -> Result<FrequencyResponse, FilterError> {
    check_sections(sos)?;
    let frequencies = frequency_grid(points, whole)?;
    let mut response = vec![Complex64::new(1.0, 0.0); points];
    for section in sos {
        let numerator = polynomial_on_circle(&section[..3], points, whole)?;
        let denominator = polynomial_on_circle(&section[3..], points, whole)?;
        for ((total, n), d) in response.iter_mut().zip(&numerator).zip(&denominator) {
            *total *= n / d;
        }
    }
    Ok(FrequencyResponse { frequencies, response })
}

fn frequency_grid(points: usize, whole: bool) -> Result<Vec<f64>, FilterError> {
    if points == 0 {
        return Err(FilterError::Parameter { name: "points", value: 0.0, expected: ">= 1" });
    }
    // The grid, both transforms (2 points complex each) and the response: 16 values a point.
    check_alloc("the frequency response", points.checked_mul(16))?;
    let span = if whole { 2.0 * PI } else { PI };
    Ok((0..points).map(|i| span * i as f64 / points as f64).collect())
}

/// `sum_k c[k] e^{-i w_j k}` on the grid: the first `points` bins of a DFT of length
/// `points` (whole circle) or `2 points` (upper half), when the coefficients fit.
fn polynomial_on_circle(c: &[f64], points: usize, whole: bool) -> Result<Vec<Complex64>, FilterError> {
    let dft_len = if whole { points } else { 2 * points };
    if c.len() <= dft_len {
        let mut buffer: Vec<Complex64> = c.iter().map(|&v| Complex64::new(v, 0.0)).collect();
        buffer.resize(dft_len, Complex64::new(0.0, 0.0));
        FftPlanner::new().plan_fft_forward(dft_len).process(&mut buffer);
        buffer.truncate(points);
        return Ok(buffer);
    }
    let span = if whole { 2.0 * PI } else { PI };
    Ok((0..points)
        .map(|j| {
            let w = span * j as f64 / points as f64;
            // Horner in z^-1 = e^{-iw}, from the highest power down.
            let z_inv = Complex64::from_polar(1.0, -w);
            c.iter().rev().fold(Complex64::new(0.0, 0.0), |acc, &v| acc * z_inv + v)
        })
        .collect())
}
