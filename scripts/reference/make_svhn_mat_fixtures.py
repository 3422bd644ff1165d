"""Tiny SVHN-format MATLAB v5 files written by SciPy, for the Swift MAT-file reader's tests.

The official `train_32x32.mat` / `test_32x32.mat` hold `X`, uint8 of shape (32, 32, 3, N)
(row, column, channel, image), and `y`, a float64 array of shape (N, 1) with labels 1..10
(10 is the digit 0). These files keep that layout with N = 3 (train) and N = 2 (test), once
with zlib compression (miCOMPRESSED elements) and once without. Pixel X[h, w, c, n] is
(7h + 3w + 50c + 11n) mod 256, a pattern MATFileTests.swift recomputes to check the order.

It writes Tests/NeuralTangentTransferTests/Fixtures/svhn-mat/{compressed,uncompressed}/*.mat.

Usage:  python3 scripts/reference/make_svhn_mat_fixtures.py   (needs numpy and scipy)
"""
import os

import numpy as np
import scipy.io

LABELS = {"train": [10, 1, 5], "test": [3, 10]}
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "NeuralTangentTransferTests", "Fixtures",
                   "svhn-mat")


def images(n):
    h, w, c, i = np.meshgrid(np.arange(32), np.arange(32), np.arange(3), np.arange(n), indexing="ij")
    return ((7 * h + 3 * w + 50 * c + 11 * i) % 256).astype(np.uint8)


for compressed in (True, False):
    folder = os.path.join(OUT, "compressed" if compressed else "uncompressed")
    os.makedirs(folder, exist_ok=True)
    for split, labels in LABELS.items():
        x = images(len(labels))
        y = np.array(labels, dtype=np.float64).reshape(-1, 1)
        assert x.shape == (32, 32, 3, len(labels)) and x.dtype == np.uint8 and y.shape == (len(labels), 1)
        path = os.path.join(folder, f"{split}_32x32.mat")
        scipy.io.savemat(path, {"X": x, "y": y}, format="5", do_compression=compressed, oned_as="column")
        back = scipy.io.loadmat(path)
        assert (back["X"] == x).all() and (back["y"] == y).all()
