//! The conformance kit: proptest strategies for convolution problems and a one-call check
//! that a backend agrees with [`Direct`] on all of them.
//!
//! Enable the `testkit` feature (usually in `[dev-dependencies]`). Our own backends are tested
//! through exactly this kit.
//!
//! ```
//! use conv_core::{testkit, Fft};
//! testkit::assert_conforms::<f64>(&Fft::default());
//! ```
//!
//! What [`assert_conforms`] checks, on problems drawn with a fixed seed:
//! - the answer matches [`Direct`] within a tolerance scaled by the element type's epsilon, the
//!   number of terms in each sum, the transform size and the operands' magnitudes;
//! - calling the backend a second time, with other data of the same shape and an output buffer
//!   full of NaN, gives the right answer for that data (no state kept from the first call,
//!   every output written);
//! - a plan made once with [`ConvBackend::plan`] gives the same answers on both calls' data,
//!   channels first and channels last;
//! - [`ConvBackend::execute_channels_last`], given the same input stored `[N, H, W, C]`, gives
//!   the same answers stored `[N, OH, OW, O]`;
//! - [`ConvBackend::input_gradient`] and [`ConvBackend::kernel_gradient`], in both layouts, give
//!   [`Direct`]'s gradients, or refuse (`Unsupported`, `TooLarge`: a backend need not train);
//! - a problem the backend says it does not support is refused by `plan` and `execute` with the
//!   same error.
//!
//! Some draws are invalid requests (a kernel larger than the padded input, ...); the front end
//! rejects those before any backend runs, so they pass trivially. [`is_valid`] tells them apart.
//!
//! A failure panics with the shrunk problem, the first differing output index, both values
//! and the tolerance.

use std::fmt;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use crate::backend::{ConvBackend, ConvProblem, Direct};
use crate::error::ConvError;
use crate::frontend::prepare_operands;
use crate::geometry::Geometry;
use crate::num::ConvNum;
use crate::spec::{Boundary, ConvSpec, Kind, Mode, OperandRule, Padding};

mod complex;
mod gradients;

pub use complex::{
    ComplexCase, assert_complex_conforms, check_complex_case, complex_cases, complex_reference,
};

/// The seed of every run of the kit, so that a failure reproduces.
pub const SEED: [u8; 32] = *b"convkit conformance seed 2026-11";

/// Problems drawn per element type by [`assert_conforms`].
pub const DEFAULT_CASES: u32 = 512;

/// Which front end a problem goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallStyle {
    /// `conv1d`/`conv2d`: batched, multi-channel, strict operand sizes.
    Layer,
    /// `convolve`/`filter_with`: one signal or image, scipy's lenient `Valid`.
    Signal,
}

/// A convolution request without its data.
#[derive(Clone, Debug, PartialEq)]
pub struct ProblemShape {
    /// Which front end.
    pub style: CallStyle,
    /// `[N, C, spatial...]`.
    pub input_shape: Vec<usize>,
    /// `[O, C / groups, spatial...]`.
    pub kernel_shape: Vec<usize>,
    /// Padding, boundary, stride, dilation, groups, kind.
    pub spec: ConvSpec,
}

/// A request with its data, as `f64` (converted to the element type under test).
#[derive(Clone, PartialEq)]
pub struct Case {
    /// The request.
    pub shape: ProblemShape,
    /// Input values, row-major.
    pub input: Vec<f64>,
    /// Kernel values, row-major.
    pub kernel: Vec<f64>,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.shape;
        writeln!(f, "{:?} call, input {:?}, kernel {:?}", s.style, s.input_shape, s.kernel_shape)?;
        writeln!(
            f,
            "  kind {:?}, padding {:?}, boundary {:?}, stride {:?}, dilation {:?}, groups {}",
            s.spec.kind, s.spec.padding, s.spec.boundary, s.spec.stride.0, s.spec.dilation.0, s.spec.groups
        )?;
        writeln!(f, "  input  = {:?}", self.input)?;
        write!(f, "  kernel = {:?}", self.kernel)
    }
}

/// Spatial sizes: small, with 1 and primes (smaller for volumes, whose sizes multiply thrice).
fn spatial_size(rank: usize) -> impl Strategy<Value = usize> {
    if rank < 3 {
        prop::sample::select(vec![1usize, 2, 3, 4, 5, 6, 7, 8, 11, 13])
    } else {
        prop::sample::select(vec![1usize, 2, 3, 4, 5, 7])
    }
}

