"""Golden values for the filter crate, computed with scipy.signal (version recorded in the file).

    python3 crates/filter/tests/data/make_filter_golden.py   # writes filter_golden.json beside it

Every case carries its inputs, so tests/golden.rs replays them without scipy.
"""
import json
import os

import numpy as np
import scipy
from scipy import signal

rng = np.random.default_rng(20261201)


def cplx(values):
    return [[float(v.real), float(v.imag)] for v in np.asarray(values, dtype=complex)]


def floats(values):
    return [float(v) for v in np.asarray(values).ravel()]


WINDOWS = [
    ("boxcar", "boxcar"), ("hann", "hann"), ("hamming", "hamming"), ("blackman", "blackman"),
    ("bartlett", "bartlett"), (("kaiser", 8.6), "kaiser,8.6"), (("kaiser", 0.5), "kaiser,0.5"),
    (("kaiser", 14.0), "kaiser,14"), (("gaussian", 2.5), "gaussian,2.5"), (("tukey", 0.5), "tukey,0.5"),
    (("tukey", 0.2), "tukey,0.2"), (("tukey", 1.0), "tukey,1"), (("tukey", 0.0), "tukey,0"),
]
windows = []
for spec, name in WINDOWS:
    for length in (1, 2, 3, 7, 8, 33, 64):
        for sym in (True, False):
            windows.append({"name": name, "len": length, "symmetric": sym,
                            "w": floats(signal.get_window(spec, length, fftbins=not sym))})

FIRWIN = [
    (31, [0.2], True, "hamming", "hamming", True),
    (64, [0.35], True, "hann", "hann", True),
    (51, [0.3], False, "blackman", "blackman", True),
    (41, [0.2, 0.4], False, ("kaiser", 6.0), "kaiser,6", True),
    (41, [0.3, 0.5], True, "hamming", "hamming", True),
    (61, [0.1, 0.3, 0.5, 0.7], False, "hamming", "hamming", True),
    (61, [0.1, 0.3, 0.5], True, "hann", "hann", True),
    (25, [0.5], True, "boxcar", "boxcar", False),
    (40, [0.25, 0.6], False, "hamming", "hamming", False),
    (1, [0.5], True, "hamming", "hamming", True),
]
numtaps_k, beta_k = signal.kaiserord(65.0, 0.04)
FIRWIN.append((numtaps_k | 1, [0.45], False, ("kaiser", beta_k), f"kaiser,{beta_k!r}", True))
firwin = []
for numtaps, cutoff, pass_zero, window, name, scale in FIRWIN:
    taps = signal.firwin(numtaps, cutoff, window=window, pass_zero=pass_zero, scale=scale)
    firwin.append({"numtaps": numtaps, "cutoff": cutoff, "pass_zero": pass_zero, "window": name,
                   "scale": scale, "taps": floats(taps)})

kaiser = {"beta": [[a, signal.kaiser_beta(a)] for a in (10.0, 21.0, 30.0, 50.0, 65.0, 100.0)],
          "atten": [[n, w, signal.kaiser_atten(n, w)] for n, w in ((31, 0.1), (101, 0.02))],
          "ord": [[r, w, *signal.kaiserord(r, w)] for r, w in ((65.0, 0.04), (40.0, 0.1), (8.0, 0.5))]}

BANDS = [("lowpass", [0.2]), ("highpass", [0.3]), ("bandpass", [0.1, 0.4]), ("bandstop", [0.2, 0.45]),
         ("lowpass", [0.02]), ("bandpass", [0.45, 0.5])]
butter = []
for order in (1, 2, 3, 4, 5, 8):
    for btype, wn in BANDS:
        critical = wn[0] if len(wn) == 1 else wn
        z, p, k = signal.butter(order, critical, btype=btype, output="zpk")
        b, a = signal.butter(order, critical, btype=btype, output="ba")
        sos = signal.butter(order, critical, btype=btype, output="sos")
        stable = bool(np.all(np.abs(np.roots(a)) < 1.0))
        butter.append({"order": order, "btype": btype, "wn": wn, "zeros": cplx(z), "poles": cplx(p),
                       "gain": float(k), "b": floats(b), "a": floats(a), "ba_stable": stable,
                       "sos": [floats(row) for row in sos]})

chebyshev = []
for kind, ripple in (("cheby1", 1.0), ("cheby1", 0.1), ("cheby2", 40.0), ("cheby2", 80.0)):
    design = signal.cheby1 if kind == "cheby1" else signal.cheby2
    for order in (1, 2, 3, 4, 5, 8):
        for btype, wn in BANDS[:4]:
            critical = wn[0] if len(wn) == 1 else wn
            z, p, k = design(order, ripple, critical, btype=btype, output="zpk")
            sos = design(order, ripple, critical, btype=btype, output="sos")
            chebyshev.append({"kind": kind, "ripple": ripple, "order": order, "btype": btype, "wn": wn,
                              "zeros": cplx(z), "poles": cplx(p), "gain": float(k),
                              "sos": [floats(row) for row in sos]})

