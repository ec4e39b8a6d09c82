//! The model file: the architecture (a JSON config, as Keras's `.keras` stores one) and every
//! weight, in one safetensors file whose metadata hold the config.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Value, json};

use super::Sequential;
use crate::error::CnnError;
use crate::float::Float;
use crate::layers::from_config;

/// The most bytes [`Sequential::load`] reads: 4 GiB (sixteen of the largest parameter tensors a
/// layer may hold, in f32). A longer file is refused after this many bytes, not read on.
pub const MAX_MODEL_FILE_BYTES: u64 = 4 << 30;

/// The `format` metadata of a model file (a weights file says `convkit-cnn`).
const MODEL_FORMAT: &str = "convkit-cnn-model";

impl<T: Float> Sequential<T> {
    /// The architecture as Keras-style JSON: `{"class_name": "Sequential", "input_shape": [28,
    /// 28, 1], "dtype": "f32", "layers": [{"class_name": "Conv2D", "name": "conv2d", "config":
    /// {...}}, ...]}`.
    ///
    /// # Errors
    /// [`CnnError::ModelConfig`] if a layer has no config (a user's own layer).
    pub fn config(&self) -> Result<Value, CnnError> {
        let layers = self
            .layers
            .iter()
            .map(|entry| {
                let config = entry.layer.config().ok_or_else(|| {
                    CnnError::ModelConfig(format!(
                        "layer `{}` ({}) has no config to save",
                        entry.name,
                        entry.layer.kind()
                    ))
                })?;
                Ok(json!({"class_name": entry.layer.kind(), "name": entry.name, "config": config}))
            })
            .collect::<Result<Vec<_>, CnnError>>()?;
        Ok(json!({
            "class_name": "Sequential",
            "input_shape": self.input_shape,
            "dtype": dtype_name::<T>(),
            "layers": layers,
        }))
    }

    /// A model with the architecture `config` (as [`config`](Sequential::config) writes it),
    /// freshly initialised from `seed`.
    ///
    /// # Errors
    /// [`CnnError::ModelConfig`] for a config that is not a `Sequential` of known layers, and
    /// whatever building a layer for its input refuses.
    pub fn from_config(config: &Value, seed: u64) -> Result<Self, CnnError> {
        let bad = |reason: &str| CnnError::ModelConfig(reason.to_string());
        if config.get("class_name").and_then(Value::as_str) != Some("Sequential") {
            return Err(bad("not a Sequential model (`class_name`)"));
        }
        let input_shape: Vec<usize> = config
            .get("input_shape")
            .and_then(Value::as_array)
            .and_then(|dims| dims.iter().map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok())).collect())
            .ok_or_else(|| bad("`input_shape` is not a list of counts"))?;
        let layers = config.get("layers").and_then(Value::as_array).ok_or_else(|| bad("no `layers` list"))?;
        let mut model = Sequential::new(&input_shape, seed);
        for (index, layer) in layers.iter().enumerate() {
            let kind = layer
                .get("class_name")
                .and_then(Value::as_str)
                .ok_or_else(|| CnnError::ModelConfig(format!("layer {index} has no `class_name`")))?;
            let settings = layer.get("config").unwrap_or(&Value::Null);
            model.add_boxed(from_config::<T>(kind, settings)?)?;
        }
        Ok(model)
    }

    /// The model file's bytes: safetensors holding every weight (as
    /// [`weights_to_bytes`](Sequential::weights_to_bytes)) with the architecture in its
    /// metadata. The optimizer is not saved: compile the loaded model to train on.
    ///
    /// # Errors
    /// As [`config`](Sequential::config), and [`CnnError::Weights`] if serialisation fails.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CnnError> {
        let config = self.config()?.to_string();
        self.serialize_weights(HashMap::from([
            ("format".to_string(), MODEL_FORMAT.to_string()),
            ("config".to_string(), config),
        ]))
    }

    /// Rebuilds a model from [`to_bytes`](Sequential::to_bytes): the architecture, then every
    /// weight, so it predicts bit-identically to the saved one.
    ///
    /// # Errors
    /// [`CnnError::ModelConfig`] when the bytes hold no model config (a weights-only file) or
    /// the config cannot be rebuilt, or its dtype is not `T`; [`CnnError::Weights`] when the
    /// weights do not match the architecture (a missing tensor, another shape or dtype, a NaN).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CnnError> {
        let (_, header) =
            safetensors::SafeTensors::read_metadata(bytes).map_err(|e| CnnError::Weights(e.to_string()))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        if metadata.get("format").map(String::as_str) != Some(MODEL_FORMAT) {
            return Err(CnnError::ModelConfig(
                "no model config in this file (a weights file? load it with `load_weights` into a model built in code)".into(),
            ));
        }
        let text = metadata
            .get("config")
            .ok_or_else(|| CnnError::ModelConfig("the `config` entry is missing".into()))?;
        let config: Value =
            serde_json::from_str(text).map_err(|e| CnnError::ModelConfig(format!("not JSON: {e}")))?;
        let dtype = config.get("dtype").and_then(Value::as_str).unwrap_or_default();
        if dtype != dtype_name::<T>() {
            return Err(CnnError::ModelConfig(format!(
                "the model was saved in {dtype}, loaded as {}",
                dtype_name::<T>()
            )));
        }
        let mut model = Self::from_config(&config, 0)?;
        model.load_weights_from_bytes(bytes)?;
        Ok(model)
    }

    /// Writes the model (architecture and weights) to one file, like Keras's `model.save`.
    ///
    /// # Errors
    /// As [`to_bytes`](Sequential::to_bytes), and [`CnnError::Io`] if the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CnnError> {
        let path = path.as_ref();
        std::fs::write(path, self.to_bytes()?).map_err(|source| CnnError::Io { path: path.into(), source })
    }

    /// Reads a model written by [`save`](Sequential::save), like `keras.models.load_model`.
    ///
    /// # Errors
    /// [`CnnError::Io`] if the file cannot be read, [`CnnError::Weights`] if it is longer than
    /// [`MAX_MODEL_FILE_BYTES`] (it is not read further), and as
    /// [`from_bytes`](Sequential::from_bytes).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CnnError> {
        let path = path.as_ref();
        let io = |source| CnnError::Io { path: path.into(), source };
        let file = std::fs::File::open(path).map_err(io)?;
        let Some(bytes) = crate::data::read_at_most(file, MAX_MODEL_FILE_BYTES).map_err(io)? else {
            return Err(CnnError::Weights(format!(
                "{} is longer than {MAX_MODEL_FILE_BYTES} bytes, more than any model file",
                path.display()
            )));
        };
        Self::from_bytes(&bytes)
    }
}

/// `"f32"` or `"f64"`.
fn dtype_name<T: Float>() -> &'static str {
    match T::DTYPE {
        safetensors::Dtype::F64 => "f64",
        _ => "f32",
    }
}
