"""Test accuracy of the dense supervised-training recipe, reimplemented independently in JAX.

Trains LeNet-300-100 on Fashion-MNIST with the same recipe as the Swift tool's dense training,
once per seed, and reports test (and final train) accuracy, so that the Swift accuracies can be
compared with what the recipe gives in another framework. Random streams differ from the Swift
tool's, so compare distributions over seeds, not single runs.

Recipe:
  data      Fashion-MNIST IDX gzip files (--data-dir); pixels / 255, then train and test
            standardised with the training set's scalar mean and std (float32); a random 10%
            of the training set is held out per seed (--validation-fraction, as `ntt train`
            and SPEC section 3) and the other 54000 images are trained on.
  model     flatten 784 -> dense 300 -> relu -> dense 100 -> relu -> dense 10 (logits);
            weights [in, out] glorot normal (variance scaling 1.0, fan_avg, truncated normal),
            biases N(0, 0.01^2).
  loss      mean softmax cross-entropy + 1e-8 * sum of squared weights (weights only).
  optimiser Adam, lr 1e-3, b1 0.9, b2 0.999, eps 1e-8 (bias-corrected, written here by hand).
  batches   64; every epoch a fresh random permutation of the training set, batches taken in
            order, the last partial batch dropped (843 steps per epoch); --epochs (default 10).
  seeds     per seed s: parameters from jax.random.PRNGKey(s), split and permutations from
            numpy.random.default_rng(s).
The train step is jitted. Per-seed lines go to stderr as runs finish.

Run (one core, as the Swift comparison runs were made):
    pip install -r bench/requirements.txt
    taskset -c 1 python3 bench/jax_train_reference.py --json > docs/results/dense-lenet-300-100-jax.json
Quick sanity check (about 84-86 % test accuracy):
    python3 bench/jax_train_reference.py --epochs 1 --seeds 0
"""
import argparse
import gzip
import json
import os
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
LAYERS = [784, 300, 100, 10]
CLASSES = 10


# --- data ------------------------------------------------------------------------------------

