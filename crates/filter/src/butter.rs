//! Butterworth design (`scipy.signal.butter`): the analog prototype, the band transformation
//! and the bilinear transform, in zeros, poles and gain.

use std::f64::consts::PI;

use num_complex::Complex64;

use crate::band::Band;
use crate::error::FilterError;
use crate::zpk::Zpk;

/// The largest order accepted: the section pairing is quadratic in it, and past a few dozen
/// the design is no longer meaningful in f64.
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
    if order == 0 || order > MAX_BUTTER_ORDER {
        return Err(FilterError::Parameter { name: "order", value: order as f64, expected: "in 1..=500" });
    }
    let (edges, _) = band.edges()?;
    let prototype = prototype_poles(order);
    // Prewarped analog frequencies for the bilinear transform at fs = 2.
    let warped: Vec<f64> = edges.iter().map(|w| 4.0 * (PI * w / 2.0).tan()).collect();
    let analog = match band {
        Band::Lowpass(_) => lowpass(&prototype, warped[0]),
        Band::Highpass(_) => highpass(&prototype, warped[0]),
        Band::Bandpass(..) => bandpass(&prototype, warped[0], warped[1]),
        Band::Bandstop(..) => bandstop(&prototype, warped[0], warped[1]),
        Band::Multiband { .. } => {
            let reason = "butter designs one band: use Lowpass, Highpass, Bandpass or Bandstop";
            return Err(FilterError::Cutoff { cutoffs: edges, reason });
        }
    };
    let digital = bilinear(&analog);
    digital.check_finite()?;
    Ok(digital)
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

fn lowpass(poles: &[Complex64], wo: f64) -> Zpk {
    Zpk {
        zeros: Vec::new(),
        poles: poles.iter().map(|p| p * wo).collect(),
        gain: wo.powi(poles.len() as i32),
    }
}

fn highpass(poles: &[Complex64], wo: f64) -> Zpk {
    let product = poles.iter().fold(Complex64::new(1.0, 0.0), |acc, p| acc * -p);
    Zpk {
        zeros: vec![Complex64::new(0.0, 0.0); poles.len()],
        poles: poles.iter().map(|p| wo / p).collect(),
        gain: (Complex64::new(1.0, 0.0) / product).re,
    }
}

/// `s -> (s^2 + wo^2) / (s bw)`: each pole `p` becomes the two roots of
/// `s^2 - p bw s + wo^2`, `p bw/2 +- sqrt((p bw/2)^2 - wo^2)`.
fn bandpass(poles: &[Complex64], low: f64, high: f64) -> Zpk {
    let (wo, bw) = ((low * high).sqrt(), high - low);
    let scaled: Vec<Complex64> = poles.iter().map(|p| p * bw / 2.0).collect();
    Zpk {
        zeros: vec![Complex64::new(0.0, 0.0); poles.len()],
        poles: split_roots(&scaled, wo),
        gain: bw.powi(poles.len() as i32),
    }
}

/// `s -> s bw / (s^2 + wo^2)`: the highpass image split about `wo`, zeros at `+- i wo`.
fn bandstop(poles: &[Complex64], low: f64, high: f64) -> Zpk {
    let (wo, bw) = ((low * high).sqrt(), high - low);
    let scaled: Vec<Complex64> = poles.iter().map(|p| Complex64::new(bw / 2.0, 0.0) / p).collect();
    let product = poles.iter().fold(Complex64::new(1.0, 0.0), |acc, p| acc * -p);
    let mut zeros = vec![Complex64::new(0.0, wo); poles.len()];
    zeros.extend(std::iter::repeat_n(Complex64::new(0.0, -wo), poles.len()));
    Zpk { zeros, poles: split_roots(&scaled, wo), gain: (Complex64::new(1.0, 0.0) / product).re }
}

/// `[x + sqrt(x^2 - wo^2) for x] ++ [x - sqrt(x^2 - wo^2) for x]`.
fn split_roots(scaled: &[Complex64], wo: f64) -> Vec<Complex64> {
    let roots: Vec<Complex64> = scaled.iter().map(|x| (x * x - wo * wo).sqrt()).collect();
    let plus = scaled.iter().zip(&roots).map(|(x, r)| x + r);
    let minus = scaled.iter().zip(&roots).map(|(x, r)| x - r);
    plus.chain(minus).collect()
}

/// The bilinear transform at fs = 2: `z = (4 + s) / (4 - s)`; the zeros at infinity go to -1.
fn bilinear(analog: &Zpk) -> Zpk {
    const FS2: f64 = 4.0;
    let map = |s: &Complex64| (FS2 + s) / (FS2 - s);
    let degree = analog.poles.len().saturating_sub(analog.zeros.len());
    let mut zeros: Vec<Complex64> = analog.zeros.iter().map(map).collect();
    zeros.extend(std::iter::repeat_n(Complex64::new(-1.0, 0.0), degree));
    let product = |roots: &[Complex64]| roots.iter().fold(Complex64::new(1.0, 0.0), |acc, r| acc * (FS2 - r));
    let gain = analog.gain * (product(&analog.zeros) / product(&analog.poles)).re;
    Zpk { zeros, poles: analog.poles.iter().map(map).collect(), gain }
}
