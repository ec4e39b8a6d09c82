//! Splitting one backend call over the machine's cores.
//!
//! The backends split their output into contiguous pieces, one per thread, when the problem
//! is large enough that handing work to another thread pays for itself. The pieces run on one
//! pool of worker threads (rayon), started on first use and kept, so that what a thread keeps
//! between calls (scratch buffers, the allocator's per-thread arena) survives and no call pays
//! for starting a thread. Work that is already running on one of these threads stays on it: a
//! backend called from inside another split (the CNN layers split a batch) does not split
//! again. [`split_items`] is public for code that splits its own work this way.
//!
//! The thread count is the machine's available parallelism, or `CONVKIT_NUM_THREADS` when set
//! (like `OMP_NUM_THREADS`; `1` turns threading off, which is how single-threaded peers are
//! compared fairly).

use std::cell::Cell;
use std::sync::OnceLock;

thread_local! {
    static INSIDE_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// How many threads a backend call may use: `CONVKIT_NUM_THREADS` if it is a positive integer,
/// otherwise the machine's available parallelism.
///
/// # Examples
/// ```
/// assert!(conv_core::parallel::max_threads() >= 1);
/// ```
pub fn max_threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        std::env::var("CONVKIT_NUM_THREADS")
            .ok()
            .and_then(|value| value.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
}

/// Whether the calling thread is already one of the workers of a split call.
pub fn inside_worker() -> bool {
    INSIDE_WORKER.with(Cell::get)
}

/// Runs `work` on the calling thread marked as a worker, so backends it calls stay serial.
///
/// Code that does its own splitting (the CNN layers split a batch) wraps each piece in this.
///
/// # Examples
/// ```
/// use conv_core::parallel::{inside_worker, as_worker};
/// assert!(!inside_worker());
/// assert!(as_worker(inside_worker));
/// assert!(!inside_worker());
/// ```
pub fn as_worker<R>(work: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            INSIDE_WORKER.with(|flag| flag.set(self.0));
        }
    }
    let _restore = Restore(INSIDE_WORKER.with(|flag| flag.replace(true)));
    work()
}

/// Multiply-adds of direct-sum work per thread below which a backend call uses fewer threads:
/// about half a millisecond of work (measured on the 2-core machine, splitting smaller calls
/// made them slower). Direct, im2col (channels first and last) and the FFT plans share it.
pub const MIN_MULTIPLY_ADDS_PER_THREAD: u128 = 1 << 22;

/// How many threads a call with `work_units` units of work should use, given that one thread
/// should have at least `min_units_per_thread` of them.
pub(crate) fn threads_for(work_units: u128, min_units_per_thread: u128) -> usize {
    if inside_worker() {
        return 1;
    }
    let wanted = work_units / min_units_per_thread.max(1);
    usize::try_from(wanted).unwrap_or(usize::MAX).clamp(1, max_threads())
}

/// Splits `output` into `threads` contiguous pieces of nearly equal length and runs
/// `work(piece, offset_of_piece)` on each, as [`split_items`]. Returns the first error any piece
/// reports.
pub(crate) fn split_output<T, E, F>(output: &mut [T], threads: usize, work: F) -> Result<(), E>
where
    T: Send,
    E: Send,
    F: Fn(&mut [T], usize) -> Result<(), E> + Sync,
{
    let mut no_state = vec![(); threads.clamp(1, output.len().max(1))];
    split_items(output, 1, &mut no_state, |piece, offset, ()| work(piece, offset))
}

