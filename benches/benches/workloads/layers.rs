//! CNN layers, NCHW, batch 64, 3x3 valid: the CIFAR-10 model's three layers, the digits layer and
//! a 56x56x64 layer. Forward only until the cnn crate provides backward passes.

use conv_core::{ConvNum, ConvSpec, conv2d_with};
use criterion::{BenchmarkId, Criterion, Throughput};
use ndarray::Array4;

use super::{backends_for, values};

fn run<T: ConvNum>(c: &mut Criterion, dtype: &str) {
    let mut group = c.benchmark_group(format!("cnn_layers_forward_{dtype}"));
    group.sample_size(10);
    let batch = 64;
    for (size, channels, filters) in
        [(32usize, 3usize, 32usize), (15, 32, 64), (6, 64, 64), (8, 1, 10), (56, 64, 64)]
    {
        let shape = format!("{batch}x{channels}x{size}x{size}->{filters}");
        let spec = ConvSpec::correlation();
        let geometry =
            spec.resolve(&[batch, channels, size, size], &[filters, channels, 3, 3]).expect("valid").geometry;
        let x = Array4::from_shape_vec(
            (batch, channels, size, size),
            values::<T>(batch * channels * size * size, 5),
        )
        .expect("shape");
        let w = Array4::from_shape_vec((filters, channels, 3, 3), values::<T>(filters * channels * 9, 6))
            .expect("shape");
        group.throughput(Throughput::Elements(batch as u64));
        for backend in backends_for::<T>(&geometry, &shape) {
            group.bench_with_input(BenchmarkId::new(backend.name(), &shape), &(), |b, ()| {
                b.iter(|| conv2d_with(&x, &w, &spec, backend.as_ref()).expect("supported"))
            });
        }
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    run::<f32>(c, "f32");
    run::<f64>(c, "f64");
}

criterion::criterion_group!(benches, bench);
