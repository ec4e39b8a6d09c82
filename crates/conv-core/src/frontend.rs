//! The user-facing calls. Each one normalises its request (padding, boundary fill, kernel flip)
//! into the canonical problem and hands it to a backend.

use ndarray::{Array, Array3, Array4, ArrayBase, Data, Dimension, Ix2, Ix3, Ix4};

use crate::backend::Scratch;
use crate::backend::with_thread_buffers;
use crate::backend::{Auto, ConvBackend, ConvProblem};
use crate::boundary::{extend_padded_positions, flip_planes, pad_planes_into};
use crate::error::{ConvError, Operand};
use crate::geometry::{EdgeSplit, SPATIAL_AXES};
use crate::num::ConvNum;
use crate::spec::{Boundary, ConvSpec, Kind, Mode, OperandRule, Padding, Resolved};

/// Solves one request: `input` is `[N, C, spatial...]`, `kernel` is `[O, C/groups, spatial...]`,
/// both row-major. Returns the `[N, O, OH, OW]` output and the resolved problem.
fn solve<T: ConvNum>(
    input: &[T],
    input_shape: &[usize],
    kernel: &[T],
    kernel_shape: &[usize],
    spec: &ConvSpec,
    rule: OperandRule,
    backend: &dyn ConvBackend<T>,
) -> Result<(Vec<T>, Resolved), ConvError> {
    let resolved = spec.resolve_with(input_shape, kernel_shape, rule, size_of::<T>())?;
    if spec.require_finite {
        check_finite(Operand::Input, input)?;
        check_finite(Operand::Kernel, kernel)?;
    }
    let geometry = resolved.geometry;
    backend.supports(&geometry)?;
    let oriented = orient_kernel(kernel, spec.kind, &resolved);
    let mut output = vec![T::zero(); geometry.output_len()?];
    if resolved.pads.iter().all(|&pad| pad == (0, 0)) {
        // Nothing to pad: the backend reads the caller's array itself.
        let unpadded = input.get(..geometry.input_len()?).unwrap_or(input);
        backend.execute(&ConvProblem::new(geometry, unpadded, &oriented)?, &mut output)?;
    } else if let Some(split) = worth_splitting_at_edges(&resolved) {
        solve_by_edges(input, &resolved, split, &oriented, backend, &mut output)?;
    } else {
        // The padded copy lives in a buffer the thread keeps, so repeated calls do not fault in
        // fresh pages for it each time.
        with_thread_buffers(|(padded, _)| {
            pad_input_into(input, input_shape, &resolved, padded);
            backend.execute(&ConvProblem::new(geometry, padded, &oriented)?, &mut output)
        })?;
    }
    Ok((output, resolved))
}

/// A padded signal at least this long (in output samples that read input only) is solved in
/// three pieces rather than copied whole into a padded buffer (see [`solve_by_edges`]).
const EDGE_SPLIT_MIN_INTERIOR: usize = 4096;

/// ... and only when the two edges are this many times shorter than the interior, so the extra
/// calls on the edges stay a small part of the work whatever the backend.
const EDGE_SPLIT_INTERIOR_PER_SPAN: usize = 16;

/// The edge/interior split of a request whose output is a single padded row (one signal, one
/// kernel: `N * O = 1`, height 1, stride 1), when splitting pays; `None` otherwise.
fn worth_splitting_at_edges(resolved: &Resolved) -> Option<EdgeSplit> {
    let g = &resolved.geometry;
    let [rows, cols] = g.axes;
    if g.batch * g.out_channels != 1 || rows.input != 1 || resolved.pads[0] != (0, 0) {
        return None;
    }
    let split = cols.edge_split(resolved.pads[1])?;
    let long_enough = split.interior >= EDGE_SPLIT_MIN_INTERIOR
        && split.span.saturating_mul(EDGE_SPLIT_INTERIOR_PER_SPAN) <= split.interior;
    long_enough.then_some(split)
}