/// The worker threads every split call runs on: [`max_threads`] of them, started on first use
/// and kept, so a thread's scratch buffers (and the allocator's per-thread state) outlive one
/// call, and no call pays for starting threads. `None` if the threads cannot be started; the
/// work then runs on the calling thread.
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(max_threads())
            .thread_name(|index| format!("convkit-{index}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// Splits `output`, a run of items of `item_len` elements each, into one piece of whole items
/// per entry of `states` (fewer if there are fewer items), and runs
/// `work(piece, first_item, state)` on each with its own state. With more than one piece, the
/// pieces run on the crate's worker threads (kept between calls) while the caller waits; inside
/// them, [`inside_worker`] is true, so nested calls stay serial. Returns the first error (in
/// piece order) any piece reports; a panic in a piece is resumed on the caller.
///
/// # Errors
/// The first error `work` returns.
///
/// # Examples
/// ```
/// // Seven items of three values over two workers: pieces of four and three items.
/// let mut output = vec![0_usize; 21];
/// let mut seen = vec![0_usize; 2];
/// conv_core::parallel::split_items(&mut output, 3, &mut seen, |piece, first_item, items| {
///     *items = piece.len() / 3;
///     piece.iter_mut().enumerate().for_each(|(i, v)| *v = first_item * 3 + i);
///     Ok::<(), ()>(())
/// })
/// .unwrap();
/// assert!(output.iter().enumerate().all(|(i, &v)| v == i));
/// assert_eq!(seen, [4, 3]);
/// ```
pub fn split_items<T, S, E, F>(output: &mut [T], item_len: usize, states: &mut [S], work: F) -> Result<(), E>
where
    T: Send,
    S: Send,
    E: Send,
    F: Fn(&mut [T], usize, &mut S) -> Result<(), E> + Sync,
{
    // An item of no elements is treated as one element long, so pieces are never empty chunks.
    let item_len = item_len.max(1);
    let items = output.len() / item_len;
    let threads = states.len().min(items).max(1);
    let Some(first_state) = states.first_mut() else {
        return Ok(());
    };
    if threads == 1 {
        return work(output, 0, first_state);
    }
    let items_per_piece = items.div_ceil(threads);
    let pieces = output.chunks_mut(items_per_piece * item_len).zip(states.iter_mut());
    let Some(pool) = pool() else {
        return pieces.enumerate().try_for_each(|(index, (piece, state))| {
            as_worker(|| work(piece, index * items_per_piece, state))
        });
    };
    let mut results: Vec<Result<(), E>> = (0..threads).map(|_| Ok(())).collect();
    pool.scope(|scope| {
        for (index, ((piece, state), result)) in pieces.zip(results.iter_mut()).enumerate() {
            let work = &work;
            scope.spawn(move |_| *result = as_worker(|| work(piece, index * items_per_piece, state)));
        }
    });
    results.into_iter().find(Result::is_err).unwrap_or(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_output_once_with_their_offsets() {
        let mut output = vec![0_usize; 1001];
        split_output(&mut output, 3, |piece, offset| {
            for (i, value) in piece.iter_mut().enumerate() {
                *value += offset + i;
            }
            Ok::<(), ()>(())
        })
        .ok();
        assert!(output.iter().enumerate().all(|(i, &v)| v == i));
    }

    #[test]
    fn workers_do_not_split_again() {
        let mut output = vec![0_usize; 8];
        split_output(&mut output, 2, |piece, _| {
            piece.fill(threads_for(1 << 40, 1));
            Ok::<(), ()>(())
        })
        .ok();
        assert!(output.iter().all(|&threads| threads == 1));
    }

    #[test]
    fn item_pieces_hold_whole_items_and_their_own_state() {
        // 7 items of 3 elements over 3 states: pieces of 3, 3 and 1 items.
        let mut output = vec![0_usize; 21];
        let mut states = vec![0_usize; 3];
        split_items(&mut output, 3, &mut states, |piece, first_item, state| {
            *state = piece.len() / 3;
            for (i, value) in piece.iter_mut().enumerate() {
                *value = first_item * 3 + i;
            }
            Ok::<(), ()>(())
        })
        .ok();
        assert!(output.iter().enumerate().all(|(i, &v)| v == i));
        assert_eq!(states, [3, 3, 1]);
    }

    #[test]
    fn an_error_of_any_piece_is_returned() {
        let mut output = vec![0_u8; 10];
        let result = split_output(&mut output, 2, |_, offset| if offset > 0 { Err(offset) } else { Ok(()) });
        assert_eq!(result, Err(5));
    }
}
