"""Writes complex_golden.json: scipy.signal.convolve / correlate on complex arrays.

Run from this folder with scipy and numpy installed:  python3 make_complex_golden.py
The Rust test tests/complex.rs replays every case against every backend.
"""
import json

import numpy as np
from scipy import signal

rng = np.random.default_rng(20261122)
cases = []


def pair(z):
    z = np.asarray(z, dtype=complex)
    return {"shape": list(z.shape), "re": z.real.ravel().tolist(), "im": z.imag.ravel().tolist()}


def random(*shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


shapes = [((7,), (3,)), ((6,), (4,)), ((3,), (5,)), ((1,), (1,)), ((5, 6), (2, 3)), ((4, 4), (3, 3)), ((2, 3), (4, 5))]
for in1_shape, in2_shape in shapes:
    in1, in2 = random(*in1_shape), random(*in2_shape)
    for func in ["convolve", "correlate"]:
        for mode in ["full", "same", "valid"]:
            expected = getattr(signal, func)(in1, in2, mode=mode, method="direct")
            cases.append({"func": func, "mode": mode, "in1": pair(in1), "in2": pair(in2), "expected": pair(expected)})

with open("complex_golden.json", "w") as f:
    json.dump({"scipy": __import__("scipy").__version__, "numpy": np.__version__, "cases": cases}, f)
print(len(cases), "cases")
