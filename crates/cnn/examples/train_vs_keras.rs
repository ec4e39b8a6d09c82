//! Times training of the digits model and the CIFAR-10 model (on CIFAR-sized random data) and,
//! with `--run-keras` and `--run-torch`, the same models in Keras and in PyTorch (eager, 2
//! threads) in the same run, printing the ratios. The MNIST
//! models (the material's and the workflow model) are compared with Keras, accuracy and time, by
//! `cargo run --release -p cnn --example mnist -- --run-keras`.
//!
//! ```text
//! pip install -r crates/cnn/peers/requirements.txt
//! cargo run --release -p cnn --example train_vs_keras -- --run-keras --run-torch
//! ```
//!
//! `--json FILE` writes the rates for the benchmark report's Targets table
//! (`cargo run --release -p bench-suite -- --run-peers --training FILE`).

mod common;

use std::error::Error;
use std::process::Command;

use clap::Parser;
use cnn::layers::{Activation, Conv2D, Dense, Flatten, MaxPooling2D};
use cnn::{Adam, FitConfig, Loss, Sequential, Sgd, data};
use ndarray::{ArrayD, IxDyn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Parser, Debug)]
#[command(about = "Training speed of the example models, against Keras")]
struct Args {
    /// Digits epochs (the first is warm-up and not counted).
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Random CIFAR-sized training images.
    #[arg(long, default_value_t = 4000)]
    cifar_images: usize,
    /// CIFAR epochs (the first is warm-up and not counted).
    #[arg(long, default_value_t = 3)]
    cifar_epochs: usize,
    /// The conv backend: `auto` or a registered name.
    #[arg(long, default_value = "auto")]
    backend: String,
    /// Also run `crates/cnn/peers/keras_models.py` (needs TensorFlow) and print ratios.
    #[arg(long)]
    run_keras: bool,
    /// Also run `crates/cnn/peers/torch_models.py` (PyTorch eager, 2 threads) and print ratios.
    #[arg(long)]
    run_torch: bool,
    /// The Python interpreter for --run-keras and --run-torch.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Also write every rate measured (ours and the peers') to this JSON file, which
    /// `cargo run --release -p bench-suite -- --training FILE` turns into rows of its Targets table.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

fn median(values: &[f64]) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let backend = common::backend(&args.backend)?;

    let digits = data::load_digits::<f32>()?;
    let (train, test) = digits.train_test_split(0.2, 0)?;
    let mut model = Sequential::<f32>::new(&[8, 8, 1], 0);
    model.add(
        Conv2D::new(10, (3, 3))
            .activation(Activation::Relu)
            .kernel_regularizer_l2(1e-5)
            .with_backend(backend.clone()),
    )?;
    model.add(MaxPooling2D::new((2, 2)))?;
    model.add(Flatten::new())?;
    model.add(Dense::new(50).activation(Activation::Relu).kernel_regularizer_l2(1e-5))?;
    model.add(Dense::new(10).activation(Activation::Softmax).kernel_regularizer_l2(1e-5))?;
    model.compile(Sgd::new(1e-2), Loss::CategoricalCrossentropy)?;
    let history = model.fit(
        &train.images,
        &data::one_hot(&train.labels, 10)?,
        &FitConfig::new(args.epochs).batch_size(100).verbose(false),
    )?;
    let digits_epoch = median(&history.epoch_seconds[1.min(history.epoch_seconds.len())..]);
    let (_, digits_accuracy) = model.evaluate(&test.images, &data::one_hot(&test.labels, 10)?, 100)?;
    println!(
        "digits: {:.2} ms per epoch (1437 images, batch 100), test accuracy {digits_accuracy:.4} after {} epochs",
        digits_epoch * 1e3,
        args.epochs
    );

    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let images = ArrayD::from_shape_simple_fn(IxDyn(&[args.cifar_images, 32, 32, 3]), || {
        rng.random_range(0.0f32..1.0)
    });
    let labels = ArrayD::from_shape_simple_fn(IxDyn(&[args.cifar_images]), || rng.random_range(0..10) as f32);
    let mut cifar = common::cifar_model(&backend, 0)?;
    cifar.compile(Adam::default(), Loss::SparseCategoricalCrossentropy { from_logits: true })?;
    let history =
        cifar.fit(&images, &labels, &FitConfig::new(args.cifar_epochs).batch_size(32).verbose(false))?;
    let cifar_train =
        args.cifar_images as f64 / median(&history.epoch_seconds[1.min(history.epoch_seconds.len())..]);
    let started = std::time::Instant::now();
    cifar.predict(&images, 32)?;
    let cifar_predict = args.cifar_images as f64 / started.elapsed().as_secs_f64();
    println!(
        "cifar model: training {cifar_train:.0} images/s, inference {cifar_predict:.0} images/s (batch 32)"
    );

    let mut peers = Vec::new();
    for (run, name, script) in [
        (args.run_keras, "Keras", concat!(env!("CARGO_MANIFEST_DIR"), "/peers/keras_models.py")),
        (args.run_torch, "PyTorch", concat!(env!("CARGO_MANIFEST_DIR"), "/peers/torch_models.py")),
    ] {
        if run {
            let json = run_peer(&args, script)?;
            println!("{name}: {json}");
            peers.push((name, json));
        }
    }
    if let Some(path) = &args.json {
        let mut all = serde_json::json!({"convkit": {
            "digits_epoch_seconds": digits_epoch,
            "cifar_train_images_per_second": cifar_train,
            "cifar_predict_images_per_second": cifar_predict,
            "cifar_images": args.cifar_images,
        }});
        for (name, json) in &peers {
            all[*name] = json.clone();
        }
        std::fs::write(path, serde_json::to_string_pretty(&all)?)?;
        println!("wrote {}", path.display());
    }
    if !peers.is_empty() {
        let field = |json: &serde_json::Value, key: &str| {
            json.get(key).and_then(serde_json::Value::as_f64).unwrap_or(f64::NAN)
        };
        println!("| measure | convkit | peer | value | ours over the peer |\n|---|---|---|---|---|");
        for (name, json) in &peers {
            let epoch = field(json, "digits_epoch_seconds");
            println!(
                "| digits epoch (ms) | {:.2} | {name} | {:.2} | {:.1}x faster |",
                digits_epoch * 1e3,
                epoch * 1e3,
                epoch / digits_epoch
            );
            let train = field(json, "cifar_train_images_per_second");
            println!(
                "| CIFAR training (images/s) | {cifar_train:.0} | {name} | {train:.0} | {:.2}x |",
                cifar_train / train
            );
            let predict = field(json, "cifar_predict_images_per_second");
            println!(
                "| CIFAR inference (images/s) | {cifar_predict:.0} | {name} | {predict:.0} | {:.2}x |",
                cifar_predict / predict
            );
        }
    }
    Ok(())
}

/// Runs a peer script with the same sizes and returns the JSON object it prints last.
fn run_peer(args: &Args, script: &str) -> Result<serde_json::Value, Box<dyn Error>> {
    let output = Command::new(&args.python)
        .args([
            script,
            "--epochs",
            &args.epochs.to_string(),
            "--cifar-images",
            &args.cifar_images.to_string(),
        ])
        .args(["--cifar-epochs", &args.cifar_epochs.to_string()])
        .output()?;
    if !output.status.success() {
        return Err(format!("{script} failed:\n{}", String::from_utf8_lossy(&output.stderr)).into());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let last = text.lines().last().unwrap_or_default();
    Ok(serde_json::from_str(last)?)
}
