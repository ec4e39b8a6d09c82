"""Writes convolution_matrix_golden.json: scipy.linalg.convolution_matrix in every mode.

Run from this folder with scipy and numpy installed:  python3 make_convolution_matrix_golden.py
The Rust test tests/convolution_matrix.rs compares conv_core::convolution_matrix with it.
"""
import json

import numpy as np
from scipy.linalg import convolution_matrix

rng = np.random.default_rng(20261130)
cases = []
for m, n in [(1, 4), (2, 3), (3, 5), (4, 3), (4, 6), (5, 2), (6, 6), (7, 4), (8, 9)]:
    kernel = rng.standard_normal(m)
    for mode in ["full", "same", "valid"]:
        matrix = convolution_matrix(kernel, n, mode)
        cases.append(
            {"kernel": kernel.tolist(), "n": n, "mode": mode, "shape": list(matrix.shape), "matrix": matrix.ravel().tolist()}
        )

with open("convolution_matrix_golden.json", "w") as f:
    json.dump(cases, f)
