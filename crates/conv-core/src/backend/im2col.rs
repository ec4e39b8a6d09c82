//! The im2col backend: gather patches into a matrix, then one GEMM.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2, ShapeBuilder};

use super::plan::{Scratch, with_thread_buffers};
use super::{ConvBackend, ConvPlan, ConvProblem, check_len};
use crate::error::ConvError;
use crate::geometry::{Geometry, check_bytes, checked_product};
use crate::num::ConvNum;

/// Lowers the convolution to a matrix product through a patch matrix.
///
/// For one batch item and group, the patch matrix has one row per kernel tap `(c, i, j)`
/// (`Cg*KH*KW` rows) and one column per output position `(y, x)`; column `(y, x)` holds the input
/// window under the kernel at that position. The output of the group is then
/// `W (Og x Cg*KH*KW) * patches`, computed by ndarray's `general_mat_mul` (the `matrixmultiply`
/// crate, threaded). It is the transpose view of the Toeplitz product: the same sums, with the
/// kernel as the small dense matrix and the input repeated instead.
///
/// The patch matrix is built for a band of output rows at a time, so it never exceeds the cap
/// ([`Im2col::DEFAULT_CAP_BYTES`] unless set with [`Im2col::with_cap_bytes`]); a problem whose
/// single output row needs more is refused with [`ConvError::TooLarge`].
///
/// # Numerics
/// Each output is a dot product of a kernel row with one patch: NaN and infinity reach exactly
/// the outputs whose window covers them, as in [`Direct`](super::Direct). The summation order is
/// the GEMM kernel's, so results differ from Direct by rounding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Im2col {
    cap_bytes: usize,
}

impl Default for Im2col {
    fn default() -> Self {
        Im2col { cap_bytes: Self::DEFAULT_CAP_BYTES }
    }
}

impl Im2col {
    /// Default cap on the patch matrix: 64 MiB.
    pub const DEFAULT_CAP_BYTES: usize = 64 << 20;

    /// An im2col backend whose patch matrix may take at most `cap_bytes` bytes.
    pub fn with_cap_bytes(cap_bytes: usize) -> Self {
        Im2col { cap_bytes }
    }

    /// Output rows per patch-matrix band, so that one band stays under the cap.
    fn rows_per_band<T>(&self, g: &Geometry) -> Result<usize, ConvError> {
        let taps = checked_product([g.in_per_group(), g.kernel_plane()], "patch matrix")?;
        let row_bytes = checked_product([taps, g.axes[1].output, size_of::<T>()], "patch matrix")?;
        check_bytes(row_bytes, 1, self.cap_bytes, "patch matrix (one output row)")?;
        Ok((self.cap_bytes / row_bytes.max(1)).clamp(1, g.axes[0].output.max(1)))
    }
}

/// Fills the columns of batch item `n`, output rows `y_range`, of a patch matrix with one row
/// per tap (`Cg*KH*KW` rows, `row_len` elements apart): that item's `y_range.len() * OW`
/// columns start at `first_column` of each row.
fn fill_patches<T: ConvNum>(
    problem: &ConvProblem<'_, T>,
    n: usize,
    group: usize,
    y_range: std::ops::Range<usize>,
    patches: &mut [T],
    (row_len, first_column): (usize, usize),
) {
    let g = problem.geometry();
    let [rows, cols] = g.axes;
    let band = y_range.len() * cols.output;
    let mut tap_rows =
        patches.chunks_exact_mut(row_len).map(|row| &mut row[first_column..first_column + band]);
    for c in 0..g.in_per_group() {
        let input = problem.input_plane(n, group * g.in_per_group() + c);
        for i in 0..rows.kernel {
            for j in 0..cols.kernel {
                let Some(tap_row) = tap_rows.next() else { return };
                for (y, dest) in y_range.clone().zip(tap_row.chunks_exact_mut(cols.output)) {
                    let r = y * rows.stride + i * rows.dilation;
                    let source = &input[r * cols.input + j * cols.dilation..];
                    if cols.stride == 1 {
                        dest.copy_from_slice(&source[..dest.len()]);
                    } else {
                        for (d, &s) in dest.iter_mut().zip(source.iter().step_by(cols.stride)) {
                            *d = s;
                        }
                    }
                }
            }
        }
    }
}

