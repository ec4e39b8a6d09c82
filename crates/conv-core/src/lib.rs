//! # conv-core
//!
//! One convolution problem — 1-D and 2-D, single signals or batched multi-channel tensors,
//! stride, dilation, groups, padding per side, boundary rules, `Full`/`Same`/`Valid`,
//! convolution or correlation — solved by interchangeable backends behind one object-safe trait.
//!
//! ## Usage
//! ```
//! use conv_core::{convolve, convolve_with, Fft, Mode};
//! use ndarray::array;
//!
//! let signal = array![1.0_f64, 2.0, 3.0];
//! let kernel = array![0.0, 1.0, 0.5];
//! let direct = convolve(&signal, &kernel, Mode::Full)?;           // scipy.signal.convolve
//! let by_fft = convolve_with(&signal, &kernel, Mode::Full, &Fft::default())?;
//! assert_eq!(direct, array![0.0, 1.0, 2.5, 4.0, 1.5]);
//! assert!(direct.iter().zip(&by_fft).all(|(a, b)| (a - b).abs() < 1e-12));
//! # Ok::<(), conv_core::ConvError>(())
//! ```
//!
//! ## The calls
//! | scipy / deep learning | here |
//! |---|---|
//! | `scipy.signal.convolve(a, v, mode)` (1-D, 2-D) | [`convolve`], [`convolve_with`] |
//! | `scipy.signal.correlate(a, v, mode)` | [`correlate`], [`correlate_with`] |
//! | `scipy.signal.convolve2d(a, k, mode, boundary, fillvalue)` | [`convolve2d`], [`convolve2d_with`] |
//! | `scipy.signal.correlate2d(...)` | [`correlate2d`], [`correlate2d_with`] |
//! | `torch.nn.functional.conv2d(x, w, stride, padding, dilation, groups)` | [`conv2d`], [`conv2d_with`] |
//! | `torch.nn.functional.conv1d(...)` | [`conv1d`], [`conv1d_with`] |
//! | any of the above with stride, dilation, explicit padding | [`filter_with`] with a [`ConvSpec`] |
//!
//! ## The backends
//! Every call is normalised by the front end (padding with the boundary rule, kernel flip for
//! convolution) into one canonical problem — a grouped, strided, dilated *valid*
//! cross-correlation described by a [`Geometry`] — which a [`ConvBackend`] solves:
//! [`Direct`] (the reference), [`Toeplitz`] (the convolution matrix), [`Fft`] (the convolution
//! theorem) and [`Im2col`] (patch matrix times weights). All sizes are computed in one place,
//! [`ConvSpec::resolve`] and the [`geometry`] module.
//!
//! ## Numerics
//! Results agree with [`Direct`] to within rounding; the [`testkit`] (feature `testkit`) checks
//! that under proptest. NaN and infinity are not errors by default: they propagate as IEEE
//! arithmetic says, and how far they spread depends on the backend (see each backend's
//! *Numerics* section: Direct and Im2col touch only the outputs whose window covers them,
//! Toeplitz and FFT spread them further). Set [`ConvSpec::require_finite`] to refuse them.
//!
//! ## Errors
//! No input panics: bad shapes, zero strides, mismatched channels and sizes over the cap
//! ([`ConvSpec::max_buffer_bytes`], 4 GiB by default) come back as a [`ConvError`] naming the
//! shapes involved.

pub mod backend;
mod boundary;
pub mod channels_last;
mod choose;
mod complex;
pub mod cost;
mod deconvolve;
mod error;
mod frontend;
pub mod geometry;
#[cfg(feature = "lapack")]
mod lstsq;
mod matrix;
mod num;
pub mod parallel;
pub mod registry;
mod spec;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use backend::{
    Auto, Candidate, ConvBackend, ConvPlan, ConvProblem, Direct, Explanation, Fft, Im2col, OverlapSave,
    Toeplitz, builtin_backends,
};
pub use backend::{next_fast_len, transform_len};
pub use boundary::boundary_source_index;
pub use choose::choose_conv_method;
pub use complex::{convolve_complex, convolve_complex_with, correlate_complex, correlate_complex_with};
pub use deconvolve::{deconvolve, wiener_deconvolve, wiener_deconvolve2d};
pub use error::{ConvError, Operand};
pub use frontend::{
    PreparedConv2d, conv1d, conv1d_with, conv2d, conv2d_with, convolve, convolve_with, convolve2d,
    convolve2d_with, correlate, correlate_with, correlate2d, correlate2d_with, filter_with,
};
pub use geometry::{AxisGeometry, Geometry, SPATIAL_AXES};
#[cfg(feature = "lapack")]
pub use lstsq::{LeastSquaresDeconvolution, convolution_condition_number, deconvolve_least_squares};
pub use matrix::convolution_matrix;
/// The ndarray version this crate takes and returns (0.17): `use conv_core::ndarray;` needs no
/// second, possibly different, `ndarray` line in the user's `Cargo.toml`.
pub use ndarray;
pub use num::ConvNum;
/// The num-complex version of the complex calls' element type.
pub use num_complex;
pub use spec::{Boundary, ConvSpec, DEFAULT_MAX_BUFFER_BYTES, Kind, Mode, Padding, PerAxis, Resolved};

/// The README's Rust listings, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// This crate's README listings, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
