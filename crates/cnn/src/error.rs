//! Typed errors of the network and data code.

use std::path::PathBuf;

use conv_core::ConvError;
use thiserror::Error;

/// Everything building, training, saving or loading a model can fail with.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CnnError {
    /// A convolution the layer asked its backend for was refused or malformed.
    #[error("convolution in layer `{layer}`: {source}")]
    Conv {
        /// The layer that asked.
        layer: String,
        /// What conv-core said.
        #[source]
        source: ConvError,
    },
    /// A tensor does not have the shape the layer or model expects.
    #[error("{what}: expected shape {expected}, got {got:?}")]
    Shape {
        /// Which tensor (layer input, labels, ...).
        what: String,
        /// The expected shape, in words (`[batch, 8, 8, 1]`, "rank 2", ...).
        expected: String,
        /// The shape given.
        got: Vec<usize>,
    },
    /// A hyper-parameter is out of its range (a zero filter count, a negative rate, ...).
    #[error("invalid {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter's name, as Keras spells it.
        name: &'static str,
        /// The value given, formatted.
        value: String,
        /// What the range is.
        reason: &'static str,
    },
    /// A label is not a class index below the number of classes.
    #[error("label {label} at row {row} is not a class index below {classes}")]
    Label {
        /// The row of the offending label.
        row: usize,
        /// The label, as given.
        label: String,
        /// The number of classes.
        classes: usize,
    },
    /// The data contain a NaN or an infinity, or training produced one.
    #[error("non-finite value in {what}")]
    NonFinite {
        /// Where it was found (`input`, `loss at epoch 3`, ...).
        what: String,
    },
    /// `fit` or `evaluate` was called before `compile`.
    #[error("the model has not been compiled: call `compile(optimizer, loss)` first")]
    NotCompiled,
    /// The model has no layers.
    #[error("the model has no layers")]
    NoLayers,
    /// A weights file does not match the model.
    #[error("weights file: {0}")]
    Weights(String),

    /// A model file whose architecture cannot be rebuilt: not JSON, an unknown layer class, a
    /// missing or mistyped setting, a layer that cannot be saved.
    #[error("model config: {0}")]
    ModelConfig(String),
    /// A data set file is missing, truncated or malformed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

/// Everything reading a data set can fail with.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DataError {
    /// None of the file names the loader looks for exists.
    #[error("{path}: not found{hint}")]
    Missing {
        /// The path looked for.
        path: PathBuf,
        /// Where the data can be obtained, when known (starts with a separator).
        hint: String,
    },
    /// The file ends before the header says it should.
    #[error("{path}: truncated: the header implies {expected} bytes, the file has {got}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header implies.
        expected: u64,
        /// Bytes present.
        got: u64,
    },
    /// The file does not start with the magic number of its format.
    #[error("{path}: not a {format} file (magic number {found:#010x})")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The format expected (`IDX images`, ...).
        format: &'static str,
        /// The first four bytes, big-endian.
        found: u32,
    },
    /// The file parses but its content is wrong (a bad CSV field, a label out of range, ...).
    #[error("{path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line or record.
        reason: String,
    },
    /// Reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl CnnError {
    pub(crate) fn conv(layer: &str) -> impl FnOnce(ConvError) -> CnnError + '_ {
        move |source| CnnError::Conv { layer: layer.to_string(), source }
    }

    pub(crate) fn shape(what: impl Into<String>, expected: impl Into<String>, got: &[usize]) -> CnnError {
        CnnError::Shape { what: what.into(), expected: expected.into(), got: got.to_vec() }
    }
}

/// `Ok` when `value` is finite and `ok` holds, else [`CnnError::InvalidParameter`] with
/// `reason`: the one check of a scalar hyper-parameter (optimizers, callbacks).
pub(crate) fn check_parameter(
    name: &'static str,
    value: f64,
    ok: bool,
    reason: &'static str,
) -> Result<(), CnnError> {
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(CnnError::InvalidParameter { name, value: value.to_string(), reason })
    }
}
