//! Keras's `Conv2D`, forward and backward through any conv-core backend.

use conv_core::{Auto, ConvBackend, ConvSpec, Layout};
use ndarray::{Array4, ArrayD, Ix4, IxDyn};
use rand_chacha::ChaCha8Rng;

use super::layout::hwio_to_oihw;
use super::{
    Activation, Layer, Padding, Param, cached, check_batch_shape, check_l2, check_window, contiguous,
    glorot_uniform, into_row_major, parameter_values, tensor,
};
use crate::error::CnnError;
use crate::float::Float;

/// A 2-D convolution layer (Keras's `Conv2D`, cross-correlation like every deep-learning
/// framework), computed by the conv-core backend `B` (by default the shared [`Auto`] planner).
///
/// # Shapes
/// - input `[batch, height, width, channels]`
/// - kernel `[kernel_height, kernel_width, channels, filters]` (Keras's layout), bias `[filters]`
/// - output `[batch, out_height, out_width, filters]`, with `out = (in - k) / stride + 1` for
///   valid padding and `ceil(in / stride)` for same padding.
///
/// # Through conv-core's front end
/// The layer is [`conv_core::conv2d_with`] with a [`ConvSpec`] saying
/// [`Layout::ChannelsLast`], Keras's padding ([`Padding::Same`] is conv-core's
/// [`SameUpper`](conv_core::Padding::SameUpper)) and the strides: images stay
/// `[batch, height, width, channels]` from end to end, the padding and output sizes are
/// conv-core's, and the backend is called through
/// [`ConvBackend::execute_channels_last`], which [`Im2col`](conv_core::Im2col) (and
/// [`Auto`] when it picks im2col) solves without changing the layout.
///
/// # Gradients
/// The backward pass is [`conv_core::conv2d_input_gradient`] and
/// [`conv_core::conv2d_kernel_gradient`], which call the backend's
/// [`input_gradient`](ConvBackend::input_gradient) and
/// [`kernel_gradient`](ConvBackend::kernel_gradient): a layer given
/// [`Fft`](conv_core::Fft) trains through FFTs, one given `Im2col` (or `Auto` choosing it)
/// computes the kernel gradient as one product on the patch matrix.
///
/// # Examples
/// ```
/// use cnn::layers::{Activation, Conv2D, Padding};
/// use conv_core::Fft;
/// let layer = Conv2D::<f32>::new(16, (3, 3))
///     .padding(Padding::Same)
///     .activation(Activation::Relu)
///     .kernel_regularizer_l2(1e-4)
///     .with_backend(Fft::default());
/// # let _ = layer;
/// ```
pub struct Conv2D<T, B = &'static Auto> {
    filters: usize,
    kernel_size: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
    activation: Activation,
    use_bias: bool,
    l2: Option<f64>,
    backend: B,
    shape: Option<BuiltShape>,
    params: Vec<Param<T>>,
    cache: Option<Cache<T>>,
}

/// Sizes fixed at build time.
#[derive(Clone, Copy, Debug)]
struct BuiltShape {
    input: [usize; 3],
}

/// What the backward pass needs from the forward pass.
struct Cache<T> {
    /// The input, `[batch, height, width, channels]`.
    input: Array4<T>,
    /// The kernel in conv-core's layout, `[filters, channels, kh, kw]`.
    kernel_oihw: Array4<T>,
    /// The layer's output (after the activation).
    output: ArrayD<T>,
}

impl<T: Float> Conv2D<T, &'static Auto> {
    /// `filters` kernels of `kernel_size = (height, width)`, stride 1, valid padding, no
    /// activation, with bias, computed by the backend conv-core's shared planner
    /// ([`Auto::shared`]) chooses per shape; change these with the builder methods
    /// (`.with_backend(conv_core::Direct)` for the defining sums).
    pub fn new(filters: usize, kernel_size: (usize, usize)) -> Self {
        Conv2D {
            filters,
            kernel_size: [kernel_size.0, kernel_size.1],
            strides: [1, 1],
            padding: Padding::Valid,
            activation: Activation::Linear,
            use_bias: true,
            l2: None,
            backend: Auto::shared(),
            shape: None,
            params: Vec::new(),
            cache: None,
        }
    }
}

impl<T: Float, B: ConvBackend<T>> Conv2D<T, B> {
    /// The same layer computed by another backend (any `ConvBackend<T>`, including
    /// `Arc<dyn ConvBackend<T>>` from the registry).
    pub fn with_backend<B2: ConvBackend<T>>(self, backend: B2) -> Conv2D<T, B2> {
        Conv2D {
            filters: self.filters,
            kernel_size: self.kernel_size,
            strides: self.strides,
            padding: self.padding,
            activation: self.activation,
            use_bias: self.use_bias,
            l2: self.l2,
            backend,
            shape: None,
            params: Vec::new(),
            cache: None,
        }
    }

