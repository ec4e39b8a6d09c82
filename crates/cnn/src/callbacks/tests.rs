//! Each callback driven epoch by epoch with chosen log values, and through `fit`.
#![allow(clippy::unwrap_used)]
use ndarray::{Array2, ArrayD};

use super::*;
use crate::layers::{Activation, Dense};
use crate::{FitConfig, Loss, Sgd};

fn model() -> Sequential<f64> {
    let mut model = Sequential::<f64>::new(&[4], 3);
    model.add(Dense::new(3).activation(Activation::Softmax)).unwrap();
    model.compile(Sgd::new(0.1).momentum(0.9), Loss::CategoricalCrossentropy).unwrap();
    model
}

fn data() -> (Array2<f64>, Array2<f64>) {
    let x = Array2::from_shape_fn((40, 4), |(i, j)| ((i * 3 + j * 5) % 7) as f64 / 7.0 - 0.4);
    let y = Array2::from_shape_fn((40, 3), |(i, k)| f64::from(u8::from(k == (i * 7) % 3)));
    (x, y)
}

/// Marks the model's weights with `mark` (every value), so a restore can be recognised.
fn mark(model: &mut Sequential<f64>, mark: f64) {
    let weights: Vec<ArrayD<f64>> = model.get_weights().iter().map(|w| w.mapv(|_| mark)).collect();
    model.set_weights(weights).unwrap();
}

fn val_loss(value: f64) -> Logs {
    Logs::from([("loss", 1.0), ("val_loss", value)])
}

#[test]
fn early_stopping_stops_after_patience_and_restores_the_best_epoch() {
    let mut model = model();
    let mut stop = EarlyStopping::new("val_loss").patience(2).restore_best_weights(true);
    Callback::<f64>::on_train_begin(&mut stop, &mut model).unwrap();
    let losses = [1.0, 0.5, 0.6, 0.7, 0.8];
    for (epoch, &loss) in losses.iter().enumerate() {
        mark(&mut model, epoch as f64);
        stop.on_epoch_end(epoch, &val_loss(loss), &mut model).unwrap();
        if model.is_stopping() {
            break;
        }
    }
    // Epoch 1 was the best; epochs 2 and 3 did not improve: patience 2 is spent at epoch 3.
    assert_eq!(stop.stopped_epoch(), Some(3));
    assert_eq!(stop.best(), Some((1, 0.5)));
    assert!(model.get_weights().iter().all(|w| w.iter().all(|&v| v == 1.0)), "epoch 1's weights are back");
}

#[test]
fn early_stopping_counts_only_improvements_over_min_delta_and_the_baseline() {
    let mut model = model();
    // Improvements of 0.01 are below min_delta 0.05: they do not count.
    let mut stop = EarlyStopping::new("val_loss").patience(2).min_delta(0.05);
    Callback::<f64>::on_train_begin(&mut stop, &mut model).unwrap();
    for (epoch, loss) in [1.0, 0.99, 0.98, 0.97].into_iter().enumerate() {
        stop.on_epoch_end(epoch, &val_loss(loss), &mut model).unwrap();
        if model.is_stopping() {
            break;
        }
    }
    assert_eq!(stop.stopped_epoch(), Some(2));
    // Improving but never beating the baseline 0.1: the counter keeps running.
    let mut model = super::tests::model();
    let mut stop = EarlyStopping::new("val_loss").patience(3).baseline(0.1);
    Callback::<f64>::on_train_begin(&mut stop, &mut model).unwrap();
    for (epoch, loss) in [1.0, 0.9, 0.8, 0.7].into_iter().enumerate() {
        stop.on_epoch_end(epoch, &val_loss(loss), &mut model).unwrap();
    }
    assert_eq!(stop.stopped_epoch(), None, "improving epochs return before the check");
    // Accuracy is maximised (mode from the name).
    let mut stop = EarlyStopping::new("val_accuracy").patience(1);
    let mut model = super::tests::model();
    Callback::<f64>::on_train_begin(&mut stop, &mut model).unwrap();
    for (epoch, accuracy) in [0.5, 0.7, 0.6].into_iter().enumerate() {
        stop.on_epoch_end(epoch, &Logs::from([("val_accuracy", accuracy)]), &mut model).unwrap();
    }
    assert_eq!((stop.best(), stop.stopped_epoch()), (Some((1, 0.7)), Some(2)));
}

#[test]
fn early_stopping_ends_fit_and_a_missing_monitor_is_an_error() {
    let (x, y) = data();
    let mut model = model();
    // Nothing improves by 1e9: stopped at epoch 1 (patience 1).
    let mut stop = EarlyStopping::new("loss").patience(1).min_delta(1e9);
    let config = FitConfig::new(20).batch_size(8).verbose(false);
    let history = model.fit_with_callbacks(&x, &y, &config, &mut [&mut stop]).unwrap();
    assert_eq!(history.loss.len(), 2);
    assert_eq!(stop.stopped_epoch(), Some(1));
    // Without validation data there is no val_loss to watch.
    let mut stop = EarlyStopping::new("val_loss");
    let error = model.fit_with_callbacks(&x, &y, &config, &mut [&mut stop]).unwrap_err();
    assert!(matches!(error, CnnError::InvalidParameter { name: "monitor", .. }), "{error}");
}

