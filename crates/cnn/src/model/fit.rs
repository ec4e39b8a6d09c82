//! Keras's `fit`: epochs of shuffled batches, a validation split, and callbacks.

use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{ArrayBase, ArrayViewD, Axis, Data, Dimension};
use rand::seq::SliceRandom;

use super::{Sequential, check_finite};
use crate::callbacks::{Callback, Logs};
use crate::error::CnnError;
use crate::float::Float;

/// How [`Sequential::fit`] trains: Keras's `fit` arguments.
#[derive(Clone, Debug)]
pub struct FitConfig<'a, T> {
    /// Passes over the training data.
    pub epochs: usize,
    /// Samples per gradient step (the last batch may be smaller); Keras's default is 32.
    pub batch_size: usize,
    /// Whether to shuffle the samples before each epoch (seeded by the model's seed).
    pub shuffle: bool,
    /// Whether to report progress: a bar per epoch when both standard output and error are a
    /// terminal, otherwise (a log file, a pipe, CI) one plain line per epoch on standard output,
    /// as Keras's `verbose=2`:
    /// `Epoch 3/20 - 0.12s - loss 0.4521 accuracy 0.8700`.
    pub verbose: bool,
    /// Data to evaluate after each epoch (takes precedence over `validation_split`, as in Keras).
    pub validation_data: Option<(ArrayViewD<'a, T>, ArrayViewD<'a, T>)>,
    /// The fraction of the samples held out for validation: the *last* ones, taken before any
    /// shuffling, as Keras does. 0 (the default) holds none out.
    pub validation_split: f64,
}

impl<'a, T> FitConfig<'a, T> {
    /// `epochs` epochs, batch size 32, shuffled, verbose, no validation.
    pub fn new(epochs: usize) -> Self {
        FitConfig {
            epochs,
            batch_size: 32,
            shuffle: true,
            verbose: true,
            validation_data: None,
            validation_split: 0.0,
        }
    }

    /// Samples per gradient step.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Whether to shuffle before each epoch.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Whether to print progress.
    pub fn verbose(mut self, verbose: bool) -> Self {
        self.verbose = verbose;
        self
    }

    /// Evaluates on `(x, y)` after each epoch (arrays of any dimension, the batch first).
    pub fn validation_data<S1, D1, S2, D2>(
        mut self,
        x: &'a ArrayBase<S1, D1>,
        y: &'a ArrayBase<S2, D2>,
    ) -> Self
    where
        S1: Data<Elem = T>,
        D1: Dimension,
        S2: Data<Elem = T>,
        D2: Dimension,
    {
        self.validation_data = Some((x.view().into_dyn(), y.view().into_dyn()));
        self
    }

    /// Holds out the last `fraction` of the samples for validation (Keras's
    /// `validation_split`); [`fit`](Sequential::fit) refuses a fraction outside `[0, 1)` or one
    /// that leaves no sample on either side.
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.validation_split = fraction;
        self
    }
}

/// Per-epoch results of [`Sequential::fit`], like Keras's `History.history`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Mean training loss (including regularisation) over each epoch's batches.
    pub loss: Vec<f64>,
    /// Training accuracy over each epoch (measured during the epoch, as Keras does).
    pub accuracy: Vec<f64>,
    /// Validation loss after each epoch (empty without validation data).
    pub val_loss: Vec<f64>,
    /// Validation accuracy after each epoch.
    pub val_accuracy: Vec<f64>,
    /// The learning rate each epoch trained with.
    pub learning_rate: Vec<f64>,
    /// Wall-clock seconds of each epoch's training (validation excluded).
    pub epoch_seconds: Vec<f64>,
}

/// `x` split into training and validation rows at `floor(n (1 - fraction))`, as Keras's
/// `train_validation_split`.
fn split_rows<'x, T>(
    x: &ArrayViewD<'x, T>,
    fraction: f64,
) -> Result<(ArrayViewD<'x, T>, ArrayViewD<'x, T>), CnnError> {
    let samples = x.shape()[0];
    let refuse =
        |reason| CnnError::InvalidParameter { name: "validation_split", value: fraction.to_string(), reason };
    if !(0.0..1.0).contains(&fraction) {
        return Err(refuse("must be in [0, 1)"));
    }
    let at = (samples as f64 * (1.0 - fraction)).floor() as usize;
    if at == 0 || at == samples {
        return Err(refuse("leaves no training or no validation sample for this many samples"));
    }
    let (train, validation) = x.clone().split_at(Axis(0), at);
    Ok((train, validation))
}

