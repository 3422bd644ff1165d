"""Reference values for the Swift tests, computed independently with JAX (float64).

For two small models (an MLP and a CNN with max- and average-pooling, valid and same padding)
this draws fixed parameters, 0/1 masks, a dense teacher and inputs, then computes with plain
JAX autodiff:
  * student and teacher outputs;
  * the empirical NTK between the two halves of the batch by the plain Jacobian contraction,
    w.r.t. the effective weights w*m ("effective") and w.r.t. the raw weights ("surviving");
  * the NTT transfer loss of SPEC section 2 and its gradient w.r.t. the raw student weights and
    biases (differentiating through the Jacobians).
It writes Tests/NeuralTangentTransferTests/Fixtures/reference-{mlp,cnn}.json.

Usage:  pip install -r scripts/reference/requirements.txt && python scripts/reference/make_fixtures.py
"""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

jax.config.update("jax_enable_x64", True)

LAMBDA_KERNEL, LAMBDA_L2, DENSITY = 0.5, 0.01, 0.5

# Layer lists mirror the Swift spec strings in ReferenceFixtureTests.swift.
MODELS = {
    "mlp": {"input_shape": [6], "layers": [("dense", 5), ("relu",), ("dense", 4), ("relu",), ("dense", 3)]},
    "cnn": {"input_shape": [8, 8, 2], "layers": [
        ("conv", 4, 3, "VALID"), ("relu",), ("maxpool", 2),
        ("conv", 3, 3, "SAME"), ("relu",), ("avgpool", 2),
        ("flatten",), ("dense", 3)]},
}


def shapes(spec):
    """Weight/bias shapes of the parametrised layers."""
    shape, out = list(spec["input_shape"]), []
    for layer in spec["layers"]:
        kind = layer[0]
        if kind == "dense":
            out.append(((shape[0], layer[1]), (layer[1],)))
            shape = [layer[1]]
        elif kind == "conv":
            k = layer[2]
            out.append(((k, k, shape[2], layer[1]), (layer[1],)))
            if layer[3] == "VALID":
                shape = [shape[0] - k + 1, shape[1] - k + 1, layer[1]]
            else:
                shape = [shape[0], shape[1], layer[1]]
        elif kind in ("maxpool", "avgpool"):
            shape = [shape[0] // layer[1], shape[1] // layer[1], shape[2]]
        elif kind == "flatten":
            shape = [int(np.prod(shape))]
    return out


def apply(spec, weights, biases, x):
    h, p = x, 0
    for layer in spec["layers"]:
        kind = layer[0]
        if kind == "dense":
            h = h @ weights[p] + biases[p]
            p += 1
        elif kind == "conv":
            h = lax.conv_general_dilated(h, weights[p], (1, 1), layer[3],
                                         dimension_numbers=("NHWC", "HWIO", "NHWC")) + biases[p]
            p += 1
        elif kind == "relu":
            h = jnp.maximum(h, 0)
        elif kind == "maxpool":
            w = layer[1]
            h = lax.reduce_window(h, -jnp.inf, lax.max, (1, w, w, 1), (1, w, w, 1), "VALID")
        elif kind == "avgpool":
            w = layer[1]
            h = lax.reduce_window(h, 0.0, lax.add, (1, w, w, 1), (1, w, w, 1), "VALID") / (w * w)
        elif kind == "flatten":
            h = h.reshape(h.shape[0], -1)
    return h


def ntk(spec, weights, biases, x1, x2):
    """Plain contraction: Θ[i,j,a,b] = Σ_θ ∂f_a(x1_i)/∂θ ∂f_b(x2_j)/∂θ over weights and biases."""
    def f(params, x):
        return apply(spec, params[0], params[1], x)
    j1 = jax.jacrev(f)((weights, biases), x1)
    j2 = jax.jacrev(f)((weights, biases), x2)
    total = 0
    for a, b in zip(jax.tree_util.tree_leaves(j1), jax.tree_util.tree_leaves(j2)):
        a = a.reshape(a.shape[0], a.shape[1], -1)
        b = b.reshape(b.shape[0], b.shape[1], -1)
        total = total + jnp.einsum("iap,jbp->ijab", a, b)
    return total


def ntk_jvp(spec, weights, biases, x1, x2):
    """Second computation for the self-check: Θ v for basis vectors via jvp∘vjp."""
    def f(params, x):
        return apply(spec, params[0], params[1], x)
    params = (weights, biases)
    _, pullback = jax.vjp(lambda p: f(p, x1), params)
    n1, k = x1.shape[0], f(params, x1).shape[1]
    rows = []
    for i in range(n1):
        for a in range(k):
            e = jnp.zeros((n1, k)).at[i, a].set(1.0)
            (cot,) = pullback(e)
            _, tangent = jax.jvp(lambda p: f(p, x2), (params,), (cot,))
            rows.append(tangent)
    return jnp.stack(rows).reshape(n1, k, x2.shape[0], k).transpose(0, 2, 1, 3)


def transfer_loss(spec, raw, masks, teacher, x):
    weights, biases = raw
    half = x.shape[0] // 2
    x1, x2 = x[:half], x[half:]
    effective = [w * m for w, m in zip(weights, masks)]
    ts = ntk(spec, effective, biases, x1, x2)
    tt = ntk(spec, teacher[0], teacher[1], x1, x2)
    fs = apply(spec, effective, biases, x)
    ft = apply(spec, teacher[0], teacher[1], x)
    ntk_distance = jnp.mean((ts - tt) ** 2)
    target_distance = jnp.mean((fs - ft) ** 2)
    l2 = sum(jnp.sum(w ** 2) for w in effective)
    total = LAMBDA_KERNEL * ntk_distance + target_distance + (LAMBDA_L2 / DENSITY) * l2
    return total, (ntk_distance, target_distance, l2)


def tensor(a):
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "data": [float(f"{v:.9g}") for v in a.reshape(-1)]}


