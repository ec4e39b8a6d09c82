//! Typed errors of the fourier crate.

use thiserror::Error;

/// What can be wrong with a request to this crate.
#[derive(Clone, Debug, PartialEq, Error)]
#[non_exhaustive]
pub enum FourierError {
    /// A period, width, mass or stiffness that must be positive is not.
    #[error("{what} must be positive and finite, got {value}")]
    NotPositive {
        /// The parameter.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// A fraction outside `[0, 1]`.
    #[error("{what} must lie in [0, 1], got {value}")]
    OutOfUnitInterval {
        /// The parameter.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// A NaN or infinite argument.
    #[error("{what} is not finite ({value})")]
    NotFinite {
        /// The argument.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// A series or sum asked for with zero terms.
    #[error("{what} needs at least one term")]
    ZeroTerms {
        /// What was asked for.
        what: &'static str,
    },
    /// Too few samples for the number of coefficients asked.
    #[error("{samples} samples over a period determine at most {max_terms} harmonics, {terms} were asked")]
    TooFewSamples {
        /// Samples given.
        samples: usize,
        /// Harmonics asked for.
        terms: usize,
        /// The most the samples allow, `(samples - 1) / 2`.
        max_terms: usize,
    },
    /// Operands of different lengths where equal lengths are needed.
    #[error("operands have lengths {left} and {right}; they must be equal and non-zero")]
    LengthMismatch {
        /// First length.
        left: usize,
        /// Second length.
        right: usize,
    },
    /// The adaptive quadrature did not reach its tolerance.
    #[error("quadrature did not converge to {tolerance:e} (estimated error {estimate:e})")]
    NoConvergence {
        /// Requested absolute tolerance.
        tolerance: f64,
        /// Error estimate reached.
        estimate: f64,
    },
    /// An undamped oscillator driven exactly at its natural frequency has no steady state.
    #[error("harmonic {harmonic} drives the undamped oscillator at resonance: no steady state exists")]
    Resonance {
        /// The resonant harmonic.
        harmonic: usize,
    },
    /// A request for more terms, steps or samples than the crate computes (each is capped so
    /// that no call allocates more than about a gigabyte or runs for hours).
    #[error("{what}: {requested} asked, at most {max} allowed")]
    TooLarge {
        /// What was asked for (`harmonics`, `integration steps`, ...).
        what: &'static str,
        /// How many were asked.
        requested: u128,
        /// The cap.
        max: u128,
    },
    /// An error from conv-core.
    #[error(transparent)]
    Conv(#[from] conv_core::ConvError),
}

/// Fails unless `value` is finite and positive, and not subnormal (a subnormal period or
/// frequency makes `2 pi / value` infinite and every result NaN).
pub(crate) fn positive(what: &'static str, value: f64) -> Result<f64, FourierError> {
    if value.is_normal() && value > 0.0 { Ok(value) } else { Err(FourierError::NotPositive { what, value }) }
}

/// The most harmonics a series may have: a million (16 MB of coefficients).
pub const MAX_TERMS: usize = 1 << 20;

/// The most samples (times, signal values) a call takes or returns: 2^27, a 1 GiB array of
/// `f64`. A broadcast view of 10^12 times costs a few bytes to make and would be 8 TB of
/// output; it is refused before anything is read.
pub const MAX_SAMPLES: usize = 1 << 27;

/// The most elementary operations (a harmonic evaluated at one time, a product in a direct
/// circular convolution) a call performs: 2^36, about a minute on one core. Beyond it a call
/// is refused up front rather than left to run for hours.
pub const MAX_OPERATIONS: u128 = 1 << 36;

/// Fails with [`FourierError::TooLarge`] when an array of `len` samples exceeds [`MAX_SAMPLES`]
/// or `len * per_sample` operations exceed [`MAX_OPERATIONS`].
pub(crate) fn within_budget(what: &'static str, len: usize, per_sample: usize) -> Result<(), FourierError> {
    at_most(what, len, MAX_SAMPLES)?;
    let operations = (len as u128).saturating_mul(per_sample.max(1) as u128);
    if operations > MAX_OPERATIONS {
        return Err(FourierError::TooLarge {
            what: "operations",
            requested: operations,
            max: MAX_OPERATIONS,
        });
    }
    Ok(())
}

/// Fails with [`FourierError::TooLarge`] when `requested` exceeds `max`.
pub(crate) fn at_most(what: &'static str, requested: usize, max: usize) -> Result<usize, FourierError> {
    if requested > max {
        return Err(FourierError::TooLarge { what, requested: requested as u128, max: max as u128 });
    }
    Ok(requested)
}

/// Fails unless `value` is finite.
pub(crate) fn finite(what: &'static str, value: f64) -> Result<f64, FourierError> {
    if value.is_finite() { Ok(value) } else { Err(FourierError::NotFinite { what, value }) }
}

/// Fails unless `value` is in `[0, 1]`.
pub(crate) fn unit_fraction(what: &'static str, value: f64) -> Result<f64, FourierError> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(FourierError::OutOfUnitInterval { what, value })
    }
}
