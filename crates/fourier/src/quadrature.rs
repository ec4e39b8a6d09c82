//! Adaptive Simpson quadrature.

use crate::error::FourierError;

/// Deepest bisection: intervals of `period / 2^MAX_DEPTH`.
const MAX_DEPTH: u32 = 40;

/// Evaluations of the integrand one request (all the integrals of a series) may spend: about a
/// second for a cheap function. Past it the quadrature stops refining and reports
/// [`FourierError::NoConvergence`] instead of running on (a tolerance of 1e-18 or a period of
/// 1e300 once ran for minutes).
pub(crate) const MAX_EVALUATIONS: u64 = 100_000_000;

/// `int_a^b f(t) dt` to an absolute error of about `tolerance * (b - a)`, starting from
/// `panels` equal panels.
///
/// The initial panels matter: Simpson's rule on a single panel samples only five points, and an
/// oscillating integrand such as `F(t) sin(n w t)` can vanish at all of them, which would end the
/// refinement at once with a wrong answer. Start with several panels per oscillation.
///
/// Adaptive Simpson: an interval is accepted when Simpson's rule on it and on its two halves
/// agree to `15 * tolerance * width` (Richardson's estimate of the error of the finer value, which
/// is then corrected by that estimate). Smooth integrands converge with a handful of levels;
/// a jump is isolated by bisection, costing about `log2(width / tolerance)` levels around it.
pub(crate) fn integrate(
    f: impl Fn(f64) -> f64,
    (a, b): (f64, f64),
    panels: usize,
    tolerance: f64,
    budget: &mut u64,
) -> Result<f64, FourierError> {
    let panels = panels.max(1);
    let needed = 3 * panels as u64;
    if needed > *budget {
        return Err(FourierError::NoConvergence { tolerance, estimate: f64::INFINITY });
    }
    *budget -= needed;
    let width = (b - a) / panels as f64;
    let mut worst = 0.0f64;
    let mut value = 0.0;
    for panel in 0..panels {
        let lo = a + width * panel as f64;
        let hi = if panel + 1 == panels { b } else { lo + width };
        let (fa, fm, fb) = (f(lo), f((lo + hi) / 2.0), f(hi));
        let whole = simpson(lo, hi, fa, fm, fb);
        value += refine(&f, (lo, hi), (fa, fm, fb), whole, (tolerance, budget), MAX_DEPTH, &mut worst);
    }
    if !value.is_finite() {
        return Err(FourierError::NotFinite { what: "integrand", value });
    }
    if worst > tolerance * (b - a) {
        return Err(FourierError::NoConvergence { tolerance, estimate: worst });
    }
    Ok(value)
}

fn simpson(a: f64, b: f64, fa: f64, fm: f64, fb: f64) -> f64 {
    (b - a) / 6.0 * (fa + 4.0 * fm + fb)
}

fn refine(
    f: &impl Fn(f64) -> f64,
    (a, b): (f64, f64),
    (fa, fm, fb): (f64, f64, f64),
    whole: f64,
    (tolerance, budget): (f64, &mut u64),
    depth: u32,
    worst: &mut f64,
) -> f64 {
    if *budget < 2 {
        // Out of evaluations: keep this interval's estimate and say it did not converge.
        *worst = f64::INFINITY;
        return whole;
    }
    *budget -= 2;
    let m = (a + b) / 2.0;
    let (lm, rm) = ((a + m) / 2.0, (m + b) / 2.0);
    let (flm, frm) = (f(lm), f(rm));
    let left = simpson(a, m, fa, flm, fm);
    let right = simpson(m, b, fm, frm, fb);
    let delta = left + right - whole;
    if depth == 0 || delta.abs() <= 15.0 * tolerance * (b - a) || !delta.is_finite() {
        if depth == 0 {
            *worst = worst.max(delta.abs() / 15.0);
        }
        return left + right + delta / 15.0;
    }
    refine(f, (a, m), (fa, flm, fm), left, (tolerance, &mut *budget), depth - 1, worst)
        + refine(f, (m, b), (fm, frm, fb), right, (tolerance, budget), depth - 1, worst)
}
