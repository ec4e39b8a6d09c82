//! Keras's `MaxPooling2D` and `AveragePooling2D`.

use std::ops::Range;

use ndarray::{ArrayD, Ix4, IxDyn};
use rand_chacha::ChaCha8Rng;

use super::{Layer, Padding, cached, check_batch_shape, window_axis};
use crate::error::CnnError;
use crate::float::Float;

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
}

fn as_4d<'a, T>(kind: &str, tensor: &'a ArrayD<T>) -> Result<ndarray::ArrayView4<'a, T>, CnnError> {
    tensor
        .view()
        .into_dimensionality::<Ix4>()
        .map_err(|_| CnnError::shape(format!("tensor of {kind}"), "rank 4", tensor.shape()))
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
    /// For each output value of the last training pass, the flat input index that won.
    winners: Option<(Vec<usize>, [usize; 4])>,
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
}

impl<T: Float> Layer<T> for MaxPooling2D {
    fn kind(&self) -> &'static str {
        "MaxPooling2D"
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut ChaCha8Rng) -> Result<Vec<usize>, CnnError> {
        let shape = PoolShape::build("MaxPooling2D", input_shape, self.pool, self.strides, self.padding)?;
        self.shape = Some(shape);
        Ok(shape.output_shape(0)[1..].to_vec())
    }

    fn forward(&mut self, input: &ArrayD<T>, training: bool) -> Result<ArrayD<T>, CnnError> {
        let shape = self.shape.ok_or_else(|| CnnError::shape("MaxPooling2D", "a built layer", &[]))?;
        check_batch_shape("MaxPooling2D", input, &shape.input)?;
        let x = as_4d("MaxPooling2D", input)?;
        let out_shape = shape.output_shape(input.shape()[0]);
        let [h, w, c] = shape.input;
        let mut winners = Vec::with_capacity(out_shape.iter().product());
        let output = ArrayD::from_shape_fn(IxDyn(&out_shape), |i| {
            let (rows, cols) = shape.window(self.pool, i[1], i[2]);
            let mut best = (T::neg_infinity(), usize::MAX);
            for y in rows {
                for xx in cols.clone() {
                    let value = x[[i[0], y, xx, i[3]]];
                    // NaN wins, so that it propagates as in TensorFlow.
                    if value > best.0 || value.is_nan() && !best.0.is_nan() || best.1 == usize::MAX {
                        best = (value, ((i[0] * h + y) * w + xx) * c + i[3]);
                    }
                }
            }
            winners.push(best.1);
            best.0
        });
        let input_shape = [input.shape()[0], h, w, c];
        self.winners = training.then_some((winners, input_shape));
        Ok(output)
    }

    fn backward(&mut self, grad_output: &ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let (winners, input_shape) = cached("MaxPooling2D", &self.winners)?;
        if grad_output.len() != winners.len() {
            return Err(CnnError::shape(
                "gradient of MaxPooling2D",
                format!("{} values", winners.len()),
                grad_output.shape(),
            ));
        }
        let mut grad = vec![T::zero(); input_shape.iter().product()];
        for (&winner, &g) in winners.iter().zip(grad_output.iter()) {
            grad[winner] = grad[winner] + g;
        }
        ArrayD::from_shape_vec(IxDyn(input_shape), grad)
            .map_err(|_| CnnError::shape("gradient of MaxPooling2D", "the input shape", input_shape))
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

    fn build(&mut self, input_shape: &[usize], _rng: &mut ChaCha8Rng) -> Result<Vec<usize>, CnnError> {
        let shape = PoolShape::build("AveragePooling2D", input_shape, self.pool, self.strides, self.padding)?;
        self.shape = Some(shape);
        Ok(shape.output_shape(0)[1..].to_vec())
    }

    fn forward(&mut self, input: &ArrayD<T>, training: bool) -> Result<ArrayD<T>, CnnError> {
        let shape = self.shape.ok_or_else(|| CnnError::shape("AveragePooling2D", "a built layer", &[]))?;
        check_batch_shape("AveragePooling2D", input, &shape.input)?;
        let x = as_4d("AveragePooling2D", input)?;
        let output = ArrayD::from_shape_fn(IxDyn(&shape.output_shape(input.shape()[0])), |i| {
            let (rows, cols) = shape.window(self.pool, i[1], i[2]);
            let count = T::of((rows.len() * cols.len()) as f64);
            let mut sum = T::zero();
            for y in rows {
                for xx in cols.clone() {
                    sum = sum + x[[i[0], y, xx, i[3]]];
                }
            }
            sum / count
        });
        self.batch = training.then_some(input.shape()[0]);
        Ok(output)
    }

    fn backward(&mut self, grad_output: &ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let batch = *cached("AveragePooling2D", &self.batch)?;
        let shape = self.shape.ok_or_else(|| CnnError::shape("AveragePooling2D", "a built layer", &[]))?;
        let expected = shape.output_shape(batch);
        if grad_output.shape() != expected {
            return Err(CnnError::shape(
                "gradient of AveragePooling2D",
                format!("{expected:?}"),
                grad_output.shape(),
            ));
        }
        let [h, w, c] = shape.input;
        let mut grad = ArrayD::zeros(IxDyn(&[batch, h, w, c]));
        for (i, &g) in as_4d("AveragePooling2D", grad_output)?.indexed_iter() {
            let (rows, cols) = shape.window(self.pool, i.1, i.2);
            let share = g / T::of((rows.len() * cols.len()) as f64);
            for y in rows {
                for xx in cols.clone() {
                    grad[[i.0, y, xx, i.3]] = grad[[i.0, y, xx, i.3]] + share;
                }
            }
        }
        Ok(grad)
    }
}
