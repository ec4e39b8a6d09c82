//! All shape arithmetic of the crate: padding amounts, dilated kernel extents, output sizes and
//! buffer sizes. Every backend and front end asks this module; none recomputes a size itself.

use crate::error::ConvError;

/// Number of spatial axes of the canonical problem.
///
/// The canonical problem is three-dimensional (NCDHW input, OIDHW kernel); a 2-D problem is the
/// special case of depth 1 and a 1-D problem that of depth and height 1 (the *trivial* axes,
/// [`AxisGeometry::TRIVIAL`]). Every size computation here is per axis.
pub const SPATIAL_AXES: usize = 3;

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
    /// axis of any values has an answer; [`Geometry::new`] refuses those that overflow).
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
/// cross-correlation of an already padded NCDHW input with an OIDHW kernel bank.
///
/// `output[n, o, z, y, x] = sum over c in group(o), h, i, j of
///  input[n, g(o)*Cg + c, z*sd + h*dd, y*sh + i*dh, x*sw + j*dw] * kernel[o, c, h, i, j]`
/// with `Cg = in_channels / groups`. 2-D and 1-D problems have a trivial depth (and height) axis.
///
/// The fields are private: a `Geometry` comes from [`Geometry::new`] (or
/// [`ConvSpec::resolve`](crate::ConvSpec::resolve), or a sub-problem of one:
/// [`with_batch`](Geometry::with_batch), [`with_axis`](Geometry::with_axis)), which checks it
/// once, so every geometry a backend is handed can be indexed and its buffer lengths fit a
/// `usize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Geometry {
    batch: usize,
    in_channels: usize,
    out_channels: usize,
    groups: usize,
    axes: [AxisGeometry; SPATIAL_AXES],
    /// Lengths of the padded input, kernel and output buffers, computed (checked) once.
    lens: [usize; 3],
}

