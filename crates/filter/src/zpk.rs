//! A filter as its zeros, poles and gain, and its transfer-function coefficients (`zpk2tf`).

use num_complex::Complex64;

use crate::error::{FilterError, MAX_ORDER};

/// A digital filter `H(z) = gain * prod(z - zeros) / prod(z - poles)`, the form the designs
/// ([`crate::butter`]) produce (scipy's `output='zpk'`). Complex roots come in conjugate pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct Zpk {
    /// The zeros of `H(z)`.
    pub zeros: Vec<Complex64>,
    /// The poles of `H(z)`; inside the unit circle for a stable filter.
    pub poles: Vec<Complex64>,
    /// The gain.
    pub gain: f64,
}

impl Zpk {
    /// The transfer function's coefficients `(b, a)` in powers of `z^-1`, like
    /// `scipy.signal.zpk2tf` (scipy's `output='ba'`): `b = gain * poly(zeros)`,
    /// `a = poly(poles)`.
    ///
    /// High orders and narrow bands make `a`'s coefficients so sensitive that rounding moves
    /// poles onto or across the unit circle; that is refused rather than returned (scipy
    /// returns it). Second-order sections ([`Zpk::to_sos`]) do not have this problem.
    ///
    /// # Errors
    /// [`FilterError::Unstable`] when the stable design's `a` is unstable in f64 (checked by
    /// the Schur-Cohn step-down recursion); [`FilterError::NotFinite`] for non-finite roots.
    ///
    /// # Examples
    /// ```
    /// use filter::{butter, Band};
    /// let (b, a) = butter(2, &Band::Lowpass(0.5))?.to_ba()?;
    /// // scipy.signal.butter(2, 0.5): b = [0.2929, 0.5858, 0.2929], a = [1, 0, 0.1716].
    /// assert!((b[1] - 0.585_786_437_626_905).abs() < 1e-12 && a[1].abs() < 1e-15);
    /// # Ok::<(), filter::FilterError>(())
    /// ```
    pub fn to_ba(&self) -> Result<(Vec<f64>, Vec<f64>), FilterError> {
        self.check_finite()?;
        let b: Vec<f64> = poly(&self.zeros).iter().map(|c| self.gain * c.re).collect();
        let a: Vec<f64> = poly(&self.poles).iter().map(|c| c.re).collect();
        let inside = self.poles.iter().all(|p| p.norm() < 1.0);
        if inside {
            let reflection = largest_reflection(&a)?;
            if reflection.is_nan() || reflection >= 1.0 {
                return Err(FilterError::Unstable { reflection, precision: "f64" });
            }
        }
        Ok((b, a))
    }

    /// Refuses non-finite roots or gain and more than [`crate::MAX_ORDER`] roots (the
    /// conversions take time quadratic in the count).
    pub(crate) fn check_finite(&self) -> Result<(), FilterError> {
        let count = self.zeros.len().max(self.poles.len());
        if count > MAX_ORDER {
            return Err(FilterError::Parameter {
                name: "roots",
                value: count as f64,
                expected: "at most MAX_ORDER",
            });
        }
        let finite = |c: &Complex64| c.re.is_finite() && c.im.is_finite();
        if self.zeros.iter().all(finite) && self.poles.iter().all(finite) && self.gain.is_finite() {
            Ok(())
        } else {
            Err(FilterError::NotFinite { what: "the zeros, poles or gain" })
        }
    }
}

/// The monic polynomial with these roots, highest power first: `[1]` convolved with
/// `[1, -r]` for each root in turn (numpy's `poly`).
pub(crate) fn poly(roots: &[Complex64]) -> Vec<Complex64> {
    let mut c = vec![Complex64::new(1.0, 0.0)];
    for root in roots {
        c.push(Complex64::new(0.0, 0.0));
        for i in (1..c.len()).rev() {
            let shifted = c[i - 1] * -root;
            c[i] += shifted;
        }
    }
    c
}

/// The largest reflection coefficient magnitude of the denominator `a` (the Schur-Cohn /
/// Levinson step-down): the recursion is stable exactly when every one is below 1.
/// Infinity for `a[0] == 0`, NaN for non-finite coefficients.
///
/// # Errors
/// [`FilterError::Parameter`] for more than [`crate::MAX_ORDER`] + 1 coefficients (the
/// recursion is quadratic in their number).
pub fn largest_reflection(a: &[f64]) -> Result<f64, FilterError> {
    if a.len() > MAX_ORDER + 1 {
        return Err(FilterError::Parameter {
            name: "order",
            value: (a.len() - 1) as f64,
            expected: "at most MAX_ORDER",
        });
    }
    Ok(reflection_step_down(a))
}

fn reflection_step_down(a: &[f64]) -> f64 {
    let Some(&a0) = a.first() else { return 0.0 };
    if a0 == 0.0 {
        return f64::INFINITY;
    }
    let mut current: Vec<f64> = a.iter().map(|v| v / a0).collect();
    let mut largest: f64 = 0.0;
    while current.len() > 1 {
        let m = current.len() - 1;
        let k = current[m];
        if k.is_nan() {
            return f64::NAN;
        }
        largest = largest.max(k.abs());
        if k.abs() >= 1.0 {
            return largest;
        }
        let scale = 1.0 - k * k;
        current = (0..m).map(|i| (current[i] - k * current[m - i]) / scale).collect();
    }
    largest
}

/// Whether the recursion with denominator `a` is stable (every pole strictly inside the unit
/// circle), decided from the coefficients without finding the roots.
///
/// # Errors
/// As [`largest_reflection`].
///
/// # Examples
/// ```
/// assert!(filter::is_stable(&[1.0, -0.9])?);
/// assert!(!filter::is_stable(&[1.0, -1.1])?);
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn is_stable(a: &[f64]) -> Result<bool, FilterError> {
    largest_reflection(a).map(|r| r < 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poly_expands_the_roots() {
        let c = poly(&[Complex64::new(1.0, 0.0), Complex64::new(-2.0, 0.0), Complex64::new(3.0, 0.0)]);
        let re: Vec<f64> = c.iter().map(|c| c.re).collect();
        assert_eq!(re, vec![1.0, -2.0, -5.0, 6.0]);
    }

    #[test]
    fn stability_follows_the_poles() {
        // (1 - 0.5 z^-1)(1 - 0.9 z^-1) is stable, (1 - 0.5 z^-1)(1 - 1.2 z^-1) is not.
        assert_eq!(is_stable(&[1.0, -1.4, 0.45]), Ok(true));
        assert_eq!(is_stable(&[1.0, -1.7, 0.6]), Ok(false));
        assert_eq!(is_stable(&[0.0, 1.0]), Ok(false));
        assert_eq!(is_stable(&[1.0, f64::NAN]), Ok(false));
        assert!(is_stable(&vec![1.0; MAX_ORDER + 2]).is_err());
    }
}
