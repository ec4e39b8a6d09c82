//! Named backends: the one list that everything enumerating backends reads — the benchmark
//! report, the (coming) automatic planner, and layers that choose a backend by name.
//!
//! Each element type has a process-wide registry, created on first use with the built-in
//! backends (`direct`, `toeplitz`, `fft`, `im2col`). Register your own once at start-up and it
//! shows up wherever backends are listed:
//!
//! ```
//! use std::sync::Arc;
//! use conv_core::{registry, ConvBackend, ConvError, ConvNum, ConvProblem, Direct, Geometry};
//!
//! struct Mine;
//! impl<T: ConvNum> ConvBackend<T> for Mine {
//!     fn name(&self) -> &str { "mine" }
//!     fn supports(&self, _: &Geometry) -> Result<(), ConvError> { Ok(()) }
//!     fn execute(&self, p: &ConvProblem<'_, T>, out: &mut [T]) -> Result<(), ConvError> {
//!         Direct.execute(p, out)
//!     }
//! }
//!
//! registry::register::<f64>(Arc::new(Mine))?;
//! assert!(registry::names::<f64>().contains(&"mine".to_string()));
//! let backend = registry::backend::<f64>("mine")?;
//! assert_eq!(backend.name(), "mine");
//! // Names are unique.
//! assert!(registry::register::<f64>(Arc::new(Mine)).is_err());
//! # Ok::<(), ConvError>(())
//! ```

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

use crate::backend::{ConvBackend, builtin_backends};
use crate::error::ConvError;
use crate::num::ConvNum;

/// A list of uniquely named backends for one element type.
pub struct Registry<T: ConvNum> {
    backends: RwLock<Vec<Arc<dyn ConvBackend<T>>>>,
}

impl<T: ConvNum> Default for Registry<T> {
    fn default() -> Self {
        Self::with_builtins()
    }
}

impl<T: ConvNum> Registry<T> {
    /// A registry with no backends.
    pub fn empty() -> Self {
        Registry { backends: RwLock::new(Vec::new()) }
    }

    /// A registry holding the built-in backends.
    pub fn with_builtins() -> Self {
        Registry { backends: RwLock::new(builtin_backends()) }
    }

    /// Adds a backend, after the ones already there.
    ///
    /// # Errors
    /// [`ConvError::DuplicateBackend`] if the name is taken.
    pub fn register(&self, backend: Arc<dyn ConvBackend<T>>) -> Result<(), ConvError> {
        let mut backends = self.backends.write().unwrap_or_else(PoisonError::into_inner);
        if backends.iter().any(|b| b.name() == backend.name()) {
            return Err(ConvError::DuplicateBackend { name: backend.name().to_string() });
        }
        backends.push(backend);
        Ok(())
    }

    /// The backend called `name`.
    ///
    /// # Errors
    /// [`ConvError::UnknownBackend`], listing the names that exist.
    pub fn get(&self, name: &str) -> Result<Arc<dyn ConvBackend<T>>, ConvError> {
        let backends = self.backends.read().unwrap_or_else(PoisonError::into_inner);
        backends
            .iter()
            .find(|b| b.name() == name)
            .cloned()
            .ok_or_else(|| ConvError::UnknownBackend { name: name.to_string(), known: names_of(&backends) })
    }

    /// Every backend, in registration order.
    pub fn backends(&self) -> Vec<Arc<dyn ConvBackend<T>>> {
        self.backends.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Every backend's name, in registration order.
    pub fn names(&self) -> Vec<String> {
        names_of(&self.backends.read().unwrap_or_else(PoisonError::into_inner))
    }
}

fn names_of<T: ConvNum>(backends: &[Arc<dyn ConvBackend<T>>]) -> Vec<String> {
    backends.iter().map(|b| b.name().to_string()).collect()
}

/// The process-wide registry for element type `T`, created with the built-ins on first use.
pub fn global<T: ConvNum>() -> &'static Registry<T> {
    static REGISTRIES: OnceLock<Mutex<HashMap<TypeId, &'static (dyn Any + Send + Sync)>>> = OnceLock::new();
    let mut map = REGISTRIES.get_or_init(Default::default).lock().unwrap_or_else(PoisonError::into_inner);
    let entry = map.entry(TypeId::of::<T>()).or_insert_with(|| {
        Box::leak(Box::new(Registry::<T>::with_builtins())) as &'static (dyn Any + Send + Sync)
    });
    entry
        .downcast_ref::<Registry<T>>()
        .unwrap_or_else(|| unreachable!("registries are keyed by their element type"))
}

/// Registers a backend in the global registry for `T`.
///
/// # Errors
/// [`ConvError::DuplicateBackend`] if the name is taken.
pub fn register<T: ConvNum>(backend: Arc<dyn ConvBackend<T>>) -> Result<(), ConvError> {
    global::<T>().register(backend)
}

/// The globally registered backend called `name`.
///
/// # Errors
/// [`ConvError::UnknownBackend`].
pub fn backend<T: ConvNum>(name: &str) -> Result<Arc<dyn ConvBackend<T>>, ConvError> {
    global::<T>().get(name)
}

/// The globally registered backends, built-ins first.
pub fn backends<T: ConvNum>() -> Vec<Arc<dyn ConvBackend<T>>> {
    global::<T>().backends()
}

/// The names of the globally registered backends.
pub fn names<T: ConvNum>() -> Vec<String> {
    global::<T>().names()
}
