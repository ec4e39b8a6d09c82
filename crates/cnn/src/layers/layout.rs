//! Keras's kernel layout to conv-core's (the padding and every other layout change of a
//! convolution are conv-core's own: `ConvSpec::layout`).

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
}
