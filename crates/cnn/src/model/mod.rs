//! Keras's `Sequential` model: summary, compile, fit, evaluate, predict, and weights files.

use std::fmt::Write as _;

use ndarray::{ArrayBase, ArrayD, ArrayViewD, Axis, Data, Dimension, Slice};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::CnnError;
use crate::float::Float;
use crate::layers::{Layer, Param};
use crate::loss::Loss;
use crate::optimizer::Optimizer;

mod file;
mod fit;
mod weights;

pub use file::MAX_MODEL_FILE_BYTES;
pub use fit::{FitConfig, History};
pub use weights::MAX_WEIGHTS_HEADER_BYTES;

/// A stack of layers, each feeding the next.
///
/// # Examples
/// ```
/// use cnn::layers::{Activation, Conv2D, Dense, Flatten, MaxPooling2D};
/// use cnn::{FitConfig, Loss, Sequential, Sgd};
/// use ndarray::ArrayD;
///
/// let mut model = Sequential::<f64>::new(&[8, 8, 1], 42);
/// model.add(Conv2D::new(4, (3, 3)).activation(Activation::Relu))?;
/// model.add(MaxPooling2D::new((2, 2)))?;
/// model.add(Flatten::new())?;
/// model.add(Dense::new(3).activation(Activation::Softmax))?;
/// assert_eq!(model.count_params(), 4 * 9 + 4 + 36 * 3 + 3);
/// model.compile(Sgd::new(0.1), Loss::CategoricalCrossentropy)?;
///
/// let x = ArrayD::from_shape_fn(vec![6, 8, 8, 1], |i| ((i[0] * 7 + i[1] * 3 + i[2]) % 5) as f64);
/// let y = ArrayD::from_shape_fn(vec![6, 3], |i| if i[1] == i[0] % 3 { 1.0 } else { 0.0 });
/// let history = model.fit(&x, &y, &FitConfig::new(2).batch_size(3).verbose(false))?;
/// assert_eq!(history.loss.len(), 2);
/// # Ok::<(), cnn::CnnError>(())
/// ```
pub struct Sequential<T: Float> {
    input_shape: Vec<usize>,
    layers: Vec<Entry<T>>,
    rng: ChaCha8Rng,
    compiled: Option<(Box<dyn Optimizer<T>>, Loss)>,
    /// Set by a callback (Keras's `model.stop_training = True`): `fit` ends after this epoch.
    stop_training: bool,
}

struct Entry<T: Float> {
    name: String,
    layer: Box<dyn Layer<T>>,
    output_shape: Vec<usize>,
}

/// Keras's snake_case layer name prefix for a class name.
fn snake_case(kind: &str) -> String {
    let mut name = String::new();
    let chars: Vec<char> = kind.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 && chars[i - 1].is_ascii_lowercase() {
            name.push('_');
        }
        name.push(c.to_ascii_lowercase());
    }
    name
}

fn check_finite<T: Float>(what: &str, tensor: &ArrayViewD<'_, T>) -> Result<(), CnnError> {
    if tensor.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(CnnError::NonFinite { what: what.to_string() })
    }
}

/// Rows `start..end` of a batch-first tensor.
fn rows<T: Float>(tensor: &ArrayViewD<'_, T>, start: usize, end: usize) -> ArrayD<T> {
    tensor.slice_axis(Axis(0), Slice::from(start..end)).to_owned()
}

impl<T: Float> Sequential<T> {
    /// An empty model for samples of `input_shape` (no batch axis: `[8, 8, 1]` for the digits);
    /// `seed` drives weight initialisation, shuffling and dropout.
    pub fn new(input_shape: &[usize], seed: u64) -> Self {
        Sequential {
            input_shape: input_shape.to_vec(),
            layers: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            compiled: None,
            stop_training: false,
        }
    }

    /// Appends a layer, building it for the current output shape.
    ///
    /// # Errors
    /// Whatever the layer's `build` says of that shape or its parameters.
    pub fn add(&mut self, layer: impl Layer<T> + 'static) -> Result<&mut Self, CnnError> {
        self.add_boxed(Box::new(layer))
    }

