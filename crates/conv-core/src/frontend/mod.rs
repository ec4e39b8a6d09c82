//! The user-facing calls. Each one normalises its request (padding, boundary fill, kernel flip)
//! into the canonical problem and hands it to a backend: `signals.rs` holds the scipy-style
//! calls on one signal or image, `layers.rs` the batched layer calls; this file the solving
//! they share.

mod along;
mod bands;
mod gradients;
mod layers;
mod signals;
#[cfg(test)]
mod tests;

pub use along::{convolve_along, convolve_along_with, correlate_along, correlate_along_with};
pub use gradients::{
    conv2d_input_gradient, conv2d_kernel_gradient, conv3d_input_gradient, conv3d_kernel_gradient,
};
pub use layers::{PreparedConv2d, conv1d, conv1d_with, conv2d, conv2d_with, conv3d, conv3d_with};
pub(crate) use signals::{canonical_shape, check_signal_ranks, in_caller_shapes, signal_pairs};
pub use signals::{
    convolve, convolve_with, convolve2d, convolve2d_with, correlate, correlate_with, correlate2d,
    correlate2d_with, filter_with,
};

use ndarray::{Array, ArrayBase, Data, Dimension};

use crate::backend::with_thread_buffers;
use crate::backend::{ConvBackend, ConvProblem};
use crate::boundary::{extend_padded_positions, flip_planes, pad_planes_into};
use crate::error::{ConvError, Operand};
use crate::geometry::{AxisGeometry, EdgeSplit};
use crate::num::ConvNum;
use crate::spec::{Boundary, ConvSpec, Kind, Layout, OperandRule, Resolved};

/// Solves one request: `input` holds `[N, C, spatial...]` values (`input_shape`; `[N,
/// spatial..., C]` in a channels-last spec), `kernel` `[O, C/groups, spatial...]`
/// (`kernel_shape`), in row-major order whatever the arrays' own shapes and strides. Returns
/// the `[N, O, OH, OW]` output (`[N, OH, OW, O]` channels last) and the resolved problem.
///
/// Every size is checked against the cap (by resolving the request) before an operand is
/// copied: a view or broadcast of 10^12 elements is refused, not copied.
fn solve<T, S1, D1, S2, D2>(
    input: &ArrayBase<S1, D1>,
    input_shape: &[usize],
    kernel: &ArrayBase<S2, D2>,
    kernel_shape: &[usize],
    spec: &ConvSpec,
    rule: OperandRule,
    backend: &dyn ConvBackend<T>,
) -> Result<(Vec<T>, Resolved), ConvError>
where
    T: ConvNum,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D1: Dimension,
    D2: Dimension,
{
    let resolved = resolve::<T>(input_shape, kernel_shape, spec, rule)?;
    let output = solve_resolved(&row_major(input)?, &row_major(kernel)?, &resolved, spec, backend)?;
    Ok((output, resolved))
}

/// Resolves a request for element type `T`: every size checked against the cap, and the fill
/// value checked, from the shapes alone (nothing is copied yet).
fn resolve<T: ConvNum>(
    input_shape: &[usize],
    kernel_shape: &[usize],
    spec: &ConvSpec,
    rule: OperandRule,
) -> Result<Resolved, ConvError> {
    let resolved = spec.resolve_with(input_shape, kernel_shape, rule, size_of::<T>())?;
    check_fill_value::<T>(spec)?;
    Ok(resolved)
}

/// Solves a resolved request on row-major operands (see [`solve`]).
fn solve_resolved<T: ConvNum>(
    input: &[T],
    kernel: &[T],
    resolved: &Resolved,
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
) -> Result<Vec<T>, ConvError> {
    if spec.require_finite {
        check_finite(Operand::Input, input)?;
        check_finite(Operand::Kernel, kernel)?;
    }
    let geometry = resolved.geometry;
    backend.supports(&geometry)?;
    let oriented = orient_kernel(kernel, spec.kind, resolved)?;
    let mut output = crate::buffers::filled(geometry.output_len(), T::zero(), "output")?;
    let execute = |problem: &ConvProblem<'_, T>, output: &mut [T]| match resolved.layout {
        Layout::ChannelsFirst => backend.execute(problem, output),
        Layout::ChannelsLast => backend.execute_channels_last(problem, output),
    };
    if resolved.pads_nothing() {
        // Nothing to pad: the backend reads the caller's array itself.
        let unpadded = input.get(..geometry.input_len()).unwrap_or(input);
        execute(&ConvProblem::new(geometry, unpadded, &oriented)?, &mut output)?;
    } else if let Some(split) = worth_splitting_at_edges(resolved) {
        solve_by_edges(input, resolved, split, &oriented, backend, &mut output)?;
    } else if let Some(bands) = bands::worth_solving_in_bands(resolved) {
        bands::solve_in_bands(input, resolved, bands, &oriented, backend, &mut output)?;
    } else {
        // The padded copy lives in a buffer the thread keeps, so repeated calls do not fault in
        // fresh pages for it each time.
        with_thread_buffers(|(padded, _)| {
            pad_input_into(input, resolved, padded)?;
            execute(&ConvProblem::new(geometry, padded, &oriented)?, &mut output)
        })?;
    }
    Ok(output)
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
    let [depth, rows, cols] = g.axes();
    if g.batch() * g.out_channels() != 1
        || depth.input != 1
        || rows.input != 1
        || resolved.pads[..2] != [(0, 0); 2]
        || resolved.layout != Layout::ChannelsFirst
    {
        return None;
    }
    let split = cols.edge_split(resolved.pads[2])?;
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
    let (before, after) = resolved.pads[2];
    let width = geometry.axes()[2].input - before - after;
    let planes = geometry.in_channels(); // one signal: N = 1
    let (leading_out, rest) = output.split_at_mut(split.leading);
    let (interior_out, trailing_out) = rest.split_at_mut(split.interior);
    let cols = geometry.axes()[2];
    let interior = geometry.with_axis(2, AxisGeometry { input: width, output: split.interior, ..cols })?;
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
                extend_padded_positions(row, before, reads.clone(), resolved.boundary, piece)?;
            }
            let edge =
                geometry.with_axis(2, AxisGeometry { input: reads.len(), output: edge_out.len(), ..cols })?;
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
    kernel: &[T],
    kind: Kind,
    resolved: &Resolved,
) -> Result<(Vec<T>, Vec<T>), ConvError> {
    let mut padded = Vec::new();
    pad_input_into(input, resolved, &mut padded)?;
    Ok((padded, orient_kernel(kernel, kind, resolved)?))
}

