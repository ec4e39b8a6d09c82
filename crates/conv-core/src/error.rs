//! Typed errors for every way a convolution request can be wrong.

use thiserror::Error;

/// Which operand of a convolution an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// The signal, image or batched input tensor.
    Input,
    /// The kernel, filter or weight bank.
    Kernel,
    /// The gradient of a loss with respect to the output (the layer gradients).
    OutputGradient,
}

impl std::fmt::Display for Operand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Operand::Input => "input",
            Operand::Kernel => "kernel",
            Operand::OutputGradient => "output gradient",
        })
    }
}

/// "1 axis", "2 axes": a number of axes in words.
fn axes_phrase(axes: usize) -> String {
    if axes == 1 { "1 axis".to_string() } else { format!("{axes} axes") }
}

/// "1 spatial axis", "2 spatial axes".
fn spatial_axes_phrase(axes: usize) -> String {
    format!("{axes} spatial {}", if axes == 1 { "axis" } else { "axes" })
}

/// What a per-axis parameter may hold for a problem of `spatial_axes` axes.
fn per_axis_choice(spatial_axes: usize) -> String {
    if spatial_axes == 1 {
        "give one value".to_string()
    } else {
        format!("give one value (used on every axis) or {spatial_axes} (one per axis)")
    }
}

