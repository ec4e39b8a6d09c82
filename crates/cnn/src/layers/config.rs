//! Layers rebuilt from their Keras-style configuration ([`Layer::config`]), for model files.

use std::sync::Arc;

use serde_json::Value;

use super::{
    Activation, ActivationLayer, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, FillMode,
    Flatten, FlipMode, GlobalAveragePooling2D, Layer, MaxPooling2D, Padding, RandomFlip, RandomTranslation,
};
use crate::error::CnnError;
use crate::float::Float;

/// The error for a configuration that does not describe a layer.
fn bad(kind: &str, reason: impl Into<String>) -> CnnError {
    CnnError::ModelConfig(format!("{kind}: {}", reason.into()))
}

/// Reads typed fields of one layer's configuration.
struct Fields<'a> {
    kind: &'a str,
    config: &'a Value,
}

impl Fields<'_> {
    fn get(&self, name: &str) -> Result<&Value, CnnError> {
        self.config.get(name).ok_or_else(|| bad(self.kind, format!("no `{name}`")))
    }

    fn usize(&self, name: &str) -> Result<usize, CnnError> {
        let value = self.get(name)?;
        value
            .as_u64()
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| bad(self.kind, format!("`{name}` = {value} is not a count")))
    }

    fn pair(&self, name: &str) -> Result<(usize, usize), CnnError> {
        let value = self.get(name)?;
        match value.as_array().map(|a| a.iter().map(Value::as_u64).collect::<Vec<_>>()).as_deref() {
            Some(&[Some(a), Some(b)]) => Ok((a as usize, b as usize)),
            _ => Err(bad(self.kind, format!("`{name}` = {value} is not a pair of counts"))),
        }
    }

    fn optional_pair(&self, name: &str) -> Result<Option<(usize, usize)>, CnnError> {
        match self.config.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.pair(name).map(Some),
        }
    }

    fn f64(&self, name: &str) -> Result<f64, CnnError> {
        let value = self.get(name)?;
        value.as_f64().ok_or_else(|| bad(self.kind, format!("`{name}` = {value} is not a number")))
    }

    fn optional_f64(&self, name: &str) -> Result<Option<f64>, CnnError> {
        match self.config.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.f64(name).map(Some),
        }
    }

    fn optional_u64(&self, name: &str) -> Result<Option<u64>, CnnError> {
        match self.config.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| bad(self.kind, format!("`{name}` = {value} is not a seed"))),
        }
    }

    fn bool(&self, name: &str) -> Result<bool, CnnError> {
        let value = self.get(name)?;
        value.as_bool().ok_or_else(|| bad(self.kind, format!("`{name}` = {value} is not true or false")))
    }

    fn word(&self, name: &str) -> Result<&str, CnnError> {
        let value = self.get(name)?;
        value.as_str().ok_or_else(|| bad(self.kind, format!("`{name}` = {value} is not a string")))
    }

    fn activation(&self) -> Result<Activation, CnnError> {
        let word = self.word("activation")?;
        [Activation::Linear, Activation::Relu, Activation::Sigmoid, Activation::Tanh, Activation::Softmax]
            .into_iter()
            .find(|a| a.name() == word)
            .ok_or_else(|| bad(self.kind, format!("unknown activation `{word}`")))
    }

    fn padding(&self) -> Result<Padding, CnnError> {
        match self.word("padding")? {
            "valid" => Ok(Padding::Valid),
            "same" => Ok(Padding::Same),
            other => Err(bad(self.kind, format!("unknown padding `{other}`"))),
        }
    }
}

