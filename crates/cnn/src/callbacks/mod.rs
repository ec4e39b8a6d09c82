//! Callbacks for [`Sequential::fit_with_callbacks`](crate::Sequential::fit_with_callbacks), at
//! Keras's hook points: early stopping, checkpoints, learning-rate schedules and a CSV log.
//!
//! ```
//! use cnn::callbacks::{EarlyStopping, ReduceLROnPlateau};
//! use cnn::layers::{Activation, Dense, Flatten};
//! use cnn::{FitConfig, Loss, Sequential, Sgd};
//! use ndarray::Array2;
//!
//! let mut model = Sequential::<f64>::new(&[4], 0);
//! model.add(Dense::new(3).activation(Activation::Softmax))?;
//! model.compile(Sgd::new(0.1), Loss::CategoricalCrossentropy)?;
//! let x = Array2::from_shape_fn((40, 4), |(i, j)| ((i * 3 + j * 5) % 7) as f64 / 7.0);
//! let y = Array2::from_shape_fn((40, 3), |(i, k)| f64::from(u8::from(k == i % 3)));
//! let mut stop = EarlyStopping::new("val_loss").patience(2).restore_best_weights(true);
//! let mut plateau = ReduceLROnPlateau::new("val_loss").factor(0.5).patience(1);
//! let config = FitConfig::new(30).batch_size(8).validation_split(0.25).verbose(false);
//! let history = model.fit_with_callbacks(&x, &y, &config, &mut [&mut stop, &mut plateau])?;
//! assert_eq!(history.val_loss.len(), history.loss.len());
//! assert!(history.learning_rate.windows(2).all(|w| w[1] <= w[0]));
//! # Ok::<(), cnn::CnnError>(())
//! ```

mod checkpoint;
mod csv_logger;
mod early_stopping;
mod schedules;

pub use checkpoint::ModelCheckpoint;
pub use csv_logger::CsvLogger;
pub use early_stopping::EarlyStopping;
pub use schedules::{LearningRateScheduler, ReduceLROnPlateau};

use crate::error::CnnError;
use crate::float::Float;
use crate::model::Sequential;

/// What happens during [`fit_with_callbacks`](Sequential::fit_with_callbacks), as Keras's
/// `keras.callbacks.Callback`: every hook has a default that does nothing, and gets the model
/// (to read or set weights, the learning rate, or [`stop_training`](Sequential::stop_training)).
/// Epochs and batches are counted from 0, as Keras passes them.
pub trait Callback<T: Float> {
    /// Before the first epoch.
    ///
    /// # Errors
    /// Whatever the callback reports; training does not start.
    fn on_train_begin(&mut self, _model: &mut Sequential<T>) -> Result<(), CnnError> {
        Ok(())
    }

    /// Before epoch `epoch`.
    ///
    /// # Errors
    /// Whatever the callback reports; training stops.
    fn on_epoch_begin(&mut self, _epoch: usize, _model: &mut Sequential<T>) -> Result<(), CnnError> {
        Ok(())
    }

    /// After batch `batch` of the current epoch; `logs` has the epoch's running `loss` and
    /// `accuracy`.
    ///
    /// # Errors
    /// Whatever the callback reports; training stops.
    fn on_train_batch_end(
        &mut self,
        _batch: usize,
        _logs: &Logs,
        _model: &mut Sequential<T>,
    ) -> Result<(), CnnError> {
        Ok(())
    }

    /// After epoch `epoch`; `logs` has `loss`, `accuracy`, `val_loss` and `val_accuracy` (with
    /// validation data) and `learning_rate`.
    ///
    /// # Errors
    /// Whatever the callback reports; training stops.
    fn on_epoch_end(
        &mut self,
        _epoch: usize,
        _logs: &Logs,
        _model: &mut Sequential<T>,
    ) -> Result<(), CnnError> {
        Ok(())
    }

    /// After the last epoch, with its logs.
    ///
    /// # Errors
    /// Whatever the callback reports.
    fn on_train_end(&mut self, _logs: &Logs, _model: &mut Sequential<T>) -> Result<(), CnnError> {
        Ok(())
    }
}

/// Named values of one epoch or batch (Keras's `logs` dictionary), in the order they were
/// written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Logs {
    values: Vec<(String, f64)>,
}

impl Logs {
    /// The value named `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
    }

    /// Sets `name` (replacing its value if it is there).
    pub fn insert(&mut self, name: &str, value: f64) {
        match self.values.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.values.push((name.to_string(), value)),
        }
    }

    /// The names and values, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.values.iter().map(|(n, v)| (n.as_str(), *v))
    }
}

impl<const N: usize> From<[(&str, f64); N]> for Logs {
    fn from(pairs: [(&str, f64); N]) -> Self {
        let mut logs = Logs::default();
        pairs.into_iter().for_each(|(name, value)| logs.insert(name, value));
        logs
    }
}

/// Whether a monitored value improves by falling or by rising.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MonitorMode {
    /// Rising for names holding `acc` (accuracy), falling otherwise: Keras's `"auto"`.
    #[default]
    Auto,
    /// Lower is better (losses).
    Min,
    /// Higher is better (accuracies).
    Max,
}

/// A monitored log value and its direction, shared by the callbacks that watch one.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Monitor {
    pub(crate) name: String,
    pub(crate) higher_is_better: bool,
}

impl Monitor {
    pub(crate) fn new(name: &str, mode: MonitorMode) -> Monitor {
        let higher_is_better = match mode {
            MonitorMode::Auto => name.contains("acc"),
            MonitorMode::Min => false,
            MonitorMode::Max => true,
        };
        Monitor { name: name.to_string(), higher_is_better }
    }

    /// The monitored value in `logs`.
    ///
    /// # Errors
    /// [`CnnError::InvalidParameter`] when `logs` do not have it (Keras warns and goes on;
    /// here a misspelt name or a missing validation set is said at once).
    pub(crate) fn value(&self, logs: &Logs) -> Result<f64, CnnError> {
        logs.get(&self.name).ok_or_else(|| CnnError::InvalidParameter {
            name: "monitor",
            value: self.name.clone(),
            reason: "is not in the epoch's logs (loss, accuracy, learning_rate, and val_loss, val_accuracy with validation data)",
        })
    }

    /// Whether `current` beats `reference` by more than `min_delta` (`>= 0`) in this
    /// monitor's direction; any value beats `None`.
    pub(crate) fn improves(&self, current: f64, reference: Option<f64>, min_delta: f64) -> bool {
        match reference {
            None => !current.is_nan(),
            Some(best) if self.higher_is_better => current - min_delta > best,
            Some(best) => current + min_delta < best,
        }
    }
}

/// Refuses a parameter that is not finite and at least `min`.
pub(crate) fn check_at_least(name: &'static str, value: f64, min: f64) -> Result<(), CnnError> {
    crate::error::check_parameter(name, value, value >= min, "must be finite and not below its minimum")
}

#[cfg(test)]
mod tests;
