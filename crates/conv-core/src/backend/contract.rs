//! The contract between the front end and a backend: the canonical problem ([`ConvProblem`]),
//! the trait every backend implements ([`ConvBackend`]) and the length check they all make.

use super::plan::{ConvPlan, KernelPlan};
use crate::error::ConvError;
use crate::geometry::Geometry;
use crate::num::ConvNum;
use crate::spec::Layout;

/// One instance of the canonical problem: the geometry and its two operands, both contiguous
/// and row-major (`input`: `[N, C, H, W]` padded; `kernel`: `[O, C / groups, KH, KW]`, already in
/// correlation orientation).
#[derive(Clone, Copy, Debug)]
pub struct ConvProblem<'a, T> {
    geometry: Geometry,
    input: &'a [T],
    kernel: &'a [T],
}

impl<'a, T: ConvNum> ConvProblem<'a, T> {
    /// Pairs a geometry with its operands.
    ///
    /// # Errors
    /// [`ConvError::BufferLength`] if a slice does not have the length the geometry implies
    /// (the geometry itself was checked when it was built: [`Geometry::new`]).
    pub fn new(geometry: Geometry, input: &'a [T], kernel: &'a [T]) -> Result<Self, ConvError> {
        check_buffer_len("input", geometry.input_len(), input.len())?;
        check_buffer_len("kernel", geometry.kernel_len(), kernel.len())?;
        Ok(ConvProblem { geometry, input, kernel })
    }

    /// The shape of the problem.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// The padded input, `[N, C, H, W]` row-major.
    pub fn input(&self) -> &'a [T] {
        self.input
    }

    /// The kernel bank, `[O, C / groups, KH, KW]` row-major.
    pub fn kernel(&self) -> &'a [T] {
        self.kernel
    }

    /// Input plane `(n, c)`: batch item `n`, input channel `c`; `None` when `n` or `c` is out
    /// of range (as [`slice::get`]: asking never panics).
    ///
    /// # Examples
    /// ```
    /// use conv_core::{ConvProblem, ConvSpec};
    /// let resolved = ConvSpec::correlation().resolve(&[1, 2, 3], &[1, 2, 2])?;
    /// let input: Vec<f64> = (0..6).map(f64::from).collect();
    /// let problem = ConvProblem::new(resolved.geometry, &input, &[1.0; 4])?;
    /// assert_eq!(problem.input_plane(0, 1), Some(&input[3..]));
    /// assert_eq!(problem.input_plane(5, 0), None);
    /// # Ok::<(), conv_core::ConvError>(())
    /// ```
    pub fn input_plane(&self, n: usize, c: usize) -> Option<&'a [T]> {
        let g = &self.geometry;
        if n >= g.batch() || c >= g.in_channels() {
            return None;
        }
        let plane = g.input_plane();
        self.input.get((n * g.in_channels() + c) * plane..)?.get(..plane)
    }

    /// Kernel plane `(o, c)`: output channel `o`, input channel `c` counted within the kernel's
    /// group; `None` when `o` or `c` is out of range.
    pub fn kernel_plane(&self, o: usize, c: usize) -> Option<&'a [T]> {
        let g = &self.geometry;
        if o >= g.out_channels() || c >= g.in_per_group() {
            return None;
        }
        let plane = g.kernel_plane();
        self.kernel.get((o * g.in_per_group() + c) * plane..)?.get(..plane)
    }
}

/// Fails with [`ConvError::BufferLength`] unless `got == expected`: the length check every
/// backend makes of the buffers it is handed (`what` names the buffer: `"output"`, ...).
///
/// # Errors
/// [`ConvError::BufferLength`] naming the buffer and both lengths.
///
/// # Examples
/// ```
/// use conv_core::{check_buffer_len, ConvError};
/// assert!(check_buffer_len("output", 4, 4).is_ok());
/// assert_eq!(
///     check_buffer_len("output", 4, 3),
///     Err(ConvError::BufferLength { what: "output", expected: 4, got: 3 })
/// );
/// ```
pub fn check_buffer_len(what: &'static str, expected: usize, got: usize) -> Result<(), ConvError> {
    if expected != got {
        return Err(ConvError::BufferLength { what, expected, got });
    }
    Ok(())
}

