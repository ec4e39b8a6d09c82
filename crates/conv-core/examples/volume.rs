//! Smooth a 3-D density field with a Gaussian kernel, the way the README and the book show it;
//! then filter a batch of signals along one axis and run a conv3d layer.
//!
//! Run with `cargo run --release -p conv-core --example volume`.

use conv_core::{
    ConvError, ConvSpec, Direct, Fft, Mode, Padding, choose_conv_method, conv3d, convolve, convolve_along,
    convolve_with,
};
use ndarray::{Array1, Array3, Array5, Axis};

fn main() -> Result<(), ConvError> {
    // ANCHOR: smooth
    // A 64^3 density field: a smooth background with a few point masses ("stars").
    let n = 64;
    let mut field = Array3::<f64>::from_shape_fn((n, n, n), |(z, y, x)| {
        let r2 = [z, y, x].iter().map(|&i| (i as f64 - 32.0).powi(2)).sum::<f64>();
        (-r2 / 400.0).exp()
    });
    for (z, y, x) in [(10, 20, 30), (40, 40, 12), (50, 8, 50)] {
        field[[z, y, x]] += 100.0;
    }
    // A normalised Gaussian of standard deviation 2 voxels, cut at 3 sigma (13^3 taps): one
    // separable profile, outer-multiplied into a volume.
    let sigma = 2.0_f64;
    let profile = Array1::from_shape_fn(13, |i| (-(i as f64 - 6.0).powi(2) / (2.0 * sigma * sigma)).exp());
    let kernel = Array3::from_shape_fn((13, 13, 13), |(a, b, c)| profile[a] * profile[b] * profile[c]);
    let kernel = &kernel / kernel.sum();
    // scipy.signal.convolve(field, kernel, mode="same"): Auto picks the backend (the 3-D FFT here).
    let smooth = convolve(&field, &kernel, Mode::Same)?;
    // Smoothing keeps the total mass away from the edges, and spreads each star over ~(2 sigma)^3.
    let peak = smooth[[10, 20, 30]];
    assert!(peak < 100.0 && peak > 100.0 / (2.0 * std::f64::consts::PI * sigma * sigma).powf(1.5) * 0.9);
    // ANCHOR_END: smooth
    println!("{}", choose_conv_method(&field, &kernel, Mode::Same)?);
    println!("a star of mass 100 after smoothing peaks at {peak:.3}");

    // ANCHOR: backends
    // The defining sum and the FFT agree to rounding on a smaller volume.
    let small = Array3::from_shape_fn((24, 24, 24), |(z, y, x)| field[[z, y, x]]);
    let exact = convolve_with(&small, &kernel, Mode::Valid, &Direct)?;
    let by_fft = convolve_with(&small, &kernel, Mode::Valid, &Fft::default())?;
    assert!(exact.iter().zip(&by_fft).all(|(a, b)| (a - b).abs() < 1e-12));
    // ANCHOR_END: backends

    // ANCHOR: along
    // scipy.signal.fftconvolve(signals, taps[None, :], "same", axes=[1]): 500 signals, one filter.
    let signals = Array3::<f64>::from_shape_fn((500, 1000, 1), |(s, t, _)| ((s * 7 + t) as f64 * 0.05).sin());
    let taps = Array3::<f64>::from_elem((1, 31, 1), 1.0 / 31.0);
    let averaged = convolve_along(&signals, &taps, Mode::Same, &[1])?;
    assert_eq!(averaged.shape(), signals.shape());
    // ANCHOR_END: along
    println!("moving average of 500 signals: {:?}", averaged.index_axis(Axis(0), 0).shape());

    // ANCHOR: layer
    // torch.nn.functional.conv3d(x, w, stride=(1, 2, 2), padding=1): NCDHW in, OIDHW weights.
    let x = Array5::<f32>::from_elem((2, 4, 16, 32, 32), 0.5);
    let w = Array5::<f32>::from_elem((8, 4, 3, 3, 3), 0.1);
    let spec = ConvSpec::correlation().padding(Padding::Explicit(vec![(1, 1)])).stride([1, 2, 2]);
    let y = conv3d(&x, &w, &spec)?;
    assert_eq!(y.shape(), &[2, 8, 16, 16, 16]);
    // ANCHOR_END: layer
    println!("conv3d output {:?}", y.shape());
    Ok(())
}
