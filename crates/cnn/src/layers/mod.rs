//! Layers, one per file, and the trait they share.
//!
//! Tensors are `ndarray::ArrayD` with the batch on the first axis; images are
//! `[batch, height, width, channels]` (NHWC), as Keras and the material have them.

mod activation;
mod augment;
mod batch_norm;
mod config;
mod conv2d;
mod dense;
mod dropout;
mod flatten;
mod global_pooling;
mod layout;
mod pooling;

pub use activation::{Activation, ActivationLayer};
pub use augment::{FillMode, FlipMode, RandomFlip, RandomTranslation};
pub use batch_norm::BatchNormalization;
pub use config::from_config;
pub use conv2d::Conv2D;
pub use dense::Dense;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use global_pooling::GlobalAveragePooling2D;
pub use pooling::{AveragePooling2D, MaxPooling2D};

use ndarray::ArrayD;
use rand_chacha::ChaCha8Rng;

use crate::error::CnnError;
use crate::float::Float;

/// A trainable tensor of a layer, its gradient from the last backward pass, and its L2 factor.
#[derive(Clone, Debug)]
pub struct Param<T> {
    /// `kernel` or `bias`, as Keras names them.
    pub name: &'static str,
    /// The current value.
    pub value: ArrayD<T>,
    /// The gradient of the loss (without regularisation) from the last backward pass.
    pub grad: ArrayD<T>,
    /// Keras's `regularizers.L2(l2)`: adds `l2 * sum(value^2)` to the loss.
    pub l2: Option<f64>,
}

impl<T: Float> Param<T> {
    pub(crate) fn new(name: &'static str, value: ArrayD<T>, l2: Option<f64>) -> Self {
        let grad = ArrayD::zeros(value.raw_dim());
        Param { name, value, grad, l2 }
    }

    /// `l2 * sum(value^2)`, or 0 without a regulariser.
    pub fn regularization_loss(&self) -> f64 {
        self.l2.map_or(0.0, |l2| l2 * self.value.iter().map(|v| v.to_f64_lossy().powi(2)).sum::<f64>())
    }
}

/// Zero, or same padding, as Keras spells them for Conv2D and the pooling layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Padding {
    /// No padding: windows lie inside the input (`"valid"`).
    #[default]
    Valid,
    /// Output size `ceil(input / stride)`, the extra padding row/column after (`"same"`).
    Same,
}

impl Padding {
    /// Keras's word: `"valid"` or `"same"`.
    pub fn name(self) -> &'static str {
        match self {
            Padding::Valid => "valid",
            Padding::Same => "same",
        }
    }
}

impl From<Padding> for conv_core::Padding {
    /// Keras's words in conv-core's terms: `Valid` is `Mode(Valid)`, `Same` is `SameUpper`.
    fn from(padding: Padding) -> Self {
        match padding {
            Padding::Valid => conv_core::Padding::Mode(conv_core::Mode::Valid),
            Padding::Same => conv_core::Padding::SameUpper,
        }
    }
}

/// Refuses a zero window or stride with [`CnnError::InvalidParameter`], named as Keras names them.
pub(crate) fn check_window(window: usize, stride: usize) -> Result<(), CnnError> {
    if window == 0 {
        return Err(CnnError::InvalidParameter {
            name: "kernel_size",
            value: "0".into(),
            reason: "must be >= 1",
        });
    }
    if stride == 0 {
        return Err(CnnError::InvalidParameter {
            name: "strides",
            value: "0".into(),
            reason: "must be >= 1",
        });
    }
    Ok(())
}