/// Solves a single-row request in three calls of the backend: the interior outputs straight
/// from the caller's unpadded signal, the two edges from short padded pieces. A long signal with
/// a short kernel is then read once, where padding it first would copy it whole (the copy cost
/// as much as a three-tap convolution). Each output is the same sum of the same products as in
/// one call on the padded row.
fn solve_by_edges<T: ConvNum>(
    input: &[T],
    resolved: &Resolved,
    split: EdgeSplit,
    kernel: &[T],
    backend: &dyn ConvBackend<T>,
    output: &mut [T],
) -> Result<(), ConvError> {
    let geometry = resolved.geometry;
    let (before, after) = resolved.pads[1];
    let width = geometry.axes[1].input - before - after;
    let planes = geometry.in_channels; // one signal: N = 1
    let (leading_out, rest) = output.split_at_mut(split.leading);
    let (interior_out, trailing_out) = rest.split_at_mut(split.interior);
    let mut interior = geometry;
    interior.axes[1].input = width;
    interior.axes[1].output = split.interior;
    backend.execute(&ConvProblem::new(interior, &input[..planes * width], kernel)?, interior_out)?;
    with_thread_buffers(|(piece, _)| {
        for (reads, edge_out) in
            [(split.leading_reads(), leading_out), (split.trailing_reads(), trailing_out)]
        {
            if edge_out.is_empty() {
                continue;
            }
            piece.clear();
            for row in input.chunks_exact(width).take(planes) {
                extend_padded_positions(row, before, reads.clone(), resolved.boundary, piece);
            }
            let mut edge = geometry;
            edge.axes[1].input = reads.len();
            edge.axes[1].output = edge_out.len();
            backend.execute(&ConvProblem::new(edge, piece, kernel)?, edge_out)?;
        }
        Ok(())
    })
}

/// The operands a backend receives for a resolved request: the input padded by the boundary
/// rule, and the kernel in correlation orientation (flipped for a convolution). The conformance
/// kit uses it to build the problems it hands to backends.
#[cfg(feature = "testkit")]
pub(crate) fn prepare_operands<T: ConvNum>(
    input: &[T],
    input_shape: &[usize],
    kernel: &[T],
    kind: Kind,
    resolved: &Resolved,
) -> (Vec<T>, Vec<T>) {
    let mut padded = Vec::new();
    pad_input_into(input, input_shape, resolved, &mut padded);
    (padded, orient_kernel(kernel, kind, resolved))
}

/// The input padded by the boundary rule into `padded` (cleared first; its allocation is reused).
fn pad_input_into<T: ConvNum>(input: &[T], input_shape: &[usize], resolved: &Resolved, padded: &mut Vec<T>) {
    let geometry = resolved.geometry;
    let mut unpadded = [1; SPATIAL_AXES];
    unpadded[SPATIAL_AXES - resolved.spatial_rank..].copy_from_slice(&input_shape[2..]);
    let planes = geometry.batch * geometry.in_channels;
    pad_planes_into(input, planes, unpadded, resolved.pads, resolved.boundary, padded);
}

/// The kernel in correlation orientation: flipped for a convolution.
fn orient_kernel<T: ConvNum>(kernel: &[T], kind: Kind, resolved: &Resolved) -> Vec<T> {
    let mut oriented = kernel.to_vec();
    if kind == Kind::Convolution {
        flip_planes(&mut oriented, resolved.geometry.kernel_plane());
    }
    oriented
}

fn check_finite<T: ConvNum>(operand: Operand, values: &[T]) -> Result<(), ConvError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(ConvError::NonFinite { operand, index, value: values[index].to_f64_lossy() }),
        None => Ok(()),
    }
}

