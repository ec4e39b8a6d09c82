"""Writes volume_golden.json: 3-D reference outputs from scipy.signal and PyTorch.

Run from this folder with numpy, scipy and torch installed:  python3 make_volume_golden.py
The Rust test tests/volumes.rs replays every case against every backend.

- "convolve" / "correlate": scipy.signal.convolve / correlate (method="direct") on 3-D arrays,
  every mode, odd and even kernels, and `valid` with the larger operand second.
- "convolve_along" / "correlate_along": scipy.signal.fftconvolve / correlate-by-flip with `axes=`
  (the kernel of size 1 on the other axes), on 2-D to 4-D arrays.
- "conv3d": torch.nn.functional.conv3d in float64 (NCDHW, OIDHW) with stride, dilation, groups
  and asymmetric padding (torch.nn.functional.pad before a padding-free conv3d).
Arrays are stored flat (row-major) with their shapes.
"""
import json

import numpy as np
import torch
from scipy import signal

rng = np.random.default_rng(20261130)
cases = []


def flat(array):
    array = np.asarray(array, dtype=float)
    return {"shape": list(array.shape), "values": array.ravel().tolist()}


def add(name, func, in1, in2, expected, **extra):
    cases.append({"name": name, "func": func, "in1": flat(in1), "in2": flat(in2), "expected": flat(expected), **extra})


# scipy 3-D: every mode, odd and even kernels, either operand larger.
pairs = [
    (rng.integers(-4, 5, (4, 5, 6)), rng.integers(-2, 3, (3, 3, 3))),
    (rng.standard_normal((5, 4, 7)), rng.standard_normal((2, 3, 4))),
    (rng.standard_normal((6, 6, 6)), rng.standard_normal((4, 2, 2))),
    (rng.integers(-3, 4, (2, 3, 2)), rng.integers(-3, 4, (3, 4, 5))),  # the kernel is larger
    (rng.standard_normal((1, 5, 5)), rng.standard_normal((1, 2, 3))),  # a trivial depth axis
]
for i, (a, v) in enumerate(pairs):
    a, v = np.asarray(a, dtype=float), np.asarray(v, dtype=float)
    for mode in ["full", "same", "valid"]:
        add(f"convolve_3d_{i}_{mode}", "convolve", a, v, signal.convolve(a, v, mode=mode, method="direct"), mode=mode)
        add(f"correlate_3d_{i}_{mode}", "correlate", a, v, signal.correlate(a, v, mode=mode, method="direct"), mode=mode)

# fftconvolve with axes=: the other axes are a batch; the kernel has size 1 on them.
along = [
    ((3, 16), (1, 5), [1]),
    ((6, 4, 9), (3, 1, 4), [0, 2]),
    ((2, 7, 8, 3), (1, 3, 2, 1), [1, 2]),
    ((5, 6, 7, 2), (2, 3, 4, 1), [2, 0, 1]),  # axes in any order
    ((4, 3, 5), (2, 1, 1), [0]),
]
for i, (shape1, shape2, axes) in enumerate(along):
    a, v = rng.standard_normal(shape1), rng.standard_normal(shape2)
    for mode in ["full", "same", "valid"]:
        if mode == "valid" and any(shape2[ax] > shape1[ax] for ax in axes):
            continue
        add(f"convolve_along_{i}_{mode}", "convolve_along", a, v, signal.fftconvolve(a, v, mode=mode, axes=axes),
            mode=mode, axes=axes)
        flipped = np.flip(v, axis=axes)
        add(f"correlate_along_{i}_{mode}", "correlate_along", a, v,
            signal.fftconvolve(a, flipped, mode=mode, axes=axes), mode=mode, axes=axes)

# torch conv3d: (batch, in, out, groups, size (d, h, w), kernel, stride, dilation, padding per side)
layers = [
    (2, 3, 4, 1, (6, 7, 8), (3, 3, 3), (1, 1, 1), (1, 1, 1), [(1, 1), (1, 1), (1, 1)]),
    (1, 4, 6, 2, (9, 8, 7), (3, 2, 3), (2, 1, 2), (1, 2, 1), [(0, 1), (2, 0), (1, 2)]),
    (2, 6, 6, 6, (5, 6, 6), (2, 3, 3), (1, 2, 1), (2, 1, 1), [(1, 0), (0, 0), (0, 1)]),  # depthwise
    (1, 2, 3, 1, (4, 10, 9), (1, 4, 2), (3, 2, 1), (1, 1, 3), [(0, 0), (1, 2), (3, 0)]),
    (3, 2, 2, 1, (8, 5, 5), (4, 1, 1), (2, 1, 1), (2, 1, 1), [(2, 2), (0, 0), (0, 0)]),
]
for i, (n, c, o, groups, size, kernel, stride, dilation, padding) in enumerate(layers):
    x = torch.from_numpy(rng.standard_normal((n, c, *size)))
    w = torch.from_numpy(rng.standard_normal((o, c // groups, *kernel)))
    # F.pad takes (left, right) from the last axis backwards.
    torch_pad = [amount for pair in reversed(padding) for amount in pair]
    y = torch.nn.functional.conv3d(torch.nn.functional.pad(x, torch_pad), w, stride=stride, dilation=dilation,
                                   groups=groups)
    add(f"conv3d_{i}", "conv3d", x.numpy(), w.numpy(), y.numpy(), stride=list(stride), dilation=list(dilation),
        groups=groups, padding=[list(p) for p in padding])

with open("volume_golden.json", "w") as f:
    json.dump({"generator": "make_volume_golden.py", "torch": torch.__version__, "cases": cases}, f,
              separators=(",", ":"))
print(len(cases), "cases")
