//! The machine's floating-point peak, measured: independent FMA chains on every core.
//!
//! Reports read GFLOP/s as a fraction of this peak. The loop needs the FMA instructions the
//! compiler does not emit for the baseline x86-64 target, so it is compiled for AVX-512 or
//! AVX2+FMA and chosen at run time after feature detection.
#![allow(unsafe_code)]

use std::time::Instant;

/// Measured peak in GFLOP/s for f32 and f64 (both cores), or `None` without AVX2+FMA.
#[derive(Clone, Copy, Debug)]
pub struct Peak {
    /// Single precision.
    pub f32_gflops: f64,
    /// Double precision.
    pub f64_gflops: f64,
}

/// Multiply-adds per lane per call of a kernel: 12 chains x `ROUNDS`.
const ROUNDS: usize = 20_000;
const CHAINS: usize = 12;

#[cfg(target_arch = "x86_64")]
mod kernels {
    use std::arch::x86_64::*;

    use super::{CHAINS, ROUNDS};

    /// 12 independent FMA chains of 16 f32 lanes.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn f32_avx512(seed: f32) -> f32 {
        let mut acc = [_mm512_set1_ps(seed); CHAINS];
        let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        for _ in 0..ROUNDS {
            for chain in &mut acc {
                *chain = _mm512_fmadd_ps(*chain, a, b);
            }
        }
        acc.iter().map(|v| _mm512_reduce_add_ps(*v)).sum()
    }

    /// 12 independent FMA chains of 8 f64 lanes.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn f64_avx512(seed: f64) -> f64 {
        let mut acc = [_mm512_set1_pd(seed); CHAINS];
        let (a, b) = (_mm512_set1_pd(0.999_999), _mm512_set1_pd(1e-7));
        for _ in 0..ROUNDS {
            for chain in &mut acc {
                *chain = _mm512_fmadd_pd(*chain, a, b);
            }
        }
        acc.iter().map(|v| _mm512_reduce_add_pd(*v)).sum()
    }

    /// 12 independent FMA chains of 8 f32 lanes.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn f32_avx2(seed: f32) -> f32 {
        let mut acc = [_mm256_set1_ps(seed); CHAINS];
        let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        for _ in 0..ROUNDS {
            for chain in &mut acc {
                *chain = _mm256_fmadd_ps(*chain, a, b);
            }
        }
        let mut lanes = [0.0f32; 8];
        acc.iter()
            .map(|v| {
                // SAFETY: `lanes` holds the 8 f32 values the store writes.
                unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), *v) };
                lanes.iter().sum::<f32>()
            })
            .sum()
    }

    /// 12 independent FMA chains of 4 f64 lanes.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn f64_avx2(seed: f64) -> f64 {
        let mut acc = [_mm256_set1_pd(seed); CHAINS];
        let (a, b) = (_mm256_set1_pd(0.999_999), _mm256_set1_pd(1e-7));
        for _ in 0..ROUNDS {
            for chain in &mut acc {
                *chain = _mm256_fmadd_pd(*chain, a, b);
            }
        }
        let mut lanes = [0.0f64; 4];
        acc.iter()
            .map(|v| {
                // SAFETY: `lanes` holds the 4 f64 values the store writes.
                unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), *v) };
                lanes.iter().sum::<f64>()
            })
            .sum()
    }
}

/// Runs `kernel` on every core in a few short windows; returns the best window's GFLOP/s given
/// `lanes` per vector. The best, not the mean: another tenant of a shared machine taking a core
/// for part of one window would otherwise halve the "peak" (runs here measured 172 instead of
/// about 320 GFLOP/s f32 with a single long window).
fn measure(kernel: fn() -> f64, lanes: usize) -> f64 {
    const WINDOWS: usize = 6;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let calls = 400;
    for _ in 0..1000 {
        kernel(); // warm up: let the clock and the vector units ramp up
    }
    let flops = 2.0 * (lanes * CHAINS * ROUNDS * calls * threads) as f64;
    (0..WINDOWS)
        .map(|_| {
            let start = Instant::now();
            let sink: f64 = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|_| scope.spawn(move || (0..calls).map(|_| kernel()).sum::<f64>()))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
            });
            let seconds = start.elapsed().as_secs_f64();
            std::hint::black_box(sink);
            flops / seconds / 1e9
        })
        .fold(0.0, f64::max)
}

/// Measures the peak (about half a second).
pub fn measure_peak() -> Option<Peak> {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: AVX-512F was detected on this CPU just above.
            let f32_gflops = measure(|| f64::from(unsafe { kernels::f32_avx512(1.0) }), 16);
            // SAFETY: as above.
            let f64_gflops = measure(|| unsafe { kernels::f64_avx512(1.0) }, 8);
            return Some(Peak { f32_gflops, f64_gflops });
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: AVX2 and FMA were detected on this CPU just above.
            let f32_gflops = measure(|| f64::from(unsafe { kernels::f32_avx2(1.0) }), 8);
            // SAFETY: as above.
            let f64_gflops = measure(|| unsafe { kernels::f64_avx2(1.0) }, 4);
            return Some(Peak { f32_gflops, f64_gflops });
        }
    }
    None
}
