//! Any bytes as a weights file for a small model: refused with a typed error or loaded whole.
#![no_main]
use cnn::Sequential;
use cnn::layers::{Conv2D, Dense, Flatten};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut model = Sequential::<f32>::new(&[4, 4, 1], 0);
    model.add(Conv2D::new(2, (3, 3))).expect("builds");
    model.add(Flatten::new()).expect("builds");
    model.add(Dense::new(3)).expect("builds");
    let before = model.weights_to_bytes().expect("serialises");
    if model.load_weights_from_bytes(data).is_err() {
        assert_eq!(model.weights_to_bytes().expect("serialises"), before, "a refused file changed the model");
    }
});
