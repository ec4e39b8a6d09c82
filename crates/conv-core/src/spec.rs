//! The one description of a convolution request: [`ConvSpec`], and how it resolves against
//! concrete shapes into the canonical [`Geometry`].

use crate::error::ConvError;
use crate::geometry::{AxisGeometry, Geometry, SPATIAL_AXES, effective_kernel};

/// Output size rule, with exactly scipy.signal's semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Every point where the operands overlap at all: `n + k - 1` samples.
    #[default]
    Full,
    /// The size of the input, centred on the full output. For a kernel of (dilated) length `k`,
    /// the first output is full-output index `(k - 1) / 2`, as in `scipy.signal.convolve`
    /// (for even `k` the extra sample of padding goes *before* the input).
    Same,
    /// Only points where the kernel lies inside the input: `n - k + 1` samples. In the scipy-style
    /// calls a kernel longer than the input on every axis is accepted (the result is the
    /// `k - n + 1` points where the input lies inside the kernel), as scipy does.
    Valid,
}

/// Whether the kernel is flipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Kind {
    /// `y[i] = sum_j x[i - j] k[j]`: the kernel is flipped (mathematics, scipy's `convolve`).
    Convolution,
    /// `y[i] = sum_j x[i + j] k[j]`: no flip (scipy's `correlate`; what deep-learning layers call
    /// convolution).
    #[default]
    Correlation,
}

/// What the input is taken to be outside its bounds, in the padded region.
///
/// For an input `a b c d`, two samples of padding on the left read:
/// `Zeros` → `0 0`, `Constant(v)` → `v v`, `Symmetric` → `b a`, `Reflect` → `c b`,
/// `Replicate` → `a a`, `Circular` → `c d`. Padding wider than the input continues the same
/// rule periodically (as `numpy.pad` does).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Boundary {
    /// Zeros (scipy's `boundary='fill'` with `fillvalue=0`; `numpy.pad` mode `constant`).
    #[default]
    Zeros,
    /// A constant (scipy's `boundary='fill'` with a `fillvalue`).
    Constant(f64),
    /// Mirror with the edge sample repeated (scipy's `symm`, `numpy.pad` mode `symmetric`).
    Symmetric,
    /// Mirror without repeating the edge (`numpy.pad` mode `reflect`).
    Reflect,
    /// The edge value repeated (`numpy.pad` mode `edge`).
    Replicate,
    /// Periodic continuation (scipy's `wrap`, `numpy.pad` mode `wrap`).
    Circular,
}

impl Boundary {
    /// The value the padding takes where the rule reads no input sample: the constant of
    /// [`Boundary::Constant`] in `T` (rounded as `T::from_f64_lossy` does), zero for every other
    /// rule (whose padded samples copy input values; zero is what an empty input pads with).
    ///
    /// ```
    /// use conv_core::Boundary;
    /// assert_eq!(Boundary::Constant(-2.5).fill::<f32>(), -2.5f32);
    /// assert_eq!(Boundary::Reflect.fill::<f64>(), 0.0);
    /// ```
    pub fn fill<T: crate::ConvNum>(self) -> T {
        match self {
            Boundary::Constant(value) => T::from_f64_lossy(value),
            _ => T::zero(),
        }
    }
}

/// Where the channel axis of the input and output sits in the layer calls ([`conv1d`](crate::conv1d),
/// [`conv2d`](crate::conv2d), [`PreparedConv2d`](crate::PreparedConv2d), [`ConvSpec::resolve`]).
///
/// The kernel bank keeps PyTorch's layout `[O, C / groups, spatial...]` either way. The
/// scipy-style calls (`convolve`, `filter_with`, ...) have no channel axis and ignore it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Layout {
    /// `[N, C, H, W]` in, `[N, O, OH, OW]` out: PyTorch's default ("NCHW").
    #[default]
    ChannelsFirst,
    /// `[N, H, W, C]` in, `[N, OH, OW, O]` out: Keras's and TensorFlow's default ("NHWC",
    /// `data_format="channels_last"`), PyTorch's `channels_last` memory format.
    ChannelsLast,
}

