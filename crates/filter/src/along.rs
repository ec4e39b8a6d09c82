//! The filtering calls along one axis of an N-D array (scipy's `axis=` argument): every lane
//! of that axis is filtered on its own.

use conv_core::ConvNum;
use ndarray::{Array, ArrayBase, Axis, Data, Dimension};

use crate::error::{FilterError, check_alloc};
use crate::filtfilt::{ZeroPhase, filtfilt_with, sosfiltfilt_with};
use crate::lfilter::lfilter;
use crate::sos::{Section, sosfilt};

/// Applies `filter` to every lane of `x` along `axis`, writing the results into a copy of `x`.
fn along<T, S, D>(
    x: &ArrayBase<S, D>,
    axis: usize,
    filter: impl Fn(&[T]) -> Result<Vec<T>, FilterError>,
) -> Result<Array<T, D>, FilterError>
where
    T: ConvNum,
    S: Data<Elem = T>,
    D: Dimension,
{
    if axis >= x.ndim() {
        return Err(FilterError::Axis { axis, ndim: x.ndim() });
    }
    check_alloc("the output", Some(x.len()))?;
    let mut out = x.to_owned();
    let mut lane_buffer = Vec::with_capacity(x.len_of(Axis(axis)));
    for mut lane in out.lanes_mut(Axis(axis)) {
        lane_buffer.clear();
        lane_buffer.extend(lane.iter().copied());
        let filtered = filter(&lane_buffer)?;
        for (slot, value) in lane.iter_mut().zip(filtered) {
            *slot = value;
        }
    }
    Ok(out)
}

/// [`lfilter`] along `axis` of an N-D array, like `scipy.signal.lfilter(b, a, x, axis=axis)`.
///
/// # Errors
/// [`FilterError::Axis`] for an axis the array does not have; [`lfilter`]'s errors.
///
/// # Examples
/// ```
/// use filter::lfilter_along;
/// use ndarray::array;
/// // A two-tap average down each column.
/// let y = lfilter_along(&[0.5, 0.5], &[1.0], &array![[2.0, 4.0], [4.0, 8.0]], 0)?;
/// assert_eq!(y, array![[1.0, 2.0], [3.0, 6.0]]);
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn lfilter_along<T, S, D>(
    b: &[T],
    a: &[T],
    x: &ArrayBase<S, D>,
    axis: usize,
) -> Result<Array<T, D>, FilterError>
where
    T: ConvNum,
    S: Data<Elem = T>,
    D: Dimension,
{
    along(x, axis, |lane| lfilter(b, a, lane))
}

/// [`sosfilt`] along `axis`, like `scipy.signal.sosfilt(sos, x, axis=axis)`.
///
/// # Errors
/// [`FilterError::Axis`]; [`sosfilt`]'s errors.
pub fn sosfilt_along<T, S, D>(
    sos: &[Section<T>],
    x: &ArrayBase<S, D>,
    axis: usize,
) -> Result<Array<T, D>, FilterError>
where
    T: ConvNum,
    S: Data<Elem = T>,
    D: Dimension,
{
    along(x, axis, |lane| sosfilt(sos, lane))
}

/// [`crate::filtfilt`] along `axis` with the given padding, like
/// `scipy.signal.filtfilt(b, a, x, axis=axis, padtype=..., padlen=...)`.
///
/// # Errors
/// [`FilterError::Axis`]; [`crate::filtfilt`]'s errors (the axis must be longer than the padding).
pub fn filtfilt_along<T, S, D>(
    b: &[T],
    a: &[T],
    x: &ArrayBase<S, D>,
    axis: usize,
    options: ZeroPhase,
) -> Result<Array<T, D>, FilterError>
where
    T: ConvNum,
    S: Data<Elem = T>,
    D: Dimension,
{
    along(x, axis, |lane| filtfilt_with(b, a, lane, options))
}

/// [`crate::sosfiltfilt`] along `axis` with the given padding, like
/// `scipy.signal.sosfiltfilt(sos, x, axis=axis, padtype=..., padlen=...)`.
///
/// # Errors
/// [`FilterError::Axis`]; [`crate::sosfiltfilt`]'s errors.
///
/// # Examples
/// ```
/// use filter::{butter, sosfiltfilt_along, Band, ZeroPhase};
/// use ndarray::Array2;
/// // 64 samples (rows) of 3 channels (columns), each channel smoothed without delay.
/// let x = Array2::from_shape_fn((64, 3), |(t, c)| (t as f64 * 0.1 * (c + 1) as f64).sin());
/// let sos = butter(2, &Band::Lowpass(0.3))?.to_sos()?;
/// let y = sosfiltfilt_along(&sos, &x, 0, ZeroPhase::default())?;
/// assert_eq!(y.dim(), (64, 3));
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn sosfiltfilt_along<T, S, D>(
    sos: &[Section<T>],
    x: &ArrayBase<S, D>,
    axis: usize,
    options: ZeroPhase,
) -> Result<Array<T, D>, FilterError>
where
    T: ConvNum,
    S: Data<Elem = T>,
    D: Dimension,
{
    along(x, axis, |lane| sosfiltfilt_with(sos, lane, options))
}
