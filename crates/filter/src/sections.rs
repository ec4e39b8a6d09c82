//! Pairing poles and zeros into second-order sections (`scipy.signal.zpk2sos`, pairing
//! `'nearest'`).

use num_complex::Complex64;

use crate::error::FilterError;
use crate::sos::Section;
use crate::zpk::{Zpk, poly};

impl Zpk {
    /// The filter as cascaded second-order sections `[b0, b1, b2, 1, a1, a2]`, like
    /// `scipy.signal.zpk2sos(z, p, k)` (scipy's `output='sos'`), with the same pairing and
    /// order: the poles closest to the unit circle go in the last sections, each with the zeros
    /// nearest to it; the gain is in the first section. An odd count gets a pole and a zero at
    /// the origin.
    ///
    /// # Errors
    /// [`FilterError::NotFinite`] for non-finite roots; [`FilterError::Parameter`] when the
    /// complex roots do not come in conjugate pairs.
    ///
    /// # Examples
    /// ```
    /// use filter::{butter, Band};
    /// let sos = butter(3, &Band::Highpass(0.25))?.to_sos()?;
    /// assert_eq!(sos.len(), 2);
    /// assert!(sos.iter().all(|s| s[3] == 1.0));
    /// # Ok::<(), filter::FilterError>(())
    /// ```
    pub fn to_sos(&self) -> Result<Vec<Section<f64>>, FilterError> {
        self.check_finite()?;
        if self.zeros.is_empty() && self.poles.is_empty() {
            return Ok(vec![[self.gain, 0.0, 0.0, 1.0, 0.0, 0.0]]);
        }
        let origin = Complex64::new(0.0, 0.0);
        let mut zeros = self.zeros.clone();
        let mut poles = self.poles.clone();
        let count = zeros.len().max(poles.len());
        zeros.resize(count, origin);
        poles.resize(count, origin);
        let sections = count.div_ceil(2);
        if count % 2 == 1 {
            zeros.push(origin);
            poles.push(origin);
        }
        let mut zeros = pair_conjugates(&zeros)?;
        let mut poles = pair_conjugates(&poles)?;
        let mut sos = vec![[0.0; 6]; sections];
        for slot in sos.iter_mut().rev() {
            let p1 = poles.remove(worst(&poles, |_| true).ok_or_else(not_paired)?);
            *slot = if is_real(p1) && !poles.iter().any(|&p| is_real(p)) {
                // The last real pole: with the nearest real zero (and the origin).
                let z1 = zeros.remove(nearest(&zeros, p1, is_real).ok_or_else(not_paired)?);
                section(&[z1, origin], &[p1, origin])
            } else if poles.len() + 1 == zeros.len()
                && !is_real(p1)
                && poles.iter().filter(|&&p| is_real(p)).count() == 1
                && zeros.iter().filter(|&&z| is_real(z)).count() == 1
            {
                // One real pole and one real zero left: this complex pole takes a complex zero.
                let z1 = zeros.remove(nearest(&zeros, p1, |z| !is_real(z)).ok_or_else(not_paired)?);
                section(&[z1, z1.conj()], &[p1, p1.conj()])
            } else {
                let p2 = if is_real(p1) {
                    poles.remove(worst(&poles, is_real).ok_or_else(not_paired)?)
                } else {
                    p1.conj()
                };
                match nearest(&zeros, p1, |_| true) {
                    None => section(&[], &[p1, p2]),
                    Some(index) => {
                        let z1 = zeros.remove(index);
                        if !is_real(z1) {
                            section(&[z1, z1.conj()], &[p1, p2])
                        } else if let Some(index) = nearest(&zeros, p1, is_real) {
                            let z2 = zeros.remove(index);
                            section(&[z1, z2], &[p1, p2])
                        } else {
                            section(&[z1], &[p1, p2])
                        }
                    }
                }
            };
        }
        for coefficient in &mut sos[0][..3] {
            *coefficient *= self.gain;
        }
        Ok(sos)
    }
}

