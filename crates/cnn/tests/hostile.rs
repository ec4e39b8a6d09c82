//! Hyper-parameters and files a user can pass (issue "Reliability", families 5 and 6): absurd
//! sizes are typed errors when the layer is built or the file is read, before anything large is
//! allocated; nothing panics or aborts.

use cnn::layers::{Conv2D, Dense, Flatten, MAX_PARAMETER_VALUES, Padding};
use cnn::{CnnError, DataError, Sequential, data};

fn refused_on_build<L: cnn::layers::Layer<f32> + 'static>(input: &[usize], layer: L) -> CnnError {
    let mut model = Sequential::<f32>::new(input, 0);
    match model.add(layer) {
        Ok(_) => panic!("an absurd layer was accepted"),
        Err(err) => err,
    }
}

#[test]
fn absurd_layer_sizes_are_refused_when_built() {
    // 2^26 units on 64 inputs: a 16 GiB kernel in f32.
    let err = refused_on_build(&[64], Dense::new(1 << 26));
    assert!(matches!(err, CnnError::InvalidParameter { name: "kernel", .. }), "{err}");
    let err = refused_on_build(&[64], Dense::new(usize::MAX));
    assert!(matches!(err, CnnError::InvalidParameter { .. }), "{err}");
    let err = refused_on_build(&[8, 8, 1], Conv2D::new(1 << 40, (3, 3)));
    assert!(matches!(err, CnnError::InvalidParameter { .. }), "{err}");
    let err = refused_on_build(&[8, 8, 1], Conv2D::new(4, (1 << 40, 1)).padding(Padding::Same));
    assert!(matches!(err, CnnError::InvalidParameter { .. }), "{err}");
    let err = refused_on_build(&[8, 8, 1], Conv2D::new(4, (usize::MAX, usize::MAX)).padding(Padding::Same));
    assert!(matches!(err, CnnError::InvalidParameter { .. }), "{err}");
    // The cap itself is allowed.
    assert!(Sequential::<f32>::new(&[1 << 10], 0).add(Dense::new(MAX_PARAMETER_VALUES >> 10)).is_ok());
}

#[test]
fn empty_and_overflowing_shapes_are_shape_errors() {
    let err = refused_on_build(&[0, 8, 1], Conv2D::new(4, (3, 3)).padding(Padding::Same));
    assert!(matches!(err, CnnError::Shape { .. }), "{err}");
    let err = refused_on_build(&[usize::MAX, 2], Flatten::new());
    assert!(matches!(err, CnnError::Shape { .. }), "{err}");
}

#[test]
fn one_hot_with_absurd_class_counts_is_refused() {
    let err = data::one_hot::<f32>(&[1; 64], 1 << 40).unwrap_err();
    assert!(matches!(err, CnnError::InvalidParameter { name: "classes", .. }), "{err}");
}

