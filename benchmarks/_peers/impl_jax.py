"""JAX + optax: one trajectory written as nested ``lax.scan``s, ``vmap``-ed over trajectories.

float64 (``jax_enable_x64``).  The per-trajectory function takes the learning rate and a
PRNG key as (vmapped) inputs and builds its optax transformation with that traced
learning rate; the outer scan runs over the recording points, the inner one over the
steps between two records.  Every step draws its noise with ``jax.random.normal`` from
the trajectory's key (threefry, JAX's default).  The whole workload is one jitted call,
compiled ahead of time (``jit(...).lower(...).compile()``): that compile time is this
peer's "first call"; the rate is measured on later calls (``block_until_ready``).

Rules: ``optax.sgd`` (plain, momentum 0.9, ``nesterov=True``), ``optax.rmsprop(decay=0.99,
eps_in_sqrt=False)``, ``optax.adam``, ``optax.radam`` (optax puts eps on
``sqrt(v_hat)`` and tests ``rho_t >= 5``; PyTorch puts it on ``sqrt(v)`` and tests
``> 5``: the same numbers to ~1e-8 relative here) and, written here as optax
``GradientTransformation``s because optax's own differ from PyTorch's, AdaGrad (PyTorch:
accumulator from 0, eps outside the square root) and AMSGrad (PyTorch: the running max of
the raw second moment).

W5 (the MLP): a trajectory is a pytree ``{W1, b1, W2, b2}`` trained with ``optax.adam``
on ``jax.grad`` of the batch's mean cross-entropy (``jax.nn.log_softmax``); Glorot
normals ``jax.random.normal`` x sqrt(2 / (fan_in + fan_out)) from the trajectory's key (as
``torch.nn.init.xavier_normal_`` and the MLP problem; ``jax.nn.initializers.glorot_normal``
is a truncated normal of that variance instead); every epoch's order is
``jax.random.permutation(fold_in(key, epoch), n)``, drawn at the epoch's first step
(``lax.cond`` on the step counter, which is not batched, so it stays a branch under
``vmap``); the last batch of an epoch (n mod 32 examples) is a full-size slice with zero
weights on the examples beyond the epoch's end.
"""

from __future__ import annotations

import time

import numpy as np

from .workloads import HYPER

NAME = "jax"
LABEL = "JAX + optax (vmap, lax.scan)"

_compiled = {}


def unavailable():
    try:
        import jax  # noqa: F401
        import optax  # noqa: F401
    except ImportError as e:
        return f"jax/optax not installed ({e.name})"
    return None


def threads():
    return "XLA"


def _setup_jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    return jax


def _torch_adagrad():
    """PyTorch's AdaGrad direction g / (sqrt(sum g^2) + 1e-10), accumulator from 0."""
    import jax.numpy as jnp
    import optax

    def init(params):
        return jnp.zeros_like(params)

    def update(g, s, params=None):
        s = s + g * g
        return g / (jnp.sqrt(s) + HYPER["eps_adagrad"]), s

    return optax.GradientTransformation(init, update)


def _torch_amsgrad():
    """PyTorch's AMSGrad direction m_hat / (sqrt(max_t v_t / (1 - b2^t)) + eps)."""
    import jax.numpy as jnp
    import optax

    b1, b2, eps = HYPER["beta1"], HYPER["beta2"], HYPER["eps"]

    def init(params):
        z = jnp.zeros_like(params)
        return (z, z, z, jnp.zeros([], jnp.int64))

    def update(g, state, params=None):
        m, v, vmax, t = state
        t = t + 1
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = jnp.maximum(vmax, v)
        tf = t.astype(g.dtype)
        bc1 = 1 - b1**tf
        bc2 = 1 - b2**tf
        return (m / bc1) / (jnp.sqrt(vmax / bc2) + eps), (m, v, vmax, t)

    return optax.GradientTransformation(init, update)


def make_optimizer(rule, lr):
    """The optax transformation of ``rule`` with (traced) learning rate ``lr``."""
    import optax

    H = HYPER
    if rule == "sgd":
        return optax.sgd(lr)
    if rule == "momentum":
        return optax.sgd(lr, momentum=H["momentum"])
    if rule == "nag":
        return optax.sgd(lr, momentum=H["momentum"], nesterov=True)
    if rule == "adagrad":
        return optax.chain(_torch_adagrad(), optax.scale_by_learning_rate(lr))
    if rule == "rmsprop":
        return optax.rmsprop(lr, decay=H["alpha"], eps=H["eps"], eps_in_sqrt=False)
    if rule == "adam":
        return optax.adam(lr, b1=H["beta1"], b2=H["beta2"], eps=H["eps"])
    if rule == "amsgrad":
        return optax.chain(_torch_amsgrad(), optax.scale_by_learning_rate(lr))
    if rule == "radam":
        return optax.radam(lr, b1=H["beta1"], b2=H["beta2"], eps=H["eps"], threshold=5.0)
    raise ValueError(rule)


