//! Layout changes between Keras's NHWC tensors and conv-core's NCHW buffers, on contiguous
//! slices (the layers call these in every step, so they avoid per-element index objects).

/// `[n, h, w, c]` -> `[n, c, h + top + bottom, w + left + right]`, the padding zero.
///
/// Works one image row at a time: the `w * c` source values of a row stay in the first-level
/// cache while each channel's output row is written in order.
pub(crate) fn nhwc_to_padded_nchw<T: Copy + Default>(
    src: &[T],
    [n, h, w, c]: [usize; 4],
    (top, left): (usize, usize),
    [hp, wp]: [usize; 2],
) -> Vec<T> {
    let mut dst = vec![T::default(); n * c * hp * wp];
    if h * w * c == 0 {
        return dst;
    }
    for (image, planes) in src.chunks_exact(h * w * c).zip(dst.chunks_exact_mut(c * hp * wp)) {
        for (y, row) in image.chunks_exact(w * c).enumerate() {
            for (ch, plane) in planes.chunks_exact_mut(hp * wp).enumerate() {
                let target = &mut plane[(y + top) * wp + left..][..w];
                for (t, pixel) in target.iter_mut().zip(row.chunks_exact(c)) {
                    *t = pixel[ch];
                }
            }
        }
    }
    dst
}

/// `[n, c, hp, wp]` -> `[n, h, w, c]`, reading the window that starts at `(top, left)`.
///
/// Works one output row at a time, as [`nhwc_to_padded_nchw`]: the row's `w * c` values are
/// gathered channel by channel while they stay in the first-level cache.
pub(crate) fn nchw_window_to_nhwc<T: Copy + Default>(
    src: &[T],
    [n, c, hp, wp]: [usize; 4],
    (top, left): (usize, usize),
    [h, w]: [usize; 2],
) -> Vec<T> {
    let mut dst = vec![T::default(); n * h * w * c];
    if h * w * c == 0 {
        return dst;
    }
    for (planes, image) in src.chunks_exact(c * hp * wp).zip(dst.chunks_exact_mut(h * w * c)) {
        for (y, row) in image.chunks_exact_mut(w * c).enumerate() {
            for (ch, plane) in planes.chunks_exact(hp * wp).enumerate() {
                let source = &plane[(y + top) * wp + left..][..w];
                for (pixel, &value) in row.chunks_exact_mut(c).zip(source) {
                    pixel[ch] = value;
                }
            }
        }
    }
    dst
}

/// `[a, b, rest]` -> `[b, a, rest]`: swaps the two leading axes of a row-major buffer.
pub(crate) fn swap_leading_axes<T: Copy + Default>(src: &[T], a: usize, b: usize, rest: usize) -> Vec<T> {
    let mut dst = vec![T::default(); src.len()];
    for i in 0..a {
        for j in 0..b {
            dst[(j * a + i) * rest..][..rest].copy_from_slice(&src[(i * b + j) * rest..][..rest]);
        }
    }
    dst
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_swap() {
        let src: Vec<u32> = (0..2 * 3 * 2 * 4).collect();
        let padded = nhwc_to_padded_nchw(&src, [2, 3, 2, 4], (1, 2), [5, 5]);
        // Element (n=1, y=2, x=1, c=3) lands at (1, 3, 3, 3).
        assert_eq!(padded[((4 + 3) * 5 + 3) * 5 + 3], src[((3 + 2) * 2 + 1) * 4 + 3]);
        assert_eq!(nchw_window_to_nhwc(&padded, [2, 4, 5, 5], (1, 2), [3, 2]), src);
        let swapped = swap_leading_axes(&src, 2, 3, 8);
        assert_eq!(&swapped[8..16], &src[24..32]);
        assert_eq!(swap_leading_axes(&swapped, 3, 2, 8), src);
    }
}
