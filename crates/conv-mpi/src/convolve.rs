//! Distributed convolution and correlation: the halo exchange overlapped with the interior.
//!
//! Each rank owns one block of the output (the output's global shape divided over the same
//! grid) and computes it as a *valid* problem on its padded window (see `halo.rs`): the values
//! of its own block and the boundary's fill are placed first and the outputs that read only
//! those are computed while the other ranks' values are in flight (immediate sends and
//! receives); the rest of the block, up to two slabs per axis, once they have arrived. Every
//! output is the same sum of the same products as in the single-process call, so the Direct
//! backend gives the same bits; a transform backend its usual rounding.

use std::ops::Range;
use std::time::Instant;

use conv_core::{AxisGeometry, Boundary, ConvBackend, ConvNum, ConvSpec, Mode};
use mpi::point_to_point::Source as _;
use mpi::topology::Communicator;
use mpi::traits::{Destination, Equivalence};
use ndarray::{Array3, ArrayD, ArrayView3, IxDyn, Slice};

use crate::blocks::{AXES, BlockLayout, checked_product};
use crate::distributed::{DistributedArray, ProcessGrid};
use crate::error::MpiConvError;
use crate::halo::{Windows, message_indices, message_len, windows_of};

/// What one rank did in one distributed call: its halo traffic and where its time went.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HaloReport {
    /// Messages this rank sent (one per rank whose window reads its block).
    pub messages_sent: usize,
    /// Bytes this rank sent.
    pub bytes_sent: usize,
    /// Messages this rank received.
    pub messages_received: usize,
    /// Bytes this rank received.
    pub bytes_received: usize,
    /// Outputs computed before any message had to arrive.
    pub interior_outputs: usize,
    /// Outputs of the rank's block.
    pub block_outputs: usize,
    /// Seconds spent planning, packing and posting the messages.
    pub post_seconds: f64,
    /// Seconds computing the interior (while messages were in flight).
    pub interior_seconds: f64,
    /// Seconds waiting for the messages after the interior was done.
    pub wait_seconds: f64,
    /// Seconds placing the received values and computing the rest of the block.
    pub edge_seconds: f64,
    /// Seconds of the whole call on this rank, returning the block included.
    pub total_seconds: f64,
}

/// Convolves a distributed array with `kernel` (held whole by every rank), like
/// `conv_core::filter_with(global, kernel, &ConvSpec::convolution().mode(mode).boundary(boundary), backend)`
/// on the whole array: the same output shape (distributed over the same grid) and, with
/// `Direct`, the same bits. Collective: every rank of `grid` calls it with the same kernel,
/// mode and boundary. Returns this rank's output block and its [`HaloReport`]. The calling
/// thread keeps its padded window buffer for its next call (a time-stepping loop then reuses
/// its memory instead of faulting in a fresh window each step).
///
/// # Errors
/// [`MpiConvError::OtherGrid`] when `input` is distributed over another grid than `grid`;
/// [`MpiConvError::KernelRank`] when the kernel's axes differ from the array's;
/// [`MpiConvError::EmptyBlock`] when the output (in `Valid` mode) is too small for the grid;
/// [`MpiConvError::Conv`] for what conv-core refuses in the global problem or a rank's local
/// one (a kernel larger than the padded input, the buffer cap, ...);
/// [`MpiConvError::TooLarge`] for a rank's window over the grid's buffer cap
/// ([`ProcessGrid::with_max_buffer_bytes`]) or a message over MPI's `int` count. Every rank returns the same error before any message is sent.
pub fn convolve<T: ConvNum + Equivalence + Default>(
    grid: &ProcessGrid,
    input: &DistributedArray<T>,
    kernel: &ArrayD<T>,
    mode: Mode,
    boundary: Boundary,
    backend: &dyn ConvBackend<T>,
) -> Result<(DistributedArray<T>, HaloReport), MpiConvError> {
    distributed(grid, input, kernel, ConvSpec::convolution(), mode, boundary, backend)
}