/// A contiguous row-major copy of an array (borrowed when it already is one).
fn row_major<S: Data, D: Dimension>(array: &ArrayBase<S, D>) -> std::borrow::Cow<'_, [S::Elem]>
where
    S::Elem: Clone,
{
    match array.as_slice() {
        Some(slice) => std::borrow::Cow::Borrowed(slice),
        None => std::borrow::Cow::Owned(array.iter().cloned().collect()),
    }
}

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
                supported: "1-D or 2-D arrays",
            });
        }
    }
    if input.len() != kernel.len() {
        return Err(ConvError::RankMismatch { input: input.to_vec(), kernel: kernel.to_vec() });
    }
    Ok(())
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
    let rank = in1.ndim();
    let input_shape: Vec<usize> = [1, 1].iter().chain(in1.shape()).copied().collect();
    let kernel_shape: Vec<usize> = [1, 1].iter().chain(in2.shape()).copied().collect();
    let spec = ConvSpec { groups: 1, ..spec.clone() };
    let (output, resolved) = solve(
        &row_major(in1),
        &input_shape,
        &row_major(in2),
        &kernel_shape,
        &spec,
        OperandRule::Scipy,
        backend,
    )
    .map_err(|error| in_caller_shapes(error, in1.shape(), in2.shape()))?;
    let mut dim = in1.raw_dim();
    let offset = SPATIAL_AXES - rank;
    for axis in 0..rank {
        dim[axis] = resolved.geometry.axes[offset + axis].output;
    }
    let expected = dim.size();
    let got = output.len();
    Array::from_shape_vec(dim, output).map_err(|_| ConvError::BufferLength { what: "output", expected, got })
}

/// A batch of same-shaped signals against a bank of same-shaped kernels, every pair, with
/// scipy's operand rule: `inputs` is `[batch, spatial...]`, `kernels` `[bank, spatial...]`
/// (row-major); returns `[batch, bank, out...]` and the output's spatial shape.
pub(crate) fn signal_pairs<T: ConvNum>(
    (inputs, batch, input_spatial): (&[T], usize, &[usize]),
    (kernels, bank, kernel_spatial): (&[T], usize, &[usize]),
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
) -> Result<(Vec<T>, Vec<usize>), ConvError> {
    let rank = input_spatial.len();
    if !(1..=SPATIAL_AXES).contains(&rank) {
        return Err(ConvError::Rank {
            operand: Operand::Input,
            expected: SPATIAL_AXES,
            got: rank,
            shape: input_spatial.to_vec(),
        });
    }
    let input_shape: Vec<usize> = [batch, 1].iter().chain(input_spatial).copied().collect();
    let kernel_shape: Vec<usize> = [bank, 1].iter().chain(kernel_spatial).copied().collect();
    let spec = ConvSpec { groups: 1, ..spec.clone() };
    let (output, resolved) =
        solve(inputs, &input_shape, kernels, &kernel_shape, &spec, OperandRule::Scipy, backend)?;
    let offset = SPATIAL_AXES - rank;
    let spatial = (0..rank).map(|axis| resolved.geometry.axes[offset + axis].output).collect();
    Ok((output, spatial))
}

/// Convolves two 1-D signals or two 2-D images, like `scipy.signal.convolve(in1, in2, mode)`.
///
/// `y[i] = sum_j in1[i - j] * in2[j]`, evaluated by the backend [`Auto`] chooses for the shapes
/// (like scipy's default `method='auto'`; [`Auto::shared`] is the planner these calls share).
/// For the defining sum in its defining order, bit for bit, call
/// `convolve_with(in1, in2, mode, &Direct)`. Outside its bounds `in1` is zero. Output sizes: `Full` gives `n + k - 1`, `Same` gives `n` (centred as scipy
/// does), `Valid` gives `|n - k| + 1` (either operand may be the longer one, as in scipy, but
/// on every axis the same one).
///
/// # Errors
/// [`ConvError::Empty`] for an empty operand, [`ConvError::UnsupportedRank`] for arrays that
/// are not 1-D or 2-D, [`ConvError::RankMismatch`] for operands of different ranks (possible
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

/// Batched, multi-channel 2-D convolution layer: input `[N, C, H, W]`, weights
/// `[O, C / groups, KH, KW]`, output `[N, O, OH, OW]`, by the backend [`Auto`] chooses
/// (`conv2d_with(.., &Direct)` for the defining sum).
///
/// Deep-learning layers correlate; pass `ConvSpec::correlation()` (the default) for that, or
/// `ConvSpec::convolution()` to flip the kernels.
///
/// # Errors
/// Shape errors of [`ConvSpec::resolve`], including [`ConvError::KernelLargerThanInput`] when
/// the dilated kernel does not fit in the padded input.
///
/// # Examples
/// ```
/// use conv_core::{conv2d, ConvSpec, Padding};
/// use ndarray::Array4;
/// let input = Array4::<f32>::ones((8, 3, 32, 32));
/// let weights = Array4::<f32>::ones((16, 3, 3, 3));
/// let spec = ConvSpec::correlation().padding(Padding::SameUpper).stride(2);
/// let out = conv2d(&input, &weights, &spec)?;
/// assert_eq!(out.shape(), &[8, 16, 16, 16]);
/// assert_eq!(out[[0, 0, 5, 5]], 27.0);
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn conv2d<T, S1, S2>(
    input: &ArrayBase<S1, Ix4>,
    weights: &ArrayBase<S2, Ix4>,
    spec: &ConvSpec,
) -> Result<Array4<T>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    conv2d_with(input, weights, spec, Auto::shared())
}

