//! An iris classifier with dense layers only, on linfa-datasets' copy of Fisher's iris data:
//! standardised features, a seeded 80/20 split, Dense(16, relu) -> Dense(3, softmax), Adam.
//!
//! ```text
//! cargo run --release -p cnn --example iris
//! ```

mod common;

use std::error::Error;

use cnn::layers::{Activation, Dense};
use cnn::{Adam, FitConfig, Loss, Sequential, data};
use ndarray::{ArrayD, Axis, IxDyn};

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

fn run() -> Result<(), Box<dyn Error>> {
    // linfa-datasets uses its own ndarray version: copy the values across.
    let iris = linfa_datasets::iris();
    let records = iris.records();
    let (rows, columns) = records.dim();
    let values: Vec<f64> = records.iter().copied().collect();
    let mut features = ArrayD::from_shape_vec(IxDyn(&[rows, columns]), values)?;
    let mean = features.mean_axis(Axis(0)).ok_or("no rows")?;
    let std = features.std_axis(Axis(0), 0.0);
    features = (features - &mean) / &std;
    let labels: Vec<usize> = iris.targets().iter().copied().collect();

    let all = data::Dataset { images: features, labels };
    let (train, test) = all.train_test_split(0.2, 0)?;
    let mut model = Sequential::<f64>::new(&[columns], 0);
    model.add(Dense::new(16).activation(Activation::Relu))?;
    model.add(Dense::new(3).activation(Activation::Softmax))?;
    print!("{}", model.summary());
    model.compile(Adam::new(0.01), Loss::CategoricalCrossentropy)?;
    let (y_train, y_test) = (data::one_hot(&train.labels, 3)?, data::one_hot(&test.labels, 3)?);
    let history = model.fit(&train.images, &y_train, &FitConfig::new(100).batch_size(16).verbose(false))?;
    let (loss, accuracy) = model.evaluate(&test.images, &y_test, 32)?;
    println!(
        "{} training flowers, {} test flowers; after {} epochs: training accuracy {:.3}, test loss {loss:.4}, test accuracy {accuracy:.3}",
        train.len(),
        test.len(),
        history.loss.len(),
        history.accuracy.last().copied().unwrap_or(f64::NAN)
    );
    Ok(())
}
