"""NumPy, vectorized over all trajectories of a rule at once.

Arrays are ``(trajectories, d)``; buffers are allocated once and updated in place
(``out=``); normals come from one ``numpy.random.Generator`` (PCG64) per call.  For W3 the
eight rules run one after the other, each over all its learning rates and replicates.
"""

from __future__ import annotations

import math

import numpy as np

from .workloads import HYPER

NAME = "numpy"
LABEL = "NumPy vectorized"


def unavailable():
    return None


def threads():
    return 1


class Rule:
    """One update rule (PyTorch's form) over arrays of shape ``shape``, in place.

    ``lr`` broadcasts against ``shape`` (one learning rate per trajectory row).
    """

    def __init__(self, rule, shape, lr):
        self.rule = rule
        self.lr = lr
        self.tmp = np.empty(shape)
        nstate = {"sgd": 0, "momentum": 1, "nag": 1, "adagrad": 1, "rmsprop": 1,
                  "adam": 2, "amsgrad": 3, "radam": 2}[rule]
        self.s = [np.zeros(shape) for _ in range(nstate)]

    def step(self, x, g, t):
        """Apply step t (1-based) with gradient g to x."""
        H = HYPER
        tmp, lr = self.tmp, self.lr
        r = self.rule
        if r == "sgd":
            np.multiply(g, lr, out=tmp)
            x -= tmp
        elif r in ("momentum", "nag"):
            b = self.s[0]
            b *= H["momentum"]
            b += g
            if r == "nag":
                np.multiply(b, H["momentum"], out=tmp)
                tmp += g
            else:
                tmp[...] = b
            tmp *= lr
            x -= tmp
        elif r == "adagrad":
            s = self.s[0]
            np.multiply(g, g, out=tmp)
            s += tmp
            np.sqrt(s, out=tmp)
            tmp += H["eps_adagrad"]
            np.divide(g, tmp, out=tmp)
            tmp *= lr
            x -= tmp
        elif r == "rmsprop":
            v = self.s[0]
            a = H["alpha"]
            v *= a
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - a
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += H["eps"]
            np.divide(g, tmp, out=tmp)
            tmp *= lr
            x -= tmp
        else:  # the Adam family
            b1, b2, eps = H["beta1"], H["beta2"], H["eps"]
            m, v = self.s[0], self.s[1]
            m *= b1
            np.multiply(g, 1.0 - b1, out=tmp)
            m += tmp
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - b2
            v += tmp
            bc1 = 1.0 - b1**t
            bc2 = 1.0 - b2**t
            if r == "radam":
                rho_inf = 2.0 / (1.0 - b2) - 1.0
                rho_t = rho_inf - 2.0 * t * b2**t / bc2
                if rho_t > 5.0:
                    rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                    np.sqrt(v, out=tmp)
                    tmp += eps
                    np.divide(m, tmp, out=tmp)
                    tmp *= rect * math.sqrt(bc2) / bc1
                else:
                    np.multiply(m, 1.0 / bc1, out=tmp)
            else:
                if r == "amsgrad":
                    vm = self.s[2]
                    np.maximum(vm, v, out=vm)
                    np.sqrt(vm, out=tmp)
                else:
                    np.sqrt(v, out=tmp)
                tmp *= 1.0 / math.sqrt(bc2)
                tmp += eps
                np.divide(m, tmp, out=tmp)
                tmp *= 1.0 / bc1
            tmp *= lr
            x -= tmp


