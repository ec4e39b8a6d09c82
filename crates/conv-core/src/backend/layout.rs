//! Channels-last storage for any backend: the trait's default answer to
//! [`ConvBackend::execute_channels_last`], by transposing to channels first and back.

use super::{ConvBackend, ConvPlan, ConvProblem, check_buffer_len};
use crate::error::ConvError;
use crate::geometry::Geometry;
use crate::num::ConvNum;

/// Solves `problem` (input `[N, H, W, C]`) into `output` (`[N, OH, OW, O]`) through `backend`'s
/// channels-first [`execute`](ConvBackend::execute): the input is transposed to `[N, C, H, W]`,
/// solved, and the `[N, O, OH, OW]` result transposed into `output`. This is what
/// [`ConvBackend::execute_channels_last`] does unless a backend overrides it.
///
/// # Errors
/// Whatever the backend's `execute` returns, [`ConvError::BufferLength`] if `output` does not
/// hold `N * OH * OW * O` values, [`ConvError::OutOfMemory`] for the transposed copies.
pub fn solve_through_channels_first<T: ConvNum, B: ConvBackend<T> + ?Sized>(
    backend: &B,
    problem: &ConvProblem<'_, T>,
    output: &mut [T],
) -> Result<(), ConvError> {
    let g = *problem.geometry();
    through_channels_first(&g, problem.input(), output, |input, result| {
        backend.execute(&ConvProblem::new(g, input, problem.kernel())?, result)
    })
}

/// [`ConvPlan::execute_channels_last`] by default: `input` (`[N, H, W, C]`) transposed to channels
/// first, solved by the plan's [`execute`](ConvPlan::execute), the result transposed into
/// `output` (`[N, OH, OW, O]`).
pub(crate) fn plan_through_channels_first<T: ConvNum, P: ConvPlan<T> + ?Sized>(
    plan: &P,
    input: &[T],
    output: &mut [T],
) -> Result<(), ConvError> {
    through_channels_first(plan.geometry(), input, output, |input, result| plan.execute(input, result))
}

/// The transposes both defaults share: `input` (`[N, H, W, C]` of `g`) to channels first, `solve`
/// on it into a channels-first result, that result into `output` (`[N, OH, OW, O]`).
fn through_channels_first<T: ConvNum>(
    g: &Geometry,
    input: &[T],
    output: &mut [T],
    solve: impl FnOnce(&[T], &mut [T]) -> Result<(), ConvError>,
) -> Result<(), ConvError> {
    check_buffer_len("input", g.input_len(), input.len())?;
    check_buffer_len("output", g.output_len(), output.len())?;
    let mut channels_first = crate::buffers::filled(input.len(), T::zero(), "input")?;
    transpose_items(input, &mut channels_first, g.input_plane(), g.in_channels());
    let mut result = crate::buffers::filled(output.len(), T::zero(), "output")?;
    solve(&channels_first, &mut result)?;
    transpose_items(&result, output, g.out_channels(), g.output_plane());
    Ok(())
}

/// Writes `src`, items of `[a, b]` values, into `dst` as items of `[b, a]` (the two axes after
/// the batch swapped): `[N, C, H*W]` to `[N, H*W, C]` and back.
///
/// The swap goes in blocks of [`TRANSPOSE_BLOCK`] x [`TRANSPOSE_BLOCK`] values, so the lines
/// read and the lines written both stay in the first-level cache while a block is done (a plain
/// row-by-row loop writes one value per line of `dst` and ran 4x slower on 32 x 4096 items).
#[inline(always)]
pub(crate) fn transpose_items<T: Copy>(src: &[T], dst: &mut [T], a: usize, b: usize) {
    let item = a * b;
    if item == 0 {
        return;
    }
    let full = |n: usize| n / TRANSPOSE_BLOCK * TRANSPOSE_BLOCK;
    for (target, source) in dst.chunks_exact_mut(item).zip(src.chunks_exact(item)) {
        // Whole blocks through a local block, so both the reads and the writes are runs of
        // `TRANSPOSE_BLOCK` values; then the edges value by value.
        let mut block = [[source[0]; TRANSPOSE_BLOCK]; TRANSPOSE_BLOCK];
        for i0 in (0..full(a)).step_by(TRANSPOSE_BLOCK) {
            for k0 in (0..full(b)).step_by(TRANSPOSE_BLOCK) {
                for (i, row) in block.iter_mut().enumerate() {
                    row.copy_from_slice(&source[(i0 + i) * b + k0..][..TRANSPOSE_BLOCK]);
                }
                for k in 0..TRANSPOSE_BLOCK {
                    let column = &mut target[(k0 + k) * a + i0..][..TRANSPOSE_BLOCK];
                    for (i, value) in column.iter_mut().enumerate() {
                        *value = block[i][k];
                    }
                }
            }
        }
        for i in 0..a {
            let first_edge = if i < full(a) { full(b) } else { 0 };
            for k in first_edge..b {
                target[k * a + i] = source[i * b + k];
            }
        }
    }
}

/// The side of the blocks [`transpose_items`] swaps: 16 values, a cache line of `f32`.
const TRANSPOSE_BLOCK: usize = 16;
