//! The scipy-style calls on one signal or image: `convolve`, `correlate`, `convolve2d`,
//! `correlate2d`, `filter_with`, and the batch-of-pairs engine behind the complex calls.

use ndarray::{Array, ArrayBase, Data, Dimension, Ix2};

use super::{resolve, shaped, solve, solve_resolved};
use crate::backend::ConvBackend;
use crate::error::{ConvError, Operand};
use crate::geometry::SPATIAL_AXES;
use crate::num::ConvNum;
use crate::planner::Auto;
use crate::spec::{Boundary, ConvSpec, Mode, OperandRule, Padding};

/// Checks the ranks of a signal call's operands in the caller's terms: both the same, 1 to
/// [`SPATIAL_AXES`] axes.
pub(crate) fn check_signal_ranks(
    call: &'static str,
    input: &[usize],
    kernel: &[usize],
) -> Result<(), ConvError> {
    for (operand, shape) in [(Operand::Input, input), (Operand::Kernel, kernel)] {
        if !(1..=SPATIAL_AXES).contains(&shape.len()) {
            return Err(ConvError::UnsupportedRank {
                operand,
                shape: shape.to_vec(),
                call,
                supported: "1-D, 2-D or 3-D arrays",
            });
        }
    }
    if input.len() != kernel.len() {
        return Err(ConvError::RankMismatch { input: input.to_vec(), kernel: kernel.to_vec() });
    }
    Ok(())
}

/// The canonical shape `[batch, channels, spatial...]` of operands given with spatial axes only.
pub(crate) fn canonical_shape(batch: usize, channels: usize, spatial: &[usize]) -> Vec<usize> {
    [batch, channels].iter().chain(spatial).copied().collect()
}

/// An error from the canonical problem `[1, 1, spatial...]` restated with the caller's shapes,
/// so a user of `convolve` never sees the internal batch and channel axes.
pub(crate) fn in_caller_shapes(error: ConvError, input: &[usize], kernel: &[usize]) -> ConvError {
    match error {
        ConvError::Empty { operand, .. } => {
            let shape = if operand == Operand::Input { input } else { kernel };
            ConvError::Empty { operand, shape: shape.to_vec() }
        }
        ConvError::ValidModeShapes { .. } => {
            ConvError::ValidModeShapes { input: input.to_vec(), kernel: kernel.to_vec() }
        }
        other => other,
    }
}

/// Single signal or image in, same rank out: the engine behind the scipy-style calls.
fn signal_call<T, S1, S2, D>(
    call: &'static str,
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
) -> Result<Array<T, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    check_signal_ranks(call, in1.shape(), in2.shape())?;
    let (input_shape, kernel_shape) =
        (canonical_shape(1, 1, in1.shape()), canonical_shape(1, 1, in2.shape()));
    let spec = ConvSpec { groups: 1, ..spec.clone() };
    let (output, resolved) = solve(in1, &input_shape, in2, &kernel_shape, &spec, OperandRule::Scipy, backend)
        .map_err(|error| in_caller_shapes(error, in1.shape(), in2.shape()))?;
    shaped(&resolved.caller_output_dims(), output, "output")
}

/// Two signals (or images) against two kernels, every pair, with scipy's operand rule: the
/// engine behind the complex calls, which pass the real and imaginary parts as the pairs.
/// `operands` makes the row-major `[2, spatial...]` input and kernel buffers; it is called only
/// once the request has been resolved and every size checked against the cap. Returns
/// `[2, 2, out...]` and the output's spatial shape; errors name the caller's shapes.
pub(crate) fn signal_pairs<T: ConvNum>(
    call: &'static str,
    (input_spatial, kernel_spatial): (&[usize], &[usize]),
    operands: impl FnOnce() -> (Vec<T>, Vec<T>),
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
) -> Result<(Vec<T>, Vec<usize>), ConvError> {
    check_signal_ranks(call, input_spatial, kernel_spatial)?;
    let in_caller_terms = |error| in_caller_shapes(error, input_spatial, kernel_spatial);
    let (input_shape, kernel_shape) =
        (canonical_shape(2, 1, input_spatial), canonical_shape(2, 1, kernel_spatial));
    let spec = ConvSpec { groups: 1, ..spec.clone() };
    let resolved =
        resolve::<T>(&input_shape, &kernel_shape, &spec, OperandRule::Scipy).map_err(in_caller_terms)?;
    let (inputs, kernels) = operands();
    let output = solve_resolved(&inputs, &kernels, &resolved, &spec, backend).map_err(in_caller_terms)?;
    Ok((output, resolved.caller_output_dims()))
}

