//! The automatic backend: cost model, profile files, explanation, measure mode.

use std::sync::Arc;

use conv_core::cost::{Coefficients, Profile, fit};
use conv_core::{Auto, ConvBackend, ConvError, ConvSpec, Geometry, Mode, conv2d_with, convolve_with};
use ndarray::{Array1, Array4};

fn geometry(input: &[usize], kernel: &[usize]) -> Geometry {
    ConvSpec::convolution().mode(Mode::Full).resolve(input, kernel).expect("valid test geometry").geometry
}

#[test]
fn fit_recovers_known_coefficients() {
    let truth = Coefficients { overhead: 2e-6, per_feature: vec![3e-9, 5e-10] };
    let samples: Vec<(Vec<f64>, f64)> = (1..30)
        .map(|i| {
            let features = vec![(i * i * 1000) as f64, ((30 - i) * 7919) as f64];
            let t = truth.predict(&features);
            (features, t)
        })
        .collect();
    let fitted = fit(&samples).unwrap();
    assert!((fitted.overhead / truth.overhead - 1.0).abs() < 1e-6);
    for (a, b) in fitted.per_feature.iter().zip(&truth.per_feature) {
        assert!((a / b - 1.0).abs() < 1e-6, "{fitted:?}");
    }
    // Coefficients never come out negative.
    let noisy = vec![(vec![1.0], 5.0), (vec![2.0], 4.0), (vec![3.0], 3.0)];
    let fitted = fit(&noisy).unwrap();
    assert!(fitted.overhead >= 0.0 && fitted.per_feature.iter().all(|c| *c >= 0.0));
    assert!(fit(&[]).is_none());
}

#[test]
fn profiles_round_trip_and_bad_files_are_typed_errors() {
    let shipped = Profile::shipped();
    assert!(shipped.get("direct", "f64").is_some(), "the shipped profile covers the built-ins");
    assert!(shipped.get("fft", "f32").is_some());
    let again = Profile::parse(&shipped.to_text()).unwrap();
    assert_eq!(again, shipped);
    let bad = [
        ("", 1),
        ("direct f64 1e-6 1e-9\n", 1),
        ("# convkit backend profile v1\ndirect f64 1e-6\n", 2),
        ("# convkit backend profile v1\ndirect f64 1e-6 abc\n", 2),
        ("# convkit backend profile v1\ndirect f64 1e-6 -1\n", 2),
        ("# convkit backend profile v1\ndirect f64 1e-6 NaN\n", 2),
        ("# convkit backend profile v1\ndirect f64 0 1\n# ok\ndirect f64 0 1\n", 4),
        ("# convkit backend profile v1\nx f64 0 1 1 1 1 1 1 1 1 1\n", 2),
    ];
    for (text, line) in bad {
        match Profile::parse(text) {
            Err(ConvError::Profile { line: got, .. }) => assert_eq!(got, line, "{text:?}"),
            other => panic!("{text:?} gave {other:?}"),
        }
    }
}

#[test]
fn explain_names_every_candidate_and_the_choice() {
    let auto = Auto::new();
    let explanation = auto.explain::<f64>(&geometry(&[1, 1, 100_000], &[1, 1, 4095]));
    let names: Vec<&str> = explanation.candidates.iter().map(|c| c.backend.as_str()).collect();
    for backend in ["direct", "toeplitz", "fft", "im2col", "overlap-save"] {
        assert!(names.contains(&backend), "{names:?}");
    }
    // The Toeplitz matrix of this problem is far over its cap: refused, not predicted.
    let toeplitz = explanation.candidates.iter().find(|c| c.backend == "toeplitz").unwrap();
    assert!(toeplitz.prediction.as_ref().is_err_and(|why| why.contains("refuses")));
    // A long signal with a long kernel is a transform's job, not a direct sum's.
    let chosen = explanation.chosen.clone().unwrap();
    assert!(chosen == "fft" || chosen == "overlap-save", "{explanation}");
    assert!(explanation.to_string().starts_with(&format!("chosen: {chosen}")));
    // And a tiny kernel on a short signal is the direct sum's.
    let small = auto.explain::<f64>(&geometry(&[1, 1, 200], &[1, 1, 3]));
    assert_eq!(small.chosen.as_deref(), Some("direct"), "{small}");
    // The edge pieces of a split signal (four samples) and other tiny problems go to the direct
    // sum whatever the profile predicts: a call's fixed cost decides there.
    for (input, kernel) in [([1, 1, 4], [1, 1, 3]), ([1, 1, 10], [1, 1, 3]), ([1, 1, 40], [1, 1, 31])] {
        let g = ConvSpec::correlation().resolve(&input, &kernel).unwrap().geometry;
        assert!(g.multiply_adds() < Auto::TINY_MULTIPLY_ADDS);
        let tiny = auto.explain::<f64>(&g);
        assert_eq!(tiny.chosen.as_deref(), Some("direct"), "{tiny}");
    }
}