impl Layout {
    /// `shape` (`[N, ...]` in this layout) with the channel axis moved to position 1: the
    /// channels-first shape the canonical problem describes.
    ///
    /// # Examples
    /// ```
    /// use conv_core::Layout;
    /// assert_eq!(Layout::ChannelsLast.to_channels_first(&[8, 32, 30, 3]), vec![8, 3, 32, 30]);
    /// assert_eq!(Layout::ChannelsFirst.to_channels_first(&[8, 3, 32, 30]), vec![8, 3, 32, 30]);
    /// ```
    pub fn to_channels_first(self, shape: &[usize]) -> Vec<usize> {
        let mut canonical = shape.to_vec();
        if self == Layout::ChannelsLast && canonical.len() > 2 {
            canonical[1..].rotate_right(1);
        }
        canonical
    }

    /// `shape` given channels first (`[N, C, ...]`) rearranged into this layout.
    ///
    /// # Examples
    /// ```
    /// use conv_core::Layout;
    /// assert_eq!(Layout::ChannelsLast.from_channels_first(&[8, 16, 15, 15]), vec![8, 15, 15, 16]);
    /// ```
    pub fn from_channels_first(self, shape: &[usize]) -> Vec<usize> {
        let mut arranged = shape.to_vec();
        if self == Layout::ChannelsLast && arranged.len() > 2 {
            arranged[1..].rotate_left(1);
        }
        arranged
    }
}

/// How much padding each spatial axis gets.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Padding {
    /// Padding implied by a scipy output mode. With a stride `s`, the output is the stride-1
    /// output of that mode sampled every `s` samples, starting at its first sample.
    Mode(Mode),
    /// TensorFlow/Keras `padding="same"`: output length `ceil(n / stride)`, the total padding
    /// split evenly with the odd sample *after* the input (ONNX's `SAME_UPPER`).
    SameUpper,
    /// Explicit `(before, after)` per spatial axis; one pair is used for every axis.
    Explicit(Vec<(usize, usize)>),
}

impl Default for Padding {
    fn default() -> Self {
        Padding::Mode(Mode::Valid)
    }
}

/// A per-axis parameter: one value for every axis, or one per spatial axis.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PerAxis(pub Vec<usize>);

impl From<usize> for PerAxis {
    fn from(value: usize) -> Self {
        PerAxis(vec![value])
    }
}

impl<const N: usize> From<[usize; N]> for PerAxis {
    fn from(values: [usize; N]) -> Self {
        PerAxis(values.to_vec())
    }
}

impl From<&[usize]> for PerAxis {
    fn from(values: &[usize]) -> Self {
        PerAxis(values.to_vec())
    }
}

impl PerAxis {
    fn get(&self, parameter: &'static str, axis: usize, rank: usize) -> Result<usize, ConvError> {
        match self.0.len() {
            1 => Ok(self.0[0]),
            n if n == rank => Ok(self.0[axis]),
            got => Err(ConvError::ParameterLength { parameter, got, spatial_axes: rank }),
        }
    }
}

/// Default cap on any one buffer a convolution allocates: 4 GiB.
pub const DEFAULT_MAX_BUFFER_BYTES: usize = 4 << 30;

/// The full description of a convolution, independent of the data.
///
/// Build it with the methods below; the defaults are a stride-1, undilated, ungrouped
/// cross-correlation with `Valid` padding (Keras's defaults).
///
/// # Examples
/// ```
/// use conv_core::{Boundary, ConvSpec, Kind, Mode, Padding};
/// let spec = ConvSpec::correlation()
///     .padding(Padding::Mode(Mode::Same))
///     .boundary(Boundary::Reflect)
///     .stride([2, 1])
///     .dilation(2)
///     .groups(4);
/// assert_eq!(spec.kind, Kind::Correlation);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ConvSpec {
    /// Convolution (flipped kernel) or correlation.
    pub kind: Kind,
    /// How much each spatial axis is padded.
    pub padding: Padding,
    /// What fills the padding. Ignored by `Padding::Mode(Mode::Valid)`, which never pads from
    /// the input.
    pub boundary: Boundary,
    /// Stride per spatial axis.
    pub stride: PerAxis,
    /// Dilation per spatial axis.
    pub dilation: PerAxis,
    /// Channel groups (1 = dense, `in_channels` = depthwise).
    pub groups: usize,
    /// Refuse NaN and infinities in the operands with [`ConvError::NonFinite`] instead of
    /// propagating them.
    pub require_finite: bool,
    /// Cap on any single buffer (padded input, output, backend workspace), in bytes.
    pub max_buffer_bytes: usize,
    /// Where the layer calls' input and output keep their channel axis.
    pub layout: Layout,
}

