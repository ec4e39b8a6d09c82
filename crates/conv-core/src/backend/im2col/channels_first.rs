//! im2col on the canonical channels-first problem: patch matrices per band of output rows (or
//! per several small planes), or shifted views of the input, times the weights.

use convkit_gemm::{MatMut, MatRef, matmul};

use super::{Im2col, PRODUCT_TARGET_BYTES, shifted_views_pay, small_channels_first};
use crate::backend::contract::{ConvProblem, check_buffer_len};
use crate::backend::plan::ConvPlan;
use crate::backend::plan::{Scratch, ThreadBuffers};
use crate::error::ConvError;
use crate::geometry::Geometry;
use crate::num::ConvNum;
use crate::parallel;

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
    let [rows, cols] = g.plane_axes();
    let band = y_range.len() * cols.output;
    let mut tap_rows =
        patches.chunks_exact_mut(row_len).map(|row| &mut row[first_column..first_column + band]);
    for c in 0..g.in_per_group() {
        // The plane exists: `n < batch` and the channel is within the group.
        let Some(input) = problem.input_plane(n, group * g.in_per_group() + c) else { return };
        for i in 0..rows.kernel {
            for j in 0..cols.kernel {
                let Some(tap_row) = tap_rows.next() else { return };
                for (y, dest) in y_range.clone().zip(tap_row.chunks_exact_mut(cols.output)) {
                    let r = y * rows.stride + i * rows.dilation;
                    let source = &input[r * cols.input + j * cols.dilation..];
                    copy_row(dest, source, cols.stride);
                }
            }
        }
    }
}

/// How a patch matrix is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PatchOrder {
    /// One row per tap, one column per output position: filled by copying runs of output-row
    /// length ([`fill_patches`]).
    TapRows,
    /// One row per output position, one column per tap (the transpose): filled by copying runs
    /// of kernel-row length ([`fill_patches_by_position`]); the GEMM reads it transposed.
    PositionRows,
}

impl PatchOrder {
    /// Position rows when they copy longer runs: the kernel's rows are longer than the
    /// output's and its taps are adjacent (no dilation along the row).
    pub(super) fn for_geometry(g: &Geometry) -> PatchOrder {
        let cols = g.plane_axes()[1];
        if cols.dilation == 1 && cols.kernel > cols.output {
            PatchOrder::PositionRows
        } else {
            PatchOrder::TapRows
        }
    }

    /// The patch matrix of `width` output positions as the `taps x width` right factor.
    fn factor<'a, T: ConvNum>(
        self,
        patches: &'a [T],
        taps: usize,
        width: usize,
    ) -> Result<MatRef<'a, T>, convkit_gemm::GemmError> {
        match self {
            PatchOrder::TapRows => MatRef::new(patches, taps, width, width),
            PatchOrder::PositionRows => Ok(MatRef::new(patches, width, taps, taps)?.t()),
        }
    }
}

/// Fills the rows of batch item `n`, output rows `y_range`, of a patch matrix with one row per
/// output position (`Cg*KH*KW` values each), starting at row `first_row`: row `(y, x)` is the
/// input window under the kernel at that position, one kernel row's run at a time.
fn fill_patches_by_position<T: ConvNum>(
    problem: &ConvProblem<'_, T>,
    n: usize,
    group: usize,
    y_range: std::ops::Range<usize>,
    patches: &mut [T],
    first_row: usize,
) {
    let g = problem.geometry();
    let [rows, cols] = g.plane_axes();
    let taps = g.in_per_group() * g.kernel_plane();
    let positions = y_range.len() * cols.output;
    let rows_of_patches = patches.chunks_exact_mut(taps.max(1)).skip(first_row).take(positions);
    let windows = y_range.flat_map(|y| (0..cols.output).map(move |x| (y, x)));
    for (patch, (y, x)) in rows_of_patches.zip(windows) {
        let mut runs = patch.chunks_exact_mut(cols.kernel);
        for c in 0..g.in_per_group() {
            let Some(input) = problem.input_plane(n, group * g.in_per_group() + c) else { return };
            for i in 0..rows.kernel {
                let Some(run) = runs.next() else { return };
                let start = (y * rows.stride + i * rows.dilation) * cols.input + x * cols.stride;
                copy_row(run, &input[start..], 1);
            }
        }
    }
}

