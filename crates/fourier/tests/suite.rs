//! fourier's integration tests, one binary: every file beside this one is a module of it (one
//! link and one monomorphisation instead of three).

#[path = "fourier.rs"]
mod fourier;
#[path = "hostile.rs"]
mod hostile;
#[path = "hostile_properties.rs"]
mod hostile_properties;
