//! From an analog lowpass prototype (cutoff 1 rad/s) to a digital filter: the band
//! transformations and the bilinear transform, on zeros, poles and gain (scipy's
//! `lp2lp_zpk`, `lp2hp_zpk`, `lp2bp_zpk`, `lp2bs_zpk`, `bilinear_zpk`).

use std::f64::consts::PI;

use num_complex::Complex64;

use crate::band::Band;
use crate::butter::MAX_BUTTER_ORDER;
use crate::error::FilterError;
use crate::zpk::Zpk;

/// The digital filter for `band` from an analog lowpass prototype: the band edges are
/// prewarped (`4 tan(pi Wn / 2)`, the bilinear transform at fs = 2), the prototype moved to
/// the band, then mapped to the z-plane.
pub(crate) fn digital_from_prototype(prototype: &Zpk, band: &Band) -> Result<Zpk, FilterError> {
    let (edges, _) = band.edges()?;
    let warped: Vec<f64> = edges.iter().map(|w| 4.0 * (PI * w / 2.0).tan()).collect();
    let analog = match band {
        Band::Lowpass(_) => lowpass(prototype, warped[0]),
        Band::Highpass(_) => highpass(prototype, warped[0]),
        Band::Bandpass(..) => bandpass(prototype, warped[0], warped[1]),
        Band::Bandstop(..) => bandstop(prototype, warped[0], warped[1]),
        Band::Multiband { .. } => {
            let reason = "IIR designs take one band: Lowpass, Highpass, Bandpass or Bandstop";
            return Err(FilterError::Cutoff { cutoffs: edges, reason });
        }
    };
    let digital = bilinear(&analog);
    digital.check_finite()?;
    Ok(digital)
}

/// Refuses order 0 and orders above [`MAX_BUTTER_ORDER`], for every IIR design.
pub(crate) fn check_order(order: usize) -> Result<(), FilterError> {
    if order == 0 || order > MAX_BUTTER_ORDER {
        return Err(FilterError::Parameter { name: "order", value: order as f64, expected: "in 1..=500" });
    }
    Ok(())
}

/// `prod(map(r))` over the roots.
pub(crate) fn product(roots: &[Complex64], map: impl Fn(&Complex64) -> Complex64) -> Complex64 {
    roots.iter().fold(Complex64::new(1.0, 0.0), |acc, r| acc * map(r))
}

fn relative_degree(zpk: &Zpk) -> usize {
    zpk.poles.len().saturating_sub(zpk.zeros.len())
}

/// `s -> s / wo`.
fn lowpass(zpk: &Zpk, wo: f64) -> Zpk {
    let degree = relative_degree(zpk);
    Zpk {
        zeros: zpk.zeros.iter().map(|z| z * wo).collect(),
        poles: zpk.poles.iter().map(|p| p * wo).collect(),
        gain: zpk.gain * wo.powi(degree as i32),
    }
}

/// `s -> wo / s`: roots inverted, the zeros at infinity move to the origin.
fn highpass(zpk: &Zpk, wo: f64) -> Zpk {
    let degree = relative_degree(zpk);
    let mut zeros: Vec<Complex64> = zpk.zeros.iter().map(|z| wo / z).collect();
    zeros.extend(std::iter::repeat_n(Complex64::new(0.0, 0.0), degree));
    let ratio = product(&zpk.zeros, |z| -z) / product(&zpk.poles, |p| -p);
    Zpk { zeros, poles: zpk.poles.iter().map(|p| wo / p).collect(), gain: zpk.gain * ratio.re }
}

/// `s -> (s^2 + wo^2) / (s bw)`: each root `r` becomes the two roots of
/// `s^2 - r bw s + wo^2`, `r bw/2 +- sqrt((r bw/2)^2 - wo^2)`; the zeros at infinity go to 0.
fn bandpass(zpk: &Zpk, low: f64, high: f64) -> Zpk {
    let (wo, bw) = ((low * high).sqrt(), high - low);
    let degree = relative_degree(zpk);
    let scale = |roots: &[Complex64]| roots.iter().map(|r| r * bw / 2.0).collect::<Vec<_>>();
    let mut zeros = split_roots(&scale(&zpk.zeros), wo);
    zeros.extend(std::iter::repeat_n(Complex64::new(0.0, 0.0), degree));
    Zpk { zeros, poles: split_roots(&scale(&zpk.poles), wo), gain: zpk.gain * bw.powi(degree as i32) }
}

/// `s -> s bw / (s^2 + wo^2)`: the highpass image split about `wo`; the zeros at infinity go
/// to `+- i wo`.
fn bandstop(zpk: &Zpk, low: f64, high: f64) -> Zpk {
    let (wo, bw) = ((low * high).sqrt(), high - low);
    let degree = relative_degree(zpk);
    let invert =
        |roots: &[Complex64]| roots.iter().map(|r| Complex64::new(bw / 2.0, 0.0) / r).collect::<Vec<_>>();
    let mut zeros = split_roots(&invert(&zpk.zeros), wo);
    zeros.extend(std::iter::repeat_n(Complex64::new(0.0, wo), degree));
    zeros.extend(std::iter::repeat_n(Complex64::new(0.0, -wo), degree));
    let ratio = product(&zpk.zeros, |z| -z) / product(&zpk.poles, |p| -p);
    Zpk { zeros, poles: split_roots(&invert(&zpk.poles), wo), gain: zpk.gain * ratio.re }
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
    let degree = relative_degree(analog);
    let mut zeros: Vec<Complex64> = analog.zeros.iter().map(map).collect();
    zeros.extend(std::iter::repeat_n(Complex64::new(-1.0, 0.0), degree));
    let ratio = product(&analog.zeros, |z| FS2 - z) / product(&analog.poles, |p| FS2 - p);
    Zpk { zeros, poles: analog.poles.iter().map(map).collect(), gain: analog.gain * ratio.re }
}
