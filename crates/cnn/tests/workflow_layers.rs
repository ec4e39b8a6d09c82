//! The layers of the Keras workflow: BatchNormalization against Keras, and the augmentation
//! layers (train vs inference, their backward pass as the adjoint of the forward one).
#![allow(clippy::unwrap_used)]

use cnn::layers::{BatchNormalization, FillMode, FlipMode, Layer, RandomFlip, RandomTranslation};
use ndarray::{ArrayD, IxDyn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

fn flat(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap()],
        other => panic!("not a number: {other}"),
    }
}

fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-9 * (1.0 + w.abs()), "{what}[{i}]: {g} vs Keras {w}");
    }
}

#[test]
fn batch_normalization_matches_keras_in_training_and_inference() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/batchnorm_golden.json"))
            .unwrap();
    let golden: Value = serde_json::from_str(&text).unwrap();
    for case in golden["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let shape: Vec<usize> =
            case["shape"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        let mut layer = BatchNormalization::<f64>::new()
            .momentum(case["momentum"].as_f64().unwrap())
            .epsilon(case["epsilon"].as_f64().unwrap());
        layer.build(&shape[1..], &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
        for (param, key) in layer.params_mut().into_iter().zip(["gamma", "beta"]) {
            param.value = ArrayD::from_shape_vec(param.value.raw_dim(), flat(&case[key])).unwrap();
        }
        let batches: Vec<ArrayD<f64>> = case["batches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| ArrayD::from_shape_vec(IxDyn(&shape), flat(b)).unwrap())
            .collect();
        for (step, want) in case["train_outputs"].as_array().unwrap().iter().enumerate() {
            let got = layer.forward(&batches[step], true).unwrap();
            assert_close(&format!("{name}: training step {step}"), got.as_slice().unwrap(), &flat(want));
        }
        let moving = layer.non_trainable();
        assert_close(
            &format!("{name}: moving mean"),
            moving[0].value.as_slice().unwrap(),
            &flat(&case["moving_mean"]),
        );
        assert_close(
            &format!("{name}: moving variance"),
            moving[1].value.as_slice().unwrap(),
            &flat(&case["moving_variance"]),
        );
        let got = layer.forward(&batches[2], false).unwrap();
        assert_close(&format!("{name}: inference"), got.as_slice().unwrap(), &flat(&case["inference"]));
    }
}

fn random(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.random_range(-1.0..1.0))
}

/// `<forward(x), r> = <x, backward(r)>` for the gather of one training pass: the backward pass
/// is the transpose of the (linear) forward one.
fn check_adjoint(name: &str, mut layer: impl Layer<f64>) {
    layer.build(&[5, 6, 2], &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
    let (x, r) = (random(&[4, 5, 6, 2], 2), random(&[4, 5, 6, 2], 3));
    let y = layer.forward(&x, true).unwrap();
    let back = layer.backward(r.clone()).unwrap();
    let (left, right) = ((&y * &r).sum(), (&x * &back).sum());
    assert!((left - right).abs() < 1e-12 * (1.0 + left.abs()), "{name}: {left} vs {right}");
    // Inference is the identity.
    assert_eq!(layer.forward(&x, false).unwrap(), x, "{name}: inference");
}

#[test]
fn augmentation_backward_is_the_adjoint_and_inference_the_identity() {
    check_adjoint("RandomFlip", RandomFlip::new(FlipMode::HorizontalAndVertical));
    for mode in [FillMode::Reflect, FillMode::Wrap, FillMode::Nearest, FillMode::Constant] {
        check_adjoint(
            &format!("RandomTranslation {mode:?}"),
            RandomTranslation::new(0.4, 0.4).fill_mode(mode),
        );
    }
}

#[test]
fn flips_mirror_whole_images_and_are_seeded() {
    let x = random(&[16, 3, 4, 1], 4);
    let run = |seed| {
        let mut layer = RandomFlip::new(FlipMode::Horizontal).seed(seed);
        Layer::<f64>::build(&mut layer, &[3, 4, 1], &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
        layer.forward(&x, true).unwrap()
    };
    let y = run(9);
    assert_eq!(y, run(9), "the same seed flips the same samples");
    let mut flipped = 0;
    for n in 0..16 {
        let same = (0..3).all(|i| (0..4).all(|j| y[[n, i, j, 0]] == x[[n, i, j, 0]]));
        let mirrored = (0..3).all(|i| (0..4).all(|j| y[[n, i, j, 0]] == x[[n, i, 3 - j, 0]]));
        assert!(same || mirrored, "sample {n} is the image or its mirror");
        flipped += usize::from(mirrored && !same);
    }
    assert!((3..=13).contains(&flipped), "about half of 16 flipped: {flipped}");
}

#[test]
fn translation_moves_by_whole_pixels_within_the_factor() {
    // One row of distinct values, shifted right with a constant fill: the output is the row
    // moved by some d in [-2, 2] (factor 0.25 of 8 pixels), zeros coming in.
    let row: Vec<f64> = (1..=8).map(f64::from).collect();
    let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 8, 1]), row.clone()).unwrap();
    let mut layer = RandomTranslation::new(0.0, 0.25).fill_mode(FillMode::Constant).seed(5);
    Layer::<f64>::build(&mut layer, &[1, 8, 1], &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
    for _ in 0..20 {
        let y: Vec<f64> = layer.forward(&x, true).unwrap().iter().copied().collect();
        let shift = (-2..=2_i64).find(|&d| {
            (0..8_i64)
                .all(|i| y[i as usize] == if (0..8).contains(&(i - d)) { row[(i - d) as usize] } else { 0.0 })
        });
        assert!(shift.is_some(), "{y:?} is no shift of the row by at most 2");
    }
}

#[test]
fn moving_statistics_travel_with_the_weights() {
    use cnn::layers::{Dense, Flatten, GlobalAveragePooling2D};
    use cnn::{FitConfig, Loss, Sequential, Sgd};
    let build = || {
        let mut model = Sequential::<f64>::new(&[4, 4, 2], 7);
        model.add(BatchNormalization::new()).unwrap();
        model.add(GlobalAveragePooling2D::new()).unwrap();
        model.add(Flatten::new()).unwrap();
        model.add(Dense::new(3).activation(cnn::layers::Activation::Softmax)).unwrap();
        model.compile(Sgd::new(0.05), Loss::CategoricalCrossentropy).unwrap();
        model
    };
    let x = random(&[12, 4, 4, 2], 11);
    let y = ArrayD::from_shape_fn(IxDyn(&[12, 3]), |i| f64::from(u8::from(i[1] == i[0] % 3)));
    let mut trained = build();
    trained.fit(&x, &y, &FitConfig::new(2).batch_size(4).verbose(false)).unwrap();
    // gamma, beta, moving mean, moving variance, then the dense kernel and bias.
    assert_eq!(trained.get_weights().len(), 6);
    assert!(trained.summary().contains("Non-trainable params: 4"));
    let mut copy = build();
    copy.load_weights_from_bytes(&trained.weights_to_bytes().unwrap()).unwrap();
    assert_eq!(copy.predict(&x, 5).unwrap(), trained.predict(&x, 5).unwrap(), "moving statistics saved");
    let mut again = build();
    again.set_weights(trained.get_weights()).unwrap();
    assert_eq!(again.predict(&x, 5).unwrap(), trained.predict(&x, 5).unwrap());
    let mut short = trained.get_weights();
    short.pop();
    assert!(again.set_weights(short).is_err());
}
