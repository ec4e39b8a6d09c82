//! Deconvolution as a least-squares problem on the convolution (Toeplitz) matrix, through
//! LAPACK (feature `lapack`).
//!
//! `y = k * x` (full convolution) is `y = T(k) x` with the `(n + m - 1) x n` matrix
//! `T[i, j] = k[i - j]`. Given `y` and `k`, the estimate minimises
//! `||T x - y||^2 + lambda ||x||^2` (Tikhonov; `lambda = 0` is plain least squares), solved as
//! the stacked least-squares problem `[T; sqrt(lambda) I] x = [y; 0]` by LAPACK's SVD-based
//! `gelsd`. The 2-norm condition number of `T(k)` (largest over smallest singular value) says
//! how much noise in `y` the estimate amplifies: near 1 the problem is benign, above ~1e8 (f64)
//! plain least squares returns noise and `lambda` must trade bias for stability.

use ndarray::{Array1, Array2, ArrayBase, Data, Ix1};
use ndarray_linalg::{LeastSquaresSvd, SVD};

use crate::error::{ConvError, Operand};
use crate::{Mode, convolution_matrix};

/// The result of [`deconvolve_least_squares`].
#[derive(Clone, Debug, PartialEq)]
pub struct LeastSquaresDeconvolution {
    /// The estimated input `x` (length `len(y) - len(k) + 1`).
    pub estimate: Array1<f64>,
    /// `||T(k) x - y||`, the part of `y` no input explains.
    pub residual_norm: f64,
    /// The 2-norm condition number of `T(k)`.
    pub condition_number: f64,
}

/// The 2-norm condition number of the `(n + m - 1) x n` convolution matrix of `kernel`.
///
/// # Errors
/// [`ConvError::Empty`] for an empty kernel or `n = 0`, [`ConvError::NonFinite`], and
/// [`ConvError::LinearAlgebra`] if LAPACK fails.
pub fn convolution_condition_number<S: Data<Elem = f64>>(
    kernel: &ArrayBase<S, Ix1>,
    n: usize,
) -> Result<f64, ConvError> {
    check_operand(Operand::Kernel, kernel.iter().copied(), kernel.len())?;
    if n == 0 {
        return Err(ConvError::Empty { operand: Operand::Input, shape: vec![0] });
    }
    condition(&convolution_matrix(kernel, n, Mode::Full)?)
}

fn condition(matrix: &Array2<f64>) -> Result<f64, ConvError> {
    let (_, singular, _) = matrix.svd(false, false).map_err(|e| ConvError::LinearAlgebra(e.to_string()))?;
    let largest = singular.iter().copied().fold(0.0, f64::max);
    let smallest = singular.iter().copied().fold(f64::INFINITY, f64::min);
    Ok(if smallest > 0.0 { largest / smallest } else { f64::INFINITY })
}

fn check_operand(operand: Operand, values: impl Iterator<Item = f64>, len: usize) -> Result<(), ConvError> {
    if len == 0 {
        return Err(ConvError::Empty { operand, shape: vec![0] });
    }
    for (index, value) in values.enumerate() {
        if !value.is_finite() {
            return Err(ConvError::NonFinite { operand, index, value });
        }
    }
    Ok(())
}

/// Recovers `x` from `signal = convolve(x, kernel, Full) (+ noise)` by (regularised) least
/// squares on the convolution matrix, and reports the matrix's condition number.
///
/// # Errors
/// [`ConvError::Empty`] for empty operands, [`ConvError::ValidModeShapes`] when the signal is
/// shorter than the kernel, [`ConvError::NonFinite`] for NaN/inf, [`ConvError::InvalidParameter`]
/// for a negative or non-finite `lambda`, [`ConvError::TooLarge`] when the matrix would exceed
/// the default buffer cap, and [`ConvError::LinearAlgebra`] if LAPACK fails.
///
/// # Examples
/// ```
/// use conv_core::{convolve, deconvolve_least_squares, Mode};
/// use ndarray::array;
/// let x = array![1.0, -2.0, 0.5, 3.0];
/// let k = array![1.0, 0.5, 0.25];
/// let y = convolve(&x, &k, Mode::Full)?;
/// let solved = deconvolve_least_squares(&y, &k, 0.0)?;
/// assert!(solved.estimate.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-12));
/// assert!(solved.condition_number < 10.0);
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn deconvolve_least_squares<S1, S2>(
    signal: &ArrayBase<S1, Ix1>,
    kernel: &ArrayBase<S2, Ix1>,
    lambda: f64,
) -> Result<LeastSquaresDeconvolution, ConvError>
where
    S1: Data<Elem = f64>,
    S2: Data<Elem = f64>,
{
    check_operand(Operand::Input, signal.iter().copied(), signal.len())?;
    check_operand(Operand::Kernel, kernel.iter().copied(), kernel.len())?;
    if !(lambda.is_finite() && lambda >= 0.0) {
        return Err(ConvError::InvalidParameter {
            name: "lambda",
            value: lambda,
            reason: "must be finite and >= 0",
        });
    }
    let (len, m) = (signal.len(), kernel.len());
    if len < m {
        return Err(ConvError::ValidModeShapes { input: vec![len], kernel: vec![m] });
    }
    let n = len - m + 1;
    let rows = len + if lambda > 0.0 { n } else { 0 };
    crate::geometry::check_bytes(
        crate::geometry::checked_product([rows, n, 8], "convolution matrix")?,
        1,
        crate::spec::DEFAULT_MAX_BUFFER_BYTES,
        "convolution matrix",
    )?;
    let t = convolution_matrix(kernel, n, Mode::Full)?;
    let condition_number = condition(&t)?;
    // [T; sqrt(lambda) I] and [y; 0] (the identity block only when lambda > 0).
    let root = lambda.sqrt();
    let stacked = Array2::from_shape_fn((rows, n), |(i, j)| {
        if i < len {
            t[[i, j]]
        } else if i - len == j {
            root
        } else {
            0.0
        }
    });
    let rhs = Array1::from_shape_fn(rows, |i| if i < len { signal[i] } else { 0.0 });
    let solution = stacked.least_squares(&rhs).map_err(|e| ConvError::LinearAlgebra(e.to_string()))?;
    let estimate = solution.solution;
    let residual_norm = (t.dot(&estimate) - signal).mapv(|v| v * v).sum().sqrt();
    Ok(LeastSquaresDeconvolution { estimate, residual_norm, condition_number })
}
