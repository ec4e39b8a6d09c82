//! Cascaded second-order sections: `sosfilt` and `sosfilt_zi`.

use conv_core::ConvNum;

use crate::cascade::sosfilt_in_place;
use crate::error::{FilterError, MAX_ORDER, check_alloc, check_finite};
use crate::lfilter::lfilter_zi;

/// One second-order section `[b0, b1, b2, a0, a1, a2]` with `a0 == 1`: a row of scipy's
/// `sos` array, `H(z) = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2)`.
pub type Section<T> = [T; 6];

/// The sections converted to another precision (for example the f64 design filtering f32).
///
/// # Examples
/// ```
/// use filter::{butter, cast_sections, sosfilt, Band};
/// let sos = cast_sections::<f32>(&butter(4, &Band::Lowpass(0.2))?.to_sos()?);
/// let y: Vec<f32> = sosfilt(&sos, &[1.0_f32; 8])?;
/// # Ok::<(), filter::FilterError>(())
/// ```
#[must_use]
pub fn cast_sections<T: ConvNum>(sos: &[Section<f64>]) -> Vec<Section<T>> {
    sos.iter().map(|s| s.map(T::from_f64_lossy)).collect()
}

/// Refuses an empty list, non-finite coefficients and sections with `a0 != 1`.
pub(crate) fn check_sections<T: ConvNum>(sos: &[Section<T>]) -> Result<(), FilterError> {
    if sos.is_empty() {
        return Err(FilterError::Empty { what: "the sections" });
    }
    if sos.len() > MAX_ORDER / 2 {
        let expected = "at most MAX_ORDER / 2 sections";
        return Err(FilterError::Parameter { name: "sections", value: sos.len() as f64, expected });
    }
    for (index, section) in sos.iter().enumerate() {
        check_finite("the sections", section)?;
        if section[3] != T::one() {
            let a0 = section[3].to_f64().unwrap_or(f64::NAN);
            return Err(FilterError::SectionNotNormalised { section: index, a0 });
        }
    }
    Ok(())
}

/// Filters `x` through the cascade of sections from rest, like `scipy.signal.sosfilt(sos, x)`.
///
/// Each section runs the transposed direct form II recursion; section after section for each
/// sample, as scipy does, in the precision of `T` (with fused multiply-adds where the CPU has
/// them, so results differ from scipy's in the last bits).
///
/// # Errors
/// [`FilterError::Empty`], [`FilterError::NotFinite`], [`FilterError::SectionNotNormalised`]
/// for bad sections; [`FilterError::TooLarge`] above [`crate::MAX_VALUES`] samples.
///
/// # Examples
/// ```
/// // One section that is the first difference y[n] = x[n] - x[n-1].
/// let y = filter::sosfilt(&[[1.0, -1.0, 0.0, 1.0, 0.0, 0.0]], &[1.0, 3.0, 6.0])?;
/// assert_eq!(y, vec![1.0, 2.0, 3.0]);
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn sosfilt<T: ConvNum>(sos: &[Section<T>], x: &[T]) -> Result<Vec<T>, FilterError> {
    let state = vec![[T::zero(); 2]; sos.len()];
    sosfilt_with_state(sos, x, &state).map(|(y, _)| y)
}

/// [`sosfilt`] from the initial state `zi` (one pair per section, scipy's `zi` of shape
/// `(n_sections, 2)`), returning the output and the final state `zf`: filtering a signal in two
/// pieces, the second from the first's `zf`, gives the one-piece output.
///
/// # Errors
/// As [`sosfilt`], plus [`FilterError::StateLength`] when `zi` does not have one pair per
/// section and [`FilterError::NotFinite`] for a NaN or infinite state.
pub fn sosfilt_with_state<T: ConvNum>(
    sos: &[Section<T>],
    x: &[T],
    zi: &[[T; 2]],
) -> Result<(Vec<T>, Vec<[T; 2]>), FilterError> {
    check_sections(sos)?;
    if zi.len() != sos.len() {
        return Err(FilterError::StateLength { expected: sos.len() * 2, got: zi.len() * 2 });
    }
    check_finite("the initial state", zi.as_flattened())?;
    check_alloc("the output", Some(x.len()))?;
    let mut state = zi.to_vec();
    let mut y = x.to_vec();
    sosfilt_in_place(sos, &mut y, &mut state);
    Ok((y, state))
}

/// The initial state of each section for the steady state of a unit step, like
/// `scipy.signal.sosfilt_zi(sos)`: scale it by the signal's first value to start filtering
/// without a transient (what [`crate::sosfiltfilt`] does at both ends).
///
/// # Errors
/// As [`sosfilt`], plus [`FilterError::NoSteadyState`] when a section has a pole at z = 1.
///
/// # Examples
/// ```
/// use filter::{butter, sosfilt_with_state, sosfilt_zi, Band};
/// let sos = butter(4, &Band::Lowpass(0.1))?.to_sos()?;
/// let zi = sosfilt_zi(&sos)?;
/// // A constant signal started from the steady state stays constant.
/// let (y, _) = sosfilt_with_state(&sos, &[1.0; 5], &zi)?;
/// assert!(y.iter().all(|v| (v - 1.0).abs() < 1e-12));
/// # Ok::<(), filter::FilterError>(())
/// ```
pub fn sosfilt_zi<T: ConvNum>(sos: &[Section<T>]) -> Result<Vec<[T; 2]>, FilterError> {
    check_sections(sos)?;
    let mut scale = T::one();
    let mut zi = Vec::with_capacity(sos.len());
    for section in sos {
        let (b, a) = section.split_at(3);
        let z = lfilter_zi(b, a)?;
        zi.push([scale * z[0], scale * z[1]]);
        // The section's gain at zero frequency, H(1) = sum(b) / sum(a).
        let sum = |c: &[T]| c.iter().fold(T::zero(), |acc, &v| acc + v);
        scale = scale * sum(b) / sum(a);
    }
    Ok(zi)
}
