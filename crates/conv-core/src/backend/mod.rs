//! The built-in backends, one per file, and the contract they implement (`contract.rs`: the
//! canonical problem and the [`ConvBackend`] trait). This file only lists them.
//!
//! A backend solves the canonical problem described by [`Geometry`](crate::Geometry): a grouped, strided,
//! dilated *valid* cross-correlation of a padded NCHW input with an OIHW kernel bank. The front
//! end has already applied padding, boundary fill and kernel flipping, so a backend never sees
//! them.

mod builtin;
mod contract;
mod depth;
mod direct;
mod fft;
mod gradients;
mod im2col;
mod layout;
mod overlap_save;
mod plan;
mod spectral;
mod toeplitz;
mod winograd;

pub use builtin::builtin_backends;
pub use contract::{ConvBackend, ConvProblem, check_buffer_len};
pub use direct::Direct;
pub use fft::{Fft, next_fast_len, transform_len};
#[cfg(feature = "testkit")]
pub(crate) use gradients::input_gradient_geometry;
pub(crate) use gradients::kernel_gradient_geometry;
pub use gradients::{input_gradient_by_correlation, kernel_gradient_by_correlation};
pub use im2col::{Im2col, kernel_gradient};
pub use layout::solve_through_channels_first;
#[cfg(any(test, feature = "testkit"))]
pub(crate) use layout::transpose_items;
pub use overlap_save::OverlapSave;
pub use plan::ConvPlan;
pub(crate) use plan::{Scratch, with_thread_buffers};
pub use toeplitz::Toeplitz;
pub use winograd::Winograd;
