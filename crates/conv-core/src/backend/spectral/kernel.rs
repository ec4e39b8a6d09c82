//! Kernel spectra: computed once per plan, or row by row alongside the input for one call.

use rustfft::num_complex::Complex;

use super::columns::*;
use super::plan::*;
use super::transforms::*;
use crate::geometry::Geometry;
use crate::num::ConvNum;

/// Row spectra (stage 1, in [`Plans::forward_rows`]'s layout) of every kernel plane, each
/// plane flipped and dilated into correlation-as-convolution form (valid output `(y, x)` of an
/// input placed at the origin then sits at grid position `(y + KH' - 1, x + KW' - 1)`, with
/// `KH'`, `KW'` the dilated kernel spans) and scaled by `1 / (LH * LW)`, the normalisation the
/// inverse transforms leave out. The planes have `KH'` rows each.
pub(super) fn kernel_row_spectra<T: ConvNum>(
    g: &Geometry,
    kernel: &[T],
    plans: &Plans<T>,
    row_spectra: &mut Vec<Complex<T>>,
    workers: &mut [WorkerBuffers<T>],
) {
    let [rows, cols] = g.plane_axes();
    let (span_rows, span_cols) = (rows.effective_kernel(), cols.effective_kernel());
    let planes = g.out_channels() * g.in_per_group();
    let scale = T::one() / T::from_f64_lossy((plans.grid[0] * plans.grid[1]) as f64);
    let mut placed = vec![T::zero(); planes * span_rows * span_cols];
    for (placed, kernel) in
        placed.chunks_exact_mut(span_rows * span_cols).zip(kernel.chunks_exact(g.kernel_plane()))
    {
        for i in 0..rows.kernel {
            for j in 0..cols.kernel {
                let r = span_rows - 1 - i * rows.dilation;
                let s = span_cols - 1 - j * cols.dilation;
                placed[r * span_cols + s] = kernel[i * cols.kernel + j] * scale;
            }
        }
    }
    let row_spectra = at_least(row_spectra, plans.row_spectra_len([planes, span_rows]), Complex::default());
    let row_of = |p: usize, r: usize| &placed[(p * span_rows + r) * span_cols..][..span_cols];
    plans.forward_rows(span_rows, row_of, row_spectra, workers);
}

/// Spectra of every kernel plane on `plans.grid` (as [`kernel_row_spectra`], then the columns).
///
/// Layout: one group per frequency column `k`, holding that column of every kernel plane
/// (`O * Cg` columns of `grid[0]` values, in kernel order); on a one-row grid, spectrum after
/// spectrum.
pub(super) fn kernel_spectra<T: ConvNum>(
    g: &Geometry,
    kernel: &[T],
    plans: &Plans<T>,
    scratch: &mut SpectralScratch<T>,
    threads: usize,
) -> Vec<Complex<T>> {
    let planes = g.out_channels() * g.in_per_group();
    let span_rows = g.plane_axes()[0].effective_kernel();
    let SpectralScratch { row_spectra, workers, spare_kernel_spectra, .. } = scratch;
    let workers = worker_buffers(workers, threads);
    if plans.grid[0] == 1 {
        // One row: the row spectra are the spectra.
        let mut spectra = std::mem::take(spare_kernel_spectra);
        kernel_row_spectra(g, kernel, plans, &mut spectra, workers);
        spectra.truncate(plans.row_spectra_len([planes, span_rows]));
        return spectra;
    }
    kernel_row_spectra(g, kernel, plans, row_spectra, workers);
    let row_spectra = &mut row_spectra[..plans.row_spectra_len([planes, span_rows])];
    let group_len = planes * plans.grid[0];
    // Every value is written below; a buffer a dropped plan left is reused as it is.
    let mut spectra = std::mem::take(spare_kernel_spectra);
    spectra.truncate(plans.half_width() * group_len);
    spectra.resize(plans.half_width() * group_len, Complex::default());
    // Each worker's range of columns is one run of the spectra.
    let mut outputs = Vec::with_capacity(workers.len());
    let mut rest = spectra.as_mut_slice();
    for range in column_ranges(plans.half_width(), workers.len()) {
        let (mine, tail) = std::mem::take(&mut rest).split_at_mut(range.len() * group_len);
        outputs.push(mine);
        rest = tail;
    }
    let copy = |k0: usize,
                groups: &mut [Complex<T>],
                _: &mut [Complex<T>],
                runs: &mut ColumnRuns<'_, T>,
                out: &mut &mut [Complex<T>]| {
        out[(k0 - runs.range.start) * group_len..][..groups.len()].copy_from_slice(groups);
    };
    let runs = column_runs(row_spectra, plans.half_width(), workers.len());
    let shares = runs.into_iter().zip(outputs).collect();
    plans.forward_columns([planes, span_rows], None, 0, workers, shares, copy);
    spectra
}

/// A plan's kernel in the frequency domain.
pub(super) enum KernelSpectra<T> {
    /// Transformed on the whole grid ([`kernel_spectra`]'s layout).
    Transformed(Vec<Complex<T>>),
    /// Only row-transformed ([`kernel_row_spectra`]), for a plan used once on one image: its
    /// call transforms the kernel's columns alongside the input's, block by block, and never
    /// stores the whole kernel spectra.
    Rows(Vec<Complex<T>>),
}
