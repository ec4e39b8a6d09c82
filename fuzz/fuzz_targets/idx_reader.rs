//! Any bytes through the MNIST IDX reader: a typed result, never a panic or a huge allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(array) = cnn::data::read_idx(data, std::path::Path::new("fuzz.idx")) {
        assert_eq!(array.data.len(), array.dims.iter().product::<usize>());
    }
});
