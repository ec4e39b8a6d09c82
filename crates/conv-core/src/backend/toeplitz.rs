//! The Toeplitz backend: convolution as a matrix product.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, ShapeBuilder};

use super::{ConvBackend, ConvPlan, ConvProblem, check_buffer_len};
use crate::error::ConvError;
use crate::geometry::{Geometry, check_bytes, checked_product};
use crate::num::ConvNum;

/// Builds the convolution matrix and multiplies it with the flattened inputs.
///
/// For one group, the matrix `T` has one row per output sample `(o, z, y, x)` and one column per
/// input sample `(c, q, r, s)`; row `(o, z, y, x)` holds kernel tap `k[o, c, h, i, j]` in column
/// `(c, z*sd + h*dd, y*sh + i*dh, x*sw + j*dw)` and zeros elsewhere. In 1-D this is the banded
/// Toeplitz matrix of polynomial multiplication; in 2-D it is doubly block Toeplitz (a Toeplitz
/// matrix of Toeplitz blocks); in 3-D triply (multi-level block Toeplitz: blocks per kernel
/// slice, each doubly block Toeplitz). A whole batch is then one GEMM: `Y = X T^T`, with `X` holding one flattened
/// input per row. The product goes through ndarray's `general_mat_mul` (the `matrixmultiply`
/// crate, threaded).
///
/// The matrix has `Og*OD*OH*OW x Cg*D*H*W` entries, almost all zero, so this backend is for teaching
/// and for small problems. It refuses, with [`ConvError::TooLarge`], a matrix over its cap
/// ([`Toeplitz::DEFAULT_CAP_BYTES`] unless set with [`Toeplitz::with_cap_bytes`]).
///
/// # Numerics
/// Each output is a dot product of a matrix row with the input, so the zeros of the matrix meet
/// every input sample: a NaN or infinite input sample makes NaN *every* output of the batch item
/// and group it belongs to (`0 * NaN = NaN`), not only the outputs whose window covers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Toeplitz {
    cap_bytes: usize,
}

impl Default for Toeplitz {
    fn default() -> Self {
        Toeplitz { cap_bytes: Self::DEFAULT_CAP_BYTES }
    }
}

impl Toeplitz {
    /// Default cap on the matrix of one group: 256 MiB.
    pub const DEFAULT_CAP_BYTES: usize = 256 << 20;

    /// A Toeplitz backend whose matrix may take at most `cap_bytes` bytes.
    pub fn with_cap_bytes(cap_bytes: usize) -> Self {
        Toeplitz { cap_bytes }
    }

    /// `(rows, columns)` of the matrix of one group.
    fn matrix_shape(g: &Geometry) -> Result<(usize, usize), ConvError> {
        let rows = checked_product([g.out_per_group(), g.output_plane()], "Toeplitz matrix")?;
        let cols = checked_product([g.in_per_group(), g.input_plane()], "Toeplitz matrix")?;
        Ok((rows, cols))
    }

    /// Writes the convolution matrix of `group` into `matrix` (which must be all zeros): row
    /// `(oc, z, y, x)` gets tap `(c, h, i, j)` in column `(c, z*sd + h*dd, y*sh + i*dh, x*sw + j*dw)`.
    fn fill_matrix<T: ConvNum>(g: &Geometry, kernel: &[T], group: usize, matrix: &mut Array2<T>) {
        let kernel_plane = g.kernel_plane();
        let [depth, rows, cols] = g.axes();
        let outputs = (0..depth.output)
            .flat_map(|z| (0..rows.output).flat_map(move |y| (0..cols.output).map(move |x| (z, y, x))));
        let taps = (0..depth.kernel)
            .flat_map(|h| (0..rows.kernel).flat_map(move |i| (0..cols.kernel).map(move |j| (h, i, j))));
        for oc in 0..g.out_per_group() {
            let o = group * g.out_per_group() + oc;
            for c in 0..g.in_per_group() {
                let kernel = &kernel[(o * g.in_per_group() + c) * kernel_plane..][..kernel_plane];
                for (position, (z, y, x)) in outputs.clone().enumerate() {
                    let row = oc * g.output_plane() + position;
                    for (&tap, (h, i, j)) in kernel.iter().zip(taps.clone()) {
                        let q = z * depth.stride + h * depth.dilation;
                        let r = y * rows.stride + i * rows.dilation;
                        let s = x * cols.stride + j * cols.dilation;
                        let col = ((c * depth.input + q) * rows.input + r) * cols.input + s;
                        matrix[[row, col]] = tap;
                    }
                }
            }
        }
    }
}

