//! Boundary extension: builds the padded input the canonical problem reads.

use crate::geometry::SPATIAL_AXES;
use crate::num::ConvNum;
use crate::spec::Boundary;

/// The input index that padded position `i` (relative to the first input sample, so negative
/// before the input) reads under `boundary`, or `None` when it reads the fill value.
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
/// ```
pub fn boundary_source_index(i: isize, n: usize, boundary: Boundary) -> Option<usize> {
    let len = n as isize;
    if (0..len).contains(&i) {
        return Some(i as usize);
    }
    let mirrored = |period: isize, last: isize| {
        let m = i.rem_euclid(period);
        (if m < len { m } else { last - m }) as usize
    };
    match boundary {
        Boundary::Zeros | Boundary::Constant(_) => None,
        Boundary::Circular => Some(i.rem_euclid(len) as usize),
        Boundary::Replicate => Some(i.clamp(0, len - 1) as usize),
        Boundary::Symmetric => Some(mirrored(2 * len, 2 * len - 1)),
        Boundary::Reflect if n == 1 => Some(0),
        Boundary::Reflect => Some(mirrored(2 * len - 2, 2 * len - 2)),
    }
}

/// Copies `planes` contiguous planes of shape `dims` into `padded` (cleared first; its
/// allocation is reused) as planes of shape `dims + before + after`, filling the border by
/// `boundary`.
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
    padded.clear();
    if (top, bottom, left, right) == (0, 0, 0, 0) {
        padded.extend_from_slice(&input[..planes * height * width]);
        return;
    }
    let fill = fill_value::<T>(boundary);
    // Where each padding column reads from (the columns in between copy the row as it is).
    let source = |c: usize| boundary_source_index(c as isize - left as isize, width, boundary);
    let left_source: Vec<Option<usize>> = (0..left).map(source).collect();
    let right_source: Vec<Option<usize>> = (left + width..padded_w).map(source).collect();
    padded.reserve(planes * padded_h * padded_w);
    for plane in input.chunks_exact(height * width).take(planes) {
        for r in 0..padded_h {
            match boundary_source_index(r as isize - top as isize, height, boundary) {
                None => padded.extend(std::iter::repeat_n(fill, padded_w)),
                Some(source_row) => {
                    let row = &plane[source_row * width..][..width];
                    padded.extend(left_source.iter().map(|s| s.map_or(fill, |j| row[j])));
                    padded.extend_from_slice(row);
                    padded.extend(right_source.iter().map(|s| s.map_or(fill, |j| row[j])));
                }
            }
        }
    }
}

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
}
