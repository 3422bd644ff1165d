#!/usr/bin/env python3
"""Per-layer scale of a transferred student against its teacher.

  layer-scale.py TRANSFER_FOLDER [TRANSFER_FOLDER ...]

Each folder is the output of `ntt transfer` (or a transfer cell of `ntt experiment`) and holds
student.safetensors (layers.L.weight, layers.L.mask, layers.L.bias) and teacher.safetensors. For
every layer it prints the number of kept weights, the root mean square of the student's kept
effective weights (w * m over the positions with m = 1), the same for the teacher's weights at
those positions (where the student started from, the mask being magnitude-chosen), their ratio,
and the biases' root mean square for both. A ratio far below 1 means the transfer shrank the kept
weights; the L2 term (lambda_2 / d) * sum ||w * m||^2 of the transfer loss pulls that way.

Needs numpy and safetensors (pip install -r scripts/safetensors-requirements.txt).
"""
import os
import re
import sys

import numpy as np
from safetensors.numpy import load_file


def rms(values):
    return float(np.sqrt(np.mean(np.square(values.astype(np.float64))))) if values.size else float("nan")


def layers(tensors):
    found = {int(m.group(1)) for m in (re.fullmatch(r"layers\.(\d+)\.weight", k) for k in tensors) if m}
    return sorted(found)


def report(folder):
    paths = [os.path.join(folder, name) for name in ("student.safetensors", "teacher.safetensors")]
    for path in paths:
        if not os.path.isfile(path):
            sys.exit(f"layer-scale.py: {path} not found: expected the output folder of a transfer")
    try:
        student, teacher = (load_file(path) for path in paths)
    except Exception as error:  # safetensors raises its own error types for truncated or corrupt files
        sys.exit(f"layer-scale.py: {folder}: not a readable pair of safetensors files ({error})")
    print(folder)
    print(f"  {'layer':>5} {'kept':>9} {'student w':>10} {'teacher w':>10} {'ratio':>7} "
          f"{'student b':>10} {'teacher b':>10}")
    for index in layers(student):
        weight, mask = student[f"layers.{index}.weight"], student.get(f"layers.{index}.mask")
        reference = teacher.get(f"layers.{index}.weight")
        if mask is None or reference is None or reference.shape != weight.shape or mask.shape != weight.shape:
            sys.exit(f"layer-scale.py: {folder}: layer {index} lacks a mask or the teacher's weight of its shape")
        kept = mask != 0
        ours, theirs = rms(weight[kept]), rms(reference[kept])
        bias = rms(student.get(f"layers.{index}.bias", np.zeros(0)))
        reference_bias = rms(teacher.get(f"layers.{index}.bias", np.zeros(0)))
        print(f"  {index:>5} {int(kept.sum()):>9} {ours:>10.4f} {theirs:>10.4f} {ours / theirs:>7.3f} "
              f"{bias:>10.4f} {reference_bias:>10.4f}")


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: layer-scale.py TRANSFER_FOLDER [TRANSFER_FOLDER ...]")
    for folder in sys.argv[1:]:
        report(folder)


if __name__ == "__main__":
    main()
