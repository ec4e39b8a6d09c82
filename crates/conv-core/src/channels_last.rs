//! Channels-last storage (`[N, H, W, C]`, "NHWC"): the layout Keras and TensorFlow keep images
//! in, and PyTorch's `channels_last` memory format.
//!
//! A [`ConvProblem`](crate::ConvProblem) describes its input as `[N, C, H, W]`. Through
//! [`ConvBackend::execute_channels_last`](crate::ConvBackend::execute_channels_last) the same problem is read with the input stored
//! `[N, H, W, C]` and answered with the output stored `[N, OH, OW, O]`; the kernel bank keeps
//! its layout `[O, C / groups, KH, KW]`. Every backend can be called this way: the trait's
//! default converts to channels first, solves and converts back
//! ([`solve_through_channels_first`]); [`Im2col`](crate::Im2col) solves it natively, where the
//! layout pays twice: one output position's window is `KH` runs of `KW * C` contiguous values,
//! and `positions x taps` times `taps x O` is the output in channels-last order.
//!
//! [`kernel_gradient`] is the third product of a convolution layer's training step (the
//! gradient of a loss with respect to the kernel), on the same patch matrix.

pub use crate::backend::kernel_gradient;
pub use crate::backend::solve_through_channels_first;
