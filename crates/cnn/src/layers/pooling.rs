//! Keras's `MaxPooling2D` and `AveragePooling2D`.

use std::ops::Range;

use ndarray::ArrayD;
use rand_chacha::ChaCha8Rng;

use super::{Layer, Padding, cached, check_batch_shape, contiguous, tensor, window_axis};
use crate::error::CnnError;
use crate::float::Float;
use crate::split::for_item_runs;

/// Window sizes fixed at build time.
#[derive(Clone, Copy, Debug)]
struct PoolShape {
    input: [usize; 3],
    output: [usize; 2],
    strides: [usize; 2],
    before: [usize; 2],
}

impl PoolShape {
    fn build(
        kind: &str,
        input_shape: &[usize],
        pool: [usize; 2],
        strides: Option<[usize; 2]>,
        padding: Padding,
    ) -> Result<PoolShape, CnnError> {
        let &[height, width, channels] = input_shape else {
            return Err(CnnError::shape(
                format!("input of {kind}"),
                "[height, width, channels]",
                input_shape,
            ));
        };
        let strides = strides.unwrap_or(pool);
        let (oh, top, _) =
            window_axis(&format!("input height of {kind}"), height, pool[0], strides[0], padding)?;
        let (ow, left, _) =
            window_axis(&format!("input width of {kind}"), width, pool[1], strides[1], padding)?;
        Ok(PoolShape { input: [height, width, channels], output: [oh, ow], strides, before: [top, left] })
    }

    /// The input rows and columns of output pixel `(y, x)`, padding excluded.
    fn window(&self, pool: [usize; 2], y: usize, x: usize) -> (Range<usize>, Range<usize>) {
        let span = |axis: usize, out: usize| {
            let start = (out * self.strides[axis]).saturating_sub(self.before[axis]);
            let end = (out * self.strides[axis] + pool[axis])
                .saturating_sub(self.before[axis])
                .min(self.input[axis]);
            start..end
        };
        (span(0, y), span(1, x))
    }

    fn output_shape(&self, batch: usize) -> [usize; 4] {
        [batch, self.output[0], self.output[1], self.input[2]]
    }

    /// Fails unless `grad_output` has the shape of the output of the `batch` images the layer
    /// (a `kind`) last saw.
    fn check_gradient<T>(&self, kind: &str, grad_output: &ArrayD<T>, batch: usize) -> Result<(), CnnError> {
        let expected = self.output_shape(batch);
        if grad_output.shape() != expected {
            return Err(CnnError::shape(
                format!("gradient of {kind}"),
                format!("{expected:?}"),
                grad_output.shape(),
            ));
        }
        Ok(())
    }
}

/// Max pooling over `pool_size` windows (Keras's `MaxPooling2D`); strides default to the pool
/// size; with same padding the padded positions never win.
///
/// # Shapes
/// `[batch, h, w, c]` -> `[batch, oh, ow, c]`.
#[derive(Clone, Debug)]
pub struct MaxPooling2D {
    pool: [usize; 2],
    strides: Option<[usize; 2]>,
    padding: Padding,
    shape: Option<PoolShape>,
    /// For each output value of the last training pass, the position in its window (row-major
    /// over the window's rows and columns) of the input value that won, and the batch size.
    winners: Option<(Vec<u32>, usize)>,
}

impl MaxPooling2D {
    /// Pools over `(height, width)` windows, stride = pool size, valid padding.
    pub fn new(pool_size: (usize, usize)) -> Self {
        MaxPooling2D {
            pool: [pool_size.0, pool_size.1],
            strides: None,
            padding: Padding::Valid,
            shape: None,
            winners: None,
        }
    }

    /// Strides `(vertical, horizontal)`.
    pub fn strides(mut self, strides: (usize, usize)) -> Self {
        self.strides = Some([strides.0, strides.1]);
        self
    }

    /// Valid or same padding.
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// The pooled batch and, per output value, the position of the window that won.
    fn pool_batch<T: Float>(&self, input: &ArrayD<T>) -> Result<(ArrayD<T>, Vec<u32>), CnnError> {
        let shape = self.shape.ok_or_else(|| CnnError::shape("MaxPooling2D", "a built layer", &[]))?;
        check_batch_shape("MaxPooling2D", input, &shape.input)?;
        let batch = input.shape()[0];
        let input = input.as_standard_layout();
        let x = contiguous(&input)?;
        let c = shape.input[2];
        let [oh, ow] = shape.output;
        let mut output = vec![T::neg_infinity(); batch * oh * ow * c];
        let mut winners = vec![0_u32; output.len()];
        pulp::Arch::new().dispatch(MaxPoolForward {
            shape: &shape,
            pool: self.pool,
            input: x,
            output: &mut output,
            winners: &mut winners,
        });
        Ok((tensor(&shape.output_shape(batch), output)?, winners))
    }
}

