//! Chebyshev designs (`scipy.signal.cheby1`, `cheby2`): equiripple in the passband (type I) or
//! the stopband (type II), steeper than Butterworth for the same order.

use std::f64::consts::PI;

use num_complex::Complex64;

use crate::analog::{check_order, digital_from_prototype, product};
use crate::band::Band;
use crate::error::FilterError;
use crate::zpk::Zpk;

fn check_order_and_ripple(order: usize, name: &'static str, decibels: f64) -> Result<(), FilterError> {
    check_order(order)?;
    if !(decibels > 0.0 && decibels <= 400.0) {
        return Err(FilterError::Parameter { name, value: decibels, expected: "in (0, 400] dB" });
    }
    Ok(())
}

/// `m = -N+1, -N+3, ..., N-1`.
fn odd_steps(order: usize) -> impl Iterator<Item = f64> {
    (0..order).map(move |j| 2.0 * j as f64 - order as f64 + 1.0)
}

/// The digital Chebyshev type I filter with `ripple_db` of passband ripple, like
/// `scipy.signal.cheby1(order, rp, Wn, btype, output='zpk')`: the gain ripples between 1 and
/// `10^(-rp/20)` in the passband (the band edge is where it last equals the latter) and falls
/// monotonically in the stopband. The prototype's poles lie on an ellipse,
/// `-sinh(mu + i theta_m)` with `mu = asinh(1/eps) / N`, `eps = sqrt(10^(rp/10) - 1)`.
///
/// # Errors
/// [`FilterError::Parameter`] for order 0 or above [`crate::MAX_BUTTER_ORDER`], a ripple outside
/// (0, 400] dB; [`FilterError::Cutoff`] as [`crate::butter`].
///
/// # Examples
/// ```
/// use filter::{cheby1, sosfreqz, Band};
/// let sos = cheby1(4, 1.0, &Band::Lowpass(0.3))?.to_sos()?;
/// let response = sosfreqz(&sos, 512, false)?;
/// // At the band edge (0.3 of Nyquist, bin 153.6) the gain is -1 dB.
/// let edge = response.gain_db()[154];
/// assert!((edge + 1.0).abs() < 0.1, "{edge}");
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn cheby1(order: usize, ripple_db: f64, band: &Band) -> Result<Zpk, FilterError> {
    check_order_and_ripple(order, "ripple_db", ripple_db)?;
    let n = order as f64;
    let eps = (10f64.powf(0.1 * ripple_db) - 1.0).sqrt();
    let mu = (1.0 / eps).asinh() / n;
    let poles: Vec<Complex64> =
        odd_steps(order).map(|m| -Complex64::new(mu, PI * m / (2.0 * n)).sinh()).collect();
    let mut gain = product(&poles, |p| -p).re;
    if order.is_multiple_of(2) {
        gain /= (1.0 + eps * eps).sqrt();
    }
    digital_from_prototype(&Zpk { zeros: Vec::new(), poles, gain }, band)
}

/// The digital Chebyshev type II filter with `attenuation_db` of stopband attenuation, like
/// `scipy.signal.cheby2(order, rs, Wn, btype, output='zpk')`: flat passband, the stopband
/// rippling up to `-rs` dB (the band edge is where the gain first reaches `-rs` dB). The
/// prototype has zeros on the imaginary axis, `i / sin(m pi / 2N)`, and poles at the inverses
/// of an ellipse's points.
///
/// # Errors
/// As [`cheby1`], for the attenuation.
///
/// # Examples
/// ```
/// use filter::{cheby2, sosfreqz, Band};
/// let sos = cheby2(6, 60.0, &Band::Highpass(0.4))?.to_sos()?;
/// let response = sosfreqz(&sos, 512, false)?;
/// // Everything below the edge is at least 60 dB down.
/// assert!(response.gain_db()[..200].iter().all(|db| *db <= -59.9));
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn cheby2(order: usize, attenuation_db: f64, band: &Band) -> Result<Zpk, FilterError> {
    check_order_and_ripple(order, "attenuation_db", attenuation_db)?;
    let n = order as f64;
    let de = 1.0 / (10f64.powf(0.1 * attenuation_db) - 1.0).sqrt();
    let mu = (1.0 / de).asinh() / n;
    // The zeros skip m = 0 for odd orders (a zero at infinity).
    let zeros: Vec<Complex64> = odd_steps(order)
        .filter(|&m| m != 0.0)
        .map(|m| Complex64::new(0.0, 1.0) / (m * PI / (2.0 * n)).sin())
        .collect();
    let poles: Vec<Complex64> = odd_steps(order)
        .map(|m| -Complex64::new(1.0, 0.0) / Complex64::new(mu, PI * m / (2.0 * n)).sinh())
        .collect();
    let gain = (product(&poles, |p| -p) / product(&zeros, |z| -z)).re;
    digital_from_prototype(&Zpk { zeros, poles, gain }, band)
}
