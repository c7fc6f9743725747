"""Plain Python in the lectures' style: scalar floats, lists, ``random.gauss``.

One trajectory at a time, one coordinate at a time.  It is run on a small subset of each
workload (:func:`workloads.python_subset`: a few learning rates x few replicates) and its
rate is extrapolated to the whole workload (the work is proportional to the number of
trajectories).
"""

from __future__ import annotations

import math
import random

import numpy as np

from .workloads import HYPER

NAME = "python"
LABEL = "plain Python (extrapolated)"
SUBSET = True


def unavailable():
    return None


def threads():
    return 1


def _stepper(rule, d):
    """Closure state and a step function (x, g, lr, t) for one trajectory of ``rule``."""
    mu = HYPER["momentum"]
    b1, b2, eps = HYPER["beta1"], HYPER["beta2"], HYPER["eps"]
    alpha, eps_ag = HYPER["alpha"], HYPER["eps_adagrad"]
    s1 = [0.0] * d
    s2 = [0.0] * d
    s3 = [0.0] * d

    def step(x, g, lr, t):
        if rule == "sgd":
            for i in range(d):
                x[i] -= lr * g[i]
        elif rule == "momentum":
            for i in range(d):
                s1[i] = mu * s1[i] + g[i]
                x[i] -= lr * s1[i]
        elif rule == "nag":
            for i in range(d):
                s1[i] = mu * s1[i] + g[i]
                x[i] -= lr * (g[i] + mu * s1[i])
        elif rule == "adagrad":
            for i in range(d):
                s1[i] += g[i] * g[i]
                x[i] -= lr * g[i] / (math.sqrt(s1[i]) + eps_ag)
        elif rule == "rmsprop":
            for i in range(d):
                s1[i] = alpha * s1[i] + (1 - alpha) * g[i] * g[i]
                x[i] -= lr * g[i] / (math.sqrt(s1[i]) + eps)
        else:
            bc1 = 1 - b1**t
            bc2 = 1 - b2**t
            rho_inf = 2 / (1 - b2) - 1
            rho_t = rho_inf - 2 * t * b2**t / bc2
            for i in range(d):
                s1[i] = b1 * s1[i] + (1 - b1) * g[i]
                s2[i] = b2 * s2[i] + (1 - b2) * g[i] * g[i]
                m_hat = s1[i] / bc1
                if rule == "adam":
                    x[i] -= lr * m_hat / (math.sqrt(s2[i] / bc2) + eps)
                elif rule == "amsgrad":
                    s3[i] = max(s3[i], s2[i])
                    x[i] -= lr * m_hat / (math.sqrt(s3[i] / bc2) + eps)
                elif rho_t > 5:  # radam
                    r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                    x[i] -= lr * m_hat * r * math.sqrt(bc2) / (math.sqrt(s2[i]) + eps)
                else:
                    x[i] -= lr * m_hat

    return step


def _loss(wl, x, h, Xl, yl):
    if wl.problem == "quadratic":
        return 0.5 * sum(h[i] * x[i] * x[i] for i in range(len(x)))
    if wl.problem == "rosenbrock":
        a, b = wl.rosen
        return (a - x[0]) ** 2 + b * (x[1] - x[0] ** 2) ** 2
    total = 0.0
    for xi, yi in zip(Xl, yl):
        z = -yi * sum(xi[j] * x[j] for j in range(len(x)))
        total += z + math.log1p(math.exp(-z)) if z > 0 else math.log1p(math.exp(z))
    return total / len(Xl)


def _trajectory(wl, rule, lr, rnd, h, noise, Xl, yl):
    d = wl.d
    x = [float(v) for v in wl.x0]
    g = [0.0] * d
    step = _stepper(rule, d)
    losses = []
    if wl.problem == "logreg":
        n, B = len(Xl), wl.batch
        order = list(range(n))
        losses.append(_loss(wl, x, h, Xl, yl))
        t = 0
        for _ in range(wl.epochs):
            rnd.shuffle(order)
            for pos in range(0, n, B):
                batch = order[pos:pos + B]
                for j in range(d):
                    g[j] = 0.0
                for k in batch:
                    xi, yi = Xl[k], yl[k]
                    m = yi * sum(xi[j] * x[j] for j in range(d))
                    s = 1 / (1 + math.exp(m)) if m > -700 else 1.0  # sigmoid(-m)
                    for j in range(d):
                        g[j] -= yi * s * xi[j]
                for j in range(d):
                    g[j] /= len(batch)
                t += 1
                step(x, g, lr, t)
        losses.append(_loss(wl, x, h, Xl, yl))
        return losses
    rec = [int(s) for s in wl.record_steps]
    a, b = wl.rosen
    j = 0
    for t in range(wl.steps + 1):
        if j < len(rec) and rec[j] == t:
            try:
                losses.append(_loss(wl, x, h, Xl, yl))
            except OverflowError:
                losses.append(math.inf)
            j += 1
        if t == wl.steps:
            break
        try:
            if wl.problem == "quadratic":
                for i in range(d):
                    g[i] = h[i] * x[i] + noise[i] * rnd.gauss(0.0, 1.0)
            else:
                r = x[1] - x[0] ** 2
                g[0] = -2 * (a - x[0]) - 4 * b * x[0] * r + noise[0] * rnd.gauss(0.0, 1.0)
                g[1] = 2 * b * r + noise[1] * rnd.gauss(0.0, 1.0)
            step(x, g, lr, t + 1)
        except (OverflowError, ValueError):  # diverged: the floats left the representable range
            losses += [math.inf] * (len(rec) - len(losses))
            return losses
    return losses


def run(wl, seed=0):
    rnd = random.Random(seed)
    h = None if wl.h is None else [float(v) for v in wl.h]
    noise = [wl.sigma * float(s) for s in wl.scale] if wl.scale is not None else None
    Xl, yl = _lists(wl)
    out = np.empty(wl.shape)
    for o, rule in enumerate(wl.rules):
        for li, lr in enumerate(wl.lrs):
            for r in range(wl.replicates):
                out[o, li, r] = _trajectory(wl, rule, float(lr), rnd, h, noise, Xl, yl)
    return out, {}


_DATA = {}


def _lists(wl):
    """The data set as lists of floats (converted once, in the warm-up, not timed)."""
    if wl.X is None:
        return None, None
    key = id(wl.X)
    if key not in _DATA:
        _DATA[key] = (wl.X.tolist(), wl.y.tolist())
    return _DATA[key]


def warmup(wl):
    if wl.problem == "mlp":
        raise NotImplementedError("not run for W5 (a plain-Python MLP trajectory of 2000 steps takes minutes)")
    _lists(wl)
    return {}
