//! Fourier series `F(t) = f0/2 + sum_{n=1}^{N} f_n cos(n w t) + g_n sin(n w t)`, `w = 2 pi / tau`.

use std::f64::consts::{PI, TAU};

use ndarray::{Array, Array1, ArrayBase, ArrayView1, Data, Dimension, Ix1};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

use crate::error::{FourierError, MAX_TERMS, at_most, finite, positive, unit_fraction, within_budget};
use crate::quadrature::{MAX_EVALUATIONS, integrate};

/// A truncated Fourier series of period `tau`.
///
/// # Examples
/// The square wave's series, summed at a point where the wave is +1:
/// ```
/// use fourier::FourierSeries;
/// let series = FourierSeries::square_wave(0.5, 500)?;
/// let value = series.value_at(std::f64::consts::FRAC_PI_2);
/// assert!((value - 1.0).abs() < 2e-3);
/// assert_eq!(series.mean(), 0.0); // duty 1/2: as much +1 as -1
/// # Ok::<(), fourier::FourierError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FourierSeries {
    period: f64,
    f0: f64,
    cos: Vec<f64>,
    sin: Vec<f64>,
}

impl FourierSeries {
    /// A series from its coefficients: `f0` (the mean is `f0 / 2`), `f_1..f_N` and `g_1..g_N`
    /// (arrays or vectors).
    ///
    /// # Errors
    /// [`FourierError::NotPositive`] for the period, [`FourierError::LengthMismatch`] if the
    /// cosine and sine lists differ in length, [`FourierError::NotFinite`] for a non-finite
    /// coefficient.
    ///
    /// # Examples
    /// ```
    /// use fourier::{ndarray::array, FourierSeries};
    /// // 1 + cos(t) - 2 sin(2t), period 2 pi.
    /// let series = FourierSeries::new(std::f64::consts::TAU, 2.0, array![1.0, 0.0], array![0.0, -2.0])?;
    /// assert_eq!(series.mean(), 1.0);
    /// assert!((series.value_at(0.0) - 2.0).abs() < 1e-15);
    /// # Ok::<(), fourier::FourierError>(())
    /// ```
    pub fn new(
        period: f64,
        f0: f64,
        cos: impl Into<Array1<f64>>,
        sin: impl Into<Array1<f64>>,
    ) -> Result<Self, FourierError> {
        let (cos, sin): (Array1<f64>, Array1<f64>) = (cos.into(), sin.into());
        positive("period", period)?;
        if cos.len() != sin.len() {
            return Err(FourierError::LengthMismatch { left: cos.len(), right: sin.len() });
        }
        finite("f0", f0)?;
        for &c in cos.iter().chain(&sin) {
            finite("coefficient", c)?;
        }
        Ok(FourierSeries { period, f0, cos: cos.to_vec(), sin: sin.to_vec() })
    }

    /// The series of `scipy.signal.square(t, duty)` (period `2 pi`, values +-1) with `terms`
    /// harmonics: `f0/2 = 2 duty - 1`, `f_n = 2 sin(2 pi n duty) / (pi n)`,
    /// `g_n = 2 (1 - cos(2 pi n duty)) / (pi n)`. For duty 1/2 this is `(4/pi) sum_{odd n} sin(n t) / n`.
    ///
    /// # Errors
    /// [`FourierError::OutOfUnitInterval`] for `duty`, [`FourierError::ZeroTerms`] for `terms == 0`,
    /// [`FourierError::TooLarge`] for more than [`MAX_TERMS`](crate::MAX_TERMS).
    pub fn square_wave(duty: f64, terms: usize) -> Result<Self, FourierError> {
        unit_fraction("duty", duty)?;
        if terms == 0 {
            return Err(FourierError::ZeroTerms { what: "a square-wave series" });
        }
        at_most("harmonics", terms, MAX_TERMS)?;
        let angle = |n: usize| TAU * n as f64 * duty;
        let cos: Vec<f64> = (1..=terms).map(|n| 2.0 * angle(n).sin() / (PI * n as f64)).collect();
        let sin: Vec<f64> = (1..=terms).map(|n| 2.0 * (1.0 - angle(n).cos()) / (PI * n as f64)).collect();
        FourierSeries::new(TAU, 2.0 * (2.0 * duty - 1.0), cos, sin)
    }

