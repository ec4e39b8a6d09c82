//! The batched layer calls: `conv1d`, `conv2d`, `conv3d` (PyTorch's semantics, NCHW / OIHW,
//! NCDHW / OIDHW) and `PreparedConv2d`, which plans once for many inputs of one shape.

use ndarray::{Array3, Array4, Array5, ArrayBase, Data, Ix3, Ix4, Ix5};

use super::{check_finite, layer_output_shape, orient_kernel, pad_input_into, row_major, shaped, solve};
use crate::backend::{ConvBackend, Scratch};
use crate::error::{ConvError, Operand};
use crate::num::ConvNum;
use crate::planner::Auto;
use crate::spec::{ConvSpec, Layout, OperandRule, Resolved};

/// Batched, multi-channel 2-D convolution layer: input `[N, C, H, W]`, weights
/// `[O, C / groups, KH, KW]`, output `[N, O, OH, OW]`, by the backend [`Auto`] chooses
/// (`conv2d_with(.., &Direct)` for the defining sum). With
/// [`ConvSpec::layout`]`(Layout::ChannelsLast)` the input is `[N, H, W, C]` and the output
/// `[N, OH, OW, O]` (Keras's layout; the weights keep theirs), solved through
/// [`ConvBackend::execute_channels_last`].
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
///
/// // The same layer on images stored as Keras keeps them, [N, H, W, C].
/// let nhwc = Array4::<f32>::ones((8, 32, 32, 3));
/// let out = conv2d(&nhwc, &weights, &spec.layout(conv_core::Layout::ChannelsLast))?;
/// assert_eq!(out.shape(), &[8, 16, 16, 16]);
/// assert_eq!(out[[0, 5, 5, 0]], 27.0);
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
    let (output, resolved) =
        solve(input, input.shape(), weights, weights.shape(), spec, OperandRule::Layer, backend)?;
    shaped(&layer_output_shape(&resolved), output, "output")
}

/// Batched, multi-channel 3-D convolution layer (PyTorch's `conv3d`): input `[N, C, D, H, W]`,
/// weights `[O, C / groups, KD, KH, KW]`, output `[N, O, OD, OH, OW]`, by the backend [`Auto`]
/// chooses (`conv3d_with(.., &Direct)` for the defining sum). Stride, dilation and padding take
/// one value for every axis or one per axis (`[depth, height, width]`); explicit padding is a
/// `(before, after)` pair per axis, so asymmetric padding needs no separate pad call. With
/// [`ConvSpec::layout`]`(Layout::ChannelsLast)` the input is `[N, D, H, W, C]` and the output
/// `[N, OD, OH, OW, O]` (PyTorch's `channels_last_3d`, Keras's `Conv3D`).
///
/// # Errors
/// As [`conv2d`].
///
/// # Examples
/// ```
/// use conv_core::{conv3d, ConvSpec, Padding};
/// use ndarray::Array5;
/// let volume = Array5::<f64>::ones((2, 4, 16, 16, 16));
/// let weights = Array5::<f64>::ones((8, 4, 3, 3, 3));
/// let spec = ConvSpec::correlation().padding(Padding::Explicit(vec![(1, 1), (1, 1), (0, 2)])).stride([2, 1, 1]);
/// let out = conv3d(&volume, &weights, &spec)?;
/// assert_eq!(out.shape(), &[2, 8, 8, 16, 16]);
/// assert_eq!(out[[0, 0, 3, 5, 5]], 4.0 * 27.0); // an interior voxel: every tap reads a one
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn conv3d<T, S1, S2>(
    input: &ArrayBase<S1, Ix5>,
    weights: &ArrayBase<S2, Ix5>,
    spec: &ConvSpec,
) -> Result<Array5<T>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    conv3d_with(input, weights, spec, Auto::shared())
}

/// [`conv3d`] computed by a chosen backend.
///
/// # Errors
/// As [`conv3d`], plus whatever the backend refuses.
pub fn conv3d_with<T, S1, S2>(
    input: &ArrayBase<S1, Ix5>,
    weights: &ArrayBase<S2, Ix5>,
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
) -> Result<Array5<T>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    let (output, resolved) =
        solve(input, input.shape(), weights, weights.shape(), spec, OperandRule::Layer, backend)?;
    shaped(&layer_output_shape(&resolved), output, "output")
}

/// Batched, multi-channel 1-D convolution layer: input `[N, C, W]`, weights `[O, C / groups, K]`,
/// output `[N, O, OW]` (`[N, W, C]` in, `[N, OW, O]` out with `Layout::ChannelsLast`), by the
/// backend [`Auto`] chooses (`conv1d_with(.., &Direct)` for the defining sum).
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
    let (output, resolved) =
        solve(input, input.shape(), weights, weights.shape(), spec, OperandRule::Layer, backend)?;
    shaped(&layer_output_shape(&resolved), output, "output")
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
    /// Prepares `backend` for inputs of shape `input_shape` (`[N, C, H, W]`, or `[N, H, W, C]`
    /// with a channels-last spec) and these weights.
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
        let kernel = row_major(weights)?;
        if spec.require_finite {
            check_finite(Operand::Kernel, &kernel)?;
        }
        let oriented = orient_kernel(&kernel, spec.kind, &resolved)?;
        let plan = backend.plan(&resolved.geometry, &oriented)?;
        Ok(PreparedConv2d {
            resolved,
            input_shape,
            require_finite: spec.require_finite,
            plan,
            padded: Scratch::new(Vec::new()),
        })
    }

    /// The output shape `[N, O, OH, OW]` (`[N, OH, OW, O]` with a channels-last spec).
    pub fn output_shape(&self) -> [usize; 4] {
        let shape = layer_output_shape(&self.resolved); // four values: the input is 4-D
        std::array::from_fn(|axis| shape.get(axis).copied().unwrap_or(1))
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
        let values = row_major(input)?;
        if self.require_finite {
            check_finite(Operand::Input, &values)?;
        }
        let geometry = self.resolved.geometry;
        let mut output = crate::buffers::filled(geometry.output_len(), T::zero(), "output")?;
        self.padded.with(Vec::new, |padded| {
            pad_input_into(&values, &self.resolved, padded)?;
            match self.resolved.layout {
                Layout::ChannelsFirst => self.plan.execute(padded, &mut output),
                Layout::ChannelsLast => self.plan.execute_channels_last(padded, &mut output),
            }
        })?;
        shaped(&layer_output_shape(&self.resolved), output, "output")
    }
}
