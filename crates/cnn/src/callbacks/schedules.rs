//! The learning-rate schedules: Keras's `LearningRateScheduler` and `ReduceLROnPlateau`.

use super::{Callback, Logs, Monitor, MonitorMode, check_at_least};
use crate::error::CnnError;
use crate::float::Float;
use crate::model::Sequential;

/// Sets the learning rate before each epoch to `schedule(epoch, current_rate)` (Keras's
/// `keras.callbacks.LearningRateScheduler`); the optimizer keeps its state (momenta, moments).
///
/// # Examples
/// ```
/// // Halve the rate every 10 epochs.
/// let halve = cnn::callbacks::LearningRateScheduler::new(|epoch, rate| {
///     if epoch > 0 && epoch % 10 == 0 { rate / 2.0 } else { rate }
/// });
/// # let _ = halve;
/// ```
pub struct LearningRateScheduler<F> {
    schedule: F,
}

impl<F: FnMut(usize, f64) -> f64> LearningRateScheduler<F> {
    /// A schedule from the epoch (from 0) and the current rate to the epoch's rate.
    pub fn new(schedule: F) -> Self {
        LearningRateScheduler { schedule }
    }
}

impl<T: Float, F: FnMut(usize, f64) -> f64> Callback<T> for LearningRateScheduler<F> {
    /// # Errors
    /// [`CnnError::NotCompiled`], or [`CnnError::InvalidParameter`] for a rate that is not
    /// finite and positive.
    fn on_epoch_begin(&mut self, epoch: usize, model: &mut Sequential<T>) -> Result<(), CnnError> {
        let current = model.learning_rate().ok_or(CnnError::NotCompiled)?;
        model.set_learning_rate((self.schedule)(epoch, current))
    }
}

/// Multiplies the learning rate by `factor` when a monitored value has not improved for
/// `patience` epochs (Keras's `keras.callbacks.ReduceLROnPlateau`, same defaults: `factor = 0.1`,
/// `patience = 10`, `min_delta = 1e-4`, `cooldown = 0`, `min_lr = 0`).
///
/// After a reduction, `cooldown` epochs pass before the counter runs again; the rate never goes
/// below `min_lr`. The state carries over between `fit` calls, as the callback object does.
///
/// # Examples
/// ```
/// let plateau = cnn::callbacks::ReduceLROnPlateau::new("val_loss").factor(0.5).patience(3).min_lr(1e-5);
/// # let _ = plateau;
/// ```
#[derive(Clone, Debug)]
pub struct ReduceLROnPlateau {
    monitor: Monitor,
    factor: f64,
    patience: usize,
    min_delta: f64,
    cooldown: usize,
    min_lr: f64,
    wait: usize,
    cooldown_left: usize,
    best: Option<f64>,
    reductions: Vec<(usize, f64)>,
}

impl ReduceLROnPlateau {
    /// Watches the log value `monitor` (`"val_loss"` is Keras's default).
    pub fn new(monitor: &str) -> Self {
        ReduceLROnPlateau {
            monitor: Monitor::new(monitor, MonitorMode::Auto),
            factor: 0.1,
            patience: 10,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            wait: 0,
            cooldown_left: 0,
            best: None,
            reductions: Vec::new(),
        }
    }

    /// Whether lower or higher is better (default: from the name).
    pub fn mode(mut self, mode: MonitorMode) -> Self {
        self.monitor = Monitor::new(&self.monitor.name, mode);
        self
    }

    /// The factor a reduction multiplies the rate by, in `(0, 1)`.
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// Epochs without improvement before a reduction.
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// The least change that counts as an improvement.
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta.abs();
        self
    }

    /// Epochs after a reduction during which the counter does not run.
    pub fn cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The lowest rate a reduction may set.
    pub fn min_lr(mut self, min_lr: f64) -> Self {
        self.min_lr = min_lr;
        self
    }

    /// Each reduction so far: the epoch (from 0) at whose end it happened and the new rate.
    pub fn reductions(&self) -> &[(usize, f64)] {
        &self.reductions
    }
}

impl<T: Float> Callback<T> for ReduceLROnPlateau {
    fn on_train_begin(&mut self, _model: &mut Sequential<T>) -> Result<(), CnnError> {
        if !(self.factor > 0.0 && self.factor < 1.0) {
            return Err(CnnError::InvalidParameter {
                name: "factor",
                value: self.factor.to_string(),
                reason: "must be in (0, 1): a reduction lowers the rate",
            });
        }
        check_at_least("min_delta", self.min_delta, 0.0)?;
        check_at_least("min_lr", self.min_lr, 0.0)
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, model: &mut Sequential<T>) -> Result<(), CnnError> {
        let current = self.monitor.value(logs)?;
        let rate = model.learning_rate().ok_or(CnnError::NotCompiled)?;
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.wait = 0;
        }
        if self.monitor.improves(current, self.best, self.min_delta) {
            self.best = Some(current);
            self.wait = 0;
        } else if self.cooldown_left == 0 {
            self.wait += 1;
            if self.wait >= self.patience && rate > self.min_lr {
                let reduced = (rate * self.factor).max(self.min_lr);
                // A rate of 0 (`min_lr = 0` reached by underflow) is no rate: keep the last one.
                if reduced > 0.0 {
                    model.set_learning_rate(reduced)?;
                    self.reductions.push((epoch, reduced));
                }
                self.cooldown_left = self.cooldown;
                self.wait = 0;
            }
        }
        Ok(())
    }
}
