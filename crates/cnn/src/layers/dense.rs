//! Keras's `Dense`: a fully connected layer.

use ndarray::{ArrayD, Axis, Ix2, IxDyn};
use rand_chacha::ChaCha8Rng;

use super::{Activation, Layer, Param, cached, check_batch_shape, check_l2, glorot_uniform};
use crate::error::CnnError;
use crate::float::Float;

/// `output = activation(input · kernel + bias)`.
///
/// # Shapes
/// input `[batch, in]`, kernel `[in, units]` (Keras's layout), bias `[units]`, output
/// `[batch, units]`.
///
/// # Examples
/// ```
/// use cnn::layers::{Activation, Dense};
/// let layer = Dense::<f32>::new(10).activation(Activation::Softmax).kernel_regularizer_l2(1e-3);
/// # let _ = layer;
/// ```
#[derive(Clone, Debug)]
pub struct Dense<T> {
    units: usize,
    activation: Activation,
    use_bias: bool,
    l2: Option<f64>,
    inputs: Option<usize>,
    params: Vec<Param<T>>,
    /// The input and output of the last training pass.
    cache: Option<(ArrayD<T>, ArrayD<T>)>,
}

impl<T: Float> Dense<T> {
    /// A layer of `units` outputs, no activation, with bias.
    pub fn new(units: usize) -> Self {
        Dense {
            units,
            activation: Activation::Linear,
            use_bias: true,
            l2: None,
            inputs: None,
            params: Vec::new(),
            cache: None,
        }
    }

    /// The activation applied to the output.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Whether the layer adds a bias (default true).
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }

    /// Keras's `kernel_regularizer=regularizers.L2(l2)`.
    pub fn kernel_regularizer_l2(mut self, l2: f64) -> Self {
        self.l2 = Some(l2);
        self
    }
}

fn as_2d<'a, T>(what: &str, tensor: &'a ArrayD<T>) -> Result<ndarray::ArrayView2<'a, T>, CnnError> {
    tensor.view().into_dimensionality::<Ix2>().map_err(|_| CnnError::shape(what, "rank 2", tensor.shape()))
}

impl<T: Float> Layer<T> for Dense<T> {
    fn kind(&self) -> &'static str {
        "Dense"
    }

    fn config(&self) -> Option<serde_json::Value> {
        Some(
            serde_json::json!({"units": self.units, "activation": self.activation.name(), "use_bias": self.use_bias, "kernel_regularizer_l2": self.l2}),
        )
    }

    fn build(&mut self, input_shape: &[usize], rng: &mut ChaCha8Rng) -> Result<Vec<usize>, CnnError> {
        let &[inputs] = input_shape else {
            return Err(CnnError::shape(
                "input of Dense",
                "[features] (add a Flatten layer first)",
                input_shape,
            ));
        };
        if self.units == 0 || inputs == 0 {
            return Err(CnnError::InvalidParameter {
                name: "units",
                value: format!("{} (inputs {inputs})", self.units),
                reason: "units and inputs must be >= 1",
            });
        }
        check_l2(self.l2)?;
        self.inputs = Some(inputs);
        self.params = vec![Param::new(
            "kernel",
            glorot_uniform(&[inputs, self.units], inputs, self.units, rng)?,
            self.l2,
        )];
        if self.use_bias {
            self.params.push(Param::new("bias", ArrayD::zeros(IxDyn(&[self.units])), None));
        }
        self.cache = None;
        Ok(vec![self.units])
    }

    fn forward(&mut self, input: &ArrayD<T>, training: bool) -> Result<ArrayD<T>, CnnError> {
        let output = self.infer(input)?;
        self.cache = training.then(|| (input.clone(), output.clone()));
        Ok(output)
    }

    fn infer(&self, input: &ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let inputs = self.inputs.ok_or_else(|| CnnError::shape("Dense", "a built layer", &[]))?;
        check_batch_shape("Dense", input, &[inputs])?;
        let kernel = as_2d("Dense kernel", &self.params[0].value)?;
        let mut output = as_2d("input of Dense", input)?.dot(&kernel);
        if let Some(bias) = self.params.get(1) {
            output.zip_mut_with(&as_1d(&bias.value)?, |o, &b| *o = *o + b);
        }
        let mut output = output.into_dyn();
        self.activation.apply(&mut output);
        Ok(output)
    }

    fn backward(&mut self, grad_output: ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let (input, output) = cached("Dense", &self.cache)?;
        if grad_output.shape() != output.shape() {
            return Err(CnnError::shape(
                "gradient of Dense",
                format!("{:?}", output.shape()),
                grad_output.shape(),
            ));
        }
        let mut grad = grad_output;
        self.activation.backward_in_place(output, &mut grad);
        let grad2 = as_2d("gradient of Dense", &grad)?;
        let kernel_grad = as_2d("input of Dense", input)?.t().dot(&grad2).into_dyn();
        let grad_input = grad2.dot(&as_2d("Dense kernel", &self.params[0].value)?.t()).into_dyn();
        let bias_grad = grad2.sum_axis(Axis(0)).into_dyn();
        self.params[0].grad = kernel_grad;
        if let Some(bias) = self.params.get_mut(1) {
            bias.grad = bias_grad;
        }
        Ok(grad_input)
    }

    fn params(&self) -> Vec<&Param<T>> {
        self.params.iter().collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        self.params.iter_mut().collect()
    }
}

fn as_1d<T>(tensor: &ArrayD<T>) -> Result<ndarray::ArrayView1<'_, T>, CnnError> {
    tensor.view().into_dimensionality().map_err(|_| CnnError::shape("Dense bias", "rank 1", tensor.shape()))
}
