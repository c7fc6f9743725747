"""Plain NumPy oracles of the problems, written from the docstrings' formulas.

Each loss function takes the point ``x`` and the problem (for its parameters and data) and
returns the loss; the tests compare them with the jitted objectives and differentiate them
numerically.  Also here: the quadratic's gradient (:func:`quadratic`, and
:func:`quadratic_grad` in the kernel's order of operations), the least-squares gradient,
the NQM's second-moment recursion, and :class:`ReplayGradients`, the test problem that
replays a fixed gradient sequence (open-loop comparisons of the rules).
"""

import math

import numpy as np
from numba import njit

from optsim._components import Param
from optsim._roles import Problem


# -- the quadratic and least squares: gradients ----------------------------------------------


def quadratic(H, c):
    """``(grad, loss)`` of ``(x - c)^T H (x - c) / 2`` for a dense ``H``."""
    return lambda x: H @ (x - c), lambda x: 0.5 * (x - c) @ H @ (x - c)


def quadratic_grad(data, x):
    """The Quadratic problem's exact gradient, in the kernel's order of operations."""
    h, H, c = data
    d = len(x)
    g = np.empty(d)
    if H.shape[0] == 0:
        for i in range(d):
            g[i] = h[i] * (x[i] - c[i])
    else:
        for i in range(d):
            s = 0.0
            for j in range(d):
                s += H[i, j] * (x[j] - c[j])
            g[i] = s
    return g


def least_squares_grad(data, x, rows):
    """The ToyLeastSquares gradient over ``rows``, in the kernel's order of operations."""
    A, b = data[0], data[1]
    d = len(x)
    g = np.zeros(d)
    for r in rows:
        res = -b[r]
        for i in range(d):
            res += A[r, i] * x[i]
        for i in range(d):
            g[i] += res * A[r, i]
    inv = 1.0 / len(rows)
    for i in range(d):
        g[i] *= inv
    return g


# -- loss formulas ------------------------------------------------------------------------------


def rosenbrock(x, p):
    return (p.a - x[0]) ** 2 + p.b * (x[1] - x[0] ** 2) ** 2


def beale(x, p):
    u, v = x
    return (1.5 - u + u * v) ** 2 + (2.25 - u + u * v**2) ** 2 + (2.625 - u + u * v**3) ** 2


def saddle(x, p):
    return 0.5 * (x[0] ** 2 - x[1] ** 2) + p.quartic * x[1] ** 4 / 4


def himmelblau(x, p):
    return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2


def nqm(x, p):
    h = 1.0 / np.arange(1, p.dim + 1)
    return 0.5 * np.sum(h * x**2)


def sigmoid_neuron(x, p):
    X, Y = p.dataset()
    yh = 1.0 / (1.0 + np.exp(-(x[0] * X + x[1])))
    per = 0.5 * (yh - Y) ** 2
    return per.sum() if p.reduction == "sum" else per.mean()


def linear_regression(x, p):
    X, y = p.data()[:2]
    return 0.5 * np.mean((X @ x - y) ** 2) + 0.5 * p.l2 * x @ x


def linear_regression_test(x, p):
    Xt, yt = p.data()[2:4]
    return 0.5 * np.mean((Xt @ x - yt) ** 2)


def logistic_regression(x, p):
    X, y = p.data()[:2]
    return np.mean(np.logaddexp(0.0, -y * (X @ x))) + 0.5 * p.l2 * x @ x


def logistic_regression_test(x, p):
    Xt, yt = p.data()[2:4]
    m = yt * (Xt @ x)
    if p.test_metric == "loss":
        return np.mean(np.logaddexp(0.0, -m))
    return np.mean(m <= 0)


def wilson_design(p):
    """The construction written out independently, with 1-based feature indices."""
    rng = np.random.default_rng(p.data_seed)
    y = np.where(rng.random(p.n_train) < p.p, 1.0, -1.0)
    yt = np.where(rng.random(p.n_test) < p.p, 1.0, -1.0)
    d = p.dimension()
    X = np.zeros((p.n_train, d))
    for i1 in range(1, p.n_train + 1):
        yi = y[i1 - 1]
        row = X[i1 - 1]
        row[1 - 1] = yi
        row[2 - 1] = row[3 - 1] = 1.0
        first = 4 + 5 * (i1 - 1)
        last = first + int(2 * (1 - yi))
        for j in range(first, last + 1):
            row[j - 1] = 1.0
    return X, y, yt


