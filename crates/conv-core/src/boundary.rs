//! Boundary extension: builds the padded input the canonical problem reads.

use crate::geometry::SPATIAL_AXES;
use crate::num::ConvNum;
use crate::parallel;
use crate::spec::Boundary;

/// The input index that padded position `i` (relative to the first input sample, so negative
/// before the input) reads under `boundary`, or `None` when it reads the fill value — or reads
/// nothing, because the input is empty (`n = 0`). Any `i` and `n` are answered, without
/// overflow.
///
/// # Examples
/// ```
/// use conv_core::{Boundary, boundary_source_index as source};
/// // Input a b c d (n = 4): position -2 reads b (symmetric), c (reflect), a (replicate), c (circular).
/// assert_eq!(source(-2, 4, Boundary::Symmetric), Some(1));
/// assert_eq!(source(-2, 4, Boundary::Reflect), Some(2));
/// assert_eq!(source(-2, 4, Boundary::Replicate), Some(0));
/// assert_eq!(source(-2, 4, Boundary::Circular), Some(2));
/// assert_eq!(source(-2, 4, Boundary::Zeros), None);
/// assert_eq!(source(-1, 0, Boundary::Circular), None); // an empty input has nothing to read
/// ```
pub fn boundary_source_index(i: isize, n: usize, boundary: Boundary) -> Option<usize> {
    // In i128 every sum below is exact for any isize position and usize length.
    let (i, len) = (i as i128, n as i128);
    if len == 0 {
        return None;
    }
    if (0..len).contains(&i) {
        return usize::try_from(i).ok();
    }
    let mirrored = |period: i128, last: i128| {
        let m = i.rem_euclid(period);
        if m < len { m } else { last - m }
    };
    let source = match boundary {
        Boundary::Zeros | Boundary::Constant(_) => return None,
        Boundary::Circular => i.rem_euclid(len),
        Boundary::Replicate => i.clamp(0, len - 1),
        Boundary::Symmetric => mirrored(2 * len, 2 * len - 1),
        Boundary::Reflect if len == 1 => 0,
        Boundary::Reflect => mirrored(2 * len - 2, 2 * len - 2),
    };
    usize::try_from(source).ok()
}

/// Copies `planes` contiguous planes (volumes) of shape `dims` (`[D, H, W]`) into `padded` (its
/// allocation is reused) as planes of shape `dims + before + after`, filling the border by
/// `boundary` axis by axis (as `numpy.pad` does: a padded row reads the source slice and row its
/// depth and height positions map to). Each position holds `pixel` consecutive values: 1 for
/// channels-first planes, `C` for a channels-last image (`[D, H, W, C]` is a plane of
/// `D x H x W` positions of `C` values). Large inputs are copied by the worker threads, a band
/// of padded rows each.
pub(crate) fn pad_planes_into<T: ConvNum>(
    input: &[T],
    planes: usize,
    dims: [usize; SPATIAL_AXES],
    pixel: usize,
    pads: [(usize, usize); SPATIAL_AXES],
    boundary: Boundary,
    padded: &mut Vec<T>,
) -> Result<(), crate::error::ConvError> {
    let padder = RowPadder::new(input, dims, pixel, pads, boundary);
    let len = planes * padder.padded_rows_per_plane() * padder.padded_row_len();
    crate::buffers::resize_for_overwrite(padded, len, T::zero(), "padded input")?;
    if len == 0 {
        return Ok(());
    }
    let threads = parallel::threads_for(len as u128, MIN_PADDED_VALUES_PER_THREAD);
    let mut states = vec![(); threads];
    let Ok(()) =
        parallel::split_items(padded, padder.padded_row_len(), &mut states, |rows, first_row, ()| {
            padder.fill_rows(rows, first_row);
            Ok::<(), std::convert::Infallible>(())
        });
    Ok(())
}

/// Builds rows of the padded planes of [`pad_planes_into`] one run at a time, so a caller can
/// pad a band of rows into a small buffer instead of copying the whole input (the band solver
/// of the front end). Built once per call: the side tables are one period of the rule.
pub(crate) struct RowPadder<'a, T> {
    input: &'a [T],
    dims: [usize; SPATIAL_AXES],
    pixel: usize,
    pads: [(usize, usize); SPATIAL_AXES],
    boundary: Boundary,
    fill: T,
    left_source: Option<Vec<Option<usize>>>,
    right_source: Option<Vec<Option<usize>>>,
}