fn not_paired() -> FilterError {
    FilterError::Parameter { name: "roots", value: f64::NAN, expected: "complex roots in conjugate pairs" }
}

fn is_real(z: Complex64) -> bool {
    z.im == 0.0
}

/// The index of the root closest to the unit circle among those `keep` accepts (the first on ties).
fn worst(roots: &[Complex64], keep: impl Fn(Complex64) -> bool) -> Option<usize> {
    let distance = |z: &Complex64| (1.0 - z.norm()).abs();
    roots
        .iter()
        .enumerate()
        .filter(|(_, z)| keep(**z))
        .fold(None, |best: Option<(usize, f64)>, (i, z)| match best {
            Some((_, d)) if d <= distance(z) => best,
            _ => Some((i, distance(z))),
        })
        .map(|(i, _)| i)
}

/// The index of the root nearest to `to` among those `keep` accepts (the first on ties).
fn nearest(roots: &[Complex64], to: Complex64, keep: impl Fn(Complex64) -> bool) -> Option<usize> {
    roots
        .iter()
        .enumerate()
        .filter(|(_, z)| keep(**z))
        .fold(None, |best: Option<(usize, f64)>, (i, z)| {
            let d = (z - to).norm();
            match best {
                Some((_, best_d)) if best_d <= d => best,
                _ => Some((i, d)),
            }
        })
        .map(|(i, _)| i)
}

/// One section from up to two zeros and two poles: `b` and `a` right-aligned in 3 slots.
fn section(zeros: &[Complex64], poles: &[Complex64]) -> Section<f64> {
    let mut sos = [0.0; 6];
    let b = poly(zeros);
    let a = poly(poles);
    for (slot, c) in sos[3 - b.len()..3].iter_mut().zip(&b) {
        *slot = c.re;
    }
    for (slot, c) in sos[6 - a.len()..].iter_mut().zip(&a) {
        *slot = c.re;
    }
    sos
}

/// The roots as one representative (positive imaginary part, averaged with its conjugate) per
/// complex pair, sorted by real part, followed by the real roots in increasing order
/// (scipy's `_cplxreal`). Roots within 100 eps of the real axis count as real.
fn pair_conjugates(roots: &[Complex64]) -> Result<Vec<Complex64>, FilterError> {
    let tolerance = 100.0 * f64::EPSILON;
    let mut sorted = roots.to_vec();
    sorted.sort_by(|x, y| x.re.total_cmp(&y.re).then(x.im.abs().total_cmp(&y.im.abs())));
    let is_real_root = |z: &Complex64| z.im.abs() <= tolerance * z.norm();
    let reals: Vec<Complex64> =
        sorted.iter().filter(|z| is_real_root(z)).map(|z| Complex64::new(z.re, 0.0)).collect();
    let mut upper: Vec<Complex64> =
        sorted.iter().filter(|z| !is_real_root(z) && z.im > 0.0).copied().collect();
    let mut lower: Vec<Complex64> =
        sorted.iter().filter(|z| !is_real_root(z) && z.im < 0.0).copied().collect();
    if upper.len() != lower.len() {
        return Err(not_paired());
    }
    // Runs of (nearly) equal real parts are ordered by |imag| in both halves, so pairs line up.
    let mut start = 0;
    while start < upper.len() {
        let mut stop = start + 1;
        while stop < upper.len() && upper[stop].re - upper[stop - 1].re <= tolerance * upper[stop - 1].norm()
        {
            stop += 1;
        }
        upper[start..stop].sort_by(|x, y| x.im.abs().total_cmp(&y.im.abs()));
        lower[start..stop].sort_by(|x, y| x.im.abs().total_cmp(&y.im.abs()));
        start = stop;
    }
    let mut paired = Vec::with_capacity(upper.len() + reals.len());
    for (u, l) in upper.iter().zip(&lower) {
        if (u - l.conj()).norm() > tolerance * l.norm() {
            return Err(not_paired());
        }
        paired.push((u + l.conj()) / 2.0);
    }
    paired.extend(reals);
    Ok(paired)
}
