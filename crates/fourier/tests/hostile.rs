//! Sizes and budgets (issue "Reliability", family 7): requests for absurd numbers of harmonics,
//! steps or precision are typed errors, returned at once, never a panic, an abort or a hang.

use std::time::{Duration, Instant};

use fourier::{FourierError, FourierSeries, MAX_TERMS, Oscillator, band_limited_square};

fn quickly<R>(what: &str, call: impl FnOnce() -> R) -> R {
    let start = Instant::now();
    let result = call();
    assert!(start.elapsed() < Duration::from_secs(20), "{what} took {:?}", start.elapsed());
    result
}

#[test]
fn absurd_term_counts_are_refused() {
    for terms in [MAX_TERMS + 1, 1 << 33, usize::MAX] {
        let result = quickly("square_wave", || FourierSeries::square_wave(0.5, terms));
        assert!(
            matches!(result, Err(FourierError::TooLarge { what: "harmonics", .. })),
            "{terms}: {result:?}"
        );
        let result = quickly("from_fn", || FourierSeries::from_fn(|t| t.sin(), 1.0, terms, 1e-6));
        assert!(matches!(result, Err(FourierError::TooLarge { .. })), "{terms}: {result:?}");
    }
    // A 1 Hz square wave band-limited at 10^12 Hz would need 10^12 harmonics (8 TB).
    let result = quickly("band_limited_square", || band_limited_square(1.0, 1e12));
    assert!(matches!(result, Err(FourierError::TooLarge { .. })), "{result:?}");
    assert!(FourierSeries::square_wave(0.5, MAX_TERMS).is_ok());
}

#[test]
fn absurd_step_counts_are_refused() {
    let oscillator = Oscillator::new(1.0, 0.1, 4.0).unwrap();
    let result = quickly("simulate", || oscillator.simulate(|_| 0.0, (1.0, 0.0), 1e-3, usize::MAX));
    assert!(matches!(result, Err(FourierError::TooLarge { what: "integration steps", .. })), "{result:?}");
    assert_eq!(oscillator.simulate(|_| 0.0, (1.0, 0.0), 1e-3, 10).unwrap().len(), 11);
}

#[test]
fn the_quadrature_stops_at_its_budget() {
    // A tolerance below what f64 can resolve, and a period of 1e300: before, both ran for minutes.
    let tight =
        quickly("tolerance 1e-18", || FourierSeries::from_fn(|t| (t * 7.3).sin().abs(), 1.0, 50, 1e-18));
    assert!(matches!(tight, Err(FourierError::NoConvergence { .. })), "{tight:?}");
    let long =
        quickly("period 1e300", || FourierSeries::from_fn(|t| (t.sin() * 3.0).floor(), 1e300, 200, 1e-9));
    assert!(long.is_err(), "{long:?}");
}

#[test]
fn subnormal_periods_and_frequencies_are_not_positive_enough() {
    let tiny = f64::MIN_POSITIVE / 4.0; // subnormal: 2 pi / tiny is infinite
    assert!(matches!(
        FourierSeries::new(tiny, 0.0, vec![1.0], vec![0.0]),
        Err(FourierError::NotPositive { .. })
    ));
    assert!(matches!(band_limited_square(tiny, 1.0), Err(FourierError::NotPositive { .. })));
}

/// Views of any size and quadratic work (family 7): a broadcast of 10^12 times is refused
/// before one value is read; the direct circular convolution and the Gibbs search refuse work
/// past `MAX_OPERATIONS` instead of running for hours (`gibbs_overshoot` with `usize::MAX`
/// samples looped for 2^64 steps before).
#[test]
fn broadcasts_and_quadratic_work_are_refused_up_front() {
    use fourier::ndarray::{Array1, array};
    use fourier::{MAX_OPERATIONS, MAX_SAMPLES, PulseTrain, circular_convolve, gibbs_overshoot, square};
    let one = array![0.5_f64];
    let huge = one.broadcast(1_000_000_000_000).expect("a broadcast of one value");
    let series = FourierSeries::square_wave(0.5, 9).unwrap();
    let too_large = |what: &str, result: Result<Array1<f64>, FourierError>| {
        assert!(matches!(result, Err(FourierError::TooLarge { .. })), "{what}: {result:?}");
    };
    too_large("values", quickly("values", || series.values(&huge)));
    too_large("square", quickly("square", || square(&huge, 0.5)));
    too_large("pulses", quickly("pulses", || PulseTrain::new(1.0, 0.5, 1.0).unwrap().values(&huge)));
    let response = Oscillator::new(1.0, 0.5, 3.0).unwrap().steady_state(&series).unwrap();
    too_large("positions", quickly("positions", || response.positions(&huge)));
    too_large("circular", quickly("circular", || circular_convolve(&huge, &huge)));
    too_large("circular fft", quickly("circular fft", || fourier::circular_convolve_fft(&huge, &huge)));
    too_large("linear fft", quickly("linear fft", || fourier::linear_convolve_fft(&huge, &one)));
    let result = quickly("from_samples", || FourierSeries::from_samples(&huge, 1.0, 3));
    assert!(matches!(result, Err(FourierError::TooLarge { .. })), "{result:?}");
    // Quadratic work within the sample cap: 2^20 samples convolved directly is 2^40 products.
    let long = Array1::<f64>::ones(1 << 20);
    too_large("circular 2^20", quickly("circular 2^20", || circular_convolve(&long, &long)));
    const { assert!((1u128 << 40) > MAX_OPERATIONS && (1 << 20) <= MAX_SAMPLES) };
    for samples in [usize::MAX, MAX_SAMPLES + 1] {
        let result = quickly("gibbs", || gibbs_overshoot(&series, (0.0, 1.0), 1.0, 2.0, samples));
        assert!(matches!(result, Err(FourierError::TooLarge { .. })), "{samples}: {result:?}");
    }
    // A ratio of frequencies that underflows to 0 (found by the fuzz target; it subtracted 1
    // from 0 before): no harmonic below the Nyquist frequency.
    let result = band_limited_square(2.4e64, 3.1e-294);
    assert!(matches!(result, Err(FourierError::ZeroTerms { .. })), "{result:?}");
    // Within the caps, the answers come back.
    assert_eq!(series.values(&one.broadcast(1000).unwrap()).unwrap().len(), 1000);
    assert!(gibbs_overshoot(&series, (0.0, 1.0), 1.0, 2.0, 1000).is_ok());
}