/// Copies every `stride`-th element of `source` into `dest`. Rows of up to 32 elements (CNN
/// layers' output rows, the 3x3 outputs of their weight gradients) are copied by fixed-size
/// moves: a `memcpy` call per row of three or thirteen values costs more than the copy.
#[inline(always)]
pub(super) fn copy_row<T: Copy>(dest: &mut [T], source: &[T], stride: usize) {
    fn fixed<T: Copy, const N: usize>(dest: &mut [T], source: &[T]) {
        dest[..N].copy_from_slice(&source[..N]);
    }
    if stride != 1 {
        for (d, &s) in dest.iter_mut().zip(source.iter().step_by(stride)) {
            *d = s;
        }
        return;
    }
    match dest.len() {
        1 => fixed::<T, 1>(dest, source),
        2 => fixed::<T, 2>(dest, source),
        3 => fixed::<T, 3>(dest, source),
        4 => fixed::<T, 4>(dest, source),
        5 => fixed::<T, 5>(dest, source),
        6 => fixed::<T, 6>(dest, source),
        7 => fixed::<T, 7>(dest, source),
        8 => fixed::<T, 8>(dest, source),
        // Two overlapping fixed-size moves cover any length up to twice their size.
        len @ 9..=16 => {
            fixed::<T, 8>(dest, source);
            fixed::<T, 8>(&mut dest[len - 8..], &source[len - 8..]);
        }
        len @ 17..=32 => {
            fixed::<T, 16>(dest, source);
            fixed::<T, 16>(&mut dest[len - 16..], &source[len - 16..]);
        }
        len => dest.copy_from_slice(&source[..len]),
    }
}

/// How one geometry is cut into products: bands of output rows of one batch item, or whole
/// planes of several batch items side by side.
#[derive(Clone, Copy, Debug)]
pub(super) struct Layout {
    geometry: Geometry,
    pub(super) band_rows: usize,
    /// Batch items whose patches sit side by side in one product (1: one item, in bands).
    items_per_product: usize,
    order: PatchOrder,
    /// Whether the product reads shifted views of the input instead of a patch matrix.
    pub(super) shifted: bool,
    /// Whether there is no product at all: few input channels, register blocks of output planes
    /// (`small_channels_first.rs`).
    pub(super) few_channels: bool,
}

impl Layout {
    pub(super) fn new<T>(backend: &Im2col, g: &Geometry) -> Result<Layout, ConvError> {
        let band_rows = backend.rows_per_band::<T>(g)?;
        let taps = g.in_per_group() * g.kernel_plane();
        // When a whole output plane fits, several batch items share one wider product, which
        // the GEMM runs much closer to its peak than one small product per image.
        let items_per_product = if band_rows == g.plane_axes()[0].output {
            let item_bytes = (taps * g.output_plane() * size_of::<T>()).max(1);
            (PRODUCT_TARGET_BYTES.min(backend.cap_bytes) / item_bytes).clamp(1, g.batch().max(1))
        } else {
            1
        };
        let shifted = items_per_product == 1 && shifted_views_pay(g, g.in_per_group());
        // A band of the shifted product holds `Og x band_rows*W` values: about the target.
        let band_rows = if shifted {
            let row_bytes = (g.out_per_group() * g.plane_axes()[1].input * size_of::<T>()).max(1);
            (PRODUCT_TARGET_BYTES.min(backend.cap_bytes) / row_bytes)
                .clamp(1, g.plane_axes()[0].output.max(1))
        } else {
            band_rows
        };
        Ok(Layout {
            geometry: *g,
            band_rows,
            items_per_product,
            order: PatchOrder::for_geometry(g),
            shifted,
            few_channels: small_channels_first::applies(g),
        })
    }

    /// Solves `problem`, its batch items shared out over the threads the geometry calls for,
    /// each thread with its own patch and product buffers from `buffers` (grown as needed).
    pub(super) fn run_split<T: ConvNum>(
        &self,
        problem: &ConvProblem<'_, T>,
        output: &mut [T],
        buffers: &mut ThreadBuffers<T>,
    ) -> Result<(), ConvError> {
        let g = self.geometry;
        let threads = Im2col::threads(&g);
        if buffers.len() < threads {
            buffers.resize_with(threads, Default::default);
        }
        if self.few_channels {
            let by_tap = small_channels_first::weights_by_tap(&g, problem.kernel());
            let input = problem.input();
            return parallel::split_items(
                output,
                g.output_plane(),
                &mut buffers[..threads],
                |piece, first, _| {
                    small_channels_first::solve(&g, input, &by_tap, piece, first);
                    Ok(())
                },
            );
        }
        let (in_item, out_item) = (g.in_channels() * g.input_plane(), g.out_channels() * g.output_plane());
        parallel::split_items(output, out_item, &mut buffers[..threads], |piece, first_item, buffers| {
            let items = piece.len() / out_item.max(1);
            let part = g.with_batch(items)?;
            let input = &problem.input()[first_item * in_item..][..items * in_item];
            let part = ConvProblem::new(part, input, problem.kernel())?;
            self.run(&part, piece, buffers);
            Ok(())
        })
    }

