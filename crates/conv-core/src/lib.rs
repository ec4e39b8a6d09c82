//! # conv-core
//!
//! One convolution problem — 1-D, 2-D and 3-D, single signals or batched multi-channel tensors,
//! stride, dilation, groups, padding per side, boundary rules, `Full`/`Same`/`Valid`,
//! convolution or correlation — solved by six interchangeable backends behind one object-safe
//! trait, [`ConvBackend`]. The calls that take no backend use [`Auto`], as scipy's
//! `method='auto'` picks between direct and FFT.
//!
//! ## Usage
//! ```
//! use conv_core::ndarray::array; // the ndarray this crate takes and returns (0.17)
//! use conv_core::{choose_conv_method, convolve, convolve_with, Direct, Fft, Mode};
//!
//! let signal = array![1.0_f64, 2.0, 3.0];
//! let kernel = array![0.0, 1.0, 0.5];
//! let y = convolve(&signal, &kernel, Mode::Full)?;                   // scipy.signal.convolve
//! let exact = convolve_with(&signal, &kernel, Mode::Full, &Direct)?; // method='direct'
//! let by_fft = convolve_with(&signal, &kernel, Mode::Full, &Fft::default())?;
//! assert_eq!(exact, array![0.0, 1.0, 2.5, 4.0, 1.5]);
//! assert!(y.iter().chain(&by_fft).zip(exact.iter().cycle()).all(|(a, b)| (a - b).abs() < 1e-12));
//! println!("{}", choose_conv_method(&signal, &kernel, Mode::Full)?); // which backend, and why
//! # Ok::<(), conv_core::ConvError>(())
//! ```
//!
//! ## The calls
//! | scipy / deep learning | here |
//! |---|---|
//! | `scipy.signal.convolve(a, v, mode)` (1-D, 2-D, 3-D) | [`convolve`], [`convolve_with`] |
//! | `scipy.signal.fftconvolve(a, v, mode, axes=...)` | [`convolve_along`], [`correlate_along`] (and `_with`) |
//! | `scipy.signal.correlate(a, v, mode)` | [`correlate`], [`correlate_with`] |
//! | `scipy.signal.convolve2d(a, k, mode, boundary, fillvalue)` | [`convolve2d`], [`convolve2d_with`] |
//! | `scipy.signal.correlate2d(...)` | [`correlate2d`], [`correlate2d_with`] |
//! | complex `convolve` / `correlate` | [`convolve_complex`], [`correlate_complex`] (and `_with`) |
//! | `scipy.signal.choose_conv_method(a, v, mode)` | [`choose_conv_method`] |
//! | `scipy.signal.deconvolve(signal, divisor)` | [`deconvolve`], [`wiener_deconvolve`], [`wiener_deconvolve2d`] |
//! | `scipy.linalg.convolution_matrix(a, n, mode)` | [`convolution_matrix`] |
//! | `torch.nn.functional.conv2d(x, w, stride, padding, dilation, groups)` | [`conv2d`], [`conv2d_with`], [`PreparedConv2d`] |
//! | `torch.nn.functional.conv1d(...)` | [`conv1d`], [`conv1d_with`] |
//! | `torch.nn.functional.conv3d(...)` | [`conv3d`], [`conv3d_with`] |
//! | `torch.nn.grad.conv3d_input`, `torch.nn.grad.conv3d_weight` | [`conv3d_input_gradient`], [`conv3d_kernel_gradient`] |
//! | `torch.nn.grad.conv2d_input`, `torch.nn.grad.conv2d_weight` | [`conv2d_input_gradient`], [`conv2d_kernel_gradient`] |
//! | Keras's `data_format="channels_last"` | [`ConvSpec::layout`]`(`[`Layout::ChannelsLast`]`)` |
//! | any of the above with stride, dilation, explicit padding | [`filter_with`] with a [`ConvSpec`] |
//!
//! ## The backends
//! Every call is normalised by the front end (padding with the boundary rule, kernel flip for
//! convolution) into one canonical problem — a grouped, strided, dilated *valid*
//! cross-correlation described by a [`Geometry`] — which a [`ConvBackend`] solves:
//!
//! - [`Direct`]: the defining sum, the reference every other backend is checked against;
//! - [`Toeplitz`]: the convolution matrix times the input (capped at 256 MiB of matrix);
//! - [`Fft`]: the convolution theorem on whole planes (rustfft and realfft; transform lengths
//!   from [`transform_len`]);
//! - [`OverlapSave`]: the FFT on tiles, for long signals with shorter kernels;
//! - [`Im2col`]: the patch matrix times the weights (one GEMM; channels-last natively);
//! - [`Auto`]: predicts each registered backend's time from operation counts and a measured
//!   profile and runs the cheapest ([`Auto::explain`] shows why), or with
//!   [`Auto::measuring`] times them on the first call per shape.
//!
//! Your own backend implements [`ConvBackend`], is checked by the conformance kit (the
//! `testkit` module, feature `testkit`) and joins `Auto`'s candidates through [`registry`].
//! All sizes are computed in one place, [`ConvSpec::resolve`] and the [`geometry`] module.
//!
//! ## Features
//! - `testkit`: proptest strategies and `testkit::assert_conforms`, the check every backend
//!   passes.
//! - `calibration`: the timing helpers benchmarks use ([`calibration::median_seconds`],
//!   [`calibration::time_backend`]) and [`calibration::calibrate`], which fits the cost model's
//!   profile for any list of backends on this machine.
//! - `lapack`: least-squares deconvolution and condition numbers through LAPACK
//!   (`deconvolve_least_squares`, `convolution_condition_number`; needs the system's OpenBLAS).
//!
//! ## Numerics
//! Results agree with [`Direct`] to within rounding; the conformance kit checks that under
//! proptest. NaN and infinity are not errors by default: they propagate as IEEE arithmetic
//! says, and how far they spread depends on the backend (see each backend's *Numerics*
//! section: Direct and Im2col touch only the outputs whose window covers them, Toeplitz and FFT
//! spread them further). Set [`ConvSpec::require_finite`] to refuse them.
//!
//! ## Errors
//! No input panics: bad shapes, zero strides, mismatched channels and sizes over the cap
//! ([`ConvSpec::max_buffer_bytes`], 4 GiB by default) come back as a [`ConvError`] naming the
//! shapes as the caller gave them.

