//! Loaders on small files the tests write (raw and gzip), their typed errors, the digits data,
//! the seeded split, and weights files.

#![allow(clippy::unwrap_used)] // helpers shared by the tests panic on failure by design

use std::io::Write;
use std::path::Path;

use cnn::data::{self, IdxArray};
use cnn::layers::{Activation, Conv2D, Dense, Dropout, Flatten, Layer, MaxPooling2D, Padding};
use cnn::{CnnError, DataError, FitConfig, Loss, Sequential, Sgd};
use ndarray::{ArrayD, IxDyn};

fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn write_mnist(dir: &Path, compress: bool) {
    let images: Vec<u8> = (0..3 * 4 * 5).map(|i| (i * 4) as u8).collect();
    let files = [
        ("train-images-idx3-ubyte", idx_bytes(&[3, 4, 5], &images)),
        ("train-labels-idx1-ubyte", idx_bytes(&[3], &[7, 0, 9])),
        ("t10k-images-idx3-ubyte", idx_bytes(&[1, 4, 5], &images[..20])),
        ("t10k-labels-idx1-ubyte", idx_bytes(&[1], &[3])),
    ];
    for (name, bytes) in files {
        if compress {
            std::fs::write(dir.join(format!("{name}.gz")), gzip(&bytes)).unwrap();
        } else {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("convkit-cnn-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn mnist_raw_and_gzip_load_the_same() {
    for compress in [false, true] {
        let dir = temp_dir(&format!("mnist-{compress}"));
        write_mnist(&dir, compress);
        let (train, test) = data::load_mnist::<f32>(&dir).unwrap();
        assert_eq!(train.images.shape(), &[3, 4, 5, 1]);
        assert_eq!(train.labels, [7, 0, 9]);
        assert_eq!(test.labels, [3]);
        assert_eq!(train.images[[0, 0, 1, 0]], 4.0 / 255.0);
        assert_eq!(train.images[[2, 3, 4, 0]], 236.0 / 255.0);
    }
}

#[test]
fn idx_errors_are_typed() {
    let path = Path::new("x.idx");
    let good = idx_bytes(&[2, 3], &[1, 2, 3, 4, 5, 6]);
    assert_eq!(
        data::read_idx(&good, path).unwrap(),
        IdxArray { dims: vec![2, 3], data: vec![1, 2, 3, 4, 5, 6] }
    );
    assert!(matches!(
        data::read_idx(&good[..good.len() - 1], path),
        Err(DataError::Truncated { expected: 18, got: 17, .. })
    ));
    assert!(matches!(data::read_idx(&good[..6], path), Err(DataError::Truncated { .. })));
    assert!(matches!(data::read_idx(&[], path), Err(DataError::Truncated { .. })));
    let mut float = good.clone();
    float[2] = 0x0D;
    assert!(matches!(data::read_idx(&float, path), Err(DataError::BadMagic { found: 0x0000_0D02, .. })));
    let mut extra = good;
    extra.push(0);
    assert!(matches!(data::read_idx(&extra, path), Err(DataError::Malformed { .. })));
    // A header claiming 4 billion^3 bytes is refused without allocating.
    let huge = idx_bytes(&[u32::MAX, u32::MAX, u32::MAX], &[1]);
    assert!(matches!(
        data::read_idx(&huge, path),
        Err(DataError::Truncated { .. } | DataError::Malformed { .. })
    ));
}

#[test]
fn mnist_missing_and_truncated_files() {
    let dir = temp_dir("mnist-missing");
    match data::load_mnist::<f32>(&dir) {
        Err(CnnError::Data(DataError::Missing { path, hint })) => {
            assert!(path.ends_with("train-images-idx3-ubyte"));
            assert!(hint.contains("MNIST"));
        }
        other => panic!("expected Missing, got {other:?}"),
    }
    write_mnist(&dir, false);
    let labels = dir.join("train-labels-idx1-ubyte");
    let bytes = std::fs::read(&labels).unwrap();
    std::fs::write(&labels, &bytes[..bytes.len() - 1]).unwrap();
    assert!(matches!(data::load_mnist::<f32>(&dir), Err(CnnError::Data(DataError::Truncated { .. }))));
    // A gzip stream cut short is an I/O error, not a panic.
    let gz = gzip(&bytes);
    std::fs::write(&labels, &gz[..gz.len() / 2]).unwrap();
    assert!(matches!(
        data::load_mnist::<f32>(&dir),
        Err(CnnError::Data(DataError::Io { .. } | DataError::Truncated { .. }))
    ));
}

fn cifar_record(label: u8, fill: impl Fn(usize, usize) -> u8) -> Vec<u8> {
    let mut record = vec![label];
    for channel in 0..3 {
        record.extend((0..1024).map(|p| fill(channel, p)));
    }
    record
}

#[test]
fn cifar10_batches_load_in_nhwc() {
    let dir = temp_dir("cifar");
    let sub = dir.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&sub).unwrap();
    let mut batch = cifar_record(6, |c, p| (c * 100 + p % 50) as u8);
    batch.extend(cifar_record(1, |_, _| 255));
    for i in 1..=2 {
        std::fs::write(sub.join(format!("data_batch_{i}.bin")), &batch).unwrap();
    }
    std::fs::write(sub.join("test_batch.bin"), cifar_record(9, |_, _| 0)).unwrap();
    let (train, test) = data::load_cifar10::<f64>(&dir, 2).unwrap();
    assert_eq!(train.images.shape(), &[4, 32, 32, 3]);
    assert_eq!(train.labels, [6, 1, 6, 1]);
    assert_eq!(test.labels, [9]);
    // Pixel (row 1, column 3) is plane position 35; channel c holds c * 100 + 35 % 50.
    assert_eq!(train.images[[0, 1, 3, 2]], 235.0 / 255.0);
    assert_eq!(train.images[[1, 31, 31, 0]], 1.0);

    // Batch 3 is missing: the error names it and says where the data come from.
    match data::load_cifar10::<f64>(&dir, 3) {
        Err(CnnError::Data(DataError::Missing { path, hint })) => {
            assert!(path.ends_with("data_batch_3.bin"));
            assert!(hint.contains("cs.toronto.edu"));
        }
        other => panic!("expected Missing, got {other:?}"),
    }
    std::fs::write(sub.join("test_batch.bin"), &batch[..3073 + 100]).unwrap();
    assert!(matches!(
        data::load_cifar10::<f64>(&dir, 1),
        Err(CnnError::Data(DataError::Truncated { expected: 6146, got: 3173, .. }))
    ));
    let mut bad_label = cifar_record(10, |_, _| 0);
    bad_label.truncate(3073);
    assert!(matches!(
        data::read_cifar10_batch::<f32>(&bad_label, Path::new("b")),
        Err(DataError::Malformed { .. })
    ));
    assert!(matches!(data::load_cifar10::<f32>(&dir, 0), Err(CnnError::InvalidParameter { .. })));
}

#[test]
fn digits_csv_parses_and_rejects_bad_lines() {
    let digits = data::load_digits::<f32>().unwrap();
    assert_eq!(digits.len(), 1797);
    let counts = (0..10).map(|d| digits.labels.iter().filter(|&&l| l == d).count()).collect::<Vec<_>>();
    assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]); // scikit-learn's counts
    assert_eq!(digits.images.iter().copied().fold(0.0f32, f32::max), 16.0);

    let line = |label: &str| format!("{}{label}\n", "1,".repeat(64));
    let path = Path::new("d.csv");
    assert_eq!(data::parse_digits_csv::<f32>(&line("3"), path).unwrap().labels, [3]);
    for bad in
        [line("12"), line("x"), "1,2,3\n".to_string(), String::new(), format!("{}0\n", "17,".repeat(64))]
    {
        assert!(
            matches!(data::parse_digits_csv::<f32>(&bad, path), Err(DataError::Malformed { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn split_is_seeded_disjoint_and_complete() {
    let digits = data::load_digits::<f32>().unwrap();
    let (train, test) = digits.train_test_split(0.2, 7).unwrap();
    let (train2, test2) = digits.train_test_split(0.2, 7).unwrap();
    let (_, test3) = digits.train_test_split(0.2, 8).unwrap();
    assert_eq!((train.len(), test.len()), (1437, 360));
    assert_eq!(test.labels, test2.labels);
    assert_eq!(train.images, train2.images);
    assert_ne!(test.labels, test3.labels);
    let mut all: Vec<usize> = train.labels.iter().chain(&test.labels).copied().collect();
    let mut original = digits.labels.clone();
    all.sort_unstable();
    original.sort_unstable();
    assert_eq!(all, original);
    for fraction in [0.0, 1.0, -0.5, f64::NAN, 1e-9] {
        let result = data::Dataset { images: digits.images.clone(), labels: digits.labels.clone() }
            .train_test_split(fraction, 0);
        if fraction == 1e-9 {
            assert_eq!(result.unwrap().1.len(), 1);
        } else {
            assert!(matches!(result, Err(CnnError::InvalidParameter { .. })), "{fraction}");
        }
    }
    assert!(matches!(data::one_hot::<f32>(&[1, 10], 10), Err(CnnError::Label { row: 1, .. })));
    assert!(matches!(digits.select(&[0, 1797]), Err(CnnError::InvalidParameter { name: "indices", .. })));
}

fn small_model(seed: u64) -> Sequential<f32> {
    let mut model = Sequential::new(&[8, 8, 1], seed);
    model.add(Conv2D::new(4, (3, 3)).padding(Padding::Same).activation(Activation::Relu)).unwrap();
    model.add(MaxPooling2D::new((2, 2))).unwrap();
    model.add(Flatten::new()).unwrap();
    model.add(Dropout::new(0.25)).unwrap();
    model.add(Dense::new(10).activation(Activation::Softmax)).unwrap();
    model.compile(Sgd::new(0.05), Loss::CategoricalCrossentropy).unwrap();
    model
}

#[test]
fn weights_round_trip_through_safetensors() {
    let digits = data::load_digits::<f32>().unwrap().select(&(0..50).collect::<Vec<_>>()).unwrap();
    let mut trained = small_model(1);
    trained
        .fit(&digits.images, &data::one_hot(&digits.labels, 10).unwrap(), &FitConfig::new(2).verbose(false))
        .unwrap();
    let path = std::env::temp_dir().join(format!("convkit-weights-{}.safetensors", std::process::id()));
    trained.save_weights(&path).unwrap();

    let mut fresh = small_model(2);
    assert_ne!(fresh.predict(&digits.images, 16).unwrap(), trained.predict(&digits.images, 16).unwrap());
    fresh.load_weights(&path).unwrap();
    assert_eq!(fresh.predict(&digits.images, 16).unwrap(), trained.predict(&digits.images, 16).unwrap());
    assert_eq!(trained.layer_names(), ["conv2d", "max_pooling2d", "flatten", "dropout", "dense"]);

    // Another architecture, another dtype, garbage and a missing file are refused.
    let mut other = Sequential::<f32>::new(&[8, 8, 1], 0);
    other.add(Flatten::new()).unwrap();
    other.add(Dense::new(5)).unwrap();
    assert!(matches!(other.load_weights(&path), Err(CnnError::Weights(_))));
    let mut wide = Sequential::<f64>::new(&[8, 8, 1], 0);
    wide.add(Conv2D::new(4, (3, 3)).padding(Padding::Same)).unwrap();
    assert!(matches!(wide.load_weights(&path), Err(CnnError::Weights(_))));
    assert!(matches!(fresh.load_weights_from_bytes(b"not safetensors"), Err(CnnError::Weights(_))));
    assert!(matches!(fresh.load_weights(path.with_extension("missing")), Err(CnnError::Io { .. })));
    let _ = std::fs::remove_file(path);
}

#[test]
fn summary_lists_layers_shapes_and_parameter_counts() {
    let mut model = Sequential::<f32>::new(&[8, 8, 1], 0);
    model.add(Conv2D::new(10, (3, 3)).activation(Activation::Relu)).unwrap();
    model.add(MaxPooling2D::new((2, 2))).unwrap();
    model.add(Flatten::new()).unwrap();
    model.add(Dense::new(50).activation(Activation::Relu)).unwrap();
    model.add(Dense::new(10).activation(Activation::Softmax)).unwrap();
    let summary = model.summary();
    // Keras prints the same counts for this model: 100, 0, 0, 4550, 510 = 5160.
    for expected in [
        "conv2d (Conv2D)",
        "(None, 6, 6, 10)",
        "max_pooling2d (MaxPooling2D)",
        "(None, 3, 3, 10)",
        "(None, 90)",
        "dense_1 (Dense)",
        "4550",
        "510",
        "Total params: 5160",
    ] {
        assert!(summary.contains(expected), "missing {expected:?} in\n{summary}");
    }
}

#[test]
fn bad_input_gets_typed_errors() {
    let mut model = small_model(0);
    let x = ArrayD::<f32>::zeros(IxDyn(&[4, 8, 8, 1]));
    let y = data::one_hot::<f32>(&[0, 1, 2, 3], 10).unwrap();
    let fit = |model: &mut Sequential<f32>, x: &ArrayD<f32>, y: &ArrayD<f32>, batch: usize| {
        model.fit(x, y, &FitConfig::new(1).batch_size(batch).verbose(false))
    };
    assert!(matches!(
        fit(&mut model, &ArrayD::zeros(IxDyn(&[4, 8, 7, 1])), &y, 2),
        Err(CnnError::Shape { .. })
    ));
    assert!(matches!(
        fit(&mut model, &ArrayD::zeros(IxDyn(&[0, 8, 8, 1])), &y, 2),
        Err(CnnError::Shape { .. })
    ));
    assert!(matches!(
        fit(&mut model, &x, &y.select(ndarray::Axis(0), &[0, 1, 2]), 2),
        Err(CnnError::Shape { .. })
    ));
    assert!(matches!(fit(&mut model, &x, &y, 0), Err(CnnError::InvalidParameter { name: "batch_size", .. })));
    // Class indices given to a one-hot loss: the message names the fix.
    let sparse = ArrayD::from_shape_vec(IxDyn(&[4]), vec![0.0f32, 1.0, 2.0, 3.0]).unwrap();
    let err = fit(&mut model, &x, &sparse, 2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "targets: expected shape [2, 10] like the predictions (one one-hot row per sample; these targets \
         look like class indices: use Loss::SparseCategoricalCrossentropy, or data::one_hot to encode \
         them), got [2]"
    );
    let mut nan = x.clone();
    nan[[1, 2, 3, 0]] = f32::NAN;
    assert!(matches!(fit(&mut model, &nan, &y, 2), Err(CnnError::NonFinite { .. })));
    assert!(matches!(model.predict(&nan, 2), Err(CnnError::NonFinite { .. })));

    let mut uncompiled = Sequential::<f32>::new(&[8, 8, 1], 0);
    uncompiled.add(Flatten::new()).unwrap();
    assert!(matches!(fit(&mut uncompiled, &x, &y, 2), Err(CnnError::NotCompiled)));
    assert!(matches!(Sequential::<f32>::new(&[8, 8, 1], 0).predict(&x, 2), Err(CnnError::NoLayers)));

    // Layers refuse impossible configurations when added.
    let mut m = Sequential::<f32>::new(&[8, 8, 1], 0);
    assert!(matches!(m.add(Conv2D::new(0, (3, 3))), Err(CnnError::InvalidParameter { name: "filters", .. })));
    assert!(matches!(m.add(Conv2D::new(2, (9, 3))), Err(CnnError::Shape { .. })));
    assert!(matches!(
        m.add(Conv2D::new(2, (3, 3)).strides((0, 1))),
        Err(CnnError::InvalidParameter { name: "strides", .. })
    ));
    assert!(matches!(
        m.add(Conv2D::new(2, (3, 3)).kernel_regularizer_l2(f64::NAN)),
        Err(CnnError::InvalidParameter { .. })
    ));
    assert!(matches!(m.add(Dense::new(3)), Err(CnnError::Shape { .. })));
    assert!(matches!(m.add(Dropout::new(1.0)), Err(CnnError::InvalidParameter { name: "rate", .. })));
    assert!(matches!(
        m.compile(Sgd::new(-1.0), Loss::MeanSquaredError),
        Err(CnnError::InvalidParameter { .. })
    ));
    assert!(matches!(
        m.compile(cnn::Adam::new(1e-3).betas(1.0, 0.999), Loss::MeanSquaredError),
        Err(CnnError::InvalidParameter { .. })
    ));

    // A sparse label that is not a class index.
    let logits = ArrayD::<f32>::zeros(IxDyn(&[2, 3]));
    let bad = ArrayD::from_shape_vec(IxDyn(&[2]), vec![1.0f32, 2.5]).unwrap();
    assert!(matches!(
        Loss::SparseCategoricalCrossentropy { from_logits: true }.compute(&logits, &bad),
        Err(CnnError::Label { row: 1, .. })
    ));

    // A learning rate that blows up is reported, not trained on silently.
    // (Cross-entropy on softmax cannot blow up: Keras's clipping caps it at -ln(1e-7).)
    let mut diverging = Sequential::<f32>::new(&[8, 8, 1], 0);
    diverging.add(Flatten::new()).unwrap();
    diverging.add(Dense::new(10)).unwrap();
    diverging.compile(Sgd::new(10.0), Loss::MeanSquaredError).unwrap();
    let digits = data::load_digits::<f32>().unwrap().select(&(0..100).collect::<Vec<_>>()).unwrap();
    let result = diverging.fit(
        &digits.images,
        &data::one_hot(&digits.labels, 10).unwrap(),
        &FitConfig::new(20).verbose(false),
    );
    assert!(matches!(result, Err(CnnError::NonFinite { .. })), "{result:?}");

    // Backward before forward.
    let mut dense = Dense::<f32>::new(2);
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    dense.build(&[3], &mut rng).unwrap();
    assert!(matches!(dense.backward(ArrayD::zeros(IxDyn(&[1, 2]))), Err(CnnError::Shape { .. })));
}

#[test]
fn dropout_is_identity_at_inference_and_unbiased_in_training() {
    let mut layer = Dropout::<f64>::new(0.3);
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    layer.build(&[1000], &mut rng).unwrap();
    let x = ArrayD::from_elem(IxDyn(&[20, 1000]), 2.0);
    assert_eq!(layer.forward(&x, false).unwrap(), x);
    let y = layer.forward(&x, true).unwrap();
    let dropped = y.iter().filter(|&&v| v == 0.0).count() as f64 / y.len() as f64;
    assert!((dropped - 0.3).abs() < 0.01, "dropped {dropped}");
    assert!((y.mean().unwrap() - 2.0).abs() < 0.03);
    assert!(y.iter().all(|&v| v == 0.0 || (v - 2.0 / 0.7).abs() < 1e-12));
    // The gradient flows exactly where the input did.
    let g = layer.backward(ArrayD::from_elem(IxDyn(&[20, 1000]), 1.0)).unwrap();
    assert!(g.iter().zip(y.iter()).all(|(g, y)| (*g == 0.0) == (*y == 0.0)));
}

/// Paths need not be UTF-8 (Linux allows any bytes): loaders take them, and the error shows
/// the path lossily instead of failing to format it.
#[cfg(unix)]
#[test]
fn non_utf8_paths_work_and_show_in_errors() {
    use std::os::unix::ffi::OsStrExt;
    let dir = temp_dir("non-utf8").join(std::ffi::OsStr::from_bytes(b"data-\xff\xfe"));
    match data::load_mnist::<f32>(&dir) {
        Err(error @ CnnError::Data(DataError::Missing { .. })) => {
            assert!(error.to_string().contains("data-\u{fffd}\u{fffd}"))
        }
        other => panic!("expected Missing, got {other:?}"),
    }
    std::fs::create_dir_all(&dir).unwrap();
    write_mnist(&dir, true);
    assert_eq!(data::load_mnist::<f32>(&dir).unwrap().0.labels, [7, 0, 9]);
}
