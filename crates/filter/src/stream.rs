//! Streaming FIR filtering by uniformly partitioned overlap-save: constant memory, a latency
//! of one block, any chunking.

use std::sync::Arc;

use conv_core::ConvNum;
use num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::error::{FilterError, check_alloc, check_coefficients, check_finite};

/// A FIR filter applied to a signal that arrives in pieces, by uniformly partitioned
/// overlap-save: the taps are cut into blocks of `block` taps whose spectra (transforms of
/// length `2 block`) are kept, and each new block of input is transformed once and multiplied
/// with every partition's spectrum against the spectra of the previous input blocks (a
/// frequency-domain delay line). One block of output comes out per block of input.
///
/// The concatenated outputs of [`process`](Self::process) followed by
/// [`finish`](Self::finish) equal `lfilter(taps, [1], x)` (to rounding) for any chunking of
/// `x`. Memory is `O(taps + block)` whatever the signal's length; the latency is one block
/// (an output sample is returned once the block holding its input is complete).
///
/// # Examples
/// ```
/// use filter::{lfilter, StreamingFir};
/// let taps = [0.25, 0.5, 0.25];
/// let x: Vec<f64> = (0..10).map(f64::from).collect();
/// let mut stream = StreamingFir::new(&taps, 4)?;
/// let mut y = Vec::new();
/// for chunk in x.chunks(3) {
///     stream.process(chunk, &mut y);
/// }
/// stream.finish(&mut y);
/// let reference = lfilter(&taps, &[1.0], &x)?;
/// assert!(y.iter().zip(&reference).all(|(a, b)| (a - b).abs() < 1e-12));
/// # Ok::<(), filter::FilterError>(())
/// ```
pub struct StreamingFir<T: ConvNum> {
    taps: usize,
    block: usize,
    /// The spectrum of each partition of the taps (`block + 1` bins each).
    partitions: Vec<Vec<Complex<T>>>,
    /// The spectra of the last `partitions.len()` input frames; `newest` indexes the latest.
    delay_line: Vec<Vec<Complex<T>>>,
    /// The input samples of the block each frame ends with (for [`StreamingFir::state`]).
    recent_blocks: Vec<Vec<T>>,
    newest: usize,
    /// The previous block of input then the current one (`2 block` samples).
    frame: Vec<T>,
    /// Samples of the current block received so far.
    filled: usize,
    forward: Arc<dyn RealToComplex<T>>,
    inverse: Arc<dyn ComplexToReal<T>>,
    accumulator: Vec<Complex<T>>,
    time: Vec<T>,
    scratch: Vec<Complex<T>>,
}

impl<T: ConvNum> std::fmt::Debug for StreamingFir<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingFir")
            .field("taps", &self.taps)
            .field("block", &self.block)
            .field("partitions", &self.partitions.len())
            .field("pending", &self.filled)
            .finish_non_exhaustive()
    }
}

/// What a [`StreamingFir`] remembers between calls, independent of its block size: the last
/// `taps - 1` inputs before the current block and the current block's inputs. Save it to resume
/// a stream later, in this or another filter with the same taps.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamState<T> {
    /// The `taps - 1` inputs before the pending ones, oldest first (zeros before the start).
    pub history: Vec<T>,
    /// Inputs received whose outputs have not been returned yet.
    pub pending: Vec<T>,
}