impl<T: Float> Layer<T> for MaxPooling2D {
    fn kind(&self) -> &'static str {
        "MaxPooling2D"
    }

    fn config(&self) -> Option<serde_json::Value> {
        Some(
            serde_json::json!({"pool_size": self.pool, "strides": self.strides, "padding": self.padding.name()}),
        )
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut ChaCha8Rng) -> Result<Vec<usize>, CnnError> {
        let shape = PoolShape::build("MaxPooling2D", input_shape, self.pool, self.strides, self.padding)?;
        if u32::try_from(self.pool[0].saturating_mul(self.pool[1])).is_err() {
            return Err(CnnError::shape("pool size of MaxPooling2D", "at most 2^32 positions", &self.pool));
        }
        self.shape = Some(shape);
        Ok(shape.output_shape(0)[1..].to_vec())
    }

    fn forward(&mut self, input: &ArrayD<T>, training: bool) -> Result<ArrayD<T>, CnnError> {
        let (output, winners) = self.pool_batch(input)?;
        self.winners = training.then_some((winners, input.shape()[0]));
        Ok(output)
    }

    fn infer(&self, input: &ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        self.pool_batch(input).map(|(output, _)| output)
    }

    fn backward(&mut self, grad_output: ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let shape = self.shape.ok_or_else(|| CnnError::shape("MaxPooling2D", "a built layer", &[]))?;
        let (winners, batch) = cached("MaxPooling2D", &self.winners)?;
        shape.check_gradient("MaxPooling2D", &grad_output, *batch)?;
        let [h, w, c] = shape.input;
        let [oh, ow] = shape.output;
        let grad_output = grad_output.as_standard_layout();
        let g = contiguous(&grad_output)?;
        let mut grad = vec![T::zero(); batch * h * w * c];
        // Images are independent: large batches are shared out over the worker threads.
        let image_len = h * w * c;
        let pool = self.pool;
        for_item_runs(&mut grad, image_len, |first, images| {
            // Where each position of the current window starts in `images` (one pixel's
            // channels).
            let mut pixel_starts = Vec::new();
            for (local, n) in (first..first + images.len() / image_len.max(1)).enumerate() {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let (rows, cols) = shape.window(pool, oy, ox);
                        pixel_starts.clear();
                        pixel_starts.extend(
                            rows.flat_map(|y| cols.clone().map(move |xx| ((local * h + y) * w + xx) * c)),
                        );
                        let at = ((n * oh + oy) * ow + ox) * c;
                        for (channel, (&position, &value)) in
                            winners[at..at + c].iter().zip(&g[at..at + c]).enumerate()
                        {
                            // A window over padding only has no position: nothing won there.
                            if let Some(&start) = pixel_starts.get(position as usize) {
                                let target = &mut images[start + channel];
                                *target = *target + value;
                            }
                        }
                    }
                }
            }
        });
        tensor(&[*batch, h, w, c], grad)
    }
}

/// The forward pass of max pooling over a batch, as a `pulp` operation: compiled once per
/// instruction set (AVX-512, AVX2, baseline) and run with the best one the CPU has, so that the
/// channel loop of [`challenge`] is vectorised as wide as the machine allows.
struct MaxPoolForward<'a, T> {
    shape: &'a PoolShape,
    pool: [usize; 2],
    /// `[batch, h, w, c]`, row-major.
    input: &'a [T],
    /// `[batch, oh, ow, c]`, row-major.
    output: &'a mut [T],
    winners: &'a mut [u32],
}

impl<T: Float> pulp::WithSimd for MaxPoolForward<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let [h, w, c] = self.shape.input;
        let [oh, ow] = self.shape.output;
        let out_pixels = self.output.chunks_exact_mut(c.max(1)).zip(self.winners.chunks_exact_mut(c.max(1)));
        for (index, (best, won)) in out_pixels.enumerate() {
            let (n, oy, ox) = (index / (oh * ow), index / ow % oh, index % ow);
            let (rows, cols) = self.shape.window(self.pool, oy, ox);
            // The window's first pixel is the first candidate (position 0, as `won` starts);
            // the others challenge it.
            let pixels = rows.flat_map(|y| cols.clone().map(move |xx| ((n * h + y) * w + xx) * c));
            for (position, base) in (0_u32..).zip(pixels) {
                let pixel = &self.input[base..base + c];
                if position == 0 {
                    best.copy_from_slice(pixel);
                } else {
                    challenge(best, won, pixel, position);
                }
            }
        }
    }
}