    /// Appends a boxed layer (one made by [`from_config`](crate::layers::from_config), say),
    /// building it for the current output shape.
    ///
    /// # Errors
    /// As [`add`](Sequential::add).
    pub fn add_boxed(&mut self, layer: Box<dyn Layer<T>>) -> Result<&mut Self, CnnError> {
        let mut layer = layer;
        let input = self.output_shape().to_vec();
        let output_shape = layer.build(&input, &mut self.rng)?;
        let prefix = snake_case(layer.kind());
        let taken = self
            .layers
            .iter()
            .filter(|e| e.name == prefix || e.name.starts_with(&format!("{prefix}_")))
            .count();
        let name = if taken == 0 { prefix } else { format!("{prefix}_{taken}") };
        self.layers.push(Entry { name, layer, output_shape });
        Ok(self)
    }

    /// The shape of one output sample (the input shape for an empty model).
    pub fn output_shape(&self) -> &[usize] {
        self.layers.last().map_or(&self.input_shape, |e| &e.output_shape)
    }

    /// The number of trainable parameters.
    pub fn count_params(&self) -> usize {
        self.layers.iter().flat_map(|e| e.layer.params()).map(|p| p.value.len()).sum()
    }

    /// The layers' names (`conv2d`, `dense_1`, ...), in order.
    pub fn layer_names(&self) -> Vec<&str> {
        self.layers.iter().map(|e| e.name.as_str()).collect()
    }

    /// A table like Keras's `model.summary()`: each layer with its type, output shape (batch
    /// shown as `None`) and parameter count, then the totals.
    pub fn summary(&self) -> String {
        let mut rows = vec![("Layer (type)".to_string(), "Output Shape".to_string(), "Param #".to_string())];
        for entry in &self.layers {
            let shape: Vec<String> = std::iter::once("None".to_string())
                .chain(entry.output_shape.iter().map(|d| d.to_string()))
                .collect();
            let params: usize =
                entry.layer.params().iter().chain(&entry.layer.non_trainable()).map(|p| p.value.len()).sum();
            rows.push((
                format!("{} ({})", entry.name, entry.layer.kind()),
                format!("({})", shape.join(", ")),
                params.to_string(),
            ));
        }
        let widths = [
            rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(28),
            rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(22),
            rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(10),
        ];
        let rule = |c: char| format!("{}\n", c.to_string().repeat(widths.iter().sum::<usize>() + 4));
        let mut out = String::from("Model: \"sequential\"\n");
        out += &rule('=');
        for (i, (a, b, c)) in rows.iter().enumerate() {
            let _ =
                writeln!(out, "{a:<w0$}  {b:<w1$}{c:>w2$}", w0 = widths[0], w1 = widths[1], w2 = widths[2]);
            out += &rule(if i == 0 { '=' } else { '-' });
        }
        let trainable = self.count_params();
        let frozen: usize =
            self.layers.iter().flat_map(|e| e.layer.non_trainable()).map(|p| p.value.len()).sum();
        let _ = writeln!(
            out,
            "Total params: {}\nTrainable params: {trainable}\nNon-trainable params: {frozen}",
            trainable + frozen
        );
        out
    }

    /// Chooses the optimizer and the loss, like Keras's `compile` (accuracy is always tracked).
    ///
    /// # Errors
    /// [`CnnError::InvalidParameter`] for an optimizer hyper-parameter out of range.
    pub fn compile(&mut self, optimizer: impl Optimizer<T> + 'static, loss: Loss) -> Result<(), CnnError> {
        optimizer.validate()?;
        self.compiled = Some((Box::new(optimizer), loss));
        Ok(())
    }