impl<T: ConvNum> StreamingFir<T> {
    /// A streaming filter with these taps and a block (and latency) of `block` samples.
    ///
    /// # Errors
    /// [`FilterError::Empty`] / [`FilterError::NotFinite`] for the taps,
    /// [`FilterError::Parameter`] for a zero block, [`FilterError::TooLarge`] when its buffers
    /// together would exceed [`crate::MAX_VALUES`] values.
    pub fn new(taps: &[T], block: usize) -> Result<Self, FilterError> {
        check_coefficients("the taps", taps)?;
        if block == 0 {
            return Err(FilterError::Parameter { name: "block", value: 0.0, expected: ">= 1" });
        }
        let count = taps.len().div_ceil(block);
        let frame_len = check_alloc("the frame", block.checked_mul(2))?;
        // Partition spectra and the delay line (2 (block + 1) values each per partition), the
        // recent blocks, and the frame, time and accumulator buffers: all in one budget.
        let total = block.checked_add(1).and_then(|bins| {
            bins.checked_mul(4)?
                .checked_add(block)?
                .checked_mul(count)?
                .checked_add(frame_len.checked_mul(3)?)
        });
        check_alloc("the streaming filter's buffers", total)?;
        let bins = block + 1;
        let mut planner = RealFftPlanner::<T>::new();
        let forward = planner.plan_fft_forward(frame_len);
        let inverse = planner.plan_fft_inverse(frame_len);
        let scratch_len = forward.get_scratch_len().max(inverse.get_scratch_len());
        let zero = Complex::new(T::zero(), T::zero());
        let mut filter = Self {
            taps: taps.len(),
            block,
            partitions: Vec::with_capacity(count),
            delay_line: vec![vec![zero; bins]; count],
            recent_blocks: vec![vec![T::zero(); block]; count],
            newest: 0,
            frame: vec![T::zero(); frame_len],
            filled: 0,
            forward,
            inverse,
            accumulator: vec![zero; bins],
            time: vec![T::zero(); frame_len],
            scratch: vec![zero; scratch_len],
        };
        // Each partition's taps at the start of a zero frame; the 1 / (2 block) of the inverse
        // transform is folded in here.
        let norm = T::one() / T::from_f64_lossy(frame_len as f64);
        for part in taps.chunks(block) {
            filter.time.fill(T::zero());
            for (slot, &tap) in filter.time.iter_mut().zip(part) {
                *slot = tap * norm;
            }
            let mut spectrum = vec![zero; bins];
            filter.transform_time_into(&mut spectrum);
            filter.partitions.push(spectrum);
        }
        Ok(filter)
    }

    /// The number of taps.
    #[must_use]
    pub fn taps(&self) -> usize {
        self.taps
    }

    /// The block size: outputs come out in blocks of this many samples.
    #[must_use]
    pub fn block(&self) -> usize {
        self.block
    }

    /// Samples received whose outputs have not been returned yet (less than one block).
    #[must_use]
    pub fn pending(&self) -> usize {
        self.filled
    }

    /// Feeds `input` and appends to `output` every output sample now complete (whole blocks).
    pub fn process(&mut self, input: &[T], output: &mut Vec<T>) {
        let block = self.block;
        let mut rest = input;
        while !rest.is_empty() {
            let take = (block - self.filled).min(rest.len());
            let start = block + self.filled;
            self.frame[start..start + take].copy_from_slice(&rest[..take]);
            self.filled += take;
            rest = &rest[take..];
            if self.filled == block {
                self.run_block(output, block);
            }
        }
    }

    /// Returns the outputs of the pending samples (the signal ends here, as if followed by
    /// zeros for the computation only) and starts a new stream from rest.
    pub fn finish(&mut self, output: &mut Vec<T>) {
        if self.filled > 0 {
            let block = self.block;
            let filled = self.filled;
            self.frame[block + filled..].fill(T::zero());
            self.run_block(output, filled);
        }
        self.reset();
    }

    /// Forgets every input: the next sample starts a new stream.
    pub fn reset(&mut self) {
        let zero = Complex::new(T::zero(), T::zero());
        for spectrum in &mut self.delay_line {
            spectrum.fill(zero);
        }
        for samples in &mut self.recent_blocks {
            samples.fill(T::zero());
        }
        self.frame.fill(T::zero());
        self.filled = 0;
        self.newest = 0;
    }

