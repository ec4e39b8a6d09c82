//! All shape arithmetic of the crate: padding amounts, dilated kernel extents, output sizes and
//! buffer sizes. Every backend and front end asks this module; none recomputes a size itself.

use crate::error::ConvError;

/// Number of spatial axes of the canonical problem.
///
/// The canonical problem is two-dimensional (NCHW input, OIHW kernel); a 1-D problem is the
/// special case of height 1. Adding 3-D means raising this to 3 and adding the depth loop to
/// each backend: every size computation here is already per axis.
pub const SPATIAL_AXES: usize = 2;

/// One spatial axis of the canonical problem: a *valid* cross-correlation on an already padded
/// input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AxisGeometry {
    /// Input length after padding.
    pub input: usize,
    /// Kernel length (number of taps, before dilation).
    pub kernel: usize,
    /// Distance between consecutive output samples, in input samples.
    pub stride: usize,
    /// Distance between consecutive kernel taps, in input samples.
    pub dilation: usize,
    /// Output length: `(input - effective_kernel) / stride + 1`.
    pub output: usize,
}

impl AxisGeometry {
    /// The trivial axis used to embed a lower-dimensional problem (length 1 everywhere).
    pub const TRIVIAL: AxisGeometry = AxisGeometry { input: 1, kernel: 1, stride: 1, dilation: 1, output: 1 };

    /// Builds an axis, computing its output length.
    ///
    /// # Errors
    /// [`ConvError::ZeroStride`], [`ConvError::ZeroDilation`], [`ConvError::Overflow`], or
    /// [`ConvError::KernelLargerThanInput`] when the dilated kernel does not fit in `padded_input`.
    ///
    /// # Examples
    /// ```
    /// use conv_core::AxisGeometry;
    /// // 7 padded samples, a 3-tap kernel with dilation 2 spans 5 samples, stride 2: outputs at 0 and 2.
    /// let axis = AxisGeometry::new(0, 7, 3, 2, 2)?;
    /// assert_eq!(axis.output, 2);
    /// # Ok::<(), conv_core::ConvError>(())
    /// ```
    pub fn new(
        axis: usize,
        padded_input: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
    ) -> Result<Self, ConvError> {
        if stride == 0 {
            return Err(ConvError::ZeroStride { axis });
        }
        if dilation == 0 {
            return Err(ConvError::ZeroDilation { axis });
        }
        let effective_kernel = effective_kernel(kernel, dilation)?;
        if effective_kernel > padded_input {
            return Err(ConvError::KernelLargerThanInput { axis, padded_input, effective_kernel });
        }
        let output = (padded_input - effective_kernel) / stride + 1;
        Ok(AxisGeometry { input: padded_input, kernel, stride, dilation, output })
    }

    /// Span of the dilated kernel: `(kernel - 1) * dilation + 1` (saturating, so a hand-built
    /// axis of any values has an answer; [`Geometry::validate`] refuses those that overflow).
    pub fn effective_kernel(&self) -> usize {
        self.kernel.saturating_sub(1).saturating_mul(self.dilation).saturating_add(1)
    }
}

/// How the outputs of a stride-1 axis padded by `(before, after)` divide into those whose
/// window reads padding (the two edges) and those that read input samples only (the interior).
///
/// Output `x` reads padded positions `x .. x + span`. With `unpadded >= span`, the first
/// `before` outputs start in the leading padding, the next `unpadded - span + 1` lie wholly in
/// the input, and the last `after` reach into the trailing padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EdgeSplit {
    /// Outputs whose window starts in the leading padding (`before`).
    pub leading: usize,
    /// Outputs whose window lies wholly in the unpadded input.
    pub interior: usize,
    /// Outputs whose window reaches into the trailing padding (`after`).
    pub trailing: usize,
    /// The kernel's span, `(kernel - 1) * dilation + 1`.
    pub span: usize,
}

impl EdgeSplit {
    /// Padded positions the leading outputs read: `0 .. leading + span - 1`.
    pub fn leading_reads(&self) -> std::ops::Range<usize> {
        0..self.leading + self.span - 1
    }

    /// Padded positions the trailing outputs read, up to the end of the padded axis.
    pub fn trailing_reads(&self) -> std::ops::Range<usize> {
        let start = self.leading + self.interior;
        start..start + self.trailing + self.span - 1
    }
}

