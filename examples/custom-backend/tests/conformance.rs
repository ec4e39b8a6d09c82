//! The whole test a backend author writes: the conformance kit, for each element type.

use custom_backend::Winograd;

#[test]
fn winograd_conforms_f64() {
    conv_core::testkit::assert_conforms::<f64>(&Winograd);
}

#[test]
fn winograd_conforms_f32() {
    conv_core::testkit::assert_conforms::<f32>(&Winograd);
}