    /// Solves `problem` (this layout's geometry, or a run of its batch items) on the calling
    /// thread, using (and growing as needed) the patch and product buffers.
    fn run<T: ConvNum>(
        &self,
        problem: &ConvProblem<'_, T>,
        output: &mut [T],
        buffers: &mut (Vec<T>, Vec<T>),
    ) {
        let g = *problem.geometry();
        let taps = g.in_per_group() * g.kernel_plane();
        if self.shifted {
            let band_len = self.band_rows * g.plane_axes()[1].input;
            let (weights, product) = buffers;
            if product.len() < g.out_per_group() * band_len {
                product.resize(g.out_per_group() * band_len, T::zero());
            }
            weights_by_tap(&g, problem.kernel(), weights);
            self.run_shifted(problem, output, weights, product);
            return;
        }
        let patch_len = taps * self.band_rows * g.plane_axes()[1].output * self.items_per_product;
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

    /// Shifted views: for each batch item, group and band of output rows, one accumulating
    /// product per kernel tap (`W_ij` times the input seen from the tap's offset), computed over
    /// whole input rows into `product`, whose first `OW` values of each row are then copied into
    /// the output. `weights` holds the kernel tap by tap ([`weights_by_tap`]).
    fn run_shifted<T: ConvNum>(
        &self,
        problem: &ConvProblem<'_, T>,
        output: &mut [T],
        weights: &[T],
        product: &mut [T],
    ) {
        let g = *problem.geometry();
        let [rows, cols] = g.plane_axes();
        let (og, cg) = (g.out_per_group(), g.in_per_group());
        let (in_plane, out_plane, width) = (g.input_plane(), g.output_plane(), cols.input);
        for n in 0..g.batch() {
            for group in 0..g.groups() {
                let first_channel = n * g.in_channels() + group * cg;
                let group_input = &problem.input()[first_channel * in_plane..][..cg * in_plane];
                let group_weights = &weights[group * og * cg * g.kernel_plane()..];
                for y_start in (0..rows.output).step_by(self.band_rows) {
                    let y_end = (y_start + self.band_rows).min(rows.output);
                    // Output (y, x) of the band sits at column (y - y_start) * W + x.
                    let len = (y_end - y_start - 1) * width + cols.output;
                    let band = &mut product[..og * len];
                    for tap in 0..g.kernel_plane() {
                        let (i, j) = (tap / cols.kernel, tap % cols.kernel);
                        let offset = (y_start + i * rows.dilation) * width + j * cols.dilation;
                        let result = MatMut::new(&mut *band, og, len, len).and_then(|out| {
                            let w = MatRef::new(&group_weights[tap * og * cg..], og, cg, cg)?;
                            let view = MatRef::new(&group_input[offset..], cg, len, in_plane)?;
                            matmul(out, w, view, tap > 0)
                        });
                        if let Err(error) = result {
                            panic!("im2col shifted views sized from one geometry do not fit: {error}");
                        }
                    }
                    for (o, values) in band.chunks_exact(len).enumerate() {
                        let plane = (n * g.out_channels() + group * og + o) * out_plane;
                        for y in y_start..y_end {
                            let source = &values[(y - y_start) * width..][..cols.output];
                            output[plane + y * cols.output..][..cols.output].copy_from_slice(source);
                        }
                    }
                }
            }
        }
    }

    /// One batch item at a time, in bands of output rows, the GEMM writing straight into the
    /// output.
    fn run_banded<T: ConvNum>(&self, problem: &ConvProblem<'_, T>, output: &mut [T], patches: &mut [T]) {
        let g = *problem.geometry();
        let taps = g.in_per_group() * g.kernel_plane();
        let (out_rows, out_cols) = (g.plane_axes()[0].output, g.plane_axes()[1].output);
        let out_plane = g.output_plane();
        for n in 0..g.batch() {
            for group in 0..g.groups() {
                let first_kernel = group * g.out_per_group();
                let weights = &problem.kernel()[first_kernel * taps..][..g.out_per_group() * taps];
                let group_out = &mut output[(n * g.out_channels() + first_kernel) * out_plane..];
                for y_start in (0..out_rows).step_by(self.band_rows) {
                    let y_end = (y_start + self.band_rows).min(out_rows);
                    let band = (y_end - y_start) * out_cols;
                    let patches = &mut patches[..taps * band];
                    match self.order {
                        PatchOrder::TapRows => {
                            fill_patches(problem, n, group, y_start..y_end, patches, (band, 0))
                        }
                        PatchOrder::PositionRows => {
                            fill_patches_by_position(problem, n, group, y_start..y_end, patches, 0);
                        }
                    }
                    let out =
                        MatMut::new(&mut group_out[y_start * out_cols..], g.out_per_group(), band, out_plane);
                    product(out, (weights, taps), self.order.factor(patches, taps, band));
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
        let g = *problem.geometry();
        let taps = g.in_per_group() * g.kernel_plane();
        let (plane, og) = (g.output_plane(), g.out_per_group());
        for group in 0..g.groups() {
            let first_kernel = group * og;
            let weights = &problem.kernel()[first_kernel * taps..][..og * taps];
            for first_item in (0..g.batch()).step_by(self.items_per_product) {
                let items = self.items_per_product.min(g.batch() - first_item);
                let width = items * plane;
                let patches = &mut patches[..taps * width];
                for k in 0..items {
                    let (n, all_rows) = (first_item + k, 0..g.plane_axes()[0].output);
                    match self.order {
                        PatchOrder::TapRows => {
                            fill_patches(problem, n, group, all_rows, patches, (width, k * plane))
                        }
                        PatchOrder::PositionRows => {
                            fill_patches_by_position(problem, n, group, all_rows, patches, k * plane);
                        }
                    }
                }
                let product_matrix = &mut product[..og * width];
                self::product(
                    MatMut::new(&mut *product_matrix, og, width, width),
                    (weights, taps),
                    self.order.factor(patches, taps, width),
                );
                for (o, row) in product_matrix.chunks_exact(width).enumerate() {
                    for (k, values) in row.chunks_exact(plane).enumerate() {
                        let at = ((first_item + k) * g.out_channels() + first_kernel + o) * plane;
                        output[at..at + plane].copy_from_slice(values);
                    }
                }
            }
        }
    }
}

/// The kernel bank `[O, Cg, KH, KW]` rearranged tap by tap into `by_tap` (`[groups, KH*KW, Og,
/// Cg]`): for each group and tap, the `Og x Cg` matrix a shifted-view product multiplies by.
fn weights_by_tap<T: ConvNum>(g: &Geometry, kernel: &[T], by_tap: &mut Vec<T>) {
    let (og, cg, plane) = (g.out_per_group(), g.in_per_group(), g.kernel_plane());
    by_tap.clear();
    for group in 0..g.groups() {
        let bank = &kernel[group * og * cg * plane..][..og * cg * plane];
        for tap in 0..plane {
            by_tap.extend(bank.iter().skip(tap).step_by(plane.max(1)));
        }
    }
}

/// `out = weights * patches`, the weights given as a row-major slice with its row length.
///
/// # Panics
/// If the views do not fit their slices: the callers size every buffer from the same geometry,
/// so that would be a bug in this file.
fn product<T: ConvNum>(
    out: Result<MatMut<'_, T>, convkit_gemm::GemmError>,
    (weights, taps): (&[T], usize),
    patches: Result<MatRef<'_, T>, convkit_gemm::GemmError>,
) {
    let rows = weights.len() / taps.max(1);
    let result = out.and_then(|out| {
        let weights = MatRef::new(weights, rows, taps, taps)?;
        matmul(out, weights, patches?, false)
    });
    if let Err(error) = result {
        panic!("im2col buffers sized from one geometry do not fit: {error}");
    }
}

/// [`Im2col`] prepared for one geometry and kernel: the weights and its own buffers.
pub(super) struct Im2colPlan<T> {
    pub(super) layout: Layout,
    pub(super) kernel: Vec<T>,
    /// Per thread: the patch matrix and, when items are batched, the product before it is
    /// scattered.
    pub(super) buffers: Scratch<ThreadBuffers<T>>,
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
        check_buffer_len("output", self.layout.geometry.output_len(), output.len())?;
        self.buffers.with(Vec::new, |buffers| self.layout.run_split(&problem, output, buffers))
    }

    /// Ungrouped problems natively, as [`Im2col`]'s `execute_channels_last`; grouped ones by
    /// the default transposes.
    fn execute_channels_last(&self, input: &[T], output: &mut [T]) -> Result<(), ConvError> {
        if self.layout.geometry.groups() != 1 {
            return crate::backend::layout::plan_through_channels_first(self, input, output);
        }
        let problem = ConvProblem::new(self.layout.geometry, input, &self.kernel)?;
        super::channels_last::execute(&problem, output)
    }
}
