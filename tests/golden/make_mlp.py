"""Regenerate the golden file of the MLP's loss and gradient, from JAX's autodiff.

Run where JAX is installed (optsim need not be)::

    python tests/golden/make_mlp.py          # from the repository root

For every activation, loss, bias and depth, a small network (5 inputs, hidden widths (4,)
or (4, 3), 3 classes) at random parameters on 7 random examples: the mean loss and its
gradient by ``jax.grad``, in float64.  Parameters are flat, layer after layer, W
(out x in, row-major) then b, as ``optsim.problems.MLP`` stores them.  Writes
``tests/golden/problems/mlp_jax.npz`` (arrays ``<case>/x``, ``<case>/loss``,
``<case>/grad`` and the shared ``X``, ``y``) and ``mlp_jax.json`` (the cases and versions).
"""

import itertools
import json
from pathlib import Path

import numpy as np

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

OUT = Path(__file__).resolve().parent / "problems"
N_IN, N_CLASSES, N_EX = 5, 3, 7
ACTS = {"tanh": jnp.tanh, "relu": jax.nn.relu,
        "gelu": lambda z: jax.nn.gelu(z, approximate=False)}  # JAX's default is the tanh approximation


def widths(hidden):
    return (N_IN, *hidden, N_CLASSES)


def unflatten(x, w, bias):
    layers, off = [], 0
    for l in range(1, len(w)):
        W = x[off:off + w[l] * w[l - 1]].reshape(w[l], w[l - 1])
        off += w[l] * w[l - 1]
        b = None
        if bias:
            b = x[off:off + w[l]]
            off += w[l]
        layers.append((W, b))
    return layers


def loss_fn(x, X, y, w, act, loss, bias):
    h = X
    layers = unflatten(x, w, bias)
    for l, (W, b) in enumerate(layers):
        z = h @ W.T + (b if bias else 0.0)
        h = ACTS[act](z) if l < len(layers) - 1 else z
    onehot = jax.nn.one_hot(y, N_CLASSES, dtype=jnp.float64)
    if loss == "cross_entropy":
        per = jax.nn.logsumexp(h, axis=1) - jnp.sum(h * onehot, axis=1)
    else:
        per = 0.5 * jnp.sum((h - onehot) ** 2, axis=1)
    return jnp.mean(per)


def main():
    rng = np.random.default_rng(20)
    X = rng.standard_normal((N_EX, N_IN))
    y = rng.integers(0, N_CLASSES, N_EX)
    arrays = {"X": X, "y": y}
    cases = []
    for act, loss, bias, hidden in itertools.product(ACTS, ("cross_entropy", "squared"), (True, False),
                                                     ((4,), (4, 3))):
        w = widths(hidden)
        d = sum(w[l] * w[l - 1] + (w[l] if bias else 0) for l in range(1, len(w)))
        x = rng.standard_normal(d) * 0.8
        f, g = jax.value_and_grad(loss_fn)(jnp.asarray(x), jnp.asarray(X), jnp.asarray(y), w, act, loss, bias)
        name = f"{act}_{loss}_{'bias' if bias else 'nobias'}_{len(hidden)}"
        arrays[f"{name}/x"] = x
        arrays[f"{name}/loss"] = np.asarray(f)
        arrays[f"{name}/grad"] = np.asarray(g)
        cases.append({"name": name, "activation": act, "loss": loss, "bias": bias, "hidden": list(hidden)})
    OUT.mkdir(exist_ok=True)
    np.savez_compressed(OUT / "mlp_jax.npz", **arrays)
    meta = {"generator": "tests/golden/make_mlp.py", "library": f"jax {jax.__version__}", "n_in": N_IN,
            "n_classes": N_CLASSES, "examples": N_EX, "cases": cases}
    (OUT / "mlp_jax.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
