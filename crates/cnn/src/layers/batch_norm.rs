//! Keras's `BatchNormalization` (over the last axis, channels last).

use ndarray::ArrayD;
use rand_chacha::ChaCha8Rng;

use super::{Layer, Param, cached, check_batch_shape, contiguous, into_row_major, parameter_values, tensor};
use crate::error::CnnError;
use crate::float::Float;

/// Normalises each channel (the last axis) to zero mean and unit variance, then scales by
/// `gamma` and shifts by `beta` (trainable), as Keras's `BatchNormalization()` with its defaults:
/// `momentum = 0.99`, `epsilon = 1e-3`, `center` and `scale` on.
///
/// In training the statistics are the batch's (mean and biased variance over every axis but the
/// last), and the moving ones are updated, `moving = momentum * moving + (1 - momentum) *
/// batch`; in inference (`predict`, `evaluate`) the moving statistics are used. They start at 0
/// and 1, are Keras's non-trainable weights (`moving_mean`, `moving_variance`) and are saved with
/// the model.
///
/// # Examples
/// ```
/// use cnn::layers::{BatchNormalization, Conv2D};
/// let mut model = cnn::Sequential::<f32>::new(&[8, 8, 1], 0);
/// model.add(Conv2D::new(4, (3, 3)))?;
/// model.add(BatchNormalization::new())?;
/// assert_eq!(model.count_params(), 4 * 9 + 4 + 2 * 4); // gamma and beta; moving ones apart
/// # Ok::<(), cnn::CnnError>(())
/// ```
#[derive(Clone, Debug)]
pub struct BatchNormalization<T> {
    momentum: f64,
    epsilon: f64,
    center: bool,
    scale: bool,
    /// `gamma` (with `scale`), then `beta` (with `center`).
    params: Vec<Param<T>>,
    /// `moving_mean`, `moving_variance`.
    moving: Vec<Param<T>>,
    input: Option<Vec<usize>>,
    cache: Option<Normalised<T>>,
}

/// What the backward pass of a training forward pass needs.
#[derive(Clone, Debug)]
struct Normalised<T> {
    shape: Vec<usize>,
    /// `(x - mean) / sqrt(var + epsilon)`, row-major like the input.
    x_hat: Vec<T>,
    /// `1 / sqrt(var + epsilon)` per channel.
    inv_std: Vec<f64>,
}

impl<T: Float> Default for BatchNormalization<T> {
    fn default() -> Self {
        BatchNormalization {
            momentum: 0.99,
            epsilon: 1e-3,
            center: true,
            scale: true,
            params: Vec::new(),
            moving: Vec::new(),
            input: None,
            cache: None,
        }
    }
}

impl<T: Float> BatchNormalization<T> {
    /// Keras's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The weight of the old moving statistics in each update, in `[0, 1]`.
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// The constant added to the variance, `> 0`.
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Whether to learn the shift `beta`.
    pub fn center(mut self, center: bool) -> Self {
        self.center = center;
        self
    }

    /// Whether to learn the scale `gamma`.
    pub fn scale(mut self, scale: bool) -> Self {
        self.scale = scale;
        self
    }

    /// `gamma (x - mean) / sqrt(variance + epsilon) + beta` per channel, and what the backward
    /// pass needs: the normalised values and `1 / sqrt(variance + epsilon)`.
    #[allow(clippy::type_complexity)]
    fn normalise(
        &self,
        x: &[T],
        channels: usize,
        mean: &[f64],
        variance: &[f64],
    ) -> Result<(Vec<T>, (Vec<T>, Vec<f64>)), CnnError> {
        let (gamma, beta) = self.gamma_beta(channels)?;
        let inv_std: Vec<f64> = variance.iter().map(|v| 1.0 / (v + self.epsilon).sqrt()).collect();
        let mut x_hat = Vec::with_capacity(x.len());
        let mut output = Vec::with_capacity(x.len());
        for row in x.chunks_exact(channels) {
            for (c, &v) in row.iter().enumerate() {
                let normalised = T::of((v.to_f64_lossy() - mean[c]) * inv_std[c]);
                x_hat.push(normalised);
                output.push(gamma[c] * normalised + beta[c]);
            }
        }
        Ok((output, (x_hat, inv_std)))
    }

