"""The step loops that drive the rule oracles of :mod:`reference.rules`, one trajectory at a time.

Closed loop (:func:`run`, :func:`positions`): the gradient is taken at the current point, or
at the rule's look-ahead point where it has one, and optionally perturbed by Gaussian noise
drawn from the same per-trajectory stream as the kernels (the jitted ``optsim._rng``
functions called from Python), so that noisy runs compare exactly.  Open loop
(:func:`run_open`): update ``k`` sees ``grads[k]`` whatever the parameters are.
"""

import numpy as np

from optsim import _rng
from optsim.engine.codegen import STREAMS

from .schedules import constant_lr


def run(rule, grad, loss, x0, steps, lr, schedule=constant_lr, sigma=0.0, seed=0, replicate=0, cell=0):
    """``(xs, fs)``: the parameters and the loss after each step (rows 0..steps).

    ``sigma`` > 0 adds Gaussian noise drawn from the first noise stream, as the kernel does.
    ``loss`` may be None (``fs`` is then None).
    """
    x = np.array(x0, dtype=float)
    noise = _rng.stream_state(seed, replicate, STREAMS["noise0"], cell)
    xs = [x.copy()]
    fs = None if loss is None else [loss(x)]
    for k in range(steps):
        g = grad(rule.lookahead(x) if hasattr(rule, "lookahead") else x)
        if sigma:
            g = g + sigma * np.array([_rng.normal(noise) for _ in range(x.shape[0])])
        x = rule.step(x, g, k + 1, schedule(k, lr))
        xs.append(x.copy())
        if fs is not None:
            fs.append(loss(x))
    return np.array(xs), None if fs is None else np.array(fs)


def positions(rule, grad, x0, steps, lr, schedule=constant_lr):
    """Closed loop without noise: the parameters after each step (rows 0..steps)."""
    return run(rule, grad, None, x0, steps, lr, schedule)[0]


def run_open(rule, grads, x0, lr, schedule=None):
    """Open loop: the parameters after each update (rows 0..len(grads)) when the ``k``-th
    update sees ``grads[k]``; ``schedule(k, lr)`` is the rate of update ``k`` (default ``lr``)."""
    x = np.array(x0, dtype=float)
    xs = [x.copy()]
    for k, g in enumerate(np.asarray(grads, dtype=float)):
        x = rule.step(x, g.copy(), k + 1, lr if schedule is None else schedule(k, lr))
        xs.append(x.copy())
    return np.array(xs)


def plain_and_general(step, cls, n=64, steps=30, lr=0.01, **kw):
    """``[(x, S), (x, S)]`` after ``steps`` calls of the jitted ``step`` of ``cls(**kw)`` on
    the same gradients: with the default ``maximize=False``, which takes a rule's loop
    without branches where it has one, and with ``maximize=True`` on the negated gradients,
    which takes its general loop through the same numbers (``-(-g) == g``)."""
    g_all = np.random.default_rng(1).standard_normal((steps, n))
    runs = []
    for maximize in (False, True):
        x = np.linspace(-1.0, 1.0, n)
        S = np.zeros((3, n))
        hp = cls(maximize=maximize, **kw).row()
        for t, g in enumerate(g_all, start=1):
            step(x, -g if maximize else g.copy(), S, np.zeros(4), t, lr, hp)
        runs.append((x, S))
    return runs
