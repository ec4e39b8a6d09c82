//! Views and broadcasts of any size (issue "Reliability", family 1): every size is checked
//! against the cap before an operand is copied, so a broadcast of 10^12 elements — a few bytes
//! of memory, a 16 TB copy — is a `TooLarge` error in microseconds, not an allocation abort.

use std::time::{Duration, Instant};

use conv_core::num_complex::Complex64;
use conv_core::{
    ConvError, ConvSpec, Mode, conv2d, convolve, convolve_complex, correlate, deconvolve, wiener_deconvolve,
};
use ndarray::{Array1, Array4, array};

const HUGE: usize = 1_000_000_000_000;

/// Runs `call`, which must be refused as too large, and fast.
fn refused_quickly<R: std::fmt::Debug>(what: &str, call: impl FnOnce() -> Result<R, ConvError>) {
    let start = Instant::now();
    let result = call();
    let elapsed = start.elapsed();
    assert!(matches!(result, Err(ConvError::TooLarge { .. })), "{what}: {result:?}");
    assert!(elapsed < Duration::from_secs(2), "{what}: refused only after {elapsed:?}");
}

#[test]
fn broadcast_signals_are_refused_before_they_are_copied() {
    let one = array![1.0_f64];
    let huge = one.broadcast(HUGE).expect("a broadcast of one value");
    let taps = array![1.0, 2.0, 1.0];
    refused_quickly("convolve full", || convolve(&huge, &taps, Mode::Full));
    refused_quickly("correlate valid", || correlate(&huge, &taps, Mode::Valid));
    refused_quickly("kernel side", || convolve(&taps, &huge, Mode::Same));
    // 2^29 samples: within the 4 GiB cap as an input, over it as a full output; refused before
    // the 4 GiB copy, not after it.
    let large = one.broadcast(1 << 29).expect("a broadcast of one value");
    refused_quickly("2^29 samples, full", || convolve(&large, &taps, Mode::Full));
}

#[test]
fn broadcast_images_layers_and_complex_signals_too() {
    let pixel = Array4::<f32>::ones((1, 1, 1, 1));
    let images = pixel.broadcast((1_000_000, 3, 1000, 1000)).expect("a broadcast of one pixel");
    let weights = Array4::<f32>::ones((4, 3, 3, 3));
    refused_quickly("conv2d", || conv2d(&images, &weights, &ConvSpec::correlation()));
    let z = array![Complex64::new(1.0, -1.0)];
    let huge = z.broadcast(HUGE).expect("a broadcast of one value");
    refused_quickly("convolve_complex", || {
        convolve_complex(&huge, &array![Complex64::new(1.0, 0.0)], Mode::Full)
    });
}

#[test]
fn deconvolution_of_a_broadcast_is_refused_not_copied_or_scanned() {
    let one = array![1.0_f64];
    let huge = one.broadcast(HUGE).expect("a broadcast of one value");
    refused_quickly("deconvolve", || deconvolve(&huge, &array![1.0, 0.5]));
    // The NaN scan of 10^12 values would run for minutes; the size check comes first.
    refused_quickly("wiener_deconvolve", || wiener_deconvolve(&huge, &array![1.0, 0.5], 0.1));
}

#[test]
fn views_within_the_cap_still_give_the_answer() {
    // A strided (every second sample) view and a broadcast of modest size.
    let x = Array1::from_shape_fn(40, |i| i as f64);
    let every_second = x.slice_axis(ndarray::Axis(0), ndarray::Slice::new(0, None, 2));
    let copied = every_second.to_owned();
    let k = array![1.0, -1.0, 0.5];
    assert_eq!(convolve(&every_second, &k, Mode::Same).unwrap(), convolve(&copied, &k, Mode::Same).unwrap());
    let flat = array![2.0_f64].broadcast(1000).expect("a broadcast").to_owned();
    let view = array![2.0_f64];
    let view = view.broadcast(1000).expect("a broadcast");
    assert_eq!(convolve(&view, &k, Mode::Valid).unwrap(), convolve(&flat, &k, Mode::Valid).unwrap());
}