    /// Strides `(vertical, horizontal)`.
    pub fn strides(mut self, strides: (usize, usize)) -> Self {
        self.strides = [strides.0, strides.1];
        self
    }

    /// Valid or same padding.
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// The activation applied to the output.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Whether the layer adds a bias per filter (default true).
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }

    /// Keras's `kernel_regularizer=regularizers.L2(l2)`: adds `l2 * sum(kernel^2)` to the loss.
    pub fn kernel_regularizer_l2(mut self, l2: f64) -> Self {
        self.l2 = Some(l2);
        self
    }

    /// The backend computing the layer.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    fn built(&self) -> Result<BuiltShape, CnnError> {
        self.shape.ok_or_else(|| CnnError::shape("Conv2D", "a built layer (add it to a model)", &[]))
    }

    /// The layer as a conv-core request: channels last, Keras's padding, the strides.
    fn spec(&self) -> ConvSpec {
        ConvSpec::correlation().layout(Layout::ChannelsLast).padding(self.padding.into()).stride(self.strides)
    }
}

impl<T: Float, B: ConvBackend<T>> Layer<T> for Conv2D<T, B> {
    fn kind(&self) -> &'static str {
        "Conv2D"
    }

    fn config(&self) -> Option<serde_json::Value> {
        Some(
            serde_json::json!({"filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides, "padding": self.padding.name(), "activation": self.activation.name(), "use_bias": self.use_bias, "kernel_regularizer_l2": self.l2, "backend": self.backend.name()}),
        )
    }

    fn build(&mut self, input_shape: &[usize], rng: &mut ChaCha8Rng) -> Result<Vec<usize>, CnnError> {
        let &[height, width, channels] = input_shape else {
            return Err(CnnError::shape("input of Conv2D", "[height, width, channels]", input_shape));
        };
        if self.filters == 0 {
            return Err(CnnError::InvalidParameter {
                name: "filters",
                value: "0".into(),
                reason: "must be >= 1",
            });
        }
        if channels == 0 || height == 0 || width == 0 {
            return Err(CnnError::shape(
                "input of Conv2D",
                "at least one row, column and channel",
                input_shape,
            ));
        }
        check_l2(self.l2)?;
        let [kh, kw] = self.kernel_size;
        parameter_values("kernel", &[kh, kw, channels, self.filters])?;
        check_window(kh, self.strides[0])?;
        check_window(kw, self.strides[1])?;
        // conv-core's arithmetic, for one image: every size checked, the padding Keras's.
        let resolved = self
            .spec()
            .resolve(&[1, height, width, channels], &[self.filters, channels, kh, kw])
            .map_err(|error| match error {
                // Said in the layer's terms, as the pooling layers say it.
                conv_core::ConvError::KernelLargerThanInput { axis, padded_input, effective_kernel } => {
                    CnnError::shape(
                        if axis == 0 { "input height of Conv2D" } else { "input width of Conv2D" },
                        format!("at least {effective_kernel} along a window axis"),
                        &[padded_input],
                    )
                }
                other => CnnError::conv("Conv2D")(other),
            })?;
        let [_, _, _, oh, ow] = resolved.geometry.output_shape();
        self.shape = Some(BuiltShape { input: [height, width, channels] });
        let taps = kh.saturating_mul(kw);
        let kernel = glorot_uniform(
            &[kh, kw, channels, self.filters],
            taps.saturating_mul(channels),
            taps.saturating_mul(self.filters),
            rng,
        )?;
        self.params = vec![Param::new("kernel", kernel, self.l2)];
        if self.use_bias {
            self.params.push(Param::new("bias", ArrayD::zeros(IxDyn(&[self.filters])), None));
        }
        self.cache = None;
        Ok(vec![oh, ow, self.filters])
    }

    fn forward(&mut self, input: &ArrayD<T>, training: bool) -> Result<ArrayD<T>, CnnError> {
        let (kernel_oihw, output) = self.compute(input)?;
        if training {
            let images = input.view().into_dimensionality::<Ix4>().map_err(|_| {
                CnnError::shape("input of Conv2D", "[batch, height, width, channels]", input.shape())
            })?;
            self.cache = Some(Cache { input: images.to_owned(), kernel_oihw, output: output.clone() });
        } else {
            self.cache = None;
        }
        Ok(output)
    }

    fn infer(&self, input: &ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        self.compute(input).map(|(_, output)| output)
    }

    fn backward(&mut self, grad_output: ArrayD<T>) -> Result<ArrayD<T>, CnnError> {
        self.backward_inner(grad_output, true)?
            .ok_or_else(|| CnnError::shape("Conv2D", "an input gradient", &[]))
    }

    fn backward_params_only(&mut self, grad_output: ArrayD<T>) -> Result<(), CnnError> {
        self.backward_inner(grad_output, false).map(|_| ())
    }

    fn params(&self) -> Vec<&Param<T>> {
        self.params.iter().collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        self.params.iter_mut().collect()
    }
}

impl<T: Float, B: ConvBackend<T>> Conv2D<T, B> {
    /// The layer's output, and the kernel in conv-core's layout (which backward reuses).
    fn compute(&self, input: &ArrayD<T>) -> Result<(Array4<T>, ArrayD<T>), CnnError> {
        let shape = self.built()?;
        check_batch_shape("Conv2D", input, &shape.input)?;
        let channels = shape.input[2];
        let [kh, kw] = self.kernel_size;
        let filters = self.filters;
        let images = input.view().into_dimensionality::<Ix4>().map_err(|_| {
            CnnError::shape("input of Conv2D", "[batch, height, width, channels]", input.shape())
        })?;
        // Keras's [kh, kw, C, F] is conv-core's [F, C, kh, kw] with the axes reordered.
        let kernel_hwio = contiguous(&self.params[0].value)?;
        let kernel_oihw = Array4::from_shape_vec(
            [filters, channels, kh, kw],
            hwio_to_oihw(kernel_hwio, kh * kw, channels, filters),
        )
        .map_err(|_| {
            CnnError::shape("kernel of Conv2D", "[kh, kw, channels, filters]", &[kh, kw, channels, filters])
        })?;

        let mut output = conv_core::conv2d_with(&images, &kernel_oihw, &self.spec(), &self.backend)
            .map_err(CnnError::conv("Conv2D"))?
            .into_dyn();
        if let Some(bias) = self.params.get(1) {
            let bias = contiguous(&bias.value)?;
            let values =
                output.as_slice_mut().ok_or_else(|| CnnError::shape("output of Conv2D", "row-major", &[]))?;
            for pixel in values.chunks_exact_mut(filters) {
                pixel.iter_mut().zip(bias).for_each(|(v, &b)| *v = *v + b);
            }
        }
        self.activation.apply(&mut output);
        Ok((kernel_oihw, output))
    }

    /// The backward pass: parameter gradients always, the input gradient when asked for.
    fn backward_inner(
        &mut self,
        grad_output: ArrayD<T>,
        input_gradient: bool,
    ) -> Result<Option<ArrayD<T>>, CnnError> {
        let cache = cached("Conv2D", &self.cache)?;
        if grad_output.shape() != cache.output.shape() {
            return Err(CnnError::shape(
                "gradient of Conv2D",
                format!("{:?}", cache.output.shape()),
                grad_output.shape(),
            ));
        }
        let [kh, kw] = self.kernel_size;
        let (channels, filters) = (cache.kernel_oihw.shape()[1], self.filters);

        // The activation's derivative is applied in place: an owned, row-major gradient (what
        // the layer above hands down) is not copied.
        let mut grad = into_row_major(grad_output);
        self.activation.backward_in_place(&cache.output, &mut grad);
        let mut bias_grad = vec![T::zero(); filters];
        for pixel in contiguous(&grad)?.chunks_exact(filters) {
            bias_grad.iter_mut().zip(pixel).for_each(|(b, &g)| *b = *b + g);
        }
        let grad_shape = grad.shape().to_vec();
        let grad = grad
            .into_dimensionality::<Ix4>()
            .map_err(|_| CnnError::shape("gradient of Conv2D", "4 axes", &grad_shape))?;
        let spec = self.spec();
        let kernel_grad = conv_core::conv2d_kernel_gradient(
            &cache.input,
            [filters, channels, kh, kw],
            &grad,
            &spec,
            &self.backend,
        )
        .map_err(CnnError::conv("Conv2D"))?;
        // conv-core's [F, C, kh, kw] back to Keras's [kh, kw, C, F].
        let kernel_grad =
            kernel_grad.permuted_axes([2, 3, 1, 0]).as_standard_layout().into_owned().into_dyn();
        self.params[0].grad = kernel_grad;
        if let Some(bias) = self.params.get_mut(1) {
            bias.grad = tensor(&[filters], bias_grad)?;
        }
        if !input_gradient {
            return Ok(None);
        }
        let input_shape: [usize; 4] = std::array::from_fn(|axis| cache.input.shape()[axis]);
        let grad_input =
            conv_core::conv2d_input_gradient(input_shape, &cache.kernel_oihw, &grad, &spec, &self.backend)
                .map_err(CnnError::conv("Conv2D"))?;
        Ok(Some(grad_input.into_dyn()))
    }
}
