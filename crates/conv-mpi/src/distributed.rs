//! The process grid and the block-distributed array.

use conv_core::DEFAULT_MAX_BUFFER_BYTES;
use mpi::topology::{CartesianCommunicator, Communicator};
use mpi::traits::{Destination, Equivalence, Source};
use ndarray::{ArrayD, Dimension, IxDyn};

use crate::blocks::{AXES, BlockLayout, checked_product};
use crate::error::MpiConvError;

/// A Cartesian grid of ranks (MPI's `MPI_Cart_create`, ranks in row-major order, every axis
/// periodic so that neighbour queries wrap around as a circular boundary does).
pub struct ProcessGrid {
    comm: CartesianCommunicator,
    ranks_per_axis: Vec<usize>,
    rank: usize,
    max_buffer_bytes: usize,
}

impl ProcessGrid {
    /// A grid of `ranks_per_axis` ranks over the ranks of `comm` (collective: every rank of
    /// `comm` calls it with the same grid).
    ///
    /// # Errors
    /// [`MpiConvError::Rank`] for 0 or more than 3 axes, [`MpiConvError::GridSize`] when the
    /// grid's product is not `comm`'s size, [`MpiConvError::TooLarge`] for entries over MPI's
    /// `int`.
    pub fn new<C: Communicator>(comm: &C, ranks_per_axis: &[usize]) -> Result<Self, MpiConvError> {
        if !(1..=AXES).contains(&ranks_per_axis.len()) {
            return Err(MpiConvError::Rank { axes: ranks_per_axis.len() });
        }
        let size = usize::try_from(comm.size()).unwrap_or(0);
        let grid = checked_product(ranks_per_axis, "the grid")?;
        if grid != size {
            return Err(MpiConvError::GridSize { grid, ranks: size });
        }
        let dims = ranks_per_axis
            .iter()
            .map(|&n| {
                i32::try_from(n)
                    .map_err(|_| MpiConvError::TooLarge { what: "a grid entry", value: n as u128 })
            })
            .collect::<Result<Vec<i32>, _>>()?;
        let periods = vec![true; dims.len()];
        let comm = comm
            .create_cartesian_communicator(&dims, &periods, false)
            .ok_or_else(|| MpiConvError::Exchange("MPI_Cart_create left this rank out".into()))?;
        let rank = usize::try_from(comm.rank()).unwrap_or(0);
        Ok(Self {
            comm,
            ranks_per_axis: ranks_per_axis.to_vec(),
            rank,
            max_buffer_bytes: DEFAULT_MAX_BUFFER_BYTES,
        })
    }

    /// Sets the cap on any one buffer a rank allocates in a distributed call (its padded window,
    /// the pieces it hands to the backend, its output block); conv-core's default, 4 GiB, when
    /// not set. Blocks of a 4096^3 f32 field on 64 ranks (4 GiB each, before the halo) need it
    /// raised; a cap above what the rank's memory holds makes the allocation fail instead, as
    /// [`MpiConvError::TooLarge`].
    pub fn with_max_buffer_bytes(mut self, bytes: usize) -> Self {
        self.max_buffer_bytes = bytes;
        self
    }

    /// The cap on one buffer of a distributed call (see [`ProcessGrid::with_max_buffer_bytes`]).
    pub fn max_buffer_bytes(&self) -> usize {
        self.max_buffer_bytes
    }

    /// This process's rank in the grid.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Ranks in the grid.
    pub fn size(&self) -> usize {
        self.ranks_per_axis.iter().product()
    }

    /// Ranks per axis.
    pub fn ranks_per_axis(&self) -> &[usize] {
        &self.ranks_per_axis
    }

    /// The grid's communicator (for the caller's own messages and collectives).
    pub fn communicator(&self) -> &CartesianCommunicator {
        &self.comm
    }

    /// The layout of a global array of `shape` over this grid.
    ///
    /// # Errors
    /// As [`BlockLayout::new`].
    pub fn layout(&self, shape: &[usize]) -> Result<BlockLayout, MpiConvError> {
        BlockLayout::new(shape, &self.ranks_per_axis)
    }
}

/// A global array of 1 to 3 axes of which this rank holds one block (see [`BlockLayout`]).
#[derive(Clone, Debug, PartialEq)]
pub struct DistributedArray<T> {
    layout: BlockLayout,
    rank: usize,
    local: ArrayD<T>,
}

