//! The catalogue of built-in backends.

use std::sync::Arc;

use super::{ConvBackend, Direct, Fft, Im2col, OverlapSave, Toeplitz, Winograd};
use crate::num::ConvNum;

/// The backends this crate ships, as trait objects, in a fixed order: direct, toeplitz, fft,
/// im2col, overlap-save, winograd.
///
/// # Examples
/// ```
/// let names: Vec<String> = conv_core::builtin_backends::<f32>()
///     .iter()
///     .map(|b| b.name().to_string())
///     .collect();
/// assert_eq!(names, ["direct", "toeplitz", "fft", "im2col", "overlap-save", "winograd"]);
/// ```
pub fn builtin_backends<T: ConvNum>() -> Vec<Arc<dyn ConvBackend<T>>> {
    vec![
        Arc::new(Direct),
        Arc::new(Toeplitz::default()),
        Arc::new(Fft::default()),
        Arc::new(Im2col::default()),
        Arc::new(OverlapSave::default()),
        Arc::new(Winograd),
    ]
}