#[test]
fn reduce_lr_on_plateau_halves_after_patience_respects_cooldown_and_min_lr() {
    let mut model = model();
    let mut plateau = ReduceLROnPlateau::new("val_loss").factor(0.5).patience(2).cooldown(1).min_lr(0.02);
    Callback::<f64>::on_train_begin(&mut plateau, &mut model).unwrap();
    let mut rates = Vec::new();
    for epoch in 0..9 {
        plateau.on_epoch_end(epoch, &val_loss(1.0), &mut model).unwrap();
        rates.push(model.learning_rate().unwrap());
    }
    // Keras's order: epoch 0 sets the best; 1 and 2 wait, the rate halves at 2; epoch 3 spends
    // the cooldown (the counter restarts, then counts 3); 4 halves again; 6 would give 0.0125,
    // below min_lr, so 0.02; at 8 the rate is min_lr and stays.
    assert_eq!(rates, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.02]);
    assert_eq!(plateau.reductions(), [(2, 0.05), (4, 0.025), (6, 0.02)]);
    let mut wrong = ReduceLROnPlateau::new("val_loss").factor(1.5);
    assert!(Callback::<f64>::on_train_begin(&mut wrong, &mut model).is_err());
}

#[test]
fn the_scheduler_sets_the_rates_asked_for_and_keeps_the_optimizer_state() {
    let (x, y) = data();
    let config = FitConfig::new(4).batch_size(8).verbose(false).shuffle(false);
    let mut model_a = model();
    let mut schedule = LearningRateScheduler::new(|epoch, _| 0.1 / (epoch + 1) as f64);
    let history = model_a.fit_with_callbacks(&x, &y, &config, &mut [&mut schedule]).unwrap();
    assert_eq!(history.learning_rate, [0.1, 0.05, 0.1 / 3.0, 0.025]);
    // A schedule that sets the same rate changes nothing: the momenta are not reset.
    let (mut plain, mut same) = (model(), model());
    let mut constant = LearningRateScheduler::new(|_, rate| rate);
    plain.fit(&x, &y, &config).unwrap();
    same.fit_with_callbacks(&x, &y, &config, &mut [&mut constant]).unwrap();
    assert_eq!(plain.get_weights(), same.get_weights());
    // A schedule that returns no rate is refused.
    let mut broken = LearningRateScheduler::new(|_, _| f64::NAN);
    assert!(model().fit_with_callbacks(&x, &y, &config, &mut [&mut broken]).is_err());
}

#[test]
fn the_csv_log_has_keras_columns_and_one_line_per_epoch() {
    let (x, y) = data();
    let dir = std::env::temp_dir().join(format!("cnn-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("log.csv");
    let config = FitConfig::new(3).batch_size(8).verbose(false).validation_split(0.25);
    let mut model = model();
    let mut log = CsvLogger::new(&path);
    let history = model.fit_with_callbacks(&x, &y, &config, &mut [&mut log]).unwrap();
    let mut log = CsvLogger::new(&path).append(true);
    model.fit_with_callbacks(&x, &y, &config, &mut [&mut log]).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss");
    assert_eq!(lines.len(), 1 + 3 + 3, "appending writes no second header:\n{text}");
    let first: Vec<f64> = lines[1].split(',').map(|v| v.parse().unwrap()).collect();
    assert_eq!(
        first,
        [0.0, history.accuracy[0], 0.1, history.loss[0], history.val_accuracy[0], history.val_loss[0]]
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn checkpoints_fill_the_path_and_keep_only_improvements() {
    let dir = std::env::temp_dir().join(format!("cnn-checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let template = format!("{}/w-{{epoch:02}}-{{val_loss:.2}}.safetensors", dir.display());
    let mut model = model();
    let mut best = ModelCheckpoint::new(&template).save_best_only(true);
    Callback::<f64>::on_train_begin(&mut best, &mut model).unwrap();
    for (epoch, loss) in [0.9, 0.5, 0.7, 0.4].into_iter().enumerate() {
        best.on_epoch_end(epoch, &val_loss(loss), &mut model).unwrap();
    }
    let names: Vec<String> =
        best.saved().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["w-01-0.90.safetensors", "w-02-0.50.safetensors", "w-04-0.40.safetensors"]);
    let mut reloaded = super::tests::model();
    reloaded.load_weights(&best.saved()[2]).unwrap();
    assert_eq!(reloaded.get_weights(), model.get_weights());
    let mut unknown = ModelCheckpoint::new("w-{val_los}.safetensors");
    assert!(unknown.on_epoch_end(0, &val_loss(0.1), &mut model).is_err());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn validation_split_holds_out_the_last_rows_before_shuffling() {
    let (x, y) = data();
    let mut model = model();
    let config = FitConfig::new(1).batch_size(8).verbose(false).validation_split(0.25);
    let history = model.fit(&x, &y, &config).unwrap();
    // The last 10 of 40 rows: evaluating them after the epoch gives the logged values.
    let tail = |a: &Array2<f64>| a.slice_axis(ndarray::Axis(0), ndarray::Slice::from(30..)).to_owned();
    let (loss, accuracy) = model.evaluate(&tail(&x), &tail(&y), 8).unwrap();
    assert_eq!((history.val_loss[0], history.val_accuracy[0]), (loss, accuracy));
    // 0.99 leaves no training row of 40, 1e-17 no validation row (1 - 1e-17 rounds to 1).
    for bad in [1.0, -0.1, f64::NAN, 0.99, 1e-17] {
        let error = model.fit(&x, &y, &FitConfig::new(1).verbose(false).validation_split(bad)).unwrap_err();
        assert!(
            matches!(error, CnnError::InvalidParameter { name: "validation_split", .. }),
            "{bad}: {error}"
        );
    }
}
