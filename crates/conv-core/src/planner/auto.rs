//! The automatic backend: chooses among the registered backends per problem shape.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use super::cost::Profile;
use super::registry;
use crate::backend::{ConvBackend, ConvProblem, check_buffer_len};
use crate::error::ConvError;
use crate::geometry::Geometry;
use crate::num::ConvNum;

/// A shape (and element type) whose backend has been chosen.
type WinnerKey = (TypeId, Geometry);

/// Picks the backend for each problem, so users need not know which algorithm wins.
///
/// - **Model mode** (default): predicts each registered backend's time from its operation counts
///   and a [`Profile`] of measured coefficients (see [`crate::cost`]), and runs the cheapest. The
///   profile is the file named by the `CONVKIT_PROFILE` environment variable when it is set and
///   valid (write one with `cargo run --release -p bench-suite --bin calibrate`), otherwise the
///   profile shipped with the crate. [`Auto::explain`] shows the prediction for every candidate.
/// - **Measure mode** ([`Auto::measuring`], like `torch.backends.cudnn.benchmark`): the first call
///   for a problem shape times every candidate that supports it on the real data, keeps the
///   fastest answer, and caches the winner per shape; later calls reuse it. The cache is shared
///   by all threads using this `Auto`, and a shape is measured once: threads racing on a new
///   shape wait for the first one's measurement, so every call on a shape gives the same bits.
///
/// Candidates are the backends in the global [`registry`] at the time of the call (a backend
/// registered later is considered from then on), except `auto` itself — or, for an element
/// type given a list with [`Auto::with_candidates`], exactly those instances. Either way a
/// candidate's predicted time is the profile's coefficients for its name times the
/// [`cost_features`](ConvBackend::cost_features) of the instance itself.
///
/// Problems of fewer than [`Auto::TINY_MULTIPLY_ADDS`] multiply-adds go to `direct` in model
/// mode: their time is the call's fixed cost (building a matrix, planning a transform), which the
/// profile, fitted on problems of hundreds of samples and more, does not resolve — it predicted
/// a few nanoseconds for a Toeplitz product on four samples, which took half a microsecond.
///
/// # Examples
/// ```
/// use conv_core::{Auto, ConvSpec, conv2d_with};
/// use ndarray::Array4;
/// let auto = Auto::new();
/// let input = Array4::<f32>::ones((2, 3, 16, 16));
/// let weights = Array4::<f32>::ones((4, 3, 3, 3));
/// let out = conv2d_with(&input, &weights, &ConvSpec::correlation(), &auto)?;
/// assert_eq!(out[[0, 0, 0, 0]], 27.0);
/// let geometry = ConvSpec::correlation().resolve(&[2, 3, 16, 16], &[4, 3, 3, 3])?.geometry;
/// println!("{}", auto.explain::<f32>(&geometry));
/// # Ok::<(), conv_core::ConvError>(())
/// ```
pub struct Auto {
    profile: Profile,
    measure: bool,
    /// The chosen backend per (element type, shape); each value is an `Arc<dyn ConvBackend<T>>`
    /// for the `T` of its key.
    winners: Mutex<HashMap<WinnerKey, Arc<dyn Any + Send + Sync>>>,
    /// The most recently used entries of `winners`, most recent first: a loop over a few shapes
    /// (one signal solved as interior and two edges, say) finds them by comparison instead of
    /// hashing the geometry (which costs a noticeable share of a microsecond-sized call).
    recent: Mutex<Vec<(WinnerKey, Arc<dyn Any + Send + Sync>)>>,
    /// Held while a shape is measured, so that a shape's winner is decided once: threads whose
    /// first call on a shape races another's wait for its measurement and then run the winner,
    /// and every call on a shape returns the same bits.
    measuring: Mutex<()>,
    /// Candidate lists given with [`Auto::with_candidates`], per element type: each value is a
    /// `Vec<Arc<dyn ConvBackend<T>>>` for the `T` of its key.
    candidates: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

/// How many shapes [`Auto`] keeps at hand before looking in its table.
const RECENT_SHAPES: usize = 4;

/// How many chosen shapes [`Auto`] remembers; past this the table starts afresh, so a program
/// that calls with ever new shapes keeps a bounded table (a few hundred KiB).
const REMEMBERED_SHAPES: usize = 4096;

/// The planner behind the calls that take no backend ([`convolve`](crate::convolve), ...).
static SHARED: OnceLock<Auto> = OnceLock::new();

impl Default for Auto {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Auto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auto")
            .field("profile_entries", &self.profile.len())
            .field("measure", &self.measure)
            .finish()
    }
}

