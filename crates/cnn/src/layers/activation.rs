//! Element-wise activations (and softmax over the last axis), as a layer and as the
//! `activation` argument of Conv2D and Dense.

use ndarray::{ArrayD, Axis, Zip};
use rand_chacha::ChaCha8Rng;

use super::{Layer, cached};
use crate::error::CnnError;
use crate::float::Float;
use crate::simd;

/// The activations Keras names `linear`, `relu`, `sigmoid`, `tanh` and `softmax`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Activation {
    /// The identity (Keras's default).
    #[default]
    Linear,
    /// `max(x, 0)`; NaN stays NaN.
    Relu,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// `exp(x_i - max x) / sum_j exp(x_j - max x)` over the last axis.
    Softmax,
}

impl Activation {
    /// The Keras name of the activation.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
        }
    }

    /// Applies the activation in place.
    pub fn apply<T: Float>(self, values: &mut ArrayD<T>) {
        match self {
            Activation::Linear => {}
            // NaN stays NaN (`NaN < 0` is false), as in PyTorch and TensorFlow: a NaN weight
            // must not turn into finite predictions.
            Activation::Relu => map_elements(values, |v| if v < T::zero() { T::zero() } else { v }),
            Activation::Sigmoid => map_elements(values, |v| T::one() / (T::one() + (-v).exp())),
            Activation::Tanh => map_elements(values, T::tanh),
            Activation::Softmax => {
                let last = Axis(values.ndim() - 1);
                for mut row in values.lanes_mut(last) {
                    let max = row.fold(T::neg_infinity(), |m, &v| m.max(v));
                    row.mapv_inplace(|v| (v - max).exp());
                    let sum = row.sum();
                    row.mapv_inplace(|v| v / sum);
                }
            }
        }
    }

    /// Turns the gradient with respect to the activation's `output` into the gradient with
    /// respect to its input, in place (each derivative is written in terms of the output).
    pub fn backward_in_place<T: Float>(self, output: &ArrayD<T>, grad: &mut ArrayD<T>) {
        match self {
            Activation::Linear => {}
            // A select, not a branch around the store: half the outputs of a ReLU are zero, in
            // no pattern a branch predictor could learn.
            Activation::Relu => zip_elements(grad, output, |g, y| if y <= T::zero() { T::zero() } else { g }),
            Activation::Sigmoid => zip_elements(grad, output, |g, y| g * y * (T::one() - y)),
            Activation::Tanh => zip_elements(grad, output, |g, y| g * (T::one() - y * y)),
            Activation::Softmax => {
                let last = Axis(output.ndim() - 1);
                for (mut g, y) in grad.lanes_mut(last).into_iter().zip(output.lanes(last)) {
                    let dot = g.iter().zip(y.iter()).map(|(&a, &b)| a * b).sum::<T>();
                    Zip::from(&mut g).and(&y).for_each(|g, &y| *g = y * (*g - dot));
                }
            }
        }
    }
}

/// `f` applied to every element in place: a vectorised loop over the memory when the array is
/// contiguous, ndarray's element walk otherwise.
fn map_elements<T: Float>(values: &mut ArrayD<T>, f: impl Fn(T) -> T + Copy + Sync) {
    match values.as_slice_memory_order_mut() {
        Some(slice) => simd::map_in_place(slice, f),
        None => values.mapv_inplace(f),
    }
}

/// `grad = f(grad, output)` element by element, vectorised when both are contiguous row-major
/// arrays of one shape.
///
/// # Panics
/// If the shapes differ (as `Zip` does; the callers pass an output and its gradient).
fn zip_elements<T: Float>(grad: &mut ArrayD<T>, output: &ArrayD<T>, f: impl Fn(T, T) -> T + Copy + Sync) {
    if grad.shape() == output.shape()
        && let (Some(grad), Some(output)) = (grad.as_slice_mut(), output.as_slice())
    {
        simd::zip_map_in_place(grad, output, f);
        return;
    }
    Zip::from(grad).and(output).for_each(|g, &y| *g = f(*g, y));
}

/// Keras's `Activation` layer: an activation on its own.
#[derive(Clone, Debug)]
pub struct ActivationLayer<T> {
    activation: Activation,
    output: Option<ArrayD<T>>,
}

impl<T> ActivationLayer<T> {
    /// A layer applying `activation`.
    pub fn new(activation: Activation) -> Self {
        ActivationLayer { activation, output: None }
    }
}

impl<T: Float> Layer<T> for ActivationLayer<T> {
    fn kind(&self) -> &'static str {
        "Activation"
    }

    fn config(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({"activation": self.activation.name()}))
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut ChaCha8Rng) -> Result<Vec<usize>, CnnError> {
        Ok(input_shape.to_vec())
    }

    fn infer(&self, input: &ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let mut output = input.clone();
        self.activation.apply(&mut output);
        Ok(output)
    }

    fn forward(&mut self, input: &ArrayD<T>, training: bool) -> Result<ArrayD<T>, CnnError> {
        let mut output = input.clone();
        self.activation.apply(&mut output);
        self.output = training.then(|| output.clone());
        Ok(output)
    }

    fn backward(&mut self, grad_output: ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let output = cached("Activation", &self.output)?;
        if output.shape() != grad_output.shape() {
            return Err(CnnError::shape(
                "gradient of Activation",
                format!("{:?}", output.shape()),
                grad_output.shape(),
            ));
        }
        let mut grad = grad_output;
        self.activation.backward_in_place(output, &mut grad);
        Ok(grad)
    }
}