def _trajectory_fn(wl, rule):
    """f(lr, key) -> loss at the record steps, for one trajectory."""
    jax = _setup_jax()
    import jax.numpy as jnp
    import optax
    from jax import lax

    x0 = jnp.asarray(wl.x0)
    if wl.problem == "logreg":
        return _logreg_fn(wl, rule)
    if wl.problem == "mlp":
        return _mlp_fn(wl, rule)
    rec = np.asarray(wl.record_steps)
    every = int(rec[1] - rec[0])
    if not np.all(np.diff(rec) == every):
        raise NotImplementedError("the JAX peer needs evenly spaced record steps")
    n_seg = len(rec) - 1
    noise = jnp.asarray(wl.sigma * wl.scale)
    if wl.problem == "quadratic":
        h = jnp.asarray(wl.h)

        def loss(x):
            return 0.5 * jnp.sum(h * x * x)

        def grad(x):
            return h * x
    else:
        a, b = wl.rosen

        def loss(x):
            return (a - x[0]) ** 2 + b * (x[1] - x[0] ** 2) ** 2

        def grad(x):
            r = x[1] - x[0] ** 2
            return jnp.stack([-2.0 * (a - x[0]) - 4.0 * b * x[0] * r, 2.0 * b * r])

    def one(lr, key):
        opt = make_optimizer(rule, lr)

        def step(carry, _):
            x, state, k = carry
            k, sub = jax.random.split(k)
            g = grad(x) + noise * jax.random.normal(sub, x.shape, dtype=x.dtype)
            upd, state = opt.update(g, state, x)
            return (optax.apply_updates(x, upd), state, k), None

        def segment(carry, _):
            carry, _ = lax.scan(step, carry, None, length=every)
            return carry, loss(carry[0])

        carry = (x0, opt.init(x0), key)
        _, losses = lax.scan(segment, carry, None, length=n_seg)
        return jnp.concatenate([loss(x0)[None], losses])

    return one


def _logreg_fn(wl, rule):
    """Minibatch logistic regression: epochs of a fresh permutation, padded last batch."""
    jax = _setup_jax()
    import jax.numpy as jnp
    import optax
    from jax import lax

    X = jnp.asarray(wl.X)
    y = jnp.asarray(wl.y)
    n = wl.X.shape[0]
    B = wl.batch
    nbat = wl.steps_per_epoch
    pad = nbat * B - n
    # per-batch weights: 1/|batch| for real examples, 0 for the padding of the last batch
    wts = np.zeros(nbat * B)
    for j in range(nbat):
        lo, hi = j * B, min(n, (j + 1) * B)
        wts[lo:hi] = 1.0 / (hi - lo)
    wts = jnp.asarray(wts.reshape(nbat, B))
    x0 = jnp.asarray(wl.x0)

    def full_loss(w):
        return jnp.mean(jnp.logaddexp(0.0, -y * (X @ w)))

    def one(lr, key):
        opt = make_optimizer(rule, lr)

        def batch_step(carry, j):
            w, state, perm = carry
            idx = lax.dynamic_slice(perm, (j * B,), (B,))
            Xb, yb = X[idx], y[idx]
            m = yb * (Xb @ w)
            c = -yb * jax.nn.sigmoid(-m) * wts[j]
            g = c @ Xb
            upd, state = opt.update(g, state, w)
            return (optax.apply_updates(w, upd), state, perm), None

        def epoch(carry, k):
            w, state = carry
            perm = jax.random.permutation(k, n)
            perm = jnp.concatenate([perm, jnp.zeros(pad, perm.dtype)])
            (w, state, _), _ = lax.scan(batch_step, (w, state, perm), jnp.arange(nbat))
            return (w, state), None

        keys = jax.random.split(key, wl.epochs)
        (w, _), _ = lax.scan(epoch, (x0, opt.init(x0)), keys)
        return jnp.stack([full_loss(x0), full_loss(w)])

    return one