/// `boundary_source_index` answers every position and length (issue "Reliability", family 4):
/// before, `(-1, 0, Circular)` divided by zero, `(-1, 0, Replicate)` clamped to `[0, -1]` and
/// `(-1, 0, Reflect)` returned `usize::MAX - 2`.
#[test]
fn boundary_source_index_answers_any_position_and_length() {
    use conv_core::{Boundary, boundary_source_index};
    let rules = [
        Boundary::Zeros,
        Boundary::Constant(1.0),
        Boundary::Circular,
        Boundary::Replicate,
        Boundary::Symmetric,
        Boundary::Reflect,
    ];
    for boundary in rules {
        assert_eq!(boundary_source_index(-1, 0, boundary), None, "{boundary:?}: nothing to read");
        for i in [isize::MIN, isize::MIN + 1, -7, -1, 0, 1, 5, isize::MAX] {
            for n in [1, 2, 3, 7, usize::MAX / 2, usize::MAX] {
                if let Some(source) = boundary_source_index(i, n, boundary) {
                    assert!(source < n, "{boundary:?}: position {i} of {n} read {source}");
                }
            }
        }
    }
    assert_eq!(boundary_source_index(isize::MIN, 3, Boundary::Replicate), Some(0));
    assert_eq!(boundary_source_index(isize::MAX, usize::MAX, Boundary::Zeros), Some(isize::MAX as usize));
}

/// A geometry whose sizes cannot be indexed (issue "Reliability", family 3) cannot be built:
/// `Geometry::new` and the sub-problem constructors refuse it, where a geometry with public
/// fields once reached the backends' `supports` unchecked. The largest one that can be built
/// (one axis of `usize::MAX` samples) is answered without a panic by every backend and `Auto`.
#[test]
fn hand_built_geometries_too_large_to_index_are_refused() {
    use conv_core::{Auto, AxisGeometry, ConvBackend, ConvError, Geometry, builtin_backends};
    let small = AxisGeometry::new(0, 4, 2, 1, 1).expect("a valid axis");
    let base = Geometry::planar(1, 1, 1, 1, [small, AxisGeometry::new(1, 4, 2, 1, 1).expect("a valid axis")])
        .expect("a valid geometry");
    let huge_axis =
        |index| AxisGeometry::new(index, usize::MAX, 1, 1, 1).expect("an axis of usize::MAX samples");
    let overflow = |result: Result<Geometry, ConvError>| matches!(result, Err(ConvError::Overflow { .. }));
    assert!(overflow(Geometry::planar(1, 1, 1, 1, [huge_axis(0), huge_axis(1)])));
    assert!(overflow(base.with_axis(1, huge_axis(1))));
    assert!(overflow(base.with_batch(usize::MAX)));
    assert!(overflow(Geometry::planar(1, usize::MAX, usize::MAX, 1, [small, small])));
    let largest = Geometry::planar(1, 1, 1, 1, [AxisGeometry::TRIVIAL, huge_axis(1)]).expect("fits in usize");
    for backend in builtin_backends::<f64>() {
        let _ = backend.supports(&largest); // answers, whatever it answers
        let _ = backend.cost_features(&largest);
    }
    let _ = Auto::new().explain::<f64>(&largest);
    let _ = <Auto as ConvBackend<f32>>::supports(&Auto::new(), &largest);
}

/// Asking a problem for a plane it does not have (issue "Reliability", family 3): `None`, as
/// `slice::get` answers, where `input_plane(5, 0)` on a one-item problem panicked on a slice.
#[test]
fn planes_out_of_range_are_none_not_a_panic() {
    use conv_core::ConvProblem;
    let resolved = ConvSpec::correlation().groups(2).resolve(&[1, 2, 4, 4], &[4, 1, 2, 2]).unwrap();
    let input = vec![1.0; 32];
    let kernel = vec![1.0; 16];
    let problem = ConvProblem::new(resolved.geometry, &input, &kernel).unwrap();
    assert_eq!(problem.input_plane(0, 1).map(<[f64]>::len), Some(16));
    assert_eq!(problem.kernel_plane(3, 0).map(<[f64]>::len), Some(4));
    for (n, c) in [(5, 0), (1, 0), (0, 2), (usize::MAX, usize::MAX)] {
        assert_eq!(problem.input_plane(n, c), None, "input plane ({n}, {c})");
    }
    // Channel 1 of a group of one input channel, output channel 4 of 4.
    for (o, c) in [(0, 1), (4, 0), (usize::MAX, 0)] {
        assert_eq!(problem.kernel_plane(o, c), None, "kernel plane ({o}, {c})");
    }
}

