//! ndarray-conv, the Rust crate a user would otherwise reach for, timed in this process as a
//! peer: its direct `conv` and its `conv_fft`, each on the same arrays as ours.

use std::time::Duration;

use conv_core::Mode;
use conv_core::calibration::median_seconds;
use ndarray::{Array1, Array2};
use ndarray_conv::{ConvExt, ConvFFTExt, ConvMode, PaddingMode};

use crate::grid::values;

/// Times the peer's calls within a budget each: `(call name, median seconds)`.
pub type RustPeer = Box<dyn Fn(Duration) -> Vec<(String, f64)>>;

/// Above this many multiply-adds ndarray-conv's direct `conv` is not timed (seconds per call;
/// its FFT call is the one that counts there).
const MAX_DIRECT_MULTIPLY_ADDS: usize = 100_000_000;

fn mode<const N: usize>(mode: Mode) -> ConvMode<N> {
    match mode {
        Mode::Full => ConvMode::Full,
        Mode::Same => ConvMode::Same,
        Mode::Valid => ConvMode::Valid,
    }
}

macro_rules! peer_calls {
    ($signal:ident, $image:ident, $t:ty) => {
        /// ndarray-conv on the 1-D problem of the grid (full mode).
        pub fn $signal(n: usize, k: usize) -> RustPeer {
            let x = Array1::from_iter(values(n, 1).into_iter().map(|v| v as $t));
            let h = Array1::from_iter(values(k, 2).into_iter().map(|v| v as $t));
            Box::new(move |budget| {
                let mut times = Vec::new();
                if n * k <= MAX_DIRECT_MULTIPLY_ADDS {
                    if let Ok(s) = median_seconds(budget, 50, || {
                        x.conv(&h, mode::<1>(Mode::Full), PaddingMode::Zeros).map(drop)
                    }) {
                        times.push(("ndarray-conv conv".to_string(), s));
                    }
                }
                if let Ok(s) = median_seconds(budget, 50, || {
                    x.conv_fft(&h, mode::<1>(Mode::Full), PaddingMode::Zeros).map(drop)
                }) {
                    times.push(("ndarray-conv conv_fft".to_string(), s));
                }
                times
            })
        }

        /// ndarray-conv on the 2-D problem of the grid.
        pub fn $image(n: usize, k: usize, conv_mode: Mode) -> RustPeer {
            let x = Array2::from_shape_vec((n, n), values(n * n, 3).into_iter().map(|v| v as $t).collect())
                .unwrap_or_default();
            let h = Array2::from_shape_vec((k, k), values(k * k, 4).into_iter().map(|v| v as $t).collect())
                .unwrap_or_default();
            Box::new(move |budget| {
                let mut times = Vec::new();
                if n * n * k * k <= MAX_DIRECT_MULTIPLY_ADDS {
                    if let Ok(s) = median_seconds(budget, 50, || {
                        x.conv(&h, mode::<2>(conv_mode), PaddingMode::Zeros).map(drop)
                    }) {
                        times.push(("ndarray-conv conv".to_string(), s));
                    }
                }
                if let Ok(s) = median_seconds(budget, 50, || {
                    x.conv_fft(&h, mode::<2>(conv_mode), PaddingMode::Zeros).map(drop)
                }) {
                    times.push(("ndarray-conv conv_fft".to_string(), s));
                }
                times
            })
        }
    };
}

peer_calls!(signal_1d_f64, image_2d_f64, f64);
peer_calls!(signal_1d_f32, image_2d_f32, f32);