/// An algorithm that solves the canonical convolution problem.
///
/// The trait is object safe: registries and planners hold `Arc<dyn ConvBackend<T>>`.
///
/// # Contract
/// - [`supports`](ConvBackend::supports) answers from the geometry alone, without data.
/// - [`execute`](ConvBackend::execute) refuses (returns the same error) any problem `supports`
///   refuses, overwrites every element of `output` whatever it held before, and gives the
///   same answer when called again.
///
/// # Examples
/// ```
/// use conv_core::{ConvBackend, ConvError, ConvNum, ConvProblem, Geometry, Direct};
///
/// /// A backend that delegates to Direct but only takes single-channel problems.
/// struct SingleChannel;
///
/// impl<T: ConvNum> ConvBackend<T> for SingleChannel {
///     fn name(&self) -> &str { "single-channel" }
///     fn supports(&self, geometry: &Geometry) -> Result<(), ConvError> {
///         if geometry.in_channels() == 1 { Ok(()) } else {
///             Err(ConvError::Unsupported { backend: "single-channel".into(), reason: "C > 1".into() })
///         }
///     }
///     fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
///         <Self as ConvBackend<T>>::supports(self, problem.geometry())?;
///         Direct.execute(problem, output)
///     }
/// }
/// let backend: std::sync::Arc<dyn ConvBackend<f64>> = std::sync::Arc::new(SingleChannel);
/// assert_eq!(backend.name(), "single-channel");
/// ```
pub trait ConvBackend<T: ConvNum>: Send + Sync {
    /// A short, unique, lower-case name (`direct`, `fft`, ...).
    fn name(&self) -> &str;

    /// Whether this backend can solve problems of this shape.
    ///
    /// # Errors
    /// [`ConvError::Unsupported`] or [`ConvError::TooLarge`], saying why not.
    fn supports(&self, geometry: &Geometry) -> Result<(), ConvError>;

    /// Solves `problem`, writing `geometry.output_len()` values (`[N, O, OH, OW]` row-major) into
    /// `output`.
    ///
    /// # Errors
    /// Whatever [`supports`](ConvBackend::supports) returns for this geometry, and
    /// [`ConvError::BufferLength`] if `output` has the wrong length.
    fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError>;

    /// Prepares this backend for repeated calls with one geometry and kernel bank
    /// (`[O, C / groups, KH, KW]`, correlation orientation). The default plan keeps a copy of
    /// the kernel and calls [`execute`](ConvBackend::execute); backends with kernel-dependent
    /// work (spectra, matrices) or scratch override it.
    ///
    /// # Errors
    /// Whatever [`supports`](ConvBackend::supports) returns, and [`ConvError::BufferLength`]
    /// for a kernel of the wrong length.
    fn plan<'a>(&'a self, geometry: &Geometry, kernel: &[T]) -> Result<Box<dyn ConvPlan<T> + 'a>, ConvError> {
        Ok(Box::new(KernelPlan::new(self, geometry, kernel)?))
    }

    /// Solves `problem` with its input stored channels last (`[N, H, W, C]`, Keras's and
    /// TensorFlow's layout), writing the output channels last (`[N, OH, OW, O]`); the kernel
    /// keeps its layout `[O, C / groups, KH, KW]`. The default transposes to channels first,
    /// calls [`execute`](ConvBackend::execute) and transposes back
    /// ([`channels_last::solve_through_channels_first`](crate::channels_last::solve_through_channels_first));
    /// backends that can read the layout directly override it (see [`crate::channels_last`]).
    ///
    /// # Errors
    /// As [`execute`](ConvBackend::execute).
    ///
    /// # Examples
    /// ```
    /// use conv_core::{AxisGeometry, ConvBackend, ConvProblem, Direct, Geometry};
    /// // One 2x2 image with two channels (pixels (1, 10), (2, 20), (3, 30), (4, 40)), two 1x1
    /// // filters: the first sums the channels, the second takes the second one.
    /// let g = Geometry::planar(1, 2, 2, 1, [AxisGeometry::new(1, 2, 1, 1, 1)?, AxisGeometry::new(2, 2, 1, 1, 1)?])?;
    /// let input = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0];
    /// let kernel = [1.0, 1.0, 0.0, 1.0];
    /// let mut output = [0.0; 8];
    /// Direct.execute_channels_last(&ConvProblem::new(g, &input, &kernel)?, &mut output)?;
    /// assert_eq!(output, [11.0, 10.0, 22.0, 20.0, 33.0, 30.0, 44.0, 40.0]);
    /// # Ok::<(), conv_core::ConvError>(())
    /// ```
    fn execute_channels_last(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        super::layout::solve_through_channels_first(self, problem, output)
    }

    /// The operation counts ("features") of this backend's work on `geometry` that the
    /// planner's cost model weighs by measured coefficients ([`crate::cost`]): the profile keys
    /// on [`name`](ConvBackend::name), the features come from this instance (its caps, grid and
    /// thread choices). The default, [`cost::generic_features`](crate::cost::generic_features),
    /// counts multiply-adds, output values and values moved, which fits a direct method;
    /// backends whose work grows otherwise (transforms, matrices) override it.
    ///
    /// # Errors
    /// A geometry the backend cannot cost (the default never fails).
    fn cost_features(&self, geometry: &Geometry) -> Result<Vec<f64>, ConvError> {
        crate::cost::generic_features(geometry)
    }

    /// The gradient with respect to the padded input (`[N, C, H, W]`, or `[N, H, W, C]` with
    /// [`Layout::ChannelsLast`]) of a loss whose gradient with respect to the output of the
    /// problem `geometry` is `grad_output` (`[N, O, OH, OW]` or `[N, OH, OW, O]`), for the kernel
    /// bank `kernel` (`[O, C / groups, KH, KW]`, correlation orientation): the backward pass of a
    /// layer with respect to its input. Overwrites every value of `grad_input`.
    ///
    /// The default solves it as a stride-1 correlation of the spread output gradient with the
    /// rotated kernel, by this backend's own [`execute`](ConvBackend::execute)
    /// ([`input_gradient_by_correlation`](crate::backend::input_gradient_by_correlation)).
    ///
    /// # Errors
    /// [`ConvError::BufferLength`] for slices of the wrong length, [`ConvError::OutOfMemory`]
    /// for the rearranged operands, and whatever the backend refuses.
    fn input_gradient(
        &self,
        geometry: &Geometry,
        layout: Layout,
        kernel: &[T],
        grad_output: &[T],
        grad_input: &mut [T],
    ) -> Result<(), ConvError> {
        super::gradients::input_gradient_by_correlation(
            self,
            geometry,
            layout,
            kernel,
            grad_output,
            grad_input,
        )
    }

    /// The gradient with respect to the kernel bank (`[O, C / groups, KH, KW]`) of a loss whose
    /// gradient with respect to the output of the problem `geometry` is `grad_output`, given the
    /// padded `input` (both stored in `layout`): the backward pass of a layer with respect to its
    /// weights. Overwrites every value of `grad_kernel`.
    ///
    /// The default solves it, group by group, as the correlation of the input with the output
    /// gradient by this backend's own [`execute`](ConvBackend::execute)
    /// ([`kernel_gradient_by_correlation`](crate::backend::kernel_gradient_by_correlation)), so a
    /// layer given [`Fft`](crate::Fft) trains through FFTs; [`Im2col`](crate::Im2col) overrides
    /// it with one product on the patch matrix.
    ///
    /// # Errors
    /// As [`input_gradient`](ConvBackend::input_gradient).
    fn kernel_gradient(
        &self,
        geometry: &Geometry,
        layout: Layout,
        input: &[T],
        grad_output: &[T],
        grad_kernel: &mut [T],
    ) -> Result<(), ConvError> {
        super::gradients::kernel_gradient_by_correlation(
            self,
            geometry,
            layout,
            input,
            grad_output,
            grad_kernel,
        )
    }
}

