//! Sharing element-wise and per-image work of the layers out over conv-core's worker threads.
//!
//! The layers' copies, activations and pooling gradients run between the convolutions, where
//! nothing else keeps the second core busy; below [`PARALLEL_MIN_VALUES`] values, or when
//! already on a worker, they stay on the calling thread.

/// Below this many values work runs on the calling thread (handing it to a worker costs about
/// as much as copying this many values).
pub(crate) const PARALLEL_MIN_VALUES: usize = 1 << 16;

/// Runs `work(first_item, items)` over runs of whole items of `dst` (`item_len` values each),
/// on up to [`conv_core::parallel::max_threads`] worker threads when `dst` is large enough, on
/// the calling thread otherwise.
pub(crate) fn for_item_runs<T: Send>(dst: &mut [T], item_len: usize, work: impl Fn(usize, &mut [T]) + Sync) {
    let threads = if dst.len() < PARALLEL_MIN_VALUES || conv_core::parallel::inside_worker() {
        1
    } else {
        conv_core::parallel::max_threads()
    };
    let mut runs = vec![(); threads];
    let done = conv_core::parallel::split_items(dst, item_len, &mut runs, |run, first, ()| {
        work(first, run);
        Ok::<(), std::convert::Infallible>(())
    });
    if let Err(never) = done {
        match never {}
    }
}
