//! Periodic test signals: scipy's square wave, the pulse train, and a band-limited square wave.

use std::f64::consts::TAU;

use crate::error::{FourierError, finite, positive, unit_fraction};
use crate::series::FourierSeries;

/// The square wave of `scipy.signal.square(t, duty)`: period `2 pi`, `+1` while
/// `t mod 2 pi < duty * 2 pi`, `-1` after.
///
/// # Errors
/// [`FourierError::OutOfUnitInterval`] for `duty` outside `[0, 1]` (scipy returns NaN there),
/// [`FourierError::NotFinite`] for a NaN or infinite `t`.
///
/// # Examples
/// ```
/// use fourier::square;
/// assert_eq!(square(0.0, 0.5)?, 1.0);
/// assert_eq!(square(3.5, 0.5)?, -1.0);      // past pi
/// assert_eq!(square(-0.1, 0.5)?, -1.0);     // the wave is periodic in both directions
/// assert_eq!(square(1.0, 0.25)?, 1.0);      // 1 < pi/2
/// # Ok::<(), fourier::FourierError>(())
/// ```
pub fn square(t: f64, duty: f64) -> Result<f64, FourierError> {
    unit_fraction("duty", duty)?;
    finite("t", t)?;
    Ok(if t.rem_euclid(TAU) < duty * TAU { 1.0 } else { -1.0 })
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
    pub fn value(&self, t: f64) -> Result<f64, FourierError> {
        finite("t", t)?;
        Ok(if t.rem_euclid(self.period) < self.width { self.height } else { 0.0 })
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
            half * (2.0 + square.mean_coefficient()),
            square.cos_coefficients().iter().map(|c| half * c).collect(),
            square.sin_coefficients().iter().map(|c| half * c).collect(),
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
    let terms = if ratio.fract() == 0.0 { ratio as usize - 1 } else { ratio.floor() as usize };
    if terms == 0 {
        return Err(FourierError::ZeroTerms {
            what: "a band-limited square wave below its Nyquist frequency",
        });
    }
    let square = FourierSeries::square_wave(0.5, terms)?;
    FourierSeries::new(
        1.0 / frequency,
        square.mean_coefficient(),
        square.cos_coefficients().to_vec(),
        square.sin_coefficients().to_vec(),
    )
}
