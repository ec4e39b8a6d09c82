//! # cnn
//!
//! Convolutional networks the way Keras builds them — `Sequential`, `Conv2D`, pooling,
//! `Dense`, dropout, cross-entropy losses, SGD and Adam — with every convolution, forward and
//! backward, solved by a [`conv_core`] backend of your choice.
//!
//! Tensors are `ndarray::ArrayD` with the batch first; images are `[batch, height, width,
//! channels]` (NHWC, Keras's `channels_last`). Kernels use Keras's layouts, so weights map one
//! to one.
//!
//! ```
//! use cnn::layers::{Activation, Conv2D, Dense, Flatten, MaxPooling2D};
//! use cnn::{data, FitConfig, Loss, Sequential, Sgd};
//!
//! let digits = data::load_digits::<f32>()?;
//! let (train, test) = digits.train_test_split(0.2, 0)?;
//! let mut model = Sequential::new(&[8, 8, 1], 0);
//! model.add(Conv2D::new(10, (3, 3)).activation(Activation::Relu))?;
//! model.add(MaxPooling2D::new((2, 2)))?;
//! model.add(Flatten::new())?;
//! model.add(Dense::new(10).activation(Activation::Softmax))?;
//! model.compile(Sgd::new(0.01), Loss::CategoricalCrossentropy)?;
//! let y = data::one_hot(&train.labels, 10)?;
//! model.fit(&train.images, &y, &FitConfig::new(10).batch_size(100).verbose(false))?;
//! let (_loss, accuracy) = model.evaluate(&test.images, &data::one_hot(&test.labels, 10)?, 100)?;
//! assert!(accuracy > 0.8, "{accuracy}");
//! # Ok::<(), cnn::CnnError>(())
//! ```

pub mod callbacks;
pub mod data;
mod error;
mod float;
pub mod layers;
mod loss;
pub mod metrics;
mod model;
mod optimizer;
mod simd;
mod split;

/// The conv-core this crate is built on (its backends: `cnn::conv_core::Fft`, ...).
pub use conv_core;
/// The ndarray version this crate takes and returns, so a user needs no second `ndarray` line.
pub use conv_core::ndarray;
pub use error::{CnnError, DataError};

/// The crate README's example, compiled and run by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The workspace README's listings (every family: conv-core, cnn, fourier), compiled and run by
/// `cargo test`; this crate sees all three.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct WorkspaceReadmeDoctests;
pub use float::Float;
pub use loss::{EPSILON, Loss, argmax};
pub use model::{FitConfig, History, MAX_MODEL_FILE_BYTES, MAX_WEIGHTS_HEADER_BYTES, Sequential};
pub use optimizer::{Adam, Optimizer, Sgd};
