//! Filtering along chosen axes of a batch: `scipy.signal.fftconvolve(in1, in2, mode, axes=...)`
//! (and `oaconvolve`'s `axes`), as [`convolve_along`] and [`correlate_along`].
//!
//! The filtered axes (one to three) become the canonical problem's spatial axes and every other
//! axis of the input becomes its batch: one kernel, many signals, one backend call.

use ndarray::{Array, ArrayBase, Data, Dimension, IxDyn};

use super::signals::in_caller_shapes;
use super::{resolve, row_major, shaped, solve_resolved};
use crate::backend::ConvBackend;
use crate::error::{ConvError, Operand};
use crate::geometry::{SPATIAL_AXES, checked_product};
use crate::num::ConvNum;
use crate::planner::Auto;
use crate::spec::{ConvSpec, Mode, OperandRule};

/// Convolves `in1` with `in2` along `axes` only, like
/// `scipy.signal.fftconvolve(in1, in2, mode, axes=axes)`: every other axis of `in1` is a batch
/// of independent signals, and `in2` has size 1 on those axes (one kernel for all of them).
/// Modes, the centring of `Same` and `Valid` with the larger operand second are scipy's, per
/// filtered axis. The output has `in1`'s shape on the other axes.
///
/// The backend is the one [`Auto`] chooses for the whole batch; [`convolve_along_with`] takes
/// one.
///
/// # Errors
/// [`ConvError::RankMismatch`] for operands of different ranks; [`ConvError::Axes`] for no
/// axes, more than three, repeated axes or an axis past the last; [`ConvError::KernelNotBroadcast`]
/// when `in2` is longer than 1 on an axis that is not filtered; otherwise as
/// [`convolve`](crate::convolve) (empty operands, `Valid` shapes, sizes over the cap).
///
/// # Examples
/// ```
/// use conv_core::{convolve_along, Mode};
/// use ndarray::{array, Array2};
/// // Three signals (rows), each smoothed along axis 1 by the same 3-tap kernel.
/// let signals = array![[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 1.0, 0.0], [5.0, 5.0, 5.0, 5.0]];
/// let kernel = array![[0.25, 0.5, 0.25]];
/// let smoothed = convolve_along(&signals, &kernel, Mode::Same, &[1])?;
/// assert_eq!(smoothed.row(1), array![0.0, 0.25, 0.5, 0.25]);
/// assert_eq!(smoothed.shape(), &[3, 4]);
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn convolve_along<T, S1, S2, D>(
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    mode: Mode,
    axes: &[usize],
) -> Result<Array<T, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    convolve_along_with(in1, in2, mode, axes, Auto::shared())
}

/// [`convolve_along`] computed by a chosen backend.
///
/// # Errors
/// As [`convolve_along`], plus whatever the backend refuses.
pub fn convolve_along_with<T, S1, S2, D>(
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    mode: Mode,
    axes: &[usize],
    backend: &dyn ConvBackend<T>,
) -> Result<Array<T, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    along_call(in1, in2, &ConvSpec::convolution().mode(mode), axes, backend)
}

/// Correlates `in1` with `in2` along `axes` only (the kernel not flipped); as [`convolve_along`].
///
/// # Errors
/// As [`convolve_along`].
pub fn correlate_along<T, S1, S2, D>(
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    mode: Mode,
    axes: &[usize],
) -> Result<Array<T, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    correlate_along_with(in1, in2, mode, axes, Auto::shared())
}

/// [`correlate_along`] computed by a chosen backend.
///
/// # Errors
/// As [`convolve_along`], plus whatever the backend refuses.
pub fn correlate_along_with<T, S1, S2, D>(
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    mode: Mode,
    axes: &[usize],
    backend: &dyn ConvBackend<T>,
) -> Result<Array<T, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    along_call(in1, in2, &ConvSpec::correlation().mode(mode), axes, backend)
}

