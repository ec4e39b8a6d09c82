//! Plans: a backend prepared once for a fixed geometry and kernel, then executed many times.

use super::{ConvBackend, ConvProblem, check_buffer_len};
use crate::error::ConvError;
use crate::geometry::Geometry;
use crate::num::ConvNum;

/// A convolution prepared for one geometry and one kernel bank: whatever depends only on them
/// (kernel spectra, the Toeplitz matrix, transform plans, scratch buffers) is computed once.
///
/// Plans are `Send + Sync`; a plan used from several threads at once allocates fresh scratch
/// for the calls that find its own scratch busy, so it never blocks and never shares buffers.
pub trait ConvPlan<T: ConvNum>: Send + Sync {
    /// The name of the backend that made the plan.
    fn backend_name(&self) -> &str;

    /// The problem shape the plan was made for.
    fn geometry(&self) -> &Geometry;

    /// Solves the planned problem for a new padded input (`[N, C, H, W]`, row-major), writing
    /// `[N, O, OH, OW]` into `output`.
    ///
    /// # Errors
    /// [`ConvError::BufferLength`] if `input` or `output` has the wrong length.
    fn execute(&self, input: &[T], output: &mut [T]) -> Result<(), ConvError>;

    /// Solves the planned problem for a new padded input stored channels last
    /// (`[N, H, W, C]`), writing `[N, OH, OW, O]` into `output`. The default transposes to
    /// channels first, calls [`execute`](ConvPlan::execute) and transposes back.
    ///
    /// # Errors
    /// As [`execute`](ConvPlan::execute).
    fn execute_channels_last(&self, input: &[T], output: &mut [T]) -> Result<(), ConvError> {
        super::layout::plan_through_channels_first(self, input, output)
    }
}

/// The plan every backend gets by default: it keeps a copy of the kernel and calls
/// [`ConvBackend::execute`] each time.
pub(crate) struct KernelPlan<'a, B: ?Sized, T> {
    backend: &'a B,
    geometry: Geometry,
    kernel: Vec<T>,
}

impl<'a, B: ConvBackend<T> + ?Sized, T: ConvNum> KernelPlan<'a, B, T> {
    pub(crate) fn new(backend: &'a B, geometry: &Geometry, kernel: &[T]) -> Result<Self, ConvError> {
        check_buffer_len("kernel", geometry.kernel_len(), kernel.len())?;
        backend.supports(geometry)?;
        Ok(KernelPlan { backend, geometry: *geometry, kernel: kernel.to_vec() })
    }
}

impl<B: ConvBackend<T> + ?Sized, T: ConvNum> ConvPlan<T> for KernelPlan<'_, B, T> {
    fn backend_name(&self) -> &str {
        self.backend.name()
    }

    fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    fn execute(&self, input: &[T], output: &mut [T]) -> Result<(), ConvError> {
        self.backend.execute(&ConvProblem::new(self.geometry, input, &self.kernel)?, output)
    }

    fn execute_channels_last(&self, input: &[T], output: &mut [T]) -> Result<(), ConvError> {
        self.backend.execute_channels_last(&ConvProblem::new(self.geometry, input, &self.kernel)?, output)
    }
}

/// Scratch owned by a plan: taken for a call if free, otherwise a fresh one is made.
pub(crate) struct Scratch<S> {
    slot: std::sync::Mutex<Option<S>>,
}

impl<S> Scratch<S> {
    pub(crate) fn new(initial: S) -> Self {
        Scratch { slot: std::sync::Mutex::new(Some(initial)) }
    }

    /// Runs `work` with the plan's scratch when it is free, or with `make()` when another
    /// thread holds it.
    pub(crate) fn with<R>(&self, make: impl FnOnce() -> S, work: impl FnOnce(&mut S) -> R) -> R {
        let taken = self.slot.try_lock().ok().and_then(|mut slot| slot.take());
        let mut scratch = taken.unwrap_or_else(make);
        let result = work(&mut scratch);
        if let Ok(mut slot) = self.slot.try_lock() {
            *slot = Some(scratch);
        }
        result
    }
}

/// Buffers larger than this are freed after a call instead of kept for the thread's next one.
const KEEP_BUFFER_BYTES: usize = 64 << 20;

/// Scratch that a thread keeps between calls, up to [`KEEP_BUFFER_BYTES`].
/// The patch and product buffers of each thread of a call (im2col, channels last).
pub(crate) type ThreadBuffers<T> = Vec<(Vec<T>, Vec<T>)>;

pub(crate) trait ThreadScratch: Default + 'static {
    /// Bytes the scratch holds on to.
    fn bytes(&self) -> usize;
}

impl<T: ConvNum> ThreadScratch for (Vec<T>, Vec<T>) {
    fn bytes(&self) -> usize {
        (self.0.capacity() + self.1.capacity()) * size_of::<T>()
    }
}

impl<T: ConvNum> ThreadScratch for Vec<(Vec<T>, Vec<T>)> {
    fn bytes(&self) -> usize {
        self.iter().map(ThreadScratch::bytes).sum()
    }
}

/// Runs `work` with a pair of buffers kept per thread between calls (a one-shot `execute` then
/// does not pay for allocating and faulting in fresh memory every time). Buffers come back with
/// whatever the last call left in them; `work` must size and overwrite what it reads.
pub(crate) fn with_thread_buffers<T: ConvNum, R>(work: impl FnOnce(&mut (Vec<T>, Vec<T>)) -> R) -> R {
    with_thread_scratch(work)
}

/// Runs `work` with scratch of type `S` kept per thread between calls, as
/// [`with_thread_buffers`] (which is this for one pair of buffers).
pub(crate) fn with_thread_scratch<S: ThreadScratch, R>(work: impl FnOnce(&mut S) -> R) -> R {
    use std::any::Any;
    use std::cell::RefCell;
    thread_local! {
        static POOL: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
    }
    let taken = POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let index = pool.iter().position(|b| b.is::<S>())?;
        pool.swap_remove(index).downcast::<S>().ok()
    });
    let mut scratch = taken.map_or_else(S::default, |b| *b);
    let result = work(&mut scratch);
    if scratch.bytes() <= KEEP_BUFFER_BYTES {
        POOL.with(|pool| pool.borrow_mut().push(Box::new(scratch)));
    }
    result
}
