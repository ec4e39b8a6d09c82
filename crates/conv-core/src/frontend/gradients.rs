//! The backward pass of the layer calls: the gradients of a loss with respect to a `conv2d`'s
//! or `conv3d`'s input and weights, given the gradient with respect to its output (PyTorch's
//! `torch.nn.grad.conv2d_input`, `conv2d_weight`, `conv3d_input`, `conv3d_weight`), by any
//! backend.

use ndarray::{Array, Array4, Array5, ArrayBase, Data, Dimension, Ix4, Ix5};

use super::{check_finite, orient_kernel, pad_input_into, planes_and_pixel, resolve, row_major, shaped};
use crate::backend::{ConvBackend, with_thread_buffers};
use crate::boundary::{flip_planes, fold_padding};
use crate::error::{ConvError, Operand};
use crate::num::ConvNum;
use crate::spec::{ConvSpec, Kind, OperandRule, Resolved};

/// The gradient with respect to a [`conv2d`](crate::conv2d)'s input of shape `input_shape`
/// (`[N, C, H, W]`, or `[N, H, W, C]` with a channels-last spec) of a loss whose gradient with
/// respect to the output is `grad_output`, for these `weights` and `spec`: PyTorch's
/// `torch.nn.grad.conv2d_input`. Solved by `backend`'s
/// [`input_gradient`](ConvBackend::input_gradient); padding read from the input (`Reflect`,
/// `Circular`, ...) hands its gradient back to the samples it copied.
///
/// # Errors
/// The shape errors of [`conv2d`](crate::conv2d), [`ConvError::ShapeMismatch`] when
/// `grad_output` does not have the output's shape, and what the backend refuses.
///
/// # Examples
/// ```
/// use conv_core::{ConvSpec, Direct, conv2d_input_gradient};
/// use ndarray::{Array4, array};
/// // y = x0 + 2 x1 (a 1x2 kernel on a 1x3 image): dL/dx = [g0, 2 g0 + g1, 2 g1].
/// let weights = array![[[[1.0, 2.0]]]];
/// let grad_output = array![[[[1.0, 10.0]]]];
/// let grad = conv2d_input_gradient([1, 1, 1, 3], &weights, &grad_output, &ConvSpec::correlation(), &Direct)?;
/// assert_eq!(grad, array![[[[1.0, 12.0, 20.0]]]]);
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn conv2d_input_gradient<T, S1, S2>(
    input_shape: [usize; 4],
    weights: &ArrayBase<S1, Ix4>,
    grad_output: &ArrayBase<S2, Ix4>,
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
) -> Result<Array4<T>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    input_gradient(input_shape, weights, grad_output, spec, backend)
}

/// The gradient with respect to a [`conv2d`](crate::conv2d)'s weights (of shape
/// `weights_shape`, `[O, C / groups, KH, KW]`) of a loss whose gradient with respect to the
/// output is `grad_output`, given the layer's `input`: PyTorch's `torch.nn.grad.conv2d_weight`.
/// Solved by `backend`'s [`kernel_gradient`](ConvBackend::kernel_gradient) on the padded input.
///
/// # Errors
/// As [`conv2d_input_gradient`].
///
/// # Examples
/// ```
/// use conv_core::{ConvSpec, Direct, conv2d_kernel_gradient};
/// use ndarray::array;
/// // y[x] = w0 in[x] + w1 in[x + 1] on [1, 2, 3]: dL/dw = [g0 + 2 g1, 2 g0 + 3 g1].
/// let input = array![[[[1.0, 2.0, 3.0]]]];
/// let grad_output = array![[[[1.0, 10.0]]]];
/// let grad = conv2d_kernel_gradient(&input, [1, 1, 1, 2], &grad_output, &ConvSpec::correlation(), &Direct)?;
/// assert_eq!(grad, array![[[[21.0, 32.0]]]]);
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn conv2d_kernel_gradient<T, S1, S2>(
    input: &ArrayBase<S1, Ix4>,
    weights_shape: [usize; 4],
    grad_output: &ArrayBase<S2, Ix4>,
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
) -> Result<Array4<T>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    kernel_gradient(input, weights_shape, grad_output, spec, backend)
}