def wilson(x, p):
    X, y, _ = wilson_design(p)
    return np.sum((X @ x - y) ** 2) / p.n_train


def wilson_test(x, p):
    _, _, yt = wilson_design(p)
    score = x[0] * yt + x[1] + x[2]
    return np.mean(np.sign(score) != yt)


def reddi_online_step(x, p, t0):
    """The paper's f_t at its 1-based step t = t0 + 1."""
    t = t0 + 1
    c = p.large if t % p.period == 1 % p.period else p.small
    return c * x[0]


def reddi_online(x, p):
    return np.mean([reddi_online_step(x, p, t) for t in range(p.period)])


def reddi_stochastic(x, p):
    return (p.prob * p.large + (1 - p.prob) * p.small) * x[0]


def double_well(x, p):
    z = x[0]
    f = -p.sharp_depth * math.exp(-((z - p.sharp_center) ** 2) / (2 * p.sharp_width**2))
    f -= p.flat_depth * math.exp(-((z - p.flat_center) ** 2) / (2 * p.flat_width**2))
    w = max(p.sharp_width, p.flat_width)
    lo = min(p.sharp_center, p.flat_center) - 4 * w
    hi = max(p.sharp_center, p.flat_center) + 4 * w
    dist = max(lo - z, 0.0, z - hi)
    return f + 0.5 * p.wall * dist**2


def nqm_sgd_recursion(h, steps, lr, batch_size, momentum=0.0):
    """E[L] by iterating the second moments of x (and v) one step at a time, per coordinate."""
    out = []
    for hi in h:
        a, c, m = lr * hi, lr * lr * hi / batch_size, momentum
        x2, v2, xv = 1.0, 0.0, 0.0
        curve = [x2]
        for _ in range(steps):
            # x' = (1-a) x + m v - e, v' = m v - a x - e with E[e^2] = c
            nx2 = (1 - a) ** 2 * x2 + m * m * v2 + 2 * (1 - a) * m * xv + c
            nv2 = a * a * x2 + m * m * v2 - 2 * a * m * xv + c
            nxv = -(1 - a) * a * x2 + m * m * v2 + ((1 - a) * m - a * m) * xv + c
            x2, v2, xv = nx2, nv2, nxv
            curve.append(x2)
        out.append(0.5 * hi * np.array(curve))
    return np.sum(out, axis=0)


# -- a problem that replays recorded gradients -------------------------------------------
# (independent of optsim.problems.Replay, which tests/test_replay.py checks against these
# oracles; past the end of the sequence it repeats the last gradient)


@njit(cache=True)
def replay_value_and_grad(x, g, t, pp, data, rng):
    G = data[0]
    k = min(t, G.shape[0] - 1)
    for i in range(x.shape[0]):
        g[i] = G[k, i]
    return 0.0


@njit(cache=True)
def replay_objective(x, pp, data):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * x[i]
    return 0.5 * s


class ReplayGradients(Problem):
    """Update ``k`` (0-based) sees ``grads[k]`` whatever the parameters are (open loop).

    The recorded loss is ``|x|^2 / 2`` (only for display); the observed loss is 0, so a
    replayed run never counts as diverged.
    """

    name = "replay_gradients"
    params = (
        Param("grads", None, "gradients, one row per update (steps x d)", kind="array", dynamic=False),
        Param("x0", None, "starting point (default 0)", kind="array", dynamic=False, none_ok=True),
    )
    kernels = {"value_and_grad": replay_value_and_grad, "objective": replay_objective}

    def dimension(self):
        return np.atleast_2d(self.grads).shape[1]

    def start_point(self):
        return np.zeros(self.dimension()) if self.x0 is None else np.asarray(self.x0, float).ravel().copy()

    def data(self):
        return (np.ascontiguousarray(np.atleast_2d(self.grads), dtype=np.float64),)