impl Default for ConvSpec {
    fn default() -> Self {
        ConvSpec {
            kind: Kind::Correlation,
            padding: Padding::default(),
            boundary: Boundary::Zeros,
            stride: PerAxis::from(1),
            dilation: PerAxis::from(1),
            groups: 1,
            require_finite: false,
            max_buffer_bytes: DEFAULT_MAX_BUFFER_BYTES,
            layout: Layout::ChannelsFirst,
        }
    }
}

impl ConvSpec {
    /// A cross-correlation with default settings.
    pub fn correlation() -> Self {
        ConvSpec::default()
    }

    /// A convolution (kernel flipped) with default settings.
    pub fn convolution() -> Self {
        ConvSpec { kind: Kind::Convolution, ..ConvSpec::default() }
    }

    /// Sets the padding.
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// Sets padding from a scipy output mode (shorthand for `padding(Padding::Mode(mode))`).
    pub fn mode(self, mode: Mode) -> Self {
        self.padding(Padding::Mode(mode))
    }

    /// Sets the boundary rule.
    pub fn boundary(mut self, boundary: Boundary) -> Self {
        self.boundary = boundary;
        self
    }

    /// Sets the stride (one value for all axes, or one per axis).
    pub fn stride(mut self, stride: impl Into<PerAxis>) -> Self {
        self.stride = stride.into();
        self
    }

    /// Sets the dilation (one value for all axes, or one per axis).
    pub fn dilation(mut self, dilation: impl Into<PerAxis>) -> Self {
        self.dilation = dilation.into();
        self
    }

    /// Sets the number of channel groups.
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// Refuses NaN and infinite operands instead of propagating them.
    pub fn require_finite(mut self, yes: bool) -> Self {
        self.require_finite = yes;
        self
    }

    /// Sets the cap on any single buffer, in bytes.
    pub fn max_buffer_bytes(mut self, bytes: usize) -> Self {
        self.max_buffer_bytes = bytes;
        self
    }

    /// Sets where the layer calls' input and output keep their channel axis
    /// (`Layout::ChannelsLast` for Keras's `[N, H, W, C]`).
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }
}

/// The checks of a request's operand shapes that need no spec but `groups`: ranks (the input
/// channels first as `input`, as the caller gave it in `caller_input`), empty operands, groups
/// dividing the channels, the kernel's channels matching.
fn check_operands(
    caller_input: &[usize],
    input: &[usize],
    kernel: &[usize],
    groups: usize,
) -> Result<(), ConvError> {
    use crate::error::Operand;
    if !(3..=2 + SPATIAL_AXES).contains(&input.len()) {
        return Err(ConvError::Rank {
            operand: Operand::Input,
            expected: 2 + SPATIAL_AXES,
            got: input.len(),
            shape: caller_input.to_vec(),
        });
    }
    if kernel.len() != input.len() {
        return Err(ConvError::Rank {
            operand: Operand::Kernel,
            expected: input.len(),
            got: kernel.len(),
            shape: kernel.to_vec(),
        });
    }
    for (operand, shape) in [(Operand::Input, caller_input), (Operand::Kernel, kernel)] {
        if shape.contains(&0) {
            return Err(ConvError::Empty { operand, shape: shape.to_vec() });
        }
    }
    let (in_channels, out_channels, kernel_channels) = (input[1], kernel[0], kernel[1]);
    if groups == 0 || !in_channels.is_multiple_of(groups) || !out_channels.is_multiple_of(groups) {
        return Err(ConvError::Groups { groups, in_channels, out_channels });
    }
    // Checked: both come from the caller, and their product may not fit.
    if kernel_channels.checked_mul(groups) != Some(in_channels) {
        return Err(ConvError::ChannelMismatch { in_channels, kernel_channels, groups });
    }
    Ok(())
}

/// How strictly operand sizes are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OperandRule {
    /// Layer-style: the dilated kernel must fit in the padded input.
    Layer,
    /// scipy-style: in `Valid` mode a kernel longer than the input on every axis is accepted.
    Scipy,
}