/// One candidate in an [`Explanation`].
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// Backend name.
    pub backend: String,
    /// Predicted seconds, or why there is no prediction (refused, or not in the profile).
    pub prediction: Result<f64, String>,
}

/// What [`Auto`] would choose for a geometry, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The backend chosen (`None` if no candidate supports the problem).
    pub chosen: Option<String>,
    /// Every candidate, cheapest first.
    pub candidates: Vec<Candidate>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "chosen: {}", self.chosen.as_deref().unwrap_or("none"))?;
        for c in &self.candidates {
            match &c.prediction {
                Ok(seconds) => writeln!(f, "  {:<14} predicted {:.3e} s", c.backend, seconds)?,
                Err(reason) => writeln!(f, "  {:<14} {reason}", c.backend)?,
            }
        }
        Ok(())
    }
}

/// `"f32"` or `"f64"`: the profile's name for an element type.
pub(crate) fn dtype_name<T: 'static>() -> &'static str {
    if TypeId::of::<T>() == TypeId::of::<f32>() { "f32" } else { "f64" }
}

impl Auto {
    /// Below this many multiply-adds model mode picks `direct` (see the type's docs).
    pub const TINY_MULTIPLY_ADDS: u128 = 1024;

    /// Model mode with the profile from `CONVKIT_PROFILE` if set and valid, else the shipped one.
    /// A profile that cannot be used (missing, unreadable, over 1 MiB, malformed) is reported
    /// once on standard error, naming the file and the reason, and the shipped profile is used;
    /// [`Auto::from_env`] returns the error instead.
    pub fn new() -> Self {
        Self::from_env().unwrap_or_else(|error| {
            static REPORTED: std::sync::Once = std::sync::Once::new();
            REPORTED.call_once(|| eprintln!("convkit: {error}; using the shipped profile instead"));
            Self::with_profile(Profile::shipped())
        })
    }

    /// Model mode with the profile named by `CONVKIT_PROFILE` (the shipped one when it is not
    /// set).
    ///
    /// # Errors
    /// [`ConvError::Profile`] naming the file when it cannot be read, holds more than
    /// [`Auto::MAX_PROFILE_BYTES`] (`/dev/zero`, say: it is not read to the end) or does not
    /// parse.
    pub fn from_env() -> Result<Self, ConvError> {
        let Some(path) = std::env::var_os("CONVKIT_PROFILE") else {
            return Ok(Self::with_profile(Profile::shipped()));
        };
        let shown = std::path::Path::new(&path).display().to_string();
        let reason =
            |why: String| ConvError::Profile { line: 0, reason: format!("CONVKIT_PROFILE={shown}: {why}") };
        let text = read_at_most(std::path::Path::new(&path), Self::MAX_PROFILE_BYTES).map_err(reason)?;
        let profile = Profile::parse(&text).map_err(|error| reason(error.to_string()))?;
        Ok(Self::with_profile(profile))
    }

    /// The largest profile file [`Auto::from_env`] reads: 1 MiB (the shipped one is about 2 KB).
    pub const MAX_PROFILE_BYTES: u64 = 1 << 20;