#[test]
fn a_gzip_bomb_stops_at_the_cap() {
    use std::io::Write;
    // 600 MiB of zeros compress to about 600 KB; inflating stops at the 512 MiB cap.
    let dir = std::env::temp_dir().join(format!("convkit-gzip-bomb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("train-images-idx3-ubyte.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..600 {
        encoder.write_all(&zeros).unwrap();
    }
    std::fs::write(&path, encoder.finish().unwrap()).unwrap();
    let err = data::read_idx_file(&path).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(matches!(err, DataError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("inflates to more than"), "{err}");
}

#[test]
fn evaluate_refuses_non_finite_targets_as_fit_does() {
    use cnn::layers::{Activation, Dense};
    use cnn::{Loss, Sgd};
    use ndarray::{ArrayD, IxDyn};
    let mut model = Sequential::<f32>::new(&[2], 0);
    model.add(Dense::new(2).activation(Activation::Softmax)).unwrap();
    model.compile(Sgd::new(0.1), Loss::CategoricalCrossentropy).unwrap();
    let x = ArrayD::<f32>::zeros(IxDyn(&[3, 2]));
    let mut y = ArrayD::<f32>::zeros(IxDyn(&[3, 2]));
    y[[1, 0]] = f32::NAN;
    assert!(matches!(model.evaluate(&x, &y, 2), Err(CnnError::NonFinite { .. })));
}

/// Family 8: ReLU keeps a NaN (PyTorch and TensorFlow do); before, `max(NaN, 0)` was 0, and a
/// model of NaN weights predicted finite probabilities.
#[test]
fn relu_keeps_nan_so_nan_weights_cannot_predict_finite_values() {
    use cnn::layers::Activation;
    use ndarray::{ArrayD, IxDyn};
    let mut values = ArrayD::from_shape_vec(IxDyn(&[4]), vec![f32::NAN, -1.0, 0.0, 2.0]).unwrap();
    Activation::Relu.apply(&mut values);
    assert!(values[0].is_nan());
    assert_eq!(values.as_slice().unwrap()[1..], [0.0, 0.0, 2.0]);
    // A whole model: NaN weights in a Dense + ReLU + softmax stack give NaN, not a class.
    let mut model = Sequential::<f32>::new(&[3], 0);
    model.add(Dense::new(4).activation(Activation::Relu)).unwrap();
    model.add(Dense::new(2).activation(Activation::Softmax)).unwrap();
    for param in model.params_mut() {
        param.value.fill(f32::NAN);
    }
    let predictions = model.predict(&ArrayD::ones(IxDyn(&[1, 3])), 1).unwrap();
    assert!(predictions.iter().all(|p| p.is_nan()), "{predictions}");
}

/// Family 8: a -inf logit of another class adds nothing to the sparse cross-entropy (before,
/// `0 * -inf` made the loss NaN); a -inf logit of the label's own class costs +inf, as in Keras.
#[test]
fn a_minus_infinity_logit_is_no_nan_in_the_loss() {
    use cnn::Loss;
    use ndarray::array;
    let loss = Loss::SparseCategoricalCrossentropy { from_logits: true };
    let logits = array![[2.0_f64, f64::NEG_INFINITY, 0.0]].into_dyn();
    let (value, grad) = loss.compute(&logits, &array![0.0].into_dyn()).unwrap();
    let expected = -(2f64.exp() / (2f64.exp() + 1.0)).ln();
    assert!((value - expected).abs() < 1e-12, "{value} vs {expected}");
    assert!(grad.iter().all(|g| g.is_finite()), "{grad}");
    assert_eq!(grad[[0, 1]], 0.0);
    let (value, _) = loss.compute(&logits, &array![1.0].into_dyn()).unwrap();
    assert_eq!(value, f64::INFINITY);
}

/// Family 8: weights files holding NaN are refused naming the tensor and index, and a file far
/// longer than the model's weights (another model's, or an endless one) is refused after the
/// model's size, not read whole.
#[test]
fn weights_files_with_nan_or_of_the_wrong_size_are_refused() {
    use cnn::MAX_WEIGHTS_HEADER_BYTES;
    let build = || {
        let mut model = Sequential::<f32>::new(&[3], 0);
        model.add(Dense::new(2)).unwrap();
        model
    };
    let (mut model, mut poisoned) = (build(), build());
    poisoned.params_mut()[0].value[[1, 1]] = f32::NAN;
    let bytes = poisoned.weights_to_bytes().unwrap();
    let err = model.load_weights_from_bytes(&bytes).unwrap_err();
    assert!(err.to_string().contains("non-finite value NaN at flat index 3"), "{err}");
    assert!(model.params().iter().all(|p| p.value.iter().all(|v| v.is_finite())), "model unchanged");

    let dir = std::env::temp_dir().join(format!("convkit-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.safetensors");
    let mut big = model.weights_to_bytes().unwrap();
    big.resize(big.len() + MAX_WEIGHTS_HEADER_BYTES as usize + 64, 0);
    std::fs::write(&path, &big).unwrap();
    let err = model.load_weights(&path).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(err.to_string().contains("the file of another model?"), "{err}");
    #[cfg(target_os = "linux")]
    {
        let err = model.load_weights("/dev/zero").unwrap_err();
        assert!(err.to_string().contains("the file of another model?"), "{err}");
    }
}

/// An endless data file (`/dev/zero`) is read to the cap and refused, not read until memory
/// runs out (before, the raw path read the whole file, whatever its size).
#[cfg(target_os = "linux")]
#[test]
fn an_endless_data_file_stops_at_the_cap() {
    let err = data::read_idx_file(std::path::Path::new("/dev/zero")).unwrap_err();
    assert!(matches!(err, DataError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("holds more than"), "{err}");
}
