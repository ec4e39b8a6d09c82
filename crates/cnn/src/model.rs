//! Keras's `Sequential` model: summary, compile, fit, evaluate, predict, and weights files.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::Path;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{ArrayD, Axis, IxDyn, Slice};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::error::CnnError;
use crate::float::Float;
use crate::layers::{Layer, Param};
use crate::loss::Loss;
use crate::optimizer::Optimizer;

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
}

struct Entry<T: Float> {
    name: String,
    layer: Box<dyn Layer<T>>,
    output_shape: Vec<usize>,
}

/// How [`Sequential::fit`] trains: Keras's `fit` arguments.
#[derive(Clone, Debug)]
pub struct FitConfig<'a, T> {
    /// Passes over the training data.
    pub epochs: usize,
    /// Samples per gradient step (the last batch may be smaller); Keras's default is 32.
    pub batch_size: usize,
    /// Whether to shuffle the samples before each epoch (seeded by the model's seed).
    pub shuffle: bool,
    /// Whether to report progress: a bar per epoch when both standard output and error are a
    /// terminal, otherwise (a log file, a pipe, CI) one plain line per epoch on standard output,
    /// as Keras's `verbose=2`:
    /// `Epoch 3/20 - 0.12s - loss 0.4521 accuracy 0.8700`.
    pub verbose: bool,
    /// Data to evaluate after each epoch.
    pub validation_data: Option<(&'a ArrayD<T>, &'a ArrayD<T>)>,
}

impl<'a, T> FitConfig<'a, T> {
    /// `epochs` epochs, batch size 32, shuffled, verbose, no validation.
    pub fn new(epochs: usize) -> Self {
        FitConfig { epochs, batch_size: 32, shuffle: true, verbose: true, validation_data: None }
    }

    /// Samples per gradient step.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Whether to shuffle before each epoch.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Whether to print progress.
    pub fn verbose(mut self, verbose: bool) -> Self {
        self.verbose = verbose;
        self
    }

    /// Evaluates on `(x, y)` after each epoch.
    pub fn validation_data(mut self, x: &'a ArrayD<T>, y: &'a ArrayD<T>) -> Self {
        self.validation_data = Some((x, y));
        self
    }
}

/// Per-epoch results of [`Sequential::fit`], like Keras's `History.history`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Mean training loss (including regularisation) over each epoch's batches.
    pub loss: Vec<f64>,
    /// Training accuracy over each epoch (measured during the epoch, as Keras does).
    pub accuracy: Vec<f64>,
    /// Validation loss after each epoch (empty without validation data).
    pub val_loss: Vec<f64>,
    /// Validation accuracy after each epoch.
    pub val_accuracy: Vec<f64>,
    /// Wall-clock seconds of each epoch's training (validation excluded).
    pub epoch_seconds: Vec<f64>,
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

fn check_finite<T: Float>(what: &str, tensor: &ArrayD<T>) -> Result<(), CnnError> {
    if tensor.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(CnnError::NonFinite { what: what.to_string() })
    }
}

