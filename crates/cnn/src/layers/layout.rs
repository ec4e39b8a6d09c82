//! Layout changes between Keras's NHWC tensors and conv-core's NCHW buffers, on contiguous
//! slices (the layers call these in every step, so they avoid per-element index objects).

/// `[n, h, w, c]` -> `[n, c, h + top + bottom, w + left + right]`, the padding zero.
pub(crate) fn nhwc_to_padded_nchw<T: Copy + Default>(
    src: &[T],
    [n, h, w, c]: [usize; 4],
    (top, left): (usize, usize),
    [hp, wp]: [usize; 2],
) -> Vec<T> {
    let mut dst = vec![T::default(); n * c * hp * wp];
    for b in 0..n {
        for y in 0..h {
            for x in 0..w {
                let pixel = &src[((b * h + y) * w + x) * c..][..c];
                for (ch, &value) in pixel.iter().enumerate() {
                    dst[((b * c + ch) * hp + y + top) * wp + x + left] = value;
                }
            }
        }
    }
    dst
}

/// `[n, c, hp, wp]` -> `[n, h, w, c]`, reading the window that starts at `(top, left)`.
pub(crate) fn nchw_window_to_nhwc<T: Copy + Default>(
    src: &[T],
    [n, c, hp, wp]: [usize; 4],
    (top, left): (usize, usize),
    [h, w]: [usize; 2],
) -> Vec<T> {
    let mut dst = vec![T::default(); n * h * w * c];
    for b in 0..n {
        for ch in 0..c {
            for y in 0..h {
                let row = &src[((b * c + ch) * hp + y + top) * wp + left..][..w];
                for (x, &value) in row.iter().enumerate() {
                    dst[((b * h + y) * w + x) * c + ch] = value;
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
