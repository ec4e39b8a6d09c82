#!/usr/bin/env python3
"""Times the peers (numpy, scipy.signal, scipy.ndimage, OpenCV, PyTorch, TensorFlow) on the
problems of convkit's benchmark report (convolution and, with `--workloads filter`, filtering),
with the same shapes and data sizes.

Two ways to run it:

  python3 peers.py --all [--quick] --out peers.json
      times the whole grid and writes JSON, which `bench-suite --peers peers.json` reads;

  python3 peers.py --serve
      reads one problem per line on stdin (JSON: {"group": ..., "label": ..., "shape": {...}})
      and answers each with one JSON line of peer timings. `bench-suite --run-peers` drives it,
      interleaving the peers with convkit's backends problem by problem, since these machines are
      noisy and only timings taken side by side compare fairly.

Each timing is the median of repeated calls within a time budget, after one warm-up call.
Peers that are not installed are skipped.
"""
import argparse
import json
import os
import sys
import time

# The scipy calls timed here run on one thread; OpenBLAS's threads (numpy.linalg inside
# lfilter_zi) would otherwise spin on the other core after each call and slow whatever
# bench-suite times next. PyTorch and TensorFlow have thread pools of their own.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from scipy import ndimage, signal

try:
    import torch

    torch.set_num_threads(2)
except ImportError:  # optional peer
    torch = None
try:
    import cv2  # opencv-python-headless: filter2D, the image filter most people use

    cv2.setNumThreads(2)
except ImportError:  # optional peer
    cv2 = None
try:
    import tensorflow as tf
except ImportError:  # optional peer
    tf = None