    fn channels(&self) -> Result<usize, CnnError> {
        let shape = cached("BatchNormalization", &self.input)?;
        Ok(shape.last().copied().unwrap_or(0))
    }

    /// `gamma` and `beta` per channel (1 and 0 when not learnt).
    fn gamma_beta(&self, channels: usize) -> Result<(Vec<T>, Vec<T>), CnnError> {
        let mut params = self.params.iter();
        let gamma = match self.scale {
            true => contiguous(&params.next().ok_or(CnnError::NoLayers)?.value)?.to_vec(),
            false => vec![T::one(); channels],
        };
        let beta = match self.center {
            true => contiguous(&params.next().ok_or(CnnError::NoLayers)?.value)?.to_vec(),
            false => vec![T::zero(); channels],
        };
        Ok((gamma, beta))
    }
}

impl<T: Float> Layer<T> for BatchNormalization<T> {
    fn kind(&self) -> &'static str {
        "BatchNormalization"
    }

    fn config(&self) -> Option<serde_json::Value> {
        Some(
            serde_json::json!({"momentum": self.momentum, "epsilon": self.epsilon, "center": self.center, "scale": self.scale}),
        )
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut ChaCha8Rng) -> Result<Vec<usize>, CnnError> {
        let invalid =
            |name, value: f64, reason| CnnError::InvalidParameter { name, value: value.to_string(), reason };
        if !(0.0..=1.0).contains(&self.momentum) {
            return Err(invalid("momentum", self.momentum, "must be in [0, 1]"));
        }
        if !(self.epsilon.is_finite() && self.epsilon > 0.0) {
            return Err(invalid("epsilon", self.epsilon, "must be finite and > 0"));
        }
        let Some(&channels) = input_shape.last().filter(|&&c| c > 0) else {
            return Err(CnnError::shape(
                "input of BatchNormalization",
                "at least one axis of channels",
                input_shape,
            ));
        };
        parameter_values("gamma", &[channels])?;
        let ones = || ArrayD::from_elem(vec![channels], T::one());
        let zeros = || ArrayD::from_elem(vec![channels], T::zero());
        self.params.clear();
        if self.scale {
            self.params.push(Param::new("gamma", ones(), None));
        }
        if self.center {
            self.params.push(Param::new("beta", zeros(), None));
        }
        self.moving =
            vec![Param::new("moving_mean", zeros(), None), Param::new("moving_variance", ones(), None)];
        self.input = Some(input_shape.to_vec());
        Ok(input_shape.to_vec())
    }

    fn infer(&self, input: &ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let expected = cached("BatchNormalization", &self.input)?;
        check_batch_shape("BatchNormalization", input, expected)?;
        let channels = self.channels()?;
        let input = input.as_standard_layout();
        let stat = |p: &Param<T>| p.value.iter().map(|v| v.to_f64_lossy()).collect::<Vec<_>>();
        let (mean, variance) = (stat(&self.moving[0]), stat(&self.moving[1]));
        let (output, _) = self.normalise(contiguous(&input)?, channels, &mean, &variance)?;
        tensor(input.shape(), output)
    }

    fn forward(&mut self, input: &ArrayD<T>, training: bool) -> Result<ArrayD<T>, CnnError> {
        if !training {
            self.cache = None;
            return self.infer(input);
        }
        let expected = cached("BatchNormalization", &self.input)?.clone();
        check_batch_shape("BatchNormalization", input, &expected)?;
        let channels = self.channels()?;
        let input = input.as_standard_layout();
        let x = contiguous(&input)?;
        let rows = x.len() / channels;
        let (mean, variance) = {
            let mut mean = vec![0.0; channels];
            for row in x.chunks_exact(channels) {
                mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v.to_f64_lossy());
            }
            mean.iter_mut().for_each(|m| *m /= rows as f64);
            let mut variance = vec![0.0; channels];
            for row in x.chunks_exact(channels) {
                for ((s, &v), &m) in variance.iter_mut().zip(row).zip(&mean) {
                    *s += (v.to_f64_lossy() - m).powi(2);
                }
            }
            variance.iter_mut().for_each(|s| *s /= rows as f64);
            let momentum = self.momentum;
            for (moving, batch) in self.moving.iter_mut().zip([&mean, &variance]) {
                for (value, &stat) in moving.value.iter_mut().zip(batch) {
                    *value = T::of(momentum * value.to_f64_lossy() + (1.0 - momentum) * stat);
                }
            }
            (mean, variance)
        };
        let (output, (x_hat, inv_std)) = self.normalise(x, channels, &mean, &variance)?;
        let shape = input.shape().to_vec();
        self.cache = Some(Normalised { shape: shape.clone(), x_hat, inv_std });
        tensor(&shape, output)
    }

    fn backward(&mut self, grad_output: ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let channels = self.channels()?;
        let (gamma, _) = self.gamma_beta(channels)?;
        let cache = cached("BatchNormalization", &self.cache)?;
        if grad_output.shape() != cache.shape.as_slice() {
            return Err(CnnError::shape(
                "gradient of BatchNormalization",
                format!("{:?}", cache.shape),
                grad_output.shape(),
            ));
        }
        let grad = into_row_major(grad_output);
        let dy = contiguous(&grad)?;
        let rows = (dy.len() / channels) as f64;
        let (mut sum_dy, mut sum_dy_xhat) = (vec![0.0; channels], vec![0.0; channels]);
        for (g, xh) in dy.chunks_exact(channels).zip(cache.x_hat.chunks_exact(channels)) {
            for c in 0..channels {
                sum_dy[c] += g[c].to_f64_lossy();
                sum_dy_xhat[c] += g[c].to_f64_lossy() * xh[c].to_f64_lossy();
            }
        }
        // dx = gamma / sigma * (dy - mean(dy) - x_hat * mean(dy * x_hat)).
        let mut input_grad = Vec::with_capacity(dy.len());
        for (g, xh) in dy.chunks_exact(channels).zip(cache.x_hat.chunks_exact(channels)) {
            for c in 0..channels {
                let centred =
                    g[c].to_f64_lossy() - sum_dy[c] / rows - xh[c].to_f64_lossy() * sum_dy_xhat[c] / rows;
                input_grad.push(T::of(gamma[c].to_f64_lossy() * cache.inv_std[c] * centred));
            }
        }
        let shape = cache.shape.clone();
        let gradient = |name: &str, values: &[f64]| {
            ArrayD::from_shape_vec(vec![channels], values.iter().map(|&v| T::of(v)).collect())
                .map_err(|_| CnnError::shape(format!("{name} gradient"), format!("[{channels}]"), &[]))
        };
        let (gamma_grad, beta_grad) = (gradient("gamma", &sum_dy_xhat)?, gradient("beta", &sum_dy)?);
        let mut params = self.params.iter_mut();
        // The parameters are gamma (with `scale`), then beta (with `center`).
        if self.scale
            && let Some(gamma) = params.next()
        {
            gamma.grad = gamma_grad;
        }
        if self.center
            && let Some(beta) = params.next()
        {
            beta.grad = beta_grad;
        }
        tensor(&shape, input_grad)
    }

    fn params(&self) -> Vec<&Param<T>> {
        self.params.iter().collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        self.params.iter_mut().collect()
    }

    fn non_trainable(&self) -> Vec<&Param<T>> {
        self.moving.iter().collect()
    }

    fn non_trainable_mut(&mut self) -> Vec<&mut Param<T>> {
        self.moving.iter_mut().collect()
    }
}
