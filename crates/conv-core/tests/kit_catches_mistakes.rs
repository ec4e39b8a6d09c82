//! The conformance kit must fail backends with realistic bugs. Each backend here wraps Direct
//! and introduces one mistake; the kit has to reject every one of them.

use std::sync::Mutex;

use conv_core::{ConvBackend, ConvError, ConvProblem, Direct, Geometry, testkit};

/// Which mistake a [`Broken`] backend makes.
#[derive(Clone, Copy, Debug)]
enum Bug {
    /// Reads the input one column too far to the right (an off-by-one in the padding offset).
    PaddingOffByOne,
    /// Uses the kernel the wrong way round (convolution where correlation was asked).
    FlippedKernel,
    /// Never writes the last output.
    DropsLastOutput,
    /// Ignores the stride: returns the first outputs of the stride-1 problem.
    IgnoresStride,
    /// Caches its answer by shape and returns it for new data of the same shape.
    StaleCache,
    /// Accumulates into a scratch buffer it keeps between calls and never clears.
    StaleScratch,
    /// Flips the kernel along its depth axis only (a volume's flip that forgot one axis): right
    /// on every planar problem, wrong on volumes, so only the kit's rank-3 draws can catch it.
    FlipsDepthOnly,
}

struct Broken {
    bug: Bug,
    cache: Mutex<Option<(Geometry, Vec<f64>)>>,
    scratch: Mutex<Vec<f64>>,
}

impl Broken {
    fn new(bug: Bug) -> Self {
        Broken { bug, cache: Mutex::new(None), scratch: Mutex::new(Vec::new()) }
    }
}

impl ConvBackend<f64> for Broken {
    fn name(&self) -> &str {
        "broken"
    }

    fn supports(&self, _geometry: &Geometry) -> Result<(), ConvError> {
        Ok(())
    }

    fn execute(&self, problem: &ConvProblem<'_, f64>, output: &mut [f64]) -> Result<(), ConvError> {
        let g = *problem.geometry();
        match self.bug {
            Bug::PaddingOffByOne => {
                let mut shifted = problem.input().to_vec();
                shifted.rotate_left(1);
                Direct.execute(&ConvProblem::new(g, &shifted, problem.kernel())?, output)
            }
            Bug::FlippedKernel => {
                let mut flipped = problem.kernel().to_vec();
                for plane in flipped.chunks_exact_mut(g.kernel_plane()) {
                    plane.reverse();
                }
                Direct.execute(&ConvProblem::new(g, problem.input(), &flipped)?, output)
            }
            Bug::DropsLastOutput => {
                let last = output.len() - 1;
                let kept = output[last];
                Direct.execute(problem, output)?;
                output[last] = kept;
                Ok(())
            }
            Bug::IgnoresStride => {
                let mut unit = g;
                for (index, axis) in g.axes().iter().enumerate() {
                    let stride_one =
                        conv_core::AxisGeometry::new(index, axis.input, axis.kernel, 1, axis.dilation)?;
                    unit = unit.with_axis(index, stride_one)?;
                }
                let mut full = vec![0.0; unit.output_len()];
                Direct.execute(&ConvProblem::new(unit, problem.input(), problem.kernel())?, &mut full)?;
                let n = output.len();
                output.copy_from_slice(&full[..n]);
                Ok(())
            }
            Bug::FlipsDepthOnly => {
                let [depth, rows, cols] = g.axes();
                let slice = rows.kernel * cols.kernel;
                let mut flipped = problem.kernel().to_vec();
                for plane in flipped.chunks_exact_mut(g.kernel_plane()) {
                    let original = plane.to_vec();
                    for (h, target) in plane.chunks_exact_mut(slice).enumerate() {
                        target.copy_from_slice(&original[(depth.kernel - 1 - h) * slice..][..slice]);
                    }
                }
                Direct.execute(&ConvProblem::new(g, problem.input(), &flipped)?, output)
            }
            Bug::StaleCache => {
                let mut cache = self.cache.lock().expect("cache lock");
                if let Some((geometry, answer)) = cache.as_ref()
                    && *geometry == g
                {
                    output.copy_from_slice(answer);
                    return Ok(());
                }
                Direct.execute(problem, output)?;
                *cache = Some((g, output.to_vec()));
                Ok(())
            }
            Bug::StaleScratch => {
                let mut scratch = self.scratch.lock().expect("scratch lock");
                scratch.resize(output.len(), 0.0); // grows, but is never cleared
                Direct.execute(problem, output)?;
                for (s, o) in scratch.iter_mut().zip(output.iter_mut()) {
                    *s += *o;
                    *o = *s;
                }
                Ok(())
            }
        }
    }
}

fn assert_caught(bug: Bug) {
    let report = testkit::run_conformance::<f64>(&Broken::new(bug), testkit::DEFAULT_CASES)
        .expect_err(&format!("the kit let {bug:?} through"));
    assert!(report.contains("shrunk case"), "report lacks the shrunk case: {report}");
    assert!(report.contains("tolerance"), "report lacks the tolerance: {report}");
    println!("{bug:?} caught:\n{report}\n");
}