def median_time(call, budget):
    call()
    samples = []
    start = time.perf_counter()
    while len(samples) < 3 or (time.perf_counter() - start < budget and len(samples) < 50):
        t = time.perf_counter()
        call()
        samples.append(time.perf_counter() - t)
    samples.sort()
    return samples[len(samples) // 2]


def peers_for(problem, budget):
    """Peer name -> seconds for one problem description."""
    kind = problem["kind"]
    rng = np.random.default_rng(7)
    out = {}
    if kind == "1d":
        x = rng.uniform(-1, 1, problem["n"])
        h = rng.uniform(-1, 1, problem["k"])
        calls = {
            "numpy.convolve": lambda: np.convolve(x, h, "full"),
            "scipy.signal.convolve": lambda: signal.convolve(x, h, "full", method="auto"),
            "scipy.signal.fftconvolve": lambda: signal.fftconvolve(x, h, "full"),
            "scipy.signal.oaconvolve": lambda: signal.oaconvolve(x, h, "full"),
        }
        if problem["n"] * problem["k"] > 5e8:  # direct methods would take minutes
            calls.pop("numpy.convolve")
    elif kind == "2d":
        dtype = np.float32 if problem.get("dtype") == "f32" else np.float64
        x = rng.uniform(-1, 1, (problem["n"], problem["n"])).astype(dtype)
        h = rng.uniform(-1, 1, (problem["k"], problem["k"])).astype(dtype)
        mode = problem["mode"]
        calls = {
            "scipy.signal.convolve2d": lambda: signal.convolve2d(x, h, mode),
            "scipy.signal.fftconvolve": lambda: signal.fftconvolve(x, h, mode),
            "scipy.signal.oaconvolve": lambda: signal.oaconvolve(x, h, mode),
        }
        if cv2 is not None and mode == "same":
            # filter2D correlates: the flipped kernel convolves; zero border = scipy's fill.
            flipped = np.ascontiguousarray(h[::-1, ::-1])
            calls["cv2.filter2D"] = lambda: cv2.filter2D(x, -1, flipped, borderType=cv2.BORDER_CONSTANT)
        if mode == "same":
            calls["scipy.ndimage.convolve"] = lambda: ndimage.convolve(x, h, mode="constant")
        if problem["n"] ** 2 * problem["k"] ** 2 > 2e9:
            calls.pop("scipy.signal.convolve2d")
    elif kind == "layer":
        n, c, size, o = problem["batch"], problem["channels"], problem["size"], problem["filters"]
        x = rng.uniform(-1, 1, (n, c, size, size)).astype(np.float32)
        w = rng.uniform(-1, 1, (o, c, 3, 3)).astype(np.float32)
        calls = {}
        if torch is not None:
            tx, tw = torch.from_numpy(x), torch.from_numpy(w)

            def torch_conv():
                with torch.no_grad():
                    return torch.nn.functional.conv2d(tx, tw)

            calls["torch.conv2d"] = torch_conv
        if tf is not None:
            fx = tf.constant(np.transpose(x, (0, 2, 3, 1)))
            fw = tf.constant(np.transpose(w, (2, 3, 1, 0)))
            calls["tf.nn.conv2d"] = lambda: tf.nn.conv2d(fx, fw, strides=1, padding="VALID").numpy()
    elif kind == "3d":
        dtype = np.float32 if problem.get("dtype") == "f32" else np.float64
        n, k, mode = problem["n"], problem["k"], problem["mode"]
        x = rng.uniform(-1, 1, (n, n, n)).astype(dtype)
        h = rng.uniform(-1, 1, (k, k, k)).astype(dtype)
        calls = {
            "scipy.signal.convolve": lambda: signal.convolve(x, h, mode, method="auto"),
            "scipy.signal.fftconvolve": lambda: signal.fftconvolve(x, h, mode),
            "scipy.signal.oaconvolve": lambda: signal.oaconvolve(x, h, mode),
        }
        if mode == "same":
            calls["scipy.ndimage.convolve"] = lambda: ndimage.convolve(x, h, mode="constant")
        if n ** 3 * k ** 3 > 2e9:  # ndimage is direct: minutes
            calls.pop("scipy.ndimage.convolve", None)
    elif kind == "layer3d":
        n, c, size, o = problem["batch"], problem["channels"], problem["size"], problem["filters"]
        x = rng.uniform(-1, 1, (n, c, size, size, size)).astype(np.float32)
        w = rng.uniform(-1, 1, (o, c, 3, 3, 3)).astype(np.float32)
        calls = {}
        if torch is not None:
            tx, tw = torch.from_numpy(x), torch.from_numpy(w)

            def torch_conv3d():
                with torch.no_grad():
                    return torch.nn.functional.conv3d(tx, tw)

            calls["torch.conv3d"] = torch_conv3d
    elif kind == "filter":
        calls = filter_calls(problem, rng)
    else:
        raise ValueError(f"unknown problem kind {kind!r}")
    for name, call in calls.items():
        out[name] = median_time(call, budget)
    return out


def filter_calls(problem, rng):
    """scipy.signal's calls for one filtering row of the report (f64)."""
    x = rng.uniform(-1, 1, problem["n"])
    op = problem["op"]
    if op == "fir":
        h = signal.firwin(problem["taps"], 0.3)
        return {"scipy.signal.lfilter": lambda: signal.lfilter(h, [1.0], x),
                "scipy.signal.oaconvolve": lambda: signal.oaconvolve(x, h)[: len(x)]}
    if op == "filtfilt_fir":
        h = signal.firwin(problem["taps"], 0.3)
        return {"scipy.signal.filtfilt": lambda: signal.filtfilt(h, [1.0], x)}
    sos = signal.butter(problem["order"], 0.1, output="sos")
    if op == "sosfilt":
        return {"scipy.signal.sosfilt": lambda: signal.sosfilt(sos, x)}
    if op == "sosfiltfilt":
        return {"scipy.signal.sosfiltfilt": lambda: signal.sosfiltfilt(sos, x)}
    raise ValueError(f"unknown filter op {op!r}")


def filter_grid(quick):
    """The report's filtering rows (bench-suite's `filtering.rs` builds the same labels)."""
    n = 100_000 if quick else 1_000_000
    rows = [{"op": "fir", "taps": taps, "label": f"lfilter FIR {n} x {taps}"} for taps in (31, 255, 4095)]
    rows.append({"op": "filtfilt_fir", "taps": 255, "label": f"filtfilt FIR {n} x 255"})
    rows.append({"op": "sosfilt", "order": 8, "label": f"sosfilt butter(8) {n}"})
    rows.append({"op": "sosfiltfilt", "order": 8, "label": f"sosfiltfilt butter(8) {n}"})
    return [dict(row, group="Filtering (f64)", kind="filter", n=n) for row in rows]


def grid(quick):
    """The same problems as bench-suite's grid, with the same labels."""
    problems = []
    signals, taps = ([1000, 10000], [3, 31, 255]) if quick else ([1000, 10000, 100000, 1000000], [3, 31, 255, 4095])
    for n in signals:
        for k in taps:
            if k < n:
                problems.append({"group": "1-D full convolution (f64)", "label": f"{n} x {k}", "kind": "1d", "n": n, "k": k})
    for n in [128] if quick else [512, 2048]:
        for k in [3, 7, 31]:
            for mode in ["valid", "same"]:
                label = f"{n}x{n} * {k}x{k} {mode.capitalize()}"
                problems.append({"group": "2-D single channel (f64)", "label": label, "kind": "2d", "n": n, "k": k, "mode": mode})
    batch = 8 if quick else 64
    for layout in ["NCHW", "NHWC"]:
        for size, channels, filters in [(32, 3, 32), (15, 32, 64), (6, 64, 64), (8, 1, 10), (56, 64, 64)]:
            if quick and size == 56:
                continue
            label = f"{batch}x{channels}x{size}x{size} -> {filters}"
            problems.append({"group": f"CNN layers, valid 3x3 (f32, {layout})", "label": label, "kind": "layer",
                             "batch": batch, "channels": channels, "size": size, "filters": filters})
    volume, kernels = (32, [3, 7]) if quick else (128, [3, 7, 15])
    for dtype in ["f64", "f32"]:
        for k in kernels:
            for mode in ["valid", "same"]:
                problems.append({"group": f"3-D single volume ({dtype})", "label": f"{volume}^3 * {k}^3 {mode.capitalize()}",
                                 "kind": "3d", "n": volume, "k": k, "mode": mode, "dtype": dtype})
    batch, channels, size, filters = (2, 8, 8, 8) if quick else (8, 32, 16, 32)
    problems.append({"group": "conv3d layers, valid 3x3x3 (f32, NCDHW)", "label": f"{batch}x{channels}x{size}^3 -> {filters}",
                     "kind": "layer3d", "batch": batch, "channels": channels, "size": size, "filters": filters})
    problems += filter_grid(quick)
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="time the whole grid and write JSON")
    parser.add_argument("--serve", action="store_true", help="answer problems read from stdin")
    parser.add_argument("--quick", action="store_true", help="the report's --quick grid")
    parser.add_argument("--budget", type=float, default=0.2, help="seconds per peer and problem")
    parser.add_argument("--out", default="peers.json")
    args = parser.parse_args()
    versions = {"numpy": np.__version__, "scipy": __import__("scipy").__version__}
    if torch is not None:
        versions["torch"] = torch.__version__
    if tf is not None:
        versions["tensorflow"] = tf.__version__
    if cv2 is not None:
        versions["opencv"] = cv2.__version__
    if args.serve:
        print(json.dumps({"versions": versions}), flush=True)
        for line in sys.stdin:
            problem = json.loads(line)
            print(json.dumps({"label": problem["label"], "peers": peers_for(problem, args.budget)}), flush=True)
    elif args.all:
        results = []
        for problem in grid(args.quick):
            print(problem["label"], file=sys.stderr)
            results.append({"group": problem["group"], "label": problem["label"], "peers": peers_for(problem, args.budget)})
        with open(args.out, "w") as f:
            json.dump({"versions": versions, "results": results}, f, indent=1)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        parser.error("give --all or --serve")


if __name__ == "__main__":
    main()
