//! Any bytes through the CIFAR-10 batch reader.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(batch) = cnn::data::read_cifar10_batch::<f32>(data, std::path::Path::new("fuzz.bin")) {
        assert_eq!(batch.images.shape(), &[batch.labels.len(), 32, 32, 3]);
        assert!(batch.images.iter().all(|v| (0.0..=1.0).contains(v)));
    }
});
