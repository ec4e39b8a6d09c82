//! Property tests over hostile arguments (issue "Reliability", family 7): every constructor
//! and evaluation of the crate gets periods, frequencies, duties, masses, steps, term and
//! sample counts drawn from sets that mix ordinary values with 0, negatives, NaN, infinities,
//! subnormals, 1e300 and `usize::MAX`. Each call returns a typed error or a finite answer;
//! nothing panics (overflow checks are on in the test profile) and nothing runs for long.

use fourier::ndarray::{Array1, array};
use fourier::{
    FourierSeries, Oscillator, PulseTrain, band_limited_square, circular_convolve, circular_convolve_fft,
    gibbs_overshoot, linear_convolve_fft, square,
};
use proptest::prelude::*;

fn real() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => 0.05..10.0f64,
        1 => Just(0.0),
        1 => Just(-1.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(5e-324),
        1 => Just(1e300),
    ]
}

fn fraction() -> impl Strategy<Value = f64> {
    prop_oneof![6 => 0.0..=1.0f64, 1 => Just(-0.1), 1 => Just(1.5), 1 => Just(f64::NAN)]
}

fn count() -> impl Strategy<Value = usize> {
    prop_oneof![8 => 1..40usize, 1 => Just(0usize), 1 => Just(1usize << 33), 1 => Just(usize::MAX)]
}

/// Times: ordinary ones and, sometimes, a non-finite one.
fn times() -> impl Strategy<Value = Array1<f64>> {
    proptest::collection::vec(prop_oneof![8 => -20.0..20.0f64, 1 => Just(f64::NAN), 1 => Just(1e300)], 0..16)
        .prop_map(Array1::from)
}

/// The seed of this file's properties: fixed, so a CI run repeats the last one; set
/// `PROPTEST_RNG_SEED` to explore others.
fn fixed_seed(default: u64) -> proptest::test_runner::RngSeed {
    match ProptestConfig::default().rng_seed {
        proptest::test_runner::RngSeed::Random => proptest::test_runner::RngSeed::Fixed(default),
        chosen => chosen,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, rng_seed: fixed_seed(0x2703), ..ProptestConfig::default() })]

    #[test]
    fn series_constructors_refuse_or_give_finite_coefficients(
        duty in fraction(), terms in count(), period in real(), frequency in real(), nyquist in real(),
        tolerance in prop_oneof![Just(1e-6), Just(0.0), Just(-1.0), Just(f64::NAN)],
        samples in proptest::collection::vec(prop_oneof![8 => -5.0..5.0f64, 1 => Just(f64::NAN)], 0..64),
    ) {
        let mut built = vec![FourierSeries::square_wave(duty, terms), band_limited_square(frequency, nyquist)];
        built.push(FourierSeries::from_samples(&Array1::from(samples), period, terms));
        // The quadrature's budget is tested on its own (hostile.rs); here a few terms only.
        if period < 1e3 {
            built.push(FourierSeries::from_fn(|t| t.sin() + 0.5, period, terms.min(4), tolerance));
        }
        for series in built.into_iter().flatten() {
            prop_assert!(series.period().is_finite() && series.period() > 0.0);
            prop_assert!(series.mean().is_finite());
            prop_assert!(series.cos_coefficients().iter().chain(series.sin_coefficients()).all(|c| c.is_finite()));
        }
    }

    #[test]
    fn evaluations_refuse_or_answer(
        duty in fraction(), terms in 1..30usize, t in times(),
        period in real(), width in real(), height in real(),
        gibbs_samples in count(), from in real(), to in real(), jump in real(),
    ) {
        let series = FourierSeries::square_wave(duty.clamp(0.0, 1.0).max(0.0), terms).unwrap_or_else(|_| {
            FourierSeries::square_wave(0.5, terms).expect("a valid square wave")
        });
        if let Ok(values) = series.values(&t) {
            prop_assert_eq!(values.len(), t.len());
        }
        if let Ok(wave) = square(&t, duty) {
            prop_assert!(wave.iter().all(|v| *v == 1.0 || *v == -1.0));
        }
        if let Ok(pulses) = PulseTrain::new(period, width, height) {
            let _ = pulses.values(&t);
            let _ = pulses.series(terms);
        }
        if gibbs_samples <= 1 << 16
            && let Ok(overshoot) = gibbs_overshoot(&series, (from, to), 1.0, jump, gibbs_samples)
        {
            prop_assert!(!overshoot.is_infinite() || from.abs() >= 1e300 || to.abs() >= 1e300);
        }
    }

    #[test]
    fn oscillators_refuse_or_answer(
        mass in real(), damping in real(), stiffness in real(), terms in 1..20usize,
        dt in real(), steps in count(), start in (real(), real()), t in times(),
    ) {
        let Ok(oscillator) = Oscillator::new(mass, damping, stiffness) else { return Ok(()) };
        let force = FourierSeries::square_wave(0.3, terms).expect("a valid square wave");
        if let Ok(response) = oscillator.steady_state(&force)
            && let Ok(positions) = response.positions(&t)
        {
            prop_assert_eq!(positions.len(), t.len());
        }
        // Steps beyond a few thousand are a cost test, not a hostility test: the cap itself is
        // checked in hostile.rs.
        if (steps <= 4096 || steps > Oscillator::MAX_STEPS)
            && let Ok(trajectory) = oscillator.simulate(|t| t.sin(), start, dt, steps)
        {
            prop_assert_eq!(trajectory.len(), steps + 1);
        }
    }

    #[test]
    fn theorem_operands_refuse_or_agree(
        a in proptest::collection::vec(prop_oneof![8 => -3.0..3.0f64, 1 => Just(f64::NAN)], 0..24),
        b in proptest::collection::vec(-3.0..3.0f64, 0..24),
    ) {
        let (a, b) = (Array1::from(a), Array1::from(b));
        match (circular_convolve(&a, &b), circular_convolve_fft(&a, &b)) {
            (Ok(direct), Ok(fast)) => {
                for (d, f) in direct.iter().zip(&fast) {
                    prop_assert!((d - f).abs() < 1e-9 * (1.0 + d.abs()));
                }
            }
            (Err(one), Err(other)) => prop_assert_eq!(one.to_string(), other.to_string()),
            (one, other) => prop_assert!(false, "the two methods disagree: {:?} / {:?}", one, other),
        }
        if let Ok(linear) = linear_convolve_fft(&a, &b) {
            prop_assert_eq!(linear.len(), a.len() + b.len() - 1);
        }
        let _ = linear_convolve_fft(&a, &array![1.0]);
    }
}