/// The correlation counterpart of [`convolve`] (the kernel slides unflipped), like
/// `conv_core::filter_with` with `ConvSpec::correlation()`.
///
/// # Errors
/// As [`convolve`].
pub fn correlate<T: ConvNum + Equivalence + Default>(
    grid: &ProcessGrid,
    input: &DistributedArray<T>,
    kernel: &ArrayD<T>,
    mode: Mode,
    boundary: Boundary,
    backend: &dyn ConvBackend<T>,
) -> Result<(DistributedArray<T>, HaloReport), MpiConvError> {
    distributed(grid, input, kernel, ConvSpec::correlation(), mode, boundary, backend)
}

fn distributed<T: ConvNum + Equivalence + Default>(
    grid: &ProcessGrid,
    input: &DistributedArray<T>,
    kernel: &ArrayD<T>,
    kind: ConvSpec,
    mode: Mode,
    boundary: Boundary,
    backend: &dyn ConvBackend<T>,
) -> Result<(DistributedArray<T>, HaloReport), MpiConvError> {
    let started = Instant::now();
    let me = grid.rank();
    let layout = input.layout().clone();
    if layout.grid() != grid.ranks_per_axis() {
        return Err(MpiConvError::OtherGrid {
            array: layout.grid().to_vec(),
            grid: grid.ranks_per_axis().to_vec(),
        });
    }
    if kernel.ndim() != layout.axes() {
        return Err(MpiConvError::KernelRank { kernel: kernel.ndim(), array: layout.axes() });
    }
    let axes_count = layout.axes();
    let canonical = |values: &[usize]| {
        let mut out = [1; AXES];
        out[AXES - axes_count..].copy_from_slice(values);
        out
    };
    let kernel3 = canonical(kernel.shape());
    // The global problem is only resolved (its sizes computed), never allocated: no cap here.
    let spec = kind.clone().mode(mode).boundary(boundary).max_buffer_bytes(usize::MAX);
    let shape3 = layout.shape3();
    let resolved =
        spec.resolve(&[1, 1, shape3[0], shape3[1], shape3[2]], &[1, 1, kernel3[0], kernel3[1], kernel3[2]])?;
    let axes = resolved.geometry.axes();
    let out_shape: Vec<usize> = axes[AXES - axes_count..].iter().map(|a| a.output).collect();
    let output = BlockLayout::new(&out_shape, grid.ranks_per_axis())?;
    // Every rank's window, known to every rank: the checks below read the largest, so that all
    // ranks refuse together, before any message (a rank refusing alone would leave the others
    // waiting for its messages).
    let all_windows: Vec<Windows> = (0..layout.ranks())
        .map(|rank| windows_of(rank, &layout, &output, &axes, &resolved.pads, boundary))
        .collect();
    let mut largest_window = 0usize;
    let mut largest_block = 0usize;
    for (rank, windows) in all_windows.iter().enumerate() {
        let dims: [usize; AXES] = std::array::from_fn(|a| windows[a].len());
        largest_window = largest_window.max(checked_product(&dims, "a rank's window")?);
        largest_block = largest_block.max(output.block_len(rank));
    }
    for (what, values) in
        [("a rank's padded window (bytes)", largest_window), ("a rank's output block (bytes)", largest_block)]
    {
        let bytes = (values as u128).saturating_mul(size_of::<T>() as u128);
        if bytes > grid.max_buffer_bytes() as u128 {
            return Err(MpiConvError::TooLarge { what, value: bytes });
        }
    }
    // A message is part of a window: this bounds every message's count.
    check_count(largest_window)?;
    let windows = &all_windows[me];
    let window_dims: [usize; AXES] = std::array::from_fn(|a| windows[a].len());
    let window_len: usize = window_dims.iter().product();
    let window_bytes = (window_len as u128).saturating_mul(size_of::<T>() as u128);

    let kernel3_array = kernel
        .view()
        .into_shape_with_order(IxDyn(&kernel3))
        .map_err(|_| MpiConvError::KernelRank { kernel: kernel.ndim(), array: axes_count })?
        .into_dimensionality::<ndarray::Ix3>()
        .map_err(|_| MpiConvError::KernelRank { kernel: kernel.ndim(), array: axes_count })?
        .to_owned();
    let local_spec = kind.mode(Mode::Valid).max_buffer_bytes(grid.max_buffer_bytes());
    let block_out = output.block(me);
    let block_dims = block_out.clone().map(|r| r.len());

    // What every other rank's window reads of this rank's block, and what this rank's window
    // reads of theirs.
    let mut report = HaloReport { block_outputs: block_dims.iter().product(), ..HaloReport::default() };
    let local_block = input.local().as_standard_layout();
    let local_values = local_block.as_slice().unwrap_or(&[]);
    let own_dims = layout.block_shape(me);
    let mut sends: Vec<(usize, Vec<T>)> = Vec::new();
    for rank in (0..layout.ranks()).filter(|&r| r != me) {
        if let Some(lists) = message_indices(me, &layout, &all_windows[rank]) {
            sends.push((rank, pack(local_values, own_dims, &lists)));
        }
    }
    let mut receives: Vec<(usize, Vec<T>)> = Vec::new();
    for rank in (0..layout.ranks()).filter(|&r| r != me) {
        let len = message_len(rank, &layout, windows);
        if len > 0 {
            receives.push((rank, vec![T::default(); len]));
        }
    }
    report.messages_sent = sends.len();
    report.bytes_sent = sends.iter().map(|(_, v)| v.len() * size_of::<T>()).sum();
    report.messages_received = receives.len();
    report.bytes_received = receives.iter().map(|(_, v)| v.len() * size_of::<T>()).sum();

    // The window buffer is kept between calls (a time-stepping loop reuses its pages instead of
    // faulting in fresh ones each step). Every position is overwritten below: by this rank's
    // samples and the fill now, by the other ranks' samples once they arrive.
    let mut window = take_window::<T>();
    if window.len() != window_len {
        window.clear();
        window.try_reserve_exact(window_len).map_err(|_| MpiConvError::TooLarge {
            what: "a rank's padded window (bytes)",
            value: window_bytes,
        })?;
        window.resize(window_len, T::zero());
    }
    let fill = boundary.fill::<T>();
    place(
        &mut window,
        window_dims,
        windows,
        &layout,
        me,
        &Source::Own { values: local_values, dims: own_dims, fill },
    );

    // The interior: outputs reading only this block and the fill.
    let own_coords = layout.coords(me);
    let interior: [Range<usize>; AXES] =
        std::array::from_fn(|a| windows[a].local_outputs(block_dims[a], &axes[a], own_coords[a]));
    let mut out = Array3::<T>::zeros(block_dims);
    let comm = grid.communicator();
    report.post_seconds = started.elapsed().as_secs_f64();
    let mut result = Ok(());
    mpi::request::scope(|scope| {
        let mut pending = Vec::new();
        for (rank, buffer) in receives.iter_mut() {
            pending.push(comm.process_at_rank(rank_id(*rank)).immediate_receive_into(scope, &mut buffer[..]));
        }
        let mut posted = Vec::new();
        for (rank, buffer) in &sends {
            posted.push(comm.process_at_rank(rank_id(*rank)).immediate_send(scope, &buffer[..]));
        }
        let computing = Instant::now();
        if interior.iter().all(|r| !r.is_empty()) {
            result = solve_box(
                &window,
                window_dims,
                &interior,
                &axes,
                &kernel3_array,
                &local_spec,
                backend,
                &mut out,
            );
            report.interior_outputs = interior.iter().map(Range::len).product();
        }
        report.interior_seconds = computing.elapsed().as_secs_f64();
        let waiting = Instant::now();
        for request in pending {
            request.wait();
        }
        for request in posted {
            request.wait();
        }
        report.wait_seconds = waiting.elapsed().as_secs_f64();
    });
    result?;
    let edges = Instant::now();
    for (rank, values) in &receives {
        place(&mut window, window_dims, windows, &layout, me, &Source::Remote { rank: *rank, values });
    }
    let full: [Range<usize>; AXES] = block_dims.map(|n| 0..n);
    for piece in complement(&full, &interior) {
        solve_box(&window, window_dims, &piece, &axes, &kernel3_array, &local_spec, backend, &mut out)?;
    }
    report.edge_seconds = edges.elapsed().as_secs_f64();
    keep_window(window);
    drop(receives);
    drop(sends);
    let caller_dims: Vec<usize> = block_dims[AXES - axes_count..].to_vec();
    let local = out.into_shape_with_order(IxDyn(&caller_dims)).map_err(|_| MpiConvError::BlockLength {
        expected: report.block_outputs,
        got: report.block_outputs,
    })?;
    report.total_seconds = started.elapsed().as_secs_f64();
    Ok((DistributedArray::from_parts(output, me, local), report))
}