impl<T: Float> Sequential<T> {
    /// Trains on `(x, y)` (arrays of any dimension, the batch first) and returns the per-epoch
    /// history. The same as [`fit_with_callbacks`](Sequential::fit_with_callbacks) with none.
    ///
    /// # Errors
    /// As [`fit_with_callbacks`](Sequential::fit_with_callbacks).
    pub fn fit<S1, D1, S2, D2>(
        &mut self,
        x: &ArrayBase<S1, D1>,
        y: &ArrayBase<S2, D2>,
        config: &FitConfig<'_, T>,
    ) -> Result<History, CnnError>
    where
        S1: Data<Elem = T>,
        D1: Dimension,
        S2: Data<Elem = T>,
        D2: Dimension,
    {
        self.fit_with_callbacks(x, y, config, &mut [])
    }

    /// Trains on `(x, y)`, calling each callback at Keras's hook points (train begin and end,
    /// epoch begin and end with the epoch's logs, after each batch), in order. A callback may
    /// stop training ([`stop_training`](Sequential::stop_training)), change the learning rate
    /// or the weights; its own state (an early stop's best epoch) stays readable afterwards.
    ///
    /// # Errors
    /// [`CnnError::NotCompiled`], [`CnnError::Shape`] when `x` does not match the input shape or
    /// `y` has another number of rows, [`CnnError::NonFinite`] for NaN/inf in the data or a loss
    /// that becomes non-finite (lower the learning rate), [`CnnError::InvalidParameter`] for a
    /// zero batch size or a bad `validation_split`, any layer's error, and the first error a
    /// callback returns (training stops there).
    pub fn fit_with_callbacks<S1, D1, S2, D2>(
        &mut self,
        x: &ArrayBase<S1, D1>,
        y: &ArrayBase<S2, D2>,
        config: &FitConfig<'_, T>,
        callbacks: &mut [&mut dyn Callback<T>],
    ) -> Result<History, CnnError>
    where
        S1: Data<Elem = T>,
        D1: Dimension,
        S2: Data<Elem = T>,
        D2: Dimension,
    {
        let (x, y) = (x.view().into_dyn(), y.view().into_dyn());
        let samples = self.check_input(&x)?;
        if y.shape().first() != Some(&samples) {
            return Err(CnnError::shape("targets", format!("{samples} rows like the input"), y.shape()));
        }
        let (x, y, validation) = match (&config.validation_data, config.validation_split) {
            (Some((xv, yv)), _) => (x, y, Some((xv.clone(), yv.clone()))),
            (None, 0.0) => (x, y, None),
            (None, fraction) => {
                let ((x, xv), (y, yv)) = (split_rows(&x, fraction)?, split_rows(&y, fraction)?);
                (x, y, Some((xv, yv)))
            }
        };
        self.stop_training = false;
        for callback in callbacks.iter_mut() {
            callback.on_train_begin(self)?;
        }
        let history = self.train_epochs(&x, &y, validation.as_ref(), config, callbacks)?;
        let logs = history_logs(&history, history.loss.len().saturating_sub(1));
        for callback in callbacks.iter_mut() {
            callback.on_train_end(&logs, self)?;
        }
        Ok(history)
    }

