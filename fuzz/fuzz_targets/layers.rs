//! Arbitrary hyper-parameters through cnn's layers and optimizers: a model is built from
//! whatever is accepted and one small batch runs through it (predict and one fit step). Every
//! step returns a typed error or works; nothing panics or allocates past the per-tensor cap.
#![no_main]
use arbitrary::Arbitrary;
use cnn::layers::{Activation, AveragePooling2D, Conv2D, Dense, Dropout, Flatten, MaxPooling2D, Padding};
use cnn::{FitConfig, Loss, Sequential, Sgd};
use libfuzzer_sys::fuzz_target;
use ndarray::{ArrayD, IxDyn};

#[derive(Arbitrary, Debug)]
enum LayerSpec {
    Conv { filters: u64, kernel: (u64, u64), strides: (u64, u64), same: bool, l2: f64 },
    MaxPool { pool: (u64, u64), strides: (u64, u64), same: bool },
    AveragePool { pool: (u64, u64), same: bool },
    Dropout { rate: f64 },
    Flatten,
    Dense { units: u64, l2: f64 },
}

#[derive(Arbitrary, Debug)]
struct Request {
    input: (u8, u8, u8),
    layers: Vec<LayerSpec>,
    learning_rate: f64,
    batch: u8,
}

/// Sizes mostly small, but the fuzzer may reach any u64 (and so usize::MAX) through the top bit.
fn size(v: u64) -> usize {
    if v >> 63 == 1 { v as usize } else { (v % 9) as usize }
}

fn padding(same: bool) -> Padding {
    if same { Padding::Same } else { Padding::Valid }
}

fuzz_target!(|r: Request| {
    let input = [usize::from(r.input.0 % 12), usize::from(r.input.1 % 12), usize::from(r.input.2 % 4)];
    let mut model = Sequential::<f32>::new(&input, 3);
    for spec in r.layers.iter().take(6) {
        let added = match *spec {
            LayerSpec::Conv { filters, kernel, strides, same, l2 } => model
                .add(
                    Conv2D::new(size(filters), (size(kernel.0), size(kernel.1)))
                        .strides((size(strides.0), size(strides.1)))
                        .padding(padding(same))
                        .activation(Activation::Relu)
                        .kernel_regularizer_l2(l2),
                )
                .map(drop),
            LayerSpec::MaxPool { pool, strides, same } => model
                .add(MaxPooling2D::new((size(pool.0), size(pool.1))).strides((size(strides.0), size(strides.1))).padding(padding(same)))
                .map(drop),
            LayerSpec::AveragePool { pool, same } => {
                model.add(AveragePooling2D::new((size(pool.0), size(pool.1))).padding(padding(same))).map(drop)
            }
            LayerSpec::Dropout { rate } => model.add(Dropout::new(rate)).map(drop),
            LayerSpec::Flatten => model.add(Flatten::new()).map(drop),
            LayerSpec::Dense { units, l2 } => model.add(Dense::new(size(units)).kernel_regularizer_l2(l2)).map(drop),
        };
        if added.is_err() {
            return;
        }
    }
    let values: usize = model.params().iter().map(|p| p.value.len()).sum();
    if values > 1 << 20 {
        return;
    }
    let batch = usize::from(r.batch % 4) + 1;
    let mut shape = vec![batch];
    shape.extend(input);
    let x = ArrayD::from_shape_fn(IxDyn(&shape), |i| (i[1] + i[2] + i[3]) as f32 / 16.0);
    let Ok(predictions) = model.predict(&x, batch) else { return };
    assert_eq!(predictions.shape()[0], batch);
    if model.compile(Sgd::new(r.learning_rate), Loss::MeanSquaredError).is_ok() {
        let y = ArrayD::zeros(predictions.raw_dim());
        let _ = model.fit(&x, &y, &FitConfig::new(1).batch_size(batch).verbose(false));
    }
});