impl<T: ConvNum> ConvBackend<T> for Im2col {
    fn name(&self) -> &str {
        "im2col"
    }

    fn supports(&self, g: &Geometry) -> Result<(), ConvError> {
        self.rows_per_band::<T>(g).map(|_| ())
    }

    fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        let layout = Layout::new::<T>(self, problem.geometry())?;
        check_len("output", problem.geometry().output_len()?, output.len())?;
        with_thread_buffers(|buffers| layout.run(problem, output, buffers));
        Ok(())
    }

    fn plan<'a>(&'a self, g: &Geometry, kernel: &[T]) -> Result<Box<dyn ConvPlan<T> + 'a>, ConvError> {
        let layout = Layout::new::<T>(self, g)?;
        check_len("kernel", g.kernel_len()?, kernel.len())?;
        Ok(Box::new(Im2colPlan {
            layout,
            kernel: kernel.to_vec(),
            buffers: Scratch::new((Vec::new(), Vec::new())),
        }))
    }
}

/// How one geometry is cut into products: bands of output rows of one batch item, or whole
/// planes of several batch items side by side.
#[derive(Clone, Copy, Debug)]
struct Layout {
    geometry: Geometry,
    band_rows: usize,
    /// Batch items whose patches sit side by side in one product (1: one item, in bands).
    items_per_product: usize,
}

impl Layout {
    fn new<T>(backend: &Im2col, g: &Geometry) -> Result<Layout, ConvError> {
        g.validate()?;
        let band_rows = backend.rows_per_band::<T>(g)?;
        let taps = g.in_per_group() * g.kernel_plane();
        // When a whole output plane fits, several batch items share one wider product, which
        // the GEMM runs much closer to its peak than one small product per image.
        let items_per_product = if band_rows == g.axes[0].output {
            (backend.cap_bytes / (taps * g.output_plane() * size_of::<T>()).max(1)).clamp(1, g.batch.max(1))
        } else {
            1
        };
        Ok(Layout { geometry: *g, band_rows, items_per_product })
    }

    /// Solves `problem` using (and growing as needed) the patch and product buffers.
    fn run<T: ConvNum>(
        &self,
        problem: &ConvProblem<'_, T>,
        output: &mut [T],
        buffers: &mut (Vec<T>, Vec<T>),
    ) {
        let g = self.geometry;
        let taps = g.in_per_group() * g.kernel_plane();
        let patch_len = taps * self.band_rows * g.axes[1].output * self.items_per_product;
        if buffers.0.len() < patch_len {
            buffers.0.resize(patch_len, T::zero());
        }
        if self.items_per_product > 1 {
            let product_len = g.out_per_group() * g.output_plane() * self.items_per_product;
            if buffers.1.len() < product_len {
                buffers.1.resize(product_len, T::zero());
            }
            self.run_batched(problem, output, &mut buffers.0, &mut buffers.1);
        } else {
            self.run_banded(problem, output, &mut buffers.0);
        }
    }

