//! Keras's `Conv2D`, forward and backward through any conv-core backend.

use std::borrow::Cow;

use conv_core::{Auto, AxisGeometry, ConvBackend, ConvProblem, Geometry};
use ndarray::{ArrayD, IxDyn};
use rand_chacha::ChaCha8Rng;

use super::layout::{crop_nhwc, hwio_to_oihw, pad_nhwc};
use super::{
    Activation, Layer, Padding, Param, cached, check_batch_shape, check_l2, contiguous, glorot_uniform,
    into_row_major, parameter_values, tensor, window_axis,
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
/// # Channels last throughout
/// Images stay `[batch, height, width, channels]` from end to end: the backend is called
/// through [`ConvBackend::execute_channels_last`], which [`Im2col`](conv_core::Im2col) (and
/// [`Auto`](conv_core::Auto) when it picks im2col) solves without changing the layout, and
/// which every other backend answers by transposing to channels first and back.
///
/// # Gradients
/// With `y = x ⋆ w` (valid correlation of the padded input, stride `s`):
/// - the input gradient is the valid correlation of the output gradient, dilated by `s` and
///   padded by `k - 1`, with the kernel rotated by 180° and its channel axes swapped: a
///   convolution, solved by the layer's backend like the forward pass;
/// - the kernel gradient is `P^T G`, the patch matrix of the input times the output gradient
///   as a `positions x filters` matrix ([`conv_core::channels_last::kernel_gradient`]): one
///   GEMM whatever the backend, which gives it directly in Keras's `[kh, kw, C, F]` layout.
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
    output: [usize; 2],
    /// Padding before and after, per spatial axis.
    pads: [(usize, usize); 2],
}

impl BuiltShape {
    fn padded(&self) -> [usize; 2] {
        [self.input[0] + self.pads[0].0 + self.pads[0].1, self.input[1] + self.pads[1].0 + self.pads[1].1]
    }
}

/// What the backward pass needs from the forward pass.
struct Cache<T> {
    batch: usize,
    /// The padded input, `[batch, padded_h, padded_w, channels]`.
    padded: Vec<T>,
    /// The kernel in conv-core's layout, `[filters, channels, kh, kw]`.
    kernel_oihw: Vec<T>,
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

    /// The forward convolution of a batch: the padded input correlated with the kernel bank.
    fn geometry(&self, batch: usize) -> Result<Geometry, CnnError> {
        let shape = self.built()?;
        let [hp, wp] = shape.padded();
        let ([kh, kw], [sh, sw]) = (self.kernel_size, self.strides);
        Geometry::new(
            batch,
            shape.input[2],
            self.filters,
            1,
            [axis(0, hp, kh, sh, 1)?, axis(1, wp, kw, sw, 1)?],
        )
        .map_err(CnnError::conv("Conv2D"))
    }

    /// Solves one convolution with the layer's backend, input and output channels last
    /// (`[N, H, W, C]`, `[N, OH, OW, O]`), splitting the batch over conv-core's worker threads
    /// when the problem is large enough to pay for it: batch items are independent.
    fn solve(&self, geometry: Geometry, input: &[T], kernel: &[T]) -> Result<Vec<T>, CnnError> {
        let len = geometry.output_len().map_err(CnnError::conv("Conv2D"))?;
        let mut output = vec![T::zero(); len];
        let threads = conv_core::parallel::max_threads().min(geometry.batch);
        if threads <= 1
            || conv_core::parallel::inside_worker()
            || geometry.multiply_adds() < PARALLEL_MIN_MULTIPLY_ADDS
        {
            let problem = ConvProblem::new(geometry, input, kernel).map_err(CnnError::conv("Conv2D"))?;
            self.backend.execute_channels_last(&problem, &mut output).map_err(CnnError::conv("Conv2D"))?;
            return Ok(output);
        }
        let (input_item, output_item) = (input.len() / geometry.batch, len / geometry.batch);
        // Each piece runs as a conv-core worker, so the backend does not split it again.
        let mut pieces = vec![(); threads];
        conv_core::parallel::split_items(&mut output, output_item, &mut pieces, |piece, first_item, ()| {
            let mut part = geometry;
            part.batch = piece.len() / output_item.max(1);
            let input = &input[first_item * input_item..][..part.batch * input_item];
            let problem = ConvProblem::new(part, input, kernel).map_err(CnnError::conv("Conv2D"))?;
            self.backend.execute_channels_last(&problem, piece).map_err(CnnError::conv("Conv2D"))
        })?;
        Ok(output)
    }
}

/// Below this many multiply-adds a convolution runs on the calling thread: splitting it would
/// cost more in synchronisation than it saves.
const PARALLEL_MIN_MULTIPLY_ADDS: u128 = 1 << 20;

fn axis(
    index: usize,
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
) -> Result<AxisGeometry, CnnError> {
    AxisGeometry::new(index, input, kernel, stride, dilation).map_err(CnnError::conv("Conv2D"))
}

impl<T: Float, B: ConvBackend<T>> Layer<T> for Conv2D<T, B> {
    fn kind(&self) -> &'static str {
        "Conv2D"
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
        if channels == 0 {
            return Err(CnnError::shape("input of Conv2D", "at least one channel", input_shape));
        }
        check_l2(self.l2)?;
        let [kh, kw] = self.kernel_size;
        parameter_values("kernel", &[kh, kw, channels, self.filters])?;
        let (oh, pt, pb) = window_axis("input height of Conv2D", height, kh, self.strides[0], self.padding)?;
        let (ow, pl, pr) = window_axis("input width of Conv2D", width, kw, self.strides[1], self.padding)?;
        self.shape = Some(BuiltShape {
            input: [height, width, channels],
            output: [oh, ow],
            pads: [(pt, pb), (pl, pr)],
        });
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
        let shape = self.built()?;
        check_batch_shape("Conv2D", input, &shape.input)?;
        let [height, width, channels] = shape.input;
        let [hp, wp] = shape.padded();
        let [oh, ow] = shape.output;
        let [kh, kw] = self.kernel_size;
        let (batch, filters) = (input.shape()[0], self.filters);

