//! A backend written outside conv-core, using only its public API: pointwise (1x1) convolution,
//! the channel-mixing layer of ResNet bottlenecks and MobileNet's depthwise-separable blocks.
//!
//! With a 1x1 kernel every output is a weighted sum over input channels at one position:
//! `y[n, o, p] = sum_c w[o, c] x[n, g(o) Cg + c, s(p)]`, where `s(p)` is the input position that
//! output position `p` reads at the layer's stride. So each output plane is a sum of whole input
//! planes, scaled: one pass over memory per (output, input) channel pair, no windows at all.
//!
//! Only 1x1 kernels are supported (any stride, groups and batch); `supports` refuses the rest.
//! (Winograd F(2x2, 3x3), this example's backend before, now lives in conv-core as a built-in:
//! `crates/conv-core/src/backend/winograd.rs`.)
//!
//! ```
//! custom_backend::register().expect("first registration");
//! assert!(conv_core::registry::names::<f32>().contains(&"pointwise".to_string()));
//! ```

use std::sync::Arc;

use conv_core::{ConvBackend, ConvError, ConvNum, ConvProblem, Geometry, check_buffer_len, registry};

/// Pointwise (1x1) convolution backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pointwise;

// ANCHOR: register
/// Registers [`Pointwise`] for `f32` and `f64` in the global registries.
///
/// # Errors
/// [`ConvError::DuplicateBackend`] if it is already registered.
pub fn register() -> Result<(), ConvError> {
    registry::register::<f32>(Arc::new(Pointwise))?;
    registry::register::<f64>(Arc::new(Pointwise))
}
// ANCHOR_END: register

// ANCHOR: trait_impl
impl<T: ConvNum> ConvBackend<T> for Pointwise {
    fn name(&self) -> &str {
        "pointwise"
    }

    fn supports(&self, g: &Geometry) -> Result<(), ConvError> {
        // The geometry was checked when it was built: only this backend's own limit is left.
        for (axis, name) in g.axes().iter().zip(["depth", "height", "width"]) {
            if axis.kernel != 1 {
                return Err(ConvError::Unsupported {
                    backend: "pointwise".into(),
                    reason: format!("kernel {name} is {}, a pointwise backend needs 1", axis.kernel),
                });
            }
        }
        Ok(())
    }
    // ANCHOR_END: trait_impl

    fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        let g = problem.geometry();
        <Self as ConvBackend<T>>::supports(self, g)?;
        check_buffer_len("output", g.output_len(), output.len())?;
        let [depth, rows, cols] = g.axes();
        let (cg, og) = (g.in_per_group(), g.out_per_group());
        let in_planes: Vec<&[T]> = problem.input().chunks_exact(g.input_plane()).collect();
        // The kernel bank is `out_channels * cg` single weights.
        let weights = problem.kernel();
        for (plane, out) in output.chunks_exact_mut(g.output_plane()).enumerate() {
            let (n, o) = (plane / g.out_channels(), plane % g.out_channels());
            let first_channel = n * g.in_channels() + (o / og) * cg;
            out.fill(T::zero());
            for c in 0..cg {
                let (w, input) = (weights[o * cg + c], in_planes[first_channel + c]);
                // Output row `r` is slice `z`, row `y` (a planar problem has one slice).
                for (r, out_row) in out.chunks_exact_mut(cols.output).enumerate() {
                    let (z, y) = (r / rows.output, r % rows.output);
                    let in_row = &input[(z * depth.stride * rows.input + y * rows.stride) * cols.input..];
                    for (x, value) in out_row.iter_mut().enumerate() {
                        *value = *value + w * in_row[x * cols.stride];
                    }
                }
            }
        }
        Ok(())
    }
}
