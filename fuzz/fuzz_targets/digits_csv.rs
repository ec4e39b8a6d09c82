//! Any text through the digits CSV parser.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(digits) = cnn::data::parse_digits_csv::<f32>(&text, std::path::Path::new("fuzz.csv")) {
        assert_eq!(digits.images.shape(), &[digits.labels.len(), 8, 8, 1]);
        assert!(digits.labels.iter().all(|&l| l < 10));
    }
});
