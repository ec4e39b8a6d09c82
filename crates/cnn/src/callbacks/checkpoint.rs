//! Keras's `ModelCheckpoint`.

use std::path::PathBuf;

use super::{Callback, Logs, Monitor, MonitorMode};
use crate::error::CnnError;
use crate::float::Float;
use crate::model::Sequential;

/// Saves the model's weights (safetensors, as [`Sequential::save_weights`]) at the end of each
/// epoch, or only when a monitored value improves (`save_best_only`), as Keras's
/// `keras.callbacks.ModelCheckpoint(..., save_weights_only=True)`.
///
/// The path may name the epoch and log values, as Keras's does: `{epoch}` (from 1, as Keras
/// writes it), `{epoch:02}` (zero-padded), `{val_loss}` or `{val_loss:.4}` (any log value, with
/// an optional number of decimals).
///
/// # Examples
/// ```
/// use cnn::callbacks::ModelCheckpoint;
/// let best = ModelCheckpoint::new("target/best.safetensors").monitor("val_accuracy").save_best_only(true);
/// let every = ModelCheckpoint::new("target/epoch-{epoch:02}-{val_loss:.3}.safetensors");
/// # let _ = (best, every);
/// ```
#[derive(Clone, Debug)]
pub struct ModelCheckpoint {
    path: String,
    monitor: Monitor,
    save_best_only: bool,
    best: Option<f64>,
    saved: Vec<PathBuf>,
}

impl ModelCheckpoint {
    /// Saves to `path` (a template, see above) after every epoch, watching `val_loss`.
    pub fn new(path: &str) -> Self {
        ModelCheckpoint {
            path: path.to_string(),
            monitor: Monitor::new("val_loss", MonitorMode::Auto),
            save_best_only: false,
            best: None,
            saved: Vec::new(),
        }
    }

    /// The log value whose improvement `save_best_only` waits for.
    pub fn monitor(mut self, monitor: &str) -> Self {
        self.monitor = Monitor::new(monitor, MonitorMode::Auto);
        self
    }

    /// Whether lower or higher is better (default: from the name).
    pub fn mode(mut self, mode: MonitorMode) -> Self {
        self.monitor = Monitor::new(&self.monitor.name, mode);
        self
    }

    /// Whether to save only when the monitored value beats every earlier epoch.
    pub fn save_best_only(mut self, best_only: bool) -> Self {
        self.save_best_only = best_only;
        self
    }

    /// The files written so far, in order.
    pub fn saved(&self) -> &[PathBuf] {
        &self.saved
    }

    /// The template with `{epoch}` and log values filled in.
    ///
    /// # Errors
    /// [`CnnError::InvalidParameter`] for a placeholder that names no log value, or one that
    /// is not closed.
    fn fill(&self, epoch: usize, logs: &Logs) -> Result<PathBuf, CnnError> {
        let bad =
            |reason| CnnError::InvalidParameter { name: "checkpoint path", value: self.path.clone(), reason };
        let mut out = String::new();
        let mut rest = self.path.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').ok_or_else(|| bad("has a `{` without its `}`"))? + open;
            let field = &rest[open + 1..close];
            let (name, spec) = field.split_once(':').unwrap_or((field, ""));
            if name == "epoch" {
                let width: usize = spec.trim_start_matches('0').trim_end_matches('d').parse().unwrap_or(0);
                out.push_str(&format!("{:0width$}", epoch + 1));
            } else {
                let value = logs.get(name).ok_or_else(|| bad("names a value that is not in the logs"))?;
                match spec.trim_start_matches('.').trim_end_matches('f').parse::<usize>() {
                    Ok(decimals) if spec.starts_with('.') => out.push_str(&format!("{value:.decimals$}")),
                    _ => out.push_str(&value.to_string()),
                }
            }
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        Ok(PathBuf::from(out))
    }
}

impl<T: Float> Callback<T> for ModelCheckpoint {
    fn on_train_begin(&mut self, _model: &mut Sequential<T>) -> Result<(), CnnError> {
        self.best = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, model: &mut Sequential<T>) -> Result<(), CnnError> {
        if self.save_best_only {
            let current = self.monitor.value(logs)?;
            if !self.monitor.improves(current, self.best, 0.0) {
                return Ok(());
            }
            self.best = Some(current);
        }
        let path = self.fill(epoch, logs)?;
        model.save_weights(&path)?;
        self.saved.push(path);
        Ok(())
    }
}