def _run_gaussian(wl, rule, lrs, rng):
    """One rule, all its trajectories: quadratic or Rosenbrock with additive noise."""
    R = wl.replicates
    n = len(lrs) * R
    d = wl.d
    lr = np.repeat(np.asarray(lrs, dtype=float), R)[:, None]
    x = np.tile(wl.x0, (n, 1))
    g = np.empty((n, d))
    tmp = np.empty((n, d))
    res = np.empty(n)
    t1 = np.empty(n)
    noise_scale = (wl.sigma * wl.scale)[None, :]
    sig = float(noise_scale.flat[0])
    uniform_noise = bool(np.all(noise_scale == sig))
    upd = Rule(rule, (n, d), lr)
    rec = wl.record_steps
    out = np.empty((n, len(rec)))
    quadratic = wl.problem == "quadratic"
    h = wl.h[None, :] if quadratic else None
    a, b = wl.rosen
    u, w = x[:, 0], x[:, 1]
    j = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(wl.steps + 1):
            if j < len(rec) and rec[j] == t:  # record the loss
                if quadratic:
                    np.multiply(x, x, out=tmp)
                    tmp *= h
                    tmp.sum(axis=1, out=out[:, j])
                    out[:, j] *= 0.5
                else:
                    np.multiply(u, u, out=res)
                    np.subtract(w, res, out=res)
                    np.multiply(res, res, out=t1)
                    t1 *= b
                    np.subtract(a, u, out=res)
                    res *= res
                    np.add(res, t1, out=out[:, j])
                j += 1
            if t == wl.steps:
                break
            # the observed gradient: noise first, then the exact gradient added in place
            rng.standard_normal(out=g)
            if not uniform_noise:
                g *= noise_scale
            elif sig != 1.0:
                g *= sig
            if quadratic:
                np.multiply(x, h, out=tmp)
                g += tmp
            else:
                np.multiply(u, u, out=res)
                np.subtract(w, res, out=res)          # r = y - x^2
                np.multiply(res, 2.0 * b, out=t1)
                g[:, 1] += t1                         # + 2 b r
                np.multiply(t1, u, out=t1)
                t1 *= -2.0
                g[:, 0] += t1                         # - 4 b x r
                np.subtract(u, a, out=t1)
                t1 *= 2.0
                g[:, 0] += t1                         # - 2 (a - x)
            upd.step(x, g, t + 1)
    return out.reshape(len(lrs), R, len(rec))


def _logreg_loss(wl, W):
    """Mean logistic loss of every row of W (n_traj, d)."""
    z = W @ wl.X.T
    z *= -wl.y[None, :]
    return np.logaddexp(0.0, z).mean(axis=1)


def _run_logreg(wl, rule, lrs, rng):
    R = wl.replicates
    n_traj = len(lrs) * R
    n, d = wl.X.shape
    B = wl.batch
    X, y = wl.X, wl.y
    lr = np.repeat(np.asarray(lrs, dtype=float), R)[:, None]
    W = np.tile(wl.x0, (n_traj, 1))
    g = np.empty((n_traj, d))
    upd = Rule(rule, (n_traj, d), lr)
    out = np.empty((n_traj, 2))
    out[:, 0] = _logreg_loss(wl, W)
    perm = np.tile(np.arange(n), (n_traj, 1))
    t = 0
    for _ in range(wl.epochs):
        perm = rng.permuted(perm, axis=1)  # an independent uniform order per trajectory
        for pos in range(0, n, B):
            idx = perm[:, pos:pos + B]                    # (n_traj, nb)
            Xb = X[idx]                                   # (n_traj, nb, d)
            yb = y[idx]
            m = np.einsum("tbd,td->tb", Xb, W)
            m *= yb
            # d/dw log(1 + exp(-y x.w)) = -y sigmoid(-y x.w) x
            c = -yb * 0.5 * (1.0 + np.tanh(-0.5 * m))
            np.einsum("tb,tbd->td", c, Xb, out=g)
            g *= 1.0 / idx.shape[1]
            t += 1
            upd.step(W, g, t)
    out[:, 1] = _logreg_loss(wl, W)
    return out.reshape(len(lrs), R, 2)


def run(wl, seed=0):
    rng = np.random.default_rng(seed)
    parts = []
    for rule in wl.rules:
        if wl.problem == "logreg":
            parts.append(_run_logreg(wl, rule, wl.lrs, rng))
        else:
            parts.append(_run_gaussian(wl, rule, wl.lrs, rng))
    return np.stack(parts), {}


def warmup(wl):
    return {}