/// Lets `pixel` (window position `position`) challenge the best values so far, channel by
/// channel: a larger value wins, and NaN wins over a number so that it propagates as in
/// TensorFlow. Written without branches, so the channels are compared a vector at a time.
#[inline(always)]
fn challenge<T: Float>(best: &mut [T], won: &mut [u32], pixel: &[T], position: u32) {
    for ((best, won), &value) in best.iter_mut().zip(won.iter_mut()).zip(pixel) {
        let take = (value > *best) | (value.is_nan() & !best.is_nan());
        *best = if take { value } else { *best };
        *won = if take { position } else { *won };
    }
}

/// Average pooling over `pool_size` windows (Keras's `AveragePooling2D`); with same padding
/// each window averages only the input values it covers, as TensorFlow does.
///
/// # Shapes
/// `[batch, h, w, c]` -> `[batch, oh, ow, c]`.
#[derive(Clone, Debug)]
pub struct AveragePooling2D {
    pool: [usize; 2],
    strides: Option<[usize; 2]>,
    padding: Padding,
    shape: Option<PoolShape>,
    batch: Option<usize>,
}

impl AveragePooling2D {
    /// Pools over `(height, width)` windows, stride = pool size, valid padding.
    pub fn new(pool_size: (usize, usize)) -> Self {
        AveragePooling2D {
            pool: [pool_size.0, pool_size.1],
            strides: None,
            padding: Padding::Valid,
            shape: None,
            batch: None,
        }
    }

    /// Strides `(vertical, horizontal)`.
    pub fn strides(mut self, strides: (usize, usize)) -> Self {
        self.strides = Some([strides.0, strides.1]);
        self
    }

    /// Valid or same padding.
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }
}

