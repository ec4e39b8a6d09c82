//! Winograd's minimal filtering algorithm F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for
//! Convolutional Neural Networks", 2016).
//!
//! For each 4x4 input tile `d` and 3x3 kernel `g`, the 2x2 output tile of the correlation is
//! `Y = A^T [ (G g G^T) . (B^T d B) ] A`: 16 multiplications instead of 36. Kernel transforms are
//! computed once per call; input-channel sums are taken in the transformed domain.
//!
//! This backend began as the out-of-tree example of `examples/custom-backend`; it moved in as one
//! file and one registration line in `builtin.rs`.

use super::{ConvBackend, ConvProblem, check_buffer_len};
use crate::error::ConvError;
use crate::geometry::Geometry;
use crate::num::ConvNum;

/// Winograd F(2x2, 3x3): 3x3 kernels at stride 1 and dilation 1 only; `supports` refuses the
/// rest.
///
/// # Numerics
/// The transforms add and subtract up to four inputs before the products, so results differ
/// from [`Direct`](super::Direct) by a few units of rounding more than a direct sum; NaN and
/// infinity reach every output of the 2x2 tiles whose 4x4 input tile holds them (one tile
/// further than Direct's windows).
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

type Tile<T> = [[T; 4]; 4];

/// `G g G^T`: the 4x4 transform of a 3x3 kernel (row-major slice of 9).
fn transform_kernel<T: ConvNum>(g: &[T]) -> Tile<T> {
    let half = T::from_f64_lossy(0.5);
    // G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    let apply_g = |v: [T; 3]| [v[0], (v[0] + v[1] + v[2]) * half, (v[0] - v[1] + v[2]) * half, v[2]];
    // Columns first: for each kernel column j, G times that column.
    let mut gg = [[T::zero(); 3]; 4];
    for j in 0..3 {
        let column = apply_g([g[j], g[3 + j], g[6 + j]]);
        for (i, value) in column.into_iter().enumerate() {
            gg[i][j] = value;
        }
    }
    gg.map(apply_g)
}

/// `B^T d B`: the transform of a 4x4 input tile.
fn transform_input<T: ConvNum>(d: &Tile<T>) -> Tile<T> {
    // B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    let apply_bt = |v: [T; 4]| [v[0] - v[2], v[1] + v[2], v[2] - v[1], v[1] - v[3]];
    let mut bd = [[T::zero(); 4]; 4];
    for j in 0..4 {
        let column = apply_bt([d[0][j], d[1][j], d[2][j], d[3][j]]);
        for (i, value) in column.into_iter().enumerate() {
            bd[i][j] = value;
        }
    }
    bd.map(apply_bt)
}

/// `A^T m A`: the 2x2 output tile of a transformed product.
fn transform_output<T: ConvNum>(m: &Tile<T>) -> [[T; 2]; 2] {
    // A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]
    let apply_at = |v: [T; 4]| [v[0] + v[1] + v[2], v[1] - v[2] - v[3]];
    let mut am = [[T::zero(); 4]; 2];
    for j in 0..4 {
        let column = apply_at([m[0][j], m[1][j], m[2][j], m[3][j]]);
        for (i, value) in column.into_iter().enumerate() {
            am[i][j] = value;
        }
    }
    am.map(apply_at)
}

impl<T: ConvNum> ConvBackend<T> for Winograd {
    fn name(&self) -> &str {
        "winograd"
    }

    fn supports(&self, g: &Geometry) -> Result<(), ConvError> {
        let refuse = |reason: String| Err(ConvError::Unsupported { backend: "winograd".into(), reason });
        if !g.is_planar() {
            return refuse(format!("a volume (depth {}): F(2x2, 3x3) tiles planes", g.axes()[0].input));
        }
        for (axis, name) in g.plane_axes().iter().zip(["height", "width"]) {
            if axis.kernel != 3 {
                return refuse(format!("kernel {name} is {}, F(2x2, 3x3) needs 3", axis.kernel));
            }
            if axis.stride != 1 || axis.dilation != 1 {
                return refuse(format!(
                    "{name} stride {} and dilation {} must be 1",
                    axis.stride, axis.dilation
                ));
            }
        }
        Ok(())
    }

    /// The kernel-gradient problem of a 3x3 layer has a kernel the size of the output, which
    /// F(2x2, 3x3) cannot take: unless that kernel is 3x3 too, it is computed by
    /// [`Im2col`](super::Im2col) (one product on the patch matrix), so a Winograd layer trains.
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
        let g = *problem.geometry();
        <Self as ConvBackend<T>>::supports(self, &g)?;
        check_buffer_len("output", g.output_len(), output.len())?;
        let [rows, cols] = g.plane_axes();
        let (cg, og) = (g.in_per_group(), g.out_per_group());
        // The kernel bank is `out_channels * cg` planes of 3x3, one after another.
        let kernels: Vec<Tile<T>> = problem.kernel().chunks_exact(9).map(transform_kernel).collect();
        let mut transformed = vec![[[T::zero(); 4]; 4]; g.in_channels()];
        let out_plane = g.output_plane();
        for n in 0..g.batch() {
            for ty in (0..rows.output).step_by(2) {
                for tx in (0..cols.output).step_by(2) {
                    // Transform the 4x4 input tile of every channel (zeros past the edge).
                    for (c, slot) in transformed.iter_mut().enumerate() {
                        let plane = &problem.input()[(n * g.in_channels() + c) * g.input_plane()..];
                        let mut tile = [[T::zero(); 4]; 4];
                        for (i, row) in tile.iter_mut().enumerate().filter(|(i, _)| ty + i < rows.input) {
                            for (j, value) in row.iter_mut().enumerate().filter(|(j, _)| tx + j < cols.input)
                            {
                                *value = plane[(ty + i) * cols.input + tx + j];
                            }
                        }
                        *slot = transform_input(&tile);
                    }
                    for o in 0..g.out_channels() {
                        let group = o / og;
                        let mut m = [[T::zero(); 4]; 4];
                        for c in 0..cg {
                            let (u, v) = (&kernels[o * cg + c], &transformed[group * cg + c]);
                            for i in 0..4 {
                                for j in 0..4 {
                                    m[i][j] = m[i][j] + u[i][j] * v[i][j];
                                }
                            }
                        }
                        let y = transform_output(&m);
                        let out = &mut output[(n * g.out_channels() + o) * out_plane..][..out_plane];
                        for (i, row) in y.iter().enumerate().filter(|(i, _)| ty + i < rows.output) {
                            for (j, &value) in row.iter().enumerate().filter(|(j, _)| tx + j < cols.output) {
                                out[(ty + i) * cols.output + tx + j] = value;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
