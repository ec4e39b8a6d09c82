//! `scipy.signal.choose_conv_method`: which backend [`Auto`] would run for two arrays, and why.

use ndarray::{ArrayBase, Data, Dimension};

use crate::error::ConvError;
use crate::frontend::{canonical_shape, check_signal_ranks, in_caller_shapes};
use crate::num::ConvNum;
use crate::planner::{Auto, Explanation};
use crate::spec::{ConvSpec, Mode, OperandRule};

/// Which backend [`convolve`](crate::convolve) / [`correlate`](crate::correlate) would run for
/// these two arrays in this mode, with every candidate's predicted time, like
/// `scipy.signal.choose_conv_method(in1, in2, mode)` (which answers `'direct'` or `'fft'`).
///
/// The answer is the shared planner's ([`Auto::shared`]) cost model. To time the candidates on
/// the real data instead (scipy's `measure=True`), solve with `Auto::new().measuring()`: its
/// first call per shape runs every backend and keeps the fastest. [`Auto::explain_signals`]
/// answers the same question for shapes alone, for any planner.
///
/// # Errors
/// As [`convolve`](crate::convolve): empty operands, ranks other than 1 and 2 or different
/// from each other, `Valid` shapes neither of which covers the other, sizes over the cap.
///
/// # Examples
/// ```
/// use conv_core::{choose_conv_method, Mode};
/// use ndarray::Array1;
/// let signal = Array1::<f64>::ones(1_000_000);
/// let taps = Array1::<f64>::ones(4095);
/// let choice = choose_conv_method(&signal, &taps, Mode::Same)?;
/// assert_ne!(choice.chosen.as_deref(), Some("direct")); // a transform wins here
/// println!("{choice}"); // the choice, then each backend's predicted seconds
/// let short = choose_conv_method(&Array1::<f64>::ones(8), &Array1::ones(3), Mode::Full)?;
/// assert_eq!(short.chosen.as_deref(), Some("direct"));
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn choose_conv_method<T, S1, S2, D>(
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    mode: Mode,
) -> Result<Explanation, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    Auto::shared().explain_signals::<T>(in1.shape(), in2.shape(), mode)
}

impl Auto {
    /// What this planner would choose for a signal call (`convolve`, `correlate`) on operands
    /// of these shapes (1-D to 3-D, the caller's shapes, no batch or channel axes) in `mode`,
    /// and every candidate's prediction. [`choose_conv_method`] asks the shared planner with
    /// two arrays.
    ///
    /// # Errors
    /// As [`choose_conv_method`].
    ///
    /// # Examples
    /// ```
    /// use conv_core::{Auto, Mode};
    /// let auto = Auto::new();
    /// let explanation = auto.explain_signals::<f32>(&[512, 512], &[31, 31], Mode::Valid)?;
    /// assert!(explanation.chosen.is_some());
    /// # Ok::<(), conv_core::ConvError>(())
    /// ```
    pub fn explain_signals<T: ConvNum>(
        &self,
        in1_shape: &[usize],
        in2_shape: &[usize],
        mode: Mode,
    ) -> Result<Explanation, ConvError> {
        check_signal_ranks("choose_conv_method", in1_shape, in2_shape)?;
        let (input, kernel) = (canonical_shape(1, 1, in1_shape), canonical_shape(1, 1, in2_shape));
        let resolved = ConvSpec::convolution()
            .mode(mode)
            .resolve_with(&input, &kernel, OperandRule::Scipy, size_of::<T>())
            .map_err(|error| in_caller_shapes(error, in1_shape, in2_shape))?;
        Ok(self.explain::<T>(&resolved.geometry))
    }
}
