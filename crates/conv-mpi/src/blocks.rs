//! How a global array divides into blocks over a Cartesian grid of ranks: the one place for the
//! crate's index arithmetic.
//!
//! Arrays of 1 to 3 axes are held as 3 axes with leading axes of length 1 (conv-core's canonical
//! problem does the same), so every loop here is over `[depth, height, width]`.

use std::ops::Range;

use crate::error::MpiConvError;

/// Axes of the canonical arrays.
pub const AXES: usize = 3;

/// A global shape divided over a grid of ranks, axis by axis: along an axis of `n` samples and
/// `p` ranks, block `c` holds `n / p` samples, and the first `n % p` blocks one more (the blocks
/// differ by at most one sample). Ranks are numbered row-major over the grid, the last axis
/// fastest, as MPI's Cartesian communicators number them.
///
/// # Examples
/// ```
/// use conv_mpi::BlockLayout;
/// // 10 samples over 3 ranks: 4, 3, 3.
/// let layout = BlockLayout::new(&[10], &[3])?;
/// assert_eq!(layout.range(2, 0), 0..4);
/// assert_eq!(layout.range(2, 2), 7..10);
/// assert_eq!(layout.owner(2, 6), 1);
/// # Ok::<(), conv_mpi::MpiConvError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockLayout {
    shape: [usize; AXES],
    grid: [usize; AXES],
    axes: usize,
}

impl BlockLayout {
    /// The layout of an array of `shape` (1 to 3 axes) over `grid` ranks per axis.
    ///
    /// # Errors
    /// [`MpiConvError::Rank`] for 0 or more than 3 axes, [`MpiConvError::GridRank`] when
    /// `grid` has another length, [`MpiConvError::EmptyBlock`] when an axis has fewer samples
    /// than ranks (or a grid entry is 0), [`MpiConvError::TooLarge`] when the array's or the
    /// grid's size overflows.
    pub fn new(shape: &[usize], grid: &[usize]) -> Result<Self, MpiConvError> {
        let axes = shape.len();
        if !(1..=AXES).contains(&axes) {
            return Err(MpiConvError::Rank { axes });
        }
        if grid.len() != axes {
            return Err(MpiConvError::GridRank { grid: grid.len(), axes });
        }
        for (axis, (&length, &ranks)) in shape.iter().zip(grid).enumerate() {
            if ranks == 0 || ranks > length {
                return Err(MpiConvError::EmptyBlock { axis, length, ranks });
            }
        }
        let canonical = |values: &[usize]| {
            let mut out = [1; AXES];
            out[AXES - axes..].copy_from_slice(values);
            out
        };
        let layout = Self { shape: canonical(shape), grid: canonical(grid), axes };
        checked_product(&layout.shape, "the global array")?;
        checked_product(&layout.grid, "the grid")?;
        Ok(layout)
    }

    /// The caller's number of axes (1 to 3).
    pub fn axes(&self) -> usize {
        self.axes
    }

    /// The global shape, in the caller's axes.
    pub fn shape(&self) -> &[usize] {
        &self.shape[AXES - self.axes..]
    }

    /// Ranks per axis, in the caller's axes.
    pub fn grid(&self) -> &[usize] {
        &self.grid[AXES - self.axes..]
    }

    /// The global shape as 3 axes.
    pub(crate) fn shape3(&self) -> [usize; AXES] {
        self.shape
    }

    /// Ranks per axis as 3 axes.
    pub(crate) fn grid3(&self) -> [usize; AXES] {
        self.grid
    }

    /// Ranks in the grid.
    pub fn ranks(&self) -> usize {
        self.grid.iter().product()
    }

    /// The global indices block `coord` holds along canonical axis `axis` (0 = depth, 2 = width).
    pub fn range(&self, axis: usize, coord: usize) -> Range<usize> {
        let (n, p) = (self.shape[axis], self.grid[axis]);
        let (base, extra) = (n / p, n % p);
        let start = coord * base + coord.min(extra);
        start..start + base + usize::from(coord < extra)
    }

    /// The block (grid coordinate along canonical axis `axis`) holding global index `index`.
    pub fn owner(&self, axis: usize, index: usize) -> usize {
        let (n, p) = (self.shape[axis], self.grid[axis]);
        let (base, extra) = (n / p, n % p);
        let long = extra * (base + 1);
        if index < long { index / (base + 1) } else { extra + (index - long) / base.max(1) }
    }

    /// The grid coordinates of rank `rank` (row-major, the last axis fastest).
    pub fn coords(&self, rank: usize) -> [usize; AXES] {
        let [_, gh, gw] = self.grid;
        [rank / (gh * gw), rank / gw % gh, rank % gw]
    }

    /// The rank at grid coordinates `coords`.
    pub fn rank_at(&self, coords: [usize; AXES]) -> usize {
        let [_, gh, gw] = self.grid;
        (coords[0] * gh + coords[1]) * gw + coords[2]
    }

    /// The global index ranges of rank `rank`'s block.
    pub fn block(&self, rank: usize) -> [Range<usize>; AXES] {
        let coords = self.coords(rank);
        std::array::from_fn(|axis| self.range(axis, coords[axis]))
    }

    /// The shape of rank `rank`'s block, as 3 axes.
    pub(crate) fn block_shape(&self, rank: usize) -> [usize; AXES] {
        self.block(rank).map(|range| range.len())
    }

    /// Values in rank `rank`'s block.
    pub fn block_len(&self, rank: usize) -> usize {
        self.block_shape(rank).iter().product()
    }
}

