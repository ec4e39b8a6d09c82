//! im2col on channels-last storage (`[N, H, W, C]` in, `[N, OH, OW, O]` out): patch rows of
//! contiguous runs or shifted views, and the kernel gradient of a layer, `P^T G`.

use convkit_gemm::{MatMut, MatRef, matmul};

use super::shifted_views_pay;
use crate::backend::contract::{ConvProblem, check_buffer_len};
use crate::backend::plan::{ThreadBuffers, with_thread_scratch};
use crate::error::ConvError;
use crate::geometry::Geometry;
use crate::num::ConvNum;
use crate::parallel;

/// The patch rows of one product are kept near this size, so that they are still in the core's
/// cache when the GEMM packs them.
const BAND_TARGET_BYTES: usize = 1 << 20;

/// Fills `patches` with the patch rows of output positions `first .. first + count` (position
/// `p = (n * OH + y) * OW + x`) of an ungrouped geometry whose input is stored channels last:
/// row `p` holds the window under the kernel at that position, tap by tap in the kernel's
/// `(i, j, c)` order (`KH * KW * C` values; with unit column dilation, `KH` copies of
/// `KW * C` contiguous input values).
fn fill_patch_rows<T: ConvNum>(g: &Geometry, input: &[T], first: usize, count: usize, patches: &mut [T]) {
    let [rows, cols] = g.plane_axes();
    let c = g.in_channels();
    let (run, taps) = (cols.kernel * c, g.kernel_plane() * c);
    let (out_plane, width) = (rows.output * cols.output, cols.input);
    for (row, p) in patches.chunks_exact_mut(taps).zip(first..first + count) {
        let (n, y, x) = (p / out_plane, p % out_plane / cols.output, p % cols.output);
        for (i, kernel_row) in row.chunks_exact_mut(run).enumerate() {
            let input_row = n * rows.input + y * rows.stride + i * rows.dilation;
            let start = (input_row * width + x * cols.stride) * c;
            if cols.dilation == 1 {
                kernel_row.copy_from_slice(&input[start..start + run]);
            } else {
                for (j, tap) in kernel_row.chunks_exact_mut(c).enumerate() {
                    let at = start + j * cols.dilation * c;
                    tap.copy_from_slice(&input[at..at + c]);
                }
            }
        }
    }
}

/// Patch rows per product for `g`: about [`BAND_TARGET_BYTES`] of them, at least one.
fn band_positions<T>(g: &Geometry) -> usize {
    let row_bytes = g.kernel_plane().saturating_mul(g.in_channels()).saturating_mul(size_of::<T>()).max(1);
    (BAND_TARGET_BYTES / row_bytes).max(1)
}

/// Checks an ungrouped, valid geometry and the lengths of a channels-last input and of
/// `other` (`what`, `expected` values).
fn check_ungrouped<T>(
    g: &Geometry,
    input: &[T],
    what: &'static str,
    expected: usize,
    got: usize,
) -> Result<(), ConvError> {
    if g.groups() != 1 {
        return Err(ConvError::Unsupported {
            backend: "channels-last im2col".into(),
            reason: format!("grouped convolution (groups = {})", g.groups()),
        });
    }
    check_buffer_len("input", g.input_len(), input.len())?;
    check_buffer_len(what, expected, got)
}

/// The kernel bank `[O, C, KH, KW]` as the `(KH * KW * C) x O` right factor of the
/// channels-last product (row `(i * KW + j) * C + c`, column `o`).
fn weight_matrix<T: ConvNum>(g: &Geometry, kernel: &[T]) -> Vec<T> {
    let (o_count, c_count, plane) = (g.out_channels(), g.in_channels(), g.kernel_plane());
    let mut weights = vec![T::zero(); kernel.len()];
    for (o, bank) in kernel.chunks_exact(c_count * plane).enumerate() {
        for (c, taps) in bank.chunks_exact(plane).enumerate() {
            for (tap, &value) in taps.iter().enumerate() {
                weights[(tap * c_count + c) * o_count + o] = value;
            }
        }
    }
    weights
}

