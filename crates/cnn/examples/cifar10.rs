//! The material's CIFAR-10 model: Conv(32) -> Pool -> Conv(64) -> Pool -> Conv(64) -> Flatten
//! -> Dense(64) -> Dense(10), Adam, sparse categorical cross-entropy from logits, 10 epochs,
//! validated on the test batch; plots accuracy and validation accuracy per epoch (PNG).
//!
//! ```text
//! cargo run --release -p cnn --example cifar10 -- --data-dir path/to/cifar-10-batches-bin
//! cargo run --release -p cnn --example cifar10 -- --synthetic --epochs 2
//! ```
//!
//! Without `--synthetic` the CIFAR-10 binary files must be on disk (nothing is downloaded);
//! when they are missing the program says where they come from.

mod common;
mod plots;

use std::error::Error;
use std::path::PathBuf;

use clap::Parser;
use cnn::{Adam, FitConfig, Loss, data};
use ndarray::{ArrayD, IxDyn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Parser, Debug)]
#[command(about = "Train the material's CIFAR-10 CNN")]
struct Args {
    /// Directory with data_batch_1.bin .. data_batch_5.bin and test_batch.bin.
    #[arg(long, default_value = "data/cifar-10-batches-bin")]
    data_dir: PathBuf,
    /// Train on generated images (ten noisy class templates) instead of the files.
    #[arg(long)]
    synthetic: bool,
    /// Training images to use (all by default; 2,000 with --synthetic).
    #[arg(long)]
    limit: Option<usize>,
    /// Training batch files to read (1..=5).
    #[arg(long, default_value_t = 5)]
    train_batches: usize,
    /// Epochs.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Samples per step (Keras's default 32).
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// The conv backend: `auto` or a registered name.
    #[arg(long, default_value = "auto")]
    backend: String,
    /// Where to write the accuracy figure.
    #[arg(long, default_value = "target/cifar10")]
    out: PathBuf,
    /// Seed of initialisation, shuffling and synthetic data.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// `n` 32x32x3 images of ten classes: each class a fixed smooth template (the same for every
/// call), each image its template plus noise drawn from `seed`, so that a CNN can learn it.
fn synthetic(n: usize, seed: u64) -> data::Dataset<f32> {
    let mut template_rng = ChaCha8Rng::seed_from_u64(0xC1FA);
    let templates: Vec<[f32; 6]> =
        (0..10).map(|_| std::array::from_fn(|_| template_rng.random_range(0.5..3.0))).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let labels: Vec<usize> = (0..n).map(|_| rng.random_range(0..10)).collect();
    let images = ArrayD::from_shape_fn(IxDyn(&[n, 32, 32, 3]), |i| {
        let t = &templates[labels[i[0]]];
        let (y, x) = (i[1] as f32 / 32.0, i[2] as f32 / 32.0);
        0.5 + 0.25 * (t[i[3]] * 6.3 * y + t[i[3] + 3] * 6.3 * x).sin()
    });
    let noise = ArrayD::from_shape_simple_fn(IxDyn(&[n, 32, 32, 3]), || rng.random_range(-0.25f32..0.25));
    data::Dataset { images: images + noise, labels }
}

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let (train, test) = if args.synthetic {
        (synthetic(args.limit.unwrap_or(2000), args.seed), synthetic(500, args.seed + 1))
    } else {
        let (train, test) = data::load_cifar10::<f32>(&args.data_dir, args.train_batches)?;
        let keep: Vec<usize> = (0..args.limit.unwrap_or(train.len()).min(train.len())).collect();
        (train.select(&keep)?, test)
    };
    let backend = common::backend(&args.backend)?;

    let mut model = common::cifar_model(&backend, args.seed)?;
    print!("{}", model.summary());
    model.compile(Adam::default(), Loss::SparseCategoricalCrossentropy { from_logits: true })?;

    println!("{} training images, {} test images, backend {}", train.len(), test.len(), args.backend);
    let (y_train, y_test) = (train.sparse_labels(), test.sparse_labels());
    let config =
        FitConfig::new(args.epochs).batch_size(args.batch_size).validation_data(&test.images, &y_test);
    let history = model.fit(&train.images, &y_train, &config)?;
    let seconds: f64 = history.epoch_seconds.iter().sum();
    println!(
        "training throughput {:.0} images/s; final accuracy {:.4}, validation accuracy {:.4}",
        (train.len() * args.epochs) as f64 / seconds,
        history.accuracy.last().copied().unwrap_or(f64::NAN),
        history.val_accuracy.last().copied().unwrap_or(f64::NAN)
    );

    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join("cifar10_accuracy.png");
    plots::curves(
        &path,
        if args.synthetic { "CIFAR-10 model on synthetic data" } else { "CIFAR-10" },
        "accuracy",
        &[("accuracy", &history.accuracy), ("val_accuracy", &history.val_accuracy)],
    )?;
    println!("figure written to {}", path.display());
    Ok(())
}
