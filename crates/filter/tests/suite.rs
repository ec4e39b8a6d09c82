//! filter's integration tests, one binary: every file beside this one is a module of it (one
//! link and one monomorphisation instead of three).

#[path = "golden.rs"]
mod golden;
#[path = "properties.rs"]
mod properties;
#[path = "streaming.rs"]
mod streaming;
