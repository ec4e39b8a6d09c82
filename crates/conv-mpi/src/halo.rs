//! The halo exchange plan: which global input samples each rank's output block reads, who owns
//! them, and therefore which values every pair of ranks exchanges.
//!
//! Output sample `o` of an axis reads padded positions `o * stride + k * dilation` for the
//! kernel's taps `k`; padded position `p` is input index `p - before` mapped by the boundary rule
//! ([`conv_core::boundary_source_index`]: reflected, wrapped, clamped, or the fill). A rank's
//! *window* along an axis is every padded position its output block reads, and each window
//! position's source is owned by exactly one block of that axis. Every rank computes every
//! other rank's windows from the shapes alone, so the plan needs no message: rank `r` sends
//! rank `q` the values of its block that `q`'s window reads (per axis the sorted distinct
//! sources in `r`'s range; the message is their product, row-major), and `q` places each one
//! wherever its window reads it. A kernel wider than a block simply makes a window reach
//! blocks further away (multi-hop halos): they are messages like the others.

use std::ops::Range;

use conv_core::{AxisGeometry, Boundary, boundary_source_index};

use crate::blocks::{AXES, BlockLayout};

/// Where one window position of one axis reads from: `None` for the boundary's fill value,
/// otherwise the owning block (grid coordinate) and the position of the source within the
/// distinct sources this window reads from that block.
pub(crate) type Slot = Option<(usize, usize)>;

/// One rank's window along one axis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AxisWindow {
    /// Global input index (after the boundary rule) each window position reads.
    pub sources: Vec<Option<usize>>,
    /// Each window position's [`Slot`].
    pub slots: Vec<Slot>,
    /// Per block of this axis, the distinct sources the window reads from it, ascending.
    pub per_block: Vec<Vec<usize>>,
}

impl AxisWindow {
    /// The window of the outputs `outputs` of canonical axis `axis` of `input` (the global
    /// input layout), for an axis geometry `geometry` padded by `before`.
    pub(crate) fn new(
        input: &BlockLayout,
        axis: usize,
        outputs: &Range<usize>,
        geometry: &AxisGeometry,
        before: usize,
        boundary: Boundary,
    ) -> Self {
        let length = input.shape3()[axis];
        let blocks = input.grid3()[axis];
        let (first, len) = window_span(outputs, geometry);
        let sources: Vec<Option<usize>> = (first..first + len)
            .map(|p| {
                // `p` is a padded position of an axis conv-core resolved: far below isize::MAX.
                let relative =
                    isize::try_from(p).unwrap_or(isize::MAX) - isize::try_from(before).unwrap_or(0);
                boundary_source_index(relative, length, boundary)
            })
            .collect();
        let mut per_block: Vec<Vec<usize>> = vec![Vec::new(); blocks];
        for &source in sources.iter().flatten() {
            per_block[input.owner(axis, source)].push(source);
        }
        for list in &mut per_block {
            list.sort_unstable();
            list.dedup();
        }
        let slots = sources
            .iter()
            .map(|source| {
                source.map(|s| {
                    let block = input.owner(axis, s);
                    (block, per_block[block].binary_search(&s).unwrap_or(0))
                })
            })
            .collect();
        Self { sources, slots, per_block }
    }

    /// Window positions.
    pub(crate) fn len(&self) -> usize {
        self.sources.len()
    }

    /// The outputs (relative to the block's first) whose every read is the fill or a sample of
    /// block `own`, as the longest run: they can be computed before any message arrives.
    pub(crate) fn local_outputs(&self, outputs: usize, geometry: &AxisGeometry, own: usize) -> Range<usize> {
        let local = |o: usize| {
            (0..geometry.kernel).all(|k| {
                let j = o * geometry.stride + k * geometry.dilation;
                self.slots.get(j).is_some_and(|slot| slot.is_none_or(|(block, _)| block == own))
            })
        };
        let (mut best, mut run_start) = (0..0, None);
        for o in 0..=outputs {
            match (o < outputs && local(o), run_start) {
                (true, None) => run_start = Some(o),
                (false, Some(start)) => {
                    if o - start > best.len() {
                        best = start..o;
                    }
                    run_start = None;
                }
                _ => {}
            }
        }
        best
    }
}