/// The input padded by the boundary rule into `padded` (cleared first; its allocation is reused),
/// in the request's layout.
///
/// # Errors
/// [`ConvError::OutOfMemory`] when the allocator refuses the padded buffer.
fn pad_input_into<T: ConvNum>(
    input: &[T],
    resolved: &Resolved,
    padded: &mut Vec<T>,
) -> Result<(), ConvError> {
    let (planes, pixel) = planes_and_pixel(resolved);
    pad_planes_into(input, planes, resolved.unpadded_dims(), pixel, resolved.pads, resolved.boundary, padded)
}

/// Planes of the padded input and values per position: `(N * C, 1)` channels first, `(N, C)`
/// channels last.
fn planes_and_pixel(resolved: &Resolved) -> (usize, usize) {
    let g = &resolved.geometry;
    match resolved.layout {
        Layout::ChannelsFirst => (g.batch() * g.in_channels(), 1),
        Layout::ChannelsLast => (g.batch(), g.in_channels()),
    }
}

/// The output shape of a resolved layer request of any rank, in its layout: `[N, O, spatial...]`
/// or `[N, spatial..., O]`, the caller's spatial axes only.
fn layer_output_shape(resolved: &Resolved) -> Vec<usize> {
    let g = &resolved.geometry;
    let channels_first: Vec<usize> =
        [g.batch(), g.out_channels()].into_iter().chain(resolved.caller_output_dims()).collect();
    resolved.layout.from_channels_first(&channels_first)
}

/// `values` as an array of `shape` in dimension `D` (`what` names it in the error, which the
/// callers' own length arithmetic rules out).
fn shaped<T, D: Dimension>(
    shape: &[usize],
    values: Vec<T>,
    what: &'static str,
) -> Result<Array<T, D>, ConvError> {
    let got = values.len();
    let wrong = || ConvError::BufferLength { what, expected: shape.iter().product(), got };
    let dim = D::from_dimension(&ndarray::IxDyn(shape)).ok_or_else(wrong)?;
    Array::from_shape_vec(dim, values).map_err(|_| wrong())
}

/// The kernel in correlation orientation: flipped for a convolution.
fn orient_kernel<T: ConvNum>(kernel: &[T], kind: Kind, resolved: &Resolved) -> Result<Vec<T>, ConvError> {
    let mut oriented = crate::buffers::collect(kernel.iter().copied(), "kernel")?;
    if kind == Kind::Convolution {
        flip_planes(&mut oriented, resolved.geometry.kernel_plane());
    }
    Ok(oriented)
}

/// A `Boundary::Constant` fill value must be representable in `T` (1e300 is infinity in f32),
/// and finite when the spec asks for finite values.
fn check_fill_value<T: ConvNum>(spec: &ConvSpec) -> Result<(), ConvError> {
    let Boundary::Constant(value) = spec.boundary else {
        return Ok(());
    };
    if value.is_finite() && !T::from_f64_lossy(value).is_finite() {
        return Err(ConvError::InvalidParameter {
            name: "Boundary::Constant",
            value,
            reason: "the fill value does not fit the element type (it would become infinity)",
        });
    }
    if spec.require_finite && !value.is_finite() {
        return Err(ConvError::InvalidParameter {
            name: "Boundary::Constant",
            value,
            reason: "require_finite(true) refuses a non-finite fill value",
        });
    }
    Ok(())
}

fn check_finite<T: ConvNum>(operand: Operand, values: &[T]) -> Result<(), ConvError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(ConvError::NonFinite { operand, index, value: values[index].to_f64_lossy() }),
        None => Ok(()),
    }
}

/// A contiguous row-major copy of an array (borrowed when it already is one).
///
/// # Errors
/// [`ConvError::OutOfMemory`] when the allocator refuses the copy.
fn row_major<S: Data, D: Dimension>(
    array: &ArrayBase<S, D>,
) -> Result<std::borrow::Cow<'_, [S::Elem]>, ConvError>
where
    S::Elem: Clone,
{
    Ok(match array.as_slice() {
        Some(slice) => std::borrow::Cow::Borrowed(slice),
        None => std::borrow::Cow::Owned(crate::buffers::collect(array.iter().cloned(), "contiguous copy")?),
    })
}