    /// One batch item at a time, in bands of output rows, the GEMM writing straight into the
    /// output.
    fn run_banded<T: ConvNum>(&self, problem: &ConvProblem<'_, T>, output: &mut [T], patches: &mut [T]) {
        let g = self.geometry;
        let taps = g.in_per_group() * g.kernel_plane();
        let (out_rows, out_cols) = (g.axes[0].output, g.axes[1].output);
        let out_plane = g.output_plane();
        for n in 0..g.batch {
            for group in 0..g.groups {
                let first_kernel = group * g.out_per_group();
                let weights = ArrayView2::from_shape(
                    (g.out_per_group(), taps),
                    &problem.kernel()[first_kernel * taps..][..g.out_per_group() * taps],
                )
                .expect("kernel slice has Og * taps elements");
                let group_out = &mut output[(n * g.out_channels + first_kernel) * out_plane..];
                for y_start in (0..out_rows).step_by(self.band_rows) {
                    let y_end = (y_start + self.band_rows).min(out_rows);
                    let band = (y_end - y_start) * out_cols;
                    let patches = &mut patches[..taps * band];
                    fill_patches(problem, n, group, y_start..y_end, patches, (band, 0));
                    let patches = ArrayView2::from_shape((taps, band), &*patches)
                        .expect("patch buffer has taps * band elements");
                    let mut out = ArrayViewMut2::from_shape(
                        (g.out_per_group(), band).strides((out_plane, 1)),
                        &mut group_out[y_start * out_cols..],
                    )
                    .expect("strided view lies inside the output buffer");
                    general_mat_mul(T::one(), &weights, &patches, T::zero(), &mut out);
                }
            }
        }
    }

    /// For each group and run of `items_per_product` batch items, one patch matrix with every
    /// item's whole output plane side by side, one GEMM (`Og x taps` times
    /// `taps x items*OH*OW`), then a scatter into the NCHW output.
    fn run_batched<T: ConvNum>(
        &self,
        problem: &ConvProblem<'_, T>,
        output: &mut [T],
        patches: &mut [T],
        product: &mut [T],
    ) {
        let g = self.geometry;
        let taps = g.in_per_group() * g.kernel_plane();
        let (plane, og) = (g.output_plane(), g.out_per_group());
        for group in 0..g.groups {
            let first_kernel = group * og;
            let weights =
                ArrayView2::from_shape((og, taps), &problem.kernel()[first_kernel * taps..][..og * taps])
                    .expect("kernel slice has Og * taps elements");
            for first_item in (0..g.batch).step_by(self.items_per_product) {
                let items = self.items_per_product.min(g.batch - first_item);
                let width = items * plane;
                let patches = &mut patches[..taps * width];
                for k in 0..items {
                    fill_patches(
                        problem,
                        first_item + k,
                        group,
                        0..g.axes[0].output,
                        patches,
                        (width, k * plane),
                    );
                }
                let patches = ArrayView2::from_shape((taps, width), &*patches)
                    .expect("patch buffer has taps * width elements");
                let product = &mut product[..og * width];
                let mut out = ArrayViewMut2::from_shape((og, width), &mut *product)
                    .expect("product buffer has Og * width elements");
                general_mat_mul(T::one(), &weights, &patches, T::zero(), &mut out);
                for (o, row) in product.chunks_exact(width).enumerate() {
                    for (k, values) in row.chunks_exact(plane).enumerate() {
                        let at = ((first_item + k) * g.out_channels + first_kernel + o) * plane;
                        output[at..at + plane].copy_from_slice(values);
                    }
                }
            }
        }
    }
}

/// [`Im2col`] prepared for one geometry and kernel: the weights and its own buffers.
struct Im2colPlan<T> {
    layout: Layout,
    kernel: Vec<T>,
    /// The patch matrix and, when items are batched, the product before it is scattered.
    buffers: Scratch<(Vec<T>, Vec<T>)>,
}

impl<T: ConvNum> ConvPlan<T> for Im2colPlan<T> {
    fn backend_name(&self) -> &str {
        "im2col"
    }

    fn geometry(&self) -> &Geometry {
        &self.layout.geometry
    }

    fn execute(&self, input: &[T], output: &mut [T]) -> Result<(), ConvError> {
        let problem = ConvProblem::new(self.layout.geometry, input, &self.kernel)?;
        check_len("output", self.layout.geometry.output_len()?, output.len())?;
        self.buffers.with(|| (Vec::new(), Vec::new()), |buffers| self.layout.run(&problem, output, buffers));
        Ok(())
    }
}
