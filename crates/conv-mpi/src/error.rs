//! The crate's one error type.

use conv_core::ConvError;

/// What a distributed call can refuse or fail with. Every rank of a collective call returns the
/// same variant for the same arguments: the checks read only what every rank knows (shapes,
/// the grid, the kernel).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MpiConvError {
    /// The single-process problem itself is refused (shapes, sizes, the cap): conv-core's error.
    #[error(transparent)]
    Conv(#[from] ConvError),
    /// Arrays of 1 to 3 axes are distributed; this one has `axes`.
    #[error("a distributed array has 1 to 3 axes, got {axes}")]
    Rank {
        /// The axes given.
        axes: usize,
    },
    /// The grid of ranks does not have one entry per axis of the array.
    #[error("the grid has {grid} entries for an array of {axes} axes")]
    GridRank {
        /// Entries of the grid.
        grid: usize,
        /// Axes of the array.
        axes: usize,
    },
    /// The grid's ranks (the product of its entries) differ from the communicator's size.
    #[error("the grid holds {grid} ranks but the communicator has {ranks}")]
    GridSize {
        /// Product of the grid's entries.
        grid: usize,
        /// Ranks in the communicator.
        ranks: usize,
    },
    /// The array is distributed over another grid than the one the call runs on (the same
    /// number of ranks arranged differently, or a grid of another size).
    #[error("the array is distributed over a {array:?} grid, the call runs on a {grid:?} grid")]
    OtherGrid {
        /// Ranks per axis of the array's layout.
        array: Vec<usize>,
        /// Ranks per axis of the grid the call was given.
        grid: Vec<usize>,
    },
    /// More ranks along an axis than the axis has samples: some block would be empty.
    #[error("axis {axis} of length {length} cannot be split over {ranks} ranks (a block would be empty)")]
    EmptyBlock {
        /// The axis.
        axis: usize,
        /// Its global length.
        length: usize,
        /// Ranks along it.
        ranks: usize,
    },
    /// A rank's local block has the wrong number of values for the layout.
    #[error("the local block holds {got} values, the layout gives this rank {expected}")]
    BlockLength {
        /// Values the layout gives the rank.
        expected: usize,
        /// Values supplied.
        got: usize,
    },
    /// The kernel and the array have different numbers of axes.
    #[error("the kernel has {kernel} axes, the array {array}")]
    KernelRank {
        /// Axes of the kernel.
        kernel: usize,
        /// Axes of the array.
        array: usize,
    },
    /// A size overflowed `usize` or does not fit MPI's `int` counts.
    #[error("{what} is too large ({value})")]
    TooLarge {
        /// What overflowed.
        what: &'static str,
        /// The value, as far as it was computed.
        value: u128,
    },
    /// The MPI library reported a failure (a message of the wrong length arrived).
    #[error("MPI exchange failed: {0}")]
    Exchange(String),
}