x = rng.standard_normal(300)
x32 = x.astype(np.float32)
b4, a4 = signal.butter(4, 0.2)
fir = signal.firwin(31, 0.3)
lfilter = []
for name, b, a in [("butter4", b4, a4), ("fir31", fir, np.array([1.0])), ("a0", np.array([1.0, 2.0, 0.5]),
                   np.array([2.0, -0.5])), ("long_b", signal.firwin(9, 0.4), np.array([1.0, -0.3, 0.2]))]:
    zi = signal.lfilter_zi(b, a)
    y = signal.lfilter(b, a, x)
    y_zi, zf = signal.lfilter(b, a, x, zi=zi * x[0])
    y32 = signal.lfilter(b.astype(np.float32), a.astype(np.float32), x32)
    lfilter.append({"name": name, "b": floats(b), "a": floats(a), "zi": floats(zi), "y": floats(y),
                    "y_zi": floats(y_zi), "zf": floats(zf), "y32": floats(y32)})

sosfilt = []
for name, sos in [("bandpass8", signal.butter(8, [0.1, 0.3], btype="bandpass", output="sos")),
                  ("lowpass5", signal.butter(5, 0.05, output="sos"))]:
    zi = signal.sosfilt_zi(sos)
    y = signal.sosfilt(sos, x)
    y_zi, zf = signal.sosfilt(sos, x, zi=zi * x[0])
    y32 = signal.sosfilt(sos.astype(np.float32), x32)
    sosfilt.append({"name": name, "sos": [floats(r) for r in sos], "zi": [floats(r) for r in zi],
                    "y": floats(y), "y_zi": floats(y_zi), "zf": [floats(r) for r in zf], "y32": floats(y32)})

filtfilt = []
for name, b, a in [("butter4", b4, a4), ("fir21", signal.firwin(21, 0.3), np.array([1.0]))]:
    for padtype, padlen in [("odd", None), ("even", 20), ("constant", None), (None, None), ("odd", 0)]:
        y = signal.filtfilt(b, a, x, padtype=padtype, padlen=padlen)
        filtfilt.append({"name": name, "b": floats(b), "a": floats(a), "padtype": str(padtype),
                         "padlen": padlen, "y": floats(y)})
sosfiltfilt = []
for name, sos in [("lowpass8", signal.butter(8, 0.1, output="sos")),
                  ("bandstop6", signal.butter(6, [0.2, 0.3], btype="bandstop", output="sos")),
                  ("odd3", signal.butter(3, 0.25, output="sos"))]:
    for padtype, padlen in [("odd", None), ("even", 15), (None, None)]:
        y = signal.sosfiltfilt(sos, x, padtype=padtype, padlen=padlen)
        sosfiltfilt.append({"name": name, "sos": [floats(r) for r in sos], "padtype": str(padtype),
                            "padlen": padlen, "y": floats(y)})

freqz = []
for name, b, a, n, whole in [("fir31", fir, [1.0], 64, False), ("butter4", b4, a4, 128, True),
                             ("short_grid", fir, [1.0], 8, False), ("butter4_half", b4, a4, 100, False)]:
    w, h = signal.freqz(b, a, worN=n, whole=whole)
    freqz.append({"name": name, "b": floats(b), "a": floats(a), "n": n, "whole": whole, "w": floats(w),
                  "h": cplx(h)})
sos8 = signal.butter(8, [0.1, 0.3], btype="bandpass", output="sos")
w, h = signal.sosfreqz(sos8, worN=256)
sosfreqz = {"sos": [floats(r) for r in sos8], "n": 256, "w": floats(w), "h": cplx(h)}

x2 = rng.standard_normal((40, 6))
x3 = rng.standard_normal((3, 30, 4))
sos4 = signal.butter(4, 0.2, output="sos")
along = {
    "x2": [floats(row) for row in x2], "x3": floats(x3), "x3_shape": list(x3.shape),
    "b": floats(b4), "a": floats(a4), "sos": [floats(r) for r in sos4],
    "lfilter_axis0": floats(signal.lfilter(b4, a4, x2, axis=0)),
    "lfilter_axis1": floats(signal.lfilter(b4, a4, x2, axis=1)),
    "sosfilt_axis1_3d": floats(signal.sosfilt(sos4, x3, axis=1)),
    "filtfilt_axis0": floats(signal.filtfilt(b4, a4, x2, axis=0)),
    "sosfiltfilt_axis0": floats(signal.sosfiltfilt(sos4, x2, axis=0)),
    "sosfiltfilt_axis1_even2": floats(signal.sosfiltfilt(sos4, x2, axis=1, padtype="even", padlen=2)),
}

out = {"scipy": scipy.__version__, "along": along, "chebyshev": chebyshev, "numpy": np.__version__, "x": floats(x), "windows": windows,
       "firwin": firwin, "kaiser": kaiser, "butter": butter, "lfilter": lfilter, "sosfilt": sosfilt,
       "filtfilt": filtfilt, "sosfiltfilt": sosfiltfilt, "freqz": freqz, "sosfreqz": sosfreqz}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "filter_golden.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(f"wrote {path} ({os.path.getsize(path)} bytes)")
