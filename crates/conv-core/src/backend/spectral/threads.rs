//! How a call is tiled and shared over the cores.

use super::Blocking;
use crate::geometry::Geometry;
use crate::parallel;

/// The tiles a worker computes (stride-1 start positions per axis, half-open), the first output
/// row and column of its band, and the band of every output plane.
pub(super) type Band<'a, T> = ([std::ops::Range<usize>; 2], [usize; 2], Vec<&'a mut [T]>);

/// Grid points (times the planes transformed) per thread below which the stages of one tile's
/// transforms are not shared out: a 2-D transform of fewer costs about what handing it to
/// another thread does.
pub(super) const MIN_GRID_POINTS_PER_THREAD: u128 = 1 << 16;

/// Threads for the stages of one tile's transforms on `grid` (see
/// [`MIN_GRID_POINTS_PER_THREAD`]).
pub(super) fn transform_threads(g: &Geometry, [lh, lw]: [usize; 2]) -> usize {
    // In u128, saturating: counts of a geometry whose buffers fit may still overflow a usize.
    let planes = (g.in_channels() as u128)
        .saturating_add((g.out_channels() as u128).saturating_mul(1 + g.in_per_group() as u128));
    let points = (lh as u128).saturating_mul(lw as u128).saturating_mul(planes);
    parallel::threads_for(points, MIN_GRID_POINTS_PER_THREAD)
}

/// Threads sharing out whole batch items, when one tile covers each image and the batch has
/// at least one item per thread.
pub(super) fn item_threads(g: &Geometry) -> Option<usize> {
    let threads = parallel::threads_for(g.batch() as u128, 1).min(g.batch());
    (threads > 1 && threads >= parallel::max_threads()).then_some(threads)
}

/// How many threads a call of a plan with this tiling keeps busy: those sharing its tiles, its
/// batch items, or the passes of each 2-D transform (a one-row transform's passes are mostly
/// its single row: counted as one).
pub(crate) fn call_threads(g: &Geometry, blocking: [Blocking; 2]) -> usize {
    let (_, tile_threads) = tile_split(g, blocking);
    if tile_threads > 1 {
        return tile_threads;
    }
    if let Some(threads) = item_threads(g) {
        return threads;
    }
    if blocking[0].grid > 1 { transform_threads(g, blocking.map(|b| b.grid)) } else { 1 }
}

/// The stride-1 start of every tile along `axis`.
pub(super) fn tile_starts(g: &Geometry, blocking: [Blocking; 2], axis: usize) -> Vec<usize> {
    let a = g.plane_axes()[axis];
    (0..a.input - a.effective_kernel() + 1).step_by(blocking[axis].tile.max(1)).collect()
}

/// How a call of a plan with this tiling is split over the cores: the axis whose tiles are
/// shared out (rows when there are several rows of tiles, else the columns of a one-row
/// output) and the number of threads (at least one tile and 4 M multiply-adds of direct work
/// each; 1 for a 2-D output with a single row of tiles, whose bands would not be contiguous).
pub(crate) fn tile_split(g: &Geometry, blocking: [Blocking; 2]) -> (usize, usize) {
    let tile_count = |axis: usize| {
        let a = g.plane_axes()[axis];
        (a.input - a.effective_kernel() + 1).div_ceil(blocking[axis].tile.max(1))
    };
    let row_tiles = tile_count(0);
    if row_tiles > 1 {
        return (0, split_threads(g, row_tiles));
    }
    if g.plane_axes()[0].output > 1 {
        return (1, 1);
    }
    (1, split_threads(g, tile_count(1)))
}

pub(super) fn split_threads(g: &Geometry, tiles: usize) -> usize {
    let per_tile = g.multiply_adds() / u128::try_from(tiles.max(1)).unwrap_or(1);
    parallel::threads_for(g.multiply_adds(), parallel::MIN_MULTIPLY_ADDS_PER_THREAD.max(per_tile))
        .min(tiles.max(1))
}