impl AxisGeometry {
    /// The edge/interior split of this axis when it was padded by `(before, after)`: `None`
    /// for a stride other than 1 (its outputs do not tile the padded axis one by one) or when
    /// the kernel is wider than the unpadded input (no output reads input only).
    pub(crate) fn edge_split(&self, (before, after): (usize, usize)) -> Option<EdgeSplit> {
        let unpadded = self.input.checked_sub(before)?.checked_sub(after)?;
        let span = self.effective_kernel();
        if self.stride != 1 || unpadded < span {
            return None;
        }
        Some(EdgeSplit { leading: before, interior: unpadded - span + 1, trailing: after, span })
    }
}

/// Span of a dilated kernel, `(kernel - 1) * dilation + 1`, overflow-checked.
///
/// # Errors
/// [`ConvError::Overflow`] if the span does not fit in `usize`.
pub fn effective_kernel(kernel: usize, dilation: usize) -> Result<usize, ConvError> {
    match kernel.saturating_sub(1).checked_mul(dilation).and_then(|span| span.checked_add(1)) {
        Some(span) => Ok(span),
        None => Err(ConvError::Overflow { what: "dilated kernel" }),
    }
}

/// The canonical problem every backend solves: a grouped, strided, dilated *valid*
/// cross-correlation of an already padded NCHW input with an OIHW kernel bank.
///
/// `output[n, o, y, x] = sum over c in group(o), i, j of
///  input[n, g(o)*Cg + c, y*sh + i*dh, x*sw + j*dw] * kernel[o, c, i, j]`
/// with `Cg = in_channels / groups`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Geometry {
    /// Number of independent inputs in the batch (N).
    pub batch: usize,
    /// Channels of the input (C).
    pub in_channels: usize,
    /// Kernels in the bank, i.e. channels of the output (O).
    pub out_channels: usize,
    /// Channel groups: 1 is a full convolution layer, `in_channels` is depthwise.
    pub groups: usize,
    /// Height and width, in that order.
    pub axes: [AxisGeometry; SPATIAL_AXES],
}

impl Geometry {
    /// Builds and validates a geometry.
    ///
    /// # Errors
    /// [`ConvError::Groups`] if `groups` is 0 or does not divide both channel counts, and
    /// [`ConvError::Overflow`] if a buffer size overflows.
    pub fn new(
        batch: usize,
        in_channels: usize,
        out_channels: usize,
        groups: usize,
        axes: [AxisGeometry; SPATIAL_AXES],
    ) -> Result<Self, ConvError> {
        if groups == 0 || !in_channels.is_multiple_of(groups) || !out_channels.is_multiple_of(groups) {
            return Err(ConvError::Groups { groups, in_channels, out_channels });
        }
        let geometry = Geometry { batch, in_channels, out_channels, groups, axes };
        geometry.input_len()?;
        geometry.kernel_len()?;
        geometry.output_len()?;
        Ok(geometry)
    }

    /// Checks that a geometry built by hand (its fields are public) is consistent: groups divide
    /// the channels, every axis has a non-zero stride and dilation, its dilated kernel fits the
    /// input and its output length is the one the formula gives. Backends rely on this to index
    /// safely; [`ConvProblem::new`](crate::ConvProblem::new) and every plan call it.
    ///
    /// # Errors
    /// The [`ConvError`] that [`Geometry::new`] or [`AxisGeometry::new`] would give, or
    /// [`ConvError::BufferLength`] naming the output when an axis's `output` is inconsistent.
    pub fn validate(&self) -> Result<(), ConvError> {
        Geometry::new(self.batch, self.in_channels, self.out_channels, self.groups, self.axes)?;
        for (axis, given) in self.axes.iter().enumerate() {
            let derived = AxisGeometry::new(axis, given.input, given.kernel, given.stride, given.dilation)?;
            if derived.output != given.output {
                return Err(ConvError::BufferLength {
                    what: "output axis",
                    expected: derived.output,
                    got: given.output,
                });
            }
        }
        if [self.batch, self.in_channels, self.out_channels].contains(&0)
            || self.axes.iter().any(|a| a.kernel == 0)
        {
            return Err(ConvError::Empty {
                operand: crate::error::Operand::Input,
                shape: vec![self.batch, self.in_channels],
            });
        }
        // Every buffer length is computable: `Geometry::new` above computed all three with
        // checked arithmetic (a geometry of usize::MAX^2 samples is refused there).
        Ok(())
    }

