//! Layout changes between Keras's NHWC tensors and conv-core's NCHW buffers, on contiguous
//! slices (the layers call these in every step, so they avoid per-element index objects).
//! Large conversions share their images out over the cores: they run between the
//! convolutions, where nothing else keeps the second core busy.

/// Below this many values a conversion runs on the calling thread (starting a thread costs
/// about as much as copying this many values).
const PARALLEL_MIN_VALUES: usize = 1 << 16;

/// Runs `work(first_item, items)` over runs of whole items of `dst` (`item_len` values each),
/// on up to [`conv_core::parallel::max_threads`] worker threads when `dst` is large enough, on
/// the calling thread otherwise.
fn for_item_runs<T: Send>(dst: &mut [T], item_len: usize, work: impl Fn(usize, &mut [T]) + Sync) {
    let threads = if dst.len() < PARALLEL_MIN_VALUES || conv_core::parallel::inside_worker() {
        1
    } else {
        conv_core::parallel::max_threads()
    };
    let mut runs = vec![(); threads];
    let done = conv_core::parallel::split_items(dst, item_len, &mut runs, |run, first, ()| {
        work(first, run);
        Ok::<(), std::convert::Infallible>(())
    });
    if let Err(never) = done {
        match never {}
    }
}

/// `[n, c, hp, wp]` -> `[n, h, w, c]`, reading the window that starts at `(top, left)`.
///
/// Works one output row at a time: the row's `w * c` values are gathered channel by channel
/// while they stay in the first-level cache.
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

    /// `[n, h, w, c]` padded by the definition, channels last or channels first.
    fn padded_by_definition(
        src: &[u32],
        [n, h, w, c]: [usize; 4],
        (top, left): (usize, usize),
        [hp, wp]: [usize; 2],
        channels_last: bool,
    ) -> Vec<u32> {
        let mut dst = vec![0; n * hp * wp * c];
        for (i, &value) in src.iter().enumerate() {
            let (ch, x, y, image) = (i % c, i / c % w, i / (c * w) % h, i / (c * w * h));
            let (yy, xx) = (y + top, x + left);
            let at = if channels_last {
                ((image * hp + yy) * wp + xx) * c + ch
            } else {
                ((image * c + ch) * hp + yy) * wp + xx
            };
            dst[at] = value;
        }
        dst
    }

    fn check_conversions([n, h, w, c]: [usize; 4]) {
        let src: Vec<u32> = (1..=(n * h * w * c) as u32).collect();
        let (top, left, hp, wp) = (1, 2, h + 3, w + 2);
        let padded = pad_nhwc(&src, [n, h, w, c], (top, left), [hp, wp]);
        assert_eq!(padded, padded_by_definition(&src, [n, h, w, c], (top, left), [hp, wp], true));
        assert_eq!(crop_nhwc(&padded, [n, hp, wp, c], (top, left), [h, w]), src);
        let planes = padded_by_definition(&src, [n, h, w, c], (top, left), [hp, wp], false);
        assert_eq!(nchw_window_to_nhwc(&planes, [n, c, hp, wp], (top, left), [h, w]), src);
        let swapped = swap_leading_axes(&src, n, h, w * c);
        for (i, &value) in swapped.iter().enumerate() {
            let (rest, pair) = (i % (w * c), i / (w * c));
            let (j, k) = (pair / n, pair % n);
            assert_eq!(value, src[(k * h + j) * w * c + rest], "swapped index {i}");
        }
        assert_eq!(swap_leading_axes(&swapped, h, n, w * c), src);
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
