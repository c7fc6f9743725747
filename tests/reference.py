"""Slow, obviously correct NumPy oracles for the engine's step loop, rules and schedules.

Each function is written from the formulas in the references (PyTorch's documented
update rules, Kingma & Ba 2015), one trajectory at a time, in plain Python/NumPy.
Random draws come from the same per-trajectory streams as the kernels (the jitted
``optsim._rng`` functions called from Python), so noisy runs can be compared exactly.
"""

import math

import numpy as np

from optsim import _rng
from optsim.engine.codegen import STREAMS


# -- update rules ------------------------------------------------------------------------


class SGDRef:
    def __init__(self, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
        self.momentum, self.dampening, self.wd = momentum, dampening, weight_decay
        self.nesterov, self.maximize = nesterov, maximize
        self.buf = None

    def step(self, x, g, t, lr):
        g = -g if self.maximize else g.copy()
        g = g + self.wd * x
        if self.momentum != 0:
            if self.buf is None:
                self.buf = g.copy()
            else:
                self.buf = self.momentum * self.buf + (1 - self.dampening) * g
            g = g + self.momentum * self.buf if self.nesterov else self.buf
        return x - lr * g


class AdamRef:
    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False, bias_correction=True, eps_mode="sqrt_vhat", decoupled_weight_decay=False):
        self.b1, self.b2, self.eps, self.wd = beta1, beta2, eps, weight_decay
        self.amsgrad, self.maximize, self.bc = amsgrad, maximize, bias_correction
        self.eps_mode, self.decoupled = eps_mode, decoupled_weight_decay
        self.m = self.v = self.vmax = None

    def step(self, x, g, t, lr):
        g = -g if self.maximize else g.copy()
        if self.m is None:
            self.m, self.v, self.vmax = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
        if self.wd:
            if self.decoupled:
                x = x * (1 - lr * self.wd)
            else:
                g = g + self.wd * x
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        bc1 = 1 - self.b1**t if self.bc else 1.0
        bc2 = 1 - self.b2**t if self.bc else 1.0
        if self.amsgrad:
            self.vmax = np.maximum(self.vmax, self.v)
            v = self.vmax
        else:
            v = self.v
        if self.eps_mode == "sqrt_vhat":
            denom = np.sqrt(v) / math.sqrt(bc2) + self.eps
        elif self.eps_mode == "sqrt_v":
            denom = (np.sqrt(v) + self.eps) / math.sqrt(bc2)
        else:
            denom = np.sqrt(v / bc2 + self.eps)
        return x - (lr / bc1) * self.m / denom


# -- schedules ---------------------------------------------------------------------------


def constant_lr(k, base):
    return base


def step_lr(step_size, gamma):
    return lambda k, base: base * gamma ** (k // step_size)


def warmup_lr(warmup, start=0.0, after=constant_lr):
    return lambda k, base: after(k, base) * (start + (1 - start) * min(1.0, (k + 1) / warmup))


# -- problems ----------------------------------------------------------------------------


def quadratic_grad(H, c):
    return lambda x: H @ (x - c), lambda x: 0.5 * (x - c) @ H @ (x - c)


# -- the step loop -----------------------------------------------------------------------


def run(rule, grad, loss, x0, steps, lr, schedule=constant_lr, sigma=0.0, seed=0, replicate=0, cell=0):
    """One trajectory: parameters and loss after each step (rows 0..steps).

    ``sigma`` > 0 adds Gaussian noise drawn from the first noise stream, as the kernel does.
    """
    x = np.array(x0, dtype=float)
    noise = _rng.stream_state(seed, replicate, STREAMS["noise0"], cell)
    xs = [x.copy()]
    fs = [loss(x)]
    for k in range(steps):
        g = grad(x)
        if sigma:
            g = g + sigma * np.array([_rng.normal(noise) for _ in range(x.shape[0])])
        x = rule.step(x, g, k + 1, schedule(k, lr))
        xs.append(x.copy())
        fs.append(loss(x))
    return np.array(xs), np.array(fs)
