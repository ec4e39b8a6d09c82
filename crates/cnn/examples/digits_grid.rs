//! The material's grid search on the 8x8 digits: Conv2D(10, 3x3, relu, L2) -> MaxPool 2x2 ->
//! Flatten -> Dense(50, relu, L2) -> Dense(10, softmax, L2), SGD, batch 100, 100 epochs, with
//! the learning rate eta and the L2 factor lambda each over logspace(-5, 1, 7).
//!
//! Prints the test accuracy of every cell and writes annotated heat maps of the train and test
//! accuracy and a figure of five digits with their labels (PNG) to `--out`.
//!
//! ```text
//! cargo run --release -p cnn --example digits_grid            # the full grid (49 models)
//! cargo run --release -p cnn --example digits_grid -- --quick # 3 x 3 cells, 3 epochs
//! ```

mod common;
mod plots;

use std::error::Error;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::Parser;
use cnn::conv_core::ConvBackend;
use cnn::layers::{Activation, Conv2D, Dense, Flatten, MaxPooling2D};
use cnn::{CnnError, FitConfig, Loss, Sequential, Sgd, data};

#[derive(Parser, Debug)]
#[command(about = "Grid search over learning rate and L2 factor for a CNN on the 8x8 digits")]
struct Args {
    /// A 3 x 3 corner of the grid and 3 epochs: a smoke test.
    #[arg(long)]
    quick: bool,
    /// Epochs per model (default 100, or 3 with --quick).
    #[arg(long)]
    epochs: Option<usize>,
    /// The conv backend: `auto` or a registered name (direct, toeplitz, fft, im2col, ...).
    #[arg(long, default_value = "auto")]
    backend: String,
    /// Where to write the figures and results.csv.
    #[arg(long, default_value = "target/digits-grid")]
    out: PathBuf,
    /// Seed of the split, the initial weights and the shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Models trained at once (default: the number of cores).
    #[arg(long)]
    threads: Option<usize>,
}

/// `count` values evenly spaced in log10 from `start` to `stop` (numpy's `logspace`).
fn logspace(start: f64, stop: f64, count: usize) -> Vec<f64> {
    (0..count).map(|i| 10f64.powf(start + (stop - start) * i as f64 / (count - 1).max(1) as f64)).collect()
}

/// Train and test accuracy of one cell (NaN when training diverged).
#[derive(Clone, Copy, Debug)]
struct Cell {
    train: f64,
    test: f64,
    seconds_per_epoch: f64,
}

// ANCHOR: model
/// The material's model for the 8x8 digits: Conv2D(10, 3x3, relu) -> MaxPool 2x2 -> Flatten ->
/// Dense(50, relu) -> Dense(10, softmax), L2 weight `lambda` on every kernel, plain SGD with
/// learning rate `eta`; the convolution runs on `backend` (any `ConvBackend<f32>`).
fn digits_model<B>(backend: B, eta: f64, lambda: f64, seed: u64) -> Result<Sequential<f32>, CnnError>
where
    B: ConvBackend<f32> + 'static,
{
    let mut model = Sequential::<f32>::new(&[8, 8, 1], seed);
    model.add(
        Conv2D::new(10, (3, 3))
            .activation(Activation::Relu)
            .kernel_regularizer_l2(lambda)
            .with_backend(backend),
    )?;
    model.add(MaxPooling2D::new((2, 2)))?;
    model.add(Flatten::new())?;
    model.add(Dense::new(50).activation(Activation::Relu).kernel_regularizer_l2(lambda))?;
    model.add(Dense::new(10).activation(Activation::Softmax).kernel_regularizer_l2(lambda))?;
    model.compile(Sgd::new(eta), Loss::CategoricalCrossentropy)?;
    Ok(model)
}
// ANCHOR_END: model

