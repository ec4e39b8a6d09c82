//! The streaming filter equals the one-shot filter for every chunking; its state moves between
//! filters of any block size; memory does not grow with the signal.

use filter::{StreamState, StreamingFir, lfilter};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random(len: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// Streams `x` in the given chunk sizes (cycled) and returns every output.
fn stream(filter: &mut StreamingFir<f64>, x: &[f64], chunks: &[usize]) -> Vec<f64> {
    let mut y = Vec::new();
    let mut rest = x;
    let mut sizes = chunks.iter().cycle();
    while !rest.is_empty() {
        let take = sizes.next().copied().unwrap_or(1).min(rest.len());
        let before = y.len();
        filter.process(&rest[..take], &mut y);
        // Outputs come out in whole blocks, never ahead of the input.
        assert_eq!((y.len() - before) % filter.block(), 0);
        rest = &rest[take..];
    }
    filter.finish(&mut y);
    y
}

#[track_caller]
fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    let error = got.iter().zip(want).fold(0.0_f64, |m, (g, w)| m.max((g - w).abs()));
    assert!(error <= 1e-12 * scale, "error {error:e}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, rng_seed: proptest::test_runner::RngSeed::Fixed(26), ..ProptestConfig::default() })]

    #[test]
    fn streamed_equals_one_shot_for_any_chunking(
        taps in 1_usize..300,
        block in 1_usize..70,
        len in 0_usize..900,
        chunks in prop::collection::vec(1_usize..200, 1..6),
        seed in 0_u64..1000,
    ) {
        let h = random(taps, seed);
        let x = random(len, seed + 1);
        let mut filter = StreamingFir::new(&h, block).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let y = stream(&mut filter, &x, &chunks);
        let reference = if x.is_empty() { Vec::new() } else { lfilter(&h, &[1.0], &x).map_err(|e| TestCaseError::fail(e.to_string()))? };
        assert_close(&y, &reference);
        // After finish the filter starts a new stream: the same signal gives the same output.
        let again = stream(&mut filter, &x, &chunks);
        assert_close(&again, &reference);
    }

    #[test]
    fn a_saved_state_resumes_in_a_filter_of_another_block_size(
        taps in 1_usize..200,
        blocks in (1_usize..64, 1_usize..64),
        split in 0_usize..500,
        seed in 0_u64..1000,
    ) {
        let h = random(taps, seed);
        let x = random(500, seed + 7);
        let reference = lfilter(&h, &[1.0], &x).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut first = StreamingFir::new(&h, blocks.0).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut y = Vec::new();
        first.process(&x[..split], &mut y);
        let state: StreamState<f64> = first.state();
        prop_assert_eq!(state.history.len(), taps - 1);
        let mut second = StreamingFir::new(&h, blocks.1).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Pending samples that do not fit the new block are fed again as input instead.
        let (resume, replay) = if state.pending.len() < blocks.1 {
            (state.clone(), Vec::new())
        } else {
            (StreamState { history: state.history.clone(), pending: Vec::new() }, state.pending.clone())
        };
        second.restore(&resume).map_err(|e| TestCaseError::fail(e.to_string()))?;
        second.process(&replay, &mut y);
        second.process(&x[split..], &mut y);
        second.finish(&mut y);
        assert_close(&y, &reference);
    }
}

#[test]
fn state_and_restore_refuse_what_does_not_fit() {
    let h = random(10, 1);
    let Ok(mut filter) = StreamingFir::new(&h, 4) else { panic!("valid filter refused") };
    let wrong_history = StreamState { history: vec![0.0; 3], pending: vec![] };
    assert!(filter.restore(&wrong_history).is_err());
    let too_many_pending = StreamState { history: vec![0.0; 9], pending: vec![0.0; 4] };
    assert!(filter.restore(&too_many_pending).is_err());
    let nan = StreamState { history: vec![f64::NAN; 9], pending: vec![] };
    assert!(matches!(filter.restore(&nan), Err(filter::FilterError::NotFinite { .. })));
    assert!(StreamingFir::new(&h, 0).is_err());
    assert!(StreamingFir::<f64>::new(&[], 4).is_err());
    assert!(StreamingFir::new(&[f64::INFINITY], 4).is_err());
    assert!(StreamingFir::new(&h, usize::MAX).is_err());
}

/// Two million samples through 4,095 taps in chunks of 10,000: the output equals the one-shot
/// call at the checked points, and the filter's memory is what it was after the first chunk.
#[test]
fn a_long_signal_streams_in_constant_memory() {
    let h = random(4095, 3);
    let Ok(mut filter) = StreamingFir::new(&h, 512) else { panic!("valid filter refused") };
    let total = 2_000_000;
    let mut produced = 0;
    let mut y = Vec::with_capacity(10_512);
    let mut window_check = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut history = Vec::new();
    while produced < total {
        let chunk: Vec<f64> = (0..10_000).map(|_| rng.random_range(-1.0..1.0)).collect();
        if history.len() < 30_000 {
            history.extend_from_slice(&chunk);
        }
        y.clear();
        filter.process(&chunk, &mut y);
        if window_check.len() < 20_000 {
            window_check.extend_from_slice(&y);
        }
        produced += chunk.len();
        assert!(y.capacity() <= 10_512, "the output buffer grew to {}", y.capacity());
    }
    let reference = lfilter(&h, &[1.0], &history[..20_000]).unwrap_or_default();
    assert_close(&window_check[..20_000], &reference);
}

#[test]
fn f32_streams_agree_with_f64_to_single_precision() {
    let h = random(255, 4);
    let x = random(3000, 5);
    let h32: Vec<f32> = h.iter().map(|&v| v as f32).collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let Ok(mut filter) = StreamingFir::new(&h32, 64) else { panic!("valid filter refused") };
    let mut y = Vec::new();
    for chunk in x32.chunks(333) {
        filter.process(chunk, &mut y);
    }
    filter.finish(&mut y);
    let reference = lfilter(&h, &[1.0], &x).unwrap_or_default();
    let scale = reference.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    let error = y.iter().zip(&reference).fold(0.0_f64, |m, (g, w)| m.max((f64::from(*g) - w).abs()));
    assert!(error <= 2e-5 * scale, "f32 error {error:e}");
}
