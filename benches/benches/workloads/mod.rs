//! Shared helpers of the benchmark modules.

pub mod image_2d;
pub mod layers;
pub mod signal_1d;
pub mod volume_3d;

use std::sync::Arc;

use conv_core::{Auto, ConvBackend, ConvNum, Geometry, registry};

/// Deterministic pseudo-random values in [-1, 1).
pub fn values<T: ConvNum>(len: usize, seed: u64) -> Vec<T> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            T::from_f64_lossy(((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0)
        })
        .collect()
}

/// The backends to time on `geometry`: every registered one that supports it and that the
/// model does not predict to take over a second, plus `auto`. Skips are reported on stderr.
pub fn backends_for<T: ConvNum>(geometry: &Geometry, shape: &str) -> Vec<Arc<dyn ConvBackend<T>>> {
    let _ = custom_backend::register(); // once; later calls report the duplicate, which is fine
    let auto = Auto::new();
    let dtype = std::any::type_name::<T>();
    let mut chosen: Vec<Arc<dyn ConvBackend<T>>> = registry::backends::<T>()
        .into_iter()
        .filter(|b| match b.supports(geometry) {
            Err(e) => {
                eprintln!("skip {}/{shape} ({dtype}): {e}", b.name());
                false
            }
            Ok(()) => {
                match auto
                    .profile()
                    .get(b.name(), dtype)
                    .and_then(|c| Some(c.predict(&b.cost_features(geometry).ok()?)))
                {
                    Some(p) if p > 1.0 => {
                        eprintln!("skip {}/{shape} ({dtype}): predicted {p:.1} s per call", b.name());
                        false
                    }
                    _ => true,
                }
            }
        })
        .collect();
    chosen.push(Arc::new(auto));
    chosen
}
