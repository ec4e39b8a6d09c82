//! Tiling along output columns, for problems whose single output row of patches is over the
//! cap (a 20,000-sample signal with a 2,001-tap kernel: 288 MB of patches for its one row).
//! Each tile of output columns reads a contiguous run of input columns; the tile is solved as a
//! narrower problem of its own — whose rows then fit — and its outputs are copied into place.
//! The sums are the same as without tiles, in the same order.

use crate::backend::ConvProblem;
use crate::error::ConvError;
use crate::geometry::{AxisGeometry, Geometry, check_bytes, checked_product};
use crate::num::ConvNum;

/// Output columns per tile for `g` with `row_target` bytes of patches per output row at most:
/// `None` when a whole output row fits (no tiling), otherwise the widest tile that fits.
///
/// # Errors
/// [`ConvError::TooLarge`] when the patches of a single output position exceed `cap`.
pub(super) fn column_tile<T>(
    g: &Geometry,
    row_target: usize,
    cap: usize,
) -> Result<Option<usize>, ConvError> {
    let taps = checked_product([g.in_per_group(), g.kernel_plane()], "patch matrix")?;
    let column_bytes = checked_product([taps, size_of::<T>()], "patch matrix")?;
    check_bytes(column_bytes, 1, cap, "patch matrix (one output position)")?;
    let row_bytes = checked_product([column_bytes, g.plane_axes()[1].output], "patch matrix")?;
    if row_bytes <= cap {
        return Ok(None);
    }
    Ok(Some((row_target.min(cap) / column_bytes.max(1)).clamp(1, g.plane_axes()[1].output)))
}

/// Solves `problem` in tiles of `tile` output columns with `solve_tile` (which gets each tile as
/// a problem of its own, its input columns copied into a buffer), writing `output`.
///
/// # Errors
/// Whatever `solve_tile` returns, and size errors of a tile's geometry.
pub(super) fn solve_in_column_tiles<T: ConvNum>(
    problem: &ConvProblem<'_, T>,
    output: &mut [T],
    tile: usize,
    mut solve_tile: impl FnMut(&ConvProblem<'_, T>, &mut [T]) -> Result<(), ConvError>,
) -> Result<(), ConvError> {
    let g = *problem.geometry();
    let [rows, cols] = g.plane_axes();
    let input_rows = g.batch() * g.in_channels() * rows.input;
    let output_rows = g.batch() * g.out_channels() * rows.output;
    let (mut tile_input, mut tile_output) = (Vec::new(), Vec::new());
    for first in (0..cols.output).step_by(tile.max(1)) {
        let width = tile.min(cols.output - first);
        // Output columns first..first + width read input columns from first * stride, over the
        // span of the last one's window.
        let start = first * cols.stride;
        let span = (width - 1) * cols.stride + cols.effective_kernel();
        let axis = AxisGeometry::new(1, span, cols.kernel, cols.stride, cols.dilation)?;
        let part = g.with_axis(2, axis)?;
        tile_input.clear();
        for row in problem.input().chunks_exact(cols.input).take(input_rows) {
            tile_input.extend_from_slice(&row[start..start + span]);
        }
        tile_output.clear();
        tile_output.resize(output_rows * width, T::zero());
        solve_tile(&ConvProblem::new(part, &tile_input, problem.kernel())?, &mut tile_output)?;
        for (row, part_row) in output.chunks_exact_mut(cols.output).zip(tile_output.chunks_exact(width)) {
            row[first..first + width].copy_from_slice(part_row);
        }
    }
    Ok(())
}
