//! Keras's `Flatten`.

use ndarray::{ArrayD, IxDyn};
use rand_chacha::ChaCha8Rng;

use super::{Layer, cached, check_batch_shape, into_row_major};
use crate::error::CnnError;
use crate::float::Float;

/// Reshapes `[batch, d1, d2, ...]` to `[batch, d1 * d2 * ...]` in row-major order (for images:
/// height, then width, then channel, as Keras does).
#[derive(Clone, Debug, Default)]
pub struct Flatten {
    input: Option<Vec<usize>>,
    batch: Option<usize>,
}

impl Flatten {
    /// A flatten layer.
    pub fn new() -> Self {
        Flatten::default()
    }
}

impl<T: Float> Layer<T> for Flatten {
    fn kind(&self) -> &'static str {
        "Flatten"
    }

    fn config(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({}))
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut ChaCha8Rng) -> Result<Vec<usize>, CnnError> {
        if input_shape.is_empty() || input_shape.contains(&0) {
            return Err(CnnError::shape("input of Flatten", "at least one non-empty axis", input_shape));
        }
        let features = input_shape.iter().try_fold(1usize, |total, &axis| total.checked_mul(axis));
        let features = features
            .ok_or_else(|| CnnError::shape("input of Flatten", "a size that fits usize", input_shape))?;
        self.input = Some(input_shape.to_vec());
        Ok(vec![features])
    }

    fn infer(&self, input: &ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let expected =
            self.input.as_deref().ok_or_else(|| CnnError::shape("Flatten", "a built layer", &[]))?;
        check_batch_shape("Flatten", input, expected)?;
        let batch = input.shape()[0];
        let features = expected.iter().product();
        input
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(&[batch, features]))
            .map_err(|_| CnnError::shape("input of Flatten", format!("{features} features"), input.shape()))
    }

    fn forward(&mut self, input: &ArrayD<T>, training: bool) -> Result<ArrayD<T>, CnnError> {
        let output = self.infer(input)?;
        self.batch = training.then_some(input.shape()[0]);
        Ok(output)
    }

    fn backward(&mut self, grad_output: ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let batch = *cached("Flatten", &self.batch)?;
        let mut shape = vec![batch];
        shape.extend(self.input.iter().flatten());
        let got = grad_output.shape().to_vec();
        into_row_major(grad_output)
            .into_shape_with_order(IxDyn(&shape))
            .map_err(|_| CnnError::shape("gradient of Flatten", format!("{shape:?}"), &got))
    }
}
