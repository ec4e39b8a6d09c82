//! Periodic test signals: scipy's square wave, the pulse train, and a band-limited square wave.

use std::f64::consts::TAU;

use ndarray::{Array, ArrayBase, Data, Dimension};

use crate::error::{FourierError, finite, positive, unit_fraction};
use crate::series::FourierSeries;

/// The square wave of `scipy.signal.square(t, duty)` at every time in `t`: period `2 pi`, `+1`
/// while `t mod 2 pi < duty * 2 pi`, `-1` after. The result has `t`'s shape.
///
/// # Errors
/// [`FourierError::OutOfUnitInterval`] for `duty` outside `[0, 1]` (scipy returns NaN there),
/// [`FourierError::NotFinite`] for a NaN or infinite time.
///
/// # Examples
/// ```
/// use fourier::square;
/// use fourier::ndarray::{array, Array1};
/// let t = array![0.0, 3.5, -0.1, 1.0];
/// assert_eq!(square(&t, 0.5)?, array![1.0, -1.0, -1.0, 1.0]); // periodic both ways
/// // scipy's own example: a 5 Hz square wave sampled 500 times in one second.
/// let t = Array1::linspace(0.0, 1.0, 500);
/// let wave = square(&t.mapv(|t| 2.0 * std::f64::consts::PI * 5.0 * t), 0.5)?;
/// assert_eq!(wave.len(), 500);
/// # Ok::<(), fourier::FourierError>(())
/// ```
pub fn square<S, D>(t: &ArrayBase<S, D>, duty: f64) -> Result<Array<f64, D>, FourierError>
where
    S: Data<Elem = f64>,
    D: Dimension,
{
    unit_fraction("duty", duty)?;
    crate::error::within_budget("times", t.len(), 1)?;
    check_finite_times(t)?;
    Ok(t.mapv(|t| if t.rem_euclid(TAU) < duty * TAU { 1.0 } else { -1.0 }))
}

/// [`FourierError::NotFinite`] for the first NaN or infinite time in `t`.
pub(crate) fn check_finite_times<S: Data<Elem = f64>, D: Dimension>(
    t: &ArrayBase<S, D>,
) -> Result<(), FourierError> {
    t.iter().try_for_each(|&t| finite("t", t).map(drop))
}

/// A train of rectangular pulses: `height` for the first `width` of every `period`, 0 after.
///
/// This is the square wave shifted and scaled, `height * (1 + square(2 pi t / period, width / period)) / 2`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PulseTrain {
    period: f64,
    width: f64,
    height: f64,
}

impl PulseTrain {
    /// A pulse train of the given period, pulse width and height (the material's example is
    /// `PulseTrain::new(0.2, 0.1, 2.0)`).
    ///
    /// # Errors
    /// [`FourierError::NotPositive`] for a period that is not positive,
    /// [`FourierError::OutOfUnitInterval`] for a width outside `[0, period]`,
    /// [`FourierError::NotFinite`] for a non-finite height.
    pub fn new(period: f64, width: f64, height: f64) -> Result<Self, FourierError> {
        positive("period", period)?;
        finite("width", width)?;
        unit_fraction("width / period", width / period)?;
        finite("height", height)?;
        Ok(PulseTrain { period, width, height })
    }

    /// The period.
    pub fn period(&self) -> f64 {
        self.period
    }

    /// Fraction of each period the pulse is on.
    pub fn duty(&self) -> f64 {
        self.width / self.period
    }

    /// The pulse height.
    pub fn height(&self) -> f64 {
        self.height
    }

    /// The value at time `t`.
    ///
    /// # Errors
    /// [`FourierError::NotFinite`] for a NaN or infinite `t`.
    pub fn value_at(&self, t: f64) -> Result<f64, FourierError> {
        finite("t", t)?;
        Ok(self.on_or_off(t))
    }

    /// The values at every time in `t`, in `t`'s shape.
    ///
    /// # Errors
    /// [`FourierError::NotFinite`] for a NaN or infinite time.
    ///
    /// # Examples
    /// ```
    /// use fourier::{ndarray::array, PulseTrain};
    /// let pulses = PulseTrain::new(0.2, 0.1, 2.0)?;
    /// assert_eq!(pulses.values(&array![0.0, 0.05, 0.15, 0.25])?, array![2.0, 2.0, 0.0, 2.0]);
    /// # Ok::<(), fourier::FourierError>(())
    /// ```
    pub fn values<S, D>(&self, t: &ArrayBase<S, D>) -> Result<Array<f64, D>, FourierError>
    where
        S: Data<Elem = f64>,
        D: Dimension,
    {
        crate::error::within_budget("times", t.len(), 1)?;
        check_finite_times(t)?;
        Ok(t.mapv(|t| self.on_or_off(t)))
    }

    fn on_or_off(&self, t: f64) -> f64 {
        if t.rem_euclid(self.period) < self.width { self.height } else { 0.0 }
    }

    /// Its Fourier series with `terms` harmonics, from the analytic coefficients
    /// `f0 / 2 = F d`, `f_n = F sin(2 pi n d) / (pi n)`, `g_n = F (1 - cos(2 pi n d)) / (pi n)`.
    ///
    /// # Errors
    /// [`FourierError::ZeroTerms`].
    pub fn series(&self, terms: usize) -> Result<FourierSeries, FourierError> {
        let square = FourierSeries::square_wave(self.duty(), terms)?;
        // height * (1 + square) / 2, with the period rescaled from 2 pi.
        let half = self.height / 2.0;
        FourierSeries::new(
            self.period,
            half * (2.0 + square.f0()),
            square.cos_coefficients().mapv(|c| half * c),
            square.sin_coefficients().mapv(|c| half * c),
        )
    }
}

/// A square wave (duty 1/2, values +-1) of frequency `frequency`, synthesised from its Fourier
/// series with only the harmonics below `nyquist` (half the sampling rate), so sampling it does
/// not alias. The series' ringing (Gibbs) remains; apply [`FourierSeries::with_sigma_factors`]
/// to the series for a smoother edge.
///
/// # Errors
/// [`FourierError::NotPositive`] for a non-positive frequency or Nyquist frequency, and
/// [`FourierError::ZeroTerms`] when even the fundamental is above the Nyquist frequency.
///
/// # Examples
/// ```
/// // 1 kHz square wave sampled at 8 kHz: harmonics 1 and 3 only (5 kHz is above 4 kHz).
/// let series = fourier::band_limited_square(1000.0, 4000.0)?;
/// assert_eq!(series.terms(), 3);
/// # Ok::<(), fourier::FourierError>(())
/// ```
pub fn band_limited_square(frequency: f64, nyquist: f64) -> Result<FourierSeries, FourierError> {
    positive("frequency", frequency)?;
    positive("nyquist frequency", nyquist)?;
    let ratio = nyquist / frequency;
    // Harmonics strictly below the Nyquist frequency.
    // Saturating: a ratio that underflows to 0 (found by the fuzz target: a 1e64 Hz wave under a
    // 1e-294 Hz Nyquist frequency) has no harmonic below the Nyquist frequency.
    let terms =
        if ratio.fract() == 0.0 { (ratio as usize).saturating_sub(1) } else { ratio.floor() as usize };
    if terms == 0 {
        return Err(FourierError::ZeroTerms {
            what: "a band-limited square wave below its Nyquist frequency",
        });
    }
    let square = FourierSeries::square_wave(0.5, terms)?; // refuses more than MAX_TERMS harmonics
    FourierSeries::new(
        1.0 / frequency,
        square.f0(),
        square.cos_coefficients().to_owned(),
        square.sin_coefficients().to_owned(),
    )
}
