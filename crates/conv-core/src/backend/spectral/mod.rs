//! Shared machinery of the FFT-based backends: 2-D real transforms on a fixed grid, kernel
//! spectra, channel sums in the frequency domain, and the scratch of one call. Not a backend itself.
//!
//! One file per part: `transforms.rs` (the 2-D transform stages on a grid), `columns.rs` (the
//! frequency-column passes and per-worker buffers), `kernel.rs` (kernel spectra), `threads.rs`
//! (how a call is tiled and shared over the cores) and `plan.rs` (the plan both backends run).
//! The process-wide planner cache and the workspace check are here.

mod columns;
mod cost;
mod kernel;
mod plan;
#[cfg(test)]
mod tests;
mod threads;
mod transforms;
mod volume;

pub(crate) use cost::spectral_features;
pub(crate) use plan::SpectralPlan;
pub(crate) use threads::call_threads;
pub(crate) use volume::VolumePlan;

use realfft::RealFftPlanner;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

use crate::error::ConvError;
use crate::geometry::{Geometry, check_bytes, checked_product};
use crate::num::ConvNum;

/// The plan of a transform backend for `g` tiled by `blocking` (one entry per axis): the staged
/// 2-D plan for a planar problem (`one_call`: one that will run once, see
/// [`SpectralPlan::for_one_call`]), the volume plan otherwise.
///
/// # Errors
/// [`ConvError::BufferLength`] for a kernel of the wrong length; allocation failures.
pub(crate) fn spectral_plan<'a, T: ConvNum>(
    name: &'static str,
    g: &Geometry,
    kernel: &[T],
    blocking: [Blocking; 3],
    one_call: bool,
) -> Result<Box<dyn crate::backend::ConvPlan<T> + 'a>, ConvError> {
    let [_, rows, cols] = blocking;
    Ok(match (g.is_planar(), one_call) {
        (true, true) => Box::new(SpectralPlan::for_one_call(name, g, kernel, [rows, cols])?),
        (true, false) => Box::new(SpectralPlan::new(name, g, kernel, [rows, cols])?),
        (false, _) => Box::new(VolumePlan::new(name, g, kernel, blocking)?),
    })
}

/// How many threads a call of a transform backend tiled by `blocking` keeps busy.
pub(crate) fn spectral_threads(g: &Geometry, blocking: [Blocking; 3]) -> usize {
    let [_, rows, cols] = blocking;
    if g.is_planar() { call_threads(g, [rows, cols]) } else { volume::threads(blocking) }
}

/// Transform-grid size and output-tile size along one axis: each tile of `tile` stride-1 outputs
/// reads `grid` input samples (`tile + span - 1`, or fewer at the end).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Blocking {
    pub(crate) grid: usize,
    pub(crate) tile: usize,
}

/// Refuses with [`ConvError::TooLarge`] when the spectra of one call (every kernel plane, and
/// every input channel of a batch item or every output plane, whichever are more: they share a
/// buffer; one more for a volume's products) on a `grid` `[LD, LH, LW]` exceed `cap_bytes`.
pub(crate) fn check_workspace<T: ConvNum>(
    g: &Geometry,
    [ld, lh, lw]: [usize; 3],
    cap_bytes: usize,
    what: &'static str,
) -> Result<(), ConvError> {
    // Checked: a valid geometry's buffers fit a usize one by one, but their sum may not (found
    // by the `geometry` fuzz target: 2^63 output channels of a 1x1 kernel).
    let kernel_spectra = checked_product([g.out_channels(), g.in_per_group()], what)?;
    let spectra = g
        .in_channels()
        .max(g.out_channels())
        .checked_add(kernel_spectra)
        .and_then(|spectra| spectra.checked_add(1))
        .ok_or(ConvError::Overflow { what })?;
    let values = checked_product([spectra, ld, lh, lw / 2 + 1], what)?;
    check_bytes(values, size_of::<Complex<T>>(), cap_bytes, what)
}

/// The process's real and complex FFT planners for element type `T` (one pair per type; the
/// planners cache every size they have planned).
fn with_planners<T: ConvNum, R>(work: impl FnOnce(&mut RealFftPlanner<T>, &mut FftPlanner<T>) -> R) -> R {
    use std::any::{Any, TypeId};
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock, PoisonError};
    type Planners = HashMap<TypeId, Box<dyn Any + Send>>;
    static PLANNERS: OnceLock<Mutex<Planners>> = OnceLock::new();
    let mut planners = PLANNERS.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner);
    let entry = planners
        .entry(TypeId::of::<T>())
        .or_insert_with(|| Box::new((RealFftPlanner::<T>::new(), FftPlanner::<T>::new())));
    match entry.downcast_mut::<(RealFftPlanner<T>, FftPlanner<T>)>() {
        Some((real, complex)) => work(real, complex),
        // Unreachable (the map is keyed by the type it holds); plan afresh rather than panic.
        None => work(&mut RealFftPlanner::new(), &mut FftPlanner::new()),
    }
}