fn kernel_size(rank: usize) -> impl Strategy<Value = usize> {
    if rank < 3 {
        prop::sample::select(vec![1usize, 2, 3, 4, 5])
    } else {
        prop::sample::select(vec![1usize, 2, 3])
    }
}

fn small_step() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(1usize), 1 => 2usize..=3]
}

fn boundary() -> impl Strategy<Value = Boundary> {
    prop_oneof![
        Just(Boundary::Zeros),
        prop::sample::select(vec![0.5, -2.0]).prop_map(Boundary::Constant),
        Just(Boundary::Symmetric),
        Just(Boundary::Reflect),
        Just(Boundary::Replicate),
        Just(Boundary::Circular),
    ]
}

/// Every kind of padding for `rank` spatial axes, explicit amounts drawn from the strategies
/// `amount` makes (the kit uses `0..=3`; the hostile property tests add 2^40 and `usize::MAX`).
pub fn paddings<S>(rank: usize, amount: impl Fn() -> S) -> impl Strategy<Value = Padding>
where
    S: Strategy<Value = usize>,
{
    prop_oneof![
        Just(Padding::Mode(Mode::Full)),
        Just(Padding::Mode(Mode::Same)),
        Just(Padding::Mode(Mode::Valid)),
        Just(Padding::SameUpper),
        prop::collection::vec((amount(), amount()), rank).prop_map(Padding::Explicit),
    ]
}

/// Convolution requests over every option: rank 1, 2 or 3, both call styles, batch, channels,
/// groups (depthwise included), stride, dilation, every padding and boundary rule, both kinds.
/// Some draws are invalid on purpose (a dilated kernel larger than the padded input, scipy's
/// mixed `Valid` shapes) so that error paths are compared too.
pub fn problem_shapes() -> impl Strategy<Value = ProblemShape> {
    (1usize..=3, prop_oneof![Just(CallStyle::Layer), Just(CallStyle::Signal)]).prop_flat_map(
        |(rank, style)| {
            let channels = match style {
                CallStyle::Layer => (1usize..=2, 1usize..=3, 1usize..=2, 1usize..=2).boxed(),
                CallStyle::Signal => Just((1usize, 1usize, 1usize, 1usize)).boxed(),
            };
            (
                channels,
                prop::collection::vec(spatial_size(rank), rank),
                prop::collection::vec(kernel_size(rank), rank),
                prop::collection::vec(small_step(), rank),
                prop::collection::vec(small_step(), rank),
                paddings(rank, || 0usize..=3),
                boundary(),
                prop_oneof![Just(Kind::Convolution), Just(Kind::Correlation)],
            )
                .prop_map(
                    move |(
                        (batch, groups, cg, og),
                        input,
                        kernel,
                        stride,
                        dilation,
                        padding,
                        boundary,
                        kind,
                    )| {
                        ProblemShape {
                            style,
                            input_shape: [batch, groups * cg].iter().chain(&input).copied().collect(),
                            kernel_shape: [groups * og, cg].iter().chain(&kernel).copied().collect(),
                            spec: ConvSpec {
                                kind,
                                padding,
                                boundary,
                                stride: stride.into_iter().collect::<Vec<_>>().as_slice().into(),
                                dilation: dilation.into_iter().collect::<Vec<_>>().as_slice().into(),
                                groups,
                                ..ConvSpec::default()
                            },
                        }
                    },
                )
        },
    )
}

/// Values of one operand: mostly uniform in [-1, 1], with exact zeros and small integers mixed
/// in, all multiplied by a per-operand scale drawn from tiny (subnormal for f64), unit and large.
fn values(len: usize) -> impl Strategy<Value = Vec<f64>> {
    let element = prop_oneof![
        6 => -1.0f64..1.0,
        1 => Just(0.0),
        1 => (-3i32..=3).prop_map(f64::from),
    ];
    let scale = prop_oneof![6 => Just(1.0f64), 1 => Just(1e6), 1 => Just(1e-3), 1 => Just(1e-310)];
    (prop::collection::vec(element, len), scale)
        .prop_map(|(values, scale)| values.into_iter().map(|v| v * scale).collect())
}

/// Whole cases: a [`problem_shapes`] draw with data.
pub fn cases() -> impl Strategy<Value = Case> {
    problem_shapes().prop_flat_map(with_data)
}