impl<'a, T: ConvNum> RowPadder<'a, T> {
    /// A padder for planes of shape `dims` (`[D, H, W]`, `pixel` values a position) stored
    /// back to back in `input`, padded by `pads` under `boundary`.
    pub(crate) fn new(
        input: &'a [T],
        dims: [usize; SPATIAL_AXES],
        pixel: usize,
        pads: [(usize, usize); SPATIAL_AXES],
        boundary: Boundary,
    ) -> Self {
        let width = dims[2];
        let [_, _, (left, right)] = pads;
        // Where each padding column reads from (the columns in between copy the row as it is): one
        // period of each side, so the tables stay within twice the row however wide the padding.
        // (None for the fills, whose sides read no input: no table to allocate on every call.)
        let reads_input = !matches!(boundary, Boundary::Zeros | Boundary::Constant(_));
        let table =
            |first: i128, count: usize| reads_input.then(|| side_sources(first, count, width, boundary));
        let (left_source, right_source) = (table(-(left as i128), left), table(width as i128, right));
        Self { input, dims, pixel, pads, boundary, fill: boundary.fill::<T>(), left_source, right_source }
    }

    /// Values in one padded row: `(left + W + right) * pixel`.
    pub(crate) fn padded_row_len(&self) -> usize {
        let [_, _, (left, right)] = self.pads;
        (self.dims[2] + left + right) * self.pixel
    }

    /// Padded rows in one padded plane: `(front + D + back) * (top + H + bottom)`.
    pub(crate) fn padded_rows_per_plane(&self) -> usize {
        let [depth, height, _] = self.dims;
        let [(front, back), (top, bottom), _] = self.pads;
        (depth + front + back) * (height + top + bottom)
    }

    /// Fills `rows` (whole padded rows) with the padded rows from `first_row` on, counted over
    /// whole padded planes.
    pub(crate) fn fill_rows(&self, rows: &mut [T], first_row: usize) {
        let [depth, height, width] = self.dims;
        let [(front, back), (top, bottom), (left, _)] = self.pads;
        let (padded_d, padded_h) = (depth + front + back, height + top + bottom);
        let pixel = self.pixel;
        for (i, out) in rows.chunks_exact_mut(self.padded_row_len().max(1)).enumerate() {
            match source_row(
                first_row + i,
                [depth, height],
                [padded_d, padded_h],
                [front, top],
                self.boundary,
            ) {
                None => out.fill(self.fill),
                Some(source_row) => {
                    let row = &self.input[source_row * width * pixel..][..width * pixel];
                    let (before, rest) = out.split_at_mut(left * pixel);
                    let (middle, after) = rest.split_at_mut(width * pixel);
                    fill_side(before, self.left_source.as_deref(), row, pixel, self.fill);
                    middle.copy_from_slice(row);
                    fill_side(after, self.right_source.as_deref(), row, pixel, self.fill);
                }
            }
        }
    }
}

/// The adjoint of [`pad_planes_into`]: the gradient with respect to the unpadded planes of a
/// loss whose gradient with respect to the padded ones is `padded`. Each padded position adds
/// its gradient to the input position it was copied from (padding read from the input twice, as
/// `Reflect` does, adds twice); fill values depend on no input and add nothing.
///
/// # Errors
/// [`ConvError::OutOfMemory`](crate::ConvError::OutOfMemory) when the result cannot be allocated.
pub(crate) fn fold_padding<T: ConvNum>(
    padded: &[T],
    planes: usize,
    dims: [usize; SPATIAL_AXES],
    pixel: usize,
    pads: [(usize, usize); SPATIAL_AXES],
    boundary: Boundary,
) -> Result<Vec<T>, crate::error::ConvError> {
    let [depth, height, width] = dims;
    let [(front, back), (top, bottom), (left, right)] = pads;
    let (padded_d, padded_h, padded_w) = (depth + front + back, height + top + bottom, width + left + right);
    let (row, padded_row) = (width * pixel, padded_w * pixel);
    let mut folded = crate::buffers::filled(planes * depth * height * row, T::zero(), "input gradient")?;
    let add = |target: &mut [T], source: &[T]| target.iter_mut().zip(source).for_each(|(t, &s)| *t = *t + s);
    // Fills read no input: their columns add nothing.
    let sides_read_input = !matches!(boundary, Boundary::Zeros | Boundary::Constant(_));
    let volume_rows = padded_d * padded_h;
    for (out, grad) in
        folded.chunks_exact_mut(depth * height * row).zip(padded.chunks_exact(volume_rows * padded_row))
    {
        for (r, grad_row) in grad.chunks_exact(padded_row).enumerate() {
            let Some(source_row) =
                source_row(r, [depth, height], [padded_d, padded_h], [front, top], boundary)
            else {
                continue;
            };
            let out_row = &mut out[source_row * row..][..row];
            add(out_row, &grad_row[left * pixel..][..row]);
            if !sides_read_input {
                continue;
            }
            for column in (0..left).chain(left + width..padded_w) {
                if let Some(source) = boundary_source_index(column as isize - left as isize, width, boundary)
                {
                    add(&mut out_row[source * pixel..][..pixel], &grad_row[column * pixel..][..pixel]);
                }
            }
        }
    }
    Ok(folded)
}

