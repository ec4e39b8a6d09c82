//! Zero-phase filtering: forward, then backward (`scipy.signal.filtfilt` and `sosfiltfilt`).

use conv_core::ConvNum;

use crate::cascade::sosfilt_in_place;
use crate::error::{FilterError, check_alloc};
use crate::lfilter::{lfilter_in_place, lfilter_zi};
use crate::sos::{Section, check_sections, sosfilt_zi};

/// How the signal is extended at both ends before zero-phase filtering (scipy's `padtype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PadType {
    /// Point reflection about the end value, `2 x[0] - x[k]` (scipy's default).
    #[default]
    Odd,
    /// Mirror reflection, `x[k]`.
    Even,
    /// The end value repeated.
    Constant,
    /// No extension (`padlen` is then 0).
    None,
}

/// The options of [`filtfilt_with`] and [`sosfiltfilt_with`]; the default is scipy's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ZeroPhase {
    /// How to extend the ends.
    pub padtype: PadType,
    /// Samples added at each end; `None` is scipy's default, three times the filter's taps
    /// (`3 * max(len(a), len(b))` for `filtfilt`, `3 * (2 n_sections + 1)` less the trivial
    /// sections' for `sosfiltfilt`).
    pub padlen: Option<usize>,
}

/// Zero-phase filtering with scipy's defaults, like `scipy.signal.filtfilt(b, a, x)`: the
/// signal extended by odd reflection, filtered forward from the steady state of its first
/// value, then backward from the steady state of the last output, and the extension removed.
/// The result has no phase shift and the squared magnitude response.
///
/// # Errors
/// [`crate::lfilter`]'s errors; [`FilterError::TooShortForPadding`] when `x` is not longer
/// than the padding; [`FilterError::NoSteadyState`] for a pole at z = 1.
///
/// # Examples
/// ```
/// use filter::{butter, filtfilt, Band};
/// let (b, a) = butter(4, &Band::Lowpass(0.2))?.to_ba()?;
/// let x: Vec<f64> = (0..100).map(|n| (0.05 * n as f64).sin()).collect();
/// let y = filtfilt(&b, &a, &x)?;
/// // A slow sine passes unchanged and undelayed.
/// assert!(x.iter().zip(&y).skip(10).take(80).all(|(x, y)| (x - y).abs() < 1e-3));
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn filtfilt<T: ConvNum>(b: &[T], a: &[T], x: &[T]) -> Result<Vec<T>, FilterError> {
    filtfilt_with(b, a, x, ZeroPhase::default())
}

/// [`filtfilt`] with a chosen extension and padding length.
///
/// # Errors
/// As [`filtfilt`].
pub fn filtfilt_with<T: ConvNum>(
    b: &[T],
    a: &[T],
    x: &[T],
    options: ZeroPhase,
) -> Result<Vec<T>, FilterError> {
    let taps = b.len().max(a.len());
    let zi = lfilter_zi(b, a)?;
    let pass = |signal: &mut Vec<T>, start: T| {
        let scaled: Vec<T> = zi.iter().map(|&z| z * start).collect();
        lfilter_in_place(b, a, signal, &scaled).map(drop)
    };
    forward_backward(x, taps, options, pass)
}

/// Zero-phase filtering through second-order sections with scipy's defaults, like
/// `scipy.signal.sosfiltfilt(sos, x)`: the stable way for high orders and narrow bands.
///
/// # Errors
/// [`crate::sosfilt`]'s errors, [`FilterError::TooShortForPadding`],
/// [`FilterError::NoSteadyState`].
///
/// # Examples
/// ```
/// use filter::{butter, sosfiltfilt, Band};
/// let sos = butter(8, &Band::Bandpass(0.05, 0.1))?.to_sos()?;
/// let x: Vec<f64> = (0..1000).map(|n| (0.075 * std::f64::consts::PI * n as f64).sin()).collect();
/// let y = sosfiltfilt(&sos, &x)?;
/// // The centre frequency passes with unit gain and no delay (away from the ends).
/// assert!(x.iter().zip(&y).skip(400).take(200).all(|(x, y)| (x - y).abs() < 0.01));
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn sosfiltfilt<T: ConvNum>(sos: &[Section<T>], x: &[T]) -> Result<Vec<T>, FilterError> {
    sosfiltfilt_with(sos, x, ZeroPhase::default())
}

/// [`sosfiltfilt`] with a chosen extension and padding length.
///
/// # Errors
/// As [`sosfiltfilt`].
pub fn sosfiltfilt_with<T: ConvNum>(
    sos: &[Section<T>],
    x: &[T],
    options: ZeroPhase,
) -> Result<Vec<T>, FilterError> {
    check_sections(sos)?;
    // scipy counts 2 taps a section plus one, less the sections whose b2 and a2 are both zero.
    let trivial_b = sos.iter().filter(|s| s[2].is_zero()).count();
    let trivial_a = sos.iter().filter(|s| s[5].is_zero()).count();
    let taps = (2 * sos.len() + 1).saturating_sub(trivial_b.min(trivial_a));
    let zi = sosfilt_zi(sos)?;
    let pass = |signal: &mut Vec<T>, start: T| {
        let mut state: Vec<[T; 2]> = zi.iter().map(|z| [z[0] * start, z[1] * start]).collect();
        sosfilt_in_place(sos, signal, &mut state);
        Ok(())
    };
    forward_backward(x, taps, options, pass)
}

/// Extend, filter forward from `start = ext[0]`, reverse, filter from `start = y[last]`,
/// reverse, cut the extension (`pass` filters in place from `zi * start`).
fn forward_backward<T: ConvNum>(
    x: &[T],
    taps: usize,
    options: ZeroPhase,
    pass: impl Fn(&mut Vec<T>, T) -> Result<(), FilterError>,
) -> Result<Vec<T>, FilterError> {
    let edge = match (options.padtype, options.padlen) {
        (PadType::None, _) => 0,
        (_, Some(padlen)) => padlen,
        (_, None) => taps.saturating_mul(3),
    };
    if x.len() <= edge {
        return Err(FilterError::TooShortForPadding { len: x.len(), padlen: edge });
    }
    // One buffer: extended, filtered forward, reversed, filtered, reversed, cut to the signal.
    let mut data = extend(x, edge, options.padtype)?;
    let first = data[0];
    pass(&mut data, first)?;
    data.reverse();
    let last = data[0];
    pass(&mut data, last)?;
    data.reverse();
    data.truncate(data.len() - edge);
    data.drain(..edge);
    Ok(data)
}

/// `x` with `edge` samples added at each end (`edge < x.len()`).
fn extend<T: ConvNum>(x: &[T], edge: usize, padtype: PadType) -> Result<Vec<T>, FilterError> {
    let len = check_alloc("the extended signal", edge.checked_mul(2).and_then(|e| e.checked_add(x.len())))?;
    let (first, last) = (x[0], x[x.len() - 1]);
    let two = T::one() + T::one();
    let mut out = Vec::with_capacity(len);
    // Left: x[edge], ..., x[1] reflected (or the first value repeated).
    for k in (1..=edge).rev() {
        out.push(match padtype {
            PadType::Odd => two * first - x[k],
            PadType::Even => x[k],
            PadType::Constant | PadType::None => first,
        });
    }
    out.extend_from_slice(x);
    // Right: x[n-2], ..., x[n-1-edge].
    let n = x.len();
    for k in 1..=edge {
        out.push(match padtype {
            PadType::Odd => two * last - x[n - 1 - k],
            PadType::Even => x[n - 1 - k],
            PadType::Constant | PadType::None => last,
        });
    }
    Ok(out)
}