/// Everything that can go wrong when a convolution is requested.
///
/// Every variant carries the shapes or values that caused it, so the message alone says what to fix.
#[derive(Clone, Debug, PartialEq, Error)]
#[non_exhaustive]
pub enum ConvError {
    /// An operand has a zero-length axis.
    #[error("the {operand} is empty (shape {shape:?})")]
    Empty {
        /// Which operand.
        operand: Operand,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// An operand does not have the number of axes the call expects.
    #[error("the {operand} has {got} axes but {expected} were expected (shape {shape:?})")]
    Rank {
        /// Which operand.
        operand: Operand,
        /// The number of axes the call needs.
        expected: usize,
        /// The number of axes given.
        got: usize,
        /// The shape given.
        shape: Vec<usize>,
    },
    /// The two operands of a signal call (`convolve`, `correlate`, ...) differ in their number
    /// of axes; scipy requires the same rank too.
    #[error(
        "the input has {} (shape {input:?}) but the kernel has {} (shape {kernel:?}); both must have the same number of axes",
        axes_phrase(input.len()),
        axes_phrase(kernel.len())
    )]
    RankMismatch {
        /// The input's shape, as given.
        input: Vec<usize>,
        /// The kernel's shape, as given.
        kernel: Vec<usize>,
    },
    /// An operand has a number of axes the call does not take (a 3-D array given to a call
    /// for 1-D and 2-D signals, say).
    #[error("the {operand} has {} (shape {shape:?}); {call} takes {supported}", axes_phrase(shape.len()))]
    UnsupportedRank {
        /// Which operand.
        operand: Operand,
        /// Its shape, as given.
        shape: Vec<usize>,
        /// The call, as the user wrote it (`convolve`, ...).
        call: &'static str,
        /// The ranks it takes, in words (`1-D, 2-D or 3-D arrays`).
        supported: &'static str,
    },
    /// The axes given to a call that filters along chosen axes ([`convolve_along`](crate::convolve_along))
    /// are not one to three distinct axes of the arrays.
    #[error("axes {axes:?} of arrays with {}: {reason}", axes_phrase(*rank))]
    Axes {
        /// The axes given.
        axes: Vec<usize>,
        /// The arrays' number of axes.
        rank: usize,
        /// What is wrong with them.
        reason: &'static str,
    },
    /// The kernel of a call that filters along chosen axes is longer than 1 on an axis it does
    /// not filter (scipy would broadcast it against the input; here one kernel serves every
    /// signal of the batch).
    #[error(
        "the kernel has {size} values along axis {axis}, which is not filtered; it must have 1 there (input shape {input:?}, kernel shape {kernel:?})"
    )]
    KernelNotBroadcast {
        /// The axis.
        axis: usize,
        /// The kernel's size along it.
        size: usize,
        /// The input's shape.
        input: Vec<usize>,
        /// The kernel's shape.
        kernel: Vec<usize>,
    },
    /// An operand has the right number of axes but not the shape an earlier plan was made for.
    #[error("the {operand} has shape {got:?} but {context} was planned for shape {expected:?}")]
    ShapeMismatch {
        /// Which operand.
        operand: Operand,
        /// The shape the plan needs.
        expected: Vec<usize>,
        /// The shape given.
        got: Vec<usize>,
        /// What was planned (`this PreparedConv2d`).
        context: &'static str,
    },
    /// A per-axis parameter list has the wrong length.
    #[error("{parameter} has {got} values but the problem has {}; {}", spatial_axes_phrase(*spatial_axes), per_axis_choice(*spatial_axes))]
    ParameterLength {
        /// `stride`, `dilation` or `padding`.
        parameter: &'static str,
        /// Number of values given.
        got: usize,
        /// Number of spatial axes of the problem.
        spatial_axes: usize,
    },
    /// A stride of zero along some axis.
    #[error("stride is 0 along spatial axis {axis}; strides must be at least 1")]
    ZeroStride {
        /// The spatial axis (0 = first spatial axis).
        axis: usize,
    },
    /// A dilation of zero along some axis.
    #[error("dilation is 0 along spatial axis {axis}; dilations must be at least 1")]
    ZeroDilation {
        /// The spatial axis.
        axis: usize,
    },
    /// `groups` is zero or does not divide the channel counts.
    #[error(
        "groups = {groups} must be at least 1 and divide both the input channels ({in_channels}) and the output channels ({out_channels})"
    )]
    Groups {
        /// Requested number of groups.
        groups: usize,
        /// Channels of the input.
        in_channels: usize,
        /// Output channels (kernels) of the weight bank.
        out_channels: usize,
    },
    /// The weight bank's input-channel axis does not match the input's channels per group.
    #[error(
        "the kernel expects {kernel_channels} input channels per group, but the input has {in_channels} channels in {groups} group(s)"
    )]
    ChannelMismatch {
        /// Channels of the input.
        in_channels: usize,
        /// Channel axis of the weight bank (input channels per group).
        kernel_channels: usize,
        /// Number of groups.
        groups: usize,
    },
    /// In a layer-style call, the (dilated) kernel does not fit in the padded input.
    #[error(
        "along spatial axis {axis} the dilated kernel spans {effective_kernel} samples but the padded input has only {padded_input}"
    )]
    KernelLargerThanInput {
        /// The spatial axis.
        axis: usize,
        /// Input length after padding.
        padded_input: usize,
        /// `(kernel - 1) * dilation + 1`.
        effective_kernel: usize,
    },
    /// scipy's rule for `Valid` mode: one operand must be at least as large as the other on every axis.
    #[error(
        "mode Valid needs one operand at least as large as the other on every axis (input {input:?}, kernel {kernel:?})"
    )]
    ValidModeShapes {
        /// Input shape.
        input: Vec<usize>,
        /// Kernel shape.
        kernel: Vec<usize>,
    },
    /// A size computation overflowed `usize`.
    #[error("the size of the {what} overflows usize")]
    Overflow {
        /// The buffer whose size overflowed.
        what: &'static str,
    },
    /// A buffer would be larger than the configured cap.
    #[error("the {what} would take {bytes} bytes, over the cap of {cap} bytes")]
    TooLarge {
        /// The buffer that is too large.
        what: &'static str,
        /// Bytes it would need.
        bytes: u128,
        /// The cap in force.
        cap: u128,
    },
    /// The allocator would not provide a buffer (possible when a caller raised the cap past the
    /// machine's memory): returned instead of aborting the process.
    #[error("the {what} would take {bytes} bytes, more than the allocator provides")]
    OutOfMemory {
        /// The buffer.
        what: &'static str,
        /// Bytes it would need.
        bytes: u128,
    },
    /// A value is NaN or infinite and the spec asked for finite inputs.
    #[error("the {operand} holds a non-finite value ({value}) at flat index {index}")]
    NonFinite {
        /// Which operand.
        operand: Operand,
        /// Index in row-major order.
        index: usize,
        /// The value, widened to f64.
        value: f64,
    },
    /// A backend does not handle this problem.
    #[error("backend `{backend}` does not support this problem: {reason}")]
    Unsupported {
        /// The backend's name.
        backend: String,
        /// Why it refuses.
        reason: String,
    },
    /// A buffer handed to a backend has the wrong length (a bug in the caller).
    #[error("the {what} buffer has {got} elements but {expected} were expected")]
    BufferLength {
        /// Which buffer.
        what: &'static str,
        /// Length required by the geometry.
        expected: usize,
        /// Length given.
        got: usize,
    },
    /// No backend of that name is registered.
    #[error("no backend named `{name}` is registered (known: {known:?})")]
    UnknownBackend {
        /// The name asked for.
        name: String,
        /// The names that are registered.
        known: Vec<String>,
    },
    /// A backend of that name is already registered.
    #[error("a backend named `{name}` is already registered")]
    DuplicateBackend {
        /// The name.
        name: String,
    },
    /// A backend profile file could not be read.
    #[error("profile line {line}: {reason}")]
    Profile {
        /// 1-based line number (0 for the file as a whole).
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A numeric parameter (a regularisation weight, ...) is out of its range.
    #[error("{name} = {value:?} is invalid: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// The value given.
        value: f64,
        /// Its valid range.
        reason: &'static str,
    },
    /// A linear-algebra routine (LAPACK) failed.
    #[error("linear algebra: {0}")]
    LinearAlgebra(String),
}
