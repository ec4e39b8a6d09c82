//! `scipy.linalg.convolution_matrix`: the matrix `T(k)` with `T(k) x = convolve(k, x, mode)`.

use ndarray::{Array2, ArrayBase, Data, Ix1};

use crate::error::{ConvError, Operand};
use crate::num::ConvNum;
use crate::spec::{DEFAULT_MAX_BUFFER_BYTES, Mode};

/// The convolution matrix of `kernel` for inputs of length `n`, like
/// `scipy.linalg.convolution_matrix(kernel, n, mode)`: `T.dot(&x)` equals
/// `numpy.convolve(kernel, x, mode)` for every `x` of length `n` (numpy's `same` output has the
/// longer operand's length; [`convolve`](crate::convolve)'s has the first operand's).
///
/// With `m = kernel.len()`, the shape is `(n + m - 1, n)` for [`Mode::Full`], `(max(m, n), n)`
/// for [`Mode::Same`] and `(max(m, n) - min(m, n) + 1, n)` for [`Mode::Valid`]; row `i` of the
/// full matrix holds `kernel[i - j]` in column `j`. The other modes keep the middle rows of the
/// full matrix, dropping `(min(m, n) - 1) / 2` at the top for `Same` and `min(m, n) - 1` at each
/// end for `Valid`. It is a plain matrix (no system library); the `lapack` feature's
/// [`convolution_condition_number`](crate) and least-squares deconvolution are built on it.
///
/// # Errors
/// [`ConvError::Empty`] for an empty kernel or `n = 0`, [`ConvError::Overflow`] /
/// [`ConvError::TooLarge`] when the matrix would not fit in
/// [`DEFAULT_MAX_BUFFER_BYTES`](crate::DEFAULT_MAX_BUFFER_BYTES) (checked before allocating).
///
/// # Examples
/// ```
/// use conv_core::{convolution_matrix, convolve, Mode};
/// use ndarray::array;
/// let t = convolution_matrix(&array![1.0, 2.0], 3, Mode::Full)?;
/// assert_eq!(t, array![[1.0, 0.0, 0.0], [2.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 2.0]]);
/// let x = array![1.0, -1.0, 3.0];
/// assert_eq!(t.dot(&x), convolve(&array![1.0, 2.0], &x, Mode::Full)?);
/// let same = convolution_matrix(&array![1.0, 2.0], 3, Mode::Same)?;
/// assert_eq!(same.dim(), (3, 3));
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn convolution_matrix<T, S>(
    kernel: &ArrayBase<S, Ix1>,
    n: usize,
    mode: Mode,
) -> Result<Array2<T>, ConvError>
where
    T: ConvNum,
    S: Data<Elem = T>,
{
    let m = kernel.len();
    if m == 0 {
        return Err(ConvError::Empty { operand: Operand::Kernel, shape: vec![0] });
    }
    if n == 0 {
        return Err(ConvError::Empty { operand: Operand::Input, shape: vec![0] });
    }
    let full_rows = n.checked_add(m - 1).ok_or(ConvError::Overflow { what: "convolution matrix" })?;
    let trim = m.min(n) - 1;
    let (first_row, rows) = match mode {
        Mode::Full => (0, full_rows),
        Mode::Same => (trim / 2, m.max(n)),
        Mode::Valid => (trim, m.max(n) - trim),
    };
    let bytes = (rows as u128) * (n as u128) * (size_of::<T>() as u128);
    if bytes > DEFAULT_MAX_BUFFER_BYTES as u128 {
        return Err(ConvError::TooLarge {
            what: "convolution matrix",
            bytes,
            cap: DEFAULT_MAX_BUFFER_BYTES as u128,
        });
    }
    Ok(Array2::from_shape_fn((rows, n), |(row, j)| {
        let i = row + first_row;
        if i >= j && i - j < m { kernel[i - j] } else { T::zero() }
    }))
}
