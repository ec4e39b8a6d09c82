//! The cost model of the automatic planner: for each backend, a few operation counts
//! ("features") computed from the geometry alone, and a [`Profile`] of measured seconds per unit
//! of each feature, so that `time = overhead + sum_i coefficient_i * feature_i`.
//!
//! The features follow each algorithm's own arithmetic:
//!
//! | backend | features |
//! |---|---|
//! | direct | multiply-adds; row updates (multiply-adds / output width) |
//! | toeplitz | matrix entries times (batch + 1): the GEMM over the zeros, and building the matrix |
//! | im2col | multiply-adds; patch-matrix entries; the same weighted by `8 / min(Og, 8)` (thin GEMMs) |
//! | fft | `(N C + N O + O Cg) L log2 L` transform work; `N O Cg L / 2` spectrum products; row transforms |
//! | overlap-save | the same three counts, per tile, on the tile grid |
//!
//! and all of them the values read and written. Work shared by threads (direct, im2col, fft,
//! overlap-save) is divided by the threads the call will use. Any other backend (a user's) is
//! modelled by multiply-adds and output values, if the profile has a line for it; the `measure`
//! mode of [`Auto`](crate::Auto) times it either way.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::error::ConvError;
use crate::geometry::Geometry;

/// The counts every backend's features are built from, in `f64` (so a geometry of any size has
/// them: huge, never a wrapped count).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Counts {
    /// Multiply-adds of a direct evaluation, `N O OH OW Cg KH KW`.
    pub multiply_adds: f64,
    /// Values read and written: padded input plus output (the front end's padding and copying).
    pub values: f64,
    /// Kernel planes, `O Cg`.
    pub kernels: f64,
    /// Input and output planes, `N (C + O)`.
    pub planes: f64,
}

impl Counts {
    /// The counts of `g`.
    pub fn of(g: &Geometry) -> Counts {
        Counts {
            multiply_adds: g.multiply_adds() as f64,
            values: count(g.input_len()) + count(g.output_len()),
            kernels: count(g.out_channels()) * count(g.in_per_group()),
            planes: count(g.batch()) * (count(g.in_channels()) + count(g.out_channels())),
        }
    }
}

/// A size as a feature value.
pub(crate) fn count(n: usize) -> f64 {
    n as f64
}

/// The features of a backend that says nothing of its own cost (the default of
/// [`ConvBackend::cost_features`](crate::ConvBackend::cost_features)): multiply-adds, output
/// values per plane, and values moved.
///
/// # Errors
/// None for the built-in counts; the `Result` is the trait method's, whose overrides may refuse.
pub fn generic_features(g: &Geometry) -> Result<Vec<f64>, ConvError> {
    let counts = Counts::of(g);
    Ok(vec![counts.multiply_adds, counts.planes * count(g.output_plane()), counts.values])
}

/// Measured cost coefficients of one backend for one element type.
#[derive(Clone, Debug, PartialEq)]
pub struct Coefficients {
    /// Fixed seconds per call.
    pub overhead: f64,
    /// Seconds per unit of each feature.
    pub per_feature: Vec<f64>,
}

impl Coefficients {
    /// Predicted seconds for these features.
    pub fn predict(&self, features: &[f64]) -> f64 {
        self.overhead + self.per_feature.iter().zip(features).map(|(c, f)| c * f).sum::<f64>()
    }
}

/// Cost coefficients per (backend, element type), read from or written to a small text file.
///
/// ```text
/// # convkit backend profile v1
/// # backend dtype overhead_seconds seconds_per_feature...
/// direct f64 1.0e-6 4.1e-10
/// fft f64 2.0e-5 1.2e-9 3.0e-9
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    entries: BTreeMap<(String, String), Coefficients>,
}

/// The profile shipped with the crate, measured with `cargo run --release -p bench-suite --bin calibrate`
/// on the project's reference machine (2 cores, AVX-512).
pub const DEFAULT_PROFILE: &str = include_str!("../../data/default-profile.txt");

impl Profile {
    /// The shipped default profile.
    pub fn shipped() -> Profile {
        Profile::parse(DEFAULT_PROFILE).unwrap_or_default()
    }

    /// The coefficients for a backend and element type name (`"f32"`, `"f64"`).
    pub fn get(&self, backend: &str, dtype: &str) -> Option<&Coefficients> {
        self.entries.get(&(backend.to_string(), dtype.to_string()))
    }

    /// Sets the coefficients for a backend and element type name.
    pub fn insert(&mut self, backend: &str, dtype: &str, coefficients: Coefficients) {
        self.entries.insert((backend.to_string(), dtype.to_string()), coefficients);
    }