/// Rows `start..end` of a batch-first tensor.
fn rows<T: Float>(tensor: &ArrayD<T>, start: usize, end: usize) -> ArrayD<T> {
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
        }
    }

    /// Appends a layer, building it for the current output shape.
    ///
    /// # Errors
    /// Whatever the layer's `build` says of that shape or its parameters.
    pub fn add(&mut self, layer: impl Layer<T> + 'static) -> Result<&mut Self, CnnError> {
        let mut layer: Box<dyn Layer<T>> = Box::new(layer);
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
            let params: usize = entry.layer.params().iter().map(|p| p.value.len()).sum();
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
        let total = self.count_params();
        let _ = writeln!(out, "Total params: {total}\nTrainable params: {total}\nNon-trainable params: 0");
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

    fn check_input(&self, x: &ArrayD<T>) -> Result<usize, CnnError> {
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

    fn regularization_loss(&self) -> f64 {
        self.layers.iter().flat_map(|e| e.layer.params()).map(Param::regularization_loss).sum()
    }

    /// Trains on `(x, y)` and returns the per-epoch history.
    ///
    /// # Errors
    /// [`CnnError::NotCompiled`], [`CnnError::Shape`] when `x` does not match the input shape or
    /// `y` has another number of rows, [`CnnError::NonFinite`] for NaN/inf in the data or a loss
    /// that becomes non-finite (lower the learning rate), [`CnnError::InvalidParameter`] for a
    /// zero batch size, and any layer's error.
    pub fn fit(
        &mut self,
        x: &ArrayD<T>,
        y: &ArrayD<T>,
        config: &FitConfig<'_, T>,
    ) -> Result<History, CnnError> {
        let samples = self.check_input(x)?;
        let loss_fn = self.compiled.as_ref().ok_or(CnnError::NotCompiled)?.1;
        if y.shape().first() != Some(&samples) {
            return Err(CnnError::shape("targets", format!("{samples} rows like the input"), y.shape()));
        }
        check_finite("targets", y)?;
        if config.batch_size == 0 {
            return Err(CnnError::InvalidParameter {
                name: "batch_size",
                value: "0".into(),
                reason: "must be >= 1",
            });
        }
        let batches = samples.div_ceil(config.batch_size);
        let mut history = History::default();
        let mut order: Vec<usize> = (0..samples).collect();
        for epoch in 1..=config.epochs {
            // A bar where someone watches; in logs, pipes and CI one plain line per epoch
            // (Keras's `verbose=2`), since a bar drawn nowhere would leave them silent.
            let show_bar =
                config.verbose && std::io::stderr().is_terminal() && std::io::stdout().is_terminal();
            let bar = if show_bar { ProgressBar::new(batches as u64) } else { ProgressBar::hidden() };
            if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {elapsed} {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(format!("Epoch {epoch}/{}", config.epochs));
            let started = Instant::now();
            if config.shuffle {
                order.shuffle(&mut self.rng);
            }
            let (mut loss_sum, mut correct) = (0.0, 0usize);
            for (batch, chunk) in order.chunks(config.batch_size).enumerate() {
                let (xb, yb) = (x.select(Axis(0), chunk), y.select(Axis(0), chunk));
                let output = self.forward(&xb, true)?;
                let (loss, grad) = loss_fn.compute(&output, &yb)?;
                let loss = loss + self.regularization_loss();
                if !loss.is_finite() {
                    return Err(CnnError::NonFinite {
                        what: format!("the loss at epoch {epoch}, batch {batch}"),
                    });
                }
                correct += loss_fn.correct(&output, &yb)?;
                loss_sum += loss * chunk.len() as f64;
                self.backward_and_step(grad)?;
                bar.inc(1);
                bar.set_message(format!(
                    "loss {:.4}",
                    loss_sum / ((batch + 1) * config.batch_size).min(samples) as f64
                ));
            }
            history.epoch_seconds.push(started.elapsed().as_secs_f64());
            history.loss.push(loss_sum / samples as f64);
            history.accuracy.push(correct as f64 / samples as f64);
            let mut message =
                format!("loss {:.4} accuracy {:.4}", history.loss[epoch - 1], history.accuracy[epoch - 1]);
            if let Some((xv, yv)) = config.validation_data {
                let (val_loss, val_accuracy) = self.evaluate(xv, yv, config.batch_size)?;
                history.val_loss.push(val_loss);
                history.val_accuracy.push(val_accuracy);
                let _ = write!(message, " val_loss {val_loss:.4} val_accuracy {val_accuracy:.4}");
            }
            if show_bar {
                bar.finish_with_message(message);
            } else if config.verbose {
                println!("{}", epoch_line(epoch, config.epochs, history.epoch_seconds[epoch - 1], &message));
            }
        }
        Ok(history)
    }

    /// Back-propagates `grad` (the loss gradient with respect to the output of the last training
    /// forward pass), adds the L2 terms and lets the optimizer update every parameter.
    fn backward_and_step(&mut self, grad: ArrayD<T>) -> Result<(), CnnError> {
        let mut grad = grad;
        let (first, rest) = self.layers.split_first_mut().ok_or(CnnError::NoLayers)?;
        for entry in rest.iter_mut().rev() {
            grad = entry.layer.backward(grad)?;
        }
        first.layer.backward_params_only(grad)?;
        let mut params: Vec<&mut Param<T>> =
            self.layers.iter_mut().flat_map(|e| e.layer.params_mut()).collect();
        for param in &mut params {
            if let Some(l2) = param.l2 {
                let factor = T::of(2.0 * l2);
                let param = &mut **param;
                ndarray::Zip::from(&mut param.grad).and(&param.value).for_each(|g, &w| *g = *g + factor * w);
            }
        }
        if let Some((optimizer, _)) = self.compiled.as_mut() {
            optimizer.step(&mut params);
        }
        Ok(())
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
        self.check_input(x)?;
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

    /// The model's output for `x`, computed `batch_size` samples at a time (inference mode:
    /// no dropout).
    ///
    /// # Errors
    /// [`CnnError::Shape`] or [`CnnError::NonFinite`] for bad input, and any layer's error.
    pub fn predict(&mut self, x: &ArrayD<T>, batch_size: usize) -> Result<ArrayD<T>, CnnError> {
        let samples = self.check_input(x)?;
        let batch_size = batch_size.max(1);
        let mut outputs = Vec::new();
        for start in (0..samples).step_by(batch_size) {
            outputs.push(self.forward(&rows(x, start, (start + batch_size).min(samples)), false)?);
        }
        let views: Vec<_> = outputs.iter().map(|o| o.view()).collect();
        ndarray::concatenate(Axis(0), &views)
            .map_err(|_| CnnError::shape("predictions", "equal row shapes", &[]))
    }

    /// The loss (with regularisation) and accuracy on `(x, y)`, like Keras's `evaluate`.
    ///
    /// # Errors
    /// As [`predict`](Sequential::predict), plus [`CnnError::NotCompiled`] and target errors.
    pub fn evaluate(
        &mut self,
        x: &ArrayD<T>,
        y: &ArrayD<T>,
        batch_size: usize,
    ) -> Result<(f64, f64), CnnError> {
        let loss_fn = self.compiled.as_ref().ok_or(CnnError::NotCompiled)?.1;
        // The same refusal as `fit`: a NaN target would make the loss NaN without saying why.
        check_finite("targets", y)?;
        let predictions = self.predict(x, batch_size)?;
        if y.shape().first() != Some(&predictions.shape()[0]) {
            return Err(CnnError::shape(
                "targets",
                format!("{} rows like the input", predictions.shape()[0]),
                y.shape(),
            ));
        }
        let (loss, _) = loss_fn.compute(&predictions, y)?;
        let correct = loss_fn.correct(&predictions, y)?;
        Ok((loss + self.regularization_loss(), correct as f64 / predictions.shape()[0] as f64))
    }

    /// The weights as safetensors bytes, one tensor per parameter named `layer.param`
    /// (`conv2d.kernel`, `dense_1.bias`, ...) in Keras's layouts.
    ///
    /// # Errors
    /// [`CnnError::Weights`] if serialisation fails.
    pub fn weights_to_bytes(&self) -> Result<Vec<u8>, CnnError> {
        let mut tensors = Vec::new();
        for entry in &self.layers {
            for param in entry.layer.params() {
                let data = T::to_le_bytes(&param.value.iter().copied().collect::<Vec<_>>());
                tensors.push((format!("{}.{}", entry.name, param.name), param.value.shape().to_vec(), data));
            }
        }
        let views = tensors
            .iter()
            .map(|(name, shape, data)| {
                safetensors::tensor::TensorView::new(T::DTYPE, shape.clone(), data)
                    .map(|view| (name.clone(), view))
                    .map_err(|e| CnnError::Weights(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let metadata = HashMap::from([("format".to_string(), "convkit-cnn".to_string())]);
        safetensors::serialize(views, Some(metadata)).map_err(|e| CnnError::Weights(e.to_string()))
    }

    /// Replaces every parameter with the tensor of the same name in safetensors `bytes`.
    ///
    /// # Errors
    /// [`CnnError::Weights`] if the bytes are not safetensors, a parameter is missing, a
    /// tensor has another dtype or shape, or a weight is NaN or infinite (named with its flat
    /// index); the model is unchanged then.
    pub fn load_weights_from_bytes(&mut self, bytes: &[u8]) -> Result<(), CnnError> {
        let file =
            safetensors::SafeTensors::deserialize(bytes).map_err(|e| CnnError::Weights(e.to_string()))?;
        let mut values = Vec::new();
        for entry in &self.layers {
            for param in entry.layer.params() {
                let name = format!("{}.{}", entry.name, param.name);
                let tensor =
                    file.tensor(&name).map_err(|_| CnnError::Weights(format!("no tensor named `{name}`")))?;
                if tensor.dtype() != T::DTYPE || tensor.shape() != param.value.shape() {
                    return Err(CnnError::Weights(format!(
                        "`{name}` is {:?} {:?}, the model has {:?} {:?}",
                        tensor.dtype(),
                        tensor.shape(),
                        T::DTYPE,
                        param.value.shape()
                    )));
                }
                let data = T::from_le_bytes(tensor.data());
                // A NaN or infinite weight is no trained model, and a NaN can pass a ReLU-free
                // path silently: say where it is rather than predict with it.
                if let Some((index, bad)) =
                    data.iter().enumerate().find(|(_, v)| !v.to_f64_lossy().is_finite())
                {
                    return Err(CnnError::Weights(format!(
                        "`{name}` holds the non-finite value {} at flat index {index}",
                        bad.to_f64_lossy()
                    )));
                }
                let value = ArrayD::from_shape_vec(IxDyn(param.value.shape()), data)
                    .map_err(|e| CnnError::Weights(format!("`{name}`: {e}")))?;
                values.push(value);
            }
        }
        for (param, value) in self.params_mut().into_iter().zip(values) {
            param.value = value;
        }
        Ok(())
    }

    /// Writes the weights to a `.safetensors` file.
    ///
    /// # Errors
    /// [`CnnError::Io`] if the file cannot be written.
    pub fn save_weights(&self, path: impl AsRef<Path>) -> Result<(), CnnError> {
        let path = path.as_ref();
        std::fs::write(path, self.weights_to_bytes()?)
            .map_err(|source| CnnError::Io { path: path.into(), source })
    }

    /// Reads the weights from a `.safetensors` file written by
    /// [`save_weights`](Sequential::save_weights).
    ///
    /// # Errors
    /// [`CnnError::Io`] if the file cannot be read, [`CnnError::Weights`] if it is longer than
    /// this model's tensors plus [`MAX_WEIGHTS_HEADER_BYTES`] (it is not read further), and as
    /// [`load_weights_from_bytes`](Sequential::load_weights_from_bytes).
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<(), CnnError> {
        let path = path.as_ref();
        let io = |source| CnnError::Io { path: path.into(), source };
        // Read no more than this model's tensors and a header could take: a file of the wrong
        // model (or /dev/zero) is refused after `limit` bytes, not read until memory runs out.
        let tensor_bytes = self
            .params()
            .iter()
            .try_fold(0u64, |sum, param| sum.checked_add((param.value.len() * size_of::<T>()) as u64))
            .unwrap_or(u64::MAX);
        let limit = tensor_bytes.saturating_add(MAX_WEIGHTS_HEADER_BYTES);
        let file = std::fs::File::open(path).map_err(io)?;
        let Some(bytes) = crate::data::read_at_most(file, limit).map_err(io)? else {
            return Err(CnnError::Weights(format!(
                "{} is longer than the {limit} bytes this model's weights take with a header: the \
                 file of another model?",
                path.display()
            )));
        };
        self.load_weights_from_bytes(&bytes)
    }
}

/// The most bytes [`Sequential::load_weights`] reads beyond the model's own tensors: the
/// safetensors header (names, shapes and offsets, a few hundred bytes a tensor) and the 8-byte
/// length before it.
pub const MAX_WEIGHTS_HEADER_BYTES: u64 = 16 << 20;

/// One epoch's report for logs: `Epoch 3/20 - 0.12s - loss 0.4521 accuracy 0.8700`.
fn epoch_line(epoch: usize, epochs: usize, seconds: f64, metrics: &str) -> String {
    format!("Epoch {epoch}/{epochs} - {seconds:.2}s - {metrics}")
}
