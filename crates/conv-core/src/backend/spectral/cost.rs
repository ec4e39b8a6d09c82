//! The planner's features for the transform backends (Fft, OverlapSave): what a call on a
//! transform grid costs, per tile, shared by the threads it keeps busy.

use crate::cost::{Counts, count};
use crate::geometry::Geometry;

/// Features of `tiles` tiles on `grid` `[LD, LH, LW]` of a geometry with `counts` (which the
/// caller took with [`Counts::of`], validating the geometry), shared by `threads`:
/// - transform work, `(tiles * N (C + O) + O Cg) * L log2 L` with `L = LD LH LW`;
/// - spectrum products, `tiles * N O Cg * LD LH (LW / 2 + 1)`;
/// - row transforms, `tiles * N (C + O) * LD LH`;
/// - and the values moved.
pub(crate) fn spectral_features(
    g: &Geometry,
    counts: &Counts,
    [ld, lh, lw]: [usize; 3],
    tiles: f64,
    threads: usize,
) -> Vec<f64> {
    let points = count(ld) * count(lh) * count(lw);
    let transform = points * points.log2().max(1.0);
    let half = count(ld) * count(lh) * count(lw / 2 + 1);
    let threads = threads as f64;
    vec![
        (tiles * counts.planes + counts.kernels) * transform / threads,
        tiles * count(g.batch()) * counts.kernels * half / threads,
        tiles * counts.planes * count(ld) * count(lh) / threads,
        counts.values,
    ]
}