#[test]
fn auto_answers_like_direct_on_each_kind_of_problem() {
    let auto = Auto::new();
    let x = Array1::from_shape_fn(20_000, |i| ((i * 37) % 101) as f64 / 50.0 - 1.0);
    for k in [3, 63, 1023] {
        let h = Array1::from_shape_fn(k, |i| ((i * 13) % 17) as f64 / 8.0 - 1.0);
        let want = convolve_with(&x, &h, Mode::Full, &conv_core::Direct).unwrap();
        let got = convolve_with(&x, &h, Mode::Full, &auto).unwrap();
        let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-9 * scale), "k = {k}");
    }
}

#[test]
fn measure_mode_caches_one_winner_per_shape_across_threads() {
    let auto = Arc::new(Auto::new().measuring());
    let input = Array4::from_shape_fn((4, 3, 20, 20), |(n, c, y, x)| ((n + 2 * c + y * x) % 9) as f32);
    let weights = Array4::from_shape_fn((5, 3, 3, 3), |(o, c, i, j)| ((o + c + i + 2 * j) % 5) as f32 - 2.0);
    let spec = ConvSpec::correlation();
    let reference = conv2d_with(&input, &weights, &spec, &conv_core::Direct).unwrap();
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let auto = Arc::clone(&auto);
                let (input, weights, spec) = (&input, &weights, &spec);
                scope.spawn(move || {
                    (0..3)
                        .map(|_| conv2d_with(input, weights, spec, auto.as_ref()).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    for result in &results {
        assert!(result.iter().zip(&reference).all(|(a, b)| (a - b).abs() < 1e-3));
    }
    let g = spec.resolve(&[4, 3, 20, 20], &[5, 3, 3, 3]).unwrap().geometry;
    let chosen = auto.choose::<f32>(&g).unwrap();
    assert!(chosen.supports(&g).is_ok());
}

#[test]
fn auto_supports_whatever_some_candidate_supports() {
    let auto = Auto::new();
    // Over Toeplitz's cap, but Direct supports everything: so Auto supports it too.
    let g = geometry(&[1, 1, 1 << 16], &[1, 1, 1 << 12]);
    assert!(<Auto as ConvBackend<f64>>::supports(&auto, &g).is_ok());
}

/// A planner of its own (issue 22): `with_candidates` restricts the choice to given instances,
/// whose `supports` and `cost_features` are asked (not a default-built backend of the same
/// name): an overlap-save with a fixed grid has other features than the registered one, and
/// an FFT with a tiny workspace cap is refused where the registered FFT is not.
#[test]
fn with_candidates_chooses_among_the_given_instances() {
    use conv_core::{Direct, Fft, OverlapSave};
    let g = geometry(&[1, 1, 100_000], &[1, 1, 255]);
    let default_os = OverlapSave::default();
    let fixed_os = OverlapSave::with_grid(4096);
    let default_features = <OverlapSave as ConvBackend<f64>>::cost_features(&default_os, &g).unwrap();
    let fixed_features = <OverlapSave as ConvBackend<f64>>::cost_features(&fixed_os, &g).unwrap();
    assert_ne!(default_features, fixed_features, "the features come from the instance's grid");

    let only_fft: Vec<Arc<dyn ConvBackend<f64>>> = vec![Arc::new(Fft::default())];
    let auto = Auto::new().with_candidates(only_fft);
    let explanation = auto.explain::<f64>(&g);
    assert_eq!(explanation.candidates.len(), 1, "{explanation}");
    assert_eq!(explanation.chosen.as_deref(), Some("fft"));
    // f32 keeps the registry's candidates.
    assert!(auto.explain::<f32>(&g).candidates.len() >= 5);

    let capped: Vec<Arc<dyn ConvBackend<f64>>> = vec![Arc::new(Fft::with_cap_bytes(1 << 10))];
    let auto = Auto::new().with_candidates(capped);
    let explanation = auto.explain::<f64>(&g);
    assert!(explanation.candidates[0].prediction.as_ref().is_err_and(|why| why.contains("refuses")));
    assert_eq!(explanation.chosen, None);
    assert!(<Auto as ConvBackend<f64>>::supports(&auto, &g).is_err(), "nothing to choose from");

    // A list without `direct`: an unpredicted problem goes to the first candidate supporting it.
    let x = Array1::from_shape_fn(300, |i| (i % 7) as f64);
    let h = Array1::from_shape_fn(5, |i| i as f64);
    let only_os: Vec<Arc<dyn ConvBackend<f64>>> = vec![Arc::new(fixed_os)];
    let auto = Auto::new().with_candidates(only_os);
    let want = convolve_with(&x, &h, Mode::Full, &Direct).unwrap();
    let got = convolve_with(&x, &h, Mode::Full, &auto).unwrap();
    assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-9));
}