/// The grid for `ranks` ranks over an array of `shape` whose blocks have the least surface (the
/// halo a kernel needs is proportional to it): among every way of writing `ranks` as a product
/// of one factor per axis (no factor above its axis' length), the one with the smallest sum of
/// block face areas; ties go to splitting the leading axes (slabs, then pencils), whose blocks
/// are the longest contiguous runs.
///
/// # Errors
/// [`MpiConvError::Rank`] for 0 or more than 3 axes; [`MpiConvError::EmptyBlock`] (on the first
/// axis) when no factorisation fits the shape, e.g. 7 ranks over a 4 x 4 image.
///
/// # Examples
/// ```
/// // 4 ranks over a cube: pencils (2 x 2), not slabs (4 x 1 x 1) — less halo.
/// assert_eq!(conv_mpi::balanced_grid(4, &[64, 64, 64])?, vec![2, 2, 1]);
/// // Over a long thin image, slabs across the long axis.
/// assert_eq!(conv_mpi::balanced_grid(4, &[4096, 64])?, vec![4, 1]);
/// # Ok::<(), conv_mpi::MpiConvError>(())
/// ```
pub fn balanced_grid(ranks: usize, shape: &[usize]) -> Result<Vec<usize>, MpiConvError> {
    let axes = shape.len();
    if !(1..=AXES).contains(&axes) {
        return Err(MpiConvError::Rank { axes });
    }
    let mut best: Option<(f64, Vec<usize>)> = None;
    let mut grid = vec![1; axes];
    search(ranks, shape, 0, &mut grid, &mut best);
    best.map(|(_, grid)| grid).ok_or(MpiConvError::EmptyBlock { axis: 0, length: shape[0], ranks })
}

/// Tries every factor for axis `axis` and recurses; keeps the grid of least surface.
fn search(
    left: usize,
    shape: &[usize],
    axis: usize,
    grid: &mut Vec<usize>,
    best: &mut Option<(f64, Vec<usize>)>,
) {
    if axis == shape.len() {
        if left == 1 {
            let block: Vec<f64> = shape.iter().zip(grid.iter()).map(|(&n, &p)| n as f64 / p as f64).collect();
            let volume: f64 = block.iter().product();
            let surface: f64 = block.iter().map(|side| volume / side).sum();
            if best.as_ref().is_none_or(|(least, _)| surface < *least * (1.0 - 1e-12)) {
                *best = Some((surface, grid.clone()));
            }
        }
        return;
    }
    for factor in (1..=left.min(shape[axis])).rev().filter(|f| left.is_multiple_of(*f)) {
        grid[axis] = factor;
        search(left / factor, shape, axis + 1, grid, best);
    }
    grid[axis] = 1;
}

/// The product of `values`, or [`MpiConvError::TooLarge`].
pub(crate) fn checked_product(values: &[usize], what: &'static str) -> Result<usize, MpiConvError> {
    values.iter().try_fold(1usize, |acc, &v| acc.checked_mul(v)).ok_or(MpiConvError::TooLarge {
        what,
        value: values.iter().fold(1u128, |acc, &v| acc.saturating_mul(v as u128)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_each_axis_once_and_owner_inverts_range() {
        for n in 1..40 {
            for p in 1..=n.min(9) {
                let layout = BlockLayout::new(&[n], &[p]).unwrap_or_else(|e| panic!("{n} {p}: {e}"));
                let mut next = 0;
                for c in 0..p {
                    let range = layout.range(2, c);
                    assert_eq!(range.start, next);
                    assert!(!range.is_empty() && range.len() >= n / p && range.len() <= n / p + 1);
                    for i in range.clone() {
                        assert_eq!(layout.owner(2, i), c, "{n} over {p}: index {i}");
                    }
                    next = range.end;
                }
                assert_eq!(next, n);
            }
        }
    }

    #[test]
    fn ranks_and_coordinates_are_row_major() {
        let layout = BlockLayout::new(&[8, 9, 10], &[2, 3, 1]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(layout.coords(0), [0, 0, 0]);
        assert_eq!(layout.coords(1), [0, 1, 0]);
        assert_eq!(layout.coords(3), [1, 0, 0]);
        for rank in 0..6 {
            assert_eq!(layout.rank_at(layout.coords(rank)), rank);
        }
        assert_eq!(layout.block(4), [4..8, 3..6, 0..10]);
    }

    #[test]
    fn bad_layouts_get_typed_errors() {
        assert_eq!(BlockLayout::new(&[], &[]), Err(MpiConvError::Rank { axes: 0 }));
        assert_eq!(BlockLayout::new(&[4, 4], &[2]), Err(MpiConvError::GridRank { grid: 1, axes: 2 }));
        assert_eq!(
            BlockLayout::new(&[4, 3], &[1, 4]),
            Err(MpiConvError::EmptyBlock { axis: 1, length: 3, ranks: 4 })
        );
        assert_eq!(
            BlockLayout::new(&[4], &[0]),
            Err(MpiConvError::EmptyBlock { axis: 0, length: 4, ranks: 0 })
        );
        assert!(matches!(BlockLayout::new(&[usize::MAX, 2], &[1, 1]), Err(MpiConvError::TooLarge { .. })));
        assert!(balanced_grid(7, &[4, 4]).is_err());
        assert_eq!(balanced_grid(1, &[5]).ok(), Some(vec![1]));
    }
}