    /// Coefficients of a periodic function by adaptive quadrature over one period:
    /// `f_n = (2/tau) int_0^tau F(t) cos(n w t) dt`, and likewise `g_n` with sine.
    ///
    /// Each integral is computed by adaptive Simpson quadrature to an absolute error of about
    /// `tolerance * tau` for piecewise-smooth `F` (jumps are located by the refinement, so
    /// discontinuous waves converge too); `1e-10` is a good default.
    ///
    /// # Errors
    /// [`FourierError::NotPositive`] for the period or tolerance, [`FourierError::ZeroTerms`],
    /// [`FourierError::NotFinite`] if `F` returns NaN, [`FourierError::NoConvergence`] if the
    /// quadrature cannot reach the tolerance within its budget of 10^8 evaluations of `F` (for
    /// all the coefficients together), [`FourierError::TooLarge`] for more than
    /// [`MAX_TERMS`](crate::MAX_TERMS) harmonics.
    pub fn from_fn(
        function: impl Fn(f64) -> f64,
        period: f64,
        terms: usize,
        tolerance: f64,
    ) -> Result<Self, FourierError> {
        positive("period", period)?;
        positive("tolerance", tolerance)?;
        if terms == 0 {
            return Err(FourierError::ZeroTerms { what: "a series from a function" });
        }
        at_most("harmonics", terms, MAX_TERMS)?;
        let w = TAU / period;
        let scale = 2.0 / period;
        // Eight panels per oscillation of the highest harmonic (see `integrate`).
        let panels = 8 * (terms + 1);
        let mut budget = MAX_EVALUATIONS;
        let f0 = scale * integrate(&function, (0.0, period), panels, tolerance, &mut budget)?;
        let mut cos = Vec::with_capacity(terms);
        let mut sin = Vec::with_capacity(terms);
        for n in 1..=terms {
            let k = n as f64 * w;
            let (cos_n, sin_n) = (|t: f64| function(t) * (k * t).cos(), |t: f64| function(t) * (k * t).sin());
            cos.push(scale * integrate(cos_n, (0.0, period), panels, tolerance, &mut budget)?);
            sin.push(scale * integrate(sin_n, (0.0, period), panels, tolerance, &mut budget)?);
        }
        FourierSeries::new(period, f0, cos, sin)
    }

    /// Coefficients from `N` uniform samples `F(j tau / N)`, `j = 0..N`, of one period, through
    /// an FFT: with `c_n = (1/N) sum_j x_j exp(-2 pi i j n / N)`, `f_n = 2 Re c_n` and
    /// `g_n = -2 Im c_n`. Exact for a series with fewer than `N/2` harmonics; otherwise the
    /// harmonics above `N/2` alias onto the lower ones.
    ///
    /// # Errors
    /// [`FourierError::TooFewSamples`] unless `terms <= (N - 1) / 2`, [`FourierError::ZeroTerms`],
    /// [`FourierError::NotFinite`] for a non-finite sample.
    ///
    /// # Examples
    /// ```
    /// use fourier::{ndarray::Array1, FourierSeries};
    /// // 3 sin(2t) sampled 16 times over one period of 2 pi.
    /// let t = Array1::from_shape_fn(16, |j| j as f64 * std::f64::consts::TAU / 16.0);
    /// let series = FourierSeries::from_samples(&t.mapv(|t| 3.0 * (2.0 * t).sin()), std::f64::consts::TAU, 4)?;
    /// assert!((series.sin_coefficients()[1] - 3.0).abs() < 1e-12);
    /// # Ok::<(), fourier::FourierError>(())
    /// ```
    pub fn from_samples<S: Data<Elem = f64>>(
        samples: &ArrayBase<S, Ix1>,
        period: f64,
        terms: usize,
    ) -> Result<Self, FourierError> {
        positive("period", period)?;
        if terms == 0 {
            return Err(FourierError::ZeroTerms { what: "a series from samples" });
        }
        within_budget("samples", samples.len(), 1)?;
        let max_terms = samples.len().saturating_sub(1) / 2;
        if terms > max_terms {
            return Err(FourierError::TooFewSamples { samples: samples.len(), terms, max_terms });
        }
        for &x in samples.iter() {
            finite("sample", x)?;
        }
        let n = samples.len();
        let mut buffer: Vec<Complex<f64>> = samples.iter().map(|&x| Complex::new(x, 0.0)).collect();
        FftPlanner::new().plan_fft_forward(n).process(&mut buffer);
        let scale = 2.0 / n as f64;
        let cos: Vec<f64> = buffer[1..=terms].iter().map(|c| scale * c.re).collect();
        let sin: Vec<f64> = buffer[1..=terms].iter().map(|c| -scale * c.im).collect();
        FourierSeries::new(period, scale * buffer[0].re, cos, sin)
    }

    /// The period `tau`.
    pub fn period(&self) -> f64 {
        self.period
    }

    /// The angular frequency `w = 2 pi / tau`.
    pub fn angular_frequency(&self) -> f64 {
        TAU / self.period
    }

    /// Number of harmonics `N`.
    pub fn terms(&self) -> usize {
        self.cos.len()
    }

    /// The coefficient `f0` of the convention `F(t) = f0/2 + ...` (twice the mean; see
    /// [`mean`](FourierSeries::mean)).
    pub fn f0(&self) -> f64 {
        self.f0
    }

    /// The series' mean over a period, `f0 / 2`.
    pub fn mean(&self) -> f64 {
        self.f0 / 2.0
    }