fn train_cell(
    args: &Args,
    eta: f64,
    lambda: f64,
    epochs: usize,
    train: &data::Dataset<f32>,
    test: &data::Dataset<f32>,
) -> Result<Cell, Box<dyn Error + Send + Sync>> {
    let backend = common::backend(&args.backend).map_err(|e| e.to_string())?;
    let mut model = digits_model(backend, eta, lambda, args.seed)?;
    let y_train = data::one_hot(&train.labels, 10)?;
    let y_test = data::one_hot(&test.labels, 10)?;
    let config = FitConfig::new(epochs).batch_size(100).verbose(false);
    match model.fit(&train.images, &y_train, &config) {
        Ok(history) => {
            let (_, train_accuracy) = model.evaluate(&train.images, &y_train, 100)?;
            let (_, test_accuracy) = model.evaluate(&test.images, &y_test, 100)?;
            let seconds = history.epoch_seconds.iter().sum::<f64>() / epochs.max(1) as f64;
            Ok(Cell { train: train_accuracy, test: test_accuracy, seconds_per_epoch: seconds })
        }
        // Keras would go on with NaN weights; we stop and show the cell as diverged.
        Err(CnnError::NonFinite { .. }) => {
            Ok(Cell { train: f64::NAN, test: f64::NAN, seconds_per_epoch: f64::NAN })
        }
        Err(other) => Err(other.into()),
    }
}

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let (etas, lambdas, epochs) = if args.quick {
        (logspace(-3.0, -1.0, 3), logspace(-5.0, -3.0, 3), args.epochs.unwrap_or(3))
    } else {
        (logspace(-5.0, 1.0, 7), logspace(-5.0, 1.0, 7), args.epochs.unwrap_or(100))
    };
    common::backend(&args.backend)?;
    std::fs::create_dir_all(&args.out)?;

    let digits = data::load_digits::<f32>()?;
    let (train, test) = digits.train_test_split(0.2, args.seed)?;
    println!(
        "digits: {} train, {} test images of 8x8; {} x {} grid, {epochs} epochs each, backend {}",
        train.len(),
        test.len(),
        etas.len(),
        lambdas.len(),
        args.backend
    );

    let cells: Vec<(usize, usize)> =
        (0..lambdas.len()).flat_map(|l| (0..etas.len()).map(move |e| (l, e))).collect();
    let results = std::sync::Mutex::new(vec![vec![None; etas.len()]; lambdas.len()]);
    let next = AtomicUsize::new(0);
    let threads =
        args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    std::thread::scope(|scope| -> Result<(), Box<dyn Error>> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> Result<(), Box<dyn Error + Send + Sync>> {
                    while let Some(&(l, e)) = cells.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let cell = train_cell(&args, etas[e], lambdas[l], epochs, &train, &test)?;
                        println!(
                            "eta {:>7.0e}  lambda {:>7.0e}  train {:.4}  test {:.4}  ({:.1} ms/epoch)",
                            etas[e],
                            lambdas[l],
                            cell.train,
                            cell.test,
                            cell.seconds_per_epoch * 1e3
                        );
                        if let Ok(mut results) = results.lock() {
                            results[l][e] = Some(cell);
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker.join().map_err(|_| "a training thread panicked")?.map_err(|e| e.to_string())?;
        }
        Ok(())
    })?;
    let results = results.into_inner().map_err(|_| "results lock poisoned")?;
    let get = |l: usize, e: usize, pick: fn(&Cell) -> f64| results[l][e].as_ref().map_or(f64::NAN, pick);

    println!("\ntest accuracy (rows: lambda, columns: eta)");
    print!("{:>9}", "");
    for eta in &etas {
        print!("{eta:>9.0e}");
    }
    println!();
    let mut csv = String::from("eta,lambda,train_accuracy,test_accuracy,seconds_per_epoch\n");
    let mut best = (f64::NEG_INFINITY, 0, 0);
    for (l, lambda) in lambdas.iter().enumerate() {
        print!("{lambda:>9.0e}");
        for (e, eta) in etas.iter().enumerate() {
            let test_accuracy = get(l, e, |c| c.test);
            print!("{test_accuracy:>9.4}");
            csv += &format!(
                "{eta},{lambda},{},{test_accuracy},{}\n",
                get(l, e, |c| c.train),
                get(l, e, |c| c.seconds_per_epoch)
            );
            if test_accuracy > best.0 {
                best = (test_accuracy, l, e);
            }
        }
        println!();
    }
    println!(
        "best test accuracy {:.4} at eta = {:.0e}, lambda = {:.0e}",
        best.0, etas[best.2], lambdas[best.1]
    );
    std::fs::write(args.out.join("results.csv"), csv)?;

    let labels = |values: &[f64]| values.iter().map(|v| format!("{v:.0e}")).collect::<Vec<_>>();
    for (name, pick) in [("train", (|c: &Cell| c.train) as fn(&Cell) -> f64), ("test", |c: &Cell| c.test)] {
        let grid: Vec<Vec<f64>> =
            (0..lambdas.len()).map(|l| (0..etas.len()).map(|e| get(l, e, pick)).collect()).collect();
        plots::heatmap(
            &args.out.join(format!("digits_{name}_accuracy.png")),
            &format!("{name} accuracy"),
            &grid,
            "learning rate eta",
            &labels(&etas),
            "L2 lambda",
            &labels(&lambdas),
        )?;
    }
    let examples: Vec<(Vec<Vec<f64>>, String)> = (0..5)
        .map(|i| {
            let image =
                (0..8).map(|y| (0..8).map(|x| f64::from(digits.images[[i, y, x, 0]])).collect()).collect();
            (image, format!("label: {}", digits.labels[i]))
        })
        .collect();
    plots::image_row(&args.out.join("digits_examples.png"), &examples, 16.0)?;
    println!("figures and results.csv written to {}", args.out.display());
    Ok(())
}