fn with_data(shape: ProblemShape) -> impl Strategy<Value = Case> {
    let input_len = shape.input_shape.iter().product();
    let kernel_len = shape.kernel_shape.iter().product();
    (Just(shape), values(input_len), values(kernel_len)).prop_map(|(shape, input, kernel)| Case {
        shape,
        input,
        kernel,
    })
}

/// The largest difference allowed between a backend and [`Direct`] on one problem.
///
/// `eps * 8 * (terms + log2(plane) * sqrt(Cg * plane * kernel_plane)) * max|x| * max|k|`, plus a
/// floor of a few smallest normal numbers per term. The first part bounds the rounding of a sum
/// of `terms` products; the second the rounding of an FFT of size `plane`, which grows with the
/// operands' norms rather than with each output.
pub fn tolerance<T: ConvNum>(geometry: &Geometry, max_input: f64, max_kernel: f64) -> f64 {
    let terms = (geometry.in_per_group() * geometry.kernel_plane()) as f64;
    let plane = geometry.input_plane() as f64;
    let spread = (plane.log2() + 1.0)
        * (geometry.in_per_group() as f64 * plane * geometry.kernel_plane() as f64).sqrt();
    let eps = T::epsilon().to_f64_lossy();
    let floor = 4.0 * T::min_positive_value().to_f64_lossy() * (terms + 1.0);
    eps * 8.0 * (terms + spread) * max_input * max_kernel + floor
}

/// Why a backend failed a case.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn mismatch(message: String) -> Mismatch {
    Mismatch { message }
}

/// Compares two outputs of `geometry`; names the first index that differs by more than `tol`.
pub fn compare<T: ConvNum>(geometry: &Geometry, got: &[T], want: &[T], tol: f64) -> Result<(), Mismatch> {
    if got.len() != want.len() {
        return Err(mismatch(format!("output has {} values, expected {}", got.len(), want.len())));
    }
    let shape = geometry.output_shape();
    for (flat, (&g, &w)) in got.iter().zip(want).enumerate() {
        let (g64, w64) = (g.to_f64_lossy(), w.to_f64_lossy());
        let same_special = (g64.is_nan() && w64.is_nan()) || (g64.is_infinite() && g64 == w64);
        let within = (g64 - w64).abs() <= tol; // false when either is NaN
        if !same_special && !within {
            let mut rest = flat;
            let mut index = [0; 5];
            for axis in (0..5).rev() {
                index[axis] = rest % shape[axis];
                rest /= shape[axis];
            }
            return Err(mismatch(format!(
                "output [n, o, z, y, x] = {index:?} (of {shape:?}): got {g64:e}, Direct gives {w64:e}, \
                 difference {:e} > tolerance {tol:e}",
                (g64 - w64).abs()
            )));
        }
    }
    Ok(())
}

fn same_error(a: &ConvError, b: &ConvError) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Whether the front end accepts this request (so that a backend gets to solve it).
pub fn is_valid(shape: &ProblemShape) -> bool {
    resolve(shape, 8).is_ok()
}

