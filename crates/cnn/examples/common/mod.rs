//! What the cnn examples share: the backend flag, the CIFAR-10 model, and error reporting.

#![allow(dead_code)] // each example uses some of these

use std::error::Error;
use std::sync::Arc;

use cnn::layers::{Activation, Conv2D, Dense, Flatten, MaxPooling2D};
use cnn::{CnnError, Sequential};
use conv_core::{Auto, ConvBackend};

/// The examples allocate through mimalloc. A training step frees and allocates the same
/// multi-megabyte tensors every batch; glibc's malloc hands such blocks back to the kernel and
/// takes them again, and each page is then zeroed and faulted in anew: 472k page faults in
/// `train_vs_keras --epochs 2 --cifar-epochs 3` against 16k with mimalloc, which keeps them
/// (CIFAR training about 1.25x faster in alternating runs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs an example's body and turns its error into a message and exit code 1.
pub fn exit_code(result: Result<(), Box<dyn Error>>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `auto` (the planner) or a backend registered under `name`.
pub fn backend(name: &str) -> Result<Arc<dyn ConvBackend<f32>>, Box<dyn Error>> {
    if name == "auto" { Ok(Arc::new(Auto::new())) } else { Ok(conv_core::registry::backend::<f32>(name)?) }
}

/// The material's CIFAR-10 model: Conv(32) -> Pool -> Conv(64) -> Pool -> Conv(64) -> Flatten ->
/// Dense(64) -> Dense(10) (logits), every convolution on `backend`.
pub fn cifar_model(backend: &Arc<dyn ConvBackend<f32>>, seed: u64) -> Result<Sequential<f32>, CnnError> {
    let mut model = Sequential::<f32>::new(&[32, 32, 3], seed);
    model.add(Conv2D::new(32, (3, 3)).activation(Activation::Relu).with_backend(backend.clone()))?;
    model.add(MaxPooling2D::new((2, 2)))?;
    model.add(Conv2D::new(64, (3, 3)).activation(Activation::Relu).with_backend(backend.clone()))?;
    model.add(MaxPooling2D::new((2, 2)))?;
    model.add(Conv2D::new(64, (3, 3)).activation(Activation::Relu).with_backend(backend.clone()))?;
    model.add(Flatten::new())?;
    model.add(Dense::new(64).activation(Activation::Relu))?;
    model.add(Dense::new(10))?;
    Ok(model)
}