impl<T: Float> Layer<T> for AveragePooling2D {
    fn kind(&self) -> &'static str {
        "AveragePooling2D"
    }

    fn config(&self) -> Option<serde_json::Value> {
        Some(
            serde_json::json!({"pool_size": self.pool, "strides": self.strides, "padding": self.padding.name()}),
        )
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut ChaCha8Rng) -> Result<Vec<usize>, CnnError> {
        let shape = PoolShape::build("AveragePooling2D", input_shape, self.pool, self.strides, self.padding)?;
        self.shape = Some(shape);
        Ok(shape.output_shape(0)[1..].to_vec())
    }

    fn forward(&mut self, input: &ArrayD<T>, training: bool) -> Result<ArrayD<T>, CnnError> {
        let output = self.infer(input)?;
        self.batch = training.then_some(input.shape()[0]);
        Ok(output)
    }

    fn infer(&self, input: &ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let shape = self.shape.ok_or_else(|| CnnError::shape("AveragePooling2D", "a built layer", &[]))?;
        check_batch_shape("AveragePooling2D", input, &shape.input)?;
        let batch = input.shape()[0];
        let input = input.as_standard_layout();
        let x = contiguous(&input)?;
        let [h, w, c] = shape.input;
        let [oh, ow] = shape.output;
        let mut output = vec![T::zero(); batch * oh * ow * c];
        for n in 0..batch {
            for oy in 0..oh {
                for ox in 0..ow {
                    let (rows, cols) = shape.window(self.pool, oy, ox);
                    let count = T::of((rows.len() * cols.len()) as f64);
                    let sum = &mut output[((n * oh + oy) * ow + ox) * c..][..c];
                    for y in rows {
                        for xx in cols.clone() {
                            let pixel = &x[((n * h + y) * w + xx) * c..][..c];
                            sum.iter_mut().zip(pixel).for_each(|(s, &v)| *s = *s + v);
                        }
                    }
                    sum.iter_mut().for_each(|s| *s = *s / count);
                }
            }
        }
        tensor(&shape.output_shape(batch), output)
    }

    fn backward(&mut self, grad_output: ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let batch = *cached("AveragePooling2D", &self.batch)?;
        let shape = self.shape.ok_or_else(|| CnnError::shape("AveragePooling2D", "a built layer", &[]))?;
        shape.check_gradient("AveragePooling2D", &grad_output, batch)?;
        let [h, w, c] = shape.input;
        let [oh, ow] = shape.output;
        let grad_output = grad_output.as_standard_layout();
        let g = contiguous(&grad_output)?;
        let mut grad = vec![T::zero(); batch * h * w * c];
        for n in 0..batch {
            for oy in 0..oh {
                for ox in 0..ow {
                    let (rows, cols) = shape.window(self.pool, oy, ox);
                    let count = T::of((rows.len() * cols.len()) as f64);
                    let share = &g[((n * oh + oy) * ow + ox) * c..][..c];
                    for y in rows {
                        for xx in cols.clone() {
                            let pixel = &mut grad[((n * h + y) * w + xx) * c..][..c];
                            pixel.iter_mut().zip(share).for_each(|(p, &s)| *p = *p + s / count);
                        }
                    }
                }
            }
        }
        tensor(&[batch, h, w, c], grad)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use ndarray::{ArrayD, IxDyn};
    use rand::SeedableRng;

    use super::*;
    use crate::split::PARALLEL_MIN_VALUES;

    /// One 2x2 window per channel of a 2x2 image: channel 0 has a tie (the first wins), channel
    /// 1 a NaN (it wins and propagates), channel 2 its maximum last.
    #[test]
    fn ties_keep_the_first_nan_wins_and_the_gradient_goes_to_the_winner() {
        let mut layer = MaxPooling2D::new((2, 2));
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        Layer::<f32>::build(&mut layer, &[2, 2, 3], &mut rng).unwrap();
        // [1, 2, 2, 3]: pixel (y, x) holds channels 0, 1, 2.
        let input = [5.0, 1.0, 0.0, 5.0, f32::NAN, 1.0, 2.0, 9.0, 2.0, 1.0, 3.0, 7.0];
        let input = ArrayD::from_shape_vec(IxDyn(&[1, 2, 2, 3]), input.to_vec()).unwrap();
        let output = layer.forward(&input, true).unwrap();
        let output: Vec<f32> = output.iter().copied().collect();
        assert_eq!(output[0], 5.0);
        assert!(output[1].is_nan());
        assert_eq!(output[2], 7.0);
        let grad = ArrayD::from_shape_vec(IxDyn(&[1, 1, 1, 3]), vec![10.0, 20.0, 30.0]).unwrap();
        let grad_input = layer.backward(grad).unwrap();
        let expected = [10.0, 0.0, 0.0, 0.0, 20.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 30.0];
        assert_eq!(grad_input.iter().copied().collect::<Vec<f32>>(), expected);
    }

    /// A batch large enough for the gradient to be routed on several threads: each input gets
    /// its window's output gradient exactly when it is that window's maximum.
    #[test]
    fn gradients_routed_over_threads_reach_exactly_the_winners() {
        let [n, h, w, c] = [100, 16, 16, 3];
        assert!(n * h * w * c >= PARALLEL_MIN_VALUES);
        let mut layer = MaxPooling2D::new((2, 2));
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        Layer::<f64>::build(&mut layer, &[h, w, c], &mut rng).unwrap();
        // Distinct values in a scrambled order, so every window has one maximum.
        let values: Vec<f64> = (0..n * h * w * c).map(|i| ((i * 7919) % 100_003) as f64).collect();
        let input = ArrayD::from_shape_vec(IxDyn(&[n, h, w, c]), values.clone()).unwrap();
        layer.forward(&input, true).unwrap();
        let grad: Vec<f64> = (0..n * (h / 2) * (w / 2) * c).map(|i| 1.0 + i as f64).collect();
        let grad = ArrayD::from_shape_vec(IxDyn(&[n, h / 2, w / 2, c]), grad).unwrap();
        let grad_input = layer.backward(grad.clone()).unwrap();
        for (i, &got) in grad_input.iter().enumerate() {
            let (ch, x, y, item) = (i % c, i / c % w, i / (c * w) % h, i / (c * w * h));
            let window_max = (0..2)
                .flat_map(|dy| (0..2).map(move |dx| (y / 2 * 2 + dy, x / 2 * 2 + dx)))
                .map(|(yy, xx)| values[((item * h + yy) * w + xx) * c + ch])
                .fold(f64::MIN, f64::max);
            let expected = if values[i] == window_max { grad[[item, y / 2, x / 2, ch]] } else { 0.0 };
            assert_eq!(got, expected, "input index {i}");
        }
    }
}