/// Found by the `geometry` fuzz target: a valid geometry whose buffers each fit a usize (2^63
/// output channels of a 1x1 kernel on a 1x1 input) made the spectral backends' workspace check
/// add past `usize::MAX`. Every backend now answers; none can run it (no such buffer exists).
#[test]
fn valid_geometries_whose_sizes_only_just_fit_are_answered() {
    use conv_core::{Auto, AxisGeometry, ConvBackend, Geometry, builtin_backends};
    let one = AxisGeometry::new(0, 1, 1, 1, 1).expect("a valid axis");
    for (batch, in_channels, out_channels) in [(1, 1, 1 << 63), (1, 3, (1 << 62) + 2), (1 << 62, 1, 3)] {
        let geometry =
            Geometry::planar(batch, in_channels, out_channels, 1, [one, one]).expect("buffers fit a usize");
        for backend in builtin_backends::<f32>() {
            let _ = backend.supports(&geometry);
        }
        let _ = Auto::new().explain::<f32>(&geometry);
        let _ = <Auto as ConvBackend<f32>>::supports(&Auto::new(), &geometry);
    }
}

/// Family 4, the rest: `cost::fit` on measurements of different feature counts indexed out of
/// bounds; `time_backend` on a 2^33-sample geometry aborted on the allocation; a cap raised to
/// `usize::MAX` with huge padding ended in "capacity overflow" or an allocation abort. Now:
/// `None`, `TooLarge` and `OutOfMemory`.
#[test]
fn planner_helpers_and_raised_caps_refuse_without_aborting() {
    use conv_core::calibration::time_backend;
    use conv_core::cost::fit;
    use conv_core::{AxisGeometry, Boundary, Direct, Geometry, Padding};
    assert!(fit(&[(vec![1.0, 2.0], 1e-3), (vec![1.0], 2e-3)]).is_none());
    assert!(fit(&[(vec![1.0], f64::NAN), (vec![2.0], 2e-3)]).is_none());
    assert!(fit(&[(vec![1.0], 1e-3), (vec![2.0], 2e-3)]).is_some());

    let wide = AxisGeometry::new(1, 1 << 33, 1, 1, 1).expect("a valid axis");
    let geometry = Geometry::planar(1, 1, 1, 1, [AxisGeometry::TRIVIAL, wide]).expect("a valid geometry");
    refused_quickly("time_backend", || time_backend::<f64>(&Direct, &geometry, Duration::from_millis(1)));

    // Under `vm.overcommit_memory = 1` the kernel promises any allocation and the refusal cannot
    // happen; the default heuristic (0) and strict mode (2) refuse 1.6 TB.
    if std::fs::read_to_string("/proc/sys/vm/overcommit_memory").is_ok_and(|mode| mode.trim() == "1") {
        eprintln!("overcommit_memory = 1: the allocator accepts anything, skipping the OutOfMemory check");
        return;
    }
    let spec = ConvSpec::correlation()
        .padding(Padding::Explicit(vec![(100_000_000_000, 100_000_000_000)]))
        .boundary(Boundary::Reflect)
        .max_buffer_bytes(usize::MAX);
    for backend in [&Direct as &dyn conv_core::ConvBackend<f64>, conv_core::Auto::shared()] {
        let result = conv_core::filter_with(&array![1.0, 2.0, 3.0, 4.0], &array![1.0, 1.0], &spec, backend);
        assert!(matches!(result, Err(ConvError::OutOfMemory { .. })), "{result:?}");
    }
}

/// A kernel bank shape claiming 2^62 channels per group with 4 groups, given to
/// `ConvSpec::resolve`: the check that its channels times the groups are the input's multiplied
/// unchecked (a debug build panicked on the overflow); it is a channel mismatch.
#[test]
fn kernel_channels_times_groups_past_usize_is_a_mismatch() {
    let spec = ConvSpec::correlation().groups(4);
    assert!(matches!(
        spec.resolve(&[1, 4, 2, 2], &[4, 1 << 62, 1, 1]),
        Err(ConvError::ChannelMismatch { kernel_channels, groups: 4, .. }) if kernel_channels == 1 << 62
    ));
}
