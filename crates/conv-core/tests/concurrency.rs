//! Backends, plans and the measuring planner used from many threads at once give the same
//! answers as one thread, bit for bit.

use std::sync::Arc;

use conv_core::{
    Auto, ConvBackend, ConvPlan, ConvSpec, Mode, Padding, builtin_backends, conv2d_with, convolve_with,
};
use ndarray::{Array1, Array4};

const THREADS: usize = 8;

fn assert_send_sync<T: Send + Sync + ?Sized>() {}

#[test]
fn backends_and_plans_are_send_and_sync() {
    assert_send_sync::<dyn ConvBackend<f32>>();
    assert_send_sync::<dyn ConvBackend<f64>>();
    assert_send_sync::<dyn ConvPlan<f64>>();
    assert_send_sync::<Auto>();
}

/// Deterministic data that differs per problem.
fn image(n: usize, c: usize, h: usize, w: usize, seed: usize) -> Array4<f64> {
    Array4::from_shape_fn((n, c, h, w), |(a, b, y, x)| {
        (((a * 31 + b * 17 + y * 7 + x * 3 + seed) % 23) as f64 - 11.0) / 7.0
    })
}

#[test]
fn every_backend_gives_identical_answers_from_many_threads() {
    let problems: Vec<(Array4<f64>, Array4<f64>, ConvSpec)> = vec![
        (image(2, 3, 20, 17, 1), image(4, 3, 3, 3, 2), ConvSpec::correlation()),
        (
            image(1, 2, 33, 9, 3),
            image(2, 2, 5, 2, 4),
            ConvSpec::correlation().padding(Padding::SameUpper).stride(2),
        ),
        (image(3, 4, 12, 12, 5), image(4, 2, 3, 3, 6), ConvSpec::convolution().mode(Mode::Full).groups(2)),
    ];
    for backend in builtin_backends::<f64>() {
        // A problem the backend does not support (Winograd takes 3x3 kernels only) is refused
        // the same way on every thread.
        let expected: Vec<Result<Array4<f64>, String>> = problems
            .iter()
            .map(|(x, w, spec)| conv2d_with(x, w, spec, backend.as_ref()).map_err(|e| e.to_string()))
            .collect();
        assert!(expected.iter().any(Result::is_ok), "{} solves some problem", backend.name());
        std::thread::scope(|scope| {
            for t in 0..THREADS {
                let (backend, problems, expected) = (&backend, &problems, &expected);
                scope.spawn(move || {
                    for round in 0..20 {
                        let i = (t + round) % problems.len();
                        let (x, w, spec) = &problems[i];
                        let got = conv2d_with(x, w, spec, backend.as_ref()).map_err(|e| e.to_string());
                        assert_eq!(
                            got,
                            expected[i],
                            "{} differs on thread {t}, round {round}",
                            backend.name()
                        );
                    }
                });
            }
        });
    }
}

#[test]
fn one_plan_shared_by_many_threads() {
    let x = image(2, 3, 24, 24, 7);
    let w = image(5, 3, 3, 3, 8);
    let spec = ConvSpec::correlation();
    for backend in builtin_backends::<f64>() {
        let shape = [x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]];
        let prepared = conv_core::PreparedConv2d::new(shape, &w, &spec, backend.as_ref()).expect("plans");
        let expected = prepared.run(&x).expect("runs");
        std::thread::scope(|scope| {
            for t in 0..THREADS {
                let (prepared, x, expected) = (&prepared, &x, &expected);
                scope.spawn(move || {
                    for _ in 0..20 {
                        assert_eq!(&prepared.run(x).expect("runs"), expected, "plan differs on thread {t}");
                    }
                });
            }
        });
    }
}

/// The measuring planner times candidates on the first call per shape, once: racing threads
/// wait for that measurement, so every answer on a shape is the same bits (issue
/// "Reliability", family 9: before, 4 of 24 trials differed) and a correct one.
#[test]
fn measure_mode_under_contention() {
    let auto = Arc::new(Auto::new().measuring());
    let signals: Vec<Array1<f64>> =
        (0..4).map(|s| Array1::from_shape_fn(200 + 37 * s, |i| ((i * 7 + s) % 13) as f64 - 6.0)).collect();
    let kernel = Array1::from_shape_fn(9, |i| 1.0 / (1.0 + i as f64));
    let expected: Vec<Array1<f64>> = signals
        .iter()
        .map(|s| convolve_with(s, &kernel, Mode::Full, &conv_core::Direct).expect("solves"))
        .collect();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (auto, signals, kernel, expected) = (&auto, &signals, &kernel, &expected);
            scope.spawn(move || {
                for round in 0..10 {
                    let i = (t + round) % signals.len();
                    let got = convolve_with(&signals[i], kernel, Mode::Full, auto.as_ref()).expect("solves");
                    let worst = got.iter().zip(&expected[i]).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
                    assert!(worst < 1e-9, "auto differs by {worst} on thread {t}");
                }
            });
        }
    });
    // Fresh planners hit by every thread at once, on shapes where several backends are close:
    // within each trial every thread's every answer is bit-identical.
    let signal = Array1::from_shape_fn(3000, |i| ((i * 31) % 17) as f64 - 8.0);
    let taps = Array1::from_shape_fn(48, |i| 1.0 / (1.0 + i as f64));
    for trial in 0..24 {
        let auto = Auto::new().measuring();
        let answers: Vec<Vec<Array1<f64>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    let (auto, signal, taps) = (&auto, &signal, &taps);
                    scope.spawn(move || {
                        (0..2)
                            .map(|_| convolve_with(signal, taps, Mode::Full, auto).expect("solves"))
                            .collect()
                    })
                })
                .collect();
            handles.into_iter().map(|handle| handle.join().expect("no thread panics")).collect()
        });
        let first = &answers[0][0];
        for (t, thread) in answers.iter().enumerate() {
            for answer in thread {
                assert!(
                    answer.iter().zip(first).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "trial {trial}, thread {t}"
                );
            }
        }
    }
}
