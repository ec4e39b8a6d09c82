//! 3-D reference values from scipy.signal and PyTorch (`tests/data/make_volume_golden.py`
//! writes `tests/data/volume_golden.json`), replayed on every backend; and the 3-D errors.

use conv_core::{
    Auto, ConvBackend, ConvError, ConvSpec, Layout, Mode, Padding, builtin_backends, conv3d_with,
    convolve_along_with, convolve_with, correlate_along_with, correlate_with,
};
use ndarray::{Array5, ArrayD, IxDyn};
use serde::Deserialize;

#[derive(Deserialize)]
struct Flat {
    shape: Vec<usize>,
    values: Vec<f64>,
}

impl Flat {
    fn array(&self) -> ArrayD<f64> {
        ArrayD::from_shape_vec(IxDyn(&self.shape), self.values.clone()).expect("shape matches values")
    }
}

#[derive(Deserialize)]
struct Case {
    name: String,
    func: String,
    in1: Flat,
    in2: Flat,
    expected: Flat,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    axes: Vec<usize>,
    #[serde(default)]
    stride: Vec<usize>,
    #[serde(default)]
    dilation: Vec<usize>,
    #[serde(default)]
    groups: usize,
    #[serde(default)]
    padding: Vec<(usize, usize)>,
}

#[derive(Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

fn golden() -> Vec<Case> {
    let golden: Golden =
        serde_json::from_str(include_str!("data/volume_golden.json")).expect("volume_golden.json parses");
    golden.cases
}

fn mode(name: &str) -> Mode {
    match name {
        "full" => Mode::Full,
        "same" => Mode::Same,
        "valid" => Mode::Valid,
        other => panic!("unknown mode {other}"),
    }
}

fn assert_close(name: &str, backend: &str, got: &ArrayD<f64>, want: &Flat) {
    assert_eq!(got.shape(), want.shape.as_slice(), "{name} on {backend}: shape");
    let scale = want.values.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(&want.values).enumerate() {
        assert!(
            (g - w).abs() <= 1e-10 * scale,
            "{name} on {backend}: element {i} is {g}, the reference gives {w}"
        );
    }
}

/// The answer of one case's call on `backend`, or the backend's refusal.
fn run(case: &Case, backend: &dyn ConvBackend<f64>) -> Result<ArrayD<f64>, ConvError> {
    let (a, v) = (case.in1.array(), case.in2.array());
    match case.func.as_str() {
        "convolve" => convolve_with(&a, &v, mode(&case.mode), backend),
        "correlate" => correlate_with(&a, &v, mode(&case.mode), backend),
        "convolve_along" => convolve_along_with(&a, &v, mode(&case.mode), &case.axes, backend),
        "correlate_along" => correlate_along_with(&a, &v, mode(&case.mode), &case.axes, backend),
        "conv3d" => {
            let x = a.into_dimensionality::<ndarray::Ix5>().expect("5-D input");
            let w = v.into_dimensionality::<ndarray::Ix5>().expect("5-D weights");
            conv3d_with(&x, &w, &layer_spec(case), backend).map(Array5::into_dyn)
        }
        other => panic!("unknown call {other}"),
    }
}

fn layer_spec(case: &Case) -> ConvSpec {
    ConvSpec::correlation()
        .stride(case.stride.as_slice())
        .dilation(case.dilation.as_slice())
        .groups(case.groups)
        .padding(Padding::Explicit(case.padding.clone()))
}

#[test]
fn scipy_and_torch_volumes_on_every_backend() {
    let cases = golden();
    assert!(cases.len() >= 60);
    let auto: Box<dyn ConvBackend<f64>> = Box::new(Auto::new());
    for backend in builtin_backends::<f64>().iter().map(|b| b.as_ref()).chain([auto.as_ref()]) {
        let mut solved = 0;
        for case in &cases {
            match run(case, backend) {
                Ok(got) => {
                    assert_close(&case.name, backend.name(), &got, &case.expected);
                    solved += 1;
                }
                // Only Winograd may refuse (kernels of 3 or 1 taps per axis at stride 1 only).
                Err(ConvError::Unsupported { .. }) if backend.name() == "winograd" => {}
                Err(e) => panic!("{} on {}: {e}", case.name, backend.name()),
            }
        }
        if backend.name() == "winograd" {
            // Winograd's cases: the six scipy calls with a 3x3x3 kernel and torch's conv3d_0.
            assert_eq!(solved, 7, "winograd solved {solved} volume cases");
        } else {
            assert_eq!(solved, cases.len(), "{} solved every case", backend.name());
        }
    }
}

#[test]
fn conv3d_channels_last_is_the_transposed_conv3d() {
    for case in golden().iter().filter(|c| c.func == "conv3d") {
        let x = case.in1.array().into_dimensionality::<ndarray::Ix5>().expect("5-D");
        let w = case.in2.array().into_dimensionality::<ndarray::Ix5>().expect("5-D");
        let ndhwc = x.view().permuted_axes([0, 2, 3, 4, 1]).to_owned();
        for backend in builtin_backends::<f64>() {
            let spec = layer_spec(case).layout(Layout::ChannelsLast);
            let got = match conv3d_with(&ndhwc, &w, &spec, backend.as_ref()) {
                Err(ConvError::Unsupported { .. }) => continue,
                other => other.expect("channels last solves"),
            };
            let back = got.permuted_axes([0, 4, 1, 2, 3]).into_dyn();
            assert_close(&case.name, backend.name(), &back.to_owned(), &case.expected);
        }
    }
}