    /// Input channels seen by each kernel (`Cg`).
    pub fn in_per_group(&self) -> usize {
        self.in_channels / self.groups.max(1) // groups = 0 is refused by `validate`
    }

    /// Kernels per group (`Og`).
    pub fn out_per_group(&self) -> usize {
        self.out_channels / self.groups.max(1)
    }

    /// Elements of one padded input plane (`H * W`).
    pub fn input_plane(&self) -> usize {
        self.saturating_plane(|a| a.input)
    }

    /// Elements of one kernel plane (`KH * KW`).
    pub fn kernel_plane(&self) -> usize {
        self.saturating_plane(|a| a.kernel)
    }

    /// Elements of one output plane (`OH * OW`).
    pub fn output_plane(&self) -> usize {
        self.saturating_plane(|a| a.output)
    }

    /// The product of one size over the axes, saturating: a hand-built geometry too large to
    /// index is refused by `validate`, which every backend's `supports` calls; nothing here may
    /// panic first.
    fn saturating_plane(&self, size: impl Fn(&AxisGeometry) -> usize) -> usize {
        self.axes.iter().fold(1usize, |plane, a| plane.saturating_mul(size(a)))
    }

    /// Length of the padded input buffer, `N * C * H * W`.
    ///
    /// # Errors
    /// [`ConvError::Overflow`].
    pub fn input_len(&self) -> Result<usize, ConvError> {
        checked_product(
            [self.batch, self.in_channels].into_iter().chain(self.axes.iter().map(|a| a.input)),
            "padded input",
        )
    }

    /// Length of the kernel buffer, `O * Cg * KH * KW`.
    ///
    /// # Errors
    /// [`ConvError::Overflow`].
    pub fn kernel_len(&self) -> Result<usize, ConvError> {
        checked_product(
            [self.out_channels, self.in_per_group()].into_iter().chain(self.axes.iter().map(|a| a.kernel)),
            "kernel",
        )
    }

    /// Length of the output buffer, `N * O * OH * OW`.
    ///
    /// # Errors
    /// [`ConvError::Overflow`].
    pub fn output_len(&self) -> Result<usize, ConvError> {
        checked_product(
            [self.batch, self.out_channels].into_iter().chain(self.axes.iter().map(|a| a.output)),
            "output",
        )
    }

    /// Multiply-adds a direct evaluation performs: `N * O * OH * OW * Cg * KH * KW`
    /// (saturating; used for reporting and planning).
    pub fn multiply_adds(&self) -> u128 {
        [self.batch, self.out_channels, self.output_plane(), self.in_per_group(), self.kernel_plane()]
            .iter()
            .fold(1u128, |acc, &n| acc.saturating_mul(n as u128))
    }

    /// The output shape `[N, O, OH, OW]`.
    pub fn output_shape(&self) -> [usize; 2 + SPATIAL_AXES] {
        [self.batch, self.out_channels, self.axes[0].output, self.axes[1].output]
    }
}

/// Product of sizes, failing with [`ConvError::Overflow`] naming `what`.
pub(crate) fn checked_product(
    sizes: impl IntoIterator<Item = usize>,
    what: &'static str,
) -> Result<usize, ConvError> {
    // A match, not `ok_or`: the error is built only on overflow (an `ok_or` builds and drops a
    // `ConvError` on every call, which showed in the instruction count of small calls).
    match sizes.into_iter().try_fold(1usize, |acc, n| acc.checked_mul(n)) {
        Some(product) => Ok(product),
        None => Err(ConvError::Overflow { what }),
    }
}

/// Fails with [`ConvError::TooLarge`] when `elements` values of `element_bytes` each exceed `cap` bytes.
pub(crate) fn check_bytes(
    elements: usize,
    element_bytes: usize,
    cap: usize,
    what: &'static str,
) -> Result<(), ConvError> {
    let bytes = elements as u128 * element_bytes as u128;
    if bytes > cap as u128 {
        return Err(ConvError::TooLarge { what, bytes, cap: cap as u128 });
    }
    Ok(())
}