/// Checks one case; see the [module docs](self) for what is checked.
///
/// # Errors
/// A [`Mismatch`] saying what the backend got wrong.
pub fn check_case<T: ConvNum>(backend: &dyn ConvBackend<T>, case: &Case) -> Result<(), Mismatch> {
    let name = backend.name();
    let input: Vec<T> = case.input.iter().map(|&v| T::from_f64_lossy(v)).collect();
    let kernel: Vec<T> = case.kernel.iter().map(|&v| T::from_f64_lossy(v)).collect();
    let s = &case.shape;
    let resolved = match resolve(s, size_of::<T>()) {
        Ok(resolved) => resolved,
        Err(_) => return Ok(()), // rejected by the front end before any backend runs
    };
    let geometry = resolved.geometry;
    let out_len = geometry.output_len();
    let (padded, oriented) =
        prepare_operands(&input, &kernel, s.spec.kind, &resolved).map_err(|e| mismatch(e.to_string()))?;
    let problem = ConvProblem::new(geometry, &padded, &oriented).map_err(|e| mismatch(e.to_string()))?;

    if let Err(refusal) = backend.supports(&geometry) {
        return check_refusal(backend, &problem, refusal);
    }
    let plan = backend
        .plan(&geometry, &oriented)
        .map_err(|e| mismatch(format!("`{name}` could not plan a supported problem: {e}")))?;

    // The second call gets other data of the same shape (the input reversed) and an output
    // buffer full of NaN: a backend that keeps state between calls, or skips an output, fails it.
    let reversed: Vec<T> = input.iter().rev().copied().collect();
    let (padded_again, _) =
        prepare_operands(&reversed, &kernel, s.spec.kind, &resolved).map_err(|e| mismatch(e.to_string()))?;
    let calls = [
        ("first call", &padded, T::zero()),
        ("second call (new data, output full of NaN)", &padded_again, T::nan()),
    ];
    let max_abs = |v: &[T]| v.iter().fold(0.0f64, |m, x| m.max(x.to_f64_lossy().abs()));
    for (attempt, padded, garbage) in calls {
        let problem = ConvProblem::new(geometry, padded, &oriented).map_err(|e| mismatch(e.to_string()))?;
        let mut want = vec![T::zero(); out_len];
        Direct.execute(&problem, &mut want).map_err(|e| mismatch(format!("Direct failed: {e}")))?;
        let tol = tolerance::<T>(&geometry, max_abs(padded), max_abs(&oriented));
        let mut got = vec![garbage; out_len];
        backend
            .execute(&problem, &mut got)
            .map_err(|e| mismatch(format!("`{name}` failed on a supported problem ({attempt}): {e}")))?;
        compare(&geometry, &got, &want, tol).map_err(|m| mismatch(format!("`{name}`, {attempt}: {m}")))?;
        // The plan, made once before both calls, must give the same answers.
        let mut planned = vec![garbage; out_len];
        plan.execute(padded, &mut planned)
            .map_err(|e| mismatch(format!("`{name}` plan failed ({attempt}): {e}")))?;
        compare(&geometry, &planned, &want, tol)
            .map_err(|m| mismatch(format!("`{name}` plan, {attempt}: {m}")))?;
        // The same problem with the input and output stored channels last.
        let pixels_in = geometry.input_plane();
        let mut input_last = vec![T::zero(); padded.len()];
        crate::backend::transpose_items(padded, &mut input_last, geometry.in_channels(), pixels_in);
        let problem_last =
            ConvProblem::new(geometry, &input_last, &oriented).map_err(|e| mismatch(e.to_string()))?;
        let mut last = vec![garbage; out_len];
        backend
            .execute_channels_last(&problem_last, &mut last)
            .map_err(|e| mismatch(format!("`{name}` channels last failed ({attempt}): {e}")))?;
        let pixels_out = geometry.output_plane();
        let mut back = vec![T::zero(); out_len];
        crate::backend::transpose_items(&last, &mut back, pixels_out, geometry.out_channels());
        compare(&geometry, &back, &want, tol)
            .map_err(|m| mismatch(format!("`{name}` channels last, {attempt}: {m}")))?;
        let mut last = vec![garbage; out_len];
        plan.execute_channels_last(&input_last, &mut last)
            .map_err(|e| mismatch(format!("`{name}` plan channels last failed ({attempt}): {e}")))?;
        crate::backend::transpose_items(&last, &mut back, pixels_out, geometry.out_channels());
        compare(&geometry, &back, &want, tol)
            .map_err(|m| mismatch(format!("`{name}` plan channels last, {attempt}: {m}")))?;
        // The layer's two gradients, with the right answer standing in for the output gradient.
        gradients::check_gradients(backend, &geometry, padded, &oriented, &want)
            .map_err(|m| mismatch(format!("{m} ({attempt})")))?;
    }
    Ok(())
}

/// A problem `backend` says it does not support (`refusal`) must be refused by `plan` and
/// `execute` with the same error.
fn check_refusal<T: ConvNum>(
    backend: &dyn ConvBackend<T>,
    problem: &ConvProblem<'_, T>,
    refusal: ConvError,
) -> Result<(), Mismatch> {
    let name = backend.name();
    let geometry = problem.geometry();
    match backend.plan(geometry, problem.kernel()) {
        Err(e) if same_error(&e, &refusal) => {}
        Err(e) => return Err(mismatch(format!("`{name}` refused with `{refusal}` but plan said `{e}`"))),
        Ok(_) => {
            return Err(mismatch(format!(
                "`{name}` says it does not support this problem (`{refusal}`) but made a plan for it"
            )));
        }
    }
    let mut output = vec![T::zero(); geometry.output_len()];
    match backend.execute(problem, &mut output) {
        Err(e) if same_error(&e, &refusal) => Ok(()),
        Err(e) => Err(mismatch(format!("`{name}` refused with `{refusal}` but execute said `{e}`"))),
        Ok(()) => Err(mismatch(format!(
            "`{name}` says it does not support this problem (`{refusal}`) but execute answered"
        ))),
    }
}