    /// Number of (backend, dtype) entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the profile is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Reads the text format.
    ///
    /// # Errors
    /// [`ConvError::Profile`] naming the line: a missing header, too few fields, a number that
    /// does not parse or is negative or not finite, more than 8 coefficients, a duplicate entry.
    pub fn parse(text: &str) -> Result<Profile, ConvError> {
        let error = |line: usize, reason: &str| ConvError::Profile { line, reason: reason.to_string() };
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, header)) if header.trim() == "# convkit backend profile v1" => {}
            _ => return Err(error(1, "the first line must be `# convkit backend profile v1`")),
        }
        let mut profile = Profile::default();
        for (index, line) in lines {
            let number = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 4 {
                return Err(error(number, "expected `backend dtype overhead coefficient...`"));
            }
            if fields.len() > 11 {
                return Err(error(number, "at most 8 coefficients per backend"));
            }
            let numbers = fields[2..]
                .iter()
                .map(|f| f.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0))
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| error(number, "coefficients must be finite, non-negative numbers"))?;
            let key = (fields[0].to_string(), fields[1].to_string());
            if profile.entries.contains_key(&key) {
                return Err(error(number, "duplicate backend and dtype"));
            }
            profile
                .entries
                .insert(key, Coefficients { overhead: numbers[0], per_feature: numbers[1..].to_vec() });
        }
        Ok(profile)
    }

    /// Writes the text format (which [`Profile::parse`] reads back).
    pub fn to_text(&self) -> String {
        let mut text = String::from(
            "# convkit backend profile v1\n# backend dtype overhead_seconds seconds_per_feature...\n",
        );
        for ((backend, dtype), c) in &self.entries {
            let _ = write!(text, "{backend} {dtype} {:e}", c.overhead);
            for v in &c.per_feature {
                let _ = write!(text, " {v:e}");
            }
            text.push('\n');
        }
        text
    }
}

/// Fits `time = overhead + sum_i c_i feature_i` to measurements, minimising the squared
/// *relative* error, with every coefficient kept non-negative (coefficients that would come out
/// negative are dropped and the rest refitted).
///
/// Returns `None` when there are no measurements, when they do not all have the same number of
/// features, or when a time or feature is not finite and a time not positive: nothing can be
/// fitted to them.
pub fn fit(samples: &[(Vec<f64>, f64)]) -> Option<Coefficients> {
    let width = samples.first()?.0.len() + 1;
    let usable = |(features, time): &(Vec<f64>, f64)| {
        features.len() + 1 == width
            && time.is_finite()
            && *time > 0.0
            && features.iter().all(|f| f.is_finite())
    };
    if !samples.iter().all(usable) {
        return None;
    }
    let mut active = vec![true; width];
    loop {
        let columns: Vec<usize> = (0..width).filter(|&j| active[j]).collect();
        // Normal equations of the weighted problem: rows (1, features) / time, target 1.
        let k = columns.len();
        let mut a = vec![vec![0.0f64; k + 1]; k];
        for (features, time) in samples {
            let row: Vec<f64> =
                columns.iter().map(|&j| if j == 0 { 1.0 } else { features[j - 1] } / time).collect();
            for p in 0..k {
                for q in 0..k {
                    a[p][q] += row[p] * row[q];
                }
                a[p][k] += row[p];
            }
        }
        let Some(solution) = solve(a) else {
            // Degenerate measurements (a feature proportional to another): drop the last feature.
            let last = columns.iter().rev().find(|&&j| j > 0).copied()?;
            active[last] = false;
            continue;
        };
        if let Some(negative) = solution.iter().position(|&v| v < 0.0) {
            active[columns[negative]] = false;
            if active.iter().all(|a| !a) {
                return None;
            }
            continue;
        }
        let mut full = vec![0.0; width];
        for (&j, v) in columns.iter().zip(solution) {
            full[j] = v;
        }
        return Some(Coefficients { overhead: full[0], per_feature: full[1..].to_vec() });
    }
}

/// Gaussian elimination with partial pivoting on an augmented `k x (k+1)` system; `None` if singular.
fn solve(mut a: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let k = a.len();
    for col in 0..k {
        let pivot = (col..k).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col].clone();
        for (index, row) in a.iter_mut().enumerate() {
            if index != col {
                let factor = row[col] / pivot_row[col];
                for (value, &p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *value -= factor * p;
                }
            }
        }
    }
    Some((0..k).map(|i| a[i][k] / a[i][i]).collect())
}

/// Merges another profile's entries into this one (the other's win on conflicts).
impl Extend<((String, String), Coefficients)> for Profile {
    fn extend<I: IntoIterator<Item = ((String, String), Coefficients)>>(&mut self, iter: I) {
        self.entries.extend(iter);
    }
}

impl IntoIterator for Profile {
    type Item = ((String, String), Coefficients);
    type IntoIter = std::collections::btree_map::IntoIter<(String, String), Coefficients>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}