    /// The stream's state: the last `taps - 1` inputs before the pending block and the
    /// pending inputs.
    #[must_use]
    pub fn state(&self) -> StreamState<T> {
        let needed = self.taps - 1;
        let frames = self.recent_blocks.len();
        let mut history: Vec<T> = (0..frames)
            .rev()
            .flat_map(|age| &self.recent_blocks[(self.newest + frames - age) % frames])
            .copied()
            .collect();
        let history = history.split_off(history.len() - needed);
        StreamState { history, pending: self.frame[self.block..self.block + self.filled].to_vec() }
    }

    /// Resumes the stream from a saved state (of a filter with the same taps, any block size).
    ///
    /// # Errors
    /// [`FilterError::StateLength`] when the history is not `taps - 1` samples or more samples
    /// are pending than a block holds; [`FilterError::NotFinite`] for NaN or infinite values.
    pub fn restore(&mut self, state: &StreamState<T>) -> Result<(), FilterError> {
        if state.history.len() != self.taps - 1 {
            return Err(FilterError::StateLength { expected: self.taps - 1, got: state.history.len() });
        }
        if state.pending.len() >= self.block {
            return Err(FilterError::StateLength { expected: self.block - 1, got: state.pending.len() });
        }
        check_finite("the saved history", &state.history)?;
        check_finite("the saved pending samples", &state.pending)?;
        self.reset();
        let block = self.block;
        let frames = self.delay_line.len();
        // The history, zero-extended on the left to whole blocks, replayed frame by frame.
        let span = frames * block;
        let mut samples = vec![T::zero(); span.saturating_sub(state.history.len())];
        samples.extend(state.history.iter().skip(state.history.len().saturating_sub(span)));
        for chunk in samples.chunks(block) {
            self.frame[block..].copy_from_slice(chunk);
            self.push_frame_spectrum();
            self.frame.copy_within(block.., 0);
        }
        self.frame[block..block + state.pending.len()].copy_from_slice(&state.pending);
        self.filled = state.pending.len();
        Ok(())
    }

    /// Transforms the current frame into the delay line, multiplies and accumulates every
    /// partition, returns the first `count` samples of the block, and shifts the frame.
    fn run_block(&mut self, output: &mut Vec<T>, count: usize) {
        self.push_frame_spectrum();
        let zero = Complex::new(T::zero(), T::zero());
        self.accumulator.fill(zero);
        let frames = self.delay_line.len();
        for (age, partition) in self.partitions.iter().enumerate() {
            let input = &self.delay_line[(self.newest + frames - age) % frames];
            for ((acc, &h), &x) in self.accumulator.iter_mut().zip(partition).zip(input) {
                *acc = *acc + h * x;
            }
        }
        // The inverse transform of a real signal's spectrum: the DC and Nyquist bins are real.
        self.accumulator[0].im = T::zero();
        if let Some(last) = self.accumulator.last_mut() {
            last.im = T::zero();
        }
        let block = self.block;
        if self.inverse.process_with_scratch(&mut self.accumulator, &mut self.time, &mut self.scratch).is_ok()
        {
            output.extend_from_slice(&self.time[block..block + count]);
        }
        self.frame.copy_within(block.., 0);
        self.filled = 0;
    }

    /// The spectrum of the current frame, pushed into the delay line as its newest entry.
    fn push_frame_spectrum(&mut self) {
        let frames = self.delay_line.len();
        self.newest = (self.newest + 1) % frames;
        self.time.copy_from_slice(&self.frame);
        self.recent_blocks[self.newest].copy_from_slice(&self.frame[self.block..]);
        let mut spectrum = std::mem::take(&mut self.delay_line[self.newest]);
        self.transform_time_into(&mut spectrum);
        self.delay_line[self.newest] = spectrum;
    }

    /// The forward transform of `self.time` (which it overwrites) into `spectrum`.
    fn transform_time_into(&mut self, spectrum: &mut [Complex<T>]) {
        // Lengths are fixed at construction, so the transform cannot refuse them.
        let _ = self.forward.process_with_scratch(&mut self.time, spectrum, &mut self.scratch);
    }
}
