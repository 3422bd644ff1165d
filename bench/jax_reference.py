"""CPU timings of the JAX equivalents of the `ntt bench` model workloads.

Workloads (same names as `swift run -c release ntt bench`), for lenet-300-100 and lenet5-caffe
on Fashion-MNIST-shaped random inputs (28x28x1, NHWC, 10 classes) and for conv4 (the original's
Conv-4, VALID convolutions) on CIFAR-10-shaped ones (32x32x3), float32, all jitted:
  train-step/MODEL  one supervised step at batch 64: softmax cross-entropy + 1e-8 * sum(w^2)
                    (weights only), gradient, Adam (lr 1e-3).
  ntk/MODEL         empirical NTK between two batches of 32, full [32, 32, 10, 10] blocks:
                    per-example Jacobians (vmap of jacrev) contracted with einsum over all params.
  ntt-step/MODEL    one Neural Tangent Transfer step at batch 64 (halves x1, x2): teacher NTK and
                    outputs, then loss = 1e-3 * mean((K_s - K_t)^2) + mean((f_s - f_t)^2)
                    + (l2 / 0.03) * sum((w*m)^2) over weights (l2 = 1e-5 for models with conv
                    layers, 1e-4 otherwise, as ntt's default), with K_s the NTK w.r.t. the
                    effective params (w*m, b) of a student with random masks of density 0.03;
                    its gradient w.r.t. the raw student params (through the mask) and Adam (lr 5e-4).
  ntk-structured/MODEL      as ntk/MODEL, but the NTK computed the state-of-the-art way, as the
                    neural-tangents library's empirical_ntk_fn(trace_axes=(), vmap_axes=0) does it.
                    No released neural-tangents works with the pinned jax (0.6.5, the latest, fails
                    to import: it needs jax.core.Jaxpr/Var/Literal and jax.util, gone from jax 0.10),
                    so both of its implementations are written here by hand and the faster is
                    reported, named in the entry's "implementation" (both in "candidates_median_ms"):
                    structured derivatives (per dense layer (H1 H2^T + 1) * (D1 D2^T), with H the layer
                    inputs and D the per-sample cotangents of all outputs w.r.t. its pre-activations,
                    from vmap(vjp); conv layers contract their weight Jacobians, built from input
                    patches and D), and NTK vector products (vjp per x2 sample and class, then jvp).
  ntt-step-structured/MODEL as ntt-step/MODEL with both NTKs computed by the structured implementation.
conv4 has only the two -structured workloads, and only the structured-derivatives implementation: its
per-example Jacobians (1.9M parameters, 10 outputs, 32 samples) take 2.4 GB per batch, and the NTK
vector products cost 320 jvps of the whole x1 batch, over ten times the structured FLOPs. Its steps
take seconds, so they run only when --only selects them (e.g. --only conv4), warmed up once and timed
for at least 3 runs.
`--check` compares the structured NTKs with the plain one on 3 vs 2 inputs (and the gradient of the NTT
kernel loss through them) for every model instead of timing anything.
Each workload is compiled and run 3 times, then timed for at least 10 runs and --min-time
seconds; the median is reported. Results are waited for with block_until_ready.

Compare with the Swift implementation on the same machine, in one sitting:
    pip install -r bench/requirements.txt
    python bench/jax_reference.py --json > jax.json
    swift run -c release ntt bench --json > swift.json
and match entries of "benchmarks" by "name" (both report "median_ms"). Thread settings are taken
from the environment (e.g. XLA_FLAGS, taskset); use the same limits for both runs.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time
from functools import partial

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402

CLASSES = 10
DENSITY = 0.03

MODELS = {
    "lenet-300-100": [("flatten",), ("dense", 300), ("relu",), ("dense", 100), ("relu",), ("dense", CLASSES)],
    "lenet5-caffe": [("conv", 20, 5), ("relu",), ("maxpool", 2), ("conv", 50, 5), ("relu",), ("maxpool", 2),
                     ("flatten",), ("dense", 500), ("relu",), ("dense", CLASSES)],
    # ntt's built-in conv4, the original's Conv-4 (stax.Conv pads VALID: 32 -> 30 -> 28 -> 14 -> 12 -> 10
    # -> 5, flatten 3200).
    "conv4": [("conv", 64, 3), ("relu",), ("conv", 64, 3), ("relu",), ("maxpool", 2),
              ("conv", 128, 3), ("relu",), ("conv", 128, 3), ("relu",), ("maxpool", 2),
              ("flatten",), ("dense", 512), ("relu",), ("dense", CLASSES)],
}
# Per-sample input shape (NHWC) of each model's workloads.
IMAGE_SHAPES = {"lenet-300-100": (28, 28, 1), "lenet5-caffe": (28, 28, 1), "conv4": (32, 32, 3)}
# Models whose workloads take seconds: structured only, opt-in, fewer runs (see the docstring).
SLOW_MODELS = {"conv4"}


# --- model -----------------------------------------------------------------------------------

def init_params(spec, key, input_shape):
    """List of {"w", "b"} for the dense/conv layers: glorot-normal weights, N(0, 0.01^2) biases."""
    glorot = jax.nn.initializers.glorot_normal()  # fans from the last two axes: HWIO / (in, out)
    shape, params = tuple(input_shape), []
    for layer in spec:
        kind = layer[0]
        if kind in ("dense", "conv"):
            key, kw, kb = jax.random.split(key, 3)
            if kind == "dense":
                w_shape, shape = (shape[0], layer[1]), (layer[1],)
            else:
                k = layer[2]
                w_shape = (k, k, shape[2], layer[1])
                shape = (shape[0] - k + 1, shape[1] - k + 1, layer[1])
            params.append({"w": glorot(kw, w_shape), "b": 0.01 * jax.random.normal(kb, (layer[1],))})
        elif kind == "maxpool":
            p = layer[1]
            shape = (shape[0] // p, shape[1] // p, shape[2])
        elif kind == "flatten":
            shape = (math.prod(shape),)
    return params


def apply_model(spec, params, x, taps=None, inputs=None):
    """Logits for a batch x of NHWC images.

    For the structured NTK only: `taps` (one array per dense/conv layer, shaped like its
    pre-activation) are added to the pre-activations, so the cotangent w.r.t. a tap is the
    cotangent w.r.t. that pre-activation; `inputs`, a list, receives each dense/conv layer's input.
    With both None (every other workload) the computation is unchanged."""
    h, i = x, 0
    for layer in spec:
        kind = layer[0]
        if kind in ("dense", "conv"):
            if inputs is not None:
                inputs.append(h)
            if kind == "dense":
                h = h @ params[i]["w"] + params[i]["b"]
            else:
                h = lax.conv_general_dilated(h, params[i]["w"], (1, 1), "VALID",
                                             dimension_numbers=("NHWC", "HWIO", "NHWC")) + params[i]["b"]
            if taps is not None:
                h = h + taps[i]
            i += 1
        elif kind == "relu":
            h = jax.nn.relu(h)
        elif kind == "maxpool":
            p = layer[1]
            h = lax.reduce_window(h, -jnp.inf, lax.max, (1, p, p, 1), (1, p, p, 1), "VALID")
        elif kind == "flatten":
            h = h.reshape(h.shape[0], -1)
    return h


def weights_sq_sum(params):
    return sum(jnp.sum(p["w"] ** 2) for p in params)


def effective(params, masks):
    """Masked weights w*m; biases are not masked."""
    return [{"w": p["w"] * m, "b": p["b"]} for p, m in zip(params, masks)]


# --- Adam ------------------------------------------------------------------------------------

def adam_init(params):
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return {"m": zeros, "v": zeros, "t": jnp.zeros((), jnp.int32)}


def adam_update(params, grads, state, lr, b1=0.9, b2=0.999, eps=1e-8):
    t = state["t"] + 1
    m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
    v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
    scale = lr * jnp.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    params = jax.tree_util.tree_map(lambda p, m, v: p - scale * m / (jnp.sqrt(v) + eps), params, m, v)
    return params, {"m": m, "v": v, "t": t}


# --- workloads -------------------------------------------------------------------------------

def empirical_ntk(spec, params, x1, x2):
    """[n1, n2, C, C] NTK: per-example Jacobians w.r.t. all params, contracted over params."""
    def single(p, x):
        return apply_model(spec, p, x[None])[0]

    jac = jax.vmap(jax.jacrev(single), in_axes=(None, 0))
    leaves1 = jax.tree_util.tree_leaves(jac(params, x1))
    leaves2 = jax.tree_util.tree_leaves(jac(params, x2))
    return sum(jnp.einsum("ikp,jlp->ijkl", a.reshape(a.shape[0], CLASSES, -1), b.reshape(b.shape[0], CLASSES, -1))
               for a, b in zip(leaves1, leaves2))


def _preactivation_shapes(spec, params, x):
    """Shapes of the dense/conv pre-activations, from abstract evaluation of the layer inputs."""
    def layer_inputs(params, x):
        inputs = []
        apply_model(spec, params, x, inputs=inputs)
        return inputs

    shapes = jax.eval_shape(layer_inputs, params, x)
    layers = [layer for layer in spec if layer[0] in ("dense", "conv")]
    return [(a.shape[0], layer[1]) if layer[0] == "dense"
            else (a.shape[0], a.shape[1] - layer[2] + 1, a.shape[2] - layer[2] + 1, layer[1])
            for layer, a in zip(layers, shapes)]


def _layer_factors(spec, params, x):
    """Per dense/conv layer: its input H [n, ...] and the cotangents D [C, n, ...] of every one of
    the C outputs w.r.t. its pre-activation, per sample. Samples do not interact, so one batched
    vjp with cotangent e_c on every sample yields d f_{i,c} / d z_i for all i at once: vmap(vjp)
    over the C classes."""
    taps = [jnp.zeros(shape, x.dtype) for shape in _preactivation_shapes(spec, params, x)]

    def f(taps):
        inputs = []
        return apply_model(spec, params, x, taps=taps, inputs=inputs), inputs

    _, vjp_fn, inputs = jax.vjp(f, taps, has_aux=True)
    n = x.shape[0]
    basis = jnp.broadcast_to(jnp.eye(CLASSES, dtype=x.dtype)[:, None, :], (CLASSES, n, CLASSES))
    (deltas,) = jax.vmap(vjp_fn)(basis)
    return inputs, deltas


def structured_ntk(spec, params, x1, x2):
    """[n1, n2, C, C] NTK from the layer structure (hand-written "structured derivatives").

    Dense layer z = H W + b: Theta += (H1 H2^T) * (D1 D2^T) + D1 D2^T = (H1 H2^T + 1) * (D1 D2^T),
    i.e. [n1, n2] Gram of the inputs times the [n1, n2, C, C] Gram of the pre-activation cotangents,
    without ever forming the per-example weight Jacobians.
    Conv layer: the factored form would need a Gram over all pairs of output positions (far more
    work than the Jacobian), so its weight Jacobian is formed from input patches and cotangents,
    J_w[n, c] = sum_p patch[n, p] (x) D[c, n, p], J_b[n, c] = sum_p D[c, n, p], and contracted."""
    h1, d1 = _layer_factors(spec, params, x1)
    h2, d2 = _layer_factors(spec, params, x2)
    layers = [layer for layer in spec if layer[0] in ("dense", "conv")]
    theta = 0.0
    for layer, a1, a2, g1, g2 in zip(layers, h1, h2, d1, d2):
        if layer[0] == "dense":
            theta = theta + (a1 @ a2.T + 1.0)[:, :, None, None] * jnp.einsum("cio,djo->ijcd", g1, g2)
        else:
            k = layer[2]

            def jacobians(a, g):
                patches = lax.conv_general_dilated_patches(  # [n, oh, ow, c_in*k*k] (any fixed order)
                    a, (k, k), (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
                return jnp.einsum("nhwq,cnhwo->ncqo", patches, g), jnp.sum(g, axis=(2, 3))

            jw1, jb1 = jacobians(a1, g1)
            jw2, jb2 = jacobians(a2, g2)
            theta = theta + jnp.einsum("icqo,jdqo->ijcd", jw1, jw2) + jnp.einsum("cio,djo->ijcd", jb1, jb2)
    return theta


def ntk_vector_products(spec, params, x1, x2):
    """[n1, n2, C, C] NTK by Jacobian-vector products (hand-written "NTK vector products"):
    for every x2 sample j and class l, g = J(x2_j)^T e_l by a vjp, then J(x1) g by a jvp over the
    whole x1 batch; vmapped over j and l, the x1 linearization computed once."""
    def single(p, x):
        return apply_model(spec, p, x[None])[0]

    def cotangent_params(x):  # params pytree with a leading [C] axis
        _, vjp_fn = jax.vjp(lambda p: single(p, x), params)
        return jax.vmap(vjp_fn)(jnp.eye(CLASSES, dtype=x.dtype))[0]

    g = jax.vmap(cotangent_params)(x2)  # leaves [n2, C, ...]
    _, jvp_fn = jax.linearize(lambda p: apply_model(spec, p, x1), params)
    cols = jax.vmap(jax.vmap(jvp_fn))(g)  # [n2, C, n1, C]
    return cols.transpose(2, 0, 3, 1)


def train_step(spec, params, adam, x, labels):
    def loss(p):
        logits = apply_model(spec, p, x)
        ce = -jnp.mean(jnp.sum(labels * jax.nn.log_softmax(logits), axis=-1))
        return ce + 1e-8 * weights_sq_sum(p)

    grads = jax.grad(loss)(params)
    return adam_update(params, grads, adam, lr=1e-3)


def default_lambda_l2(spec):
    """ntt's default L2 coefficient: 1e-5 for models with conv layers, 1e-4 otherwise."""
    return 1e-5 if any(layer[0] == "conv" for layer in spec) else 1e-4


