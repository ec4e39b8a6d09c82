//! SGD (with momentum and Nesterov) and Adam, with Keras's defaults and update rules.

use ndarray::{ArrayD, Zip};

use crate::error::{CnnError, check_parameter as check};
use crate::float::Float;
use crate::layers::Param;

/// Updates parameters from their gradients.
///
/// `step` receives every trainable parameter of the model in the same order each time, so
/// per-parameter state (velocities, moments) is kept by position.
pub trait Optimizer<T: Float>: Send {
    /// The Keras class name.
    fn name(&self) -> &'static str;

    /// Checks the hyper-parameters.
    ///
    /// # Errors
    /// [`CnnError::InvalidParameter`] naming the first one out of range.
    fn validate(&self) -> Result<(), CnnError>;

    /// Applies one update using each parameter's `grad`.
    fn step(&mut self, params: &mut [&mut Param<T>]);

    /// The learning rate the next [`step`](Optimizer::step) uses.
    fn learning_rate(&self) -> f64;

    /// Sets the learning rate, keeping every other piece of state (velocities, moments, the
    /// step count): what Keras's `optimizer.learning_rate = ...` does, and what the schedules
    /// ([`LearningRateScheduler`](crate::callbacks::LearningRateScheduler),
    /// [`ReduceLROnPlateau`](crate::callbacks::ReduceLROnPlateau)) call between epochs.
    ///
    /// # Errors
    /// [`CnnError::InvalidParameter`] unless `learning_rate` is finite and > 0; the rate is
    /// unchanged then.
    fn set_learning_rate(&mut self, learning_rate: f64) -> Result<(), CnnError>;
}

/// The check both optimizers make of a new learning rate.
fn check_learning_rate(learning_rate: f64) -> Result<(), CnnError> {
    check("learning_rate", learning_rate, learning_rate > 0.0, "must be finite and > 0")
}

/// Zero state shaped like each parameter, made on the first step.
fn ensure_state<T: Float>(state: &mut Vec<ArrayD<T>>, params: &[&mut Param<T>]) {
    if state.len() != params.len() || state.iter().zip(params).any(|(s, p)| s.shape() != p.value.shape()) {
        *state = params.iter().map(|p| ArrayD::zeros(p.value.raw_dim())).collect();
    }
}

/// Keras's `SGD`: `v = momentum * v - lr * g`, then `w += v` or, with Nesterov,
/// `w += momentum * v - lr * g`. Defaults: `learning_rate = 0.01`, `momentum = 0`.
///
/// # Examples
/// ```
/// use cnn::Sgd;
/// let optimizer = Sgd::<f32>::new(0.1).momentum(0.9).nesterov(true);
/// # let _ = optimizer;
/// ```
#[derive(Clone, Debug)]
pub struct Sgd<T> {
    learning_rate: f64,
    momentum: f64,
    nesterov: bool,
    velocities: Vec<ArrayD<T>>,
}

impl<T> Default for Sgd<T> {
    fn default() -> Self {
        Sgd { learning_rate: 0.01, momentum: 0.0, nesterov: false, velocities: Vec::new() }
    }
}

impl<T> Sgd<T> {
    /// Plain SGD with this learning rate.
    pub fn new(learning_rate: f64) -> Self {
        Sgd { learning_rate, ..Sgd::default() }
    }

    /// Momentum in `[0, 1]`.
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Whether to use Nesterov momentum.
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }
}