pub mod backend;
mod boundary;
mod buffers;
pub mod channels_last;
mod choose;
mod complex;
mod deconvolve;
mod error;
mod frontend;
pub mod geometry;
#[cfg(feature = "lapack")]
mod lstsq;
mod matrix;
mod num;
pub mod parallel;
mod planner;
mod spec;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use backend::{
    ConvBackend, ConvPlan, ConvProblem, Direct, Fft, Im2col, OverlapSave, Toeplitz, Winograd,
    builtin_backends, check_buffer_len,
};
pub use backend::{next_fast_len, transform_len};
pub use boundary::boundary_source_index;
pub use choose::choose_conv_method;
pub use complex::{convolve_complex, convolve_complex_with, correlate_complex, correlate_complex_with};
pub use deconvolve::{deconvolve, wiener_deconvolve, wiener_deconvolve2d};
pub use error::{ConvError, Operand};
pub use frontend::{
    PreparedConv2d, conv1d, conv1d_with, conv2d, conv2d_input_gradient, conv2d_kernel_gradient, conv2d_with,
    conv3d, conv3d_input_gradient, conv3d_kernel_gradient, conv3d_with, convolve, convolve_along,
    convolve_along_with, convolve_with, convolve2d, convolve2d_with, correlate, correlate_along,
    correlate_along_with, correlate_with, correlate2d, correlate2d_with, filter_with,
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
#[cfg(feature = "calibration")]
pub use planner::calibration;
pub use planner::{Auto, Candidate, Explanation, cost, registry};
pub use spec::{
    Boundary, ConvSpec, DEFAULT_MAX_BUFFER_BYTES, Kind, Layout, Mode, Padding, PerAxis, Resolved,
};

/// This crate's README listings, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
