//! What a user reads when a call is refused: every message speaks in the caller's shapes and
//! names the right thing (issue "The front door"). One test per message.

use conv_core::{
    ConvSpec, Direct, Mode, PreparedConv2d, choose_conv_method, convolve, convolve_complex, correlate,
    deconvolve, filter_with, wiener_deconvolve,
};
use ndarray::{Array1, Array4, ArrayD, IxDyn, array};
use num_complex::Complex64;

#[test]
fn an_empty_signal_is_reported_with_its_own_shape() {
    let err = convolve(&Array1::<f64>::zeros(0), &array![1.0, 2.0], Mode::Full).unwrap_err();
    assert_eq!(err.to_string(), "the input is empty (shape [0])");
    let err = correlate(&array![1.0, 2.0], &Array1::<f64>::zeros(0), Mode::Same).unwrap_err();
    assert_eq!(err.to_string(), "the kernel is empty (shape [0])");
    let empty = ArrayD::<Complex64>::zeros(IxDyn(&[3, 0]));
    let one = ArrayD::<Complex64>::ones(IxDyn(&[2, 2]));
    let err = convolve_complex(&empty, &one, Mode::Full).unwrap_err();
    assert_eq!(err.to_string(), "the input is empty (shape [3, 0])");
}

#[test]
fn operands_of_different_ranks_are_named_as_given() {
    let signal = ArrayD::<f64>::ones(IxDyn(&[5]));
    let kernel = ArrayD::<f64>::ones(IxDyn(&[2, 2]));
    let err = convolve(&signal, &kernel, Mode::Full).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the input has 1 axis (shape [5]) but the kernel has 2 axes (shape [2, 2]); \
         both must have the same number of axes"
    );
}

#[test]
fn a_rank_the_call_does_not_take_names_the_call() {
    let hypercube = ArrayD::<f64>::ones(IxDyn(&[4, 4, 4, 4]));
    let err = convolve(&hypercube, &hypercube, Mode::Same).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the input has 4 axes (shape [4, 4, 4, 4]); convolve takes 1-D, 2-D or 3-D arrays"
    );
    let scalar = ArrayD::<f64>::ones(IxDyn(&[]));
    let err = correlate(&ArrayD::<f64>::ones(IxDyn(&[3])), &scalar, Mode::Full).unwrap_err();
    assert_eq!(err.to_string(), "the kernel has 0 axes (shape []); correlate takes 1-D, 2-D or 3-D arrays");
}

#[test]
fn valid_mode_shapes_are_the_callers() {
    let err = convolve(&ndarray::Array2::<f64>::zeros((3, 1)), &ndarray::Array2::zeros((1, 3)), Mode::Valid)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "mode Valid needs one operand at least as large as the other on every axis \
         (input [3, 1], kernel [1, 3])"
    );
}

#[test]
fn a_prepared_layer_given_another_shape_says_which_it_was_planned_for() {
    let weights = Array4::<f64>::ones((2, 3, 3, 3));
    let layer = PreparedConv2d::new([1, 3, 8, 8], &weights, &ConvSpec::correlation(), &Direct).unwrap();
    let err = layer.run(&Array4::<f64>::ones((1, 3, 9, 8))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the input has shape [1, 3, 9, 8] but this PreparedConv2d was planned for shape [1, 3, 8, 8]"
    );
}

#[test]
fn deconvolution_parameters_are_invalid_parameters_not_non_finite_values() {
    let err = deconvolve(&array![1.0, 2.0, 3.0], &array![0.0, 1.0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "divisor[0] = 0.0 is invalid: the divisor's leading coefficient must be finite and non-zero \
         (it divides every step)"
    );
    let err = wiener_deconvolve(&array![1.0, 2.0], &array![1.0], -1.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "lambda = -1.0 is invalid: the regularisation weight must be finite and at least 0"
    );
    let err = wiener_deconvolve(&array![1.0], &array![1.0, 2.0], 0.0).unwrap_err();
    assert!(err.to_string().contains("(input [1], kernel [2])"), "{err}");
}

#[test]
fn a_per_axis_list_of_the_wrong_length_says_what_fits() {
    let spec = ConvSpec::correlation().stride([1, 2, 3]);
    let err = filter_with(&array![1.0, 2.0, 3.0], &array![1.0], &spec, &Direct).unwrap_err();
    assert_eq!(err.to_string(), "stride has 3 values but the problem has 1 spatial axis; give one value");
    let image = ndarray::Array2::<f64>::ones((4, 4));
    let err = filter_with(&image, &ndarray::Array2::ones((2, 2)), &spec, &Direct).unwrap_err();
    assert_eq!(
        err.to_string(),
        "stride has 3 values but the problem has 2 spatial axes; \
         give one value (used on every axis) or 2 (one per axis)"
    );
}

#[test]
fn choose_conv_method_reports_the_same_errors_in_the_same_words() {
    let err = choose_conv_method(&Array1::<f64>::zeros(0), &array![1.0], Mode::Same).unwrap_err();
    assert_eq!(err.to_string(), "the input is empty (shape [0])");
    let hypercube = ArrayD::<f64>::ones(IxDyn(&[2, 2, 2, 2]));
    let err = choose_conv_method(&hypercube, &hypercube, Mode::Full).unwrap_err();
    assert!(err.to_string().contains("choose_conv_method takes 1-D, 2-D or 3-D arrays"), "{err}");
}

#[test]
fn fill_values_are_checked_against_the_element_type_and_require_finite() {
    use conv_core::{Boundary, convolve2d};
    let image = ndarray::Array2::<f32>::ones((4, 4));
    let blur = ndarray::Array2::<f32>::ones((3, 3));
    let err = convolve2d(&image, &blur, Mode::Same, Boundary::Constant(1e300)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Boundary::Constant = 1e300 is invalid: the fill value does not fit the element type (it would become infinity)"
    );
    let spec =
        ConvSpec::convolution().mode(Mode::Same).boundary(Boundary::Constant(f64::NAN)).require_finite(true);
    let err = filter_with(&array![1.0, 2.0], &array![1.0, 1.0], &spec, &Direct).unwrap_err();
    assert!(err.to_string().contains("require_finite(true) refuses a non-finite fill value"), "{err}");
    // Without require_finite a NaN fill is IEEE arithmetic, as documented: it reaches the edges.
    let spec = ConvSpec::convolution().mode(Mode::Same).boundary(Boundary::Constant(f64::NAN));
    let y = filter_with(&array![1.0_f64, 2.0, 3.0], &array![1.0, 1.0, 1.0], &spec, &Direct).unwrap();
    assert!(y[0].is_nan() && y[1].is_finite() && y[2].is_nan(), "{y}");
}