    fn check_input(&self, x: &ArrayViewD<'_, T>) -> Result<usize, CnnError> {
        if self.layers.is_empty() {
            return Err(CnnError::NoLayers);
        }
        let shape = x.shape();
        if shape.len() != self.input_shape.len() + 1 || shape[1..] != self.input_shape[..] || shape[0] == 0 {
            return Err(CnnError::shape(
                "model input",
                format!("[batch >= 1, {:?}]", self.input_shape),
                shape,
            ));
        }
        check_finite("model input", x)?;
        Ok(shape[0])
    }

    fn forward(&mut self, x: &ArrayD<T>, training: bool) -> Result<ArrayD<T>, CnnError> {
        let mut activation = self.layers[0].layer.forward(x, training)?;
        for entry in &mut self.layers[1..] {
            activation = entry.layer.forward(&activation, training)?;
        }
        Ok(activation)
    }

    /// The layers' inference-mode output, `&self` only ([`Layer::infer`]).
    fn infer(&self, x: &ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        let mut activation = self.layers[0].layer.infer(x)?;
        for entry in &self.layers[1..] {
            activation = entry.layer.infer(&activation)?;
        }
        Ok(activation)
    }

    fn regularization_loss(&self) -> f64 {
        self.layers.iter().flat_map(|e| e.layer.params()).map(Param::regularization_loss).sum()
    }

    /// The gradients of the loss (with regularisation) on `(x, y)` with respect to every
    /// parameter, in [`params`](Sequential::params) order, without updating anything: what
    /// gradient checks compare with finite differences.
    ///
    /// # Errors
    /// As [`fit`](Sequential::fit).
    pub fn loss_and_gradients(
        &mut self,
        x: &ArrayD<T>,
        y: &ArrayD<T>,
    ) -> Result<(f64, Vec<ArrayD<T>>), CnnError> {
        self.check_input(&x.view())?;
        let loss_fn = self.compiled.as_ref().ok_or(CnnError::NotCompiled)?.1;
        let output = self.forward(x, true)?;
        let (loss, mut grad) = loss_fn.compute(&output, y)?;
        for entry in self.layers.iter_mut().rev() {
            grad = entry.layer.backward(grad)?;
        }
        let grads = self
            .params()
            .iter()
            .map(|p| {
                let mut g = p.grad.clone();
                if let Some(l2) = p.l2 {
                    g.zip_mut_with(&p.value, |g, &w| *g = *g + T::of(2.0 * l2) * w);
                }
                g
            })
            .collect();
        Ok((loss + self.regularization_loss(), grads))
    }

    /// Every trainable parameter, layer by layer.
    pub fn params(&self) -> Vec<&Param<T>> {
        self.layers.iter().flat_map(|e| e.layer.params()).collect()
    }