/// The input row that padded row `padded_row` (counted over whole planes of `padded` =
/// `[padded depth, padded height]` rows) reads, counted the same way over planes of `dims`
/// rows, when the first input slice and row sit at `[front, top]`; `None` when it reads the fill.
fn source_row(
    padded_row: usize,
    [depth, height]: [usize; 2],
    [padded_d, padded_h]: [usize; 2],
    [front, top]: [usize; 2],
    boundary: Boundary,
) -> Option<usize> {
    let (plane, within) = (padded_row / (padded_d * padded_h), padded_row % (padded_d * padded_h));
    let (q, r) = (within / padded_h, within % padded_h);
    let slice = boundary_source_index(q as isize - front as isize, depth, boundary)?;
    let row = boundary_source_index(r as isize - top as isize, height, boundary)?;
    Some((plane * depth + slice) * height + row)
}

/// The input column each of `count` padding columns reads (`None`: the fill), the first at
/// `first` relative to the row's first sample, for one period of the boundary rule: padding
/// column `k` reads entry `k % len`. Every rule repeats along one side of the row with a period
/// of at most twice the row (`Replicate` and the fills are constant along a side), so the table
/// is at most `2 * width` long, however wide the padding (family 2 of the reliability issue: a
/// table per padded column once took 16 bytes a column, uncounted by the cap).
fn side_sources(first: i128, count: usize, width: usize, boundary: Boundary) -> Vec<Option<usize>> {
    let period = match boundary {
        Boundary::Circular => width,
        Boundary::Symmetric => width.saturating_mul(2),
        Boundary::Reflect => width.saturating_mul(2).saturating_sub(2),
        Boundary::Zeros | Boundary::Constant(_) | Boundary::Replicate => 1,
    };
    let len = count.min(period.max(1));
    (0..len)
        .map(|k| {
            // `first + k` is a padded position: far below isize::MAX, since the padded row exists.
            let position = isize::try_from(first + k as i128).unwrap_or(isize::MAX);
            boundary_source_index(position, width, boundary)
        })
        .collect()
}

/// Fills one side of a padded row of `pixel`-value positions from its one-period table (see
/// [`side_sources`]); with no table (a fill boundary), with `fill`.
fn fill_side<T: Copy>(side: &mut [T], table: Option<&[Option<usize>]>, row: &[T], pixel: usize, fill: T) {
    let Some(table) = table else {
        side.fill(fill);
        return;
    };
    if table.is_empty() {
        return;
    }
    if pixel == 1 {
        for chunk in side.chunks_mut(table.len()) {
            chunk.iter_mut().zip(table).for_each(|(v, s)| *v = s.map_or(fill, |j| row[j]));
        }
        return;
    }
    for chunk in side.chunks_mut(table.len() * pixel) {
        for (position, source) in chunk.chunks_exact_mut(pixel).zip(table) {
            match source {
                Some(j) => position.copy_from_slice(&row[j * pixel..][..pixel]),
                None => position.fill(fill),
            }
        }
    }
}

/// Padded values per thread below which padding is copied on one thread (a copy is bound by
/// memory bandwidth; a second core adds some).
const MIN_PADDED_VALUES_PER_THREAD: u128 = 1 << 19;

/// Appends positions `positions` of `row` padded by `before` samples under `boundary` (position
/// `before` is the row's first sample): a piece of the padded row without building all of it.
pub(crate) fn extend_padded_positions<T: ConvNum>(
    row: &[T],
    before: usize,
    positions: std::ops::Range<usize>,
    boundary: Boundary,
    out: &mut Vec<T>,
) -> Result<(), crate::error::ConvError> {
    let fill = boundary.fill::<T>();
    let start = out.len();
    crate::buffers::resize(out, start.saturating_add(positions.len()), fill, "padded piece")?;
    for (value, p) in out[start..].iter_mut().zip(positions) {
        *value =
            boundary_source_index(p as isize - before as isize, row.len(), boundary).map_or(fill, |j| row[j]);
    }
    Ok(())
}