def _mlp_fn(wl, rule):
    """f(lr, key) -> (3, records): training loss, test loss, test accuracy."""
    jax = _setup_jax()
    import jax.numpy as jnp
    import optax
    from jax import lax

    X, y = jnp.asarray(wl.X), jnp.asarray(wl.y)
    Xt, yt = jnp.asarray(wl.X_test), jnp.asarray(wl.y_test)
    n, D = wl.X.shape
    H, C, B = wl.hidden, wl.classes, wl.batch
    nbat = wl.steps_per_epoch
    pad = nbat * B - n
    rec = np.asarray(wl.record_steps)
    every = int(rec[1] - rec[0])
    if not np.all(np.diff(rec) == every):
        raise NotImplementedError("the JAX peer needs evenly spaced record steps")
    n_seg = len(rec) - 1
    # per-batch example weights: 1/|batch|, 0 on the padding of an epoch's last batch
    wts = np.zeros(nbat * B)
    for j in range(nbat):
        lo, hi = j * B, min(n, (j + 1) * B)
        wts[lo:hi] = 1.0 / (hi - lo)
    wts = jnp.asarray(wts.reshape(nbat, B))

    def logits(p, Xb):
        return jnp.tanh(Xb @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"]

    def batch_loss(p, Xb, yb, wb):
        logp = jax.nn.log_softmax(logits(p, Xb))
        return -jnp.sum(wb * jnp.take_along_axis(logp, yb[:, None], axis=1)[:, 0])

    grad = jax.grad(batch_loss)

    def metrics(p):
        lp = jax.nn.log_softmax(logits(p, X))
        lpt = jax.nn.log_softmax(logits(p, Xt))
        f = -jnp.mean(jnp.take_along_axis(lp, y[:, None], axis=1))
        ft = -jnp.mean(jnp.take_along_axis(lpt, yt[:, None], axis=1))
        acc = jnp.mean(jnp.argmax(lpt, axis=1) == yt)
        return jnp.stack([f, ft, acc.astype(f.dtype)])

    def one(lr, key):
        opt = make_optimizer(rule, lr)
        k1, k2, kshuf = jax.random.split(key, 3)
        p = {"W1": jax.random.normal(k1, (H, D), dtype=jnp.float64) * np.sqrt(2.0 / (D + H)),
             "b1": jnp.zeros(H), "W2": jax.random.normal(k2, (C, H), dtype=jnp.float64) * np.sqrt(2.0 / (H + C)),
             "b2": jnp.zeros(C)}

        def new_perm(e):
            perm = jax.random.permutation(jax.random.fold_in(kshuf, e), n).astype(jnp.int32)
            return jnp.concatenate([perm, jnp.zeros(pad, jnp.int32)])

        def step(carry, t):
            p, state, perm = carry
            j = t % nbat
            perm = lax.cond(j == 0, lambda: new_perm(t // nbat), lambda: perm)
            idx = lax.dynamic_slice(perm, (j * B,), (B,))
            g = grad(p, X[idx], y[idx], wts[j])
            upd, state = opt.update(g, state, p)
            return (optax.apply_updates(p, upd), state, perm), None

        def segment(carry, s):
            carry, _ = lax.scan(step, carry, s * every + jnp.arange(every))
            return carry, metrics(carry[0])

        carry = (p, opt.init(p), jnp.zeros(nbat * B, jnp.int32))  # the order is drawn at step 0
        _, recs = lax.scan(segment, carry, jnp.arange(n_seg))
        return jnp.concatenate([metrics(p)[None], recs]).T

    return one


def _build(wl):
    """A compiled function (seed) -> losses for the whole workload, and its compile time."""
    jax = _setup_jax()
    import jax.numpy as jnp

    O, L, R, _ = wl.shape
    lr = jnp.asarray(np.repeat(np.asarray(wl.lrs, dtype=float), R))
    fns = [jax.vmap(_trajectory_fn(wl, rule)) for rule in wl.rules]

    def whole(key):
        keys = jax.random.split(key, O * L * R).reshape(O, L * R, -1)
        return jnp.stack([f(lr, keys[o]) for o, f in enumerate(fns)])  # W5: (O, L R, metrics, records)

    key = jax.random.PRNGKey(0)
    t0 = time.perf_counter()
    compiled = jax.jit(whole).lower(key).compile()
    return compiled, time.perf_counter() - t0


def warmup(wl):
    compiled, dt = _build(wl)
    _compiled[id(wl)] = compiled
    return {"first_call_s": dt, "first_call_what": "jit compile"}


def run(wl, seed=0):
    jax = _setup_jax()
    compiled = _compiled.get(id(wl))
    if compiled is None:
        compiled, _ = _build(wl)
        _compiled[id(wl)] = compiled
    out = compiled(jax.random.PRNGKey(seed))
    out = np.asarray(out.block_until_ready())
    if wl.problem == "mlp":
        from .workloads import MLP_METRICS

        O, L, R, K = wl.shape
        out = out.reshape(O, L, R, len(MLP_METRICS), K)
        return {m: np.ascontiguousarray(out[..., k, :]) for k, m in enumerate(MLP_METRICS)}, {}
    return out.reshape(wl.shape), {}