    /// `f_1, ..., f_N`, the cosine coefficients.
    pub fn cos_coefficients(&self) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.cos)
    }

    /// `g_1, ..., g_N`, the sine coefficients.
    pub fn sin_coefficients(&self) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.sin)
    }

    /// The first `terms` harmonics of this series (all of them if `terms` is larger).
    pub fn truncated(&self, terms: usize) -> FourierSeries {
        let keep = terms.min(self.terms());
        FourierSeries { cos: self.cos[..keep].to_vec(), sin: self.sin[..keep].to_vec(), ..self.clone() }
    }

    /// The partial sum at `t` (see [`values`](FourierSeries::values) for many times at once).
    ///
    /// The harmonics `cos(n w t)`, `sin(n w t)` come from one `sin_cos` and a rotation recurrence,
    /// so a sum of `N` terms costs `N` complex multiplications, not `2N` trigonometric calls.
    pub fn value_at(&self, t: f64) -> f64 {
        let (s1, c1) = (self.angular_frequency() * t).sin_cos();
        let (mut c, mut s) = (c1, s1);
        let mut total = self.f0 / 2.0;
        for (n, (f, g)) in self.cos.iter().zip(&self.sin).enumerate() {
            total += f * c + g * s;
            // Re-anchor every 64 terms so rounding in the recurrence cannot build up.
            let next = n + 2;
            (c, s) = if next % 64 == 0 {
                let (s_exact, c_exact) = (self.angular_frequency() * t * next as f64).sin_cos();
                (c_exact, s_exact)
            } else {
                (c * c1 - s * s1, s * c1 + c * s1)
            };
        }
        total
    }

    /// The partial sum at every time in `times`, in `times`' shape.
    ///
    /// # Errors
    /// [`FourierError::TooLarge`] for more than [`MAX_SAMPLES`](crate::MAX_SAMPLES) times (a
    /// broadcast view, say), or more than [`MAX_OPERATIONS`](crate::MAX_OPERATIONS) harmonics
    /// times times.
    ///
    /// # Examples
    /// ```
    /// use fourier::{ndarray::Array1, FourierSeries};
    /// let series = FourierSeries::square_wave(0.5, 99)?;
    /// let t = Array1::linspace(0.0, std::f64::consts::TAU, 400);
    /// let partial_sum = series.values(&t)?;
    /// assert_eq!(partial_sum.len(), 400);
    /// assert!((partial_sum[100] - 1.0).abs() < 0.05); // t = 1.57..., inside the +1 half
    /// # Ok::<(), fourier::FourierError>(())
    /// ```
    pub fn values<S: Data<Elem = f64>, D: Dimension>(
        &self,
        times: &ArrayBase<S, D>,
    ) -> Result<Array<f64, D>, FourierError> {
        within_budget("times", times.len(), self.terms() + 1)?;
        Ok(times.mapv(|t| self.value_at(t)))
    }

    /// The series with Lanczos sigma factors applied: harmonic `n` of `N` is multiplied by
    /// `sinc(n / (N + 1)) = sin(pi n / (N + 1)) / (pi n / (N + 1))`. This averages the partial sum
    /// over one period of its highest harmonic, which damps the Gibbs overshoot from about 9% of
    /// the jump to about 1.2%.
    pub fn with_sigma_factors(&self) -> FourierSeries {
        let m = (self.terms() + 1) as f64;
        let sigma = |n: usize| {
            let x = PI * n as f64 / m;
            x.sin() / x
        };
        let cos = self.cos.iter().enumerate().map(|(i, c)| c * sigma(i + 1)).collect();
        let sin = self.sin.iter().enumerate().map(|(i, s)| s * sigma(i + 1)).collect();
        FourierSeries { cos, sin, ..self.clone() }
    }

    /// Amplitudes `R_n = sqrt(f_n^2 + g_n^2)` and phases `phi_n` of the harmonics, so that
    /// `f_n cos(n w t) + g_n sin(n w t) = R_n cos(n w t - phi_n)`.
    pub fn amplitudes_and_phases(&self) -> (Array1<f64>, Array1<f64>) {
        let amplitudes = self.cos.iter().zip(&self.sin).map(|(f, g)| f.hypot(*g)).collect();
        let phases = self.cos.iter().zip(&self.sin).map(|(f, g)| g.atan2(*f)).collect();
        (amplitudes, phases)
    }
}

/// The largest overshoot of a partial sum past the top of a jump, as a fraction of the jump.
///
/// Scans `samples` points of `(from, to)` for the maximum of `series` and compares it with
/// `top`, the value the function approaches just after the jump: `(max - top) / jump`.
/// For the square wave the limit as `N` grows is the Wilbraham-Gibbs constant,
/// `Si(pi) / pi - 1/2 = 0.08949...`.
///
/// # Errors
/// [`FourierError::NotPositive`] for a zero jump or `samples == 0`, [`FourierError::NotFinite`]
/// for non-finite bounds.
pub fn gibbs_overshoot(
    series: &FourierSeries,
    (from, to): (f64, f64),
    top: f64,
    jump: f64,
    samples: usize,
) -> Result<f64, FourierError> {
    finite("from", from)?;
    finite("to", to)?;
    positive("jump", jump.abs())?;
    positive("samples", samples as f64)?;
    within_budget("samples", samples.saturating_add(1), series.terms() + 1)?;
    let step = (to - from) / samples as f64;
    let peak =
        (0..=samples).map(|i| series.value_at(from + step * i as f64)).fold(f64::NEG_INFINITY, f64::max);
    Ok((peak - top) / jump.abs())
}