impl Geometry {
    /// Builds a geometry, checking everything a backend relies on to index safely: the fields
    /// are private, so every `Geometry` was checked here, once.
    ///
    /// # Errors
    /// [`ConvError::Groups`] if `groups` is 0 or does not divide both channel counts;
    /// [`ConvError::Empty`] for a zero batch, channel count or kernel length; for an axis, the
    /// errors of [`AxisGeometry::new`] (zero stride or dilation, a dilated kernel longer than
    /// the input) and [`ConvError::BufferLength`] naming the output when its `output` is not the
    /// one the formula gives; [`ConvError::Overflow`] if a buffer length overflows.
    ///
    /// # Examples
    /// ```
    /// use conv_core::{AxisGeometry, ConvError, Geometry};
    /// let depth = AxisGeometry::TRIVIAL; // a 2-D problem
    /// let rows = AxisGeometry::new(1, 5, 3, 1, 1)?;
    /// let cols = AxisGeometry::new(2, 7, 3, 2, 1)?;
    /// let g = Geometry::new(2, 4, 8, 2, [depth, rows, cols])?;
    /// assert_eq!((g.in_per_group(), g.output_shape()), (2, [2, 8, 1, 3, 3]));
    /// // An axis built by hand with an output length the formula does not give is refused.
    /// let wrong = AxisGeometry { output: 4, ..cols };
    /// assert!(matches!(Geometry::new(2, 4, 8, 2, [depth, rows, wrong]), Err(ConvError::BufferLength { .. })));
    /// # Ok::<(), ConvError>(())
    /// ```
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
        for (axis, given) in axes.iter().enumerate() {
            let derived = AxisGeometry::new(axis, given.input, given.kernel, given.stride, given.dilation)?;
            if derived.output != given.output {
                return Err(ConvError::BufferLength {
                    what: "output axis",
                    expected: derived.output,
                    got: given.output,
                });
            }
        }
        if [batch, in_channels, out_channels].contains(&0) || axes.iter().any(|a| a.kernel == 0) {
            return Err(ConvError::Empty {
                operand: crate::error::Operand::Input,
                shape: vec![batch, in_channels],
            });
        }
        let sizes = |first: [usize; 2], per_axis: fn(&AxisGeometry) -> usize| {
            first.into_iter().chain(axes.iter().map(per_axis))
        };
        let lens = [
            checked_product(sizes([batch, in_channels], |a| a.input), "padded input")?,
            checked_product(sizes([out_channels, in_channels / groups], |a| a.kernel), "kernel")?,
            checked_product(sizes([batch, out_channels], |a| a.output), "output")?,
        ];
        Ok(Geometry { batch, in_channels, out_channels, groups, axes, lens })
    }

    /// A planar (2-D, or 1-D with height 1) problem: [`Geometry::new`] with a trivial depth axis.
    ///
    /// # Errors
    /// As [`Geometry::new`].
    ///
    /// # Examples
    /// ```
    /// use conv_core::{AxisGeometry, Geometry};
    /// let [rows, cols] = [AxisGeometry::new(1, 5, 3, 1, 1)?, AxisGeometry::new(2, 7, 3, 1, 1)?];
    /// let g = Geometry::planar(1, 1, 1, 1, [rows, cols])?;
    /// assert!(g.is_planar());
    /// assert_eq!(g.output_shape(), [1, 1, 1, 3, 5]);
    /// # Ok::<(), conv_core::ConvError>(())
    /// ```
    pub fn planar(
        batch: usize,
        in_channels: usize,
        out_channels: usize,
        groups: usize,
        [rows, cols]: [AxisGeometry; 2],
    ) -> Result<Self, ConvError> {
        Geometry::new(batch, in_channels, out_channels, groups, [AxisGeometry::TRIVIAL, rows, cols])
    }

    /// The same problem for `batch` items (a piece of the batch, or one item).
    ///
    /// # Errors
    /// As [`Geometry::new`]: a zero batch, or buffers whose length overflows.
    pub fn with_batch(&self, batch: usize) -> Result<Self, ConvError> {
        Geometry::new(batch, self.in_channels, self.out_channels, self.groups, self.axes)
    }

    /// The same problem with spatial axis `index` replaced (a tile, an edge piece).
    ///
    /// # Errors
    /// As [`Geometry::new`]; [`ConvError::ParameterLength`] for an axis index out of range.
    pub fn with_axis(&self, index: usize, axis: AxisGeometry) -> Result<Self, ConvError> {
        let mut axes = self.axes;
        let slot = axes.get_mut(index).ok_or(ConvError::ParameterLength {
            parameter: "axis",
            got: index,
            spatial_axes: SPATIAL_AXES,
        })?;
        *slot = axis;
        Geometry::new(self.batch, self.in_channels, self.out_channels, self.groups, axes)
    }

    /// Number of independent inputs in the batch (N).
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Channels of the input (C).
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }

    /// Kernels in the bank, i.e. channels of the output (O).
    pub fn out_channels(&self) -> usize {
        self.out_channels
    }

    /// Channel groups: 1 is a full convolution layer, `in_channels` is depthwise.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// Depth, height and width, in that order (a copy: `let [depth, rows, cols] = g.axes();`
    /// binds values the compiler keeps in registers through a backend's inner loops).
    pub fn axes(&self) -> [AxisGeometry; SPATIAL_AXES] {
        self.axes
    }

    /// Height and width: the axes of one depth slice (what a planar algorithm works on).
    pub fn plane_axes(&self) -> [AxisGeometry; 2] {
        [self.axes[1], self.axes[2]]
    }

    /// Whether the depth axis is trivial (input, kernel and output of length 1): a 2-D or 1-D
    /// problem, which the planar algorithms solve as they are.
    pub fn is_planar(&self) -> bool {
        self.axes[0] == AxisGeometry::TRIVIAL
    }

    /// Input channels seen by each kernel (`Cg`).
    pub fn in_per_group(&self) -> usize {
        self.in_channels / self.groups.max(1) // never 0 (`new` refuses it): no division check
    }

    /// Kernels per group (`Og`).
    pub fn out_per_group(&self) -> usize {
        self.out_channels / self.groups.max(1)
    }

    /// Elements of one padded input plane (`D * H * W`: a whole volume in 3-D).
    pub fn input_plane(&self) -> usize {
        self.saturating_plane(|a| a.input)
    }

    /// Elements of one kernel plane (`KD * KH * KW`).
    pub fn kernel_plane(&self) -> usize {
        self.saturating_plane(|a| a.kernel)
    }

    /// Elements of one output plane (`OD * OH * OW`).
    pub fn output_plane(&self) -> usize {
        self.saturating_plane(|a| a.output)
    }

    /// The product of one size over the axes (it fits: it divides a buffer length `new` checked).
    fn saturating_plane(&self, size: impl Fn(&AxisGeometry) -> usize) -> usize {
        self.axes.iter().fold(1usize, |plane, a| plane.saturating_mul(size(a)))
    }

    /// Length of the padded input buffer, `N * C * H * W` (checked when the geometry was built).
    pub fn input_len(&self) -> usize {
        self.lens[0]
    }

    /// Length of the kernel buffer, `O * Cg * KH * KW`.
    pub fn kernel_len(&self) -> usize {
        self.lens[1]
    }

    /// Length of the output buffer, `N * O * OH * OW`.
    pub fn output_len(&self) -> usize {
        self.lens[2]
    }

    /// Multiply-adds a direct evaluation performs: `N * O * OH * OW * Cg * KH * KW`
    /// (saturating; used for reporting and planning).
    pub fn multiply_adds(&self) -> u128 {
        [self.batch, self.out_channels, self.output_plane(), self.in_per_group(), self.kernel_plane()]
            .iter()
            .fold(1u128, |acc, &n| acc.saturating_mul(n as u128))
    }

    /// The output shape `[N, O, OD, OH, OW]`.
    pub fn output_shape(&self) -> [usize; 2 + SPATIAL_AXES] {
        let [depth, rows, cols] = self.axes;
        [self.batch, self.out_channels, depth.output, rows.output, cols.output]
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