/// The first padded position and the number of positions the outputs `outputs` read.
pub(crate) fn window_span(outputs: &Range<usize>, geometry: &AxisGeometry) -> (usize, usize) {
    if outputs.is_empty() {
        return (0, 0);
    }
    let first = outputs.start * geometry.stride;
    (first, (outputs.len() - 1) * geometry.stride + geometry.effective_kernel())
}

/// A rank's windows on every canonical axis.
pub(crate) type Windows = [AxisWindow; AXES];

/// The windows of `rank`'s output block.
pub(crate) fn windows_of(
    rank: usize,
    input: &BlockLayout,
    output: &BlockLayout,
    axes: &[AxisGeometry; AXES],
    pads: &[(usize, usize); AXES],
    boundary: Boundary,
) -> Windows {
    let block = output.block(rank);
    std::array::from_fn(|a| AxisWindow::new(input, a, &block[a], &axes[a], pads[a].0, boundary))
}

/// The values rank `owner` sends for `windows` (another rank's): per axis, the distinct sources
/// in `owner`'s block, as indices into that block. `None` when the windows read nothing of it.
pub(crate) fn message_indices(
    owner: usize,
    input: &BlockLayout,
    windows: &Windows,
) -> Option<[Vec<usize>; AXES]> {
    let coords = input.coords(owner);
    let ranges = input.block(owner);
    let lists: [Vec<usize>; AXES] = std::array::from_fn(|a| {
        windows[a].per_block[coords[a]].iter().map(|&s| s - ranges[a].start).collect()
    });
    lists.iter().all(|list| !list.is_empty()).then_some(lists)
}

/// Values in the message rank `owner` sends for `windows`: the product of the list lengths.
pub(crate) fn message_len(owner: usize, input: &BlockLayout, windows: &Windows) -> usize {
    let coords = input.coords(owner);
    (0..AXES).map(|a| windows[a].per_block[coords[a]].len()).product()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(input: usize, kernel: usize) -> AxisGeometry {
        AxisGeometry { input, kernel, stride: 1, dilation: 1, output: input - kernel + 1 }
    }

    #[test]
    fn a_same_window_reads_its_block_and_a_halo_each_side() {
        // 12 samples over 3 blocks of 4, a 5-tap kernel padded (2, 2): the middle block's
        // outputs 4..8 read inputs 2..10, two from each neighbour.
        let layout = BlockLayout::new(&[12], &[3]).unwrap_or_else(|e| panic!("{e}"));
        let w = AxisWindow::new(&layout, 2, &(4..8), &axis(16, 5), 2, Boundary::Zeros);
        assert_eq!(w.sources, (2..10).map(Some).collect::<Vec<_>>());
        assert_eq!(w.per_block, vec![vec![2, 3], vec![4, 5, 6, 7], vec![8, 9]]);
        assert!(w.local_outputs(4, &axis(16, 5), 1).is_empty(), "every output reads a neighbour");
        // The first block under zeros: its first outputs read the fill, which needs no message.
        let first = AxisWindow::new(&layout, 2, &(0..4), &axis(16, 5), 2, Boundary::Zeros);
        assert_eq!(first.sources[..2], [None, None]);
        assert_eq!(first.local_outputs(4, &axis(16, 5), 0), 0..2);
    }

    #[test]
    fn circular_windows_wrap_to_the_far_block_and_wide_kernels_reach_past_neighbours() {
        let layout = BlockLayout::new(&[12], &[4]).unwrap_or_else(|e| panic!("{e}"));
        let w = AxisWindow::new(&layout, 2, &(0..3), &axis(12 + 8, 9), 4, Boundary::Circular);
        // Inputs -4..7: -4..0 wrap to 8..12 (blocks 2 and 3), then 0..7 reach two blocks on.
        assert_eq!(w.sources[..4], [Some(8), Some(9), Some(10), Some(11)]);
        assert_eq!(w.per_block, vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 8], vec![9, 10, 11]]);
    }
}
