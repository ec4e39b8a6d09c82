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

/// Copies `planes` contiguous planes of shape `dims` into `padded` (its allocation is reused)
/// as planes of shape `dims + before + after`, filling the border by `boundary`. Large inputs
/// are copied by the worker threads, a band of padded rows each.
pub(crate) fn pad_planes_into<T: ConvNum>(
    input: &[T],
    planes: usize,
    dims: [usize; SPATIAL_AXES],
    pads: [(usize, usize); SPATIAL_AXES],
    boundary: Boundary,
    padded: &mut Vec<T>,
) {
    let [height, width] = dims;
    let [(top, bottom), (left, right)] = pads;
    let (padded_h, padded_w) = (height + top + bottom, width + left + right);
    let len = planes * padded_h * padded_w;
    // Every value is overwritten below: a kept buffer of the right length is not cleared first.
    if padded.len() != len {
        padded.clear();
        padded.resize(len, T::zero());
    }
    if len == 0 {
        return;
    }
    let fill = fill_value::<T>(boundary);
    // Where each padding column reads from (the columns in between copy the row as it is).
    let source = |c: usize| boundary_source_index(c as isize - left as isize, width, boundary);
    let left_source: Vec<Option<usize>> = (0..left).map(source).collect();
    let right_source: Vec<Option<usize>> = (left + width..padded_w).map(source).collect();
    let fill_rows = |rows: &mut [T], first_row: usize| {
        for (i, out) in rows.chunks_exact_mut(padded_w).enumerate() {
            let (plane, r) = ((first_row + i) / padded_h, (first_row + i) % padded_h);
            match boundary_source_index(r as isize - top as isize, height, boundary) {
                None => out.fill(fill),
                Some(source_row) => {
                    let row = &input[(plane * height + source_row) * width..][..width];
                    let (before, rest) = out.split_at_mut(left);
                    let (middle, after) = rest.split_at_mut(width);
                    before.iter_mut().zip(&left_source).for_each(|(v, s)| *v = s.map_or(fill, |j| row[j]));
                    middle.copy_from_slice(row);
                    after.iter_mut().zip(&right_source).for_each(|(v, s)| *v = s.map_or(fill, |j| row[j]));
                }
            }
        }
        Ok::<(), std::convert::Infallible>(())
    };
    let threads = parallel::threads_for(len as u128, MIN_PADDED_VALUES_PER_THREAD);
    let mut states = vec![(); threads];
    let Ok(()) = parallel::split_items(padded, padded_w, &mut states, |rows, first_row, ()| {
        fill_rows(rows, first_row)
    });
}

/// Padded values per thread below which padding is copied on one thread (a copy is bound by
/// memory bandwidth; a second core adds some).
const MIN_PADDED_VALUES_PER_THREAD: u128 = 1 << 19;

/// The value padding takes where `boundary` reads no input sample.
fn fill_value<T: ConvNum>(boundary: Boundary) -> T {
    match boundary {
        Boundary::Constant(value) => T::from_f64_lossy(value),
        _ => T::zero(),
    }
}

/// Appends positions `positions` of `row` padded by `before` samples under `boundary` (position
/// `before` is the row's first sample): a piece of the padded row without building all of it.
pub(crate) fn extend_padded_positions<T: ConvNum>(
    row: &[T],
    before: usize,
    positions: std::ops::Range<usize>,
    boundary: Boundary,
    out: &mut Vec<T>,
) {
    let fill = fill_value::<T>(boundary);
    out.extend(positions.map(|p| {
        boundary_source_index(p as isize - before as isize, row.len(), boundary).map_or(fill, |j| row[j])
    }));
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
            pad_planes_into(&row, 1, [1, row.len()], [(0, 0), (before, after)], boundary, &mut whole);
            for (start, end) in [(0, 5), (2, 9), (6, 12), (0, 12)] {
                let mut piece = vec![99.0];
                extend_padded_positions(&row, before, start..end, boundary, &mut piece);
                assert_eq!(piece[0], 99.0, "appends, keeps what was there");
                assert_eq!(&piece[1..], &whole[start..end], "{boundary:?} {start}..{end}");
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
            pad_planes_into(&input, planes, [height, width], pads, boundary, &mut padded);
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
