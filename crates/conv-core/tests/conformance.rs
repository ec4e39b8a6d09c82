//! Every built-in backend against the Direct oracle, through the public conformance kit.

use conv_core::{Direct, Fft, Im2col, Toeplitz, testkit};

#[test]
fn direct_conforms_f64() {
    testkit::assert_conforms::<f64>(&Direct);
}

#[test]
fn direct_conforms_f32() {
    testkit::assert_conforms::<f32>(&Direct);
}

#[test]
fn toeplitz_conforms_f64() {
    testkit::assert_conforms::<f64>(&Toeplitz::default());
}

#[test]
fn toeplitz_conforms_f32() {
    testkit::assert_conforms::<f32>(&Toeplitz::default());
}

#[test]
fn fft_conforms_f64() {
    testkit::assert_conforms::<f64>(&Fft::default());
}

#[test]
fn fft_conforms_f32() {
    testkit::assert_conforms::<f32>(&Fft::default());
}

#[test]
fn im2col_conforms_f64() {
    testkit::assert_conforms::<f64>(&Im2col::default());
}

#[test]
fn im2col_conforms_f32() {
    testkit::assert_conforms::<f32>(&Im2col::default());
}

/// Capped backends must refuse what they cannot hold, and the kit checks the refusal.
#[test]
fn tightly_capped_backends_refuse_instead_of_answering() {
    testkit::assert_conforms::<f64>(&Toeplitz::with_cap_bytes(2048));
    testkit::assert_conforms::<f64>(&Im2col::with_cap_bytes(256));
    testkit::assert_conforms::<f64>(&Fft::with_cap_bytes(4096));
}

/// Most drawn requests must reach the backends: a kit whose draws were mostly rejected by the
/// front end would pass anything.
#[test]
fn most_drawn_problems_are_valid_requests() {
    let draws = 400;
    let valid = (0..draws).filter(|&seed| testkit::is_valid(&testkit::sample_case(seed).shape)).count();
    assert!(valid * 100 >= draws as usize * 70, "only {valid} of {draws} draws are valid requests");
    assert!(valid < draws as usize, "no invalid draws: error paths are not exercised");
}
