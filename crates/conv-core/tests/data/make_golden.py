"""Writes golden.json: reference outputs computed with scipy.signal and numpy.

Run from this folder with scipy and numpy installed:  python3 make_golden.py
The Rust test tests/golden.rs replays every case against every backend.
"""
import json

import numpy as np
from scipy import signal

rng = np.random.default_rng(20261121)
cases = []


def add(name, func, mode, in1, in2, expected, boundary="zeros", fillvalue=0.0):
    cases.append(
        {
            "name": name,
            "func": func,
            "mode": mode,
            "boundary": boundary,
            "fillvalue": float(fillvalue),
            "in1": np.asarray(in1, dtype=float).tolist(),
            "in2": np.asarray(in2, dtype=float).tolist(),
            "expected": np.asarray(expected, dtype=float).tolist(),
        }
    )


# 1-D: scipy.signal.convolve / correlate in every mode, odd and even kernels, either operand longer.
pairs_1d = [
    ([1, 2, 3], [4, 5, 6, 7]),
    (rng.integers(-5, 6, 7), rng.integers(-3, 4, 2)),
    (rng.integers(-5, 6, 8), rng.integers(-3, 4, 3)),
    (rng.integers(-5, 6, 5), rng.integers(-3, 4, 4)),
    (rng.integers(-5, 6, 3), rng.integers(-3, 4, 6)),
    (rng.standard_normal(11), rng.standard_normal(4)),
    ([2.5], [1, -1, 3]),
]
pairs_1d = [(np.asarray(a, dtype=float), np.asarray(v, dtype=float)) for a, v in pairs_1d]
for i, (a, v) in enumerate(pairs_1d):
    for mode in ["full", "same", "valid"]:
        add(f"convolve_1d_{i}_{mode}", "convolve", mode, a, v, signal.convolve(a, v, mode=mode, method="direct"))
        add(f"correlate_1d_{i}_{mode}", "correlate", mode, a, v, signal.correlate(a, v, mode=mode, method="direct"))

# 2-D: scipy.signal.convolve2d / correlate2d with each boundary, including kernels larger than
# the image (padding wider than the input) and even kernel sizes.
pairs_2d = [
    (np.arange(1, 10).reshape(3, 3), [[1, 2], [3, 4]]),
    (rng.integers(-4, 5, (4, 5)), rng.integers(-2, 3, (3, 2))),
    (rng.integers(-4, 5, (5, 4)), rng.integers(-2, 3, (2, 3))),
    (np.arange(1, 7).reshape(2, 3), np.arange(1, 13).reshape(3, 4)),
    (rng.standard_normal((6, 7)), rng.standard_normal((3, 3))),
    (rng.integers(-4, 5, (3, 4)), rng.integers(-2, 3, (5, 6))),
]
scipy_boundaries = [("zeros", "fill", 0.0), ("constant", "fill", 1.5), ("circular", "wrap", 0.0), ("symmetric", "symm", 0.0)]
# Float operands: with integer arrays scipy would cast the fill value to an integer.
pairs_2d = [(np.asarray(a, dtype=float), np.asarray(k, dtype=float)) for a, k in pairs_2d]
for i, (a, k) in enumerate(pairs_2d):
    for mode in ["full", "same", "valid"]:
        for ours, theirs, fill in scipy_boundaries:
            add(f"convolve2d_{i}_{mode}_{ours}", "convolve2d", mode, a, k,
                signal.convolve2d(a, k, mode=mode, boundary=theirs, fillvalue=fill), ours, fill)
            add(f"correlate2d_{i}_{mode}_{ours}", "correlate2d", mode, a, k,
                signal.correlate2d(a, k, mode=mode, boundary=theirs, fillvalue=fill), ours, fill)

# Boundaries scipy.signal lacks, defined by numpy.pad: pad the image as our Full/Same modes do,
# then take scipy's valid convolution.
def pads(kernel_len, mode):
    reach = kernel_len - 1
    return (reach, reach) if mode == "full" else (reach - reach // 2, reach // 2)

for i, (a, k) in enumerate(pairs_2d):
    k = np.asarray(k)
    for mode in ["full", "same"]:
        for ours, numpy_mode in [("reflect", "reflect"), ("replicate", "edge"), ("symmetric", "symmetric")]:
            padded = np.pad(np.asarray(a, dtype=float), (pads(k.shape[0], mode), pads(k.shape[1], mode)), mode=numpy_mode)
            add(f"convolve2d_{i}_{mode}_{ours}_numpy", "convolve2d", mode, a, k,
                signal.convolve2d(padded, k, mode="valid"), ours)

with open("golden.json", "w") as f:
    json.dump({"generator": "make_golden.py", "cases": cases}, f, indent=None, separators=(",", ":"))
print(len(cases), "cases")