impl<T: ConvNum> ConvBackend<T> for Toeplitz {
    fn name(&self) -> &str {
        "toeplitz"
    }

    fn supports(&self, g: &Geometry) -> Result<(), ConvError> {
        let (rows, cols) = Self::matrix_shape(g)?;
        let entries = checked_product([rows, cols], "Toeplitz matrix")?;
        check_bytes(entries, size_of::<T>(), self.cap_bytes, "Toeplitz matrix")
    }

    /// Matrix entries times (batch + 1): the GEMM over the zeros, and building the matrix;
    /// values moved.
    fn cost_features(&self, g: &Geometry) -> Result<Vec<f64>, ConvError> {
        use crate::cost::{Counts, count};
        let counts = Counts::of(g);
        let entries = count(g.out_per_group())
            * count(g.output_plane())
            * count(g.in_per_group())
            * count(g.input_plane())
            * count(g.groups());
        Ok(vec![entries * (count(g.batch()) + 1.0), counts.values])
    }

    fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        let g = problem.geometry();
        self.plan(g, problem.kernel())?.execute(problem.input(), output)
    }

    fn plan<'a>(&'a self, g: &Geometry, kernel: &[T]) -> Result<Box<dyn ConvPlan<T> + 'a>, ConvError> {
        <Self as ConvBackend<T>>::supports(self, g)?;
        check_buffer_len("kernel", g.kernel_len(), kernel.len())?;
        let (rows, cols) = Self::matrix_shape(g)?;
        let matrices = (0..g.groups())
            .map(|group| {
                let mut matrix = Array2::<T>::zeros((rows, cols));
                Self::fill_matrix(g, kernel, group, &mut matrix);
                matrix
            })
            .collect();
        Ok(Box::new(ToeplitzPlan { geometry: *g, matrices }))
    }
}

/// [`Toeplitz`] prepared for one geometry and kernel: the convolution matrix of each group.
struct ToeplitzPlan<T> {
    geometry: Geometry,
    matrices: Vec<Array2<T>>,
}

impl<T: ConvNum> ConvPlan<T> for ToeplitzPlan<T> {
    fn backend_name(&self) -> &str {
        "toeplitz"
    }

    fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    fn execute(&self, input: &[T], output: &mut [T]) -> Result<(), ConvError> {
        let g = self.geometry;
        check_buffer_len("input", g.input_len(), input.len())?;
        check_buffer_len("output", g.output_len(), output.len())?;
        let input_item = g.in_channels() * g.input_plane();
        let output_item = g.out_channels() * g.output_plane();
        for (group, matrix) in self.matrices.iter().enumerate() {
            let (rows, cols) = matrix.dim();
            // X: one row per batch item, the group's channels flattened.
            let inputs =
                ArrayView2::from_shape((g.batch(), cols).strides((input_item, 1)), &input[group * cols..])
                    .expect("strided view lies inside the input buffer");
            let mut outputs = ArrayViewMut2::from_shape(
                (g.batch(), rows).strides((output_item, 1)),
                &mut output[group * rows..],
            )
            .expect("strided view lies inside the output buffer");
            general_mat_mul(T::one(), &inputs, &matrix.t(), T::zero(), &mut outputs);
        }
        Ok(())
    }
}