def read_idx(path, magic):
    """uint8 array from a gzipped IDX file, checking its magic number (2051 images, 2049 labels)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    found = int.from_bytes(data[0:4], "big")
    if found != magic:
        raise ValueError(f"{path}: magic number {found}, expected {magic}")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    array = np.frombuffer(data, dtype=np.uint8, offset=offset)
    if array.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {array.size} values, header says {dims}")
    return array.reshape(dims)


def load_fashion_mnist(data_dir):
    """(x_train [60000, 784], y_train, x_test [10000, 784], y_test); x standardised float32."""
    paths = {k: os.path.join(data_dir, v) for k, v in FILES.items()}
    x_train = read_idx(paths["train_images"], 2051).reshape(-1, 784).astype(np.float32) / np.float32(255)
    x_test = read_idx(paths["test_images"], 2051).reshape(-1, 784).astype(np.float32) / np.float32(255)
    y_train = read_idx(paths["train_labels"], 2049).astype(np.int32)
    y_test = read_idx(paths["test_labels"], 2049).astype(np.int32)
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ValueError("image and label counts differ")
    mean = np.float32(x_train.mean(dtype=np.float64))
    std = np.float32(x_train.std(dtype=np.float64))
    x_train = (x_train - mean) / std
    x_test = (x_test - mean) / std
    return x_train, y_train, x_test, y_test, float(mean), float(std)


# --- model -----------------------------------------------------------------------------------

def init_params(key):
    """List of {"w" [in, out], "b" [out]}: glorot-normal (truncated) weights, N(0, 0.01^2) biases."""
    glorot = jax.nn.initializers.variance_scaling(1.0, "fan_avg", "truncated_normal")
    params = []
    for fan_in, fan_out in zip(LAYERS[:-1], LAYERS[1:]):
        key, kw, kb = jax.random.split(key, 3)
        params.append({"w": glorot(kw, (fan_in, fan_out), jnp.float32),
                       "b": 0.01 * jax.random.normal(kb, (fan_out,), jnp.float32)})
    return params


def apply_model(params, x):
    h = x.reshape(x.shape[0], -1)
    for i, p in enumerate(params):
        h = h @ p["w"] + p["b"]
        if i < len(params) - 1:
            h = jax.nn.relu(h)
    return h


def loss_fn(params, x, y, weight_decay):
    logits = apply_model(params, x)
    ce = -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=-1))
    return ce + weight_decay * sum(jnp.sum(p["w"] ** 2) for p in params)


# --- Adam ------------------------------------------------------------------------------------

def adam_init(params):
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return {"m": zeros, "v": zeros, "t": jnp.zeros((), jnp.int32)}


def adam_update(params, grads, state, lr, b1, b2, eps):
    """Standard bias-corrected Adam: p -= lr * m_hat / (sqrt(v_hat) + eps)."""
    t = state["t"] + 1
    tf = t.astype(jnp.float32)
    m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
    v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
    c1, c2 = 1 - b1 ** tf, 1 - b2 ** tf
    params = jax.tree_util.tree_map(
        lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), params, m, v)
    return params, {"m": m, "v": v, "t": t}


# --- training --------------------------------------------------------------------------------

def make_train_step(recipe):
    @jax.jit
    def step(params, opt, x, y):
        grads = jax.grad(loss_fn)(params, x, y, recipe["weight_decay"])
        return adam_update(params, grads, opt, recipe["learning_rate"],
                           recipe["beta1"], recipe["beta2"], recipe["epsilon"])
    return step


@jax.jit
def _correct(params, x, y):
    return jnp.sum(jnp.argmax(apply_model(params, x), axis=-1) == y)


def accuracy(params, x, y, chunk=10000):
    correct = sum(int(_correct(params, x[i:i + chunk], y[i:i + chunk])) for i in range(0, len(x), chunk))
    return correct / len(x)


def train_one_seed(seed, data, recipe, step):
    x_all, y_all, x_test, y_test = data
    rng = np.random.default_rng(seed)
    # Hold out a random validation split (never trained on), as ntt train does (SPEC section 3).
    held_out = int(round(recipe["validation_fraction"] * len(x_all)))
    keep = np.sort(rng.permutation(len(x_all))[held_out:])
    x_train, y_train = x_all[keep], y_all[keep]
    params = init_params(jax.random.PRNGKey(seed))
    opt = adam_init(params)
    bs = recipe["batch_size"]
    steps = len(x_train) // bs
    for _ in range(recipe["epochs"]):
        perm = rng.permutation(len(x_train))
        xs = x_train[perm[:steps * bs]].reshape(steps, bs, -1)
        ys = y_train[perm[:steps * bs]].reshape(steps, bs)
        for i in range(steps):
            params, opt = step(params, opt, xs[i], ys[i])
    jax.block_until_ready(params)
    return accuracy(params, x_test, y_test), accuracy(params, x_train, y_train)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object to stdout")
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR,
                        help=f"directory with the Fashion-MNIST IDX .gz files (default {DEFAULT_DATA_DIR})")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs per seed (default 10)")
    parser.add_argument("--validation-fraction", type=float, default=0.1,
                        help="fraction of the training set held out, never trained on (default 0.1, as ntt train)")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)), metavar="SEED",
                        help="seeds to train (default 0..9)")
    args = parser.parse_args(argv)

    x_train, y_train, x_test, y_test, mean, std = load_fashion_mnist(args.data_dir)
    recipe = {
        "dataset": "fashion-mnist",
        "train_set_examples": len(x_train),
        "test_examples": len(x_test),
        "preprocessing": "pixels/255, standardised with training-set scalar mean and std",
        "train_mean": mean,
        "train_std": std,
        "model": "lenet-300-100",
        "layers": LAYERS,
        "weight_init": "glorot_normal (variance_scaling 1.0, fan_avg, truncated_normal)",
        "bias_init": "normal, std 0.01",
        "loss": "mean softmax cross-entropy + weight_decay * sum(w^2) over weights",
        "weight_decay": 1e-8,
        "optimizer": "adam",
        "learning_rate": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "batch_size": 64,
        "validation_fraction": args.validation_fraction,
        "trained_examples": len(x_train) - int(round(args.validation_fraction * len(x_train))),
        "steps_per_epoch": (len(x_train) - int(round(args.validation_fraction * len(x_train)))) // 64,
        "drop_last": True,
        "shuffle": "fresh permutation each epoch, numpy default_rng(seed)",
        "init_rng": "jax.random.PRNGKey(seed)",
        "epochs": args.epochs,
        "seeds": args.seeds,
    }
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"jax {jax.__version__}, {threads} usable core(s); {len(x_train)} train / {len(x_test)} test, "
          f"{args.epochs} epoch(s), seeds {args.seeds}", file=sys.stderr, flush=True)

    step = make_train_step(recipe)
    data = (x_train, y_train, x_test, y_test)
    runs = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        test_acc, train_acc = train_one_seed(seed, data, recipe, step)
        seconds = time.perf_counter() - t0
        runs.append({"seed": seed, "test_accuracy": test_acc, "train_accuracy": train_acc,
                     "seconds": round(seconds, 2)})
        print(f"seed {seed:3d}  test {100 * test_acc:6.2f} %  train {100 * train_acc:6.2f} %  {seconds:7.1f} s",
              file=sys.stderr, flush=True)

    tests = [r["test_accuracy"] for r in runs]
    summary = {"mean_test_accuracy": sum(tests) / len(tests),
               "min_test_accuracy": min(tests), "max_test_accuracy": max(tests)}
    print(f"test accuracy over {len(tests)} seed(s): mean {100 * summary['mean_test_accuracy']:.2f} %, "
          f"min {100 * summary['min_test_accuracy']:.2f} %, max {100 * summary['max_test_accuracy']:.2f} %",
          file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"recipe": recipe, "jax_version": jax.__version__, "runs": runs, **summary}, indent=2))


if __name__ == "__main__":
    main()
