//! Keras's `CSVLogger`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use super::{Callback, Logs};
use crate::error::CnnError;
use crate::float::Float;
use crate::model::Sequential;

/// Writes one line per epoch to a CSV file: `epoch` (from 0) and the epoch's logs in sorted
/// order (`accuracy,learning_rate,loss,val_accuracy,val_loss`), as Keras's
/// `keras.callbacks.CSVLogger` does. The file is created (or, with `append`, extended) when
/// training begins, and each line is flushed when written, so a crashed run keeps its epochs.
///
/// # Examples
/// ```
/// let log = cnn::callbacks::CsvLogger::new("target/training.csv").separator(';').append(true);
/// # let _ = log;
/// ```
#[derive(Debug)]
pub struct CsvLogger {
    path: PathBuf,
    separator: char,
    append: bool,
    columns: Option<Vec<String>>,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl CsvLogger {
    /// Logs to `path` with commas, replacing the file.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CsvLogger { path: path.into(), separator: ',', append: false, columns: None, file: None }
    }

    /// The field separator.
    pub fn separator(mut self, separator: char) -> Self {
        self.separator = separator;
        self
    }

    /// Whether to extend an existing file (no second header) instead of replacing it.
    pub fn append(mut self, append: bool) -> Self {
        self.append = append;
        self
    }
}

impl<T: Float> Callback<T> for CsvLogger {
    fn on_train_begin(&mut self, _model: &mut Sequential<T>) -> Result<(), CnnError> {
        let had_lines = self.append && std::fs::metadata(&self.path).is_ok_and(|m| m.len() > 0);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(self.append)
            .truncate(!self.append)
            .open(&self.path)
            .map_err(|source| CnnError::Io { path: self.path.clone(), source })?;
        self.file = Some(std::io::BufWriter::new(file));
        // Appending to a file that has its header: write no second one.
        self.columns = had_lines.then(Vec::new);
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &Logs,
        _model: &mut Sequential<T>,
    ) -> Result<(), CnnError> {
        let mut names: Vec<&str> = logs.iter().map(|(name, _)| name).collect();
        names.sort_unstable();
        let separator = self.separator;
        let mut text = String::new();
        if self.columns.is_none() {
            let header: Vec<&str> = std::iter::once("epoch").chain(names.iter().copied()).collect();
            let _ = writeln!(text, "{}", header.join(&separator.to_string()));
            self.columns = Some(names.iter().map(|n| n.to_string()).collect());
        }
        let _ = write!(text, "{epoch}");
        for name in &names {
            let _ = write!(text, "{separator}{}", logs.get(name).unwrap_or(f64::NAN));
        }
        text.push('\n');
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        file.write_all(text.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|source| CnnError::Io { path: self.path.clone(), source })
    }

    fn on_train_end(&mut self, _logs: &Logs, _model: &mut Sequential<T>) -> Result<(), CnnError> {
        match self.file.take() {
            Some(mut file) => file.flush().map_err(|source| CnnError::Io { path: self.path.clone(), source }),
            None => Ok(()),
        }
    }
}
