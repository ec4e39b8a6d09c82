//! Deconvolution: scipy's polynomial division, and regularised spectral division.

use conv_core::{ConvError, Mode, convolve, deconvolve, wiener_deconvolve, wiener_deconvolve2d};
use ndarray::{Array1, Array2, array};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn runner(cases: u32) -> TestRunner {
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, b"deconvolution tests, fixed seed."),
    )
}

/// Values from scipy 1.17: `scipy.signal.deconvolve([1, 4, 3, 7, 2], [2, 1])`.
#[test]
fn matches_scipy_deconvolve() {
    let (q, r) = deconvolve(&array![1.0f64, 4.0, 3.0, 7.0, 2.0], &array![2.0, 1.0]).unwrap();
    let q_scipy = [0.5f64, 1.75, 0.625, 3.1875];
    let r_scipy = [0.0f64, 0.0, 0.0, 0.0, -1.1875];
    assert!(q.iter().zip(q_scipy).all(|(a, b)| (a - b).abs() < 1e-12), "{q}");
    assert!(r.iter().zip(r_scipy).all(|(a, b)| (a - b).abs() < 1e-12), "{r}");
    // A divisor longer than the signal: empty quotient, the signal as remainder.
    let (q, r) = deconvolve(&array![1.0, 2.0], &array![1.0, 1.0, 1.0]).unwrap();
    assert!(q.is_empty());
    assert_eq!(r, array![1.0, 2.0]);
}

#[test]
fn bad_input_is_a_typed_error() {
    let zero_lead = deconvolve(&array![1.0, 2.0, 3.0], &array![0.0, 1.0]);
    assert!(matches!(zero_lead, Err(ConvError::InvalidParameter { name: "divisor[0]", .. })));
    assert!(matches!(deconvolve(&Array1::<f64>::zeros(0), &array![1.0]), Err(ConvError::Empty { .. })));
    assert!(matches!(
        wiener_deconvolve(&array![1.0], &array![1.0, 2.0], 0.0),
        Err(ConvError::ValidModeShapes { .. })
    ));
    assert!(matches!(
        wiener_deconvolve(&array![1.0, 2.0], &array![1.0], -1.0),
        Err(ConvError::InvalidParameter { name: "lambda", .. })
    ));
    assert!(matches!(
        wiener_deconvolve(&array![1.0, f64::NAN], &array![1.0], 0.0),
        Err(ConvError::NonFinite { .. })
    ));
}

/// Convolve, then deconvolve: the input comes back (to rounding), by both methods.
#[test]
fn round_trips_on_noiseless_data() {
    let strategy = (prop::collection::vec(-1.0f64..1.0, 1..60), prop::collection::vec(-1.0f64..1.0, 1..8));
    runner(64)
        .run(&strategy, |(x, mut k)| {
            // A kernel with a healthy leading coefficient and no spectral zeros: dominant first tap.
            k[0] = 2.0 + k.iter().map(|v| v.abs()).sum::<f64>();
            let (x, k) = (Array1::from(x), Array1::from(k));
            let y = convolve(&x, &k, Mode::Full).unwrap();
            let (q, r) = deconvolve(&y, &k).unwrap();
            prop_assert!(q.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-9));
            prop_assert!(r.iter().all(|v| v.abs() < 1e-9));
            let w = wiener_deconvolve(&y, &k, 0.0).unwrap();
            prop_assert!(w.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-9));
            Ok(())
        })
        .unwrap();
}

#[test]
fn two_dimensional_round_trip() {
    let image = Array2::from_shape_fn((20, 17), |(r, c)| ((r * 7 + c * 3) % 11) as f64 / 11.0);
    let blur = array![[4.0, 1.0, 0.5], [1.0, 0.5, 0.25]];
    let observed = convolve(&image, &blur, Mode::Full).unwrap();
    let estimate = wiener_deconvolve2d(&observed, &blur, 0.0).unwrap();
    assert_eq!(estimate.dim(), image.dim());
    assert!(estimate.iter().zip(&image).all(|(a, b)| (a - b).abs() < 1e-10));
}

/// With noise, regularisation keeps the error bounded and finite; more noise, more error.
#[test]
fn degrades_gracefully_with_noise() {
    let n = 400;
    let x = Array1::from_shape_fn(n, |i| (i as f64 * 0.05).sin());
    // A smoothing kernel whose spectrum nearly vanishes at high frequencies.
    let k = Array1::from(vec![0.25, 0.5, 0.25]);
    let clean = convolve(&x, &k, Mode::Full).unwrap();
    let noise = |amplitude: f64| {
        Array1::from_shape_fn(clean.len(), |i| amplitude * ((i * 7919 % 997) as f64 / 997.0 - 0.5))
    };
    let rms = |estimate: &Array1<f64>| {
        (estimate.iter().zip(&x).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / n as f64).sqrt()
    };
    let small = rms(&wiener_deconvolve(&(&clean + &noise(1e-4)), &k, 1e-3).unwrap());
    let large = rms(&wiener_deconvolve(&(&clean + &noise(1e-2)), &k, 1e-3).unwrap());
    assert!(small.is_finite() && large.is_finite());
    assert!(small < large, "{small} vs {large}");
    assert!(large < 0.1, "regularised error {large}");
}
