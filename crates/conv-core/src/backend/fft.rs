//! The FFT backend: the convolution theorem with rustfft.

use super::spectral::{Blocking, check_workspace, spectral_features, spectral_plan, spectral_threads};
use super::{ConvBackend, ConvPlan, ConvProblem};
use crate::error::ConvError;
use crate::geometry::Geometry;
use crate::num::ConvNum;

/// Multiplies spectra: `x * k = IFFT(FFT(x) . FFT(k))`.
///
/// Each padded input plane and each (flipped, dilated) kernel plane is zero-padded to an
/// `LH x LW` grid (`LD x LH x LW` for a volume), where `L` is a size rustfft transforms quickly that holds the padded input
/// ([`transform_len`]). Since a valid correlation only reads outputs whose window
/// lies inside the input, the wrap-around of the circular convolution never reaches them, so
/// `L >= input` suffices. Rows go through a real-to-complex transform (realfft, half the work of
/// a complex one), columns through rustfft. Input channels are summed in the frequency domain,
/// so each output plane costs one inverse transform whatever the channel count. Strided
/// outputs are computed at stride 1 and sampled.
///
/// The three passes of each 2-D transform (rows; per frequency column the column transforms,
/// the channel sums and the inverse columns; inverse rows) are shared out over the worker
/// threads when one image is large enough, and whole images when a batch is. A one-shot call
/// on one image transforms the kernel's columns alongside the input's, a few at a time, instead
/// of storing the kernel's whole spectrum first; a [plan](ConvBackend::plan) keeps that
/// spectrum for all its calls. A volume (a depth axis longer than one) goes through the 3-D
/// real transform: rows, then the height and depth passes, each shared out over the threads.
///
/// Cost: `O((N*C + O*Cg + N*O) * L log L)` transforms plus `O(N*O*Cg*L)` products, independent
/// of the kernel size: this backend wins for large kernels. Workspace: `max(C, O) + O*Cg`
/// spectra of `LD * LH * (LW/2 + 1)` complex values, refused over the cap ([`Fft::DEFAULT_CAP_BYTES`]
/// unless set with [`Fft::with_cap_bytes`]).
///
/// # Numerics
/// The error of each output is about `eps * log2(L)` times the norms of the operands, not of
/// the output: outputs much smaller than the operands lose relative accuracy (an exact zero
/// comes back as a tiny number). A NaN or infinity anywhere in an input plane spreads through
/// the transform to **every** output computed from that plane: every output channel of its
/// group in that batch item (other groups and other batch items stay finite). One in a kernel
/// plane spreads to every output of that kernel's output channel. What the backend receives is
/// not always the whole request: the front end solves a long padded signal as three problems
/// (its interior and its two edges, so the signal is not copied to be padded), and a NaN then
/// spreads only over the pieces that read it — the outputs of a piece that does not reach it
/// stay finite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fft {
    cap_bytes: usize,
}

impl Default for Fft {
    fn default() -> Self {
        Fft { cap_bytes: Self::DEFAULT_CAP_BYTES }
    }
}

/// The smallest `m >= n` whose prime factors are all 2, 3, 5 or 7 (even when `n > 2`, so the
/// real transform can use its half-length trick). These sizes are fast for rustfft.
///
/// # Examples
/// ```
/// assert_eq!(conv_core::next_fast_len(97), 98);
/// assert_eq!(conv_core::next_fast_len(1000), 1000);
/// assert_eq!(conv_core::next_fast_len(1), 1);
/// ```
pub fn next_fast_len(n: usize) -> usize {
    if n <= 2 {
        return n.max(1);
    }
    smallest_even_len(n, &[1], &[3, 5, 7]).unwrap_or(n)
}

