//! FIR design by the window method (`scipy.signal.firwin`) and Kaiser's formulas.

use std::f64::consts::PI;

use crate::band::Band;
use crate::error::{FilterError, check_alloc};
use crate::special::sinc;
use crate::window::{Symmetry, Window};

/// The taps of a linear-phase FIR filter designed by the window method, like
/// `scipy.signal.firwin(numtaps, cutoff, window=window, pass_zero=..., scale=True)`.
///
/// The ideal (brick-wall) response of the band is a sum of sincs; truncated to `numtaps`
/// samples about the centre it rings (the Gibbs phenomenon), and the window tapers it. The
/// taps are then scaled so the response is exactly 1 at the centre of the first passband
/// (0 for a lowpass, the Nyquist frequency for a highpass, the middle of a bandpass).
///
/// # Errors
/// [`FilterError::Parameter`] for zero taps; [`FilterError::Cutoff`] for cutoffs outside
/// (0, 1) or not increasing; [`FilterError::EvenTapsPassNyquist`] for an even number of taps
/// when the band passes the Nyquist frequency (highpass, bandstop); the window's errors.
///
/// # Examples
/// ```
/// use filter::{firwin, Band, Window};
/// let taps = firwin(31, &Band::Lowpass(0.2), &Window::Hamming)?;
/// assert_eq!(taps.len(), 31);
/// let dc_gain: f64 = taps.iter().sum();
/// assert!((dc_gain - 1.0).abs() < 1e-15);
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn firwin(numtaps: usize, band: &Band, window: &Window) -> Result<Vec<f64>, FilterError> {
    firwin_scaled(numtaps, band, window, true)
}

/// [`firwin`] with scipy's `scale` argument: `false` leaves the windowed ideal response as it is.
///
/// # Errors
/// As [`firwin`].
pub fn firwin_scaled(
    numtaps: usize,
    band: &Band,
    window: &Window,
    scale: bool,
) -> Result<Vec<f64>, FilterError> {
    if numtaps == 0 {
        return Err(FilterError::Parameter { name: "numtaps", value: 0.0, expected: ">= 1" });
    }
    // The taps and their window: two buffers.
    check_alloc("the taps and their window", numtaps.checked_mul(2))?;
    let (edges, pass_zero) = band.edges()?;
    let pass_nyquist = (edges.len() % 2 == 0) == pass_zero;
    if pass_nyquist && numtaps.is_multiple_of(2) {
        return Err(FilterError::EvenTapsPassNyquist { taps: numtaps });
    }
    // [0 if it passes zero] edges [1 if it passes Nyquist], read in (left, right) pairs.
    let mut bounds = Vec::with_capacity(edges.len() + 2);
    if pass_zero {
        bounds.push(0.0);
    }
    bounds.extend_from_slice(&edges);
    if pass_nyquist {
        bounds.push(1.0);
    }
    let centre = 0.5 * (numtaps as f64 - 1.0);
    let offset = |n: usize| n as f64 - centre;
    let mut taps = vec![0.0; numtaps];
    for pair in bounds.chunks_exact(2) {
        let (left, right) = (pair[0], pair[1]);
        for (n, tap) in taps.iter_mut().enumerate() {
            let m = offset(n);
            *tap += right * sinc(right * m);
            *tap -= left * sinc(left * m);
        }
    }
    let window = window.samples(numtaps, Symmetry::Symmetric)?;
    for (tap, w) in taps.iter_mut().zip(&window) {
        *tap *= w;
    }
    if scale {
        let (left, right) = (bounds[0], bounds[1]);
        let frequency = if left == 0.0 {
            0.0
        } else if right == 1.0 {
            1.0
        } else {
            0.5 * (left + right)
        };
        let gain: f64 =
            taps.iter().enumerate().map(|(n, tap)| tap * (PI * offset(n) * frequency).cos()).sum();
        for tap in &mut taps {
            *tap /= gain;
        }
    }
    Ok(taps)
}

/// The stopband attenuation in dB of a Kaiser-window FIR filter with `numtaps` taps and a
/// transition `width` (fraction of Nyquist), Kaiser's empirical formula (`scipy.signal.kaiser_atten`).
#[must_use]
pub fn kaiser_atten(numtaps: usize, width: f64) -> f64 {
    2.285 * (numtaps as f64 - 1.0) * PI * width + 7.95
}