/// [`conv2d`] computed by a chosen backend.
///
/// # Errors
/// As [`conv2d`], plus whatever the backend refuses.
pub fn conv2d_with<T, S1, S2>(
    input: &ArrayBase<S1, Ix4>,
    weights: &ArrayBase<S2, Ix4>,
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
) -> Result<Array4<T>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    let (output, resolved) = solve(
        &row_major(input),
        input.shape(),
        &row_major(weights),
        weights.shape(),
        spec,
        OperandRule::Layer,
        backend,
    )?;
    let shape = resolved.geometry.output_shape();
    Array4::from_shape_vec(shape, output).map_err(|_| ConvError::BufferLength {
        what: "output",
        expected: shape.iter().product(),
        got: 0,
    })
}

/// Batched, multi-channel 1-D convolution layer: input `[N, C, W]`, weights `[O, C / groups, K]`,
/// output `[N, O, OW]`, by the backend [`Auto`] chooses (`conv1d_with(.., &Direct)` for the
/// defining sum).
///
/// # Errors
/// As [`conv2d`].
///
/// # Examples
/// ```
/// use conv_core::{conv1d, ConvSpec};
/// use ndarray::array;
/// // Two channels, depthwise (groups = 2): each channel has its own 2-tap filter.
/// let input = array![[[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]]];
/// let weights = array![[[1.0, 1.0]], [[1.0, -1.0]]];
/// let out = conv1d(&input, &weights, &ConvSpec::correlation().groups(2))?;
/// assert_eq!(out, array![[[3.0, 5.0], [-10.0, -10.0]]]);
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn conv1d<T, S1, S2>(
    input: &ArrayBase<S1, Ix3>,
    weights: &ArrayBase<S2, Ix3>,
    spec: &ConvSpec,
) -> Result<Array3<T>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    conv1d_with(input, weights, spec, Auto::shared())
}

/// [`conv1d`] computed by a chosen backend.
///
/// # Errors
/// As [`conv2d_with`].
pub fn conv1d_with<T, S1, S2>(
    input: &ArrayBase<S1, Ix3>,
    weights: &ArrayBase<S2, Ix3>,
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
) -> Result<Array3<T>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    let (output, resolved) = solve(
        &row_major(input),
        input.shape(),
        &row_major(weights),
        weights.shape(),
        spec,
        OperandRule::Layer,
        backend,
    )?;
    let g = resolved.geometry;
    let shape = (g.batch, g.out_channels, g.axes[1].output);
    Array3::from_shape_vec(shape, output).map_err(|_| ConvError::BufferLength {
        what: "output",
        expected: shape.0 * shape.1 * shape.2,
        got: 0,
    })
}

/// A [`conv2d`] layer prepared once for a fixed weight bank, spec and input shape, for repeated
/// calls (inference): the backend's plan (kernel spectra, matrices, packed weights) and the
/// padded-input buffer are made once.
///
/// # Examples
/// ```
/// use conv_core::{ConvSpec, Fft, Padding, PreparedConv2d, conv2d};
/// use ndarray::Array4;
/// let weights = Array4::<f32>::from_shape_fn((8, 3, 3, 3), |(o, c, i, j)| (o + c + i * j) as f32 * 0.1);
/// let spec = ConvSpec::correlation().padding(Padding::SameUpper);
/// let fft = Fft::default();
/// let layer = PreparedConv2d::new([4, 3, 16, 16], &weights, &spec, &fft)?;
/// for step in 0..3 {
///     let input = Array4::<f32>::from_elem((4, 3, 16, 16), step as f32);
///     let fresh = conv2d(&input, &weights, &spec)?;
///     let planned = layer.run(&input)?;
///     assert!(planned.iter().zip(&fresh).all(|(a, b)| (a - b).abs() < 1e-3));
/// }
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub struct PreparedConv2d<'b, T: ConvNum> {
    resolved: Resolved,
    input_shape: [usize; 4],
    require_finite: bool,
    plan: Box<dyn crate::backend::ConvPlan<T> + 'b>,
    padded: Scratch<Vec<T>>,
}