def ntt_grads(spec, params, masks, teacher, x, ntk_fn=empirical_ntk, lambda_kernel=1e-3, lambda_l2=None):
    """Gradient of the NTT loss w.r.t. the raw student params; both NTKs computed by ntk_fn."""
    lambda_l2 = default_lambda_l2(spec) if lambda_l2 is None else lambda_l2
    half = x.shape[0] // 2
    x1, x2 = x[:half], x[half:]
    k_t = ntk_fn(spec, teacher, x1, x2)
    f_t = apply_model(spec, teacher, x)

    def loss(p):
        eff = effective(p, masks)
        k_s = ntk_fn(spec, eff, x1, x2)
        f_s = apply_model(spec, eff, x)
        return (lambda_kernel * jnp.mean((k_s - k_t) ** 2) + jnp.mean((f_s - f_t) ** 2)
                + (lambda_l2 / DENSITY) * weights_sq_sum(eff))

    return jax.grad(loss)(params)


def ntt_step(spec, params, adam, masks, teacher, x, ntk_fn=empirical_ntk):
    grads = ntt_grads(spec, params, masks, teacher, x, ntk_fn)
    return adam_update(params, grads, adam, lr=5e-4)


def make_workloads(model_name):
    """(name, setup) pairs; setup() returns a no-argument function that runs once and blocks."""
    spec, image_shape = MODELS[model_name], IMAGE_SHAPES[model_name]
    key = jax.random.PRNGKey(0)
    k_params, k_teacher, k_masks, k_x, k_y, k_x2 = jax.random.split(key, 6)

    def batch(k, n):
        return jax.random.normal(k, (n,) + image_shape)

    def setup_train():
        step = jax.jit(partial(train_step, spec))
        x = batch(k_x, 64)
        labels = jax.nn.one_hot(jax.random.randint(k_y, (64,), 0, CLASSES), CLASSES)
        state = [init_params(spec, k_params, image_shape)]
        state.append(adam_init(state[0]))

        def run():
            state[:] = jax.block_until_ready(step(state[0], state[1], x, labels))
        return run

    def setup_ntk(ntk_fn=empirical_ntk):
        ntk = jax.jit(partial(ntk_fn, spec))
        params = init_params(spec, k_params, image_shape)
        x1, x2 = batch(k_x, 32), batch(k_x2, 32)
        return lambda: jax.block_until_ready(ntk(params, x1, x2))

    def setup_ntk_nt():
        # Both implementations are timed (structured only for a slow model); the faster one is reported.
        return {name: setup_ntk(fn) for name, fn in NT_IMPLEMENTATIONS.items()
                if model_name not in SLOW_MODELS or name == STRUCTURED}

    def setup_ntt(ntk_fn=empirical_ntk):
        step = jax.jit(partial(ntt_step, spec, ntk_fn=ntk_fn))
        params = init_params(spec, k_params, image_shape)
        teacher = init_params(spec, k_teacher, image_shape)
        masks = [jax.random.bernoulli(k, DENSITY, p["w"].shape).astype(jnp.float32)
                 for k, p in zip(jax.random.split(k_masks, len(params)), params)]
        x = batch(k_x, 64)
        state = [params, adam_init(params)]

        def run():
            state[:] = jax.block_until_ready(step(state[0], state[1], masks, teacher, x))
        return run

    structured = [(f"ntk-structured/{model_name}", setup_ntk_nt),
                  (f"ntt-step-structured/{model_name}", lambda: {STRUCTURED: setup_ntt(structured_ntk)})]
    if model_name in SLOW_MODELS:
        return structured
    return [(f"train-step/{model_name}", setup_train),
            (f"ntk/{model_name}", setup_ntk),
            (f"ntt-step/{model_name}", setup_ntt)] + structured