    fn train_epochs(
        &mut self,
        x: &ArrayViewD<'_, T>,
        y: &ArrayViewD<'_, T>,
        validation: Option<&(ArrayViewD<'_, T>, ArrayViewD<'_, T>)>,
        config: &FitConfig<'_, T>,
        callbacks: &mut [&mut dyn Callback<T>],
    ) -> Result<History, CnnError> {
        let samples = x.shape()[0];
        let loss_fn = self.compiled.as_ref().ok_or(CnnError::NotCompiled)?.1;
        check_finite("targets", y)?;
        if config.batch_size == 0 {
            return Err(CnnError::InvalidParameter {
                name: "batch_size",
                value: "0".into(),
                reason: "must be >= 1",
            });
        }
        let batches = samples.div_ceil(config.batch_size);
        let mut history = History::default();
        let mut order: Vec<usize> = (0..samples).collect();
        for epoch in 0..config.epochs {
            for callback in callbacks.iter_mut() {
                callback.on_epoch_begin(epoch, self)?;
            }
            // A bar where someone watches; in logs, pipes and CI one plain line per epoch
            // (Keras's `verbose=2`), since a bar drawn nowhere would leave them silent.
            let show_bar =
                config.verbose && std::io::stderr().is_terminal() && std::io::stdout().is_terminal();
            let bar = if show_bar { ProgressBar::new(batches as u64) } else { ProgressBar::hidden() };
            if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {elapsed} {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(format!("Epoch {}/{}", epoch + 1, config.epochs));
            let started = Instant::now();
            history.learning_rate.push(self.learning_rate().unwrap_or(f64::NAN));
            if config.shuffle {
                order.shuffle(&mut self.rng);
            }
            let (mut loss_sum, mut correct) = (0.0, 0usize);
            for (batch, chunk) in order.chunks(config.batch_size).enumerate() {
                let (xb, yb) = (x.select(Axis(0), chunk), y.select(Axis(0), chunk));
                let output = self.forward(&xb, true)?;
                let (loss, grad) = loss_fn.compute(&output, &yb)?;
                let loss = loss + self.regularization_loss();
                if !loss.is_finite() {
                    return Err(CnnError::NonFinite {
                        what: format!("the loss at epoch {}, batch {batch}", epoch + 1),
                    });
                }
                correct += loss_fn.correct(&output, &yb)?;
                loss_sum += loss * chunk.len() as f64;
                self.backward_and_step(grad)?;
                let seen = ((batch + 1) * config.batch_size).min(samples) as f64;
                bar.inc(1);
                bar.set_message(format!("loss {:.4}", loss_sum / seen));
                if !callbacks.is_empty() {
                    let logs = Logs::from([("loss", loss_sum / seen), ("accuracy", correct as f64 / seen)]);
                    for callback in callbacks.iter_mut() {
                        callback.on_train_batch_end(batch, &logs, self)?;
                    }
                }
            }
            history.epoch_seconds.push(started.elapsed().as_secs_f64());
            history.loss.push(loss_sum / samples as f64);
            history.accuracy.push(correct as f64 / samples as f64);
            if let Some((xv, yv)) = validation {
                let (val_loss, val_accuracy) = self.evaluate_view(xv, yv, config.batch_size)?;
                history.val_loss.push(val_loss);
                history.val_accuracy.push(val_accuracy);
            }
            let logs = history_logs(&history, epoch);
            let message = logs.to_string();
            if show_bar {
                bar.finish_with_message(message);
            } else if config.verbose {
                println!("{}", epoch_line(epoch + 1, config.epochs, history.epoch_seconds[epoch], &message));
            }
            for callback in callbacks.iter_mut() {
                callback.on_epoch_end(epoch, &logs, self)?;
            }
            if self.stop_training {
                break;
            }
        }
        Ok(history)
    }

    /// Back-propagates `grad` (the loss gradient with respect to the output of the last training
    /// forward pass), adds the L2 terms and lets the optimizer update every parameter.
    fn backward_and_step(&mut self, grad: ndarray::ArrayD<T>) -> Result<(), CnnError> {
        let mut grad = grad;
        let (first, rest) = self.layers.split_first_mut().ok_or(CnnError::NoLayers)?;
        for entry in rest.iter_mut().rev() {
            grad = entry.layer.backward(grad)?;
        }
        first.layer.backward_params_only(grad)?;
        let mut params: Vec<&mut crate::layers::Param<T>> =
            self.layers.iter_mut().flat_map(|e| e.layer.params_mut()).collect();
        for param in &mut params {
            if let Some(l2) = param.l2 {
                let factor = T::of(2.0 * l2);
                let param = &mut **param;
                ndarray::Zip::from(&mut param.grad).and(&param.value).for_each(|g, &w| *g = *g + factor * w);
            }
        }
        if let Some((optimizer, _)) = self.compiled.as_mut() {
            optimizer.step(&mut params);
        }
        Ok(())
    }
}

/// The logs of epoch `epoch` (0-based) of `history`: loss, accuracy, the validation pair when
/// there is one, and the learning rate.
fn history_logs(history: &History, epoch: usize) -> Logs {
    let mut logs = Logs::default();
    let series = [
        ("loss", &history.loss),
        ("accuracy", &history.accuracy),
        ("val_loss", &history.val_loss),
        ("val_accuracy", &history.val_accuracy),
        ("learning_rate", &history.learning_rate),
    ];
    for (name, values) in series {
        if let Some(&value) = values.get(epoch).filter(|v| !v.is_nan() || name != "learning_rate") {
            logs.insert(name, value);
        }
    }
    logs
}

/// One epoch's report for logs: `Epoch 3/20 - 0.12s - loss 0.4521 accuracy 0.8700`.
fn epoch_line(epoch: usize, epochs: usize, seconds: f64, metrics: &str) -> String {
    format!("Epoch {epoch}/{epochs} - {seconds:.2}s - {metrics}")
}

impl std::fmt::Display for Logs {
    /// `loss 0.4521 accuracy 0.8700 val_loss ... learning_rate 0.001`, in the order written.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut line = String::new();
        for (name, value) in self.iter() {
            let separator = if line.is_empty() { "" } else { " " };
            let _ = match name {
                "learning_rate" => write!(line, "{separator}{name} {value:e}"),
                _ => write!(line, "{separator}{name} {value:.4}"),
            };
        }
        f.write_str(&line)
    }
}
