//! f32 accuracy per backend, measured against the f64 Direct result: the bounds below are the
//! measured errors with a margin, and the README states them. Errors are relative to
//! `sum |k| * max |x|`, the largest an output can be.
//!
//! `cargo test -p conv-core --test suite accuracy -- --nocapture` prints the table.

use conv_core::{ConvBackend, Mode, builtin_backends, convolve_with};
use ndarray::Array1;

fn pseudo_random(n: usize, seed: u64) -> Array1<f64> {
    let mut state = seed;
    Array1::from_shape_fn(n, |_| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    })
}

/// Relative f32 errors of `backend` on a length-`n` signal and a `taps`-tap kernel — the worst
/// output against `sum |k| max |x|`, and the RMS error against the RMS output — or `None` if
/// the backend refuses the size.
fn relative_error(backend: &dyn ConvBackend<f32>, n: usize, taps: usize) -> Option<(f64, f64)> {
    let (x, k) = (pseudo_random(n, n as u64), pseudo_random(taps, taps as u64 + 7));
    let reference = convolve_with(&x, &k, Mode::Full, &conv_core::Direct).ok()?;
    let (x32, k32) = (x.mapv(|v| v as f32), k.mapv(|v| v as f32));
    let got = convolve_with(&x32, &k32, Mode::Full, backend).ok()?;
    let scale = k.iter().map(|v| v.abs()).sum::<f64>() * x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst =
        got.iter().zip(&reference).map(|(g, r)| (f64::from(*g) - r).abs()).fold(0.0, f64::max) / scale;
    let rms = (got.iter().zip(&reference).map(|(g, r)| (f64::from(*g) - r).powi(2)).sum::<f64>()
        / reference.iter().map(|r| r * r).sum::<f64>())
    .sqrt();
    Some((worst, rms))
}

#[test]
fn f32_errors_stay_within_the_stated_bounds() {
    let eps = f64::from(f32::EPSILON);
    println!(
        "{:<14} {:>8} {:>6} {:>12} {:>8} {:>12} {:>8}",
        "backend", "n", "taps", "worst", "/ eps", "rms", "/ eps"
    );
    for backend in builtin_backends::<f32>() {
        for (n, taps) in [(256, 7), (4096, 63), (65_536, 63), (1 << 20, 255)] {
            let Some((error, rms)) = relative_error(backend.as_ref(), n, taps) else {
                println!("{:<14} {n:>8} {taps:>6} {:>12}", backend.name(), "refused");
                continue;
            };
            println!(
                "{:<14} {n:>8} {taps:>6} {error:>12.3e} {:>8.2} {rms:>12.3e} {:>8.2}",
                backend.name(),
                error / eps,
                rms / eps
            );
            // Sums of `taps` products: a few eps whatever the order. Transforms: the error of a
            // length-L FFT grows like log2(L); L is at most the padded length here.
            let transform = matches!(backend.name(), "fft" | "overlap-save");
            let bound = if transform { 2.0 * eps * ((n + taps) as f64).log2() } else { 2.0 * eps };
            assert!(error <= bound, "{} n={n} taps={taps}: {error:e} > {bound:e}", backend.name());
            assert!(rms <= 4.0 * bound, "{} n={n} taps={taps}: rms {rms:e}", backend.name());
        }
    }
}