/// Runs [`check_case`] on [`DEFAULT_CASES`] problems drawn with [`SEED`] from every problem, and
/// as many from the problems the backend supports, panicking with the shrunk failing case.
///
/// # Panics
/// When the backend fails a case: the message names the backend, the shrunk problem, the first
/// differing output and the tolerance.
#[track_caller]
pub fn assert_conforms<T: ConvNum>(backend: &dyn ConvBackend<T>) {
    assert_conforms_with(backend, DEFAULT_CASES);
}

/// [`assert_conforms`] with a chosen number of cases.
///
/// # Panics
/// As [`assert_conforms`].
#[track_caller]
pub fn assert_conforms_with<T: ConvNum>(backend: &dyn ConvBackend<T>, cases: u32) {
    if let Err(failure) = run_conformance(backend, cases) {
        panic!("{failure}");
    }
}

/// Like [`cases`], but only problems `backend` says it supports (filtered at the shape level,
/// before any data is drawn). A backend that supports a narrow family of problems (say, only
/// 3x3 kernels) still gets a full set of draws from that family.
pub fn supported_cases<'a, T: ConvNum>(backend: &'a dyn ConvBackend<T>) -> impl Strategy<Value = Case> + 'a {
    problem_shapes()
        .prop_filter("the backend does not support this problem", move |shape| {
            resolve(shape, size_of::<T>()).is_ok_and(|resolved| backend.supports(&resolved.geometry).is_ok())
        })
        .prop_flat_map(with_data)
}

fn resolve(shape: &ProblemShape, element_bytes: usize) -> Result<crate::spec::Resolved, ConvError> {
    let rule = match shape.style {
        CallStyle::Layer => OperandRule::Layer,
        CallStyle::Signal => OperandRule::Scipy,
    };
    shape.spec.resolve_with(&shape.input_shape, &shape.kernel_shape, rule, element_bytes)
}

/// Runs the conformance check and returns the failure report instead of panicking (used to
/// show that deliberately wrong backends fail).
///
/// Two runs of `case_count` problems each: one over every problem (unsupported ones must be
/// refused), one over the problems the backend supports.
///
/// # Errors
/// The failure report: backend, reason and the shrunk case.
pub fn run_conformance<T: ConvNum>(backend: &dyn ConvBackend<T>, case_count: u32) -> Result<(), String> {
    run_phase(backend, case_count, cases(), SEED, "drawn from every problem")?;
    let mut seed = SEED;
    seed[31] ^= 0xff;
    run_phase(backend, case_count, supported_cases(backend), seed, "drawn from the problems it supports")
}

fn run_phase<T: ConvNum>(
    backend: &dyn ConvBackend<T>,
    case_count: u32,
    strategy: impl Strategy<Value = Case>,
    seed: [u8; 32],
    phase: &str,
) -> Result<(), String> {
    let config = Config {
        cases: case_count,
        failure_persistence: None,
        max_global_rejects: case_count.saturating_mul(1000),
        max_local_rejects: 1_000_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let outcome =
        runner.run(&strategy, |case| check_case(backend, &case).map_err(|m| TestCaseError::fail(m.message)));
    match outcome {
        Ok(()) => Ok(()),
        Err(TestError::Fail(reason, case)) => Err(format!(
            "backend `{}` ({}) does not conform on a problem {phase}: {reason}\nshrunk case:\n{case:?}",
            backend.name(),
            std::any::type_name::<T>()
        )),
        Err(TestError::Abort(reason)) => Err(format!(
            "conformance run ({phase}) aborted: {reason}; does `{}` support any of the drawn problems?",
            backend.name()
        )),
    }
}

/// Draws one case from [`cases`] with a given seed (handy for examples and debugging).
pub fn sample_case(seed: u64) -> Case {
    let mut bytes = SEED;
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner =
        TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    cases()
        .new_tree(&mut runner)
        .map(|tree| tree.current())
        .unwrap_or_else(|_| unreachable!("cases() never rejects"))
}
