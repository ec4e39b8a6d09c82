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
    let fill = match boundary {
        Boundary::Constant(value) => T::from_f64_lossy(value),
        _ => T::zero(),
    };
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

/// Reverses every kernel plane along every spatial axis (turns a convolution kernel into the
/// correlation kernel the canonical problem uses). The kernel is a stack of contiguous planes of
/// `plane` elements; reversing a row-major plane end to end reverses each axis.
pub(crate) fn flip_planes<T: Copy>(kernel: &mut [T], plane: usize) {
    for chunk in kernel.chunks_exact_mut(plane) {
        chunk.reverse();
    }
}
