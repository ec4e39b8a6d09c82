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