/// The output length and the padding before and after along one axis of a pooling window:
/// conv-core's arithmetic ([`conv_core::ConvSpec::resolve`]) in Keras's words.
///
/// # Errors
/// [`CnnError::InvalidParameter`] for a zero window or stride, and [`CnnError::Shape`] when a
/// valid window does not fit in the input.
///
/// # Examples
/// ```
/// use cnn::layers::{window_axis, Padding};
/// assert_eq!(window_axis("input", 8, 3, 1, Padding::Valid)?, (6, 0, 0));
/// assert_eq!(window_axis("input", 8, 3, 1, Padding::Same)?, (8, 1, 1));
/// assert_eq!(window_axis("input", 15, 2, 2, Padding::Same)?, (8, 0, 1));
/// # Ok::<(), cnn::CnnError>(())
/// ```
pub fn window_axis(
    what: &str,
    input: usize,
    window: usize,
    stride: usize,
    padding: Padding,
) -> Result<(usize, usize, usize), CnnError> {
    check_window(window, stride)?;
    if input == 0 {
        return Err(CnnError::shape(what, "at least 1 along a window axis", &[input]));
    }
    if padding == Padding::Valid && window > input {
        return Err(CnnError::shape(what, format!("at least {window} along a window axis"), &[input]));
    }
    // conv-core's arithmetic on a one-axis problem (sizes only: no buffer is made, so no cap).
    let resolved = conv_core::ConvSpec::correlation()
        .padding(padding.into())
        .stride(stride)
        .max_buffer_bytes(usize::MAX)
        .resolve(&[1, 1, input], &[1, 1, window])
        .map_err(CnnError::conv(what))?;
    let (before, after) = resolved.pads[2];
    Ok((resolved.geometry.axes()[2].output, before, after))
}

/// One layer of a [`Sequential`](crate::Sequential) model.
///
/// A layer is built once for an input shape (without the batch axis), then runs forward on a
/// batch, caching what its backward pass needs; `backward` takes the gradient of the loss with
/// respect to the layer's output and returns it with respect to the input, leaving the
/// gradients of its parameters in [`Param::grad`].
pub trait Layer<T: Float>: Send {
    /// The Keras class name (`Conv2D`, `Dense`, ...).
    fn kind(&self) -> &'static str;

    /// Creates the parameters for inputs of shape `input_shape` (no batch axis) and returns the
    /// output shape.
    ///
    /// # Errors
    /// [`CnnError::Shape`] if the layer cannot take that shape.
    fn build(&mut self, input_shape: &[usize], rng: &mut ChaCha8Rng) -> Result<Vec<usize>, CnnError>;

    /// Computes the layer on a batch (`training` enables dropout and caching for backward).
    ///
    /// # Errors
    /// [`CnnError::Shape`] for a batch of the wrong shape, [`CnnError::Conv`] if the backend
    /// refuses.
    fn forward(&mut self, input: &ArrayD<T>, training: bool) -> Result<ArrayD<T>, CnnError>;

    /// The layer's output in inference mode (no dropout or augmentation, moving statistics),
    /// caching nothing: what [`Sequential::predict`](crate::Sequential::predict) and
    /// [`evaluate`](crate::Sequential::evaluate) call, so they need only `&self`.
    ///
    /// # Errors
    /// As [`forward`](Layer::forward).
    fn infer(&self, input: &ArrayD<T>) -> Result<ArrayD<T>, CnnError>;

    /// The gradient with respect to the input of the last training forward pass. The output
    /// gradient is taken by value: a layer that turns it into its input gradient in place (an
    /// activation's derivative, a convolution's fused activation) then copies nothing.
    ///
    /// # Errors
    /// [`CnnError::Shape`] if `grad_output` does not match that pass's output.
    fn backward(&mut self, grad_output: ArrayD<T>) -> Result<ArrayD<T>, CnnError>;

    /// Like [`backward`](Layer::backward) but only the parameter gradients are needed (the
    /// model's first layer: nothing consumes its input gradient, and Keras skips it too).
    /// Layers override this when the input gradient is costly.
    ///
    /// # Errors
    /// As [`backward`](Layer::backward).
    fn backward_params_only(&mut self, grad_output: ArrayD<T>) -> Result<(), CnnError> {
        self.backward(grad_output).map(|_| ())
    }

    /// The trainable parameters, in a fixed order.
    fn params(&self) -> Vec<&Param<T>> {
        Vec::new()
    }

    /// The trainable parameters, mutably, in the order of [`params`](Layer::params).
    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        Vec::new()
    }

    /// Weights that training changes without a gradient (BatchNormalization's moving mean and
    /// variance): Keras's non-trainable weights, saved with the model and counted apart.
    fn non_trainable(&self) -> Vec<&Param<T>> {
        Vec::new()
    }

    /// The non-trainable weights, mutably, in the order of
    /// [`non_trainable`](Layer::non_trainable).
    fn non_trainable_mut(&mut self) -> Vec<&mut Param<T>> {
        Vec::new()
    }

    /// The layer's settings as Keras names them (`{"filters": 32, "kernel_size": [3, 3], ...}`):
    /// what a model file stores to build the layer again ([`from_config`]). `None` for a layer
    /// that cannot be rebuilt from a file (a user's own); [`Sequential::save`](crate::Sequential::save)
    /// refuses a model holding one.
    fn config(&self) -> Option<serde_json::Value> {
        None
    }
}