/// The Kaiser `beta` that gives a stopband attenuation of `attenuation_db`
/// (`scipy.signal.kaiser_beta`).
#[must_use]
pub fn kaiser_beta(attenuation_db: f64) -> f64 {
    if attenuation_db > 50.0 {
        0.1102 * (attenuation_db - 8.7)
    } else if attenuation_db > 21.0 {
        0.5842 * (attenuation_db - 21.0).powf(0.4) + 0.07886 * (attenuation_db - 21.0)
    } else {
        0.0
    }
}

/// The number of taps and the Kaiser `beta` for a ripple of `ripple_db` (positive, in dB) and a
/// transition `width` (fraction of Nyquist), like `scipy.signal.kaiserord`.
///
/// # Errors
/// [`FilterError::Parameter`] when the ripple is below 8 dB (Kaiser's formula does not hold
/// there) or the width is not in (0, 1]; [`FilterError::TooLarge`] when the taps would exceed
/// [`crate::MAX_VALUES`].
///
/// # Examples
/// ```
/// use filter::{firwin, kaiserord, Band, Window};
/// let (numtaps, beta) = kaiserord(65.0, 0.04)?;
/// let taps = firwin(numtaps | 1, &Band::Highpass(0.5), &Window::Kaiser { beta })?;
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn kaiserord(ripple_db: f64, width: f64) -> Result<(usize, f64), FilterError> {
    let a = ripple_db.abs();
    if !(a >= 8.0 && a.is_finite()) {
        return Err(FilterError::Parameter { name: "ripple", value: ripple_db, expected: "at least 8 dB" });
    }
    if !(width > 0.0 && width <= 1.0) {
        return Err(FilterError::Parameter { name: "width", value: width, expected: "in (0, 1]" });
    }
    let beta = kaiser_beta(a);
    let numtaps = ((a - 7.95) / 2.285 / (PI * width) + 1.0).ceil();
    if numtaps > (crate::MAX_VALUES / 2) as f64 {
        return Err(FilterError::TooLarge {
            what: "the taps",
            requested: usize::MAX,
            cap: crate::MAX_VALUES,
        });
    }
    Ok((numtaps as usize, beta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_designs_are_refused() {
        let hamming = Window::Hamming;
        assert!(matches!(firwin(0, &Band::Lowpass(0.3), &hamming), Err(FilterError::Parameter { .. })));
        assert!(matches!(
            firwin(10, &Band::Highpass(0.3), &hamming),
            Err(FilterError::EvenTapsPassNyquist { taps: 10 })
        ));
        assert!(matches!(firwin(11, &Band::Lowpass(1.0), &hamming), Err(FilterError::Cutoff { .. })));
        assert!(matches!(firwin(11, &Band::Bandpass(0.5, 0.2), &hamming), Err(FilterError::Cutoff { .. })));
        assert!(matches!(firwin(11, &Band::Lowpass(f64::NAN), &hamming), Err(FilterError::Cutoff { .. })));
        assert!(matches!(
            firwin(usize::MAX, &Band::Lowpass(0.3), &hamming),
            Err(FilterError::TooLarge { .. })
        ));
        assert!(matches!(kaiserord(3.0, 0.1), Err(FilterError::Parameter { .. })));
        assert!(matches!(kaiserord(60.0, 0.0), Err(FilterError::Parameter { .. })));
    }

    #[test]
    fn the_passband_centre_has_unit_gain() {
        let taps = firwin(55, &Band::Bandpass(0.2, 0.4), &Window::Blackman).unwrap_or_default();
        let centre = 27.0;
        let gain: f64 =
            taps.iter().enumerate().map(|(n, t)| t * (PI * (n as f64 - centre) * 0.3).cos()).sum();
        assert!((gain - 1.0).abs() < 1e-14);
        let highpass = firwin(21, &Band::Highpass(0.6), &Window::Hann).unwrap_or_default();
        let nyquist_gain: f64 =
            highpass.iter().enumerate().map(|(n, t)| if n % 2 == 0 { *t } else { -t }).sum();
        assert!((nyquist_gain.abs() - 1.0).abs() < 1e-14);
    }
}
