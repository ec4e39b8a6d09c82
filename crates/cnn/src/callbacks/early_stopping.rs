//! Keras's `EarlyStopping`.

use ndarray::ArrayD;

use super::{Callback, Logs, Monitor, MonitorMode, check_at_least};
use crate::error::CnnError;
use crate::float::Float;
use crate::model::Sequential;

/// Stops training when a monitored value has not improved for `patience` epochs, and can put
/// back the weights of the best epoch (Keras's `keras.callbacks.EarlyStopping`, same defaults:
/// `min_delta = 0`, `patience = 0`, mode from the name, no baseline, no restore).
///
/// An epoch improves when it beats the best so far by more than `min_delta`; the counter of
/// epochs without improvement restarts only when the value also beats the `baseline`. With
/// `restore_best_weights`, the weights of the best epoch are set back when training stops.
///
/// # Examples
/// ```
/// use cnn::callbacks::EarlyStopping;
/// let stop = EarlyStopping::<f32>::new("val_accuracy").patience(5).min_delta(1e-3).restore_best_weights(true);
/// assert_eq!(stop.stopped_epoch(), None);
/// ```
#[derive(Clone, Debug)]
pub struct EarlyStopping<T> {
    monitor: Monitor,
    min_delta: f64,
    patience: usize,
    baseline: Option<f64>,
    restore_best_weights: bool,
    start_from_epoch: usize,
    wait: usize,
    best: Option<f64>,
    best_epoch: Option<usize>,
    best_weights: Option<Vec<ArrayD<T>>>,
    stopped_epoch: Option<usize>,
}

impl<T> EarlyStopping<T> {
    /// Watches the log value `monitor` (`"val_loss"` is Keras's default).
    pub fn new(monitor: &str) -> Self {
        EarlyStopping {
            monitor: Monitor::new(monitor, MonitorMode::Auto),
            min_delta: 0.0,
            patience: 0,
            baseline: None,
            restore_best_weights: false,
            start_from_epoch: 0,
            wait: 0,
            best: None,
            best_epoch: None,
            best_weights: None,
            stopped_epoch: None,
        }
    }

    /// Whether lower or higher is better (default: from the name).
    pub fn mode(mut self, mode: MonitorMode) -> Self {
        self.monitor = Monitor::new(&self.monitor.name, mode);
        self
    }

    /// The least change that counts as an improvement (an absolute amount, `>= 0`).
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta.abs();
        self
    }

    /// Epochs without improvement after which training stops.
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// A value the monitored one must beat for the patience counter to restart.
    pub fn baseline(mut self, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self
    }

    /// Whether to set back the best epoch's weights when training stops.
    pub fn restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best_weights = restore;
        self
    }

    /// Epochs to train before watching (a warm-up).
    pub fn start_from_epoch(mut self, epoch: usize) -> Self {
        self.start_from_epoch = epoch;
        self
    }

    /// The epoch (from 0) at which training was stopped, if it was.
    pub fn stopped_epoch(&self) -> Option<usize> {
        self.stopped_epoch
    }

    /// The epoch (from 0) with the best monitored value, and that value.
    pub fn best(&self) -> Option<(usize, f64)> {
        self.best_epoch.zip(self.best)
    }
}

impl<T: Float> Callback<T> for EarlyStopping<T> {
    fn on_train_begin(&mut self, _model: &mut Sequential<T>) -> Result<(), CnnError> {
        check_at_least("min_delta", self.min_delta, 0.0)?;
        if let Some(baseline) = self.baseline {
            check_at_least("baseline", baseline, f64::MIN)?;
        }
        self.wait = 0;
        self.best = None;
        self.best_epoch = None;
        self.best_weights = None;
        self.stopped_epoch = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, model: &mut Sequential<T>) -> Result<(), CnnError> {
        let current = self.monitor.value(logs)?;
        if epoch < self.start_from_epoch {
            return Ok(());
        }
        if self.restore_best_weights && self.best_weights.is_none() {
            self.best_weights = Some(model.get_weights());
        }
        self.wait += 1;
        if self.monitor.improves(current, self.best, self.min_delta) {
            self.best = Some(current);
            self.best_epoch = Some(epoch);
            if self.restore_best_weights {
                self.best_weights = Some(model.get_weights());
            }
            // The counter restarts only when the baseline is beaten too.
            if self.baseline.is_none() || self.monitor.improves(current, self.baseline, self.min_delta) {
                self.wait = 0;
            }
            return Ok(());
        }
        if self.wait >= self.patience && epoch > 0 {
            self.stopped_epoch = Some(epoch);
            model.stop_training();
            if let Some(weights) = self.best_weights.clone().filter(|_| self.restore_best_weights) {
                model.set_weights(weights)?;
            }
        }
        Ok(())
    }
}