/// [`conv2d_input_gradient`] for a [`conv3d`](crate::conv3d): PyTorch's
/// `torch.nn.grad.conv3d_input` (`[N, C, D, H, W]`, or `[N, D, H, W, C]` channels last).
///
/// # Errors
/// As [`conv2d_input_gradient`].
pub fn conv3d_input_gradient<T, S1, S2>(
    input_shape: [usize; 5],
    weights: &ArrayBase<S1, Ix5>,
    grad_output: &ArrayBase<S2, Ix5>,
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
) -> Result<Array5<T>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    input_gradient(input_shape, weights, grad_output, spec, backend)
}

/// [`conv2d_kernel_gradient`] for a [`conv3d`](crate::conv3d): PyTorch's
/// `torch.nn.grad.conv3d_weight` (weights `[O, C / groups, KD, KH, KW]`).
///
/// # Errors
/// As [`conv2d_input_gradient`].
pub fn conv3d_kernel_gradient<T, S1, S2>(
    input: &ArrayBase<S1, Ix5>,
    weights_shape: [usize; 5],
    grad_output: &ArrayBase<S2, Ix5>,
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
) -> Result<Array5<T>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    kernel_gradient(input, weights_shape, grad_output, spec, backend)
}

/// The input gradient of a layer call of any rank (see [`conv2d_input_gradient`]).
fn input_gradient<T, S1, S2, D, const R: usize>(
    input_shape: [usize; R],
    weights: &ArrayBase<S1, D>,
    grad_output: &ArrayBase<S2, D>,
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
) -> Result<Array<T, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    let resolved = resolve::<T>(&input_shape, weights.shape(), spec, OperandRule::Layer)?;
    check_output_gradient(grad_output.shape(), &resolved)?;
    let (kernel, grad) = (row_major(weights)?, row_major(grad_output)?);
    if spec.require_finite {
        check_finite(Operand::Kernel, &kernel)?;
        check_finite(Operand::OutputGradient, &grad)?;
    }
    let oriented = orient_kernel(&kernel, spec.kind, &resolved)?;
    let g = resolved.geometry;
    let mut padded = crate::buffers::filled(g.input_len(), T::zero(), "input gradient")?;
    backend.input_gradient(&g, resolved.layout, &oriented, &grad, &mut padded)?;
    let unpadded = if resolved.pads_nothing() {
        padded
    } else {
        let (planes, pixel) = planes_and_pixel(&resolved);
        fold_padding(&padded, planes, resolved.unpadded_dims(), pixel, resolved.pads, resolved.boundary)?
    };
    shaped(&input_shape, unpadded, "input gradient")
}

/// The kernel gradient of a layer call of any rank (see [`conv2d_kernel_gradient`]).
fn kernel_gradient<T, S1, S2, D, const R: usize>(
    input: &ArrayBase<S1, D>,
    weights_shape: [usize; R],
    grad_output: &ArrayBase<S2, D>,
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
) -> Result<Array<T, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    let resolved = resolve::<T>(input.shape(), &weights_shape, spec, OperandRule::Layer)?;
    check_output_gradient(grad_output.shape(), &resolved)?;
    let (values, grad) = (row_major(input)?, row_major(grad_output)?);
    if spec.require_finite {
        check_finite(Operand::Input, &values)?;
        check_finite(Operand::OutputGradient, &grad)?;
    }
    let g = resolved.geometry;
    let mut kernel_grad = crate::buffers::filled(g.kernel_len(), T::zero(), "kernel gradient")?;
    if resolved.pads_nothing() {
        backend.kernel_gradient(&g, resolved.layout, &values, &grad, &mut kernel_grad)?;
    } else {
        with_thread_buffers(|(padded, _)| {
            pad_input_into(&values, &resolved, padded)?;
            backend.kernel_gradient(&g, resolved.layout, padded, &grad, &mut kernel_grad)
        })?;
    }
    if spec.kind == Kind::Convolution {
        // The gradient of the flipped kernel the backend saw, flipped back.
        flip_planes(&mut kernel_grad, g.kernel_plane());
    }
    shaped(&weights_shape, kernel_grad, "kernel gradient")
}

/// Refuses an output gradient whose shape is not the layer's output shape.
fn check_output_gradient(shape: &[usize], resolved: &Resolved) -> Result<(), ConvError> {
    let expected = super::layer_output_shape(resolved);
    if shape != expected {
        return Err(ConvError::ShapeMismatch {
            operand: Operand::OutputGradient,
            expected: expected.to_vec(),
            got: shape.to_vec(),
            context: "the layer's output",
        });
    }
    Ok(())
}
