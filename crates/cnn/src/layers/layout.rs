//! Layout changes between Keras's NHWC tensors and conv-core's NCHW buffers, on contiguous
//! slices (the layers call these in every step, so they avoid per-element index objects).
//! Large conversions share their images out over the cores: they run between the
//! convolutions, where nothing else keeps the second core busy.

/// Below this many values a conversion runs on the calling thread (starting a thread costs
/// about as much as copying this many values).
const PARALLEL_MIN_VALUES: usize = 1 << 16;

/// Runs `work(first_item, items)` over runs of whole items of `dst` (`item_len` values each),
/// on up to [`conv_core::parallel::max_threads`] threads when `dst` is large enough, on the
/// calling thread otherwise.
fn for_item_runs<T: Send>(dst: &mut [T], item_len: usize, work: impl Fn(usize, &mut [T]) + Sync) {
    let items = dst.len() / item_len.max(1);
    let threads = if dst.len() < PARALLEL_MIN_VALUES || conv_core::parallel::inside_worker() {
        1
    } else {
        conv_core::parallel::max_threads().min(items)
    };
    if threads <= 1 || item_len == 0 {
        work(0, dst);
        return;
    }
    let per_thread = items.div_ceil(threads);
    std::thread::scope(|scope| {
        let mut runs = dst.chunks_mut(per_thread * item_len).enumerate();
        let first = runs.next();
        let work = &work;
        for (index, run) in runs {
            scope.spawn(move || work(index * per_thread, run));
        }
        if let Some((_, run)) = first {
            work(0, run);
        }
    });
}

/// `[n, h, w, c]` -> `[n, c, h + top + bottom, w + left + right]`, the padding zero.
///
/// Works one image row at a time: the `w * c` source values of a row stay in the first-level
/// cache while each channel's output row is written in order.
pub(crate) fn nhwc_to_padded_nchw<T: Copy + Default + Send + Sync>(
    src: &[T],
    [n, h, w, c]: [usize; 4],
    (top, left): (usize, usize),
    [hp, wp]: [usize; 2],
) -> Vec<T> {
    let mut dst = vec![T::default(); n * c * hp * wp];
    if h * w * c == 0 {
        return dst;
    }
    let (image_len, planes_len) = (h * w * c, c * hp * wp);
    for_item_runs(&mut dst, planes_len, |first, run| {
        let images = src[first * image_len..].chunks_exact(image_len);
        for (image, planes) in images.zip(run.chunks_exact_mut(planes_len)) {
            for (y, row) in image.chunks_exact(w * c).enumerate() {
                for (ch, plane) in planes.chunks_exact_mut(hp * wp).enumerate() {
                    let target = &mut plane[(y + top) * wp + left..][..w];
                    for (t, pixel) in target.iter_mut().zip(row.chunks_exact(c)) {
                        *t = pixel[ch];
                    }
                }
            }
        }
    });
    dst
}

/// `[n, c, hp, wp]` -> `[n, h, w, c]`, reading the window that starts at `(top, left)`.
///
/// Works one output row at a time, as [`nhwc_to_padded_nchw`]: the row's `w * c` values are
/// gathered channel by channel while they stay in the first-level cache.
pub(crate) fn nchw_window_to_nhwc<T: Copy + Default + Send + Sync>(
    src: &[T],
    [n, c, hp, wp]: [usize; 4],
    (top, left): (usize, usize),
    [h, w]: [usize; 2],
) -> Vec<T> {
    let mut dst = vec![T::default(); n * h * w * c];
    if h * w * c == 0 {
        return dst;
    }
    let (planes_len, image_len) = (c * hp * wp, h * w * c);
    for_item_runs(&mut dst, image_len, |first, run| {
        let sources = src[first * planes_len..].chunks_exact(planes_len);
        for (planes, image) in sources.zip(run.chunks_exact_mut(image_len)) {
            for (y, row) in image.chunks_exact_mut(w * c).enumerate() {
                for (ch, plane) in planes.chunks_exact(hp * wp).enumerate() {
                    let source = &plane[(y + top) * wp + left..][..w];
                    for (pixel, &value) in row.chunks_exact_mut(c).zip(source) {
                        pixel[ch] = value;
                    }
                }
            }
        }
    });
    dst
}

/// `[a, b, rest]` -> `[b, a, rest]`: swaps the two leading axes of a row-major buffer.
pub(crate) fn swap_leading_axes<T: Copy + Default + Send + Sync>(
    src: &[T],
    a: usize,
    b: usize,
    rest: usize,
) -> Vec<T> {
    let mut dst = vec![T::default(); src.len()];
    for_item_runs(&mut dst, a * rest, |first, run| {
        for (j, block) in (first..).zip(run.chunks_exact_mut((a * rest).max(1))) {
            for (i, target) in block.chunks_exact_mut(rest.max(1)).enumerate() {
                target.copy_from_slice(&src[(i * b + j) * rest..][..rest]);
            }
        }
    });
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

    /// Conversions large enough to be shared out over the cores give the same values as the
    /// element-by-element definition.
    #[test]
    fn large_conversions_split_over_threads_agree_with_the_definition() {
        let [n, h, w, c] = [9, 20, 21, 40];
        let src: Vec<u32> = (0..(n * h * w * c) as u32).collect();
        assert!(src.len() >= PARALLEL_MIN_VALUES);
        let (top, left, hp, wp) = (1, 2, h + 3, w + 2);
        let padded = nhwc_to_padded_nchw(&src, [n, h, w, c], (top, left), [hp, wp]);
        for (i, &value) in padded.iter().enumerate() {
            let (x, y, ch, image) = (i % wp, i / wp % hp, i / (wp * hp) % c, i / (wp * hp * c));
            let inside = (top..top + h).contains(&y) && (left..left + w).contains(&x);
            let expected = if inside { src[((image * h + y - top) * w + x - left) * c + ch] } else { 0 };
            assert_eq!(value, expected, "padded index {i}");
        }
        assert_eq!(nchw_window_to_nhwc(&padded, [n, c, hp, wp], (top, left), [h, w]), src);
        let swapped = swap_leading_axes(&src, n, h, w * c);
        for (i, &value) in swapped.iter().enumerate() {
            let (rest, pair) = (i % (w * c), i / (w * c));
            let (j, k) = (pair / n, pair % n);
            assert_eq!(value, src[(k * h + j) * w * c + rest], "swapped index {i}");
        }
    }
}
