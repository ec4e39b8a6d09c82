//! The two gradients of a convolution layer's training step, written as convolutions any
//! backend solves: the defaults of [`ConvBackend::input_gradient`] and
//! [`ConvBackend::kernel_gradient`].
//!
//! With `y = x ⋆ w` the canonical problem (valid, stride `s`, dilation `d`, groups) and `G` the
//! gradient of a loss with respect to `y`:
//! - the **input gradient** is the output gradient spread out by the stride (`s - 1` zeros
//!   between samples), padded by the dilated kernel's span less one, and correlated with the
//!   kernel rotated by 180° whose two channel axes are swapped within each group: a stride-1
//!   problem with `O` input and `C` output channels;
//! - the **kernel gradient** of group `g` is the input correlated with the output gradient used
//!   as the kernel: a problem whose batch is the group's `C / groups` input channels, whose
//!   channels are the `N` batch items, with stride `d` and dilation `s` (the roles of the two
//!   swap), giving the `KD x KH x KW` taps of every (input channel, filter) pair.

use super::{ConvBackend, ConvProblem, check_buffer_len};
use crate::error::ConvError;
use crate::geometry::{AxisGeometry, Geometry, SPATIAL_AXES};
use crate::num::ConvNum;
use crate::spec::Layout;

/// Where value `(n, c, position)` of an `[N, C, positions]` tensor sits in `layout`.
fn offset(layout: Layout, channels: usize, positions: usize, n: usize, c: usize, position: usize) -> usize {
    match layout {
        Layout::ChannelsFirst => (n * channels + c) * positions + position,
        Layout::ChannelsLast => (n * positions + position) * channels + c,
    }
}

/// The geometry of the input-gradient problem of `g`: stride 1, the spread and padded output
/// gradient as input (`O` channels), the rotated kernel bank (`C` filters), output the padded
/// input's size.
///
/// # Errors
/// [`ConvError::Overflow`] when a length of the new problem overflows.
pub(crate) fn input_gradient_geometry(g: &Geometry) -> Result<Geometry, ConvError> {
    let mut axes = [AxisGeometry::TRIVIAL; SPATIAL_AXES];
    for (index, (axis, new)) in g.axes().iter().zip(&mut axes).enumerate() {
        let span = axis.effective_kernel();
        // The spread gradient, `(OH - 1) * s + 1`, padded by `span - 1` on both sides, plus the
        // input samples after the last window (`remainder`), read by no output.
        let spread = (axis.output - 1) * axis.stride + 1;
        let remainder = axis.input - (spread - 1 + span);
        let length = (span - 1)
            .checked_mul(2)
            .and_then(|pad| pad.checked_add(spread))
            .and_then(|l| l.checked_add(remainder))
            .ok_or(ConvError::Overflow { what: "input-gradient problem" })?;
        *new = AxisGeometry::new(index, length, axis.kernel, 1, axis.dilation)?;
    }
    Geometry::new(g.batch(), g.out_channels(), g.in_channels(), g.groups(), axes)
}

/// [`ConvBackend::input_gradient`] by default: the gradient with respect to the padded input
/// (`[N, C, H, W]`, or `[N, H, W, C]` channels last) of a loss whose gradient with respect to
/// the output is `grad_output`, solved by `backend` as the stride-1 correlation described in
/// the module documentation.
///
/// # Errors
/// What the backend reports, [`ConvError::BufferLength`] for slices
/// of the wrong length, [`ConvError::OutOfMemory`] for the spread gradient.
pub fn input_gradient_by_correlation<T: ConvNum, B: ConvBackend<T> + ?Sized>(
    backend: &B,
    g: &Geometry,
    layout: Layout,
    kernel: &[T],
    grad_output: &[T],
    grad_input: &mut [T],
) -> Result<(), ConvError> {
    let problem = input_gradient_geometry(g)?;
    check_buffer_len("kernel", g.kernel_len(), kernel.len())?;
    check_buffer_len("output gradient", g.output_len(), grad_output.len())?;
    check_buffer_len("input gradient", g.input_len(), grad_input.len())?;
    let [depth, rows, cols] = g.axes();
    let [_, spread_rows, spread_cols] = problem.axes();
    let (o_count, out_positions) = (g.out_channels(), g.output_plane());
    let spread_positions = problem.input_plane();
    let mut spread = crate::buffers::filled(problem.input_len(), T::zero(), "spread output gradient")?;
    // Output gradient sample (oz, oy, ox) goes to spread position
    // (first_z + oz * sd, first_y + oy * sh, first_x + ox * sw); output row r is (oz, oy).
    let first = g.axes().map(|axis| axis.effective_kernel() - 1);
    let spread_row_start = |r: usize| {
        let (oz, oy) = (r / rows.output, r % rows.output);
        let (z, y) = (first[0] + oz * depth.stride, first[1] + oy * rows.stride);
        (z * spread_rows.input + y) * spread_cols.input + first[2]
    };
    match layout {
        Layout::ChannelsLast => {
            // Each output position's O values are contiguous on both sides.
            for (image, target) in grad_output
                .chunks_exact(out_positions * o_count)
                .zip(spread.chunks_exact_mut(spread_positions * o_count))
            {
                for (r, row) in image.chunks_exact(cols.output * o_count).enumerate() {
                    let start = spread_row_start(r);
                    for (ox, pixel) in row.chunks_exact(o_count).enumerate() {
                        let x = start + ox * cols.stride;
                        target[x * o_count..][..o_count].copy_from_slice(pixel);
                    }
                }
            }
        }
        Layout::ChannelsFirst => {
            for (plane, target) in
                grad_output.chunks_exact(out_positions).zip(spread.chunks_exact_mut(spread_positions))
            {
                for (r, row) in plane.chunks_exact(cols.output).enumerate() {
                    let start = spread_row_start(r);
                    target[start..].iter_mut().step_by(cols.stride).zip(row).for_each(|(t, &v)| *t = v);
                }
            }
        }
    }
    // Filter c of the new problem (in group q) reads the group's filters, rotated by 180°.
    let (c_group, o_group, taps) = (g.in_per_group(), g.out_per_group(), g.kernel_plane());
    let mut rotated = crate::buffers::filled(kernel.len(), T::zero(), "rotated kernel")?;
    for q in 0..g.groups() {
        for c in 0..c_group {
            for o in 0..o_group {
                let source = &kernel[((q * o_group + o) * c_group + c) * taps..][..taps];
                let target = &mut rotated[((q * c_group + c) * o_group + o) * taps..][..taps];
                target.iter_mut().zip(source.iter().rev()).for_each(|(t, &s)| *t = s);
            }
        }
    }
    let problem = ConvProblem::new(problem, &spread, &rotated)?;
    match layout {
        Layout::ChannelsFirst => backend.execute(&problem, grad_input),
        Layout::ChannelsLast => backend.execute_channels_last(&problem, grad_input),
    }
}

