//! conv-core's integration tests, one binary: every file beside this one is a module of it.
//! One binary links and monomorphises the engine once, where one binary per file did it seventeen
//! times (a fresh build of the tests took most of CI's time). `least_squares.rs` needs the
//! `lapack` feature and stays a binary of its own.

/// Helpers the modules share (`crate::common`).
#[path = "common/mod.rs"]
mod common;

#[path = "accuracy.rs"]
mod accuracy;
#[path = "complex.rs"]
mod complex;
#[path = "concurrency.rs"]
mod concurrency;
#[path = "conformance.rs"]
mod conformance;
#[path = "convolution_matrix.rs"]
mod convolution_matrix;
#[path = "deconvolve.rs"]
mod deconvolve;
#[path = "errors.rs"]
mod errors;
#[path = "golden.rs"]
mod golden;
#[path = "gradients.rs"]
mod gradients;
#[path = "hostile_properties.rs"]
mod hostile_properties;
#[path = "hostile_views.rs"]
mod hostile_views;
#[path = "kit_catches_mistakes.rs"]
mod kit_catches_mistakes;
#[path = "layouts.rs"]
mod layouts;
#[path = "messages.rs"]
mod messages;
#[path = "planner.rs"]
mod planner;
#[path = "profile_env.rs"]
mod profile_env;
#[path = "volumes.rs"]
mod volumes;
