//! Winograd's minimal filtering algorithm F(2, 3) on every axis whose kernel is 3 taps long
//! (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): F(2x2, 3x3) on
//! planes, F(2x2x2, 3x3x3) on volumes, F(2, 3) on signals.
//!
//! Along one axis, each output pair of the correlation of a 4-sample input tile `d` with a
//! 3-tap kernel `g` is `A^T [(G g) . (B^T d)]`: 4 multiplications instead of 6. On several axes
//! the transforms are applied axis by axis, so a 2x2x2 output tile of a 3x3x3 kernel takes
//! 4^3 = 64 multiplications per channel pair instead of 8 x 27 = 216. The input-channel sums are
//! taken in the transformed domain, as one matrix product per transform point `xi` over a chunk
//! of tiles (`tiles.rs`):
//!
//! ```text
//! M[xi] (O x tiles) = U[xi] (O x C) * V[xi] (C x tiles)
//! ```
//!
//! with `U = G g G^T` (the kernel bank, transformed once per call) and `V = B^T d B` (the input
//! tiles). Axes whose kernel is 1 tap long are carried through untransformed.

mod tiles;

use super::plan::{ThreadBuffers, with_thread_scratch};
use super::{ConvBackend, ConvProblem, check_buffer_len};
use crate::error::ConvError;
use crate::geometry::{AxisGeometry, Geometry};
use crate::num::ConvNum;
use crate::parallel;

/// Winograd F(2, 3) on every axis with a 3-tap kernel: kernels of 3 (or 1) taps per axis at
/// stride 1 and dilation 1 — the 3x3 and 3x3x3 layers of CNNs; `supports` refuses the rest.
///
/// The input-channel sums are matrix products (the `gemm` crate's kernels), one per transform
/// point over a chunk of tiles; batch items are shared over the cores.
///
/// # Numerics
/// The transforms add and subtract up to four inputs per axis before the products, so results
/// differ from [`Direct`](super::Direct) by a few units of rounding more than a direct sum
/// (F(2, 3)'s transforms have the smallest error of the Winograd family); NaN and infinity
/// reach every output of the tiles whose input tile holds them (one tile further than Direct's
/// windows).
///
/// # Examples
/// ```
/// use conv_core::{ConvSpec, Direct, Winograd, conv2d_with};
/// use ndarray::Array4;
/// let input = Array4::from_shape_fn((1, 2, 6, 6), |(_, c, y, x)| (c + y * x) as f64);
/// let weights = Array4::from_shape_fn((3, 2, 3, 3), |(o, c, i, j)| (o + c + i + j) as f64 / 8.0);
/// let spec = ConvSpec::correlation();
/// let fast = conv2d_with(&input, &weights, &spec, &Winograd)?;
/// let direct = conv2d_with(&input, &weights, &spec, &Direct)?;
/// assert!(fast.iter().zip(&direct).all(|(a, b)| (a - b).abs() < 1e-12));
/// # Ok::<(), conv_core::ConvError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Winograd;

impl Winograd {
    /// Threads a call uses: batch items are shared over the cores, so at most one per item.
    fn threads(g: &Geometry) -> usize {
        let work = tiles::Shape::of(g).map_or(0, |shape| shape.multiply_adds(g));
        parallel::threads_for(work, parallel::MIN_MULTIPLY_ADDS_PER_THREAD).min(g.batch().max(1))
    }
}

impl<T: ConvNum> ConvBackend<T> for Winograd {
    fn name(&self) -> &str {
        "winograd"
    }

    fn supports(&self, g: &Geometry) -> Result<(), ConvError> {
        let refuse = |reason: String| Err(ConvError::Unsupported { backend: "winograd".into(), reason });
        for (axis, name) in g.axes().iter().zip(["depth", "height", "width"]) {
            if axis.kernel != 3 && axis.kernel != 1 {
                return refuse(format!("kernel {name} is {}, F(2, 3) needs 3 (or 1)", axis.kernel));
            }
            if axis.stride != 1 || (axis.kernel == 3 && axis.dilation != 1) {
                return refuse(format!(
                    "{name} stride {} and dilation {} must be 1",
                    axis.stride, axis.dilation
                ));
            }
        }
        Ok(())
    }

    /// Multiply-adds of the transformed-domain products; values transformed (input tiles and
    /// output tiles); both shared by the threads the call uses; values moved.
    fn cost_features(&self, g: &Geometry) -> Result<Vec<f64>, ConvError> {
        <Self as ConvBackend<T>>::supports(self, g)?;
        let shape = tiles::Shape::of(g)?;
        let threads = Winograd::threads(g) as f64;
        let counts = crate::cost::Counts::of(g);
        let transformed = shape.transformed_values(g);
        Ok(vec![shape.multiply_adds(g) as f64 / threads, transformed / threads, counts.values])
    }

    /// The kernel-gradient problem of a 3x3 layer has a kernel the size of the output, which
    /// F(2, 3) cannot take: unless that kernel is 3 (or 1) taps long on every axis too, it is
    /// computed by [`Im2col`](super::Im2col) (one product on the patch matrix), so a Winograd
    /// layer trains.
    fn kernel_gradient(
        &self,
        g: &Geometry,
        layout: crate::Layout,
        input: &[T],
        grad_output: &[T],
        grad_kernel: &mut [T],
    ) -> Result<(), ConvError> {
        let problem = super::kernel_gradient_geometry(g)?;
        if <Self as ConvBackend<T>>::supports(self, &problem).is_ok() {
            return super::kernel_gradient_by_correlation(self, g, layout, input, grad_output, grad_kernel);
        }
        super::Im2col::default().kernel_gradient(g, layout, input, grad_output, grad_kernel)
    }

    fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        solve(problem, output, false)
    }

    /// Channels last natively: the tiles are transformed channels last either way, so this
    /// skips the two transposes [`execute`](ConvBackend::execute) makes per batch item.
    fn execute_channels_last(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        solve(problem, output, true)
    }
}

/// The problem's batch items shared over the threads, each solved tile chunk by tile chunk.
fn solve<T: ConvNum>(
    problem: &ConvProblem<'_, T>,
    output: &mut [T],
    channels_last: bool,
) -> Result<(), ConvError> {
    let g = *problem.geometry();
    <Winograd as ConvBackend<T>>::supports(&Winograd, &g)?;
    check_buffer_len("output", g.output_len(), output.len())?;
    if output.is_empty() {
        return Ok(());
    }
    let shape = tiles::Shape::of(&g)?;
    let bank = shape.transform_kernels(&g, problem.kernel())?;
    let mut workers = vec![(); Winograd::threads(&g)];
    let item_len = g.out_channels() * g.output_plane();
    let arch = pulp::Arch::new();
    parallel::split_items(output, item_len, &mut workers, |items, first, ()| {
        with_thread_scratch(|kept: &mut ThreadBuffers<T>| {
            let work =
                tiles::Items { shape: &shape, geometry: &g, problem, bank: &bank, first, channels_last };
            let buffers = work.buffers(kept)?;
            arch.dispatch(tiles::Run { work, output: items, buffers });
            Ok(())
        })
    })
}

/// Whether an axis is transformed (a 3-tap kernel) or carried through (1 tap).
fn transformed(axis: &AxisGeometry) -> bool {
    axis.kernel == 3
}

#[cfg(test)]
mod tests;
