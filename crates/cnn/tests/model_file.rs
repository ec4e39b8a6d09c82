//! The model file: architecture and weights in one file, rebuilt to predict bit-identically,
//! and its refusals.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use cnn::layers::{
    Activation, ActivationLayer, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, FillMode,
    Flatten, FlipMode, GlobalAveragePooling2D, Layer, MaxPooling2D, Padding, RandomFlip, RandomTranslation,
};
use cnn::{CnnError, FitConfig, Loss, Sequential, Sgd};
use ndarray::{ArrayD, IxDyn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn every_layer_model(units: usize) -> Sequential<f64> {
    let mut model = Sequential::<f64>::new(&[10, 10, 2], 5);
    model.add(RandomTranslation::new(0.1, 0.2).fill_mode(FillMode::Nearest).seed(3)).unwrap();
    model.add(RandomFlip::new(FlipMode::Vertical)).unwrap();
    model
        .add(Conv2D::new(4, (3, 3)).padding(Padding::Same).strides((1, 2)).kernel_regularizer_l2(1e-4))
        .unwrap();
    model.add(BatchNormalization::new().momentum(0.9)).unwrap();
    model.add(ActivationLayer::new(Activation::Relu)).unwrap();
    model.add(MaxPooling2D::new((2, 2)).strides((1, 1))).unwrap();
    model.add(AveragePooling2D::new((2, 2)).padding(Padding::Same)).unwrap();
    model.add(Flatten::new()).unwrap();
    model.add(Dropout::new(0.2)).unwrap();
    model.add(Dense::new(units).activation(Activation::Tanh).use_bias(false)).unwrap();
    model.add(Dense::new(3).activation(Activation::Softmax)).unwrap();
    model
}

fn data() -> (ArrayD<f64>, ArrayD<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let x = ArrayD::from_shape_simple_fn(IxDyn(&[12, 10, 10, 2]), || rng.random_range(-1.0..1.0));
    let y = ArrayD::from_shape_fn(IxDyn(&[12, 3]), |i| f64::from(u8::from(i[1] == i[0] % 3)));
    (x, y)
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("cnn-model-file-{}-{name}", std::process::id()))
}

#[test]
fn a_saved_model_loads_and_predicts_bit_identically() {
    let (x, y) = data();
    let mut model = every_layer_model(8);
    model.compile(Sgd::new(0.05), Loss::CategoricalCrossentropy).unwrap();
    model.fit(&x, &y, &FitConfig::new(2).batch_size(4).verbose(false)).unwrap();
    let path = temp("every-layer.safetensors");
    model.save(&path).unwrap();
    let loaded = Sequential::<f64>::load(&path).unwrap();
    assert_eq!(loaded.config().unwrap(), model.config().unwrap());
    assert_eq!(loaded.summary(), model.summary());
    assert_eq!(loaded.predict(&x, 5).unwrap(), model.predict(&x, 5).unwrap());
    // The global-pooling head too.
    let mut pooled = Sequential::<f32>::new(&[6, 6, 1], 0);
    pooled.add(Conv2D::new(3, (3, 3))).unwrap();
    pooled.add(GlobalAveragePooling2D::new()).unwrap();
    let bytes = pooled.to_bytes().unwrap();
    let again = Sequential::<f32>::from_bytes(&bytes).unwrap();
    let x32 = x.mapv(|v| v as f32).slice_axis(ndarray::Axis(3), ndarray::Slice::from(0..1)).to_owned();
    let x32 = x32.slice_axis(ndarray::Axis(1), ndarray::Slice::from(0..6)).to_owned();
    let x32 = x32.slice_axis(ndarray::Axis(2), ndarray::Slice::from(0..6)).to_owned();
    assert_eq!(again.predict(&x32, 4).unwrap(), pooled.predict(&x32, 4).unwrap());
    std::fs::remove_file(&path).ok();
}

/// `bytes` (a model file) with its config replaced by `config`.
fn with_config(bytes: &[u8], config: &serde_json::Value) -> Vec<u8> {
    let file = safetensors::SafeTensors::deserialize(bytes).unwrap();
    let tensors: Vec<(String, safetensors::tensor::TensorView<'_>)> = file.tensors();
    let metadata = HashMap::from([
        ("format".to_string(), "convkit-cnn-model".to_string()),
        ("config".to_string(), config.to_string()),
    ]);
    safetensors::serialize(tensors, Some(metadata)).unwrap()
}

#[test]
fn files_that_do_not_fit_are_typed_errors() {
    let model = every_layer_model(8);
    let bytes = model.to_bytes().unwrap();
    // A config whose Dense layer has other units than the weights.
    let other = with_config(&bytes, &every_layer_model(9).config().unwrap());
    assert!(matches!(Sequential::<f64>::from_bytes(&other), Err(CnnError::Weights(_))));
    // An unknown layer class, a config that is not a Sequential.
    let mut config = model.config().unwrap();
    config["layers"][3]["class_name"] = "LayerNormalization".into();
    assert!(matches!(
        Sequential::<f64>::from_bytes(&with_config(&bytes, &config)),
        Err(CnnError::ModelConfig(_))
    ));
    let mut config = model.config().unwrap();
    config["layers"][2]["config"]["filters"] = "four".into();
    assert!(matches!(
        Sequential::<f64>::from_bytes(&with_config(&bytes, &config)),
        Err(CnnError::ModelConfig(_))
    ));
    assert!(matches!(
        Sequential::<f64>::from_bytes(&with_config(&bytes, &serde_json::json!({"class_name": "Functional"}))),
        Err(CnnError::ModelConfig(_))
    ));
    // Saved in f64, loaded as f32; a weights-only file; bytes that are no safetensors at all.
    assert!(matches!(Sequential::<f32>::from_bytes(&bytes), Err(CnnError::ModelConfig(_))));
    assert!(matches!(
        Sequential::<f64>::from_bytes(&model.weights_to_bytes().unwrap()),
        Err(CnnError::ModelConfig(_))
    ));
    assert!(matches!(Sequential::<f64>::from_bytes(b"not a model"), Err(CnnError::Weights(_))));
    assert!(matches!(Sequential::<f64>::load(temp("missing.safetensors")), Err(CnnError::Io { .. })));
}

/// A user's own layer: it works in a model but has no config, so the model cannot be saved.
struct Doubling;

impl Layer<f64> for Doubling {
    fn kind(&self) -> &'static str {
        "Doubling"
    }
    fn build(&mut self, input_shape: &[usize], _: &mut ChaCha8Rng) -> Result<Vec<usize>, CnnError> {
        Ok(input_shape.to_vec())
    }
    fn forward(&mut self, input: &ArrayD<f64>, _: bool) -> Result<ArrayD<f64>, CnnError> {
        Ok(input * 2.0)
    }
    fn infer(&self, input: &ArrayD<f64>) -> Result<ArrayD<f64>, CnnError> {
        Ok(input * 2.0)
    }
    fn backward(&mut self, grad: ArrayD<f64>) -> Result<ArrayD<f64>, CnnError> {
        Ok(grad * 2.0)
    }
}

#[test]
fn a_model_with_a_layer_of_its_own_is_refused_by_save() {
    let mut model = Sequential::<f64>::new(&[4], 0);
    model.add(Doubling).unwrap();
    model.add(Dense::new(2)).unwrap();
    let error = model.to_bytes().unwrap_err();
    assert!(matches!(&error, CnnError::ModelConfig(m) if m.contains("Doubling")), "{error}");
    // Its weights still save.
    assert!(model.weights_to_bytes().is_ok());
}