/// Checks `axes` against arrays of `rank` axes: one to [`SPATIAL_AXES`] of them, distinct, each
/// an axis of the arrays.
fn check_axes(axes: &[usize], rank: usize) -> Result<(), ConvError> {
    let refuse = |reason: &'static str| Err(ConvError::Axes { axes: axes.to_vec(), rank, reason });
    if axes.is_empty() || axes.len() > SPATIAL_AXES {
        return refuse("filter along one, two or three axes");
    }
    if axes.iter().any(|&axis| axis >= rank) {
        return refuse("an axis past the last one");
    }
    if axes.iter().enumerate().any(|(i, axis)| axes[..i].contains(axis)) {
        return refuse("an axis named twice");
    }
    Ok(())
}

/// The engine of the `*_along` calls: the other axes of `in1` moved in front (in their order)
/// as the batch, the filtered axes after them (in the order given), one canonical problem,
/// and the output's axes put back in `in1`'s order.
fn along_call<T, S1, S2, D>(
    in1: &ArrayBase<S1, D>,
    in2: &ArrayBase<S2, D>,
    spec: &ConvSpec,
    axes: &[usize],
    backend: &dyn ConvBackend<T>,
) -> Result<Array<T, D>, ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    let (shape1, shape2) = (in1.shape(), in2.shape());
    if shape1.len() != shape2.len() {
        return Err(ConvError::RankMismatch { input: shape1.to_vec(), kernel: shape2.to_vec() });
    }
    let rank = shape1.len();
    check_axes(axes, rank)?;
    let others: Vec<usize> = (0..rank).filter(|axis| !axes.contains(axis)).collect();
    if let Some(&axis) = others.iter().find(|&&axis| shape2[axis] != 1) {
        return Err(ConvError::KernelNotBroadcast {
            axis,
            size: shape2[axis],
            input: shape1.to_vec(),
            kernel: shape2.to_vec(),
        });
    }
    for (operand, shape) in [(Operand::Input, shape1), (Operand::Kernel, shape2)] {
        if shape.contains(&0) {
            return Err(ConvError::Empty { operand, shape: shape.to_vec() });
        }
    }
    let batch = checked_product(others.iter().map(|&axis| shape1[axis]), "batch of signals")?;
    let spatial1: Vec<usize> = axes.iter().map(|&axis| shape1[axis]).collect();
    let spatial2: Vec<usize> = axes.iter().map(|&axis| shape2[axis]).collect();
    let input_shape: Vec<usize> = [batch, 1].into_iter().chain(spatial1.iter().copied()).collect();
    let kernel_shape: Vec<usize> = [1, 1].into_iter().chain(spatial2.iter().copied()).collect();
    let spec = ConvSpec { groups: 1, ..spec.clone() };
    let in_caller_terms = |error| in_caller_shapes(error, shape1, shape2);
    // Every size is checked against the cap before anything is copied.
    let resolved =
        resolve::<T>(&input_shape, &kernel_shape, &spec, OperandRule::Scipy).map_err(in_caller_terms)?;
    let order: Vec<usize> = others.iter().chain(axes).copied().collect();
    let moved = in1.view().into_dyn().permuted_axes(IxDyn(&order));
    let kernel = in2.view().into_dyn().permuted_axes(IxDyn(&order));
    let output = solve_resolved(&row_major(&moved)?, &row_major(&kernel)?, &resolved, &spec, backend)
        .map_err(in_caller_terms)?;
    // `[others..., filtered outputs...]`, then each axis back where it came from.
    let out_moved: Vec<usize> =
        others.iter().map(|&axis| shape1[axis]).chain(resolved.caller_output_dims()).collect();
    let arranged = shaped::<T, IxDyn>(&out_moved, output, "output")?;
    let mut inverse = vec![0; rank];
    for (position, &axis) in order.iter().enumerate() {
        inverse[axis] = position;
    }
    let restored = arranged.permuted_axes(IxDyn(&inverse));
    let values = crate::buffers::collect(restored.iter().copied(), "output")?;
    shaped(restored.shape(), values, "output")
}