/// Reverses every kernel plane along every spatial axis (turns a convolution kernel into the
/// correlation kernel the canonical problem uses). The kernel is a stack of contiguous planes of
/// `plane` elements; reversing a row-major plane end to end reverses each axis.
pub(crate) fn flip_planes<T: Copy>(kernel: &mut [T], plane: usize) {
    for chunk in kernel.chunks_exact_mut(plane) {
        chunk.reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_of_the_padded_row_matches_the_whole_padded_row() {
        let row = [1.0, 2.0, 3.0, 4.0, 5.0];
        for boundary in [
            Boundary::Zeros,
            Boundary::Constant(-7.0),
            Boundary::Symmetric,
            Boundary::Reflect,
            Boundary::Replicate,
            Boundary::Circular,
        ] {
            let (before, after) = (3, 4);
            let mut whole = Vec::new();
            pad_planes_into(
                &row,
                1,
                [1, 1, row.len()],
                1,
                [(0, 0), (0, 0), (before, after)],
                boundary,
                &mut whole,
            )
            .unwrap();
            for (start, end) in [(0, 5), (2, 9), (6, 12), (0, 12)] {
                let mut piece = vec![99.0];
                extend_padded_positions(&row, before, start..end, boundary, &mut piece).unwrap();
                assert_eq!(piece[0], 99.0, "appends, keeps what was there");
                assert_eq!(&piece[1..], &whole[start..end], "{boundary:?} {start}..{end}");
            }
        }
    }

    /// Padding many times wider than the row (where the one-period tables repeat): every
    /// padded value is what `boundary_source_index` names, for every rule and row width.
    #[test]
    fn padding_wider_than_the_row_repeats_the_rule() {
        for width in [0, 1, 2, 3, 5] {
            let row: Vec<f64> = (0..width).map(|i| 10.0 + i as f64).collect();
            for boundary in [
                Boundary::Constant(-7.0),
                Boundary::Symmetric,
                Boundary::Reflect,
                Boundary::Replicate,
                Boundary::Circular,
            ] {
                let (before, after) = (23, 19);
                let mut padded = Vec::new();
                pad_planes_into(
                    &row,
                    1,
                    [1, 1, width],
                    1,
                    [(0, 0), (0, 0), (before, after)],
                    boundary,
                    &mut padded,
                )
                .unwrap();
                assert_eq!(padded.len(), before + width + after);
                for (c, &value) in padded.iter().enumerate() {
                    let want = boundary_source_index(c as isize - before as isize, width, boundary)
                        .map_or(boundary.fill::<f64>(), |j| row[j]);
                    assert_eq!(value, want, "{boundary:?}, width {width}, column {c}");
                }
            }
        }
    }

    /// Family 2 of the reliability issue: the padding tables are one period long (at most twice
    /// the row), not a 16-byte entry per padded column (2^40 columns here: 16 TB before).
    #[test]
    fn padding_tables_do_not_grow_with_the_padding() {
        for boundary in
            [Boundary::Zeros, Boundary::Symmetric, Boundary::Reflect, Boundary::Replicate, Boundary::Circular]
        {
            for width in [0, 1, 4, 1000] {
                let before = side_sources(-(1_i128 << 40), 1 << 40, width, boundary);
                let after = side_sources(width as i128, 1 << 40, width, boundary);
                assert!(before.len() <= (2 * width).max(1), "{boundary:?} width {width}: {}", before.len());
                assert!(after.len() <= (2 * width).max(1), "{boundary:?} width {width}: {}", after.len());
            }
        }
    }

    /// Planes large enough to be padded by several threads: every padded value is the input
    /// value its boundary rule names (or the fill), whichever thread wrote it, and a reused
    /// buffer of another length gives the same answer.
    #[test]
    fn padding_shared_out_over_threads_follows_the_boundary_rule() {
        let (planes, height, width) = (3, 700, 500);
        let pads = [(3, 2), (4, 6)];
        let input: Vec<f64> = (0..planes * height * width).map(|i| i as f64).collect();
        let (padded_h, padded_w) = (height + 5, width + 10);
        assert!(
            parallel::max_threads() == 1
                || parallel::threads_for(
                    (planes * padded_h * padded_w) as u128,
                    MIN_PADDED_VALUES_PER_THREAD
                ) > 1
        );
        for boundary in [Boundary::Constant(-7.0), Boundary::Reflect, Boundary::Circular] {
            let mut padded = vec![1.0; 3];
            pad_planes_into(
                &input,
                planes,
                [1, height, width],
                1,
                [(0, 0), pads[0], pads[1]],
                boundary,
                &mut padded,
            )
            .unwrap();
            assert_eq!(padded.len(), planes * padded_h * padded_w);
            for (index, &value) in padded.iter().enumerate() {
                let (plane, r, c) =
                    (index / (padded_h * padded_w), index / padded_w % padded_h, index % padded_w);
                let row = boundary_source_index(r as isize - 3, height, boundary);
                let column = boundary_source_index(c as isize - 4, width, boundary);
                let want = match (row, column) {
                    (Some(row), Some(column)) => input[(plane * height + row) * width + column],
                    _ => -7.0,
                };
                assert_eq!(value, want, "{boundary:?} plane {plane} ({r}, {c})");
            }
        }
    }
}