#[test]
fn catches_padding_off_by_one() {
    assert_caught(Bug::PaddingOffByOne);
}

#[test]
fn catches_flipped_kernel() {
    assert_caught(Bug::FlippedKernel);
}

#[test]
fn catches_dropped_last_output() {
    assert_caught(Bug::DropsLastOutput);
}

#[test]
fn catches_ignored_stride() {
    assert_caught(Bug::IgnoresStride);
}

#[test]
fn catches_a_flip_missing_on_the_depth_axis() {
    assert_caught(Bug::FlipsDepthOnly);
}

#[test]
fn catches_stale_cache() {
    assert_caught(Bug::StaleCache);
}

#[test]
fn catches_stale_scratch() {
    assert_caught(Bug::StaleScratch);
}

#[test]
fn passes_a_correct_wrapper() {
    struct Delegating;
    impl ConvBackend<f64> for Delegating {
        fn name(&self) -> &str {
            "delegating"
        }
        fn supports(&self, _geometry: &Geometry) -> Result<(), ConvError> {
            Ok(())
        }
        fn execute(&self, problem: &ConvProblem<'_, f64>, output: &mut [f64]) -> Result<(), ConvError> {
            Direct.execute(problem, output)
        }
    }
    testkit::assert_conforms::<f64>(&Delegating);
}

/// A backend that supports only a narrow family (3x3 kernels, stride 1, no dilation) still
/// gets a full set of problems from that family, so a bug there is caught.
#[test]
fn catches_a_bug_in_a_narrow_backend() {
    struct Narrow;
    impl ConvBackend<f64> for Narrow {
        fn name(&self) -> &str {
            "narrow"
        }
        fn supports(&self, g: &Geometry) -> Result<(), ConvError> {
            if g.axes().iter().all(|a| a.kernel == 3 && a.stride == 1 && a.dilation == 1) {
                Ok(())
            } else {
                Err(ConvError::Unsupported { backend: "narrow".into(), reason: "3x3 only".into() })
            }
        }
        fn execute(&self, problem: &ConvProblem<'_, f64>, output: &mut [f64]) -> Result<(), ConvError> {
            self.supports(problem.geometry())?;
            Broken::new(Bug::FlippedKernel).execute(problem, output)
        }
    }
    let report =
        testkit::run_conformance::<f64>(&Narrow, testkit::DEFAULT_CASES).expect_err("flip must be caught");
    assert!(report.contains("kernel [") && report.contains(", 3, 3]"), "{report}");
}

/// A backend whose channels-last solve forgets to move the channels (it answers channels first)
/// is caught, though its `execute` is right.
#[test]
fn catches_a_channels_last_solve_that_keeps_channels_first() {
    struct ChannelsFirstOnly;
    impl ConvBackend<f64> for ChannelsFirstOnly {
        fn name(&self) -> &str {
            "channels-first-only"
        }
        fn supports(&self, _geometry: &Geometry) -> Result<(), ConvError> {
            Ok(())
        }
        fn execute(&self, problem: &ConvProblem<'_, f64>, output: &mut [f64]) -> Result<(), ConvError> {
            Direct.execute(problem, output)
        }
        fn execute_channels_last(
            &self,
            problem: &ConvProblem<'_, f64>,
            output: &mut [f64],
        ) -> Result<(), ConvError> {
            Direct.execute(problem, output)
        }
    }
    let report = testkit::run_conformance::<f64>(&ChannelsFirstOnly, testkit::DEFAULT_CASES)
        .expect_err("a channels-first answer to a channels-last call must be caught");
    assert!(report.contains("channels last"), "{report}");
}

#[test]
fn catches_a_kernel_gradient_that_skips_the_last_tap() {
    /// Right forward; its kernel gradient leaves the last tap as the buffer held it.
    struct LazyGradient;
    impl ConvBackend<f64> for LazyGradient {
        fn name(&self) -> &str {
            "lazy-gradient"
        }
        fn supports(&self, _geometry: &Geometry) -> Result<(), ConvError> {
            Ok(())
        }
        fn execute(&self, problem: &ConvProblem<'_, f64>, output: &mut [f64]) -> Result<(), ConvError> {
            Direct.execute(problem, output)
        }
        fn kernel_gradient(
            &self,
            geometry: &Geometry,
            layout: conv_core::Layout,
            input: &[f64],
            grad_output: &[f64],
            grad_kernel: &mut [f64],
        ) -> Result<(), ConvError> {
            let last = grad_kernel.len() - 1;
            let mut full = vec![0.0; grad_kernel.len()];
            Direct.kernel_gradient(geometry, layout, input, grad_output, &mut full)?;
            grad_kernel[..last].copy_from_slice(&full[..last]);
            Ok(())
        }
    }
    let report = testkit::run_conformance::<f64>(&LazyGradient, testkit::DEFAULT_CASES)
        .expect_err("a kernel gradient with a value left unwritten must be caught");
    assert!(report.contains("kernel gradient"), "{report}");
}