thread_local! {
    /// The last call's window buffer, per element type.
    static KEPT_WINDOWS: std::cell::RefCell<Vec<Box<dyn std::any::Any>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The window buffer the calling thread kept from its last call with element type `T` (empty
/// if none).
fn take_window<T: 'static>() -> Vec<T> {
    KEPT_WINDOWS.with(|kept| {
        let mut kept = kept.borrow_mut();
        let index = kept.iter().position(|buffer| buffer.is::<Vec<T>>());
        index
            .and_then(|i| kept.swap_remove(i).downcast::<Vec<T>>().ok())
            .map_or_else(Vec::new, |buffer| *buffer)
    })
}

/// Keeps `window` for the thread's next call.
fn keep_window<T: 'static>(window: Vec<T>) {
    KEPT_WINDOWS.with(|kept| kept.borrow_mut().push(Box::new(window)));
}

/// An MPI rank from a grid index (grids are far smaller than `i32::MAX`: the communicator's
/// size is an `int`).
fn rank_id(rank: usize) -> i32 {
    i32::try_from(rank).unwrap_or(i32::MAX)
}

/// Refuses a message longer than MPI's `int` count.
fn check_count(len: usize) -> Result<(), MpiConvError> {
    if i32::try_from(len).is_err() {
        return Err(MpiConvError::TooLarge { what: "a halo message (values)", value: len as u128 });
    }
    Ok(())
}