impl<'b, T: ConvNum> PreparedConv2d<'b, T> {
    /// Prepares `backend` for inputs of shape `input_shape` (`[N, C, H, W]`) and these weights.
    ///
    /// # Errors
    /// As [`conv2d_with`].
    pub fn new<S: Data<Elem = T>>(
        input_shape: [usize; 4],
        weights: &ArrayBase<S, Ix4>,
        spec: &ConvSpec,
        backend: &'b dyn ConvBackend<T>,
    ) -> Result<Self, ConvError> {
        let resolved =
            spec.resolve_with(&input_shape, weights.shape(), OperandRule::Layer, size_of::<T>())?;
        let kernel = row_major(weights);
        if spec.require_finite {
            check_finite(Operand::Kernel, &kernel)?;
        }
        let oriented = orient_kernel(&kernel, spec.kind, &resolved);
        let plan = backend.plan(&resolved.geometry, &oriented)?;
        Ok(PreparedConv2d {
            resolved,
            input_shape,
            require_finite: spec.require_finite,
            plan,
            padded: Scratch::new(Vec::new()),
        })
    }

    /// The output shape `[N, O, OH, OW]`.
    pub fn output_shape(&self) -> [usize; 4] {
        self.resolved.geometry.output_shape()
    }

    /// Runs the layer on one input of the prepared shape.
    ///
    /// # Errors
    /// [`ConvError::ShapeMismatch`] (naming both shapes) if `input` has another shape than
    /// the one prepared, [`ConvError::NonFinite`] if the spec asked for finite inputs.
    pub fn run<S: Data<Elem = T>>(&self, input: &ArrayBase<S, Ix4>) -> Result<Array4<T>, ConvError> {
        if input.shape() != self.input_shape {
            return Err(ConvError::ShapeMismatch {
                operand: Operand::Input,
                expected: self.input_shape.to_vec(),
                got: input.shape().to_vec(),
                context: "this PreparedConv2d",
            });
        }
        let values = row_major(input);
        if self.require_finite {
            check_finite(Operand::Input, &values)?;
        }
        let geometry = self.resolved.geometry;
        let mut output = vec![T::zero(); geometry.output_len()?];
        self.padded.with(Vec::new, |padded| {
            pad_input_into(&values, &self.input_shape, &self.resolved, padded);
            self.plan.execute(padded, &mut output)
        })?;
        let shape = geometry.output_shape();
        Array4::from_shape_vec(shape, output).map_err(|_| ConvError::BufferLength {
            what: "output",
            expected: shape.iter().product(),
            got: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::backend::{Direct, Fft, Im2col, OverlapSave, Toeplitz};

    fn values(len: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect()
    }

    /// The whole padded row in one call: what `solve` did before it split long rows.
    fn unsplit(
        input: &[f64],
        input_shape: &[usize],
        kernel: &[f64],
        kernel_shape: &[usize],
        spec: &ConvSpec,
        backend: &dyn ConvBackend<f64>,
    ) -> Vec<f64> {
        let resolved = spec.resolve_with(input_shape, kernel_shape, OperandRule::Layer, 8).unwrap();
        let (padded, oriented) = {
            let mut padded = Vec::new();
            pad_input_into(input, input_shape, &resolved, &mut padded);
            (padded, orient_kernel(kernel, spec.kind, &resolved))
        };
        let mut output = vec![0.0; resolved.geometry.output_len().unwrap()];
        backend
            .execute(&ConvProblem::new(resolved.geometry, &padded, &oriented).unwrap(), &mut output)
            .unwrap();
        output
    }

    #[test]
    fn long_rows_split_at_the_edges_give_the_sums_of_the_padded_row() {
        let width = 5003;
        let boundaries = [
            Boundary::Zeros,
            Boundary::Constant(2.5),
            Boundary::Symmetric,
            Boundary::Reflect,
            Boundary::Replicate,
            Boundary::Circular,
        ];
        let backends: [&dyn ConvBackend<f64>; 5] =
            [&Direct, &Toeplitz::default(), &Fft::default(), &Im2col::default(), &OverlapSave::default()];
        let mut splits = 0;
        for (case, &boundary) in boundaries.iter().enumerate() {
            for (channels, taps, dilation) in [(1, 3, 1), (2, 7, 3), (1, 64, 1)] {
                for spec in [
                    ConvSpec::convolution().mode(Mode::Full),
                    ConvSpec::correlation().mode(Mode::Same),
                    ConvSpec::convolution().padding(Padding::Explicit(vec![(5, 300)])),
                ] {
                    let spec = spec.boundary(boundary).dilation(dilation);
                    let (input_shape, kernel_shape) = ([1, channels, width], [1, channels, taps]);
                    let input = values(channels * width, case as u64);
                    let kernel = values(channels * taps, 99);
                    let resolved =
                        spec.resolve_with(&input_shape, &kernel_shape, OperandRule::Layer, 8).unwrap();
                    splits += usize::from(worth_splitting_at_edges(&resolved).is_some());
                    for backend in backends {
                        let solved = solve(
                            &input,
                            &input_shape,
                            &kernel,
                            &kernel_shape,
                            &spec,
                            OperandRule::Layer,
                            backend,
                        );
                        if backend.supports(&resolved.geometry).is_err() {
                            assert!(solved.is_err(), "refused whole, refused split");
                            continue;
                        }
                        let expected = unsplit(&input, &input_shape, &kernel, &kernel_shape, &spec, backend);
                        let (got, _) = solved.unwrap();
                        assert_eq!(got.len(), expected.len());
                        let scale = expected.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
                        for (i, (a, b)) in got.iter().zip(&expected).enumerate() {
                            if backend.name() == "direct" {
                                assert_eq!(a.to_bits(), b.to_bits(), "{boundary:?} {spec:?} output {i}");
                            } else {
                                assert!(
                                    (a - b).abs() <= 1e-12 * scale,
                                    "{} {boundary:?} {spec:?} {i}",
                                    backend.name()
                                );
                            }
                        }
                    }
                }
            }
        }
        // The 64-tap kernel with dilation 1 and the 7-tap with dilation 3 stay whole (span x 16 >
        // interior for the first; explicit 300-sample padding on the right is still split).
        assert!(splits >= boundaries.len() * 5, "most cases take the split path: {splits}");
    }

    #[test]
    fn batches_strides_and_short_rows_stay_whole() {
        let spec = ConvSpec::convolution().mode(Mode::Full);
        let long = |shape: &[usize], kernel: &[usize], spec: &ConvSpec| {
            worth_splitting_at_edges(&spec.resolve_with(shape, kernel, OperandRule::Layer, 8).unwrap())
        };
        assert!(long(&[1, 1, 10_000], &[1, 1, 3], &spec).is_some());
        assert!(long(&[2, 1, 10_000], &[1, 1, 3], &spec).is_none(), "two signals");
        assert!(long(&[1, 1, 10_000], &[2, 1, 3], &spec).is_none(), "two kernels");
        assert!(long(&[1, 1, 10_000], &[1, 1, 3], &spec.clone().stride(2)).is_none(), "stride 2");
        assert!(long(&[1, 1, 1000], &[1, 1, 3], &spec).is_none(), "short signal");
        assert!(long(&[1, 1, 8, 10_000], &[1, 1, 3, 3], &spec).is_none(), "an image");
        let split = long(&[1, 1, 10_000], &[1, 1, 3], &spec).unwrap();
        assert_eq!((split.leading, split.interior, split.trailing, split.span), (2, 9998, 2, 3));
        assert_eq!((split.leading_reads(), split.trailing_reads()), (0..4, 10_000..10_004));
    }
}
