//! The kit's check of a backend's layer gradients ([`ConvBackend::input_gradient`] and
//! [`ConvBackend::kernel_gradient`]) against [`Direct`]'s, in both layouts.

use super::{Mismatch, mismatch, tolerance};
use crate::backend::{
    ConvBackend, Direct, input_gradient_geometry, kernel_gradient_geometry, transpose_items,
};
use crate::error::ConvError;
use crate::geometry::Geometry;
use crate::num::ConvNum;
use crate::spec::Layout;

/// Checks both gradients of `backend` on the problem `g` (padded `input`, oriented `kernel`,
/// `grad_output`, all channels first) against [`Direct`]'s, channels first and channels last.
/// A backend may refuse a gradient ([`ConvError::Unsupported`], [`ConvError::TooLarge`]: not
/// every backend trains); an answer it gives must be right, and must overwrite the NaN the
/// result buffer starts with.
pub(super) fn check_gradients<T: ConvNum>(
    backend: &dyn ConvBackend<T>,
    g: &Geometry,
    input: &[T],
    kernel: &[T],
    grad_output: &[T],
) -> Result<(), Mismatch> {
    let name = backend.name();
    let failed = |what: &str, e: ConvError| mismatch(format!("`{name}` {what}: {e}"));
    let max_abs = |v: &[T]| v.iter().fold(0.0f64, |m, x| m.max(x.to_f64_lossy().abs()));
    let kernel_tol = tolerance::<T>(
        &kernel_gradient_geometry(g).map_err(|e| failed("kernel-gradient problem", e))?,
        max_abs(input),
        max_abs(grad_output),
    );
    let input_tol = tolerance::<T>(
        &input_gradient_geometry(g).map_err(|e| failed("input-gradient problem", e))?,
        max_abs(grad_output),
        max_abs(kernel),
    );
    let (pixels_in, pixels_out) = (g.input_plane(), g.output_plane());
    for (layout, stored) in
        [(Layout::ChannelsFirst, "channels first"), (Layout::ChannelsLast, "channels last")]
    {
        let (input, grad_output) = match layout {
            Layout::ChannelsFirst => (input.to_vec(), grad_output.to_vec()),
            Layout::ChannelsLast => {
                let mut input_last = vec![T::zero(); input.len()];
                transpose_items(input, &mut input_last, g.in_channels(), pixels_in);
                let mut grad_last = vec![T::zero(); grad_output.len()];
                transpose_items(grad_output, &mut grad_last, g.out_channels(), pixels_out);
                (input_last, grad_last)
            }
        };
        let mut want = vec![T::zero(); kernel.len()];
        Direct
            .kernel_gradient(g, layout, &input, &grad_output, &mut want)
            .map_err(|e| failed("Direct", e))?;
        let mut got = vec![T::nan(); kernel.len()];
        match backend.kernel_gradient(g, layout, &input, &grad_output, &mut got) {
            Err(ConvError::Unsupported { .. } | ConvError::TooLarge { .. }) => {}
            Err(e) => return Err(failed(&format!("kernel gradient ({stored})"), e)),
            Ok(()) => {
                compare_values(&format!("`{name}` kernel gradient ({stored})"), &got, &want, kernel_tol)?
            }
        }
        let mut want = vec![T::zero(); input.len()];
        Direct.input_gradient(g, layout, kernel, &grad_output, &mut want).map_err(|e| failed("Direct", e))?;
        let mut got = vec![T::nan(); input.len()];
        match backend.input_gradient(g, layout, kernel, &grad_output, &mut got) {
            Err(ConvError::Unsupported { .. } | ConvError::TooLarge { .. }) => {}
            Err(e) => return Err(failed(&format!("input gradient ({stored})"), e)),
            Ok(()) => compare_values(&format!("`{name}` input gradient ({stored})"), &got, &want, input_tol)?,
        }
    }
    Ok(())
}

/// Names the first value of `got` that differs from `want` by more than `tol`.
fn compare_values<T: ConvNum>(what: &str, got: &[T], want: &[T], tol: f64) -> Result<(), Mismatch> {
    for (index, (&g, &w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (g.to_f64_lossy(), w.to_f64_lossy());
        let same_special = (g.is_nan() && w.is_nan()) || (g.is_infinite() && g == w);
        let within = (g - w).abs() <= tol; // false when either is NaN
        if !same_special && !within {
            return Err(mismatch(format!(
                "{what}: value {index} is {g:e}, Direct gives {w:e}, difference {:e} > tolerance {tol:e}",
                (g - w).abs()
            )));
        }
    }
    Ok(())
}