def is_slow(name):
    """True for the workloads of a slow model (opt-in, fewer runs)."""
    return name.split("/", 1)[1] in SLOW_MODELS


# The "-structured" workloads: the NTK computed the way the neural-tangents library does it (its
# STRUCTURED_DERIVATIVES and NTK_VECTOR_PRODUCTS implementations, trace_axes=(), vmap_axes=0), but
# written here by hand: no released neural-tangents (latest 0.6.5) imports with jax 0.10.2.
STRUCTURED = "structured-derivatives (hand-written)"
VECTOR_PRODUCTS = "ntk-vector-products (hand-written)"
NT_IMPLEMENTATIONS = {STRUCTURED: structured_ntk, VECTOR_PRODUCTS: ntk_vector_products}


# --- numerical check -------------------------------------------------------------------------

def rel_err(a, b):
    """max |a - b| / max |b| over all leaves."""
    a, b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    return float(max(jnp.max(jnp.abs(x - y)) for x, y in zip(a, b)) / max(jnp.max(jnp.abs(y)) for y in b))


def check(tol_ntk=1e-5, tol_grad=1e-4):
    """The structured NTKs against empirical_ntk on 3 vs 2 inputs, and the gradient of the NTT kernel loss
    through the structured NTK against the one through empirical_ntk, for every model. True if all
    pass."""
    ok = True
    for model_name, spec in MODELS.items():
        image_shape = IMAGE_SHAPES[model_name]
        k_params, k_teacher, k_masks, k_x1, k_x2 = jax.random.split(jax.random.PRNGKey(1), 5)
        params = init_params(spec, k_params, image_shape)
        x1 = jax.random.normal(k_x1, (3,) + image_shape)
        x2 = jax.random.normal(k_x2, (2,) + image_shape)
        reference = jax.jit(partial(empirical_ntk, spec))(params, x1, x2)
        for name, fn in NT_IMPLEMENTATIONS.items():
            theta = jax.jit(partial(fn, spec))(params, x1, x2)
            err = rel_err(theta, reference)
            good = theta.shape == reference.shape and err <= tol_ntk
            ok &= good
            print(f"{'ok  ' if good else 'FAIL'} ntk              {model_name:<14} {name:<40} shape {tuple(theta.shape)}  "
                  f"rel err {err:.2e} (tol {tol_ntk:g})", flush=True)

        teacher = init_params(spec, k_teacher, image_shape)
        masks = [jax.random.bernoulli(k, DENSITY, p["w"].shape).astype(jnp.float32)
                 for k, p in zip(jax.random.split(k_masks, len(params)), params)]
        k_t = empirical_ntk(spec, teacher, x1, x2)

        def kernel_loss_grad(ntk_fn, p):  # the NTT kernel term alone (the L2 term would dominate)
            return jax.grad(lambda p: jnp.mean((ntk_fn(spec, effective(p, masks), x1, x2) - k_t) ** 2))(p)

        g_ref = jax.jit(partial(kernel_loss_grad, empirical_ntk))(params)
        g_nt = jax.jit(partial(kernel_loss_grad, structured_ntk))(params)
        err = rel_err(g_nt, g_ref)
        good = err <= tol_grad
        ok &= good
        print(f"{'ok  ' if good else 'FAIL'} kernel-loss grad {model_name:<14} {STRUCTURED:<40} "
              f"rel err {err:.2e} (tol {tol_grad:g})", flush=True)
    return ok


