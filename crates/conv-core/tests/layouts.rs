//! `Layout::ChannelsLast` in the layer calls: the same numbers as channels first, with the input
//! and output axes moved, for every backend, padding rule and boundary rule.

use conv_core::{
    Boundary, ConvSpec, Direct, Layout, Mode, Padding, PreparedConv2d, builtin_backends, conv1d_with,
    conv2d_with,
};
use ndarray::{Array3, Array4};

use crate::common::Values;
fn specs() -> Vec<ConvSpec> {
    vec![
        ConvSpec::correlation(),
        ConvSpec::correlation().padding(Padding::SameUpper).stride(2),
        ConvSpec::convolution().mode(Mode::Full).boundary(Boundary::Reflect),
        ConvSpec::correlation().padding(Padding::Explicit(vec![(2, 1), (0, 3)])).boundary(Boundary::Circular),
        ConvSpec::correlation().mode(Mode::Same).boundary(Boundary::Constant(0.5)).dilation([1, 2]),
        ConvSpec::correlation()
            .padding(Padding::Explicit(vec![(1, 1)]))
            .boundary(Boundary::Symmetric)
            .groups(2),
        ConvSpec::correlation().padding(Padding::Explicit(vec![(3, 2)])).boundary(Boundary::Replicate),
    ]
}

#[test]
fn channels_last_conv2d_is_channels_first_with_the_axes_moved() {
    let mut rng = Values(7);
    let input = rng.array([2, 4, 7, 6]);
    let nhwc = input.view().permuted_axes([0, 2, 3, 1]).as_standard_layout().into_owned();
    for spec in specs() {
        let weights = rng.array([4, 4 / spec.groups, 3, 2]);
        let expected = conv2d_with(&input, &weights, &spec, &Direct).unwrap();
        let last = spec.clone().layout(Layout::ChannelsLast);
        for backend in builtin_backends::<f64>() {
            let Ok(got) = conv2d_with(&nhwc, &weights, &last, &*backend) else {
                // A backend that refuses this shape (Winograd: 3x3 only) refuses it either way.
                assert!(conv2d_with(&input, &weights, &spec, &*backend).is_err());
                continue;
            };
            let got = got.permuted_axes([0, 3, 1, 2]);
            assert_eq!(got.shape(), expected.shape(), "{} {spec:?}", backend.name());
            let worst = got.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(worst < 1e-10, "{} {spec:?}: off by {worst}", backend.name());
        }
    }
}

#[test]
fn channels_last_strided_views_and_prepared_layers_agree() {
    let mut rng = Values(8);
    let input = rng.array([3, 3, 9, 5]);
    let weights = rng.array([6, 3, 3, 3]);
    let spec = ConvSpec::correlation().padding(Padding::SameUpper);
    let expected = conv2d_with(&input, &weights, &spec, &Direct).unwrap().permuted_axes([0, 2, 3, 1]);
    // A non-contiguous channels-last view of the same images.
    let view = input.view().permuted_axes([0, 2, 3, 1]);
    let last = spec.layout(Layout::ChannelsLast);
    for backend in builtin_backends::<f64>() {
        let Ok(prepared) = PreparedConv2d::new([3, 9, 5, 3], &weights, &last, &*backend) else {
            continue;
        };
        assert_eq!(prepared.output_shape(), [3, 9, 5, 6]);
        for got in [prepared.run(&view).unwrap(), conv2d_with(&view, &weights, &last, &*backend).unwrap()] {
            let worst = got.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(worst < 1e-10, "{}: off by {worst}", backend.name());
        }
        // The channels-first shape is refused by a channels-last layer.
        assert!(prepared.run(&input).is_err());
    }
}

#[test]
fn channels_last_conv1d_moves_the_channel_axis() {
    let mut rng = Values(9);
    let input = Array3::from_shape_fn((2, 3, 11), |_| rng.next());
    let weights = Array3::from_shape_fn((5, 3, 4), |_| rng.next());
    let spec = ConvSpec::correlation().mode(Mode::Full).boundary(Boundary::Reflect);
    let expected = conv1d_with(&input, &weights, &spec, &Direct).unwrap();
    let nwc = input.view().permuted_axes([0, 2, 1]);
    let got = conv1d_with(&nwc, &weights, &spec.layout(Layout::ChannelsLast), &Direct).unwrap();
    assert_eq!(got.shape(), &[2, 14, 5]);
    let worst =
        got.permuted_axes([0, 2, 1]).iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-12, "off by {worst}");
}

#[test]
fn channels_last_shape_errors_name_the_callers_shape() {
    let weights = Array4::<f64>::ones((2, 3, 3, 3));
    let last = ConvSpec::correlation().layout(Layout::ChannelsLast);
    // Three channels stored first are four "channels" stored last: a channel mismatch.
    let wrong = Array4::<f64>::ones((1, 3, 8, 4));
    assert!(matches!(
        conv2d_with(&wrong, &weights, &last, &Direct),
        Err(conv_core::ConvError::ChannelMismatch { in_channels: 4, .. })
    ));
    let empty = Array4::<f64>::ones((1, 8, 0, 3));
    assert!(matches!(
        conv2d_with(&empty, &weights, &last, &Direct),
        Err(conv_core::ConvError::Empty { shape, .. }) if shape == vec![1, 8, 0, 3]
    ));
}