    /// Every trainable parameter, mutably (to set weights by hand).
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        self.layers.iter_mut().flat_map(|e| e.layer.params_mut()).collect()
    }

    /// Every weight, layer by layer, each layer's trainable ones first, then its non-trainable
    /// ones (Keras's `model.weights` order), with their file names (`batch_normalization.gamma`).
    fn named_weights(&self) -> Vec<(String, &Param<T>)> {
        let mut weights = Vec::new();
        for entry in &self.layers {
            for param in entry.layer.params().into_iter().chain(entry.layer.non_trainable()) {
                weights.push((format!("{}.{}", entry.name, param.name), param));
            }
        }
        weights
    }

    /// Replaces every weight by the next of `values`, in the order of `named_weights` (the
    /// caller checked the count and the shapes).
    fn assign_weights(&mut self, values: Vec<ArrayD<T>>) {
        let mut values = values.into_iter();
        for entry in &mut self.layers {
            for param in entry.layer.params_mut() {
                if let Some(value) = values.next() {
                    param.value = value;
                }
            }
            for param in entry.layer.non_trainable_mut() {
                if let Some(value) = values.next() {
                    param.value = value;
                }
            }
        }
    }

    /// The model's output for `x` (an array of any dimension whose first axis is the batch),
    /// computed `batch_size` samples at a time (inference mode: no dropout, moving statistics).
    ///
    /// # Errors
    /// [`CnnError::Shape`] or [`CnnError::NonFinite`] for bad input, and any layer's error.
    pub fn predict<S, D>(&self, x: &ArrayBase<S, D>, batch_size: usize) -> Result<ArrayD<T>, CnnError>
    where
        S: Data<Elem = T>,
        D: Dimension,
    {
        self.predict_view(&x.view().into_dyn(), batch_size)
    }

    fn predict_view(&self, x: &ArrayViewD<'_, T>, batch_size: usize) -> Result<ArrayD<T>, CnnError> {
        let samples = self.check_input(x)?;
        let batch_size = batch_size.max(1);
        let mut outputs = Vec::new();
        for start in (0..samples).step_by(batch_size) {
            outputs.push(self.infer(&rows(x, start, (start + batch_size).min(samples)))?);
        }
        let views: Vec<_> = outputs.iter().map(|o| o.view()).collect();
        ndarray::concatenate(Axis(0), &views)
            .map_err(|_| CnnError::shape("predictions", "equal row shapes", &[]))
    }

    /// The loss (with regularisation) and accuracy on `(x, y)`, like Keras's `evaluate`; arrays
    /// of any dimension, the batch first.
    ///
    /// # Errors
    /// As [`predict`](Sequential::predict), plus [`CnnError::NotCompiled`] and target errors.
    pub fn evaluate<S1, D1, S2, D2>(
        &self,
        x: &ArrayBase<S1, D1>,
        y: &ArrayBase<S2, D2>,
        batch_size: usize,
    ) -> Result<(f64, f64), CnnError>
    where
        S1: Data<Elem = T>,
        D1: Dimension,
        S2: Data<Elem = T>,
        D2: Dimension,
    {
        self.evaluate_view(&x.view().into_dyn(), &y.view().into_dyn(), batch_size)
    }

    fn evaluate_view(
        &self,
        x: &ArrayViewD<'_, T>,
        y: &ArrayViewD<'_, T>,
        batch_size: usize,
    ) -> Result<(f64, f64), CnnError> {
        let loss_fn = self.compiled.as_ref().ok_or(CnnError::NotCompiled)?.1;
        // The same refusal as `fit`: a NaN target would make the loss NaN without saying why.
        check_finite("targets", y)?;
        let predictions = self.predict_view(x, batch_size)?;
        if y.shape().first() != Some(&predictions.shape()[0]) {
            return Err(CnnError::shape(
                "targets",
                format!("{} rows like the input", predictions.shape()[0]),
                y.shape(),
            ));
        }
        let y = y.to_owned();
        let (loss, _) = loss_fn.compute(&predictions, &y)?;
        let correct = loss_fn.correct(&predictions, &y)?;
        Ok((loss + self.regularization_loss(), correct as f64 / predictions.shape()[0] as f64))
    }

    /// The optimizer's learning rate, or `None` before [`compile`](Sequential::compile).
    pub fn learning_rate(&self) -> Option<f64> {
        self.compiled.as_ref().map(|(optimizer, _)| optimizer.learning_rate())
    }

    /// Sets the optimizer's learning rate, keeping its state (Keras's
    /// `model.optimizer.learning_rate = ...`).
    ///
    /// # Errors
    /// [`CnnError::NotCompiled`] before `compile`, [`CnnError::InvalidParameter`] unless the
    /// rate is finite and > 0.
    pub fn set_learning_rate(&mut self, learning_rate: f64) -> Result<(), CnnError> {
        let (optimizer, _) = self.compiled.as_mut().ok_or(CnnError::NotCompiled)?;
        optimizer.set_learning_rate(learning_rate)
    }

    /// Asks [`fit`](Sequential::fit) to stop after the current epoch (Keras's
    /// `model.stop_training = True`); what [`EarlyStopping`](crate::callbacks::EarlyStopping)
    /// calls. `fit` clears it when it starts.
    pub fn stop_training(&mut self) {
        self.stop_training = true;
    }

    /// Whether a callback asked training to stop.
    pub fn is_stopping(&self) -> bool {
        self.stop_training
    }
}