# --- timing ----------------------------------------------------------------------------------

def time_workload(run, min_time, min_runs=10, warmup=3):
    """Median milliseconds over at least `min_runs` runs and `min_time` seconds, after warm-up."""
    run()  # compile
    for _ in range(warmup):
        run()
    times, start = [], time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, len(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--only", metavar="SUBSTRING",
                        help="only workloads whose name contains this (the slow conv4 ones run only when selected)")
    parser.add_argument("--min-time", type=float, default=1.0, metavar="SECONDS",
                        help="minimum timed seconds per workload (default 1)")
    parser.add_argument("--check", action="store_true",
                        help="only check the structured NTKs (and NTT gradient) against the plain ones on tiny batches")
    args = parser.parse_args(argv)
    if args.check:
        print(f"jax {jax.__version__}", flush=True)
        sys.exit(0 if check() else 1)

    workloads = [w for name in MODELS for w in make_workloads(name)]
    selected = [w for w in workloads if (args.only in w[0] if args.only is not None else not is_slow(w[0]))]
    if not selected:
        parser.error(f"--only {args.only!r} matches no workload; names: {', '.join(n for n, _ in workloads)}")

    devices = jax.devices("cpu")
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info = f"jax {jax.__version__}, {len(devices)} CPU device(s), {threads} usable core(s)"
    print(info, file=sys.stderr if args.json else sys.stdout, flush=True)

    results = []
    for name, setup in selected:
        runs_by_impl = setup()
        timing = {"min_runs": 3, "warmup": 1} if is_slow(name) else {}
        if callable(runs_by_impl):
            median_ms, runs = time_workload(runs_by_impl, args.min_time, **timing)
            entry = {"name": name, "median_ms": round(median_ms, 3), "runs": runs}
        else:  # {implementation: run}: time each, report the fastest
            timed = {impl: time_workload(run, args.min_time, **timing) for impl, run in runs_by_impl.items()}
            impl = min(timed, key=lambda i: timed[i][0])
            median_ms, runs = timed[impl]
            entry = {"name": name, "median_ms": round(median_ms, 3), "runs": runs, "implementation": impl}
            if len(timed) > 1:
                entry["candidates_median_ms"] = {i: round(t[0], 3) for i, t in timed.items()}
        results.append(entry)
        if not args.json:
            extra = f"  [{entry['implementation']}]" if "implementation" in entry else ""
            if "candidates_median_ms" in entry:
                extra += "  candidates: " + ", ".join(f"{i}: {t:.3f} ms"
                                                       for i, t in entry["candidates_median_ms"].items())
            print(f"{name:<34}{median_ms:10.3f} ms  ({runs} runs){extra}", flush=True)

    if args.json:
        print(json.dumps({"benchmarks": results, "jax_version": jax.__version__, "threads": threads}))


if __name__ == "__main__":
    main()