/// The values of a block (`values`, shape `dims`) at the product of the per-axis index lists,
/// row-major.
fn pack<T: Copy>(values: &[T], dims: [usize; AXES], lists: &[Vec<usize>; AXES]) -> Vec<T> {
    let mut out = Vec::with_capacity(lists.iter().map(Vec::len).product());
    for &z in &lists[0] {
        for &y in &lists[1] {
            let row = (z * dims[1] + y) * dims[2];
            out.extend(lists[2].iter().map(|&x| values[row + x]));
        }
    }
    out
}

/// Where [`place`] takes values from: this rank's block and the fill, or one rank's message.
enum Source<'a, T> {
    Own { values: &'a [T], dims: [usize; AXES], fill: T },
    Remote { rank: usize, values: &'a [T] },
}

/// Writes into `window` the positions whose values come from `source`: for [`Source::Own`],
/// this rank's samples and the fill; for [`Source::Remote`], the samples of that rank's block.
/// Per axis, each window position's index into the source's values (its block for `Own`, the
/// message's per-axis lists for `Remote`) is found once; the rows then copy by those indices.
fn place<T: Copy>(
    window: &mut [T],
    dims: [usize; AXES],
    windows: &Windows,
    layout: &BlockLayout,
    me: usize,
    source: &Source<'_, T>,
) {
    let own_start = layout.block(me).map(|r| r.start);
    let (wanted, values, strides, fill) = match source {
        Source::Own { values, dims: block, fill } => {
            (layout.coords(me), *values, [block[1] * block[2], block[2], 1], Some(*fill))
        }
        Source::Remote { rank, values } => {
            let coords = layout.coords(*rank);
            let counts: [usize; AXES] = std::array::from_fn(|a| windows[a].per_block[coords[a]].len());
            (coords, *values, [counts[1] * counts[2], counts[2], 1], None)
        }
    };
    // Per axis and window position: the index along that axis into `values`, when the
    // position's source belongs to the wanted block.
    let index: [Vec<Option<usize>>; AXES] = std::array::from_fn(|a| {
        windows[a]
            .slots
            .iter()
            .zip(&windows[a].sources)
            .map(|(slot, source)| match (slot, source, fill) {
                (Some((block, _)), Some(s), Some(_)) if *block == wanted[a] => Some(s - own_start[a]),
                (Some((block, i)), _, None) if *block == wanted[a] => Some(*i),
                _ => None,
            })
            .collect()
    });
    for (z, slot_z) in windows[0].slots.iter().enumerate() {
        for (y, slot_y) in windows[1].slots.iter().enumerate() {
            let row = &mut window[(z * dims[1] + y) * dims[2]..][..dims[2]];
            if slot_z.is_none() || slot_y.is_none() {
                // The row lies in the padding of an outer axis: all fill.
                if let Some(fill) = fill {
                    row.fill(fill);
                }
                continue;
            }
            let base = match (index[0][z], index[1][y]) {
                (Some(iz), Some(iy)) => Some(iz * strides[0] + iy * strides[1]),
                _ => None,
            };
            for ((value, slot_x), ix) in row.iter_mut().zip(&windows[2].slots).zip(&index[2]) {
                match (slot_x, base, ix) {
                    // The fill of the innermost axis, in every row (whoever owns the row).
                    (None, _, _) => {
                        if let Some(fill) = fill {
                            *value = fill;
                        }
                    }
                    (Some(_), Some(base), Some(ix)) => *value = values[base + ix],
                    _ => {}
                }
            }
        }
    }
}

/// Computes the outputs `outputs` (ranges relative to the rank's block) as a valid problem on
/// the part of `window` they read, and writes them into `out`.
#[allow(clippy::too_many_arguments)]
fn solve_box<T: ConvNum>(
    window: &[T],
    dims: [usize; AXES],
    outputs: &[Range<usize>; AXES],
    axes: &[AxisGeometry; AXES],
    kernel: &Array3<T>,
    spec: &ConvSpec,
    backend: &dyn ConvBackend<T>,
    out: &mut Array3<T>,
) -> Result<(), MpiConvError> {
    if outputs.iter().any(Range::is_empty) {
        return Ok(());
    }
    let view = ArrayView3::from_shape(dims, window)
        .map_err(|_| MpiConvError::BlockLength { expected: dims.iter().product(), got: window.len() })?;
    let reads = view.slice_each_axis(|axis| {
        let a = axis.axis.index();
        let (first, len) = crate::halo::window_span(&outputs[a], &axes[a]);
        Slice::from(first..first + len)
    });
    let solved = conv_core::filter_with(&reads, kernel, spec, backend)?;
    let mut target = out.slice_each_axis_mut(|axis| Slice::from(outputs[axis.axis.index()].clone()));
    if solved.shape() != target.shape() {
        return Err(MpiConvError::BlockLength { expected: target.len(), got: solved.len() });
    }
    target.assign(&solved);
    Ok(())
}

/// The parts of the box `full` outside the box `inner` (which lies inside it), as at most two
/// slabs per axis: below and above `inner` on axis 0 across the whole box, then on axis 1
/// within `inner`'s rows of axis 0, then on axis 2 within both. An empty `inner` leaves `full`.
fn complement(full: &[Range<usize>; AXES], inner: &[Range<usize>; AXES]) -> Vec<[Range<usize>; AXES]> {
    if inner.iter().any(Range::is_empty) {
        return vec![full.clone()];
    }
    let mut pieces = Vec::new();
    for axis in 0..AXES {
        let mut below = full.clone();
        let mut above = full.clone();
        below[..axis].clone_from_slice(&inner[..axis]);
        above[..axis].clone_from_slice(&inner[..axis]);
        below[axis] = full[axis].start..inner[axis].start;
        above[axis] = inner[axis].end..full[axis].end;
        pieces.extend([below, above].into_iter().filter(|piece| piece.iter().all(|r| !r.is_empty())));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_complement_and_the_inner_box_tile_the_block_once() {
        let full = [0..5, 0..6, 0..7];
        for inner in [[1..4, 2..5, 3..6], [0..5, 0..6, 0..7], [0..0, 1..2, 1..2], [0..2, 0..6, 5..7]] {
            let mut count = Array3::<u8>::zeros((5, 6, 7));
            let mut pieces = complement(&full, &inner);
            if inner.iter().all(|r| !r.is_empty()) {
                pieces.push(inner.clone());
            }
            for piece in pieces {
                count
                    .slice_each_axis_mut(|axis| Slice::from(piece[axis.axis.index()].clone()))
                    .map_inplace(|c| *c += 1);
            }
            assert!(count.iter().all(|&c| c == 1), "{inner:?}");
        }
    }

    #[test]
    fn packing_reads_the_product_of_the_lists_row_major() {
        let values: Vec<u32> = (0..2 * 3 * 4).collect();
        let packed = pack(&values, [2, 3, 4], &[vec![1], vec![0, 2], vec![1, 3]]);
        assert_eq!(packed, [13, 15, 21, 23]);
    }
}
