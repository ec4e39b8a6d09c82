//! Property tests over hostile hyper-parameters (issue "Reliability", family 6): proptest
//! builds models from layers whose sizes, strides, pool sizes, rates and regularisation
//! weights mix ordinary values with 0, 2^40, `usize::MAX`, NaN and infinities, and then runs a
//! tiny batch through whatever was accepted. Every step returns a typed error or works; nothing
//! panics (the test profile has overflow checks on) and no accepted layer holds more than
//! `MAX_PARAMETER_VALUES` values per tensor.

use cnn::layers::{
    Activation, AveragePooling2D, Conv2D, Dense, Dropout, Flatten, MAX_PARAMETER_VALUES, MaxPooling2D,
    Padding,
};
use cnn::{Adam, FitConfig, Loss, Sequential, Sgd};
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

/// A size: mostly small, sometimes 0 or absurd.
fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        8 => 1..5usize,
        1 => Just(0usize),
        1 => Just(1usize << 40),
        1 => Just(usize::MAX),
    ]
}

/// A real hyper-parameter (rate, weight): mostly sensible, sometimes not a number at all.
fn real() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => 0.0..0.9f64,
        1 => Just(-1.0),
        1 => Just(1.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(1e300),
    ]
}

fn padding() -> impl Strategy<Value = Padding> {
    prop_oneof![Just(Padding::Valid), Just(Padding::Same)]
}

#[derive(Debug, Clone)]
enum LayerSpec {
    Conv { filters: usize, kernel: (usize, usize), strides: (usize, usize), padding: Padding, l2: f64 },
    MaxPool { pool: (usize, usize), strides: (usize, usize), padding: Padding },
    AveragePool { pool: (usize, usize), padding: Padding },
    Dropout { rate: f64 },
    Flatten,
    Dense { units: usize, l2: f64 },
}

fn layer() -> impl Strategy<Value = LayerSpec> {
    prop_oneof![
        (size(), (size(), size()), (size(), size()), padding(), real()).prop_map(
            |(filters, kernel, strides, padding, l2)| LayerSpec::Conv {
                filters,
                kernel,
                strides,
                padding,
                l2
            }
        ),
        ((size(), size()), (size(), size()), padding())
            .prop_map(|(pool, strides, padding)| LayerSpec::MaxPool { pool, strides, padding }),
        ((size(), size()), padding()).prop_map(|(pool, padding)| LayerSpec::AveragePool { pool, padding }),
        real().prop_map(|rate| LayerSpec::Dropout { rate }),
    ]
}

/// Image layers, then (mostly) `Flatten` and a `Dense` head, as a Keras model is built.
fn layers() -> impl Strategy<Value = Vec<LayerSpec>> {
    (
        proptest::collection::vec(layer(), 0..4),
        prop_oneof![4 => Just(true), 1 => Just(false)],
        proptest::option::of((size(), real())),
    )
        .prop_map(|(mut layers, flatten, dense)| {
            if flatten {
                layers.push(LayerSpec::Flatten);
            }
            layers.extend(dense.map(|(units, l2)| LayerSpec::Dense { units, l2 }));
            layers
        })
}

/// Adds `spec` to `model`; `Err` is a typed refusal (the property: no panic on the way).
fn add(model: &mut Sequential<f32>, spec: &LayerSpec) -> Result<(), cnn::CnnError> {
    match *spec {
        LayerSpec::Conv { filters, kernel, strides, padding, l2 } => model
            .add(
                Conv2D::new(filters, kernel)
                    .strides(strides)
                    .padding(padding)
                    .activation(Activation::Relu)
                    .kernel_regularizer_l2(l2),
            )
            .map(drop),
        LayerSpec::MaxPool { pool, strides, padding } => {
            model.add(MaxPooling2D::new(pool).strides(strides).padding(padding)).map(drop)
        }
        LayerSpec::AveragePool { pool, padding } => {
            model.add(AveragePooling2D::new(pool).padding(padding)).map(drop)
        }
        LayerSpec::Dropout { rate } => model.add(Dropout::new(rate)).map(drop),
        LayerSpec::Flatten => model.add(Flatten::new()).map(drop),
        LayerSpec::Dense { units, l2 } => model.add(Dense::new(units).kernel_regularizer_l2(l2)).map(drop),
    }
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
    #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, rng_seed: fixed_seed(0x2704), ..ProptestConfig::default() })]

    #[test]
    fn hostile_hyper_parameters_are_refused_or_work(
        input in (size(), size(), size()),
        layers in layers(),
        batch in size(),
        learning_rate in real(),
        adam in any::<bool>(),
    ) {
        let mut model = Sequential::<f32>::new(&[input.0, input.1, input.2], 7);
        for spec in &layers {
            if add(&mut model, spec).is_err() {
                return Ok(());
            }
        }
        for param in model.params() {
            prop_assert!(param.value.len() <= MAX_PARAMETER_VALUES, "{:?}", param.value.shape());
        }
        let compiled = if adam {
            model.compile(Adam::new(learning_rate), Loss::MeanSquaredError)
        } else {
            model.compile(Sgd::new(learning_rate), Loss::MeanSquaredError)
        };
        // Run a batch only through models small enough to run in a test.
        let sample: Option<usize> = [input.0, input.1, input.2].iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if !sample.is_some_and(|s| (1..=4096).contains(&s)) {
            return Ok(());
        }
        let values: usize = model.params().iter().map(|p| p.value.len()).sum();
        if values > 1 << 20 || !(1..=8).contains(&batch) {
            return Ok(());
        }
        let x = ArrayD::from_shape_fn(IxDyn(&[batch, input.0, input.1, input.2]), |i| (i[1] + i[2] + i[3]) as f32 / 8.0);
        let Ok(predictions) = model.predict(&x, batch) else { return Ok(()) };
        prop_assert_eq!(predictions.shape()[0], batch);
        if compiled.is_ok() {
            let y = ArrayD::zeros(predictions.raw_dim());
            let _ = model.fit(&x, &y, &FitConfig::new(1).batch_size(batch).verbose(false));
        }
    }
}
