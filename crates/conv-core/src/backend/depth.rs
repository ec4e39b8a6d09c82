//! Depth lowering: a volume problem solved as planar problems, for the backends whose algorithm
//! is planar (im2col's patch matrix, Winograd's tiles).
//!
//! Output slice `z` of a volume correlation sums, over the kernel's slices `h`, the planar
//! correlations of input slice `z * sd + h * dd` with kernel slice `h`. That is one planar
//! problem whose channels are the `(channel, kernel slice)` pairs: `C * KD` input channels, the
//! same kernel buffer read as `[O, Cg * KD, KH, KW]` (its memory order is already
//! `[O, Cg, KD, KH, KW]`), and one batch item per `(n, z)`. For im2col this is exactly the
//! volume-to-columns matrix: its rows are the taps `(c, h, i, j)`. The lowered input repeats
//! each input slice up to `KD / sd` times, so output slices are taken a few at a time, the
//! lowered input staying under a cap.

use super::{ConvBackend, ConvProblem, check_buffer_len};
use crate::error::ConvError;
use crate::geometry::{AxisGeometry, Geometry, check_bytes, checked_product};
use crate::num::ConvNum;

/// The planar problem of `slices` output slices of each batch item of the volume problem `g`.
///
/// # Errors
/// [`ConvError::Overflow`] when a count of the lowered problem overflows.
pub(crate) fn lowered_geometry(g: &Geometry, slices: usize) -> Result<Geometry, ConvError> {
    let [depth, rows, cols] = g.axes();
    let batch = checked_product([g.batch(), slices], "lowered batch")?;
    let channels = checked_product([g.in_channels(), depth.kernel], "lowered channels")?;
    Geometry::new(batch, channels, g.out_channels(), g.groups(), [AxisGeometry::TRIVIAL, rows, cols])
}

/// Output slices per lowered problem: as many as keep the lowered input under `cap_bytes`
/// (at least one, whose own size the caller's check of [`lowered_geometry`] bounds).
pub(crate) fn slices_per_call<T>(g: &Geometry, cap_bytes: usize) -> Result<usize, ConvError> {
    let [depth, rows, cols] = g.axes();
    let per_slice =
        checked_product([g.batch(), g.in_channels(), depth.kernel, rows.input, cols.input], "lowered input")?;
    check_bytes(per_slice, size_of::<T>(), cap_bytes, "lowered input (one output slice)")?;
    Ok((cap_bytes / per_slice.saturating_mul(size_of::<T>()).max(1)).clamp(1, depth.output))
}

/// Solves the volume problem `problem` into `output` with `backend`'s planar algorithm, a few
/// output slices at a time (the lowered input of each call under `cap_bytes`).
///
/// # Errors
/// [`ConvError::TooLarge`] when one output slice's lowered input is over the cap,
/// [`ConvError::BufferLength`] for an output of the wrong length, allocation failures, and what
/// the backend refuses in the lowered problem.
pub(crate) fn solve_by_depth_lowering<T: ConvNum, B: ConvBackend<T> + ?Sized>(
    backend: &B,
    problem: &ConvProblem<'_, T>,
    output: &mut [T],
    cap_bytes: usize,
) -> Result<(), ConvError> {
    let g = problem.geometry();
    check_buffer_len("output", g.output_len(), output.len())?;
    let [depth, rows, cols] = g.axes();
    let chunk = slices_per_call::<T>(g, cap_bytes)?;
    let (slice_in, slice_out) = (rows.input * cols.input, rows.output * cols.output);
    let (mut lowered, mut result) = (Vec::new(), Vec::new());
    for z0 in (0..depth.output).step_by(chunk) {
        let count = chunk.min(depth.output - z0);
        let planar = lowered_geometry(g, count)?;
        crate::buffers::resize(&mut lowered, planar.input_len(), T::zero(), "lowered input")?;
        // Item (n, z): for each channel c and kernel slice h, input slice z * sd + h * dd.
        let mut targets = lowered.chunks_exact_mut(slice_in);
        for n in 0..g.batch() {
            for z in z0..z0 + count {
                for c in 0..g.in_channels() {
                    let channel = problem.input_plane(n, c).unwrap_or_default();
                    for h in 0..depth.kernel {
                        let slice = z * depth.stride + h * depth.dilation;
                        if let (Some(target), Some(source)) =
                            (targets.next(), channel.get(slice * slice_in..).and_then(|s| s.get(..slice_in)))
                        {
                            target.copy_from_slice(source);
                        }
                    }
                }
            }
        }
        crate::buffers::resize(&mut result, planar.output_len(), T::zero(), "lowered output")?;
        backend.execute(&ConvProblem::new(planar, &lowered, problem.kernel())?, &mut result)?;
        // Result item (n, z - z0), plane o, is output slice z of output plane (n, o).
        for (item, values) in result.chunks_exact(g.out_channels() * slice_out).enumerate() {
            let (n, z) = (item / count, z0 + item % count);
            for (o, plane) in values.chunks_exact(slice_out).enumerate() {
                let start = ((n * g.out_channels() + o) * depth.output + z) * slice_out;
                output[start..][..slice_out].copy_from_slice(plane);
            }
        }
    }
    Ok(())
}
