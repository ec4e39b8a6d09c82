//! The one error type of the crate.

use conv_core::ConvError;
use thiserror::Error;

/// Everything a filter design or a filtering call can refuse.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum FilterError {
    /// A coefficient list (`b`, `a`, the taps, the sections) or a signal that must not be empty is.
    #[error("{what} is empty")]
    Empty {
        /// Which argument.
        what: &'static str,
    },
    /// `a[0]` (or a section's `a0`) is zero: the recursion cannot be normalised.
    #[error("the leading denominator coefficient a[0] is zero")]
    LeadingDenominatorZero,
    /// A coefficient, a state value, a cutoff or a parameter is NaN or infinite.
    #[error("{what} contains a NaN or an infinite value")]
    NotFinite {
        /// Which argument.
        what: &'static str,
    },
    /// A numeric parameter is outside its domain.
    #[error("{name} = {value} is invalid: {expected}")]
    Parameter {
        /// The parameter's name.
        name: &'static str,
        /// The value passed.
        value: f64,
        /// What it must be.
        expected: &'static str,
    },
    /// Cutoff frequencies outside (0, 1) (fractions of the Nyquist frequency), not strictly
    /// increasing, or the wrong number of them for the band.
    #[error("invalid cutoff frequencies {cutoffs:?}: {reason}")]
    Cutoff {
        /// The cutoffs passed, as fractions of the Nyquist frequency.
        cutoffs: Vec<f64>,
        /// What is wrong with them.
        reason: &'static str,
    },
    /// `firwin`: a filter that passes the Nyquist frequency needs an odd number of taps.
    #[error("a filter that passes the Nyquist frequency needs an odd number of taps, got {taps}")]
    EvenTapsPassNyquist {
        /// The number of taps asked for.
        taps: usize,
    },
    /// An initial or saved state has the wrong length for the filter.
    #[error("the state has {got} values, the filter needs {expected}")]
    StateLength {
        /// The length the filter needs.
        expected: usize,
        /// The length passed.
        got: usize,
    },
    /// A second-order section whose `a0` is not 1 (scipy's rule too: normalise first).
    #[error("section {section} has a0 = {a0}, second-order sections must have a0 = 1")]
    SectionNotNormalised {
        /// The section's index.
        section: usize,
        /// Its leading denominator coefficient.
        a0: f64,
    },
    /// The transfer-function coefficients of a design are numerically unstable (a pole on or
    /// outside the unit circle after rounding): use its second-order sections instead.
    #[error(
        "the design's denominator is unstable in {precision} (reflection coefficient {reflection}); use second-order sections"
    )]
    Unstable {
        /// The largest reflection coefficient's magnitude (>= 1 means unstable).
        reflection: f64,
        /// The precision it was checked in.
        precision: &'static str,
    },
    /// The steady state does not exist: the filter's gain at zero frequency is infinite
    /// (`sum(a) == 0`), so `lfilter_zi` has no solution.
    #[error("the filter has a pole at z = 1 (sum(a) = 0): no step-response steady state")]
    NoSteadyState,
    /// `filtfilt`: the signal must be longer than the padding.
    #[error("the signal has {len} samples; zero-phase filtering needs more than padlen = {padlen}")]
    TooShortForPadding {
        /// The signal's length.
        len: usize,
        /// The padding on each side.
        padlen: usize,
    },
    /// A size would overflow `usize` or exceed the crate's allocation cap.
    #[error("{what} would need {requested} values, over the cap of {cap}")]
    TooLarge {
        /// What would be allocated.
        what: &'static str,
        /// The number of values (saturated at `usize::MAX` on overflow).
        requested: usize,
        /// The cap.
        cap: usize,
    },
    /// An axis the array does not have.
    #[error("axis {axis} is out of range for an array of {ndim} dimensions")]
    Axis {
        /// The axis asked for.
        axis: usize,
        /// The array's number of dimensions.
        ndim: usize,
    },
    /// A name that is not a known window.
    #[error(
        "unknown window {0:?} (known: boxcar, hann, hamming, blackman, bartlett, kaiser,BETA, gaussian,STD, tukey,ALPHA)"
    )]
    UnknownWindow(String),
    /// The convolution engine refused the FIR filtering call.
    #[error(transparent)]
    Conv(#[from] ConvError),
}

/// The most values one buffer of a call may hold (2^29: 4 GiB of f64, 2 GiB of f32);
/// longer signals go through [`crate::StreamingFir`] in pieces.
pub const MAX_VALUES: usize = 1 << 29;

/// The most taps a design makes and the most coefficients (or roots) a recursion, a section
/// cascade or a pole-zero conversion takes: their work grows with the product of this and the
/// signal's length (or with its square), so a larger order would run for hours. FIR filters
/// of any length up to [`MAX_VALUES`] go through [`crate::lfilter`]'s convolution instead.
pub const MAX_ORDER: usize = 1 << 14;

/// Checks that `len` values may be allocated.
pub(crate) fn check_alloc(what: &'static str, len: Option<usize>) -> Result<usize, FilterError> {
    match len {
        Some(len) if len <= MAX_VALUES => Ok(len),
        other => Err(FilterError::TooLarge { what, requested: other.unwrap_or(usize::MAX), cap: MAX_VALUES }),
    }
}

/// Refuses an empty or non-finite coefficient list.
pub(crate) fn check_coefficients<T: num_traits::Float>(
    what: &'static str,
    values: &[T],
) -> Result<(), FilterError> {
    if values.is_empty() {
        return Err(FilterError::Empty { what });
    }
    check_finite(what, values)
}

/// Refuses NaN or infinite values.
pub(crate) fn check_finite<T: num_traits::Float>(
    what: &'static str,
    values: &[T],
) -> Result<(), FilterError> {
    if values.iter().all(|v| v.is_finite()) { Ok(()) } else { Err(FilterError::NotFinite { what }) }
}
