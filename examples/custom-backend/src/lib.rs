//! A backend written outside conv-core, using only its public API: Winograd's minimal filtering
//! algorithm F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
//!
//! For each 4x4 input tile `d` and 3x3 kernel `g`, the 2x2 output tile of the correlation is
//! `Y = A^T [ (G g G^T) . (B^T d B) ] A`: 16 multiplications instead of 36. Kernel transforms are
//! computed once per call; input-channel sums are taken in the transformed domain.
//!
//! Only 3x3 kernels at stride 1 and dilation 1 are supported; `supports` refuses the rest.
//!
//! ```
//! use std::sync::Arc;
//! custom_backend::register().expect("first registration");
//! assert!(conv_core::registry::names::<f32>().contains(&"winograd".to_string()));
//! ```

use std::sync::Arc;

use conv_core::{ConvBackend, ConvError, ConvNum, ConvProblem, Geometry, registry};

/// Winograd F(2x2, 3x3) convolution backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct Winograd;

// ANCHOR: register
/// Registers [`Winograd`] for `f32` and `f64` in the global registries.
///
/// # Errors
/// [`ConvError::DuplicateBackend`] if it is already registered.
pub fn register() -> Result<(), ConvError> {
    registry::register::<f32>(Arc::new(Winograd))?;
    registry::register::<f64>(Arc::new(Winograd))
}
// ANCHOR_END: register

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

// ANCHOR: trait_impl
impl<T: ConvNum> ConvBackend<T> for Winograd {
    fn name(&self) -> &str {
        "winograd"
    }

    fn supports(&self, g: &Geometry) -> Result<(), ConvError> {
        let refuse = |reason: String| Err(ConvError::Unsupported { backend: "winograd".into(), reason });
        for (axis, name) in g.axes.iter().zip(["height", "width"]) {
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
    // ANCHOR_END: trait_impl

    fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        let g = *problem.geometry();
        <Self as ConvBackend<T>>::supports(self, &g)?;
        let expected = g.output_len()?;
        if output.len() != expected {
            return Err(ConvError::BufferLength { what: "output", expected, got: output.len() });
        }
        let [rows, cols] = g.axes;
        let (cg, og) = (g.in_per_group(), g.out_per_group());
        // The kernel bank is `out_channels * cg` planes of 3x3, one after another.
        let kernels: Vec<Tile<T>> = problem.kernel().chunks_exact(9).map(transform_kernel).collect();
        let mut transformed = vec![[[T::zero(); 4]; 4]; g.in_channels];
        let out_plane = g.output_plane();
        for n in 0..g.batch {
            for ty in (0..rows.output).step_by(2) {
                for tx in (0..cols.output).step_by(2) {
                    // Transform the 4x4 input tile of every channel (zeros past the edge).
                    for (c, slot) in transformed.iter_mut().enumerate() {
                        let plane = &problem.input()[(n * g.in_channels + c) * g.input_plane()..];
                        let mut tile = [[T::zero(); 4]; 4];
                        for (i, row) in tile.iter_mut().enumerate().filter(|(i, _)| ty + i < rows.input) {
                            for (j, value) in row.iter_mut().enumerate().filter(|(j, _)| tx + j < cols.input)
                            {
                                *value = plane[(ty + i) * cols.input + tx + j];
                            }
                        }
                        *slot = transform_input(&tile);
                    }
                    for o in 0..g.out_channels {
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
                        let out = &mut output[(n * g.out_channels + o) * out_plane..][..out_plane];
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