/// The smallest even `m >= n` whose odd part is one of `seeds` times a product of powers of
/// `primes` (odd, ascending), or `None` if none fits in `usize`. Built from the odd parts, not
/// searched for upwards from `n`: such sizes thin out, and a scan took seconds at 10^12 (a
/// hand-built geometry may claim any length, and grids are sized before workspace checks).
fn smallest_even_len(n: usize, seeds: &[usize], primes: &[usize]) -> Option<usize> {
    /// Tries `odd` and every odd part it extends by the primes from `primes` on (each product
    /// once: primes never decrease along a chain).
    fn visit(n: usize, odd: usize, primes: &[usize], best: &mut Option<usize>) {
        let mut len = odd.checked_mul(2);
        while let Some(short) = len.filter(|&l| l < n) {
            len = short.checked_mul(2);
        }
        if let Some(len) = len {
            *best = Some(best.map_or(len, |b| b.min(len)));
        }
        // A larger odd part only gives larger lengths once twice this one reaches `n`.
        if odd.saturating_mul(2) >= n {
            return;
        }
        for (i, &p) in primes.iter().enumerate() {
            if let Some(next) = odd.checked_mul(p) {
                visit(n, next, &primes[i..], best);
            }
        }
    }
    let mut best = None;
    for &seed in seeds {
        visit(n, seed, primes, &mut best);
    }
    best
}

/// The transform length the FFT backends use for at least `n` samples: the smallest even `m >= n`
/// of the form `2^a * 3^b` or `2^a * 3^b * 5`, or the next power of two when that is at most
/// 1/8 longer. Not simply the smallest 7-smooth size ([`next_fast_len`]): rustfft's radix-2 and
/// radix-3 passes cost clearly less per point than repeated 5s and 7s, so a slightly longer
/// transform is often the quicker one. Measured here (f64, one core, a 2-D transform of each
/// size): 542 samples on 576 points take 0.88x the time of 560; 1000 on 1024, 0.65x of 1000;
/// 1500 on 1536, 0.58x of 1500; 350 on 360, 0.65x of 350.
///
/// # Examples
/// ```
/// use conv_core::transform_len;
/// assert_eq!(transform_len(542), 576); // 2^6 * 3^2 rather than 560 = 2^4 * 5 * 7
/// assert_eq!(transform_len(1000), 1024);
/// assert_eq!(transform_len(350), 360); // 2^3 * 3^2 * 5
/// assert_eq!(transform_len(1), 1);
/// ```
pub fn transform_len(n: usize) -> usize {
    if n <= 2 {
        return n.max(1);
    }
    // None fits in `usize`: `n` itself (a workspace check refuses it).
    let Some(quick_len) = smallest_even_len(n, &[1, 5], &[3]) else { return n };
    match n.checked_next_power_of_two() {
        Some(power) if power <= quick_len.saturating_add(quick_len / 8) => power,
        _ => quick_len,
    }
}

impl Fft {
    /// Default cap on the spectra workspace: 1 GiB.
    pub const DEFAULT_CAP_BYTES: usize = 1 << 30;

    /// An FFT backend whose spectra may take at most `cap_bytes` bytes.
    pub fn with_cap_bytes(cap_bytes: usize) -> Self {
        Fft { cap_bytes }
    }

    /// One tile: the whole stride-1 output, on a grid holding the whole padded input.
    fn blocking(g: &Geometry) -> [Blocking; 3] {
        g.axes().map(|axis| Blocking {
            grid: transform_len(axis.input),
            tile: axis.input - axis.effective_kernel() + 1,
        })
    }

    /// How many threads a call on this geometry keeps busy.
    pub(crate) fn threads(g: &Geometry) -> usize {
        spectral_threads(g, Self::blocking(g))
    }

    /// The transform grid `[LD, LH, LW]` for a geometry (`LD = 1` for a planar problem).
    pub fn grid(g: &Geometry) -> [usize; 3] {
        // Not read from `blocking`: this runs in `supports`, before the problem is known to fit.
        g.axes().map(|axis| transform_len(axis.input))
    }
}

impl<T: ConvNum> ConvBackend<T> for Fft {
    fn name(&self) -> &str {
        "fft"
    }

    fn supports(&self, g: &Geometry) -> Result<(), ConvError> {
        check_workspace::<T>(g, Self::grid(g), self.cap_bytes, "FFT workspace")
    }

