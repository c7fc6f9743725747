"""Plain-Python oracles of the noise models, drawing from the same streams as the kernels.

Each function repeats, operation for operation, what the corresponding jitted function
does, calling the jitted draws of :mod:`optsim._rng` on a stream state made by
:func:`optsim._rng.stream_state`; the tests compare the engine's trajectories with them
bit for bit.
"""

import math

import numpy as np

from optsim import _rng
from optsim.engine.codegen import STREAMS
from optsim.noise import AlphaStable, CurvatureScaled, Gaussian, Multiplicative, Spikes, StudentT
from optsim.noise.spikes import MODES

from .problems import least_squares_grad, quadratic_grad  # noqa: F401 (the gradients the tests perturb)


def apply_noise(model, g, x, t, ndata, rng):
    """The observed gradient: ``g`` changed in place by ``model`` (one step)."""
    d = len(g)
    if isinstance(model, Gaussian):
        s = ndata[0]
        for i in range(d):
            if s.shape[0] == 0:
                g[i] += model.sigma * _rng.normal(rng)
            else:
                g[i] += model.sigma * s[i] * _rng.normal(rng)
    elif isinstance(model, Multiplicative):
        for i in range(d):
            g[i] = g[i] * (1.0 + model.sigma * _rng.normal(rng))
    elif isinstance(model, StudentT):
        for i in range(d):
            g[i] += model.scale * _rng.student_t(rng, model.nu)
    elif isinstance(model, AlphaStable):
        for i in range(d):
            g[i] += model.scale * _rng.symmetric_stable(rng, model.alpha)
    elif isinstance(model, Spikes):
        if not (_rng.uniform(rng) < model.p):
            return
        mode = MODES.index(model.mode)
        if mode == 0:
            for i in range(d):
                g[i] = g[i] + model.magnitude if _rng.uniform(rng) < 0.5 else g[i] - model.magnitude
        elif mode == 1:
            j = _rng.randint(rng, d)
            g[j] = g[j] + model.magnitude if _rng.uniform(rng) < 0.5 else g[j] - model.magnitude
        else:
            for i in range(d):
                g[i] = g[i] * model.magnitude
    elif isinstance(model, CurvatureScaled):
        c = 1.0 / math.sqrt(model.batch_size)
        root_h, L = ndata
        if L.shape[0] == 0:
            for i in range(d):
                g[i] += c * root_h[i] * _rng.normal(rng)
        else:
            for j in range(d):
                z = c * _rng.normal(rng)
                for i in range(d):
                    g[i] += L[i, j] * z
    else:
        raise TypeError(f"no oracle for {model!r}")


def sample_batch(model, perm, state, rng):
    """The next minibatch's indices (a list), as the sample kernel draws them.

    ``perm`` (the epoch order, a list) and ``state`` (a dict with the epoch position
    ``pos`` and the epochs started ``epochs``) are updated in place.
    """
    n = len(perm)
    B = min(max(model.batch_size, 1), n)
    if model.with_replacement:
        return [_rng.randint(rng, n) for _ in range(B)]
    pos = state["pos"]
    if pos == 0 or pos >= n:
        for i in range(n - 1, 0, -1):
            j = _rng.randint(rng, i + 1)
            perm[i], perm[j] = perm[j], perm[i]
        pos = 0
        state["epochs"] += 1
    nb = min(B, n - pos)
    out = perm[pos:pos + nb]
    state["pos"] = pos + nb
    return out


def sgd_trajectory(problem, noises, lr, steps, seed, replicate=0, cell=0, grad=None):
    """x_0, ..., x_steps of plain SGD (no momentum) under ``noises``: shape (steps + 1, d).

    ``grad(data, x, rows)`` is the problem's gradient over example rows (``rows=None``:
    the exact gradient); default: the Quadratic's.
    """
    if grad is None:
        grad = lambda data, x, rows: quadratic_grad(data, x)  # noqa: E731
    data = tuple(np.ascontiguousarray(a) for a in problem.data())
    noises = list(noises)
    prepared = [tuple(np.ascontiguousarray(a) for a in nz.prepare(problem)) for nz in noises]
    streams = []
    for j, nz in enumerate(noises):
        stream = STREAMS["batch"] if nz.kind == "minibatch" else STREAMS["noise0"] + j
        streams.append(_rng.stream_state(seed, replicate, stream, cell))
    n = problem.n_samples()
    perm = list(range(n)) if n else []
    mb_state = {"pos": 0, "epochs": 0}
    x = np.asarray(problem.start_point(), dtype=float).copy()
    out = [x.copy()]
    for t in range(steps):
        if noises and noises[0].kind == "minibatch":
            rows = sample_batch(noises[0], perm, mb_state, streams[0])
            g = grad(data, x, rows)
        else:
            g = grad(data, x, None)
        for j, nz in enumerate(noises):
            if nz.kind != "minibatch":
                apply_noise(nz, g, x, t, prepared[j], streams[j])
        for i in range(len(x)):
            x[i] = x[i] - lr * g[i]
        out.append(x.copy())
    return np.array(out)
