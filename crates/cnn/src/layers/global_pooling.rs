//! Keras's `GlobalAveragePooling2D`.

use ndarray::ArrayD;
use rand_chacha::ChaCha8Rng;

use super::{Layer, cached, check_batch_shape, contiguous, into_row_major, tensor};
use crate::error::CnnError;
use crate::float::Float;

/// The mean of each channel over the image: `[batch, h, w, c]` to `[batch, c]`, as Keras's
/// `GlobalAveragePooling2D()` (channels last, `keepdims=False`). No parameters.
///
/// # Examples
/// ```
/// use cnn::layers::{Conv2D, Dense, GlobalAveragePooling2D};
/// let mut model = cnn::Sequential::<f32>::new(&[8, 8, 1], 0);
/// model.add(Conv2D::new(16, (3, 3)))?;
/// model.add(GlobalAveragePooling2D::new())?;
/// assert_eq!(model.output_shape(), &[16]);
/// # Ok::<(), cnn::CnnError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct GlobalAveragePooling2D {
    input: Option<[usize; 3]>,
    batch: Option<usize>,
}

impl GlobalAveragePooling2D {
    /// The layer.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<T: Float> Layer<T> for GlobalAveragePooling2D {
    fn kind(&self) -> &'static str {
        "GlobalAveragePooling2D"
    }

    fn config(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({}))
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut ChaCha8Rng) -> Result<Vec<usize>, CnnError> {
        let &[h, w, c] = input_shape else {
            return Err(CnnError::shape(
                "input of GlobalAveragePooling2D",
                "[height, width, channels]",
                input_shape,
            ));
        };
        if h == 0 || w == 0 {
            return Err(CnnError::shape("input of GlobalAveragePooling2D", "a non-empty image", input_shape));
        }
        self.input = Some([h, w, c]);
        Ok(vec![c])
    }

    fn forward(&mut self, input: &ArrayD<T>, training: bool) -> Result<ArrayD<T>, CnnError> {
        let output = self.infer(input)?;
        self.batch = training.then_some(input.shape()[0]);
        Ok(output)
    }

    fn infer(&self, input: &ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let [h, w, c] = *cached("GlobalAveragePooling2D", &self.input)?;
        check_batch_shape("GlobalAveragePooling2D", input, &[h, w, c])?;
        let batch = input.shape()[0];
        let input = input.as_standard_layout();
        let x = contiguous(&input)?;
        let scale = T::of(1.0 / (h * w) as f64);
        let mut output = vec![T::zero(); batch * c];
        for (image, sums) in x.chunks_exact((h * w * c).max(1)).zip(output.chunks_exact_mut(c.max(1))) {
            for pixel in image.chunks_exact(c.max(1)) {
                sums.iter_mut().zip(pixel).for_each(|(s, &v)| *s = *s + v);
            }
            sums.iter_mut().for_each(|s| *s = *s * scale);
        }
        tensor(&[batch, c], output)
    }

    fn backward(&mut self, grad_output: ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let [h, w, c] = *cached("GlobalAveragePooling2D", &self.input)?;
        let batch = *cached("GlobalAveragePooling2D", &self.batch)?;
        if grad_output.shape() != [batch, c] {
            return Err(CnnError::shape(
                "gradient of GlobalAveragePooling2D",
                format!("[{batch}, {c}]"),
                grad_output.shape(),
            ));
        }
        let grad = into_row_major(grad_output);
        let g = contiguous(&grad)?;
        let scale = T::of(1.0 / (h * w) as f64);
        let mut input_grad = Vec::with_capacity(batch * h * w * c);
        for sample in g.chunks_exact(c.max(1)) {
            for _ in 0..h * w {
                input_grad.extend(sample.iter().map(|&v| v * scale));
            }
        }
        tensor(&[batch, h, w, c], input_grad)
    }
}
