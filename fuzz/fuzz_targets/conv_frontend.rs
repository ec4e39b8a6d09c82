//! Arbitrary specs and small arrays through the scipy-style front end on every backend: each
//! call returns a typed error or agrees with Direct; nothing panics, hangs or allocates past the
//! spec's buffer cap.
#![no_main]
use arbitrary::Arbitrary;
use conv_core::{Boundary, ConvError, ConvSpec, Direct, Mode, Padding, builtin_backends, filter_with};
use libfuzzer_sys::fuzz_target;
use ndarray::ArrayD;

#[derive(Arbitrary, Debug)]
struct Request {
    two_dimensional: bool,
    input_dims: [u8; 2],
    kernel_dims: [u8; 2],
    correlation: bool,
    padding: u8,
    explicit: [[u8; 2]; 2],
    boundary: u8,
    fill: i8,
    stride: [u8; 2],
    dilation: [u8; 2],
    backend: u8,
    values: Vec<i8>,
}

fn array(dims: &[usize], values: &[i8], offset: usize) -> ArrayD<f64> {
    let len: usize = dims.iter().product();
    let data = (0..len)
        .map(|flat| match values.get((flat * 31 + offset) % values.len().max(1)).copied().unwrap_or(1) {
            i8::MIN => f64::NAN,
            v => f64::from(v) / 8.0,
        })
        .collect();
    ArrayD::from_shape_vec(dims.to_vec(), data).unwrap_or_else(|_| ArrayD::zeros(vec![0]))
}

fuzz_target!(|request: Request| {
    let rank = if request.two_dimensional { 2 } else { 1 };
    let input_dims: Vec<usize> = request.input_dims[..rank].iter().map(|&d| usize::from(d % 12)).collect();
    let kernel_dims: Vec<usize> = request.kernel_dims[..rank].iter().map(|&d| usize::from(d % 6)).collect();
    let input = array(&input_dims, &request.values, 0);
    let kernel = array(&kernel_dims, &request.values, 7);
    let padding = match request.padding % 5 {
        0 => Padding::Mode(Mode::Full),
        1 => Padding::Mode(Mode::Same),
        2 => Padding::Mode(Mode::Valid),
        3 => Padding::SameUpper,
        _ => Padding::Explicit(
            request.explicit[..rank]
                .iter()
                .map(|p| (usize::from(p[0] % 20), usize::from(p[1] % 20)))
                .collect(),
        ),
    };
    let boundary = match request.boundary % 6 {
        0 => Boundary::Zeros,
        1 => Boundary::Constant(f64::from(request.fill)),
        2 => Boundary::Symmetric,
        3 => Boundary::Reflect,
        4 => Boundary::Replicate,
        _ => Boundary::Circular,
    };
    let spec = if request.correlation { ConvSpec::correlation() } else { ConvSpec::convolution() }
        .padding(padding)
        .boundary(boundary)
        .stride(conv_core::PerAxis(request.stride[..rank].iter().map(|&s| usize::from(s % 4)).collect()))
        .dilation(conv_core::PerAxis(request.dilation[..rank].iter().map(|&d| usize::from(d % 4)).collect()))
        .max_buffer_bytes(64 << 20);

    let reference = filter_with(&input, &kernel, &spec, &Direct);
    let backends = builtin_backends::<f64>();
    let backend = &backends[usize::from(request.backend) % backends.len()];
    let result = filter_with(&input, &kernel, &spec, backend.as_ref());
    match (&reference, &result) {
        (Ok(want), Ok(got)) => {
            assert_eq!(want.shape(), got.shape());
            // With NaN in the operands only the shape is comparable: the transform backends
            // spread a NaN over every output of its block, as their docs say; Direct over its
            // window only.
            if input.iter().chain(kernel.iter()).any(|v| !v.is_finite()) {
                return;
            }
            let scale = kernel.iter().map(|v| v.abs()).filter(|v| v.is_finite()).sum::<f64>().max(1.0) * 16.0;
            for (w, g) in want.iter().zip(got.iter()) {
                if w.is_finite() {
                    assert!((w - g).abs() <= 1e-9 * scale, "{}: {g} vs direct {w}", backend.name());
                }
            }
        }
        (Ok(_), Err(ConvError::Unsupported { .. } | ConvError::TooLarge { .. })) => {}
        (Ok(_), Err(other)) => panic!("{} refused what Direct solved: {other}", backend.name()),
        (Err(_), Err(_)) => {}
        (Err(e), Ok(_)) => panic!("{} solved what Direct refused ({e})", backend.name()),
    }
});
