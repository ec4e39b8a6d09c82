//! The model's weights: Keras's `get_weights` / `set_weights`, and safetensors files.

use std::collections::HashMap;
use std::path::Path;

use ndarray::{ArrayD, IxDyn};

use super::Sequential;
use crate::error::CnnError;
use crate::float::Float;

impl<T: Float> Sequential<T> {
    /// Every weight's value (Keras's `get_weights`): layer by layer, each layer's trainable
    /// parameters then its non-trainable ones (BatchNormalization's moving statistics). A copy:
    /// for example the best epoch's weights kept by
    /// [`EarlyStopping`](crate::callbacks::EarlyStopping).
    pub fn get_weights(&self) -> Vec<ArrayD<T>> {
        self.named_weights().iter().map(|(_, p)| p.value.clone()).collect()
    }

    /// Replaces every weight's value (Keras's `set_weights`), in the order of
    /// [`get_weights`](Sequential::get_weights).
    ///
    /// # Errors
    /// [`CnnError::Weights`] if the count or a shape differs from the model's, or a value is
    /// NaN or infinite; the model is unchanged then.
    pub fn set_weights(&mut self, weights: Vec<ArrayD<T>>) -> Result<(), CnnError> {
        let params = self.named_weights();
        if weights.len() != params.len() {
            return Err(CnnError::Weights(format!(
                "{} tensors for the model's {}",
                weights.len(),
                params.len()
            )));
        }
        for (index, ((_, param), value)) in params.iter().zip(&weights).enumerate() {
            if param.value.shape() != value.shape() {
                return Err(CnnError::Weights(format!(
                    "tensor {index} (`{}`) is {:?}, the model has {:?}",
                    param.name,
                    value.shape(),
                    param.value.shape()
                )));
            }
            if value.iter().any(|v| !v.is_finite()) {
                return Err(CnnError::Weights(format!(
                    "tensor {index} (`{}`) holds a non-finite value",
                    param.name
                )));
            }
        }
        self.assign_weights(weights);
        Ok(())
    }

    /// The weights as safetensors bytes, one tensor per weight named `layer.weight`
    /// (`conv2d.kernel`, `dense_1.bias`, `batch_normalization.moving_mean`, ...) in Keras's
    /// layouts, the non-trainable ones included.
    ///
    /// # Errors
    /// [`CnnError::Weights`] if serialisation fails.
    pub fn weights_to_bytes(&self) -> Result<Vec<u8>, CnnError> {
        self.serialize_weights(HashMap::from([("format".to_string(), "convkit-cnn".to_string())]))
    }

    /// Every weight as safetensors bytes with `metadata` in the header.
    pub(super) fn serialize_weights(&self, metadata: HashMap<String, String>) -> Result<Vec<u8>, CnnError> {
        let mut tensors = Vec::new();
        for (name, param) in self.named_weights() {
            let data = T::to_le_bytes(&param.value.iter().copied().collect::<Vec<_>>());
            tensors.push((name, param.value.shape().to_vec(), data));
        }
        let views = tensors
            .iter()
            .map(|(name, shape, data)| {
                safetensors::tensor::TensorView::new(T::DTYPE, shape.clone(), data)
                    .map(|view| (name.clone(), view))
                    .map_err(|e| CnnError::Weights(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        safetensors::serialize(views, Some(metadata)).map_err(|e| CnnError::Weights(e.to_string()))
    }

    /// Replaces every parameter with the tensor of the same name in safetensors `bytes`.
    ///
    /// # Errors
    /// [`CnnError::Weights`] if the bytes are not safetensors, a parameter is missing, a
    /// tensor has another dtype or shape, or a weight is NaN or infinite (named with its flat
    /// index); the model is unchanged then.
    pub fn load_weights_from_bytes(&mut self, bytes: &[u8]) -> Result<(), CnnError> {
        let file =
            safetensors::SafeTensors::deserialize(bytes).map_err(|e| CnnError::Weights(e.to_string()))?;
        let mut values = Vec::new();
        for (name, param) in self.named_weights() {
            let tensor =
                file.tensor(&name).map_err(|_| CnnError::Weights(format!("no tensor named `{name}`")))?;
            if tensor.dtype() != T::DTYPE || tensor.shape() != param.value.shape() {
                return Err(CnnError::Weights(format!(
                    "`{name}` is {:?} {:?}, the model has {:?} {:?}",
                    tensor.dtype(),
                    tensor.shape(),
                    T::DTYPE,
                    param.value.shape()
                )));
            }
            let data = T::from_le_bytes(tensor.data());
            // A NaN or infinite weight is no trained model, and a NaN can pass a ReLU-free
            // path silently: say where it is rather than predict with it.
            if let Some((index, bad)) = data.iter().enumerate().find(|(_, v)| !v.to_f64_lossy().is_finite()) {
                return Err(CnnError::Weights(format!(
                    "`{name}` holds the non-finite value {} at flat index {index}",
                    bad.to_f64_lossy()
                )));
            }
            let value = ArrayD::from_shape_vec(IxDyn(param.value.shape()), data)
                .map_err(|e| CnnError::Weights(format!("`{name}`: {e}")))?;
            values.push(value);
        }
        self.assign_weights(values);
        Ok(())
    }

    /// Writes the weights to a `.safetensors` file.
    ///
    /// # Errors
    /// [`CnnError::Io`] if the file cannot be written.
    pub fn save_weights(&self, path: impl AsRef<Path>) -> Result<(), CnnError> {
        let path = path.as_ref();
        std::fs::write(path, self.weights_to_bytes()?)
            .map_err(|source| CnnError::Io { path: path.into(), source })
    }

    /// Reads the weights from a `.safetensors` file written by
    /// [`save_weights`](Sequential::save_weights).
    ///
    /// # Errors
    /// [`CnnError::Io`] if the file cannot be read, [`CnnError::Weights`] if it is longer than
    /// this model's tensors plus [`MAX_WEIGHTS_HEADER_BYTES`] (it is not read further), and as
    /// [`load_weights_from_bytes`](Sequential::load_weights_from_bytes).
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<(), CnnError> {
        let path = path.as_ref();
        let io = |source| CnnError::Io { path: path.into(), source };
        // Read no more than this model's tensors and a header could take: a file of the wrong
        // model (or /dev/zero) is refused after `limit` bytes, not read until memory runs out.
        let tensor_bytes = self
            .named_weights()
            .iter()
            .try_fold(0u64, |sum, (_, param)| sum.checked_add((param.value.len() * size_of::<T>()) as u64))
            .unwrap_or(u64::MAX);
        let limit = tensor_bytes.saturating_add(MAX_WEIGHTS_HEADER_BYTES);
        let file = std::fs::File::open(path).map_err(io)?;
        let Some(bytes) = crate::data::read_at_most(file, limit).map_err(io)? else {
            return Err(CnnError::Weights(format!(
                "{} is longer than the {limit} bytes this model's weights take with a header: the \
                 file of another model?",
                path.display()
            )));
        };
        self.load_weights_from_bytes(&bytes)
    }
}

/// The most bytes [`Sequential::load_weights`] reads beyond the model's own tensors: the
/// safetensors header (names, shapes and offsets, a few hundred bytes a tensor) and the 8-byte
/// length before it.
pub const MAX_WEIGHTS_HEADER_BYTES: u64 = 16 << 20;
