//! The material's MNIST exercise on the 10,000 real digits that ship with the crate: train on
//! the first 8,000, test on the last 2,000, two models.
//!
//! 1. The material's model: Conv2D(10, 3x3, relu) - MaxPooling 2x2 - Flatten - Dense(50, relu) -
//!    Dense(10, softmax), L2 on every kernel; with SGD(0.1) and with Adam, 30 epochs, batch 100.
//! 2. The Keras workflow: RandomTranslation(0.1, 0.1), two Conv2D blocks (32 and 64 filters)
//!    with BatchNormalization, Dropout(0.3), Dense(128), Adam, `validation_split = 0.1`,
//!    ReduceLROnPlateau (patience 3, factor 0.5) and EarlyStopping (best weights restored).
//!
//! Prints each model's test accuracy, the classification report and writes the confusion
//! matrix as a figure; with `--run-keras`, the same models in Keras on the same split (needs
//! TensorFlow: `pip install -r crates/cnn/peers/requirements.txt`).
//!
//! ```text
//! cargo run --release -p cnn --example mnist
//! cargo run --release -p cnn --example mnist -- --quick            # 2 epochs each, for CI
//! cargo run --release -p cnn --example mnist -- --run-keras
//! ```

mod common;
mod plots;

use std::error::Error;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use clap::Parser;
use cnn::callbacks::{EarlyStopping, ReduceLROnPlateau};
use cnn::layers::{
    Activation, ActivationLayer, BatchNormalization, Conv2D, Dense, Dropout, FillMode, Flatten, MaxPooling2D,
    RandomTranslation,
};
use cnn::metrics::{classification_report, confusion_matrix, predicted_classes};
use cnn::{Adam, FitConfig, Loss, Sequential, Sgd, data};
use ndarray::{Axis, Ix2, Slice};

#[derive(Parser, Debug)]
#[command(about = "The material's MNIST models on 10,000 real digits, optionally against Keras")]
struct Args {
    /// Two epochs per model (a smoke test).
    #[arg(long)]
    quick: bool,
    /// Epochs of the material's model.
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Most epochs of the workflow model (EarlyStopping may end it sooner).
    #[arg(long, default_value_t = 30)]
    workflow_epochs: usize,
    /// Where the confusion-matrix figure goes.
    #[arg(long, default_value = "target/mnist")]
    out: PathBuf,
    /// Also run `crates/cnn/peers/mnist_keras.py` (needs TensorFlow) on the same split.
    #[arg(long)]
    run_keras: bool,
    /// The Python interpreter for --run-keras.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Seed of every model (initialisation, shuffling, dropout, augmentation).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Only the material's model (skip the workflow model).
    #[arg(long)]
    material_only: bool,
}

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

/// The material's model (L2 1e-5 on every kernel, as the material's digits model).
fn material_model(seed: u64) -> Result<Sequential<f32>, cnn::CnnError> {
    let mut model = Sequential::new(&[28, 28, 1], seed);
    model.add(Conv2D::new(10, (3, 3)).activation(Activation::Relu).kernel_regularizer_l2(1e-5))?;
    model.add(MaxPooling2D::new((2, 2)))?;
    model.add(Flatten::new())?;
    model.add(Dense::new(50).activation(Activation::Relu).kernel_regularizer_l2(1e-5))?;
    model.add(Dense::new(10).activation(Activation::Softmax).kernel_regularizer_l2(1e-5))?;
    Ok(model)
}

