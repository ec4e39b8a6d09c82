//! The fourier crate against the mathematics: analytic coefficients against quadrature and FFT,
//! orthogonality, partial sums, Gibbs, the oscillator against RK4, and the convolution theorem
//! against conv-core's Direct backend.

use std::f64::consts::{PI, TAU};

use fourier::ndarray::{Array1, ArrayView1, AsArray, array};
use fourier::{
    FourierError, FourierSeries, Oscillator, PulseTrain, band_limited_square, circular_convolve,
    circular_convolve_fft, gibbs_overshoot, linear_convolve_fft, square,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn seeded_runner(cases: u32) -> TestRunner {
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, b"fourier crate tests, fixed seed!"),
    )
}

fn max_diff<'a, 'b>(a: impl AsArray<'a, f64>, b: impl AsArray<'b, f64>) -> f64 {
    let (a, b): (ArrayView1<f64>, ArrayView1<f64>) = (a.into(), b.into());
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// `square` at one time.
fn square_at(t: f64, duty: f64) -> f64 {
    square(&array![t], duty).expect("a finite time and a duty in [0, 1]")[0]
}

#[test]
fn square_follows_scipy() {
    // scipy.signal.square(t, duty) for these t (duty 0.5 and 0.25).
    let t = array![0.0, 1.0, 3.0, 3.2, 6.0, 6.3, -0.1, -3.0, 12.0];
    let half = array![1.0, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0, -1.0, -1.0];
    let quarter = array![1.0, 1.0, -1.0, -1.0, -1.0, 1.0, -1.0, -1.0, -1.0];
    assert_eq!(square(&t, 0.5).unwrap(), half);
    assert_eq!(square(&t, 0.25).unwrap(), quarter);
    // Any shape in, the same shape out.
    let grid = t.clone().into_shape_with_order((3, 3)).unwrap();
    assert_eq!(square(&grid, 0.5).unwrap(), half.into_shape_with_order((3, 3)).unwrap());
    assert_eq!(square_at(1.0, 0.0), -1.0);
    assert_eq!(square_at(1.0, 1.0), 1.0);
}

#[test]
fn bad_input_is_a_typed_error() {
    assert!(matches!(square(&array![1.0], 1.5), Err(FourierError::OutOfUnitInterval { what: "duty", .. })));
    assert!(matches!(square(&array![1.0], -0.1), Err(FourierError::OutOfUnitInterval { .. })));
    assert!(matches!(square(&array![0.0, f64::NAN], 0.5), Err(FourierError::NotFinite { what: "t", .. })));
    let pulses = PulseTrain::new(0.2, 0.1, 2.0).unwrap();
    assert!(matches!(pulses.values(&array![f64::INFINITY]), Err(FourierError::NotFinite { what: "t", .. })));
    assert!(matches!(PulseTrain::new(0.0, 0.1, 2.0), Err(FourierError::NotPositive { what: "period", .. })));
    assert!(matches!(PulseTrain::new(-1.0, 0.1, 2.0), Err(FourierError::NotPositive { .. })));
    assert!(matches!(PulseTrain::new(0.2, 0.3, 2.0), Err(FourierError::OutOfUnitInterval { .. })));
    assert!(matches!(FourierSeries::square_wave(0.5, 0), Err(FourierError::ZeroTerms { .. })));
    assert!(matches!(FourierSeries::from_fn(|t| t, 1.0, 0, 1e-9), Err(FourierError::ZeroTerms { .. })));
    assert!(matches!(
        FourierSeries::from_fn(|_| f64::NAN, 1.0, 3, 1e-9),
        Err(FourierError::NotFinite { .. })
    ));
    assert!(matches!(
        FourierSeries::from_samples(&Array1::from_elem(8, 1.0), 1.0, 4),
        Err(FourierError::TooFewSamples { samples: 8, terms: 4, max_terms: 3 })
    ));
    assert!(matches!(band_limited_square(1000.0, 500.0), Err(FourierError::ZeroTerms { .. })));
    assert!(matches!(Oscillator::new(0.0, 1.0, 1.0), Err(FourierError::NotPositive { what: "mass", .. })));
    assert!(matches!(Oscillator::new(1.0, -1.0, 1.0), Err(FourierError::NotPositive { .. })));
    let resonant = FourierSeries::new(TAU, 0.0, vec![1.0], vec![0.0]).unwrap();
    assert!(matches!(
        Oscillator::new(1.0, 0.0, 1.0).unwrap().steady_state(&resonant),
        Err(FourierError::Resonance { harmonic: 1 })
    ));
    assert!(matches!(
        circular_convolve(&array![1.0], &array![1.0, 2.0]),
        Err(FourierError::LengthMismatch { .. })
    ));
    assert!(matches!(
        linear_convolve_fft(&Array1::<f64>::zeros(0), &array![1.0]),
        Err(FourierError::LengthMismatch { .. })
    ));
}

#[test]
fn pulse_train_values_and_series() {
    let pulses = PulseTrain::new(0.2, 0.1, 2.0).unwrap();
    assert_eq!(pulses.value_at(0.05).unwrap(), 2.0);
    assert_eq!(pulses.value_at(0.15).unwrap(), 0.0);
    assert_eq!(pulses.value_at(0.25).unwrap(), 2.0);
    assert_eq!(pulses.values(&array![0.05, 0.15, 0.25]).unwrap(), array![2.0, 0.0, 2.0]);
    let series = pulses.series(400).unwrap();
    assert!((series.period() - 0.2).abs() < 1e-15);
    // Away from the edges the partial sum approaches the pulse.
    for (t, want) in [(0.05, 2.0), (0.15, 0.0), (0.45, 2.0)] {
        assert!((series.value_at(t) - want).abs() < 0.01, "t = {t}: {}", series.value_at(t));
    }
}

#[test]
fn analytic_coefficients_match_quadrature() {
    for duty in [0.5, 0.3, 0.9] {
        let analytic = FourierSeries::square_wave(duty, 25).unwrap();
        let numeric = FourierSeries::from_fn(|t| square_at(t, duty), TAU, 25, 1e-11).unwrap();
        assert!((analytic.f0() - numeric.f0()).abs() < 1e-8);
        assert!(max_diff(analytic.cos_coefficients(), numeric.cos_coefficients()) < 1e-8, "duty {duty}");
        assert!(max_diff(analytic.sin_coefficients(), numeric.sin_coefficients()) < 1e-8, "duty {duty}");
    }
    let pulses = PulseTrain::new(0.2, 0.1, 2.0).unwrap();
    let analytic = pulses.series(20).unwrap();
    let numeric = FourierSeries::from_fn(|t| pulses.value_at(t).unwrap(), 0.2, 20, 1e-11).unwrap();
    assert!(max_diff(analytic.cos_coefficients(), numeric.cos_coefficients()) < 1e-8);
    assert!(max_diff(analytic.sin_coefficients(), numeric.sin_coefficients()) < 1e-8);
}

#[test]
fn sampled_coefficients_match_quadrature_for_a_smooth_function() {
    let f = |t: f64| (t.cos()).exp() + 0.3 * (2.0 * t).sin();
    let by_quadrature = FourierSeries::from_fn(f, TAU, 10, 1e-12).unwrap();
    let samples: Array1<f64> = (0..64).map(|j| f(TAU * j as f64 / 64.0)).collect();
    let by_fft = FourierSeries::from_samples(&samples, TAU, 10).unwrap();
    // exp(cos t) has coefficients 2 I_n(1), decaying like 1/(2^n n!): 64 samples alias nothing visible.
    assert!(max_diff(by_fft.cos_coefficients(), by_quadrature.cos_coefficients()) < 1e-10);
    assert!(max_diff(by_fft.sin_coefficients(), by_quadrature.sin_coefficients()) < 1e-10);
    assert!((by_fft.f0() - by_quadrature.f0()).abs() < 1e-10);
}

/// Orthogonality: the coefficients of a synthesised series come back exactly (to rounding),
/// through samples and through quadrature.
#[test]
fn orthogonality_returns_the_coefficients() {
    let strategy =
        (prop::collection::vec(-2.0f64..2.0, 8), prop::collection::vec(-2.0f64..2.0, 8), -1.0f64..1.0);
    seeded_runner(32)
        .run(&strategy, |(cos, sin, f0)| {
            let series = FourierSeries::new(3.0, f0, cos, sin).unwrap();
            let samples: Array1<f64> = (0..32).map(|j| series.value_at(3.0 * j as f64 / 32.0)).collect();
            let back = FourierSeries::from_samples(&samples, 3.0, 8).unwrap();
            prop_assert!(max_diff(back.cos_coefficients(), series.cos_coefficients()) < 1e-12);
            prop_assert!(max_diff(back.sin_coefficients(), series.sin_coefficients()) < 1e-12);
            prop_assert!((back.f0() - f0).abs() < 1e-12);
            let quad = FourierSeries::from_fn(|t| series.value_at(t), 3.0, 8, 1e-12).unwrap();
            prop_assert!(max_diff(quad.cos_coefficients(), series.cos_coefficients()) < 1e-9);
            Ok(())
        })
        .unwrap();
}

#[test]
fn partial_sums_match_the_naive_sum() {
    // The material's size: 500 terms at 500 points.
    let series = FourierSeries::square_wave(0.3, 500).unwrap();
    let times: Array1<f64> = (0..500).map(|i| -PI + 4.0 * PI * i as f64 / 500.0).collect();
    let fast = series.values(&times).unwrap();
    let naive: Array1<f64> = times
        .iter()
        .map(|&t| {
            let mut total = series.f0() / 2.0;
            for n in 1..=500 {
                let k = n as f64 * t;
                total +=
                    series.cos_coefficients()[n - 1] * k.cos() + series.sin_coefficients()[n - 1] * k.sin();
            }
            total
        })
        .collect();
    assert!(max_diff(&fast, &naive) < 1e-11, "{}", max_diff(&fast, &naive));
}

#[test]
fn partial_sums_converge_in_mean_square() {
    let full = FourierSeries::square_wave(0.5, 1000).unwrap();
    let times: Array1<f64> = (0..4000).map(|i| TAU * (i as f64 + 0.5) / 4000.0).collect();
    let exact = square(&times, 0.5).unwrap();
    let rms = |terms: usize| {
        let approx = full.truncated(terms).values(&times).unwrap();
        (approx.iter().zip(&exact).map(|(a, e)| (a - e).powi(2)).sum::<f64>() / times.len() as f64).sqrt()
    };
    let errors: Vec<f64> = [10, 40, 160, 640].iter().map(|&n| rms(n)).collect();
    // Parseval: the squared error is the tail sum of (4/(pi n))^2 / 2 over odd n, about 4/(pi^2 N):
    // every fourfold increase in terms halves the RMS error.
    for pair in errors.windows(2) {
        let ratio = pair[0] / pair[1];
        assert!((1.7..2.3).contains(&ratio), "RMS errors {errors:?}");
    }
    let predicted = (4.0 / (PI * PI * 10.0)).sqrt();
    assert!((errors[0] / predicted - 1.0).abs() < 0.15, "{} vs {predicted}", errors[0]);
}

#[test]
fn gibbs_overshoot_is_nine_percent_and_sigma_factors_tame_it() {
    // Jump of 2 at t = 0 (from -1 to +1); the overshoot peak sits near t = pi / N.
    let series = FourierSeries::square_wave(0.5, 1001).unwrap();
    let overshoot = gibbs_overshoot(&series, (0.0, 0.05), 1.0, 2.0, 5000).unwrap();
    let wilbraham_gibbs = 0.089_489_872_236;
    assert!((overshoot - wilbraham_gibbs).abs() < 5e-4, "overshoot {overshoot}");
    let smoothed = gibbs_overshoot(&series.with_sigma_factors(), (0.0, 0.05), 1.0, 2.0, 5000).unwrap();
    assert!((0.010..0.013).contains(&smoothed), "with sigma factors the overshoot is {smoothed}");
}

#[test]
fn band_limited_square_has_no_harmonics_at_or_above_nyquist() {
    let series = band_limited_square(1000.0, 4500.0).unwrap();
    assert_eq!(series.terms(), 4);
    assert!((series.sin_coefficients()[2] - 4.0 / (3.0 * PI)).abs() < 1e-12);
    // Sampled at 9 kHz, its DFT holds only what the series holds: no aliased power.
    let rate = 9000.0;
    let samples: Array1<f64> = (0..90).map(|j| series.value_at(j as f64 / rate)).collect();
    // 90 samples = 10 periods: harmonic n sits in DFT bin 10 n.
    let per_period = FourierSeries::from_samples(&samples, 0.01, 44).unwrap();
    for (bin, (c, s)) in per_period.cos_coefficients().iter().zip(per_period.sin_coefficients()).enumerate() {
        let k = bin + 1;
        let want = if k % 10 == 0 && (k / 10) % 2 == 1 { 4.0 / (PI * (k / 10) as f64) } else { 0.0 };
        assert!(c.abs() < 1e-12 && (s - want).abs() < 1e-12, "bin {k}: {c}, {s}");
    }
}

#[test]
fn oscillator_steady_state_matches_rk4_after_the_transient() {
    let oscillator = Oscillator::new(1.0, 0.8, 30.0).unwrap();
    // A smooth periodic force (the 15-term series of a pulse train): the superposition is exact.
    let force = PulseTrain::new(2.0, 0.5, 3.0).unwrap().series(15).unwrap();
    let steady = oscillator.steady_state(&force).unwrap();
    let dt = 1e-3;
    let steps = 60_000; // beta = 0.4: the transient has decayed by exp(-0.4 * 50) ~ 2e-9 at t = 50
    let simulated = oscillator.simulate(|t| force.value_at(t), (0.0, 0.0), dt, steps).unwrap();
    let late: Vec<usize> = (50_000..=steps).step_by(97).collect();
    let diff =
        late.iter().map(|&i| (simulated[i] - steady.position_at(i as f64 * dt)).abs()).fold(0.0, f64::max);
    let scale = late.iter().map(|&i| simulated[i].abs()).fold(0.0, f64::max);
    assert!(diff < 1e-7 * scale.max(1.0), "max difference {diff} (scale {scale})");

    // The actual discontinuous pulse train. RK4 is only first-order accurate across a jump of
    // the force, so the simulation approaches the series solution like O(dt): halving the step
    // must halve the difference.
    let pulses = PulseTrain::new(2.0, 0.5, 3.0).unwrap();
    let steady = oscillator.steady_state(&pulses.series(400).unwrap()).unwrap();
    let difference = |dt: f64| {
        let steps = (60.0 / dt).round() as usize;
        let simulated = oscillator.simulate(|t| pulses.value_at(t).unwrap(), (0.0, 0.0), dt, steps).unwrap();
        let from = (50.0 / dt).round() as usize;
        (from..=steps)
            .step_by(97)
            .map(|i| (simulated[i] - steady.position_at(i as f64 * dt)).abs())
            .fold(0.0, f64::max)
    };
    let (coarse, fine) = (difference(1e-3), difference(5e-4));
    assert!((1.8..2.2).contains(&(coarse / fine)), "differences {coarse:e} at dt = 1e-3, {fine:e} at 5e-4");
    assert!(fine < 5e-4 * scale, "discontinuous force: max difference {fine:e} (scale {scale})");
}

#[test]
fn amplitude_formula_has_the_right_limits() {
    let (m, eta, k) = (2.0, 0.3, 50.0);
    let oscillator = Oscillator::new(m, eta, k).unwrap();
    let w0 = oscillator.natural_frequency();
    // Far below resonance the spring dominates: A -> F / k.
    let slow = FourierSeries::new(TAU / (1e-4 * w0), 0.0, vec![1.0], vec![0.0]).unwrap();
    let a = oscillator.steady_state(&slow).unwrap().harmonics()[0].amplitude;
    assert!((a * k - 1.0).abs() < 1e-6, "A k = {}", a * k);
    // At resonance the damping alone limits it: A = F / (eta w0), a quarter period behind.
    let resonant = FourierSeries::new(TAU / w0, 0.0, vec![1.0], vec![0.0]).unwrap();
    let h = oscillator.steady_state(&resonant).unwrap().harmonics()[0];
    assert!((h.amplitude * eta * w0 - 1.0).abs() < 1e-12);
    assert!((h.phase - PI / 2.0).abs() < 1e-12);
    // Far above, inertia dominates: A -> F / (m w^2), in antiphase.
    let w = 1e3 * w0;
    let fast = FourierSeries::new(TAU / w, 0.0, vec![1.0], vec![0.0]).unwrap();
    let h = oscillator.steady_state(&fast).unwrap().harmonics()[0];
    assert!((h.amplitude * m * w * w - 1.0).abs() < 1e-5);
    assert!((h.phase - PI).abs() < 1e-3);
}

#[test]
fn convolution_theorem_circular_and_linear() {
    let strategy = (1usize..40, 1usize..40).prop_flat_map(|(n, m)| {
        (
            prop::collection::vec(-1.0f64..1.0, n),
            prop::collection::vec(-1.0f64..1.0, m),
            prop::collection::vec(-1.0f64..1.0, n),
        )
    });
    seeded_runner(64)
        .run(&strategy, |(a, b, a_same_len)| {
            // Circular: definition vs spectra product.
            let (a, b, a_same_len) = (Array1::from(a), Array1::from(b), Array1::from(a_same_len));
            let direct = circular_convolve(&a, &a_same_len).unwrap();
            let by_fft = circular_convolve_fft(&a, &a_same_len).unwrap();
            prop_assert!(max_diff(&direct, &by_fft) < 1e-12);
            // Linear through zero padding vs conv-core's Direct backend.
            let padded = linear_convolve_fft(&a, &b).unwrap();
            let reference =
                conv_core::convolve_with(&a, &b, conv_core::Mode::Full, &conv_core::Direct).unwrap();
            prop_assert!(max_diff(&padded, &reference) < 1e-12);
            // Without the padding, the tail wraps onto the head.
            if b.len() > 1 && b.len() <= a.len() {
                let mut b_padded = b.to_vec();
                b_padded.resize(a.len(), 0.0);
                let b_padded = Array1::from(b_padded);
                let wrapped = circular_convolve(&a, &b_padded).unwrap();
                let mut folded = reference.to_vec();
                let tail: Vec<f64> = folded.split_off(a.len());
                for (head, t) in folded.iter_mut().zip(tail) {
                    *head += t;
                }
                prop_assert!(max_diff(&wrapped, folded.as_slice()) < 1e-12);
            }
            Ok(())
        })
        .unwrap();
}