    /// The process-wide planner in model mode that [`convolve`](crate::convolve),
    /// [`correlate`](crate::correlate), [`convolve2d`](crate::convolve2d),
    /// [`correlate2d`](crate::correlate2d), the complex calls, [`conv1d`](crate::conv1d) and
    /// [`conv2d`](crate::conv2d) use, as scipy's `method='auto'`. Made on first use (reading
    /// `CONVKIT_PROFILE` then, as [`Auto::new`]); its choices are remembered per shape for the
    /// life of the process.
    ///
    /// # Examples
    /// ```
    /// use conv_core::{convolve, convolve_with, Auto, Mode};
    /// use ndarray::array;
    /// let (x, k) = (array![1.0, 2.0, 3.0], array![1.0, 1.0]);
    /// assert_eq!(convolve(&x, &k, Mode::Full)?, convolve_with(&x, &k, Mode::Full, Auto::shared())?);
    /// # Ok::<(), conv_core::ConvError>(())
    /// ```
    pub fn shared() -> &'static Auto {
        SHARED.get_or_init(Auto::new)
    }

    /// Model mode with a given profile.
    pub fn with_profile(profile: Profile) -> Self {
        Auto {
            profile,
            measure: false,
            winners: Mutex::new(HashMap::new()),
            recent: Mutex::new(Vec::new()),
            measuring: Mutex::new(()),
            candidates: HashMap::new(),
        }
    }

    /// Chooses among exactly these backends for element type `T` (other types keep the
    /// registry's), instead of every registered one: a planner of its own, e.g. with an
    /// [`Fft`](crate::Fft) of a smaller workspace cap or a user's backend that is not registered
    /// globally. A candidate is predicted when the profile has a line for its name; in measure
    /// mode every candidate is timed. With no candidate named `direct`, problems the model cannot
    /// predict go to the first candidate that supports them.
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// use conv_core::{Auto, ConvBackend, ConvSpec, Direct, Fft};
    /// // Only Direct and an FFT whose spectra may take 1 MiB.
    /// let small: Vec<Arc<dyn ConvBackend<f64>>> = vec![Arc::new(Direct), Arc::new(Fft::with_cap_bytes(1 << 20))];
    /// let auto = Auto::new().with_candidates(small);
    /// let geometry = ConvSpec::correlation().resolve(&[1, 1, 512, 512], &[1, 1, 64, 64])?.geometry;
    /// let explanation = auto.explain::<f64>(&geometry);
    /// assert_eq!(explanation.candidates.len(), 2);
    /// assert_eq!(explanation.chosen.as_deref(), Some("direct")); // the FFT's spectra are over its cap
    /// # Ok::<(), conv_core::ConvError>(())
    /// ```
    pub fn with_candidates<T: ConvNum>(mut self, backends: Vec<Arc<dyn ConvBackend<T>>>) -> Self {
        let backends: Vec<Arc<dyn ConvBackend<T>>> =
            backends.into_iter().filter(|b| b.name() != "auto").collect();
        self.candidates.insert(TypeId::of::<T>(), Arc::new(backends));
        self.winners.lock().unwrap_or_else(PoisonError::into_inner).clear();
        self.recent.lock().unwrap_or_else(PoisonError::into_inner).clear();
        self
    }

    /// Switches to measure mode (time the candidates on the first call per shape).
    pub fn measuring(mut self) -> Self {
        self.measure = true;
        self
    }

    /// The profile in use.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The backends this planner chooses among for `T`: its own list, or the registry's.
    fn candidates<T: ConvNum>(&self) -> Vec<Arc<dyn ConvBackend<T>>> {
        let own = self.candidates.get(&TypeId::of::<T>());
        match own.and_then(|list| list.downcast_ref::<Vec<Arc<dyn ConvBackend<T>>>>()) {
            Some(list) => list.clone(),
            None => registry::backends::<T>().into_iter().filter(|b| b.name() != "auto").collect(),
        }
    }

    /// The model's prediction for every candidate, cheapest first, and its choice (`direct` for
    /// problems under [`Auto::TINY_MULTIPLY_ADDS`]).
    pub fn explain<T: ConvNum>(&self, g: &Geometry) -> Explanation {
        let dtype = dtype_name::<T>();
        let mut candidates: Vec<Candidate> = self
            .candidates::<T>()
            .iter()
            .map(|b| {
                let prediction = match (b.supports(g), self.profile.get(b.name(), dtype)) {
                    (Err(e), _) => Err(format!("refuses: {e}")),
                    (Ok(()), None) => Err(format!("not in the profile for {dtype}")),
                    (Ok(()), Some(c)) => {
                        b.cost_features(g).map(|f| c.predict(&f)).map_err(|e| format!("has no cost: {e}"))
                    }
                };
                Candidate { backend: b.name().to_string(), prediction }
            })
            .collect();
        candidates.sort_by(|a, b| match (&a.prediction, &b.prediction) {
            (Ok(x), Ok(y)) => x.total_cmp(y),
            (Ok(_), Err(_)) => std::cmp::Ordering::Less,
            (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
            (Err(_), Err(_)) => std::cmp::Ordering::Equal,
        });
        let direct_supports = candidates.iter().any(|c| c.backend == "direct" && c.prediction.is_ok());
        let chosen = if g.multiply_adds() < Self::TINY_MULTIPLY_ADDS && direct_supports {
            Some("direct".to_string())
        } else {
            candidates.first().filter(|c| c.prediction.is_ok()).map(|c| c.backend.clone())
        };
        Explanation { chosen, candidates }
    }

    /// The backend the model picks for `g` (or, in measure mode, the measured winner once there
    /// is one); Direct when no candidate has a prediction (or, without a candidate named
    /// `direct`, the first candidate that supports `g`).
    ///
    /// # Errors
    /// [`ConvError::Unsupported`] if no candidate supports the problem.
    ///
    /// The choice is remembered per shape, so the model is evaluated once per shape.
    pub fn choose<T: ConvNum>(&self, g: &Geometry) -> Result<Arc<dyn ConvBackend<T>>, ConvError> {
        if let Some(backend) = self.cached_winner::<T>(g) {
            return Ok(backend);
        }
        let candidates = self.candidates::<T>();
        let name = self.explain::<T>(g).chosen.unwrap_or_else(|| "direct".to_string());
        let backend = candidates
            .iter()
            .find(|b| b.name() == name)
            .or_else(|| candidates.iter().find(|b| b.supports(g).is_ok()))
            .cloned()
            .ok_or_else(|| ConvError::Unsupported {
                backend: "auto".into(),
                reason: "no candidate backend supports this problem".into(),
            })?;
        if !self.measure {
            self.remember(g, Arc::clone(&backend));
        }
        Ok(backend)
    }

    fn cached_winner<T: ConvNum>(&self, g: &Geometry) -> Option<Arc<dyn ConvBackend<T>>> {
        let key = (TypeId::of::<T>(), *g);
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = match recent.iter().position(|(recent_key, _)| *recent_key == key) {
            Some(0) => Arc::clone(&recent[0].1),
            Some(index) => {
                let hit = recent.remove(index);
                let entry = Arc::clone(&hit.1);
                recent.insert(0, hit);
                entry
            }
            None => {
                let winners = self.winners.lock().unwrap_or_else(PoisonError::into_inner);
                let entry = Arc::clone(winners.get(&key)?);
                recent.truncate(RECENT_SHAPES - 1);
                recent.insert(0, (key, Arc::clone(&entry)));
                entry
            }
        };
        entry.downcast_ref::<Arc<dyn ConvBackend<T>>>().cloned()
    }

    fn remember<T: ConvNum>(&self, g: &Geometry, backend: Arc<dyn ConvBackend<T>>) {
        let value: Arc<dyn Any + Send + Sync> = Arc::new(backend);
        let mut winners = self.winners.lock().unwrap_or_else(PoisonError::into_inner);
        if winners.len() >= REMEMBERED_SHAPES {
            winners.clear();
        }
        winners.insert((TypeId::of::<T>(), *g), value);
    }

    /// Measure mode's first call for a shape: run every supporting candidate, keep the fastest
    /// answer in `output`, remember the winner.
    fn measure_and_run<T: ConvNum>(
        &self,
        problem: &ConvProblem<'_, T>,
        output: &mut [T],
    ) -> Result<(), ConvError> {
        let g = problem.geometry();
        // (seconds, backend, its answer) of the fastest candidate so far.
        type Trial<T> = (f64, Arc<dyn ConvBackend<T>>, Vec<T>);
        let mut best: Option<Trial<T>> = None;
        for backend in self.candidates::<T>() {
            if backend.supports(g).is_err() {
                continue;
            }
            let mut trial = vec![T::zero(); output.len()];
            let start = Instant::now();
            if backend.execute(problem, &mut trial).is_err() {
                continue;
            }
            let seconds = start.elapsed().as_secs_f64();
            if best.as_ref().is_none_or(|(fastest, _, _)| seconds < *fastest) {
                best = Some((seconds, Arc::clone(&backend), trial));
            }
        }
        let (_, winner, answer) = best.ok_or_else(|| ConvError::Unsupported {
            backend: "auto".into(),
            reason: "no registered backend supports this problem".into(),
        })?;
        output.copy_from_slice(&answer);
        self.remember(g, winner);
        Ok(())
    }
}