/// Forwards every method of [`ConvBackend`] to the backend a pointer type points at.
macro_rules! forward_backend {
    ($(#[$doc:meta])* $pointer:ty) => {
        $(#[$doc])*
        impl<T: ConvNum, B: ConvBackend<T> + ?Sized> ConvBackend<T> for $pointer {
            fn name(&self) -> &str {
                (**self).name()
            }

            fn supports(&self, geometry: &Geometry) -> Result<(), ConvError> {
                (**self).supports(geometry)
            }

            fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
                (**self).execute(problem, output)
            }

            fn plan<'p>(&'p self, geometry: &Geometry, kernel: &[T]) -> Result<Box<dyn ConvPlan<T> + 'p>, ConvError> {
                (**self).plan(geometry, kernel)
            }

            fn execute_channels_last(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
                (**self).execute_channels_last(problem, output)
            }

            fn cost_features(&self, geometry: &Geometry) -> Result<Vec<f64>, ConvError> {
                (**self).cost_features(geometry)
            }

            fn input_gradient(
                &self,
                geometry: &Geometry,
                layout: Layout,
                kernel: &[T],
                grad_output: &[T],
                grad_input: &mut [T],
            ) -> Result<(), ConvError> {
                (**self).input_gradient(geometry, layout, kernel, grad_output, grad_input)
            }

            fn kernel_gradient(
                &self,
                geometry: &Geometry,
                layout: Layout,
                input: &[T],
                grad_output: &[T],
                grad_kernel: &mut [T],
            ) -> Result<(), ConvError> {
                (**self).kernel_gradient(geometry, layout, input, grad_output, grad_kernel)
            }
        }
    };
}

forward_backend!(
    /// A shared backend is a backend: `Arc<dyn ConvBackend<T>>` (what the registry hands out) can
    /// be used wherever a generic `B: ConvBackend<T>` is expected, e.g. as a layer's backend.
    std::sync::Arc<B>
);

forward_backend!(
    /// A borrowed backend is a backend: `Auto::shared()` (a `&'static Auto`) is the default
    /// backend of cnn's `Conv2D`, and `&Direct` can be passed where a `B: ConvBackend<T>` is taken.
    &B
);
