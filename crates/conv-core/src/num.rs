//! The one numeric bound every signature in this crate uses.

use std::fmt::{Debug, Display};
use std::iter::Sum;

/// The element types a convolution can be computed in: `f32` and `f64`.
///
/// This is a blanket alias for the traits the backends need (floating point arithmetic,
/// FFT support from rustfft, GEMM support from ndarray and `convkit-gemm`). It is implemented
/// automatically for every type that has them, which in practice means `f32` and `f64`.
///
/// # Examples
/// ```
/// fn total<T: conv_core::ConvNum>(values: &[T]) -> T {
///     values.iter().copied().sum()
/// }
/// assert_eq!(total(&[1.0_f32, 2.0, 3.5]), 6.5);
/// ```
pub trait ConvNum:
    num_traits::Float
    + rustfft::FftNum
    + ndarray::LinalgScalar
    + convkit_gemm::Element
    + Default
    + Sum
    + Debug
    + Display
    + Send
    + Sync
    + 'static
{
    /// Converts an `f64` constant (a boundary fill value, a tolerance) into this type.
    fn from_f64_lossy(value: f64) -> Self {
        <Self as num_traits::NumCast>::from(value).unwrap_or_else(Self::nan)
    }

    /// Widens this value to `f64`, for error messages and tolerance arithmetic.
    fn to_f64_lossy(self) -> f64 {
        <Self as num_traits::ToPrimitive>::to_f64(&self).unwrap_or(f64::NAN)
    }
}

impl<T> ConvNum for T where
    T: num_traits::Float
        + rustfft::FftNum
        + ndarray::LinalgScalar
        + convkit_gemm::Element
        + Default
        + Sum
        + Debug
        + Display
        + Send
        + Sync
        + 'static
{
}