impl<T: ConvNum> ConvBackend<T> for Auto {
    fn name(&self) -> &str {
        "auto"
    }

    fn supports(&self, g: &Geometry) -> Result<(), ConvError> {
        if self.cached_winner::<T>(g).is_some() {
            return Ok(()); // a backend already chosen for this shape supports it
        }
        let candidates = self.candidates::<T>();
        let refusals: Vec<String> =
            candidates.iter().filter_map(|b| b.supports(g).err().map(|e| e.to_string())).collect();
        if refusals.len() < candidates.len() {
            if !self.measure {
                // Choose now, so that the next question about this shape is one lookup (a front
                // end asks before solving in pieces of other shapes, and asks again each call).
                self.choose::<T>(g)?;
            }
            Ok(())
        } else {
            Err(ConvError::Unsupported { backend: "auto".into(), reason: refusals.join("; ") })
        }
    }

    fn execute(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        let g = problem.geometry();
        check_buffer_len("output", g.output_len(), output.len())?;
        if let Some(winner) = self.cached_winner::<T>(g) {
            return winner.execute(problem, output);
        }
        <Self as ConvBackend<T>>::supports(self, g)?;
        if self.measure {
            let _one_measurement_at_a_time = self.measuring.lock().unwrap_or_else(PoisonError::into_inner);
            // Another thread may have decided this shape while this one waited.
            if let Some(winner) = self.cached_winner::<T>(g) {
                return winner.execute(problem, output);
            }
            return self.measure_and_run(problem, output);
        }
        self.choose::<T>(g)?.execute(problem, output)
    }

