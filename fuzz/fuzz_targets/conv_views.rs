//! Broadcast and strided views of any size through the signal, image, layer, complex and
//! deconvolution calls: a view too large to copy is refused with `TooLarge` before it is
//! copied; one that fits is answered as its owned copy is. Nothing panics, nothing allocates
//! past the cap (libFuzzer's `-rss_limit_mb` catches it if it does).
#![no_main]
use arbitrary::Arbitrary;
use conv_core::num_complex::Complex64;
use conv_core::{ConvError, ConvSpec, Direct, Mode, conv2d_with, convolve_with, deconvolve, wiener_deconvolve};
use libfuzzer_sys::fuzz_target;
use ndarray::{Array1, Array4, Axis, Slice};

#[derive(Arbitrary, Debug)]
struct Request {
    /// log2 of the broadcast length of the signal (0..=50).
    signal_log2: u8,
    kernel_len: u8,
    step: i8,
    mode: u8,
    image: [u8; 4],
    weights: [u8; 4],
    lambda: i8,
    values: Vec<i8>,
}

fn value(values: &[i8], i: usize) -> f64 {
    f64::from(values.get(i % values.len().max(1)).copied().unwrap_or(1)) / 16.0
}

fn mode(m: u8) -> Mode {
    [Mode::Full, Mode::Same, Mode::Valid][usize::from(m % 3)]
}

fuzz_target!(|r: Request| {
    let cap = 64 << 20;
    let spec = ConvSpec::convolution().mode(mode(r.mode)).max_buffer_bytes(cap);
    let kernel = Array1::from_shape_fn(usize::from(r.kernel_len % 9) + 1, |i| value(&r.values, i + 3));
    // A broadcast of one sample to 2^k samples: any k costs one value of memory.
    let one = Array1::from_elem(1, value(&r.values, 0));
    // 2^0..2^12 samples (answered, compared with the copy) or 2^24..2^50 (over the 64 MiB cap:
    // refused before any copy); the sizes between are only slow.
    let log2 = r.signal_log2 % 40;
    let len = 1usize << if log2 <= 12 { log2 } else { log2 + 11 };
    let signal = one.broadcast(len).expect("a broadcast of one value");
    let answer = conv_core::filter_with(&signal, &kernel, &spec, &Direct);
    match &answer {
        Ok(out) => assert!(out.len() * 8 <= cap),
        Err(ConvError::TooLarge { .. } | ConvError::ValidModeShapes { .. }) => {}
        Err(other) => panic!("unexpected error for a broadcast of {len}: {other}"),
    }
    if len <= 4096 {
        let owned = signal.to_owned();
        let want = conv_core::filter_with(&owned, &kernel, &spec, &Direct);
        assert_eq!(answer.is_ok(), want.is_ok());
        if let (Ok(got), Ok(want)) = (&answer, &want) {
            assert_eq!(got, want, "a broadcast and its copy differ");
        }
    }
    // A strided view (every |step|-th sample, reversed for a negative step) of a real signal.
    let base = Array1::from_shape_fn(usize::from(r.kernel_len) * 3 + 1, |i| value(&r.values, i));
    let step = isize::from(r.step).clamp(-8, 8);
    if step != 0 {
        let view = base.slice_axis(Axis(0), Slice::new(0, None, step));
        let got = convolve_with(&view, &kernel, mode(r.mode), &Direct);
        let want = convolve_with(&view.to_owned(), &kernel, mode(r.mode), &Direct);
        assert_eq!(got.is_ok(), want.is_ok());
        if let (Ok(got), Ok(want)) = (got, want) {
            assert_eq!(got, want, "a strided view and its copy differ");
        }
    }
    // Images broadcast to absurd batch sizes.
    let dims = |d: [u8; 4], big: bool| {
        let size = |b: u8| if big && b >= 200 { 1usize << (b % 48) } else { usize::from(b % 5) + 1 };
        (size(d[0]), size(d[1]), size(d[2]), size(d[3]))
    };
    let pixel = Array4::from_elem((1, 1, 1, 1), value(&r.values, 1));
    if let Some(images) = pixel.broadcast(dims(r.image, true)) {
        let weights = Array4::from_shape_fn(dims(r.weights, false), |(o, c, y, x)| value(&r.values, o + c + y + x));
        let _ = conv2d_with(&images, &weights, &ConvSpec::correlation().max_buffer_bytes(cap), &Direct);
    }
    // Complex and deconvolution calls on the broadcast signal. They take the default 4 GiB
    // cap (no spec), so only lengths far below it (answered) or far above it (refused before
    // any copy) fit under the fuzzer's 2 GiB memory limit.
    if (1 << 21..1 << 36).contains(&len) {
        return;
    }
    let z = Array1::from_elem(1, Complex64::new(value(&r.values, 2), -1.0));
    let zs = z.broadcast(len).expect("a broadcast");
    let _ = conv_core::convolve_complex(&zs, &Array1::from_elem(2, Complex64::new(1.0, 0.0)), mode(r.mode));
    let _ = deconvolve(&signal, &kernel);
    let _ = wiener_deconvolve(&signal, &kernel, f64::from(r.lambda) / 8.0);
});