        let input = input.as_standard_layout();
        let values = contiguous(&input)?;
        let padded = if [hp, wp] == [height, width] {
            Cow::Borrowed(values)
        } else {
            let top_left = (shape.pads[0].0, shape.pads[1].0);
            Cow::Owned(pad_nhwc(values, [batch, height, width, channels], top_left, [hp, wp]))
        };
        // Keras's [kh, kw, C, F] is conv-core's [F, C, kh, kw] with the axes reordered.
        let kernel_hwio = contiguous(&self.params[0].value)?;
        let kernel_oihw = hwio_to_oihw(kernel_hwio, kh * kw, channels, filters);

        let mut values = self.solve(self.geometry(batch)?, &padded, &kernel_oihw)?;
        if let Some(bias) = self.params.get(1) {
            let bias = contiguous(&bias.value)?;
            for pixel in values.chunks_exact_mut(filters) {
                pixel.iter_mut().zip(bias).for_each(|(v, &b)| *v = *v + b);
            }
        }
        let mut output = tensor(&[batch, oh, ow, filters], values)?;
        self.activation.apply(&mut output);
        self.cache = training.then(|| Cache {
            batch,
            padded: padded.into_owned(),
            kernel_oihw,
            output: output.clone(),
        });
        Ok(output)
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
    /// The backward pass: parameter gradients always, the input gradient when asked for.
    fn backward_inner(
        &mut self,
        grad_output: ArrayD<T>,
        input_gradient: bool,
    ) -> Result<Option<ArrayD<T>>, CnnError> {
        let shape = self.built()?;
        let cache = cached("Conv2D", &self.cache)?;
        if grad_output.shape() != cache.output.shape() {
            return Err(CnnError::shape(
                "gradient of Conv2D",
                format!("{:?}", cache.output.shape()),
                grad_output.shape(),
            ));
        }
        let [height, width, channels] = shape.input;
        let [hp, wp] = shape.padded();
        let [oh, ow] = shape.output;
        let [kh, kw] = self.kernel_size;
        let [sh, sw] = self.strides;
        let (batch, filters) = (cache.batch, self.filters);

        // The activation's derivative is applied in place: an owned, row-major gradient (what
        // the layer above hands down) is not copied.
        let mut grad = into_row_major(grad_output);
        self.activation.backward_in_place(&cache.output, &mut grad);
        let grad = contiguous(&grad)?;
        let mut bias_grad = vec![T::zero(); filters];
        for pixel in grad.chunks_exact(filters) {
            bias_grad.iter_mut().zip(pixel).for_each(|(b, &g)| *b = *b + g);
        }
        let kernel_grad =
            conv_core::channels_last::kernel_gradient(&self.geometry(batch)?, &cache.padded, grad)
                .map_err(CnnError::conv("Conv2D"))?;
        self.params[0].grad = tensor(&[kh, kw, channels, filters], kernel_grad)?;
        if let Some(bias) = self.params.get_mut(1) {
            bias.grad = tensor(&[filters], bias_grad)?;
        }
        if !input_gradient {
            return Ok(None);
        }

        // Input gradient: the output gradient spread out by the stride, padded by k - 1, and
        // correlated with the rotated kernel whose channel axes are swapped.
        let (dh, dw) = (hp + kh - 1, wp + kw - 1);
        let mut spread = vec![T::zero(); batch * dh * dw * filters];
        for (image, source) in
            spread.chunks_exact_mut(dh * dw * filters).zip(grad.chunks_exact(oh * ow * filters))
        {
            for (y, row) in source.chunks_exact(ow * filters).enumerate() {
                let target = &mut image[((kh - 1 + y * sh) * dw + kw - 1) * filters..];
                if sw == 1 {
                    target[..ow * filters].copy_from_slice(row);
                } else {
                    for (x, pixel) in row.chunks_exact(filters).enumerate() {
                        target[x * sw * filters..][..filters].copy_from_slice(pixel);
                    }
                }
            }
        }
        let mut rotated = vec![T::zero(); channels * filters * kh * kw];
        for c in 0..channels {
            for o in 0..filters {
                let source = &cache.kernel_oihw[(o * channels + c) * kh * kw..][..kh * kw];
                let target = &mut rotated[(c * filters + o) * kh * kw..][..kh * kw];
                target.iter_mut().zip(source.iter().rev()).for_each(|(t, &s)| *t = s);
            }
        }
        let input_geometry =
            Geometry::new(batch, filters, channels, 1, [axis(0, dh, kh, 1, 1)?, axis(1, dw, kw, 1, 1)?])
                .map_err(CnnError::conv("Conv2D"))?;
        let grad_padded = self.solve(input_geometry, &spread, &rotated)?;
        let grad_input = if [hp, wp] == [height, width] {
            grad_padded
        } else {
            let top_left = (shape.pads[0].0, shape.pads[1].0);
            crop_nhwc(&grad_padded, [batch, hp, wp, channels], top_left, [height, width])
        };
        tensor(&[batch, height, width, channels], grad_input).map(Some)
    }
}