/// Convolves two 1-D signals or two 2-D images, like `scipy.signal.convolve(in1, in2, mode)`.
///
/// `y[i] = sum_j in1[i - j] * in2[j]`, evaluated by the backend [`Auto`] chooses for the shapes
/// (like scipy's default `method='auto'`; [`Auto::shared`] is the planner these calls share).
/// For the defining sum in its defining order, bit for bit, call
/// `convolve_with(in1, in2, mode, &Direct)`. Outside its bounds `in1` is zero. Output sizes:
/// `Full` gives `n + k - 1`, `Same` gives `n` (centred as scipy does), `Valid` gives
/// `|n - k| + 1` (either operand may be the longer one, as in scipy, but on every axis the
/// same one).
///
/// # Errors
/// [`ConvError::Empty`] for an empty operand, [`ConvError::UnsupportedRank`] for arrays that
/// are not 1-D to 3-D, [`ConvError::RankMismatch`] for operands of different ranks (possible
/// with dynamic-rank arrays), [`ConvError::ValidModeShapes`] when in `Valid` mode neither operand covers the other,
/// [`ConvError::TooLarge`] / [`ConvError::Overflow`] for sizes over the default buffer cap.
///
/// # Examples
/// The product of two polynomials, `(1 + 2t)(3 + 4t + 5t^2) = 3 + 10t + 13t^2 + 10t^3`:
/// ```
/// use conv_core::{convolve, Mode};
/// use ndarray::array;
/// let product = convolve(&array![1.0, 2.0], &array![3.0, 4.0, 5.0], Mode::Full)?;
/// assert_eq!(product, array![3.0, 10.0, 13.0, 10.0]);
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn convolve<T, S1, S2, D>(
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    mode: Mode,
) -> Result<Array<T, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    convolve_with(in1, in2, mode, Auto::shared())
}

/// [`convolve`] computed by a chosen backend.
///
/// # Errors
/// As [`convolve`], plus whatever the backend refuses ([`ConvError::Unsupported`],
/// [`ConvError::TooLarge`]).
///
/// # Examples
/// ```
/// use conv_core::{convolve_with, Direct, Fft, Im2col, Mode, Toeplitz};
/// use ndarray::array;
/// let signal = array![1.0_f64, 2.0, 3.0, 4.0];
/// let kernel = array![1.0, -1.0];
/// let reference = convolve_with(&signal, &kernel, Mode::Same, &Direct)?;
/// let by_fft = convolve_with(&signal, &kernel, Mode::Same, &Fft::default())?;
/// let by_matrix = convolve_with(&signal, &kernel, Mode::Same, &Toeplitz::default())?;
/// let by_gemm = convolve_with(&signal, &kernel, Mode::Same, &Im2col::default())?;
/// assert_eq!(reference, array![1.0, 1.0, 1.0, 1.0]);
/// for other in [by_fft, by_matrix, by_gemm] {
///     assert!(other.iter().zip(&reference).all(|(a, b)| (a - b).abs() < 1e-12));
/// }
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn convolve_with<T, S1, S2, D>(
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    mode: Mode,
    backend: &dyn ConvBackend<T>,
) -> Result<Array<T, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    signal_call("convolve", in1, in2, &ConvSpec::convolution().mode(mode), backend)
}

/// Cross-correlates two 1-D signals or two 2-D images, like `scipy.signal.correlate(in1, in2, mode)`.
///
/// `z[k] = sum_l in1[l] * in2[l - k + K - 1]` over the full output (`K` = length of `in2`):
/// the kernel slides without being flipped. Same sizes and errors as [`convolve`].
///
/// # Errors
/// As [`convolve`].
///
/// # Examples
/// ```
/// use conv_core::{correlate, Mode};
/// use ndarray::array;
/// let z = correlate(&array![1.0, 2.0, 3.0], &array![0.0, 1.0, 0.5], Mode::Full)?;
/// assert_eq!(z, array![0.5, 2.0, 3.5, 3.0, 0.0]);
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn correlate<T, S1, S2, D>(
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    mode: Mode,
) -> Result<Array<T, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    correlate_with(in1, in2, mode, Auto::shared())
}

/// [`correlate`] computed by a chosen backend.
///
/// # Errors
/// As [`convolve_with`].
pub fn correlate_with<T, S1, S2, D>(
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    mode: Mode,
    backend: &dyn ConvBackend<T>,
) -> Result<Array<T, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    signal_call("correlate", in1, in2, &ConvSpec::correlation().mode(mode), backend)
}