    /// Transform work, spectrum products and row transforms on the whole grid (one tile),
    /// shared by the threads the call uses; values moved (`backend/spectral/cost.rs`).
    fn cost_features(&self, g: &Geometry) -> Result<Vec<f64>, ConvError> {
        let counts = crate::cost::Counts::of(g);
        Ok(spectral_features(g, &counts, Self::grid(g), 1.0, Self::threads(g)))
    }

    fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        let g = problem.geometry();
        <Self as ConvBackend<T>>::supports(self, g)?;
        spectral_plan("fft", g, problem.kernel(), Self::blocking(g), true)?.execute(problem.input(), output)
    }

    fn plan<'a>(&'a self, g: &Geometry, kernel: &[T]) -> Result<Box<dyn ConvPlan<T> + 'a>, ConvError> {
        <Self as ConvBackend<T>>::supports(self, g)?;
        spectral_plan("fft", g, kernel, Self::blocking(g), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The prime factors of `m` other than 2 and 3, with repeats (trial division).
    fn other_factors(mut m: usize) -> Vec<usize> {
        let mut factors = Vec::new();
        let mut p = 2;
        while p * p <= m {
            while m.is_multiple_of(p) {
                m /= p;
                if p > 3 {
                    factors.push(p);
                }
            }
            p += 1;
        }
        if m > 3 {
            factors.push(m);
        }
        factors
    }

    #[test]
    fn transform_lengths_are_even_quick_sizes_and_the_smallest_such() {
        for n in 3..5000 {
            let len = transform_len(n);
            assert!(len >= n && len.is_multiple_of(2), "{n} -> {len}");
            let others = other_factors(len);
            assert!(others.is_empty() || others == [5], "{n} -> {len} has factors {others:?}");
            let smallest_quick = (n..=len).find(|&m| {
                let f = other_factors(m);
                m % 2 == 0 && (f.is_empty() || f == [5])
            });
            match smallest_quick {
                Some(m) if m == len => {}
                // Only a power of two may stand in for a smaller quick size, at most 1/8 longer.
                Some(m) => assert!(len.is_power_of_two() && len <= m + m / 8, "{n} -> {len}, not {m}"),
                None => unreachable!("len itself is quick"),
            }
        }
        assert_eq!([transform_len(0), transform_len(1), transform_len(2)], [1, 1, 2]);
        // Worked cases: 560 = 2^4 * 5 * 7 and 1000 = 2^3 * 5^3 lose to 576 = 2^6 * 3^2 and 1024.
        assert_eq!(transform_len(542), 576);
        assert_eq!(transform_len(1000), 1024);
        assert_eq!(transform_len(230), 256); // 240 = 2^4 * 3 * 5 is within 1/8 of 256
        assert_eq!(transform_len(100), 108); // 128 is more than 1/8 over 108 = 2^2 * 3^3
    }

    #[test]
    fn next_fast_len_is_the_smallest_even_seven_smooth_size() {
        let seven_smooth = |m: usize| other_factors(m).iter().all(|&p| p <= 7);
        for n in 3..3000 {
            let scanned = (n..).find(|&m| m % 2 == 0 && seven_smooth(m));
            assert_eq!(Some(next_fast_len(n)), scanned, "{n}");
        }
        let len = next_fast_len(1_000_000_000_001);
        assert!(len >= 1_000_000_000_001 && len.is_multiple_of(2) && seven_smooth(len));
        assert_eq!(next_fast_len(usize::MAX), usize::MAX);
    }

    #[test]
    fn transform_lengths_of_huge_sizes_come_at_once() {
        // A hand-built geometry may claim any length; the grid is computed before the
        // workspace check refuses it, so it must not search for long.
        for n in [1_000_000_000_001, 1 << 62 | 1] {
            let len = transform_len(n);
            let quick = matches!(other_factors(len).as_slice(), [] | [5]);
            assert!(len >= n && len.is_multiple_of(2) && quick, "{n} -> {len}");
        }
        // No quick length fits in usize: the size itself comes back.
        assert_eq!(transform_len(usize::MAX), usize::MAX);
    }
}
