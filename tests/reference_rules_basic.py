"""Plain-NumPy oracles for SGD (all momentum forms), NAG, Adagrad, RMSprop, Adadelta and Lion.

Each class follows the update rules as PyTorch, optax and Keras define them (see each
optimizer's docstring), one trajectory at a time, written directly from the formulas.  Also a
test problem that replays a fixed gradient sequence (open-loop tests).
"""

import numpy as np
from numba import njit

from optsim._components import Param
from optsim._roles import Problem


# -- update rules ------------------------------------------------------------------------


class SGDRef:
    def __init__(self, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False,
                 momentum_form="torch"):
        self.mu, self.tau, self.wd = momentum, dampening, weight_decay
        self.nesterov, self.maximize, self.form = nesterov, maximize, momentum_form
        self.buf = None

    def step(self, x, g, t, lr):
        g = (-g if self.maximize else g) + self.wd * x
        mu = self.mu
        if mu == 0:
            return x - lr * g
        if self.form == "torch":
            self.buf = g.copy() if self.buf is None else mu * self.buf + (1 - self.tau) * g
            return x - lr * (g + mu * self.buf if self.nesterov else self.buf)
        if self.form == "lr_inside":
            self.buf = lr * g if self.buf is None else mu * self.buf + (1 - self.tau) * (lr * g)
            return x - (lr * g + mu * self.buf if self.nesterov else self.buf)
        # ema
        prev = np.zeros_like(x) if self.buf is None else self.buf
        self.buf = mu * prev + (1 - mu) * g
        return x - lr * ((1 - mu) * g + mu * self.buf if self.nesterov else self.buf)


class NAGRef:
    """Lecture 002: u_t = gamma u_{t-1} + eta grad(w_t - gamma u_{t-1}); w_{t+1} = w_t - u_t."""

    def __init__(self, momentum=0.9, weight_decay=0.0, maximize=False):
        self.gamma, self.wd, self.maximize = momentum, weight_decay, maximize
        self.u = None

    def lookahead(self, x):
        return x if self.u is None else x - self.gamma * self.u

    def step(self, x, g, t, lr):
        y = self.lookahead(x)
        g = (-g if self.maximize else g) + self.wd * y
        self.u = (0.0 if self.u is None else self.gamma * self.u) + lr * g
        return x - self.u


class AdagradRef:
    def __init__(self, lr_decay=0.0, weight_decay=0.0, eps=1e-10, initial_accumulator_value=0.0,
                 maximize=False, eps_inside=False):
        self.decay, self.wd, self.eps, self.s0 = lr_decay, weight_decay, eps, initial_accumulator_value
        self.maximize, self.inside = maximize, eps_inside
        self.sum = None

    def step(self, x, g, t, lr):
        g = (-g if self.maximize else g) + self.wd * x
        if self.sum is None:
            self.sum = np.full_like(x, self.s0)
        self.sum = self.sum + g * g
        clr = lr / (1 + (t - 1) * self.decay)
        if self.inside:  # optax: where(sum > 0, rsqrt(sum + eps), 0) * g
            scale = np.where(self.sum > 0, 1 / np.sqrt(self.sum + self.eps), 0.0)
            return x - clr * (g * scale)
        return x - clr * g / (np.sqrt(self.sum) + self.eps)

    def eff_lr(self, t, lr):
        clr = lr / (1 + (t - 1) * self.decay)
        if self.inside:
            return clr * np.where(self.sum > 0, 1 / np.sqrt(self.sum + self.eps), 0.0)
        return clr / (np.sqrt(self.sum) + self.eps)


class RMSpropRef:
    def __init__(self, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False,
                 eps_inside=False, momentum_form="torch", nesterov=False, bias_correction=False,
                 initial_scale=0.0):
        self.alpha, self.eps, self.wd, self.mu = alpha, eps, weight_decay, momentum
        self.centered, self.maximize, self.inside = centered, maximize, eps_inside
        self.form, self.nesterov, self.bc, self.v0 = momentum_form, nesterov, bias_correction, initial_scale
        self.v = None

    def step(self, x, g, t, lr):
        g = (-g if self.maximize else g) + self.wd * x
        if self.v is None:
            self.v = np.full_like(x, self.v0)
            self.ga = np.zeros_like(x)
            self.buf = np.zeros_like(x)
        a = self.alpha
        self.v = a * self.v + (1 - a) * g * g
        self.ga = a * self.ga + (1 - a) * g
        c = 1 - a**t if self.bc else 1.0
        var = self.v / c - ((self.ga / c) ** 2 if self.centered else 0.0)
        den = np.sqrt(var + self.eps) if self.inside else np.sqrt(var) + self.eps
        self.den = den
        u = g / den
        if self.mu > 0:
            if self.form == "torch":
                self.buf = self.mu * self.buf + u
                return x - lr * (u + self.mu * self.buf if self.nesterov else self.buf)
            self.buf = self.mu * self.buf + lr * u
            return x - (lr * u + self.mu * self.buf if self.nesterov else self.buf)
        return x - lr * u

    def eff_lr(self, t, lr):
        return lr / self.den


class AdadeltaRef:
    def __init__(self, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
        self.rho, self.eps, self.wd, self.maximize = rho, eps, weight_decay, maximize
        self.v = None

    def step(self, x, g, t, lr):
        g = (-g if self.maximize else g) + self.wd * x
        if self.v is None:
            self.v, self.u = np.zeros_like(x), np.zeros_like(x)
        r = self.rho
        self.v = r * self.v + (1 - r) * g * g
        self.ratio = np.sqrt(self.u + self.eps) / np.sqrt(self.v + self.eps)
        d = self.ratio * g
        self.u = r * self.u + (1 - r) * d * d
        return x - lr * d

    def eff_lr(self, t, lr):
        return lr * self.ratio


class LionRef:
    def __init__(self, beta1=0.9, beta2=0.99, weight_decay=1e-3):
        self.b1, self.b2, self.wd = beta1, beta2, weight_decay
        self.m = None

    def step(self, x, g, t, lr):
        if self.m is None:
            self.m = np.zeros_like(x)
        d = np.sign((1 - self.b1) * g + self.b1 * self.m)
        self.m = (1 - self.b2) * g + self.b2 * self.m
        return x - lr * (d + self.wd * x)


# -- step loops --------------------------------------------------------------------------


def constant_lr(k, base):
    return base


def run(rule, grad, x0, steps, lr, schedule=constant_lr):
    """Closed loop: parameters after each step (rows 0..steps); the gradient is taken at the
    rule's look-ahead point where it has one."""
    x = np.array(x0, dtype=float)
    xs = [x.copy()]
    for k in range(steps):
        y = rule.lookahead(x) if hasattr(rule, "lookahead") else x
        x = rule.step(x, grad(y), k + 1, schedule(k, lr))
        xs.append(x.copy())
    return np.array(xs)


def run_open(rule, grads, x0, lr, schedule=constant_lr):
    """Open loop: the k-th update sees ``grads[k]`` whatever the parameters are."""
    x = np.array(x0, dtype=float)
    xs = [x.copy()]
    for k in range(grads.shape[0]):
        x = rule.step(x, np.array(grads[k], dtype=float), k + 1, schedule(k, lr))
        xs.append(x.copy())
    return np.array(xs)


def quadratic(H, c):
    return lambda x: H @ (x - c)


# -- a problem that replays recorded gradients -------------------------------------------


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
        return np.zeros(self.dimension()) if self.x0 is None else np.asarray(self.x0, float).copy()

    def data(self):
        return (np.ascontiguousarray(np.atleast_2d(self.grads), dtype=np.float64),)
