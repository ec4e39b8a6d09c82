//! The frequency-column passes: channel sums of spectra, gathering columns out of blocks of
//! rows, and the buffers each worker keeps.

use rustfft::num_complex::Complex;

use crate::geometry::Geometry;
use crate::num::ConvNum;

/// `product = sum over the group's input channels c of inputs[c] . kernels[o, c]`: spectra (or
/// columns of them) of `product.len()` values each, `inputs` one per input channel, `kernels`
/// one per kernel plane.
pub(super) fn channel_sum<T: ConvNum>(
    g: &Geometry,
    o: usize,
    inputs: &[Complex<T>],
    kernels: &[Complex<T>],
    product: &mut [Complex<T>],
) {
    let len = product.len();
    let (per_group, first_channel) = (g.in_per_group(), o / g.out_per_group() * g.in_per_group());
    for c in 0..per_group {
        let x = &inputs[(first_channel + c) * len..][..len];
        let w = &kernels[(o * per_group + c) * len..][..len];
        if c == 0 {
            product.iter_mut().zip(x).zip(w).for_each(|((p, &a), &b)| *p = a * b);
        } else {
            product.iter_mut().zip(x).zip(w).for_each(|((p, &a), &b)| *p = *p + a * b);
        }
    }
}

/// Copies columns out of blocks of rows into the groups of `block` (group `j`: `group_len`
/// values, plane `first_plane + p`'s column at `(first_plane + p) * lh`): for each of `planes`
/// planes of `rows` rows, `run_of(p, row_block)` is that block's run of the block's columns
/// (`ROW_BLOCK` values per column, its rows adjacent).
pub(super) fn gather_columns<'a, V: Copy + 'a>(
    block: &mut [V],
    [group_len, lh]: [usize; 2],
    first_plane: usize,
    [planes, rows]: [usize; 2],
    run_of: impl Fn(usize, usize) -> &'a [V],
) {
    for p in 0..planes {
        for row_block in 0..rows.div_ceil(ROW_BLOCK) {
            let first_row = row_block * ROW_BLOCK;
            let count = ROW_BLOCK.min(rows - first_row);
            for (j, run) in run_of(p, row_block).chunks_exact(ROW_BLOCK).enumerate() {
                let at = j * group_len + (first_plane + p) * lh + first_row;
                copy_run(&mut block[at..][..count], &run[..count]);
            }
        }
    }
}

/// `destination = source`, unrolled for a whole block of rows (a call to `memmove` for 8
/// values costs about what the copy does).
pub(super) fn copy_run<V: Copy>(destination: &mut [V], source: &[V]) {
    match (<&mut [V; ROW_BLOCK]>::try_from(&mut *destination), <&[V; ROW_BLOCK]>::try_from(source)) {
        (Ok(destination), Ok(source)) => *destination = *source,
        _ => destination.copy_from_slice(source),
    }
}

/// One worker's share of a buffer of blocks of rows (each `half_width * ROW_BLOCK` values,
/// frequency column after frequency column): its range of frequency columns, and the run of
/// those columns in every block.
pub(crate) struct ColumnRuns<'a, T> {
    pub(super) range: std::ops::Range<usize>,
    pub(super) runs: Vec<&'a mut [Complex<T>]>,
}

/// Planes of row spectra every worker of stage 2 reads whole (the kernel's, in a call that
/// transforms its columns): `planes` planes of `rows` rows in [`Plans::forward_rows`]'s layout.
pub(crate) struct SharedRows<'a, T> {
    pub(super) spectra: &'a [Complex<T>],
    pub(super) planes: usize,
    pub(super) rows: usize,
}

/// `buffer`'s blocks of rows cut by the column ranges of `threads` workers.
pub(super) fn column_runs<T>(
    buffer: &mut [Complex<T>],
    half_width: usize,
    threads: usize,
) -> Vec<ColumnRuns<'_, T>> {
    let ranges = column_ranges(half_width, threads);
    let blocks = buffer.len() / (half_width * ROW_BLOCK).max(1);
    let mut shares: Vec<ColumnRuns<'_, T>> =
        ranges.into_iter().map(|range| ColumnRuns { range, runs: Vec::with_capacity(blocks) }).collect();
    for block in buffer.chunks_exact_mut(half_width * ROW_BLOCK) {
        let mut rest = block;
        for share in &mut shares {
            let (mine, tail) = std::mem::take(&mut rest).split_at_mut(share.range.len() * ROW_BLOCK);
            share.runs.push(mine);
            rest = tail;
        }
    }
    shares
}

/// `0..columns` cut into `threads` (at least one) nearly equal ranges.
pub(super) fn column_ranges(columns: usize, threads: usize) -> Vec<std::ops::Range<usize>> {
    let threads = threads.clamp(1, columns.max(1));
    (0..threads).map(|t| t * columns / threads..(t + 1) * columns / threads).collect()
}

/// Frequency columns transposed together in [`Plans::forward_columns`] (each row read fetches
/// this many adjacent values).
pub(super) const COLUMN_BLOCK: usize = 8;

/// Grid rows gathered together in [`Plans::inverse_rows`] (each read of a column fetches up to
/// this many adjacent values).
pub(super) const ROW_BLOCK: usize = 8;

/// `buffer` grown to at least `len` values (new ones `fill`), as a slice of exactly `len`.
pub(super) fn at_least<V: Clone>(buffer: &mut Vec<V>, len: usize, fill: V) -> &mut [V] {
    if buffer.len() < len {
        buffer.resize(len, fill);
    }
    &mut buffer[..len]
}

/// The first `threads` (at least one) of a thread's worker buffers, made if missing.
pub(super) fn worker_buffers<T: ConvNum>(
    workers: &mut Vec<WorkerBuffers<T>>,
    threads: usize,
) -> &mut [WorkerBuffers<T>] {
    let threads = threads.max(1);
    if workers.len() < threads {
        workers.resize_with(threads, WorkerBuffers::default);
    }
    &mut workers[..threads]
}

/// The buffers one worker of a transform stage uses: a real grid row, a block of row spectra
/// and the transforms' scratch.
#[derive(Default)]
pub(crate) struct WorkerBuffers<T> {
    pub(super) real: Vec<T>,
    pub(super) block: Vec<Complex<T>>,
    pub(super) fft: Vec<Complex<T>>,
}
