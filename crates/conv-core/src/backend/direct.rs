//! The direct backend: the definition of the canonical problem, evaluated term by term.

use super::{ConvBackend, ConvProblem, check_len};
use crate::error::ConvError;
use crate::geometry::Geometry;
use crate::num::ConvNum;

/// Evaluates the defining sum directly: `O(N * O * OH * OW * Cg * KH * KW)` multiply-adds.
///
/// This is the reference oracle every other backend is tested against. It is written for
/// clarity: for each output row and each kernel tap it adds one scaled input row segment to the
/// output row, so the innermost loop runs over contiguous memory (stride 1) and vectorises.
///
/// It supports every problem and needs no memory beyond the output.
///
/// # Numerics
/// Each output is a plain sum of products in the element type, in the order channel, kernel
/// row, kernel column. NaN and infinity propagate as IEEE arithmetic says: a NaN input sample
/// makes NaN exactly the outputs whose window covers it (and a NaN kernel tap makes every output
/// of that kernel NaN).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Direct;

impl<T: ConvNum> ConvBackend<T> for Direct {
    fn name(&self) -> &str {
        "direct"
    }

    fn supports(&self, _geometry: &Geometry) -> Result<(), ConvError> {
        Ok(())
    }

    fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        let g = problem.geometry();
        check_len("output", g.output_len()?, output.len())?;
        output.fill(T::zero());
        let out_plane_len = g.output_plane();
        for (index, out_plane) in output.chunks_exact_mut(out_plane_len).enumerate() {
            let (n, o) = (index / g.out_channels, index % g.out_channels);
            let group = o / g.out_per_group();
            for c in 0..g.in_per_group() {
                let input = problem.input_plane(n, group * g.in_per_group() + c);
                accumulate_plane(g, out_plane, input, problem.kernel_plane(o, c));
            }
        }
        Ok(())
    }
}

/// `out_plane += valid_correlation(input_plane, kernel_plane)` for one channel pair.
fn accumulate_plane<T: ConvNum>(g: &Geometry, out_plane: &mut [T], input: &[T], kernel: &[T]) {
    let [rows, cols] = g.axes;
    for (y, out_row) in out_plane.chunks_exact_mut(cols.output).enumerate() {
        for ky in 0..rows.kernel {
            let input_row = y * rows.stride + ky * rows.dilation;
            let input_row = &input[input_row * cols.input..][..cols.input];
            for kx in 0..cols.kernel {
                let weight = kernel[ky * cols.kernel + kx];
                let segment = &input_row[kx * cols.dilation..];
                add_scaled(out_row, segment, weight, cols.stride);
            }
        }
    }
}

/// `out[i] += weight * segment[i * stride]` for every `i` of `out`.
fn add_scaled<T: ConvNum>(out: &mut [T], segment: &[T], weight: T, stride: usize) {
    if stride == 1 {
        for (acc, &x) in out.iter_mut().zip(segment) {
            *acc = *acc + weight * x;
        }
    } else {
        for (acc, &x) in out.iter_mut().zip(segment.iter().step_by(stride)) {
            *acc = *acc + weight * x;
        }
    }
}