    /// Solved by the backend chosen for the geometry, channels last (in measure mode the
    /// geometry is first measured and solved channels first, as [`execute`](ConvBackend::execute)).
    fn execute_channels_last(&self, problem: &ConvProblem<'_, T>, output: &mut [T]) -> Result<(), ConvError> {
        let g = problem.geometry();
        check_buffer_len("output", g.output_len(), output.len())?;
        if let Some(winner) = self.cached_winner::<T>(g) {
            return winner.execute_channels_last(problem, output);
        }
        <Self as ConvBackend<T>>::supports(self, g)?;
        if self.measure {
            return crate::backend::solve_through_channels_first(self, problem, output);
        }
        self.choose::<T>(g)?.execute_channels_last(problem, output)
    }

    /// Computed by the candidate chosen for the kernel-gradient problem (the correlation of
    /// the input with the output gradient, [`kernel_gradient_by_correlation`](crate::backend::kernel_gradient_by_correlation)),
    /// through that backend's own `kernel_gradient` ([`Im2col`](crate::Im2col)'s is one product
    /// on the patch matrix).
    fn kernel_gradient(
        &self,
        g: &Geometry,
        layout: crate::Layout,
        input: &[T],
        grad_output: &[T],
        grad_kernel: &mut [T],
    ) -> Result<(), ConvError> {
        let problem = crate::backend::kernel_gradient_geometry(g)?;
        self.choose::<T>(&problem)?.kernel_gradient(g, layout, input, grad_output, grad_kernel)
    }
}

/// The text of `path`, refused when it holds more than `cap` bytes (read no further than that).
fn read_at_most(path: &std::path::Path, cap: u64) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|error| error.to_string())?;
    let mut text = String::new();
    file.take(cap + 1).read_to_string(&mut text).map_err(|error| error.to_string())?;
    if text.len() as u64 > cap {
        return Err(format!("more than {cap} bytes; a profile is a few kilobytes"));
    }
    Ok(text)
}
