#!/usr/bin/env python3
"""Cross-checks ntt's safetensors files with the reference implementation (Hugging Face safetensors).

  safetensors_interop.py read FILE    print {"metadata", "tensors": {name: {"shape", "sum", "first"}}} as JSON
  safetensors_interop.py write FILE   write a file with known F32, F64 and F16 tensors and metadata

Used by the Swift test suite when Python with numpy and safetensors is available
(pip install -r scripts/safetensors-requirements.txt); otherwise that test is skipped.
"""
import json
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file


def read(path):
    tensors = load_file(path)
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata() or {}
    summary = {
        name: {"shape": list(t.shape), "sum": float(t.astype(np.float64).sum()),
               "first": float(t.reshape(-1)[0]) if t.size else None}
        for name, t in tensors.items()
    }
    print(json.dumps({"metadata": metadata, "tensors": summary}, sort_keys=True))


def write(path):
    tensors = {
        "layers.0.weight": np.arange(12, dtype=np.float32).reshape(3, 4) / 8,
        "layers.0.bias": np.array([1.5, -2.0, 0.25, 3.0], dtype=np.float64),
        "layers.0.mask": np.array([[1, 0, 1, 0]] * 3, dtype=np.float16),
    }
    save_file(tensors, path, metadata={"model": "dense(4)", "written_by": "python"})


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("read", "write"):
        sys.exit(__doc__)
    {"read": read, "write": write}[sys.argv[1]](sys.argv[2])
