//! Properties that hold for any input (seeded), and the typed refusals of bad input.

use conv_core::{Mode, convolve};
use filter::{
    Band, FilterError, PadType, Window, ZeroPhase, butter, filtfilt, filtfilt_with, firwin, lfilter,
    lfilter_with_state, lfilter_zi, sosfilt, sosfilt_with_state, sosfiltfilt, sosfiltfilt_with,
};
use ndarray::Array1;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random(len: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
}

fn max_error(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0_f64, |m, (x, y)| m.max((x - y).abs()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, rng_seed: proptest::test_runner::RngSeed::Fixed(27), ..ProptestConfig::default() })]

    /// Filtering in two pieces, the second from the first's final state, is the one-piece call:
    /// bit for bit for a recursion, to rounding for a FIR filter (a convolution).
    #[test]
    fn pieces_with_state_equal_the_whole(order in 1_usize..7, cutoff in 0.05_f64..0.9, split in 0_usize..400, seed in 0_u64..500) {
        let x = random(400, seed);
        let (b, a) = butter(order, &Band::Lowpass(cutoff)).and_then(|z| z.to_ba()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let whole = lfilter(&b, &a, &x).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (first, zf) = lfilter_with_state(&b, &a, &x[..split], &vec![0.0; order]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (second, _) = lfilter_with_state(&b, &a, &x[split..], &zf).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!([first, second].concat(), whole);

        let sos = butter(order, &Band::Highpass(cutoff)).and_then(|z| z.to_sos()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let whole = sosfilt(&sos, &x).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (first, zf) = sosfilt_with_state(&sos, &x[..split], &vec![[0.0; 2]; sos.len()]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (second, _) = sosfilt_with_state(&sos, &x[split..], &zf).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!([first, second].concat(), whole);

        let taps = firwin(31, &Band::Lowpass(cutoff), &Window::Hamming).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let whole = lfilter(&taps, &[1.0], &x).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (first, zf) = lfilter_with_state(&taps, &[1.0], &x[..split], &[0.0; 30]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (second, _) = lfilter_with_state(&taps, &[1.0], &x[split..], &zf).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(max_error(&[first, second].concat(), &whole) < 1e-13);
    }

    /// Forward then backward through a symmetric FIR `h` is the convolution with `h * h`,
    /// centred: away from the padded ends, filtfilt is that double convolution.
    #[test]
    fn filtfilt_of_a_symmetric_fir_is_the_double_convolution_inside(taps in 1_usize..20, cutoff in 0.05_f64..0.95, seed in 0_u64..500) {
        let numtaps = 2 * taps + 1;
        let h = firwin(numtaps, &Band::Lowpass(cutoff), &Window::Hann).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let x = random(600, seed);
        let y = filtfilt(&h, &[1.0], &x).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let hh = convolve(&Array1::from(h.clone()), &Array1::from(h), Mode::Full).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let double = convolve(&Array1::from(x), &hh, Mode::Same).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let edge = 2 * numtaps;
        let inside = 600 - 2 * edge;
        let error = max_error(&y[edge..edge + inside], &double.as_slice().unwrap_or_default()[edge..edge + inside]);
        prop_assert!(error < 1e-13, "error {error:e}");
    }

    /// The steady state: a constant signal started from `lfilter_zi * value` stays at
    /// `value * H(1)`, and zero-phase filtering leaves a constant unchanged.
    #[test]
    fn the_steady_state_has_no_transient(order in 1_usize..6, low in 0.05_f64..0.4, value in -10.0_f64..10.0) {
        let (b, a) = butter(order, &Band::Lowpass(low)).and_then(|z| z.to_ba()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let zi = lfilter_zi(&b, &a).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let start: Vec<f64> = zi.iter().map(|z| z * value).collect();
        let (y, _) = lfilter_with_state(&b, &a, &[value; 50], &start).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(y.iter().all(|v| (v - value).abs() < 1e-9 * value.abs().max(1.0)));
        let sos = butter(order, &Band::Lowpass(low)).and_then(|z| z.to_sos()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let flat = sosfiltfilt(&sos, &[value; 80]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(flat.iter().all(|v| (v - value).abs() < 1e-9 * value.abs().max(1.0)));
    }
}

#[test]
fn bad_coefficients_and_states_are_refused() {
    let x = [1.0, 2.0, 3.0];
    assert_eq!(lfilter(&[1.0], &[0.0, 1.0], &x), Err(FilterError::LeadingDenominatorZero));
    assert_eq!(lfilter(&[], &[1.0], &x), Err(FilterError::Empty { what: "b" }));
    assert_eq!(lfilter(&[1.0], &[], &x), Err(FilterError::Empty { what: "a" }));
    assert!(matches!(lfilter(&[f64::NAN], &[1.0], &x), Err(FilterError::NotFinite { .. })));
    assert!(matches!(
        lfilter_with_state(&[1.0, 1.0], &[1.0], &x, &[f64::NAN]),
        Err(FilterError::NotFinite { .. })
    ));
    assert_eq!(
        lfilter_with_state(&[1.0, 1.0], &[1.0], &x, &[0.0; 2]),
        Err(FilterError::StateLength { expected: 1, got: 2 })
    );
    assert_eq!(lfilter_zi(&[1.0], &[1.0, -1.0]), Err(FilterError::NoSteadyState));
    assert!(matches!(
        sosfilt(&[[1.0, 0.0, 0.0, 2.0, 0.0, 0.0]], &x),
        Err(FilterError::SectionNotNormalised { section: 0, .. })
    ));
    assert_eq!(sosfilt::<f64>(&[], &x), Err(FilterError::Empty { what: "the sections" }));
    let sos = [[1.0, 0.0, 0.0, 1.0, 0.5, 0.0]];
    assert!(matches!(sosfilt_with_state(&sos, &x, &[]), Err(FilterError::StateLength { .. })));
    assert!(matches!(
        sosfilt_with_state(&sos, &x, &[[f64::INFINITY, 0.0]]),
        Err(FilterError::NotFinite { .. })
    ));
}

#[test]
fn bad_designs_and_short_signals_are_refused() {
    assert!(matches!(butter(0, &Band::Lowpass(0.2)), Err(FilterError::Parameter { .. })));
    assert!(matches!(butter(100_000, &Band::Lowpass(0.2)), Err(FilterError::Parameter { .. })));
    assert!(matches!(butter(2, &Band::Lowpass(0.0)), Err(FilterError::Cutoff { .. })));
    assert!(matches!(butter(2, &Band::Bandpass(0.4, 0.4)), Err(FilterError::Cutoff { .. })));
    assert!(matches!(
        butter(2, &Band::Multiband { edges: vec![0.1, 0.2, 0.3], pass_zero: true }),
        Err(FilterError::Cutoff { .. })
    ));
    assert!(matches!(butter(2, &Band::Highpass(f64::NAN)), Err(FilterError::Cutoff { .. })));
    assert!(matches!(Band::Lowpass(10.0).in_hz(0.0), Err(FilterError::Parameter { .. })));
    assert!(matches!(filter::cheby1(4, 0.0, &Band::Lowpass(0.2)), Err(FilterError::Parameter { .. })));
    assert!(matches!(filter::cheby2(4, f64::NAN, &Band::Lowpass(0.2)), Err(FilterError::Parameter { .. })));
    assert!(matches!(filter::cheby2(0, 40.0, &Band::Lowpass(0.2)), Err(FilterError::Parameter { .. })));
    assert!(matches!(filter::cheby1(3, 1.0, &Band::Bandpass(0.3, 0.2)), Err(FilterError::Cutoff { .. })));
    // An order-12 lowpass at 0.01 has a numerically unstable denominator; its sections are fine.
    let narrow = butter(12, &Band::Lowpass(0.01));
    assert!(matches!(narrow.as_ref().map(filter::Zpk::to_ba), Ok(Err(FilterError::Unstable { .. }))));
    assert!(narrow.and_then(|z| z.to_sos()).is_ok());

    let (b, a) = ([0.5, 0.5], [1.0]);
    let x = random(6, 1);
    assert_eq!(filtfilt(&b, &a, &x), Err(FilterError::TooShortForPadding { len: 6, padlen: 6 }));
    let huge = ZeroPhase { padtype: PadType::Odd, padlen: Some(usize::MAX) };
    assert!(matches!(filtfilt_with(&b, &a, &x, huge), Err(FilterError::TooShortForPadding { .. })));
    let none = ZeroPhase { padtype: PadType::None, padlen: Some(usize::MAX) };
    assert!(filtfilt_with(&b, &a, &x, none).is_ok());
    let sos = [[0.5, 0.5, 0.0, 1.0, 0.0, 0.0]];
    assert!(matches!(sosfiltfilt(&sos, &[1.0; 3]), Err(FilterError::TooShortForPadding { .. })));
    assert!(matches!(
        sosfiltfilt_with(&sos, &[], ZeroPhase { padtype: PadType::None, padlen: None }),
        Err(FilterError::TooShortForPadding { .. })
    ));
}

#[test]
fn empty_signals_give_empty_outputs() {
    assert_eq!(lfilter(&[1.0, 2.0], &[1.0], &[]), Ok(vec![]));
    assert_eq!(lfilter(&[1.0], &[1.0, 0.5], &[]), Ok(vec![]));
    let (y, zf) = lfilter_with_state(&[1.0, 2.0, 3.0], &[1.0], &[], &[4.0, 5.0]).unwrap_or_default();
    assert!(y.is_empty());
    assert_eq!(zf, vec![4.0, 5.0]);
    assert_eq!(sosfilt(&[[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]], &[]), Ok(vec![]));
}

/// Long signals are split over the threads (each part from zero, plus the decayed response to
/// the state before it): the result is the serial one to rounding. The reference filters the
/// same signal in pieces too short to be split, carrying the state.
#[test]
fn split_filtering_equals_the_serial_recursion() {
    let x = random(400_000, 11);
    for sos in [
        butter(8, &Band::Lowpass(0.1)).and_then(|z| z.to_sos()),
        butter(4, &Band::Bandpass(0.05, 0.08)).and_then(|z| z.to_sos()),
        butter(3, &Band::Highpass(0.4)).and_then(|z| z.to_sos()),
    ] {
        let sos = sos.unwrap_or_default();
        let split = sosfilt(&sos, &x).unwrap_or_default();
        let mut state = vec![[0.0; 2]; sos.len()];
        let mut serial = Vec::new();
        for piece in x.chunks(10_000) {
            let (y, zf) = sosfilt_with_state(&sos, piece, &state).unwrap_or_default();
            serial.extend(y);
            state = zf;
        }
        let scale = serial.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        assert!(max_error(&split, &serial) <= 1e-13 * scale, "error {:e}", max_error(&split, &serial));
        let (_, final_state) = sosfilt_with_state(&sos, &x, &vec![[0.0; 2]; sos.len()]).unwrap_or_default();
        assert!(max_error(final_state.as_flattened(), state.as_flattened()) <= 1e-13 * scale);
    }
}

/// Orders and sizes whose work or memory would be unbounded are refused before any is done.
#[test]
fn work_and_memory_beyond_the_caps_are_refused() {
    let long_a = vec![0.5; filter::MAX_ORDER + 2];
    let mut a = long_a.clone();
    a[0] = 1.0;
    assert!(matches!(lfilter(&[1.0], &a, &[1.0; 4]), Err(FilterError::Parameter { name: "order", .. })));
    assert!(matches!(lfilter_zi(&[1.0], &a), Err(FilterError::Parameter { .. })));
    // A FIR filter of that length is a convolution: allowed.
    assert!(lfilter(&long_a, &[1.0], &[1.0; 4]).is_ok());
    let many = vec![[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]; filter::MAX_ORDER];
    assert!(matches!(sosfilt(&many, &[1.0]), Err(FilterError::Parameter { name: "sections", .. })));
    let roots = vec![num_complex::Complex64::new(0.5, 0.0); filter::MAX_ORDER + 1];
    let huge = filter::Zpk { zeros: roots.clone(), poles: roots, gain: 1.0 };
    assert!(matches!(huge.to_sos(), Err(FilterError::Parameter { .. })));
    assert!(matches!(huge.to_ba(), Err(FilterError::Parameter { .. })));
    assert!(filter::largest_reflection(&a).is_err());
    assert!(matches!(filter::StreamingFir::new(&[1.0, 2.0], 1 << 28), Err(FilterError::TooLarge { .. })));
    assert!(matches!(filter::freqz(&[1.0], &[1.0], 1 << 26, false), Err(FilterError::TooLarge { .. })));
    assert!(matches!(
        firwin(filter::MAX_VALUES - 1, &Band::Lowpass(0.2), &Window::Hann),
        Err(FilterError::TooLarge { .. })
    ));
    assert!(matches!(filter::kaiserord(80.0, 1e-12), Err(FilterError::TooLarge { .. })));
}