/// The geometry of the kernel-gradient problem of one group of `g` (see the module
/// documentation): batch `C / groups`, `N` channels, `O / groups` filters of the output
/// gradient's size, stride `d`, dilation `s`, output `KD x KH x KW`.
///
/// # Errors
/// What [`Geometry::new`] refuses in the new problem.
pub(crate) fn kernel_gradient_geometry(g: &Geometry) -> Result<Geometry, ConvError> {
    let mut axes = [AxisGeometry::TRIVIAL; SPATIAL_AXES];
    for (index, (axis, new)) in g.axes().iter().zip(&mut axes).enumerate() {
        // The input samples some window reads: the rest (after the last window) have no gradient.
        let used = (axis.output - 1) * axis.stride + axis.effective_kernel();
        *new = AxisGeometry::new(index, used, axis.output, axis.dilation, axis.stride)?;
    }
    Geometry::new(g.in_per_group(), g.batch(), g.out_per_group(), 1, axes)
}

/// [`ConvBackend::kernel_gradient`] by default: the gradient with respect to the kernel bank
/// (`[O, C / groups, KH, KW]`) of a loss whose gradient with respect to the output is
/// `grad_output`, given the padded `input` (both in `layout`), solved by `backend` one group at a
/// time as the correlation described in the module documentation.
///
/// # Errors
/// What the backend reports, [`ConvError::BufferLength`] for slices
/// of the wrong length, [`ConvError::OutOfMemory`] for the rearranged operands.
pub fn kernel_gradient_by_correlation<T: ConvNum, B: ConvBackend<T> + ?Sized>(
    backend: &B,
    g: &Geometry,
    layout: Layout,
    input: &[T],
    grad_output: &[T],
    grad_kernel: &mut [T],
) -> Result<(), ConvError> {
    let problem = kernel_gradient_geometry(g)?;
    check_buffer_len("input", g.input_len(), input.len())?;
    check_buffer_len("output gradient", g.output_len(), grad_output.len())?;
    check_buffer_len("kernel gradient", g.kernel_len(), grad_kernel.len())?;
    let [used_depth, used_rows, used_cols] = problem.axes();
    let [_, rows, cols] = g.axes();
    let (c_group, o_group, taps) = (g.in_per_group(), g.out_per_group(), g.kernel_plane());
    let out_positions = g.output_plane();
    let mut images = crate::buffers::filled(problem.input_len(), T::zero(), "rearranged input")?;
    let mut gradients = crate::buffers::filled(problem.kernel_len(), T::zero(), "rearranged gradient")?;
    let mut taps_out = crate::buffers::filled(problem.output_len(), T::zero(), "kernel gradient")?;
    for q in 0..g.groups() {
        // images[c, n, z, y, x] = input[n, q*Cg + c, z, y, x] over the samples some window reads.
        let mut target = images.iter_mut();
        for c in 0..c_group {
            for n in 0..g.batch() {
                for z in 0..used_depth.input {
                    for y in 0..used_rows.input {
                        for x in 0..used_cols.input {
                            let position = (z * rows.input + y) * cols.input + x;
                            let from = offset(
                                layout,
                                g.in_channels(),
                                g.input_plane(),
                                n,
                                q * c_group + c,
                                position,
                            );
                            if let Some(value) = target.next() {
                                *value = input[from];
                            }
                        }
                    }
                }
            }
        }
        // gradients[o, n, p] = grad_output[n, q*Og + o, p].
        for o in 0..o_group {
            for n in 0..g.batch() {
                for p in 0..out_positions {
                    gradients[(o * g.batch() + n) * out_positions + p] =
                        grad_output[offset(layout, g.out_channels(), out_positions, n, q * o_group + o, p)];
                }
            }
        }
        backend.execute(&ConvProblem::new(problem, &images, &gradients)?, &mut taps_out)?;
        // taps_out[c, o, i, j] is the gradient of kernel[q*Og + o, c, i, j].
        for c in 0..c_group {
            for o in 0..o_group {
                let source = &taps_out[(c * o_group + o) * taps..][..taps];
                grad_kernel[((q * o_group + o) * c_group + c) * taps..][..taps].copy_from_slice(source);
            }
        }
    }
    Ok(())
}
