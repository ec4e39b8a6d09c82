//! Butterworth design (`scipy.signal.butter`): the analog prototype, the band transformation
//! and the bilinear transform, in zeros, poles and gain.

use std::f64::consts::PI;

use num_complex::Complex64;

use crate::analog::{check_order, digital_from_prototype};
use crate::band::Band;
use crate::error::FilterError;
use crate::zpk::Zpk;

/// The largest order accepted by the IIR designs: the section pairing is quadratic in it, and
/// past a few dozen the design is no longer meaningful in f64.
pub const MAX_BUTTER_ORDER: usize = 500;

/// The digital Butterworth filter of `order` for a band, in zeros, poles and gain, like
/// `scipy.signal.butter(order, Wn, btype, output='zpk')`; convert with [`Zpk::to_sos`]
/// (recommended) or [`Zpk::to_ba`].
///
/// The analog prototype's poles lie evenly on the left half of the unit circle; they are
/// moved to the band (lowpass, highpass, bandpass, bandstop transforms at the prewarped
/// frequencies `4 tan(pi Wn / 2)`) and mapped to the z-plane by the bilinear transform.
/// Bandpass and bandstop filters have twice `order` poles, as in scipy.
///
/// # Errors
/// [`FilterError::Parameter`] for order 0 or above [`MAX_BUTTER_ORDER`];
/// [`FilterError::Cutoff`] for frequencies outside (0, 1), not increasing, or a
/// [`Band::Multiband`].
///
/// # Examples
/// ```
/// use filter::{butter, sosfilt, Band};
/// let sos = butter(8, &Band::Bandpass(0.1, 0.3))?.to_sos()?;
/// assert_eq!(sos.len(), 8);
/// let y = sosfilt(&sos, &[1.0, 0.0, 0.0, 0.0])?;
/// assert_eq!(y.len(), 4);
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn butter(order: usize, band: &Band) -> Result<Zpk, FilterError> {
    check_order(order)?;
    let prototype = Zpk { zeros: Vec::new(), poles: prototype_poles(order), gain: 1.0 };
    digital_from_prototype(&prototype, band)
}

/// `-exp(i pi m / (2N))` for m = -N+1, -N+3, ..., N-1 (scipy's `buttap`; no zeros, gain 1).
fn prototype_poles(order: usize) -> Vec<Complex64> {
    let n = order as f64;
    (0..order)
        .map(|j| {
            let m = 2.0 * j as f64 - n + 1.0;
            -Complex64::new(0.0, PI * m / (2.0 * n)).exp()
        })
        .collect()
}