/// The im2col backend's channels-last solve (ungrouped geometries): output positions are
/// shared out over the threads, and each thread multiplies bands of patch rows by the weight
/// matrix straight into its part of the output.
///
/// With unit strides and enough channels there is no patch matrix at all (*shifted views*):
/// counted over whole input rows (position `q = y * W + x`, `x < W`), the output of tap
/// `(i, j)` is the input seen from pixel `i * W + j` onwards, one pixel (`C` values) per row,
/// times the tap's `C x O` block of the weight matrix. A band of output rows is then `KH * KW`
/// accumulating products over views of the input itself, and the `KW - 1` extra positions of
/// each row are dropped when the band is copied into the output.
pub(super) fn execute<T: ConvNum>(problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
    let g = *problem.geometry();
    let out_len = g.output_len();
    check_ungrouped(&g, problem.input(), "output", out_len, output.len())?;
    let weights = weight_matrix(&g, problem.kernel());
    let threads = parallel::threads_for(g.multiply_adds(), parallel::MIN_MULTIPLY_ADDS_PER_THREAD);
    // Each thread's patch (or product) buffer is kept between calls.
    let result = with_thread_scratch(|buffers: &mut ThreadBuffers<T>| {
        if buffers.len() < threads {
            buffers.resize_with(threads, Default::default);
        }
        let buffers = &mut buffers[..threads];
        if super::small_channels::applies(&g) {
            parallel::split_items(output, g.out_channels(), buffers, |piece, first, _| {
                super::small_channels::solve(&g, problem.input(), &weights, piece, first);
                Ok(())
            })
        } else if shifted_views_pay(&g, g.in_channels()) {
            let image = g.output_plane() * g.out_channels();
            parallel::split_items(output, image, buffers, |piece, first_image, (product, _)| {
                solve_shifted(&g, problem.input(), &weights, piece, first_image, product)
            })
        } else {
            parallel::split_items(output, g.out_channels(), buffers, |piece, first, (patches, _)| {
                solve_by_patches(&g, problem.input(), &weights, piece, first, patches)
            })
        }
    });
    result.map_err(|error: convkit_gemm::GemmError| ConvError::Unsupported {
        backend: "im2col".into(),
        reason: format!("channels-last product: {error}"),
    })
}

/// Shifted views (see [`im2col_execute`]) for the whole images in `piece`, the first of them
/// image `first_image`, with `product` as the band's scratch.
fn solve_shifted<T: ConvNum>(
    g: &Geometry,
    input: &[T],
    weights: &[T],
    piece: &mut [T],
    first_image: usize,
    product: &mut Vec<T>,
) -> Result<(), convkit_gemm::GemmError> {
    let [rows, cols] = g.plane_axes();
    let (c, o_count, width) = (g.in_channels(), g.out_channels(), cols.input);
    let row_bytes = (width * o_count * size_of::<T>()).max(1);
    let band_rows = (BAND_TARGET_BYTES / row_bytes).clamp(1, rows.output);
    product.resize(band_rows * width * o_count, T::zero());
    let image_in = rows.input * width * c;
    for (k, out_image) in piece.chunks_exact_mut(g.output_plane() * o_count).enumerate() {
        let image = &input[(first_image + k) * image_in..][..image_in];
        for y_start in (0..rows.output).step_by(band_rows) {
            let y_end = (y_start + band_rows).min(rows.output);
            // Output (y, x) of the band sits at position (y - y_start) * W + x.
            let len = (y_end - y_start - 1) * width + cols.output;
            let band = &mut product[..len * o_count];
            for tap in 0..g.kernel_plane() {
                let (i, j) = (tap / cols.kernel, tap % cols.kernel);
                // The view ends at pixel (y_end - 1 + i*dh, OW - 1 + j*dw), inside the image.
                let offset = ((y_start + i * rows.dilation) * width + j * cols.dilation) * c;
                let view = MatRef::new(&image[offset..], len, c, c)?;
                let block = MatRef::new(&weights[tap * c * o_count..], c, o_count, o_count)?;
                matmul(MatMut::new(&mut *band, len, o_count, o_count)?, view, block, tap > 0)?;
            }
            for y in y_start..y_end {
                let source = &band[(y - y_start) * width * o_count..][..cols.output * o_count];
                out_image[y * cols.output * o_count..][..cols.output * o_count].copy_from_slice(source);
            }
        }
    }
    Ok(())
}