#[test]
fn bad_volume_requests_get_typed_errors() {
    let volume = Array5::<f64>::ones((1, 2, 4, 4, 4));
    // Weights whose channels do not match, kernels larger than the volume, parameters per axis.
    let wrong_channels = Array5::<f64>::ones((3, 3, 2, 2, 2));
    let spec = ConvSpec::correlation();
    assert!(matches!(
        conv_core::conv3d(&volume, &wrong_channels, &spec),
        Err(ConvError::ChannelMismatch { .. })
    ));
    let too_deep = Array5::<f64>::ones((1, 2, 5, 2, 2));
    assert!(matches!(
        conv_core::conv3d(&volume, &too_deep, &spec),
        Err(ConvError::KernelLargerThanInput { .. })
    ));
    let two_strides = spec.clone().stride([1, 2]);
    let kernel = Array5::<f64>::ones((1, 2, 2, 2, 2));
    assert!(matches!(
        conv_core::conv3d(&volume, &kernel, &two_strides),
        Err(ConvError::ParameterLength { parameter: "stride", got: 2, spatial_axes: 3 })
    ));
    assert!(matches!(
        conv_core::conv3d(&volume, &kernel, &spec.clone().dilation([1, 0, 1])),
        Err(ConvError::ZeroDilation { axis: 1 })
    ));
    // A volume over the cap is refused before anything is allocated.
    let capped = spec.clone().max_buffer_bytes(100);
    assert!(matches!(conv_core::conv3d(&volume, &kernel, &capped), Err(ConvError::TooLarge { .. })));
    let empty = Array5::<f64>::zeros((1, 2, 0, 4, 4));
    assert!(matches!(conv_core::conv3d(&empty, &kernel, &spec), Err(ConvError::Empty { .. })));
    // The scipy-style calls: a volume against an image, a hypercube, mixed valid shapes.
    let cube = ArrayD::<f64>::ones(IxDyn(&[3, 3, 3]));
    let square = ArrayD::<f64>::ones(IxDyn(&[2, 2]));
    assert!(matches!(conv_core::convolve(&cube, &square, Mode::Full), Err(ConvError::RankMismatch { .. })));
    let mixed = ArrayD::<f64>::ones(IxDyn(&[2, 4, 2]));
    assert!(matches!(
        conv_core::convolve(&cube, &mixed, Mode::Valid),
        Err(ConvError::ValidModeShapes { .. })
    ));
    // The `axes` calls: bad axes, a kernel longer than 1 on an axis not filtered.
    let batch = ArrayD::<f64>::ones(IxDyn(&[4, 6]));
    let row = ArrayD::<f64>::ones(IxDyn(&[1, 3]));
    for axes in [&[][..], &[2], &[1, 1], &[0, 1, 0, 1]] {
        assert!(
            matches!(conv_core::convolve_along(&batch, &row, Mode::Full, axes), Err(ConvError::Axes { .. })),
            "{axes:?}"
        );
    }
    assert!(matches!(
        conv_core::convolve_along(&batch, &ArrayD::<f64>::ones(IxDyn(&[2, 3])), Mode::Full, &[1]),
        Err(ConvError::KernelNotBroadcast { axis: 0, size: 2, .. })
    ));
}

/// conv3d's gradients on every backend, by the adjoint identities: for the loss
/// `L = <conv3d(x, w), G>`, `<dL/dx, v> = <conv3d(v, w), G>` and `<dL/dw, u> = <conv3d(x, u), G>`
/// (the boundary rule reads the input, so both sides see the padding's adjoint too).
#[test]
fn conv3d_gradients_satisfy_the_adjoint_identities_on_every_backend() {
    use conv_core::{Boundary, Direct, conv3d_input_gradient, conv3d_kernel_gradient};
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let spec = ConvSpec::correlation()
        .stride([1, 2, 1])
        .dilation([2, 1, 1])
        .groups(2)
        .padding(Padding::Explicit(vec![(1, 0), (2, 1), (0, 2)]))
        .boundary(Boundary::Reflect);
    let x = Array5::from_shape_simple_fn((2, 4, 6, 7, 5), &mut next);
    let w = Array5::from_shape_simple_fn((4, 2, 2, 3, 2), &mut next);
    let y = conv_core::conv3d_with(&x, &w, &spec, &Direct).expect("the layer solves");
    let g = y.mapv(|_| next());
    let v = x.mapv(|_| next());
    let u = w.mapv(|_| next());
    let dot = |a: &Array5<f64>, b: &Array5<f64>| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    let want_input = dot(&conv_core::conv3d_with(&v, &w, &spec, &Direct).expect("solves"), &g);
    let want_kernel = dot(&conv_core::conv3d_with(&x, &u, &spec, &Direct).expect("solves"), &g);
    for backend in builtin_backends::<f64>() {
        let b = backend.as_ref();
        match conv3d_input_gradient(x.dim().into(), &w, &g, &spec, b) {
            Ok(dx) => assert!((dot(&dx, &v) - want_input).abs() < 1e-9, "{}: input gradient", b.name()),
            Err(ConvError::Unsupported { .. }) => {}
            Err(e) => panic!("{}: {e}", b.name()),
        }
        match conv3d_kernel_gradient(&x, w.dim().into(), &g, &spec, b) {
            Ok(dw) => assert!((dot(&dw, &u) - want_kernel).abs() < 1e-9, "{}: kernel gradient", b.name()),
            Err(ConvError::Unsupported { .. }) => {}
            Err(e) => panic!("{}: {e}", b.name()),
        }
    }
    // An output gradient of the wrong shape is refused with the expected shape.
    let wrong = Array5::<f64>::zeros((2, 4, 1, 1, 1));
    assert!(matches!(
        conv3d_input_gradient(x.dim().into(), &w, &wrong, &spec, &Direct),
        Err(ConvError::ShapeMismatch { .. })
    ));
}