def draw(rng, spec):
    ws, bs = [], []
    for wshape, bshape in shapes(spec):
        fan_in = int(np.prod(wshape[:-1]))
        ws.append(rng.normal(size=wshape) / np.sqrt(fan_in))
        bs.append(rng.normal(size=bshape) * 0.1)
    return ws, bs


def has_pool_ties(spec, weights, biases, x):
    """True if any max-pool window of the model's max-pool input has a (near) tie."""
    for stop, layer in enumerate(spec["layers"]):
        if layer[0] == "maxpool":
            w = layer[1]
            h = np.asarray(apply({"layers": spec["layers"][:stop]}, weights, biases, x))
            n, hh, ww, c = h.shape
            blocks = h[:, :hh // w * w, :ww // w * w].reshape(n, hh // w, w, ww // w, w, c)
            blocks = blocks.transpose(0, 1, 3, 5, 2, 4).reshape(-1, w * w)
            top = np.sort(blocks, axis=1)
            # Windows whose maximum is 0 come after a ReLU whose derivative there is 0, so a
            # tie among zeros cannot change any derivative; only positive ties matter.
            return bool(np.any((top[:, -1] > 0) & (top[:, -1] - top[:, -2] < 1e-6)))
    return False


def make(name, seed):
    spec = MODELS[name]
    rng = np.random.default_rng(seed)
    while True:
        student = draw(rng, spec)
        teacher = draw(rng, spec)
        masks = []
        for w in student[0]:
            m = (rng.uniform(size=w.shape) < DENSITY).astype(np.float64)
            m.reshape(-1)[:2] = 1.0  # every layer keeps a few weights
            masks.append(m)
        x = rng.normal(size=[8] + spec["input_shape"])
        eff = [w * m for w, m in zip(student[0], masks)]
        if not (has_pool_ties(spec, eff, student[1], x) or has_pool_ties(spec, teacher[0], teacher[1], x)):
            break
    raw = ([jnp.asarray(w) for w in student[0]], [jnp.asarray(b) for b in student[1]])
    teacher_j = ([jnp.asarray(w) for w in teacher[0]], [jnp.asarray(b) for b in teacher[1]])
    masks_j = [jnp.asarray(m) for m in masks]
    xj = jnp.asarray(x)
    x1, x2 = xj[:4], xj[4:]
    eff = [w * m for w, m in zip(raw[0], masks_j)]
    k_eff = ntk(spec, eff, raw[1], x1, x2)
    check = ntk_jvp(spec, eff, raw[1], x1, x2)
    assert np.max(np.abs(k_eff - check)) < 1e-10 * max(1.0, float(np.max(np.abs(k_eff)))), "NTK self-check failed"

    def surviving_f(weights, biases, x):
        return apply(spec, [w * m for w, m in zip(weights, masks_j)], biases, x)
    j1 = jax.jacrev(surviving_f, argnums=(0, 1))(raw[0], raw[1], x1)
    j2 = jax.jacrev(surviving_f, argnums=(0, 1))(raw[0], raw[1], x2)
    k_surv = 0
    for a, b in zip(jax.tree_util.tree_leaves(j1), jax.tree_util.tree_leaves(j2)):
        k_surv = k_surv + jnp.einsum("iap,jbp->ijab", a.reshape(4, a.shape[1], -1), b.reshape(4, b.shape[1], -1))

    (total, (nd, td, l2)), grads = jax.value_and_grad(
        lambda p: transfer_loss(spec, p, masks_j, teacher_j, xj), has_aux=True)(raw)
    return {
        "generator": "scripts/reference/make_fixtures.py", "jax_version": jax.__version__, "model": name,
        "input_shape": spec["input_shape"], "outputs": 3,
        "lambda_kernel": LAMBDA_KERNEL, "lambda_l2": LAMBDA_L2, "density": DENSITY,
        "x": tensor(x),
        "teacher": [{"weight": tensor(w), "bias": tensor(b)} for w, b in zip(*teacher)],
        "student": [{"weight": tensor(w), "bias": tensor(b)} for w, b in zip(*student)],
        "masks": [tensor(m) for m in masks],
        "student_outputs": tensor(apply(spec, eff, raw[1], xj)),
        "teacher_outputs": tensor(apply(spec, teacher_j[0], teacher_j[1], xj)),
        "ntk_effective": tensor(k_eff), "ntk_surviving": tensor(k_surv),
        "teacher_ntk": tensor(ntk(spec, teacher_j[0], teacher_j[1], x1, x2)),
        "transfer_loss": float(total), "ntk_distance": float(nd), "target_distance": float(td), "l2": float(l2),
        "transfer_gradient": [{"weight": tensor(w), "bias": tensor(b)} for w, b in zip(*grads)],
    }


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "..", "Tests", "NeuralTangentTransferTests", "Fixtures")
    for name, seed in (("mlp", 1), ("cnn", 2)):
        path = os.path.join(out, f"reference-{name}.json")
        with open(path, "w") as f:
            json.dump(make(name, seed), f, separators=(",", ":"))
        print("wrote", os.path.normpath(path))