/// 2-D convolution with a boundary rule, like `scipy.signal.convolve2d(in1, in2, mode, boundary, fillvalue)`.
///
/// scipy's `boundary='fill'` is [`Boundary::Zeros`] or [`Boundary::Constant`], `'wrap'` is
/// [`Boundary::Circular`] and `'symm'` is [`Boundary::Symmetric`]; [`Boundary::Reflect`] and
/// [`Boundary::Replicate`] extend it as `numpy.pad` does. `Valid` mode reads no boundary.
///
/// # Errors
/// As [`convolve`].
///
/// # Examples
/// ```
/// use conv_core::{convolve2d, Boundary, Mode};
/// use ndarray::array;
/// let image = array![[1.0, 2.0], [3.0, 4.0]];
/// let blur = array![[0.25, 0.25], [0.25, 0.25]];
/// let wrapped = convolve2d(&image, &blur, Mode::Same, Boundary::Circular)?;
/// assert_eq!(wrapped, array![[2.5, 2.5], [2.5, 2.5]]);
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn convolve2d<T, S1, S2>(
    in1: &ArrayBase<S1, Ix2>,
    in2: &ArrayBase<S2, Ix2>,
    mode: Mode,
    boundary: Boundary,
) -> Result<Array<T, Ix2>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    convolve2d_with(in1, in2, mode, boundary, Auto::shared())
}

/// [`convolve2d`] computed by a chosen backend.
///
/// # Errors
/// As [`convolve_with`].
pub fn convolve2d_with<T, S1, S2>(
    in1: &ArrayBase<S1, Ix2>,
    in2: &ArrayBase<S2, Ix2>,
    mode: Mode,
    boundary: Boundary,
    backend: &dyn ConvBackend<T>,
) -> Result<Array<T, Ix2>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    signal_call("convolve2d", in1, in2, &ConvSpec::convolution().mode(mode).boundary(boundary), backend)
}

/// 2-D correlation with a boundary rule, like `scipy.signal.correlate2d(in1, in2, mode, boundary, fillvalue)`.
///
/// Note that scipy centres `Same` differently here than in `scipy.signal.correlate`: for an
/// even kernel length `k`, `correlate2d` starts at full-output index `k / 2`, `correlate` at
/// `(k - 1) / 2`. Each of our functions follows its scipy namesake.
///
/// # Errors
/// As [`convolve`].
pub fn correlate2d<T, S1, S2>(
    in1: &ArrayBase<S1, Ix2>,
    in2: &ArrayBase<S2, Ix2>,
    mode: Mode,
    boundary: Boundary,
) -> Result<Array<T, Ix2>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    correlate2d_with(in1, in2, mode, boundary, Auto::shared())
}

/// [`correlate2d`] computed by a chosen backend.
///
/// # Errors
/// As [`convolve_with`].
pub fn correlate2d_with<T, S1, S2>(
    in1: &ArrayBase<S1, Ix2>,
    in2: &ArrayBase<S2, Ix2>,
    mode: Mode,
    boundary: Boundary,
    backend: &dyn ConvBackend<T>,
) -> Result<Array<T, Ix2>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    // scipy's correlate2d centres `same` unlike its correlate: for an even kernel the extra
    // padding sample goes after the input, which is SAME_UPPER at stride 1.
    let padding = match mode {
        Mode::Same => Padding::SameUpper,
        other => Padding::Mode(other),
    };
    signal_call(
        "correlate2d",
        in1,
        in2,
        &ConvSpec::correlation().padding(padding).boundary(boundary),
        backend,
    )
}

/// A single signal or image under any [`ConvSpec`] (stride, dilation, explicit padding,
/// boundary, kind), with scipy's lenient operand rule for `Valid`. `spec.groups` is ignored.
///
/// # Errors
/// As [`convolve_with`], plus the spec's own errors ([`ConvError::ZeroStride`], ...).
///
/// # Examples
/// ```
/// use conv_core::{filter_with, ConvSpec, Direct, Mode};
/// use ndarray::array;
/// // A 2-tap moving sum evaluated at every second sample.
/// let spec = ConvSpec::correlation().mode(Mode::Valid).stride(2);
/// let y = filter_with(&array![1.0, 2.0, 3.0, 4.0, 5.0], &array![1.0, 1.0], &spec, &Direct)?;
/// assert_eq!(y, array![3.0, 7.0]);
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn filter_with<T, S1, S2, D>(
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
) -> Result<Array<T, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    signal_call("filter_with", in1, in2, spec, backend)
}