/// Fails with [`CnnError::InvalidParameter`] for an L2 factor that is negative or not finite.
pub(crate) fn check_l2(l2: Option<f64>) -> Result<(), CnnError> {
    match l2 {
        Some(l2) if !(l2.is_finite() && l2 >= 0.0) => Err(CnnError::InvalidParameter {
            name: "kernel_regularizer l2",
            value: l2.to_string(),
            reason: "must be finite and >= 0",
        }),
        _ => Ok(()),
    }
}

/// Fails with [`CnnError::Shape`] unless `tensor` is `[batch, expected...]`.
pub(crate) fn check_batch_shape<T>(
    layer: &str,
    tensor: &ArrayD<T>,
    expected: &[usize],
) -> Result<(), CnnError> {
    let shape = tensor.shape();
    if shape.len() != expected.len() + 1 || &shape[1..] != expected || shape[0] == 0 {
        return Err(CnnError::shape(
            format!("input of {layer}"),
            format!("[batch >= 1, {expected:?}]"),
            shape,
        ));
    }
    Ok(())
}

/// The elements of a standard-layout tensor as a slice.
pub(crate) fn contiguous<S: ndarray::Data>(
    tensor: &ndarray::ArrayBase<S, ndarray::IxDyn>,
) -> Result<&[S::Elem], CnnError> {
    tensor.as_slice().ok_or_else(|| CnnError::shape("tensor", "standard (row-major) layout", tensor.shape()))
}

/// `tensor` in row-major layout: itself when it already is (no copy), else a row-major copy.
/// For gradients handed down by value, which layers then change in place.
pub(crate) fn into_row_major<T: Clone>(tensor: ArrayD<T>) -> ArrayD<T> {
    if tensor.is_standard_layout() { tensor } else { tensor.as_standard_layout().into_owned() }
}

/// A row-major tensor of `shape` holding `values`.
pub(crate) fn tensor<T>(shape: &[usize], values: Vec<T>) -> Result<ArrayD<T>, CnnError> {
    let len = values.len();
    ArrayD::from_shape_vec(ndarray::IxDyn(shape), values)
        .map_err(|_| CnnError::shape(format!("{len} values"), format!("{shape:?}"), &[len]))
}

/// The shape of the output of the last forward pass, or an error if there was none.
pub(crate) fn cached<'a, X>(layer: &str, cache: &'a Option<X>) -> Result<&'a X, CnnError> {
    cache.as_ref().ok_or_else(|| CnnError::shape(format!("backward of {layer}"), "a forward pass first", &[]))
}

/// Glorot (Xavier) uniform initialisation: `U(-l, l)` with `l = sqrt(6 / (fan_in + fan_out))`.
/// The most values one parameter tensor (a kernel, a bias) may hold: 2^28, 1 GiB in f32. A
/// layer asking for more (`Dense::new(1 << 26)` on 64 inputs, say) is refused when it is built,
/// before anything is allocated.
pub const MAX_PARAMETER_VALUES: usize = 1 << 28;

/// The number of values of a tensor of `shape`, refused with [`CnnError::InvalidParameter`] when
/// it overflows or exceeds [`MAX_PARAMETER_VALUES`].
pub(crate) fn parameter_values(what: &'static str, shape: &[usize]) -> Result<usize, CnnError> {
    shape
        .iter()
        .try_fold(1usize, |total, &axis| total.checked_mul(axis))
        .filter(|&values| values <= MAX_PARAMETER_VALUES)
        .ok_or_else(|| CnnError::InvalidParameter {
            name: what,
            value: format!("shape {shape:?}"),
            reason: "more than MAX_PARAMETER_VALUES = 2^28 parameters in one tensor",
        })
}

pub(crate) fn glorot_uniform<T: Float>(
    shape: &[usize],
    fan_in: usize,
    fan_out: usize,
    rng: &mut ChaCha8Rng,
) -> Result<ArrayD<T>, CnnError> {
    use rand::Rng;
    parameter_values("kernel", shape)?;
    let limit = (6.0 / (fan_in as f64 + fan_out as f64)).sqrt();
    let (low, high) = (T::of(-limit), T::of(limit));
    Ok(ArrayD::from_shape_simple_fn(shape, || rng.random_range(low..high)))
}
