//! cnn's integration tests, one binary: every file beside this one is a module of it.
//! One binary links and monomorphises the layers and the engine once, where one binary per file
//! did it seven times (a fresh build of the tests took most of CI's time).

#[path = "data_and_io.rs"]
mod data_and_io;
#[path = "gradients.rs"]
mod gradients;
#[path = "hostile.rs"]
mod hostile;
#[path = "hostile_properties.rs"]
mod hostile_properties;
#[path = "logging.rs"]
mod logging;
#[path = "model_file.rs"]
mod model_file;
#[path = "workflow_layers.rs"]
mod workflow_layers;
