//! Any bytes, gzip-compressed, as an MNIST IDX file and a CIFAR-10 batch read from disk: the
//! real path of `read_idx_file`/`load_cifar10` (magic detection, inflation with its 512 MiB
//! cap, parsing). A typed result, never a panic or an allocation past the cap.
#![no_main]
use std::io::Write;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("convkit-fuzz-gzip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    // The input as it is (it may itself be gzip, or a truncated gzip stream) and gzipped.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).expect("compresses in memory");
    let gzipped = encoder.finish().expect("compresses in memory");
    for (name, bytes) in [("raw.idx", data), ("packed.idx.gz", &gzipped[..])] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("writes the temporary file");
        if let Ok(array) = cnn::data::read_idx_file(&path) {
            assert_eq!(array.data.len(), array.dims.iter().product::<usize>());
        }
    }
    // CIFAR-10: the loader reads data_batch_1.bin and test_batch.bin from a directory.
    let cifar = dir.join("cifar");
    std::fs::create_dir_all(&cifar).expect("a temporary directory");
    std::fs::write(cifar.join("data_batch_1.bin"), &gzipped).expect("writes");
    std::fs::write(cifar.join("test_batch.bin"), data).expect("writes");
    if let Ok((train, test)) = cnn::data::load_cifar10::<f32>(&cifar, 1) {
        assert_eq!(train.images.shape()[1..], [32, 32, 3]);
        assert_eq!(test.images.shape()[0], test.labels.len());
    }
});