/// The model of the Keras workflow.
fn workflow_model(seed: u64) -> Result<Sequential<f32>, cnn::CnnError> {
    let mut model = Sequential::new(&[28, 28, 1], seed);
    model.add(RandomTranslation::new(0.1, 0.1).fill_mode(FillMode::Reflect))?;
    for filters in [32, 64] {
        model.add(Conv2D::new(filters, (3, 3)))?;
        model.add(BatchNormalization::new())?;
        model.add(ActivationLayer::new(Activation::Relu))?;
        model.add(MaxPooling2D::new((2, 2)))?;
    }
    model.add(Flatten::new())?;
    model.add(Dropout::new(0.3))?;
    model.add(Dense::new(128).activation(Activation::Relu))?;
    model.add(Dense::new(10).activation(Activation::Softmax))?;
    Ok(model)
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let (epochs, workflow_epochs) = if args.quick { (2, 2) } else { (args.epochs, args.workflow_epochs) };
    let mnist = data::load_mnist_10k::<f32>()?;
    let rows = |range: std::ops::Range<usize>| mnist.images.slice_axis(Axis(0), Slice::from(range));
    let (x_train, x_test) = (rows(0..8000), rows(8000..10_000));
    let (y_train, y_test) =
        (data::one_hot(&mnist.labels[..8000], 10)?, data::one_hot(&mnist.labels[8000..], 10)?);
    let test_labels = &mnist.labels[8000..];
    std::fs::create_dir_all(&args.out)?;
    println!("MNIST (10,000 real digits shipped in crates/cnn/data): train 8,000, test 2,000");

    let mut results = Vec::new();
    for name in ["SGD(0.1)", "Adam"] {
        let mut model = material_model(args.seed)?;
        match name {
            "Adam" => model.compile(Adam::default(), Loss::CategoricalCrossentropy)?,
            _ => model.compile(Sgd::new(0.1), Loss::CategoricalCrossentropy)?,
        }
        let started = Instant::now();
        model.fit(&x_train, &y_train, &FitConfig::new(epochs).batch_size(100).verbose(false))?;
        let seconds = started.elapsed().as_secs_f64();
        let (_, accuracy) = model.evaluate(&x_test, &y_test, 100)?;
        println!(
            "material model, {name}, {epochs} epochs, batch 100: test accuracy {accuracy:.4} ({seconds:.1} s)"
        );
        results.push((format!("material {name}"), accuracy, seconds, epochs));
    }

    if args.material_only {
        return Ok(());
    }
    let mut model = workflow_model(args.seed)?;
    model.compile(Adam::default(), Loss::CategoricalCrossentropy)?;
    println!("{}", model.summary());
    let mut plateau = ReduceLROnPlateau::new("val_loss").factor(0.5).patience(3);
    let mut stop = EarlyStopping::new("val_loss").patience(6).restore_best_weights(true);
    let config = FitConfig::new(workflow_epochs).batch_size(32).validation_split(0.1);
    let started = Instant::now();
    let history = model.fit_with_callbacks(&x_train, &y_train, &config, &mut [&mut plateau, &mut stop])?;
    let seconds = started.elapsed().as_secs_f64();
    let (_, accuracy) = model.evaluate(&x_test, &y_test, 100)?;
    let best = stop
        .best()
        .map_or(String::new(), |(epoch, loss)| format!(", best val_loss {loss:.4} at epoch {}", epoch + 1));
    println!(
        "workflow model: {} epochs{best}, learning-rate reductions {:?}: test accuracy {accuracy:.4} ({seconds:.1} s)",
        history.loss.len(),
        plateau.reductions().iter().map(|(e, r)| (e + 1, *r)).collect::<Vec<_>>()
    );
    results.push(("workflow".to_string(), accuracy, seconds, history.loss.len()));

    let scores = model.predict(&x_test, 100)?.into_dimensionality::<Ix2>()?;
    let predicted = predicted_classes(&scores);
    println!("{}", classification_report(test_labels, &predicted, 10)?);
    let matrix = confusion_matrix(test_labels, &predicted, 10)?;
    let values: Vec<Vec<f64>> =
        matrix.rows().into_iter().map(|r| r.iter().map(|&v| v as f64).collect()).collect();
    let digits: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    let figure = args.out.join("confusion_matrix.png");
    plots::heatmap(
        &figure,
        "MNIST test digits: workflow model",
        &values,
        "predicted",
        &digits,
        "true",
        &digits,
    )?;
    println!("wrote {}", figure.display());

    if args.run_keras {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/mnist_keras.py");
        let data_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data");
        let output = Command::new(&args.python)
            .args([script, "--data-dir", data_dir, "--epochs", &epochs.to_string()])
            .args(["--workflow-epochs", &workflow_epochs.to_string()])
            .output()?;
        if !output.status.success() {
            return Err(format!("{script} failed:\n{}", String::from_utf8_lossy(&output.stderr)).into());
        }
        let text = String::from_utf8_lossy(&output.stdout);
        println!(
            "| model | convkit accuracy | Keras accuracy | convkit s (epochs) | Keras s (epochs) | convkit s/epoch over Keras's |"
        );
        println!("|---|---|---|---|---|---|");
        let keras_lines = text.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok());
        for ((name, accuracy, seconds, epochs), keras) in results.iter().zip(keras_lines) {
            let field = |key: &str| keras.get(key).and_then(serde_json::Value::as_f64).unwrap_or(f64::NAN);
            let (keras_seconds, keras_epochs) = (field("seconds"), field("epochs"));
            let ratio = (seconds / *epochs as f64) / (keras_seconds / keras_epochs);
            println!(
                "| {name} | {accuracy:.4} | {:.4} | {seconds:.1} ({epochs}) | {keras_seconds:.1} ({keras_epochs}) | {ratio:.2} |",
                field("accuracy")
            );
        }
    }
    Ok(())
}