/// A spec resolved against concrete shapes: the canonical geometry plus what the front end must
/// do to the data to reach it.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// The canonical problem.
    pub geometry: Geometry,
    /// `(before, after)` padding of each canonical spatial axis.
    pub pads: [(usize, usize); SPATIAL_AXES],
    /// What fills the padding.
    pub boundary: Boundary,
    /// Number of spatial axes of the caller's arrays (1 to 3).
    pub spatial_rank: usize,
    /// Where the caller's input and output keep their channel axis (always channels first for
    /// the scipy-style calls, which have none).
    pub layout: Layout,
}

impl Resolved {
    /// Whether no axis is padded: the backend can read the caller's input as it is.
    pub(crate) fn pads_nothing(&self) -> bool {
        self.pads.iter().all(|&pad| pad == (0, 0))
    }

    /// The output lengths of the caller's spatial axes (the last `spatial_rank` canonical axes).
    pub(crate) fn caller_output_dims(&self) -> Vec<usize> {
        let axes = self.geometry.axes();
        axes[SPATIAL_AXES - self.spatial_rank..].iter().map(|axis| axis.output).collect()
    }

    /// The caller's spatial lengths (the trivial axes 1): the padded ones less the padding.
    pub(crate) fn unpadded_dims(&self) -> [usize; SPATIAL_AXES] {
        let axes = self.geometry.axes();
        std::array::from_fn(|a| axes[a].input - self.pads[a].0 - self.pads[a].1)
    }
}

impl ConvSpec {
    /// Resolves the spec against an input of shape `[N, C, spatial...]` (`[N, spatial..., C]`
    /// with [`Layout::ChannelsLast`]) and a kernel bank of shape `[O, C / groups, spatial...]`,
    /// giving the canonical problem.
    ///
    /// # Errors
    /// Any shape error of [`ConvError`]: empty operands, rank mismatch, zero stride or dilation,
    /// bad groups, channel mismatch, a kernel larger than the padded input, overflow, or a
    /// buffer over [`ConvSpec::max_buffer_bytes`].
    ///
    /// # Examples
    /// ```
    /// use conv_core::{ConvSpec, Mode};
    /// // scipy's 3x3 * 2x2 example in Full mode: 4x4 output.
    /// let resolved = ConvSpec::convolution().mode(Mode::Full).resolve(&[1, 1, 3, 3], &[1, 1, 2, 2])?;
    /// // The canonical problem is 3-D: a 2-D request has a trivial depth axis first.
    /// assert_eq!(resolved.geometry.output_shape(), [1, 1, 1, 4, 4]);
    /// assert_eq!(resolved.pads, [(0, 0), (1, 1), (1, 1)]);
    /// # Ok::<(), conv_core::ConvError>(())
    /// ```
    pub fn resolve(&self, input: &[usize], kernel: &[usize]) -> Result<Resolved, ConvError> {
        self.resolve_with(input, kernel, OperandRule::Layer, 8)
    }