impl<T: Float> Optimizer<T> for Sgd<T> {
    fn name(&self) -> &'static str {
        "SGD"
    }

    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f64) -> Result<(), CnnError> {
        check_learning_rate(learning_rate)?;
        self.learning_rate = learning_rate;
        Ok(())
    }

    fn validate(&self) -> Result<(), CnnError> {
        check_learning_rate(self.learning_rate)?;
        check("momentum", self.momentum, (0.0..=1.0).contains(&self.momentum), "must be in [0, 1]")
    }

    fn step(&mut self, params: &mut [&mut Param<T>]) {
        let (lr, momentum) = (T::of(self.learning_rate), T::of(self.momentum));
        if self.momentum == 0.0 {
            for param in params.iter_mut() {
                let param = &mut **param;
                Zip::from(&mut param.value).and(&param.grad).for_each(|w, &g| *w = *w - lr * g);
            }
            return;
        }
        ensure_state(&mut self.velocities, params);
        let nesterov = self.nesterov;
        for (param, velocity) in params.iter_mut().zip(&mut self.velocities) {
            let param = &mut **param;
            Zip::from(&mut param.value).and(velocity).and(&param.grad).for_each(|w, v, &g| {
                *v = momentum * *v - lr * g;
                *w = if nesterov { *w + momentum * *v - lr * g } else { *w + *v };
            });
        }
    }
}

/// Keras's `Adam`: `m += (g - m)(1 - beta_1)`, `v += (g^2 - v)(1 - beta_2)`,
/// `w -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`. Defaults:
/// `learning_rate = 0.001`, `beta_1 = 0.9`, `beta_2 = 0.999`, `epsilon = 1e-7`.
#[derive(Clone, Debug)]
pub struct Adam<T> {
    learning_rate: f64,
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
    iterations: i32,
    first_moments: Vec<ArrayD<T>>,
    second_moments: Vec<ArrayD<T>>,
}

impl<T> Default for Adam<T> {
    fn default() -> Self {
        Adam {
            learning_rate: 0.001,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            iterations: 0,
            first_moments: Vec::new(),
            second_moments: Vec::new(),
        }
    }
}

impl<T> Adam<T> {
    /// Adam with this learning rate and Keras's other defaults.
    pub fn new(learning_rate: f64) -> Self {
        Adam { learning_rate, ..Adam::default() }
    }

    /// The decay rates of the first and second moment estimates.
    pub fn betas(mut self, beta_1: f64, beta_2: f64) -> Self {
        self.beta_1 = beta_1;
        self.beta_2 = beta_2;
        self
    }

    /// The constant added to the denominator.
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }
}

impl<T: Float> Optimizer<T> for Adam<T> {
    fn name(&self) -> &'static str {
        "Adam"
    }

    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f64) -> Result<(), CnnError> {
        check_learning_rate(learning_rate)?;
        self.learning_rate = learning_rate;
        Ok(())
    }

    fn validate(&self) -> Result<(), CnnError> {
        check_learning_rate(self.learning_rate)?;
        check("beta_1", self.beta_1, (0.0..1.0).contains(&self.beta_1), "must be in [0, 1)")?;
        check("beta_2", self.beta_2, (0.0..1.0).contains(&self.beta_2), "must be in [0, 1)")?;
        check("epsilon", self.epsilon, self.epsilon >= 0.0, "must be finite and >= 0")
    }

    fn step(&mut self, params: &mut [&mut Param<T>]) {
        ensure_state(&mut self.first_moments, params);
        ensure_state(&mut self.second_moments, params);
        self.iterations = self.iterations.saturating_add(1);
        let t = self.iterations;
        let alpha =
            T::of(self.learning_rate * (1.0 - self.beta_2.powi(t)).sqrt() / (1.0 - self.beta_1.powi(t)));
        let (one_minus_b1, one_minus_b2, epsilon) =
            (T::of(1.0 - self.beta_1), T::of(1.0 - self.beta_2), T::of(self.epsilon));
        for ((param, m), v) in params.iter_mut().zip(&mut self.first_moments).zip(&mut self.second_moments) {
            let param = &mut **param;
            Zip::from(&mut param.value).and(m).and(v).and(&param.grad).for_each(|w, m, v, &g| {
                *m = *m + (g - *m) * one_minus_b1;
                *v = *v + (g * g - *v) * one_minus_b2;
                *w = *w - alpha * *m / (v.sqrt() + epsilon);
            });
        }
    }
}
