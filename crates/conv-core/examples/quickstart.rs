//! Convolve a signal with each backend, the way the README and the book show it.
//!
//! Run with `cargo run -p conv-core --example quickstart`.

use conv_core::{
    Boundary, ConvError, ConvSpec, Direct, Fft, Im2col, Mode, Padding, Toeplitz, builtin_backends,
    conv2d_with, convolve, convolve_with, convolve2d,
};
use ndarray::{Array4, array};

fn main() -> Result<(), ConvError> {
    // ANCHOR: polynomial
    // (1 + 2t + 3t^2)(4 + 5t + 6t^2 + 7t^3) as a full convolution of coefficient lists.
    let p = array![1.0, 2.0, 3.0];
    let s = array![4.0, 5.0, 6.0, 7.0];
    let product = convolve(&p, &s, Mode::Full)?; // like scipy.signal.convolve(p, s, "full")
    assert_eq!(product, array![4.0, 13.0, 28.0, 34.0, 32.0, 21.0]);
    // ANCHOR_END: polynomial
    println!("polynomial product: {product}");

    // ANCHOR: backends
    // The same convolution, computed by each built-in backend.
    let signal = array![0.0_f64, 1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0];
    let kernel = array![1.0, 0.5, 0.25];
    let reference = convolve_with(&signal, &kernel, Mode::Same, &Direct)?;
    let by_matrix = convolve_with(&signal, &kernel, Mode::Same, &Toeplitz::default())?;
    let by_fft = convolve_with(&signal, &kernel, Mode::Same, &Fft::default())?;
    let by_gemm = convolve_with(&signal, &kernel, Mode::Same, &Im2col::default())?;
    for other in [&by_matrix, &by_fft, &by_gemm] {
        assert!(other.iter().zip(&reference).all(|(a, b)| (a - b).abs() < 1e-12));
    }
    // ANCHOR_END: backends
    println!("same-mode echo filter: {reference}");

    // ANCHOR: boundary
    // scipy.signal.convolve2d(image, kernel, "same", boundary="symm")
    let image = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]];
    let box_blur = array![[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]] / 9.0;
    let blurred = convolve2d(&image, &box_blur, Mode::Same, Boundary::Symmetric)?;
    // ANCHOR_END: boundary
    println!("blurred image:\n{blurred:.3}");

    // ANCHOR: layer
    // A CNN layer: batch of 4 RGB 32x32 images, 8 filters of 3x3, Keras padding="same", stride 2.
    let input = Array4::<f32>::from_shape_fn((4, 3, 32, 32), |(n, c, y, x)| ((n + c + y * x) % 7) as f32);
    let weights =
        Array4::<f32>::from_shape_fn((8, 3, 3, 3), |(o, c, i, j)| ((o + c + i + j) % 3) as f32 - 1.0);
    let spec = ConvSpec::correlation().padding(Padding::SameUpper).stride(2);
    for backend in builtin_backends::<f32>() {
        match conv2d_with(&input, &weights, &spec, backend.as_ref()) {
            Ok(out) => println!("{:>8}: output shape {:?}", backend.name(), out.shape()),
            Err(refusal) => println!("{:>8}: {refusal}", backend.name()),
        }
    }
    // ANCHOR_END: layer
    Ok(())
}
