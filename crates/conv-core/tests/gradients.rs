//! The layer gradients (`conv2d_input_gradient`, `conv2d_kernel_gradient`, and the
//! `ConvBackend::input_gradient` / `kernel_gradient` methods under them) checked by the
//! definition of a gradient of a linear map: for `L(x, w) = <conv2d(x, w), G>`,
//! `<dL/dx, v> = <conv2d(v, w) - conv2d(0, w), G>` for every `v` (the constant padding's share
//! cancels), and `<dL/dw, u> = <conv2d(x, u), G>` for every `u`. Every backend, both layouts,
//! strides, dilations, groups, every boundary rule, convolution and correlation.

use conv_core::{
    Boundary, ConvError, ConvSpec, Direct, Layout, Mode, Padding, builtin_backends, conv2d_input_gradient,
    conv2d_kernel_gradient, conv2d_with,
};
use ndarray::Array4;

use crate::common::Values;

fn dot(a: &Array4<f64>, b: &Array4<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn specs() -> Vec<ConvSpec> {
    vec![
        ConvSpec::correlation(),
        ConvSpec::correlation().stride([2, 3]),
        ConvSpec::correlation().padding(Padding::SameUpper).stride(2),
        ConvSpec::convolution().mode(Mode::Full).dilation([2, 1]),
        ConvSpec::correlation().padding(Padding::Explicit(vec![(2, 1), (1, 3)])).boundary(Boundary::Reflect),
        ConvSpec::correlation().mode(Mode::Same).boundary(Boundary::Circular).stride([1, 2]),
        ConvSpec::convolution()
            .padding(Padding::Explicit(vec![(1, 1)]))
            .boundary(Boundary::Symmetric)
            .groups(2),
        ConvSpec::correlation()
            .padding(Padding::Explicit(vec![(3, 2)]))
            .boundary(Boundary::Replicate)
            .groups(4),
        ConvSpec::correlation().padding(Padding::Explicit(vec![(1, 2)])).boundary(Boundary::Constant(0.7)),
    ]
}

#[test]
fn gradients_are_the_adjoints_of_the_layer_on_every_backend() {
    let mut values = Values(11);
    let (n, c, o, h, w) = (2, 4, 4, 9, 8);
    let mut checked = 0;
    for spec in specs() {
        for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
            let spec = spec.clone().layout(layout);
            let input_shape = match layout {
                Layout::ChannelsFirst => [n, c, h, w],
                Layout::ChannelsLast => [n, h, w, c],
            };
            let weights_shape = [o, c / spec.groups, 3, 2];
            let (x, wts) = (values.array(input_shape), values.array(weights_shape));
            let (v, u) = (values.array(input_shape), values.array(weights_shape));
            let y = conv2d_with(&x, &wts, &spec, &Direct).unwrap();
            let g = values.array(y.shape().try_into().unwrap());
            let zero = Array4::zeros(input_shape);
            let input_side = dot(
                &(conv2d_with(&v, &wts, &spec, &Direct).unwrap()
                    - conv2d_with(&zero, &wts, &spec, &Direct).unwrap()),
                &g,
            );
            let kernel_side = dot(&conv2d_with(&x, &u, &spec, &Direct).unwrap(), &g);
            let mut backends = builtin_backends::<f64>();
            backends.push(std::sync::Arc::new(conv_core::Auto::new()));
            for backend in backends {
                let name = backend.name().to_string();
                let grad_x = match conv2d_input_gradient(input_shape, &wts, &g, &spec, &*backend) {
                    Ok(grad) => grad,
                    Err(ConvError::Unsupported { .. }) => continue, // Winograd: 3x3 kernels only
                    Err(other) => panic!("{name} {spec:?}: {other}"),
                };
                let grad_w = conv2d_kernel_gradient(&x, weights_shape, &g, &spec, &*backend).unwrap();
                let (got_x, got_w) = (dot(&grad_x, &v), dot(&grad_w, &u));
                assert!(
                    (got_x - input_side).abs() < 1e-9 * (1.0 + input_side.abs()),
                    "{name} {spec:?}: input {got_x} vs {input_side}"
                );
                assert!(
                    (got_w - kernel_side).abs() < 1e-9 * (1.0 + kernel_side.abs()),
                    "{name} {spec:?}: kernel {got_w} vs {kernel_side}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 9 * 2 * 6, "only {checked} cases ran");
}

#[test]
fn winograd_trains_3x3_layers() {
    let mut values = Values(12);
    let spec = ConvSpec::correlation().padding(Padding::SameUpper).layout(Layout::ChannelsLast);
    let (x, wts) = (values.array([2, 6, 6, 3]), values.array([4, 3, 3, 3]));
    let g = values.array([2, 6, 6, 4]);
    // The input gradient through its own transform (a 3x3 stride-1 problem).
    let reference = conv2d_input_gradient([2, 6, 6, 3], &wts, &g, &spec, &Direct).unwrap();
    let winograd = conv2d_input_gradient([2, 6, 6, 3], &wts, &g, &spec, &conv_core::Winograd).unwrap();
    let worst = reference.iter().zip(&winograd).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-10, "off by {worst}");
    // The kernel gradient's problem has a 6x6 "kernel", which F(2x2, 3x3) cannot take: Im2col's.
    let reference = conv2d_kernel_gradient(&x, [4, 3, 3, 3], &g, &spec, &Direct).unwrap();
    let winograd = conv2d_kernel_gradient(&x, [4, 3, 3, 3], &g, &spec, &conv_core::Winograd).unwrap();
    let worst = reference.iter().zip(&winograd).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-10, "off by {worst}");
}

#[test]
fn wrong_output_gradients_are_refused_with_both_shapes() {
    let spec = ConvSpec::correlation();
    let weights = Array4::<f64>::ones((2, 3, 3, 3));
    let input = Array4::<f64>::ones((1, 3, 5, 5));
    let wrong = Array4::<f64>::ones((1, 2, 3, 4));
    for result in [
        conv2d_input_gradient([1, 3, 5, 5], &weights, &wrong, &spec, &Direct),
        conv2d_kernel_gradient(&input, [2, 3, 3, 3], &wrong, &spec, &Direct),
    ] {
        let Err(ConvError::ShapeMismatch { expected, got, .. }) = result else {
            panic!("{result:?}");
        };
        assert_eq!((expected, got), (vec![1, 2, 3, 3], vec![1, 2, 3, 4]));
    }
    let nan = Array4::from_elem((1, 2, 3, 3), f64::NAN);
    let finite = spec.require_finite(true);
    assert!(matches!(
        conv2d_input_gradient([1, 3, 5, 5], &weights, &nan, &finite, &Direct),
        Err(ConvError::NonFinite { .. })
    ));
}
