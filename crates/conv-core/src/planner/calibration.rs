//! Timing and calibration, for benchmarks and for fitting a profile on a new machine (feature
//! `calibration`): the library's calls never time anything, so these stay out of its default
//! public surface. `bench-suite` times the peers with [`median_seconds`] and writes the shipped
//! profile with [`calibrate`] (its `calibrate` binary).

use super::cost::{Profile, fit};
use crate::error::ConvError;
use crate::geometry::Geometry;

/// Median seconds of `backend.execute` on `geometry` with deterministic pseudo-random data,
/// repeated for about `budget` (at least 3 runs after one warm-up).
///
/// # Errors
/// Whatever the backend refuses, size errors of the geometry, and [`ConvError::TooLarge`] when a
/// buffer would exceed [`DEFAULT_MAX_BUFFER_BYTES`](crate::DEFAULT_MAX_BUFFER_BYTES) (checked
/// before anything is allocated).
pub fn time_backend<T: crate::ConvNum>(
    backend: &dyn crate::ConvBackend<T>,
    geometry: &Geometry,
    budget: std::time::Duration,
) -> Result<f64, ConvError> {
    backend.supports(geometry)?;
    let value =
        |i: usize| T::from_f64_lossy(((i.wrapping_mul(2_654_435_761) >> 7) % 2001) as f64 / 1000.0 - 1.0);
    let cap = crate::DEFAULT_MAX_BUFFER_BYTES;
    let (input_len, kernel_len, output_len) =
        (geometry.input_len(), geometry.kernel_len(), geometry.output_len());
    for (len, what) in [(input_len, "input"), (kernel_len, "kernel"), (output_len, "output")] {
        crate::geometry::check_bytes(len, size_of::<T>(), cap, what)?;
    }
    let input = crate::buffers::collect((0..input_len).map(value), "input")?;
    let kernel = crate::buffers::collect((0..kernel_len).map(|i| value(i + 17)), "kernel")?;
    let problem = crate::ConvProblem::new(*geometry, &input, &kernel)?;
    let mut output = crate::buffers::filled(output_len, T::zero(), "output")?;
    median_seconds(budget, 25, || backend.execute(&problem, &mut output))
}

/// Median wall time of `run` in seconds: one warm-up call, then at least 3 timed calls and more
/// while `budget` lasts, up to `max_samples`. Stops at the first error.
///
/// # Errors
/// The first error `run` returns.
pub fn median_seconds<E>(
    budget: std::time::Duration,
    max_samples: usize,
    mut run: impl FnMut() -> Result<(), E>,
) -> Result<f64, E> {
    run()?;
    let start = std::time::Instant::now();
    let mut samples = Vec::new();
    while samples.len() < 3 || (start.elapsed() < budget && samples.len() < max_samples) {
        let t = std::time::Instant::now();
        run()?;
        samples.push(t.elapsed().as_secs_f64());
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples[samples.len() / 2])
}

/// Times every backend on every geometry and fits its coefficients (see [`fit`]), giving the
/// profile for element type `T`. Backends that refuse a geometry are simply not timed there.
pub fn calibrate<T: crate::ConvNum>(
    backends: &[std::sync::Arc<dyn crate::ConvBackend<T>>],
    geometries: &[Geometry],
    budget: std::time::Duration,
    mut progress: impl FnMut(&str, &Geometry),
) -> Profile {
    let mut profile = Profile::default();
    let dtype = super::dtype_name::<T>();
    for backend in backends {
        let samples: Vec<(Vec<f64>, f64)> = geometries
            .iter()
            .filter_map(|g| {
                progress(backend.name(), g);
                let features = backend.cost_features(g).ok()?;
                time_backend(backend.as_ref(), g, budget).ok().map(|t| (features, t))
            })
            .collect();
        if let Some(coefficients) = fit(&samples) {
            profile.insert(backend.name(), dtype, coefficients);
        }
    }
    profile
}
