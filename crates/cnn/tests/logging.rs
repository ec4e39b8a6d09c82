//! `fit` with `verbose` on reports every epoch even when nobody watches a terminal (CI logs,
//! pipes, nohup), as Keras's `verbose=2` does.

use cnn::layers::{Activation, Dense};
use cnn::{FitConfig, Loss, Sequential, Sgd};
use ndarray::{ArrayD, IxDyn};

/// Trains a tiny model for three verbose epochs. Run by the test below in a child process whose
/// standard output and error are pipes; ignored when the suite runs by itself.
#[test]
#[ignore = "run as a child process by fit_prints_one_line_per_epoch_into_a_pipe"]
fn verbose_fit_child() {
    let mut model = Sequential::<f64>::new(&[2], 0);
    model.add(Dense::new(2).activation(Activation::Softmax)).unwrap();
    model.compile(Sgd::new(0.1), Loss::CategoricalCrossentropy).unwrap();
    let x = ArrayD::from_shape_fn(IxDyn(&[8, 2]), |i| (i[0] * 2 + i[1]) as f64 / 16.0);
    let y = ArrayD::from_shape_fn(IxDyn(&[8, 2]), |i| if i[1] == i[0] % 2 { 1.0 } else { 0.0 });
    model.fit(&x, &y, &FitConfig::new(3).batch_size(4)).unwrap();
}

#[test]
fn fit_prints_one_line_per_epoch_into_a_pipe() {
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new(exe)
        .args(["logging::verbose_fit_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    // The test harness prints "test verbose_fit_child ... " on the first line's left.
    let epochs: Vec<&str> =
        stdout.lines().filter_map(|line| line.find("Epoch ").map(|at| &line[at..])).collect();
    assert_eq!(epochs.len(), 3, "{stdout}");
    for (i, line) in epochs.iter().enumerate() {
        assert!(line.starts_with(&format!("Epoch {}/3 - ", i + 1)), "{line}");
        assert!(line.contains("s - loss ") && line.contains(" accuracy "), "{line}");
    }
}
