//! 3-D: a 128^3 volume x 3^3, 7^3, 15^3 kernels, modes valid and same; and a conv3d layer
//! (8 x 32 x 16^3 -> 32 filters of 3^3, valid).

use conv_core::{ConvNum, ConvSpec, Mode, conv3d_with, convolve_with};
use criterion::{BenchmarkId, Criterion, Throughput};
use ndarray::{Array3, Array5};

use super::{backends_for, values};

fn run<T: ConvNum>(c: &mut Criterion, dtype: &str) {
    let mut group = c.benchmark_group(format!("conv3d_single_{dtype}"));
    group.sample_size(10);
    let n = 128usize;
    for k in [3usize, 7, 15] {
        for mode in [Mode::Valid, Mode::Same] {
            let shape = format!("{n}^3*{k}^3_{mode:?}");
            let spec = ConvSpec::convolution().mode(mode);
            let geometry = spec.resolve(&[1, 1, n, n, n], &[1, 1, k, k, k]).expect("valid").geometry;
            let x = Array3::from_shape_vec((n, n, n), values::<T>(n * n * n, 7)).expect("cube");
            let h = Array3::from_shape_vec((k, k, k), values::<T>(k * k * k, 8)).expect("cube");
            group.throughput(Throughput::Elements((n * n * n) as u64));
            for backend in backends_for::<T>(&geometry, &shape) {
                group.bench_with_input(BenchmarkId::new(backend.name(), &shape), &(), |b, ()| {
                    b.iter(|| convolve_with(&x, &h, mode, backend.as_ref()).expect("supported"))
                });
            }
        }
    }
    group.finish();
}

fn layer(c: &mut Criterion) {
    let mut group = c.benchmark_group("conv3d_layer_f32");
    group.sample_size(10);
    let (batch, channels, size, filters) = (8usize, 32usize, 16usize, 32usize);
    let shape = format!("{batch}x{channels}x{size}^3->{filters}");
    let spec = ConvSpec::correlation();
    let geometry = spec
        .resolve(&[batch, channels, size, size, size], &[filters, channels, 3, 3, 3])
        .expect("valid")
        .geometry;
    let x =
        Array5::from_shape_vec((batch, channels, size, size, size), values::<f32>(geometry.input_len(), 9))
            .expect("shape");
    let w = Array5::from_shape_vec((filters, channels, 3, 3, 3), values::<f32>(geometry.kernel_len(), 10))
        .expect("shape");
    for backend in backends_for::<f32>(&geometry, &shape) {
        group.bench_with_input(BenchmarkId::new(backend.name(), &shape), &(), |b, ()| {
            b.iter(|| conv3d_with(&x, &w, &spec, backend.as_ref()).expect("supported"))
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    run::<f64>(c, "f64");
    run::<f32>(c, "f32");
    layer(c);
}

criterion::criterion_group!(benches, bench);
