"""Golden values for cnn's BatchNormalization, computed with Keras.

Run from the repository root with a Python that has TensorFlow (Keras 3):
    python3 crates/cnn/tests/data/make_batchnorm_golden.py
It writes crates/cnn/tests/data/batchnorm_golden.json: for each case, an NHWC (or [batch,
features]) input in float64, gamma and beta, the outputs of two training steps (batch
statistics, moving statistics updated with momentum 0.99), the moving mean and variance
after them, and the inference output on a third batch (moving statistics).
"""
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras

rng = np.random.default_rng(2026)
cases = []
for name, shape, momentum, epsilon in [
    ("images", (5, 4, 3, 2), 0.99, 1e-3),
    ("features", (7, 6), 0.9, 1e-5),
]:
    keras.backend.set_floatx("float64")
    layer = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon, dtype="float64")
    layer.build((None,) + shape[1:])
    channels = shape[-1]
    gamma = rng.uniform(0.5, 1.5, channels)
    beta = rng.uniform(-0.5, 0.5, channels)
    layer.set_weights([gamma, beta, np.zeros(channels), np.ones(channels)])
    batches = [rng.normal(1.0, 2.0, shape) for _ in range(3)]
    train_outputs = [np.asarray(layer(b, training=True)).tolist() for b in batches[:2]]
    moving_mean, moving_variance = (np.asarray(w).tolist() for w in layer.get_weights()[2:])
    inference = np.asarray(layer(batches[2], training=False)).tolist()
    cases.append({
        "name": name, "shape": list(shape), "momentum": momentum, "epsilon": epsilon,
        "gamma": gamma.tolist(), "beta": beta.tolist(),
        "batches": [b.tolist() for b in batches],
        "train_outputs": train_outputs,
        "moving_mean": moving_mean, "moving_variance": moving_variance,
        "inference": inference,
    })

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "batchnorm_golden.json")
with open(out, "w") as f:
    json.dump({"keras": keras.__version__, "cases": cases}, f)
print("wrote", out, "with Keras", keras.__version__)