impl<T: Clone + Equivalence + Default> DistributedArray<T> {
    /// This rank's block of the global array of `shape` whose value at global index `index` is
    /// `value(index)`: every rank makes its own block, and no rank holds the whole array.
    ///
    /// # Errors
    /// As [`BlockLayout::new`].
    pub fn from_fn(
        grid: &ProcessGrid,
        shape: &[usize],
        mut value: impl FnMut(&[usize]) -> T,
    ) -> Result<Self, MpiConvError> {
        let layout = grid.layout(shape)?;
        let block = layout.block(grid.rank());
        let axes = layout.axes();
        let block_shape: Vec<usize> = block[AXES - axes..].iter().map(|r| r.len()).collect();
        let starts: Vec<usize> = block[AXES - axes..].iter().map(|r| r.start).collect();
        let mut global = vec![0; axes];
        let local = ArrayD::from_shape_fn(IxDyn(&block_shape), |index| {
            for (g, (&start, &i)) in global.iter_mut().zip(starts.iter().zip(index.slice())) {
                *g = start + i;
            }
            value(&global)
        });
        Ok(Self { layout, rank: grid.rank(), local })
    }

    /// This rank's block of `global` (which this rank holds whole: for tests and small data).
    ///
    /// # Errors
    /// As [`BlockLayout::new`].
    pub fn from_global(grid: &ProcessGrid, global: &ArrayD<T>) -> Result<Self, MpiConvError> {
        Self::from_fn(grid, global.shape(), |index| global[IxDyn(index)].clone())
    }

    /// A distributed array from this rank's block `local` of a global array of `shape`.
    ///
    /// # Errors
    /// As [`BlockLayout::new`]; [`MpiConvError::BlockLength`] when `local` is not this rank's
    /// block shape.
    pub fn from_local(grid: &ProcessGrid, shape: &[usize], local: ArrayD<T>) -> Result<Self, MpiConvError> {
        let layout = grid.layout(shape)?;
        let expected = layout.block_shape(grid.rank());
        if local.shape() != &expected[AXES - layout.axes()..] {
            return Err(MpiConvError::BlockLength {
                expected: layout.block_len(grid.rank()),
                got: local.len(),
            });
        }
        Ok(Self { layout, rank: grid.rank(), local })
    }

    /// The global layout.
    pub fn layout(&self) -> &BlockLayout {
        &self.layout
    }

    /// The global index ranges of this rank's block, in the caller's axes.
    pub fn block(&self) -> Vec<std::ops::Range<usize>> {
        self.layout.block(self.rank)[AXES - self.layout.axes()..].to_vec()
    }

    /// This rank's block.
    pub fn local(&self) -> &ArrayD<T> {
        &self.local
    }

    /// This rank's block, owned.
    pub fn into_local(self) -> ArrayD<T> {
        self.local
    }

    /// Collects the whole array on rank `root` (collective; `None` on the other ranks). Meant
    /// for checks and small arrays: the root must hold the whole array.
    ///
    /// # Errors
    /// [`MpiConvError::Exchange`] when a block of the wrong length arrives.
    pub fn gather(&self, grid: &ProcessGrid, root: usize) -> Result<Option<ArrayD<T>>, MpiConvError> {
        let comm = grid.communicator();
        let root_process = comm.process_at_rank(i32::try_from(root).unwrap_or(0));
        let local: Vec<T> = self.local.iter().cloned().collect();
        if self.rank != root {
            root_process.send(&local[..]);
            return Ok(None);
        }
        let mut whole = ArrayD::from_elem(IxDyn(self.layout.shape()), T::default());
        for rank in 0..self.layout.ranks() {
            let values = if rank == root {
                local.clone()
            } else {
                comm.process_at_rank(i32::try_from(rank).unwrap_or(0)).receive_vec::<T>().0
            };
            if values.len() != self.layout.block_len(rank) {
                return Err(MpiConvError::Exchange(format!(
                    "rank {rank} sent {} values for a block of {}",
                    values.len(),
                    self.layout.block_len(rank)
                )));
            }
            let block = self.layout.block(rank);
            let axes = self.layout.axes();
            let mut view = whole.slice_each_axis_mut(|axis| {
                let range = &block[AXES - axes + axis.axis.index()];
                ndarray::Slice::from(range.clone())
            });
            for (slot, value) in view.iter_mut().zip(values) {
                *slot = value;
            }
        }
        Ok(Some(whole))
    }
}

impl<T> DistributedArray<T> {
    /// Builds an array from parts the caller has checked (the convolution's output).
    pub(crate) fn from_parts(layout: BlockLayout, rank: usize, local: ArrayD<T>) -> Self {
        Self { layout, rank, local }
    }
}
