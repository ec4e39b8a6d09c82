//! Keras's `Dropout`.

use ndarray::{ArrayD, Zip};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Layer, cached};
use crate::error::CnnError;
use crate::float::Float;

/// During training, zeroes each input with probability `rate` and scales the rest by
/// `1 / (1 - rate)` (inverted dropout, as Keras); at inference it is the identity. The mask is
/// drawn from a generator seeded when the model is built.
#[derive(Clone, Debug)]
pub struct Dropout<T> {
    rate: f64,
    rng: Option<ChaCha8Rng>,
    /// The scaled mask of the last training pass.
    mask: Option<ArrayD<T>>,
}

impl<T> Dropout<T> {
    /// Drops inputs with probability `rate` (in `[0, 1)`).
    pub fn new(rate: f64) -> Self {
        Dropout { rate, rng: None, mask: None }
    }
}

impl<T: Float> Layer<T> for Dropout<T> {
    fn kind(&self) -> &'static str {
        "Dropout"
    }

    fn config(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({"rate": self.rate}))
    }

    fn build(&mut self, input_shape: &[usize], rng: &mut ChaCha8Rng) -> Result<Vec<usize>, CnnError> {
        if !(0.0..1.0).contains(&self.rate) {
            return Err(CnnError::InvalidParameter {
                name: "rate",
                value: self.rate.to_string(),
                reason: "must be in [0, 1)",
            });
        }
        self.rng = Some(ChaCha8Rng::seed_from_u64(rng.random()));
        Ok(input_shape.to_vec())
    }

    fn infer(&self, input: &ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        Ok(input.clone())
    }

    fn forward(&mut self, input: &ArrayD<T>, training: bool) -> Result<ArrayD<T>, CnnError> {
        if !training {
            return Ok(input.clone());
        }
        let rng = self.rng.as_mut().ok_or_else(|| CnnError::shape("Dropout", "a built layer", &[]))?;
        let keep = 1.0 - self.rate;
        let scale = T::of(1.0 / keep);
        let mask = ArrayD::from_shape_simple_fn(input.raw_dim(), || {
            if rng.random_bool(keep) { scale } else { T::zero() }
        });
        let mut output = input.clone();
        Zip::from(&mut output).and(&mask).for_each(|o, &m| *o = *o * m);
        self.mask = Some(mask);
        Ok(output)
    }

    fn backward(&mut self, grad_output: ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let mask = cached("Dropout", &self.mask)?;
        if mask.shape() != grad_output.shape() {
            return Err(CnnError::shape(
                "gradient of Dropout",
                format!("{:?}", mask.shape()),
                grad_output.shape(),
            ));
        }
        Ok(grad_output * mask)
    }
}
