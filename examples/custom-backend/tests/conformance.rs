//! The whole test a backend author writes: the conformance kit, for each element type.

use custom_backend::Pointwise;

#[test]
fn pointwise_conforms_f64() {
    conv_core::testkit::assert_conforms::<f64>(&Pointwise);
}

#[test]
fn pointwise_conforms_f32() {
    conv_core::testkit::assert_conforms::<f32>(&Pointwise);
}