    pub(crate) fn resolve_with(
        &self,
        input: &[usize],
        kernel: &[usize],
        rule: OperandRule,
        element_bytes: usize,
    ) -> Result<Resolved, ConvError> {
        let layout = if rule == OperandRule::Layer { self.layout } else { Layout::ChannelsFirst };
        // The caller's shape, for the errors, and the channels-first one every size comes from
        // (on the stack: this runs on every call).
        let caller_input = input;
        let mut canonical = [0; 2 + SPATIAL_AXES];
        let input = match canonical.get_mut(..input.len()) {
            Some(arranged) if layout == Layout::ChannelsLast && input.len() > 2 => {
                arranged.copy_from_slice(input);
                arranged[1..].rotate_right(1);
                &*arranged
            }
            _ => input,
        };
        check_operands(caller_input, input, kernel, self.groups)?;
        let (batch, in_channels, out_channels, groups) = (input[0], input[1], kernel[0], self.groups);

        let rank = input.len() - 2;
        let spatial_in = &input[2..];
        let spatial_kernel = &kernel[2..];
        let (strides, dilations, effective) = self.axis_parameters(spatial_kernel)?;
        let valid = self.padding == Padding::Mode(Mode::Valid);
        if valid && rule == OperandRule::Scipy {
            let input_covers = (0..rank).all(|a| spatial_in[a] >= effective[a]);
            let kernel_covers = (0..rank).all(|a| effective[a] >= spatial_in[a]);
            if !input_covers && !kernel_covers {
                return Err(ConvError::ValidModeShapes {
                    input: spatial_in.to_vec(),
                    kernel: spatial_kernel.to_vec(),
                });
            }
        }

        // The caller's axes are the last `rank` canonical axes; the rest stay trivial.
        let offset = SPATIAL_AXES - rank;
        let mut axes = [AxisGeometry::TRIVIAL; SPATIAL_AXES];
        let mut pads = [(0, 0); SPATIAL_AXES];
        for axis in 0..rank {
            let n = spatial_in[axis];
            let (before, after) = self.axis_padding(axis, rank, n, effective[axis], strides[axis])?;
            let (before, after) = if valid && rule == OperandRule::Scipy && effective[axis] > n {
                (effective[axis] - n, effective[axis] - n)
            } else {
                (before, after)
            };
            let padded = n
                .checked_add(before)
                .and_then(|p| p.checked_add(after))
                .ok_or(ConvError::Overflow { what: "padded input" })?;
            axes[offset + axis] =
                AxisGeometry::new(axis, padded, spatial_kernel[axis], strides[axis], dilations[axis])?;
            pads[offset + axis] = (before, after);
        }
        let geometry = Geometry::new(batch, in_channels, out_channels, groups, axes)?;
        let cap = self.max_buffer_bytes;
        crate::geometry::check_bytes(geometry.input_len(), element_bytes, cap, "padded input")?;
        crate::geometry::check_bytes(geometry.output_len(), element_bytes, cap, "output")?;
        crate::geometry::check_bytes(geometry.kernel_len(), element_bytes, cap, "kernel")?;
        let boundary = if valid { Boundary::Zeros } else { self.boundary };
        Ok(Resolved { geometry, pads, boundary, spatial_rank: rank, layout })
    }

    /// Stride, dilation and dilated kernel span of each of the caller's spatial axes (the kernel's
    /// spatial sizes are `spatial_kernel`), the rest 1.
    #[allow(clippy::type_complexity)]
    fn axis_parameters(
        &self,
        spatial_kernel: &[usize],
    ) -> Result<([usize; SPATIAL_AXES], [usize; SPATIAL_AXES], [usize; SPATIAL_AXES]), ConvError> {
        let rank = spatial_kernel.len();
        let (mut strides, mut dilations, mut effective) =
            ([1; SPATIAL_AXES], [1; SPATIAL_AXES], [1; SPATIAL_AXES]);
        for axis in 0..rank {
            strides[axis] = self.stride.get("stride", axis, rank)?;
            dilations[axis] = self.dilation.get("dilation", axis, rank)?;
            if strides[axis] == 0 {
                return Err(ConvError::ZeroStride { axis });
            }
            if dilations[axis] == 0 {
                return Err(ConvError::ZeroDilation { axis });
            }
            effective[axis] = effective_kernel(spatial_kernel[axis], dilations[axis])?;
        }
        Ok((strides, dilations, effective))
    }

    /// `(before, after)` padding of one spatial axis of input length `n`.
    fn axis_padding(
        &self,
        axis: usize,
        rank: usize,
        n: usize,
        effective_kernel: usize,
        stride: usize,
    ) -> Result<(usize, usize), ConvError> {
        let reach = effective_kernel - 1;
        Ok(match &self.padding {
            Padding::Mode(Mode::Full) => (reach, reach),
            Padding::Mode(Mode::Same) => (reach - reach / 2, reach / 2),
            Padding::Mode(Mode::Valid) => (0, 0),
            Padding::SameUpper => {
                let output = n.div_ceil(stride);
                let needed = (output - 1)
                    .checked_mul(stride)
                    .and_then(|v| v.checked_add(effective_kernel))
                    .ok_or(ConvError::Overflow { what: "padding" })?;
                let total = needed.saturating_sub(n);
                (total / 2, total - total / 2)
            }
            Padding::Explicit(pairs) => match pairs.len() {
                1 => pairs[0],
                len if len == rank => pairs[axis],
                got => {
                    return Err(ConvError::ParameterLength { parameter: "padding", got, spatial_axes: rank });
                }
            },
        })
    }
}