/// Bands of patch rows times the weight matrix, straight into `piece` (output positions
/// `first ..`), with `patches` as the band's patch matrix.
fn solve_by_patches<T: ConvNum>(
    g: &Geometry,
    input: &[T],
    weights: &[T],
    piece: &mut [T],
    first: usize,
    patches: &mut Vec<T>,
) -> Result<(), convkit_gemm::GemmError> {
    let (taps, o_count) = (g.kernel_plane() * g.in_channels(), g.out_channels());
    let band = band_positions::<T>(g);
    let positions = piece.len() / o_count.max(1);
    patches.resize(band.min(positions) * taps, T::zero());
    for (k, out_band) in piece.chunks_mut(band * o_count).enumerate() {
        let count = out_band.len() / o_count.max(1);
        let patches = &mut patches[..count * taps];
        fill_patch_rows(g, input, first + k * band, count, patches);
        let out = MatMut::new(out_band, count, o_count, o_count)?;
        matmul(
            out,
            MatRef::new(patches, count, taps, taps)?,
            MatRef::new(weights, taps, o_count, o_count)?,
            false,
        )?;
    }
    Ok(())
}

/// The gradient of `sum(output_gradient * y)`, where `y` is the correlation `g` of the
/// channels-last `input` (`[N, H, W, C]`), with respect to the kernel: `dK[i, j, c, o] =
/// sum over n, y, x of input[n, y*sh + i*dh, x*sw + j*dw, c] * output_gradient[n, y, x, o]`,
/// returned as `[KH, KW, C, O]` (Keras's kernel layout). It is `P^T G` for the patch matrix
/// `P` of the forward product and the output gradient `G` as a `positions x O` matrix.
///
/// # Errors
/// [`ConvError::Unsupported`] for a grouped geometry, [`ConvError::BufferLength`] when
/// `input` is not `N*H*W*C` or `output_gradient` not `N*OH*OW*O` values long.
///
/// # Examples
/// ```
/// use conv_core::{AxisGeometry, Geometry, channels_last::kernel_gradient};
/// // One 1x3 image with 2 channels, a 1x2 kernel, one filter: outputs y[x] = sum k . window.
/// let g = Geometry::planar(1, 2, 1, 1, [AxisGeometry::new(0, 1, 1, 1, 1)?, AxisGeometry::new(1, 3, 2, 1, 1)?])?;
/// let input = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0]; // pixels (1, 10), (2, 20), (3, 30)
/// let grad = [1.0, 0.5]; // dL/dy for the two outputs
/// // dK[0, j, c, 0] = input[j, c] * 1 + input[j + 1, c] * 0.5
/// assert_eq!(kernel_gradient(&g, &input, &grad)?, vec![2.0, 20.0, 3.5, 35.0]);
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub fn kernel_gradient<T: ConvNum>(
    g: &Geometry,
    input: &[T],
    output_gradient: &[T],
) -> Result<Vec<T>, ConvError> {
    check_ungrouped(g, input, "output gradient", g.output_len(), output_gradient.len())?;
    let (taps, o_count) = (g.kernel_plane() * g.in_channels(), g.out_channels());
    let positions = g.batch() * g.output_plane();
    let band = band_positions::<T>(g);
    let threads = parallel::threads_for(g.multiply_adds(), parallel::MIN_MULTIPLY_ADDS_PER_THREAD)
        .min(positions.max(1));
    let per_thread = positions.div_ceil(threads);
    // One partial sum per thread, added up at the end.
    let mut partials = vec![T::zero(); threads * taps * o_count];
    with_thread_scratch(|buffers: &mut ThreadBuffers<T>| {
        if buffers.len() < threads {
            buffers.resize_with(threads, Default::default);
        }
        parallel::split_items(
            &mut partials,
            taps * o_count,
            &mut buffers[..threads],
            |sum, thread, (patches, _)| {
                let start = thread * per_thread;
                let end = (start + per_thread).min(positions);
                patches.resize(band.min(end.saturating_sub(start)) * taps, T::zero());
                for (k, first) in (start..end).step_by(band).enumerate() {
                    let count = band.min(end - first);
                    let patches = &mut patches[..count * taps];
                    fill_patch_rows(g, input, first, count, patches);
                    let grad = MatRef::new(&output_gradient[first * o_count..], count, o_count, o_count)?;
                    let patches_t = MatRef::new(&*patches, count, taps, taps)?.t();
                    matmul(MatMut::new(&mut *sum, taps, o_count, o_count)?, patches_t, grad, k > 0)?;
                }
                Ok(())
            },
        )
    })
    .map_err(|error: convkit_gemm::GemmError| ConvError::Unsupported {
        backend: "im2col".into(),
        reason: format!("kernel-gradient product: {error}"),
    })?;
    let (total, others) = partials.split_at_mut(taps * o_count);
    for partial in others.chunks_exact(taps * o_count) {
        total.iter_mut().zip(partial).for_each(|(t, &p)| *t = *t + p);
    }
    partials.truncate(taps * o_count);
    Ok(partials)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::backend::{ConvBackend, Direct, Im2col, solve_through_channels_first, transpose_items};
    use crate::geometry::AxisGeometry;

    fn geometry(batch: usize, c: usize, o: usize, rows: [usize; 4], cols: [usize; 4]) -> Geometry {
        let axis = |index, [input, kernel, stride, dilation]: [usize; 4]| {
            AxisGeometry::new(index, input, kernel, stride, dilation).unwrap()
        };
        Geometry::planar(batch, c, o, 1, [axis(0, rows), axis(1, cols)]).unwrap()
    }

    fn values(len: usize, seed: u64) -> Vec<f64> {
        // A fixed, irregular sequence in [-1, 1).
        (0..len as u64).map(|i| ((i * 7919 + seed * 104_729) % 2003) as f64 / 1001.5 - 1.0).collect()
    }

    /// `[n, c, h, w]` -> `[n, h, w, c]`.
    fn to_channels_last(src: &[f64], [_, c, h, w]: [usize; 4]) -> Vec<f64> {
        let mut dst = vec![0.0; src.len()];
        transpose_items(src, &mut dst, c, h * w);
        dst
    }

    /// Batch, channels, filters, and per axis `[input, kernel, stride, dilation]`.
    type Case = (usize, usize, usize, [usize; 4], [usize; 4]);

    const GEOMETRIES: [Case; 8] = [
        (3, 4, 5, [9, 3, 1, 1], [8, 3, 1, 1]),
        // Shifted views: one band, and (wide rows) several bands per image; dilated.
        (2, 16, 3, [5, 3, 1, 1], [17, 3, 1, 1]),
        (3, 17, 5, [40, 2, 1, 1], [1200, 3, 1, 1]),
        (2, 16, 4, [9, 2, 1, 3], [40, 3, 1, 2]),
        (2, 3, 2, [11, 3, 2, 1], [10, 2, 3, 1]),
        (2, 2, 3, [12, 3, 1, 2], [13, 2, 1, 3]),
        (1, 1, 1, [1, 1, 1, 1], [17, 5, 1, 1]),
        (150, 8, 16, [10, 3, 1, 1], [10, 3, 1, 1]),
    ];

    /// Few input channels and 16 to 64 filters take the register-blocked solve
    /// (`small_channels.rs`): blocks of six positions, single positions at a row's end, the
    /// bounds-checked sums at the input's end (a one-position image), strides, row dilation,
    /// and 1, 2, 3 and 5 channels; each agrees with Direct.
    #[test]
    fn small_channel_layers_agree_with_direct() {
        let cases: [Case; 6] = [
            (3, 3, 32, [12, 3, 1, 1], [11, 3, 1, 1]),
            (2, 1, 16, [9, 3, 2, 1], [14, 3, 2, 1]),
            (2, 5, 48, [8, 3, 1, 2], [7, 3, 1, 1]),
            (4, 2, 64, [6, 2, 1, 1], [20, 5, 1, 1]),
            (1, 3, 16, [3, 3, 1, 1], [3, 3, 1, 1]),
            (70, 3, 32, [10, 3, 1, 1], [10, 3, 1, 1]),
        ];
        for (seed, &(n, c, o, rows, cols)) in cases.iter().enumerate() {
            let g = geometry(n, c, o, rows, cols);
            assert!(crate::backend::im2col::small_channels::applies(&g), "case {seed}");
            let input = values(g.input_len(), seed as u64 + 7);
            let kernel = values(g.kernel_len(), seed as u64 + 70);
            let mut want = vec![0.0; g.output_len()];
            Direct.execute(&ConvProblem::new(g, &input, &kernel).unwrap(), &mut want).unwrap();
            let [oh, ow] = [g.plane_axes()[0].output, g.plane_axes()[1].output];
            let want = to_channels_last(&want, [n, o, oh, ow]);
            let input_last = to_channels_last(&input, [n, c, rows[0], cols[0]]);
            let mut got = vec![f64::NAN; want.len()];
            Im2col::default()
                .execute_channels_last(&ConvProblem::new(g, &input_last, &kernel).unwrap(), &mut got)
                .unwrap();
            for (k, (a, b)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (a - b).abs() < 1e-12 * (1 + c * rows[1] * cols[1]) as f64,
                    "case {seed}, {k}: {a} vs {b}"
                );
            }
        }
    }

    /// The native im2col solve and the default (through channels first) agree with Direct on
    /// strided, dilated and rectangular problems; the last one is large enough to be split
    /// over threads.
    #[test]
    fn channels_last_solves_agree_with_direct() {
        for (seed, &(n, c, o, rows, cols)) in GEOMETRIES.iter().enumerate() {
            let g = geometry(n, c, o, rows, cols);
            assert_eq!(shifted_views_pay(&g, g.in_channels()), (1..=3).contains(&seed), "geometry {seed}");
            let input = values(g.input_len(), seed as u64);
            let kernel = values(g.kernel_len(), seed as u64 + 50);
            let mut want = vec![0.0; g.output_len()];
            Direct.execute(&ConvProblem::new(g, &input, &kernel).unwrap(), &mut want).unwrap();
            let [oh, ow] = [g.plane_axes()[0].output, g.plane_axes()[1].output];
            let want = to_channels_last(&want, [n, o, oh, ow]);
            let input_last = to_channels_last(&input, [n, c, rows[0], cols[0]]);
            let problem = ConvProblem::new(g, &input_last, &kernel).unwrap();
            let mut native = vec![f64::NAN; want.len()];
            Im2col::default().execute_channels_last(&problem, &mut native).unwrap();
            let mut converted = vec![f64::NAN; want.len()];
            solve_through_channels_first(&Direct, &problem, &mut converted).unwrap();
            assert_eq!(converted, want, "geometry {seed}");
            for (k, (a, b)) in native.iter().zip(&want).enumerate() {
                assert!(
                    (a - b).abs() < 1e-12 * (1 + c * rows[1] * cols[1]) as f64,
                    "geometry {seed}, {k}: {a} vs {b}"
                );
            }
        }
    }

    /// The kernel gradient equals the definition summed term by term.
    #[test]
    fn kernel_gradient_is_the_sum_of_the_definition() {
        for (seed, &(n, c, o, rows, cols)) in GEOMETRIES.iter().enumerate() {
            let g = geometry(n, c, o, rows, cols);
            let [h, w] = [rows[0], cols[0]];
            let [oh, ow] = [g.plane_axes()[0].output, g.plane_axes()[1].output];
            let input = values(g.input_len(), seed as u64);
            let grad = values(g.output_len(), seed as u64 + 9);
            let got = kernel_gradient(&g, &input, &grad).unwrap();
            for (index, &value) in got.iter().enumerate() {
                let (oo, cc, j, i) =
                    (index % o, index / o % c, index / (o * c) % cols[1], index / (o * c * cols[1]));
                let mut sum = 0.0;
                for item in 0..n {
                    for y in 0..oh {
                        for x in 0..ow {
                            let (yy, xx) = (y * rows[2] + i * rows[3], x * cols[2] + j * cols[3]);
                            sum += input[((item * h + yy) * w + xx) * c + cc]
                                * grad[((item * oh + y) * ow + x) * o + oo];
                        }
                    }
                }
                assert!(
                    (value - sum).abs() < 1e-10 * (n * oh * ow) as f64,
                    "geometry {seed}, {index}: {value} vs {sum}"
                );
            }
        }
    }

    #[test]
    fn grouped_problems_and_wrong_lengths_are_refused() {
        let grouped = Geometry::planar(
            1,
            4,
            4,
            2,
            [AxisGeometry::new(0, 3, 1, 1, 1).unwrap(), AxisGeometry::new(1, 3, 1, 1, 1).unwrap()],
        )
        .unwrap();
        let input = vec![1.0f64; 36];
        assert!(matches!(kernel_gradient(&grouped, &input, &input), Err(ConvError::Unsupported { .. })));
        let g = geometry(1, 2, 1, [3, 1, 1, 1], [3, 1, 1, 1]);
        assert!(matches!(
            kernel_gradient(&g, &input[..17], &input[..9]),
            Err(ConvError::BufferLength { .. })
        ));
        assert!(matches!(
            kernel_gradient(&g, &input[..18], &input[..8]),
            Err(ConvError::BufferLength { .. })
        ));
    }
}
