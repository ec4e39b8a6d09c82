//! The two special functions the designs need: the normalised sinc and the modified Bessel
//! function of the first kind, order zero.

use std::f64::consts::PI;

/// `sin(pi x) / (pi x)`, and 1 at 0 (numpy's `sinc`).
pub(crate) fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let y = PI * x;
        y.sin() / y
    }
}

/// The largest |x| for which `I0(x)` is finite in f64 (I0(x) ~ e^x / sqrt(2 pi x)).
pub(crate) const BESSEL_I0_MAX_ARGUMENT: f64 = 700.0;

/// `I0(x) = sum_k ((x/2)^2)^k / (k!)^2`, summed until the terms stop changing the sum.
///
/// Every term is positive, so the series has no cancellation: the relative error is a few
/// rounding errors per term kept (at most a few hundred terms for |x| <= 700).
pub(crate) fn bessel_i0(x: f64) -> f64 {
    let quarter_square = 0.25 * x * x;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1.0;
    while term > sum * f64::EPSILON * 0.25 {
        term *= quarter_square / (k * k);
        sum += term;
        k += 1.0;
        if k > 2000.0 {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bessel_i0_matches_tabulated_values() {
        // scipy.special.i0 (cephes) at these points.
        for (x, expected) in [
            (0.0, 1.0),
            (1.0, 1.266_065_877_752_008_2),
            (5.0, 27.239_871_823_604_442),
            (10.0, 2_815.716_628_466_254),
        ] {
            let got = bessel_i0(x);
            assert!((got - expected).abs() <= 1e-15 * expected, "I0({x}) = {got}, expected {expected}");
        }
        assert!(bessel_i0(BESSEL_I0_MAX_ARGUMENT).is_finite());
    }

    #[test]
    fn sinc_is_one_at_zero_and_zero_at_integers() {
        assert_eq!(sinc(0.0), 1.0);
        assert!(sinc(3.0).abs() < 1e-15);
        assert!((sinc(0.5) - 2.0 / PI).abs() < 1e-16);
    }
}
