//! Distributed N-D convolution over MPI: the same problem as conv-core's, on arrays too large
//! for one machine.
//!
//! A global array of 1 to 3 axes is divided into blocks over a Cartesian grid of ranks
//! ([`BlockLayout`], [`ProcessGrid`]: 1-D slabs, 2-D pencils or 3-D blocks; [`balanced_grid`]
//! picks the one with the least halo). [`convolve`] and [`correlate`] give each rank its block
//! of the result of the single-process call (`conv_core::filter_with` with the same mode and
//! boundary), computed by any conv-core backend (`Auto` by default) on the rank's padded
//! window: the samples the window reads from other ranks (the halo) travel as one immediate
//! message per pair of ranks while the rank computes the outputs that need none. Every boundary
//! rule holds at the global edges (a circular one wraps to the far ranks); a kernel wider than a
//! block reads from ranks further away (multi-hop halos) and needs no special case. With the
//! Direct backend the result equals the single-process call bit for bit.
//!
//! The crate links the system's MPI library (Open MPI), so it is outside the main workspace:
//! `crates/conv-mpi/run-tests.sh` builds it and runs its checks under `mpirun` with 1, 2 and 4
//! ranks. The halo derivation and the scaling model are in the book's chapter "Beyond one
//! machine".
//!
//! ```no_run
//! use conv_core::{Auto, Boundary, Mode};
//! use conv_mpi::{DistributedArray, ProcessGrid, balanced_grid, convolve};
//! use ndarray::{ArrayD, IxDyn};
//!
//! let universe = mpi::initialize().expect("MPI starts once");
//! let world = universe.world();
//! let shape = [64, 64, 64];
//! let ranks = usize::try_from(mpi::traits::Communicator::size(&world)).unwrap_or(1);
//! let grid = ProcessGrid::new(&world, &balanced_grid(ranks, &shape)?)?;
//! let field = DistributedArray::from_fn(&grid, &shape, |i| (i[0] + i[1] + i[2]) as f64)?;
//! let kernel = ArrayD::from_elem(IxDyn(&[3, 3, 3]), 1.0 / 27.0);
//! let (smoothed, report) = convolve(&grid, &field, &kernel, Mode::Same, Boundary::Reflect, Auto::shared())?;
//! println!("rank {}: block {:?}, {} halo bytes in", grid.rank(), smoothed.block(), report.bytes_received);
//! # Ok::<(), conv_mpi::MpiConvError>(())
//! ```

mod blocks;
mod convolve;
mod distributed;
mod error;
mod halo;

pub use blocks::{AXES, BlockLayout, balanced_grid};
pub use convolve::{HaloReport, convolve, correlate};
pub use distributed::{DistributedArray, ProcessGrid};
pub use error::MpiConvError;
pub use mpi;
