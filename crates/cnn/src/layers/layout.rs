//! Layout changes the layers make on contiguous slices: zero padding around NHWC images and
//! its inverse, and Keras's kernel layout to conv-core's. Large copies share their images out
//! over the worker threads ([`for_item_runs`]).

use crate::split::for_item_runs;

/// `[n, h, w, c]` -> `[n, h + top + bottom, w + left + right, c]`, the padding zero: the
/// layout stays channels last, so each image row is one copy.
pub(crate) fn pad_nhwc<T: Copy + Default + Send + Sync>(
    src: &[T],
    [n, h, w, c]: [usize; 4],
    (top, left): (usize, usize),
    [hp, wp]: [usize; 2],
) -> Vec<T> {
    let mut dst = vec![T::default(); n * hp * wp * c];
    let (image_len, padded_len) = (h * w * c, hp * wp * c);
    if image_len == 0 {
        return dst;
    }
    for_item_runs(&mut dst, padded_len, |first, run| {
        let images = src[first * image_len..].chunks_exact(image_len);
        for (image, padded) in images.zip(run.chunks_exact_mut(padded_len)) {
            for (y, row) in image.chunks_exact(w * c).enumerate() {
                padded[((y + top) * wp + left) * c..][..w * c].copy_from_slice(row);
            }
        }
    });
    dst
}

/// `[n, hp, wp, c]` -> `[n, h, w, c]`, the window that starts at `(top, left)`.
pub(crate) fn crop_nhwc<T: Copy + Default + Send + Sync>(
    src: &[T],
    [n, hp, wp, c]: [usize; 4],
    (top, left): (usize, usize),
    [h, w]: [usize; 2],
) -> Vec<T> {
    let mut dst = vec![T::default(); n * h * w * c];
    let (image_len, padded_len) = (h * w * c, hp * wp * c);
    if image_len == 0 {
        return dst;
    }
    for_item_runs(&mut dst, image_len, |first, run| {
        let sources = src[first * padded_len..].chunks_exact(padded_len);
        for (padded, image) in sources.zip(run.chunks_exact_mut(image_len)) {
            for (y, row) in image.chunks_exact_mut(w * c).enumerate() {
                row.copy_from_slice(&padded[((y + top) * wp + left) * c..][..w * c]);
            }
        }
    });
    dst
}

/// Keras's kernel `[kh, kw, C, F]` (`taps = kh * kw`) as conv-core's `[F, C, kh, kw]`.
pub(crate) fn hwio_to_oihw<T: Copy + Default>(
    hwio: &[T],
    taps: usize,
    channels: usize,
    filters: usize,
) -> Vec<T> {
    let mut oihw = vec![T::default(); taps * channels * filters];
    for (tap, per_tap) in hwio.chunks_exact((channels * filters).max(1)).enumerate() {
        for (c, row) in per_tap.chunks_exact(filters.max(1)).enumerate() {
            for (o, &value) in row.iter().enumerate() {
                oihw[(o * channels + c) * taps + tap] = value;
            }
        }
    }
    oihw
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::PARALLEL_MIN_VALUES;

    /// `[n, h, w, c]` padded by the definition.
    fn padded_by_definition(
        src: &[u32],
        [n, h, w, c]: [usize; 4],
        (top, left): (usize, usize),
        [hp, wp]: [usize; 2],
    ) -> Vec<u32> {
        let mut dst = vec![0; n * hp * wp * c];
        for (i, &value) in src.iter().enumerate() {
            let (ch, x, y, image) = (i % c, i / c % w, i / (c * w) % h, i / (c * w * h));
            dst[((image * hp + y + top) * wp + x + left) * c + ch] = value;
        }
        dst
    }

    fn check_conversions([n, h, w, c]: [usize; 4]) {
        let src: Vec<u32> = (1..=(n * h * w * c) as u32).collect();
        let (top, left, hp, wp) = (1, 2, h + 3, w + 2);
        let padded = pad_nhwc(&src, [n, h, w, c], (top, left), [hp, wp]);
        assert_eq!(padded, padded_by_definition(&src, [n, h, w, c], (top, left), [hp, wp]));
        assert_eq!(crop_nhwc(&padded, [n, hp, wp, c], (top, left), [h, w]), src);
    }

    #[test]
    fn kernels_are_reordered_axis_by_axis() {
        let [taps, channels, filters] = [6, 4, 5];
        let hwio: Vec<u32> = (0..(taps * channels * filters) as u32).collect();
        let oihw = hwio_to_oihw(&hwio, taps, channels, filters);
        for o in 0..filters {
            for c in 0..channels {
                for tap in 0..taps {
                    assert_eq!(
                        oihw[(o * channels + c) * taps + tap],
                        hwio[(tap * channels + c) * filters + o]
                    );
                }
            }
        }
    }

    #[test]
    fn small_conversions_agree_with_the_definition() {
        check_conversions([2, 3, 2, 4]);
    }

    /// Conversions large enough to be shared out over the cores give the same values as the
    /// element-by-element definition.
    #[test]
    fn large_conversions_split_over_threads_agree_with_the_definition() {
        let shape = [9, 20, 21, 40];
        assert!(shape.iter().product::<usize>() >= PARALLEL_MIN_VALUES);
        check_conversions(shape);
    }
}