/// A layer of class `kind` (`"Conv2D"`, `"BatchNormalization"`, ...) built from its
/// [`config`](Layer::config), unbuilt (a model's `add` builds it). A `Conv2D` gets the backend
/// its file names when the registry has it, `Auto` otherwise.
///
/// # Errors
/// [`CnnError::ModelConfig`] for an unknown class, a missing field or a field of the wrong
/// type.
///
/// # Examples
/// ```
/// use cnn::layers::{from_config, Dense, Layer};
/// let dense = Dense::<f32>::new(10);
/// let again = from_config::<f32>("Dense", &dense.config().unwrap())?;
/// assert_eq!(again.config(), dense.config());
/// # Ok::<(), cnn::CnnError>(())
/// ```
pub fn from_config<T: Float>(kind: &str, config: &Value) -> Result<Box<dyn Layer<T>>, CnnError> {
    let f = Fields { kind, config };
    let layer: Box<dyn Layer<T>> = match kind {
        "Conv2D" => {
            let mut layer = Conv2D::new(f.usize("filters")?, f.pair("kernel_size")?)
                .strides(f.pair("strides")?)
                .padding(f.padding()?);
            layer = layer.activation(f.activation()?).use_bias(f.bool("use_bias")?);
            if let Some(l2) = f.optional_f64("kernel_regularizer_l2")? {
                layer = layer.kernel_regularizer_l2(l2);
            }
            match config.get("backend").and_then(Value::as_str).map(conv_core::registry::backend::<T>) {
                Some(Ok(backend)) => {
                    Box::new(layer.with_backend::<Arc<dyn conv_core::ConvBackend<T>>>(backend))
                }
                _ => Box::new(layer),
            }
        }
        "Dense" => {
            let mut layer =
                Dense::new(f.usize("units")?).activation(f.activation()?).use_bias(f.bool("use_bias")?);
            if let Some(l2) = f.optional_f64("kernel_regularizer_l2")? {
                layer = layer.kernel_regularizer_l2(l2);
            }
            Box::new(layer)
        }
        "MaxPooling2D" | "AveragePooling2D" => {
            let pool = f.pair("pool_size")?;
            let (strides, padding) = (f.optional_pair("strides")?, f.padding()?);
            if kind == "MaxPooling2D" {
                let layer = MaxPooling2D::new(pool).padding(padding);
                Box::new(match strides {
                    Some(s) => layer.strides(s),
                    None => layer,
                })
            } else {
                let layer = AveragePooling2D::new(pool).padding(padding);
                Box::new(match strides {
                    Some(s) => layer.strides(s),
                    None => layer,
                })
            }
        }
        "Flatten" => Box::new(Flatten::new()),
        "GlobalAveragePooling2D" => Box::new(GlobalAveragePooling2D::new()),
        "Dropout" => Box::new(Dropout::new(f.f64("rate")?)),
        "Activation" => Box::new(ActivationLayer::new(f.activation()?)),
        "BatchNormalization" => Box::new(
            BatchNormalization::new()
                .momentum(f.f64("momentum")?)
                .epsilon(f.f64("epsilon")?)
                .center(f.bool("center")?)
                .scale(f.bool("scale")?),
        ),
        "RandomFlip" => {
            let mode = match f.word("mode")? {
                "horizontal" => FlipMode::Horizontal,
                "vertical" => FlipMode::Vertical,
                "horizontal_and_vertical" => FlipMode::HorizontalAndVertical,
                other => return Err(bad(kind, format!("unknown mode `{other}`"))),
            };
            let layer = RandomFlip::new(mode);
            Box::new(match f.optional_u64("seed")? {
                Some(seed) => layer.seed(seed),
                None => layer,
            })
        }
        "RandomTranslation" => {
            let word = f.word("fill_mode")?;
            let fill_mode = [FillMode::Reflect, FillMode::Wrap, FillMode::Nearest, FillMode::Constant]
                .into_iter()
                .find(|m| m.name() == word)
                .ok_or_else(|| bad(kind, format!("unknown fill_mode `{word}`")))?;
            let layer = RandomTranslation::new(f.f64("height_factor")?, f.f64("width_factor")?)
                .fill_mode(fill_mode)
                .fill_value(f.f64("fill_value")?);
            Box::new(match f.optional_u64("seed")? {
                Some(seed) => layer.seed(seed),
                None => layer,
            })
        }
        other => return Err(bad(other, "no such layer class in this crate")),
    };
    Ok(layer)
}
