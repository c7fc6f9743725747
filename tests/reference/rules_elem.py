"""Plain-NumPy oracles of ADOPT, AdaBelief, Yogi, LaProp, Adan, Rprop, NovoGrad, LAMB and LARS.

One class per rule, written from the papers' algorithms and the libraries' documented
formulas (not from optsim's kernels), with ``step(x, g, t, lr) -> new x`` for
:mod:`reference.loops`.  The layer-wise rules (NovoGrad, LAMB, LARS) take ``blocks``, a
list of index slices of ``x`` (default: the whole vector is one block).
"""

import math

import numpy as np


def _blocks(x, blocks):
    return [slice(0, x.shape[0])] if blocks is None else blocks


class ADOPTRef:
    """Taniguchi et al. 2024, Algorithm 2 (with clipping): v_1 = g_1^2 and no step at t = 1;
    then n = clip(g / max(sqrt(v_{t-1}), eps), c), m = EMA(n), x -= lr m, v = EMA(g^2)."""

    def __init__(self, lr=None, beta1=0.9, beta2=0.9999, eps=1e-6, clip=True, clip_exponent=0.25,
                 clip_step="previous", weight_decay=0.0, decouple=False, decay_first_step=False,
                 fixed_decay=False, nesterov=False, maximize=False):
        self.b1, self.b2, self.eps = beta1, beta2, eps
        self.clip, self.p, self.clip_step = clip, clip_exponent, clip_step
        self.wd, self.decouple, self.decay_first, self.fixed = weight_decay, decouple, decay_first_step, fixed_decay
        self.nesterov, self.maximize = nesterov, maximize
        self.m = self.v = None

    def step(self, x, g, t, lr):
        g = -g if self.maximize else g
        if self.wd and not self.decouple:
            g = g + self.wd * x
        if self.wd and self.decouple and (t > 1 or self.decay_first):
            x = x - (1.0 if self.fixed else lr) * self.wd * x
        if self.v is None:
            self.m, self.v = np.zeros_like(x), g * g
            return x
        n = g / np.maximum(np.sqrt(self.v), self.eps)
        if self.clip:
            s = t - 1 if self.clip_step == "previous" else t
            c = s ** self.p
            n = np.clip(n, -c, c)
        self.m = self.b1 * self.m + (1 - self.b1) * n
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        u = self.b1 * self.m + (1 - self.b1) * n if self.nesterov else self.m
        return x - lr * u


class AdaBeliefRef:
    """Zhuang et al. 2020, Algorithm 1, with the authors' options (adabelief-pytorch 0.2): the
    stored s includes eps_root; rectify is RAdam's step with the bias correction of s in r_t."""

    def __init__(self, lr=None, beta1=0.9, beta2=0.999, eps=1e-16, eps_root=None, weight_decay=0.0,
                 weight_decouple=True, fixed_decay=False, amsgrad=False, rectify=False, n_sma_threshold=5.0,
                 degenerated_to_sgd=True, nesterov=False, maximize=False):
        self.b1, self.b2, self.eps = beta1, beta2, eps
        self.eps_root = eps if eps_root is None else eps_root
        self.wd, self.decouple, self.fixed = weight_decay, weight_decouple, fixed_decay
        self.ams, self.rectify, self.thr, self.sgd = amsgrad, rectify, n_sma_threshold, degenerated_to_sgd
        self.nesterov, self.maximize = nesterov, maximize
        self.m = self.s = self.smax = None

    def step(self, x, g, t, lr):
        g = -g if self.maximize else g
        if self.wd:
            if self.decouple:
                x = x * (1 - self.wd * (1.0 if self.fixed else lr))
            else:
                g = g + self.wd * x
        if self.m is None:
            self.m, self.s, self.smax = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
        b1, b2 = self.b1, self.b2
        self.m = b1 * self.m + (1 - b1) * g
        self.s = b2 * self.s + (1 - b2) * (g - self.m) ** 2 + self.eps_root
        self.smax = np.maximum(self.smax, self.s)
        s = self.smax if self.ams else self.s
        if self.nesterov:
            m_hat = b1 * self.m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1 ** t)
        else:
            m_hat = self.m / (1 - b1 ** t)
        if not self.rectify:
            return x - lr * m_hat / (np.sqrt(s / (1 - b2 ** t)) + self.eps)
        rho_inf = 2 / (1 - b2) - 1
        rho = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        if rho >= self.thr:
            r = math.sqrt((1 - b2 ** t) * (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            return x - lr * r * m_hat / (np.sqrt(self.s) + self.eps)
        return x - lr * m_hat if self.sgd else x


class YogiRef:
    """Zaheer et al. 2018, Algorithm 2, with the libraries' bias corrections and m_0 = v_0."""

    def __init__(self, lr=None, beta1=0.9, beta2=0.999, eps=1e-3, eps_root=0.0, initial_accumulator=1e-6,
                 init_m=True, bias_correction=True, weight_decay=0.0, weight_decouple=True, fixed_decay=False,
                 maximize=False):
        self.b1, self.b2, self.eps, self.eps_root = beta1, beta2, eps, eps_root
        self.v0, self.init_m, self.bc = initial_accumulator, init_m, bias_correction
        self.wd, self.decouple, self.fixed, self.maximize = weight_decay, weight_decouple, fixed_decay, maximize
        self.m = self.v = None

    def step(self, x, g, t, lr):
        g = -g if self.maximize else g
        if self.wd:
            if self.decouple:
                x = x * (1 - self.wd * (1.0 if self.fixed else lr))
            else:
                g = g + self.wd * x
        if self.m is None:
            self.m = np.full_like(x, self.v0 if self.init_m else 0.0)
            self.v = np.full_like(x, self.v0)
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.v - (1 - self.b2) * np.sign(self.v - g * g) * g * g
        c1, c2 = (1 - self.b1 ** t, 1 - self.b2 ** t) if self.bc else (1.0, 1.0)
        return x - lr * (self.m / c1) / (np.sqrt(self.v / c2 + self.eps_root) + self.eps)


class LaPropRef:
    """Ziyin et al. 2020 in the authors' code: v = EMA(g^2); m = b1 m + (1-b1) lr g / den;
    x -= m / (L_t / lr), L_t = EMA of the learning rates; then x -= wd x."""

    def __init__(self, lr=None, beta1=0.9, beta2=0.999, eps=1e-15, eps_mode="sqrt_vhat", eps_root=0.0,
                 weight_decay=0.0, weight_decouple=True, fixed_decay=True, centered=False,
                 steps_before_using_centered=10, amsgrad=False, ams_during_centered_warmup=False,
                 lr_weighted_correction=True, maximize=False):
        self.b1, self.b2, self.eps, self.mode, self.eps_root = beta1, beta2, eps, eps_mode, eps_root
        self.wd, self.decouple, self.fixed = weight_decay, weight_decouple, fixed_decay
        self.centered, self.warm = centered, steps_before_using_centered
        self.ams, self.ams_warm, self.lr_weighted, self.maximize = amsgrad, ams_during_centered_warmup, \
            lr_weighted_correction, maximize
        self.m = self.v = self.mu = self.vmax = None
        self.lr_avg = 0.0

    def step(self, x, g, t, lr):
        g = -g if self.maximize else g
        if self.wd and not self.decouple:
            g = g + self.wd * x
        if self.m is None:
            self.m, self.v, self.mu, self.vmax = (np.zeros_like(x) for _ in range(4))
        b1, b2 = self.b1, self.b2
        self.v = b2 * self.v + (1 - b2) * g * g
        self.lr_avg = b1 * self.lr_avg + (1 - b1) * lr
        c1 = self.lr_avg / lr if self.lr_weighted else 1 - b1 ** t
        c2 = 1 - b2 ** t
        second = self.v
        if self.centered:
            self.mu = b2 * self.mu + (1 - b2) * g
            if t > self.warm:
                second = self.v - self.mu ** 2
        if self.ams and (not self.centered or t > self.warm or self.ams_warm):
            self.vmax = np.maximum(self.vmax, second)
            second = self.vmax
        if self.mode == "sqrt_v":
            den = (np.sqrt(second + self.eps_root) + self.eps) / math.sqrt(c2)
        else:
            den = np.sqrt((second + self.eps_root) / c2) + self.eps
        self.m = b1 * self.m + (1 - b1) * lr * g / den
        x = x - self.m / c1
        if self.wd and self.decouple:
            x = x - (1.0 if self.fixed else lr) * self.wd * x
        return x


class AdanRef:
    """Xie et al. 2022, Algorithm 1 in the code's decay-rate betas, with the code's bias corrections;
    c = beta2 (paper, authors) or 1 - beta2 (optax); proximal or no_prox decay."""

    def __init__(self, lr=None, beta1=0.98, beta2=0.92, beta3=0.99, eps=1e-8, eps_root=0.0, weight_decay=0.0,
                 no_prox=False, diff_coefficient="beta2", bias_correction=True, maximize=False):
        self.b1, self.b2, self.b3, self.eps, self.eps_root = beta1, beta2, beta3, eps, eps_root
        self.wd, self.no_prox, self.bc, self.maximize = weight_decay, no_prox, bias_correction, maximize
        self.c = beta2 if diff_coefficient == "beta2" else 1 - beta2
        self.m = self.v = self.n = self.g_prev = None

    def step(self, x, g, t, lr):
        g = -g if self.maximize else g
        if self.m is None:
            self.m, self.v, self.n = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
            self.g_prev = g
        d = g - self.g_prev
        self.g_prev = g
        b1, b2, b3, c = self.b1, self.b2, self.b3, self.c
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * d
        self.n = b3 * self.n + (1 - b3) * (g + c * d) ** 2
        k1, k2, k3 = (1 - b1 ** t, 1 - b2 ** t, 1 - b3 ** t) if self.bc else (1.0, 1.0, 1.0)
        delta = lr * (self.m / k1 + c * self.v / k2) / (np.sqrt(self.n / k3 + self.eps_root) + self.eps)
        if self.no_prox:
            return x - lr * self.wd * x - delta
        return (x - delta) / (1 + lr * self.wd)


class RpropRef:
    """torch.optim.Rprop (no weight backtracking) and optax.rprop's one-update-late form.
    ``lr`` is the initial step size (the rate handed to :meth:`step` is ignored)."""

    def __init__(self, lr=0.01, eta_minus=0.5, eta_plus=1.2, step_size_min=1e-6, step_size_max=50.0,
                 form="torch", maximize=False):
        self.lr0, self.dn, self.up, self.lo, self.hi = lr, eta_minus, eta_plus, step_size_min, step_size_max
        self.form, self.maximize = form, maximize
        self.size = self.prev = None

    def step(self, x, g, t, lr):
        g = -g if self.maximize else g
        if self.size is None:
            self.size, self.prev = np.full_like(x, self.lr0), np.zeros_like(x)
        s = np.sign(g * self.prev)
        factor = np.where(s > 0, self.up, np.where(s < 0, self.dn, 1.0))
        if self.form == "torch":
            self.size = np.clip(self.size * factor, self.lo, self.hi)
            g = np.where(s < 0, 0.0, g)
            self.prev = g
            return x - np.sign(g) * self.size
        self.size = np.where(s == 0, self.size, np.clip(self.size * factor, self.lo, self.hi))
        update = np.where(s < 0, 0.0, self.prev)
        self.prev = np.where(s < 0, 0.0, self.size * np.sign(g))
        return x - update


class NovoGradRef:
    """Ginsburg et al. 2019, Algorithm 1, per block: v = ||g||^2 first, then its EMA; m = b1 m +
    (g / (sqrt(v + eps_root) + eps) + wd x), m_1 = the bracket; x -= lr m."""

    def __init__(self, lr=None, beta1=0.95, beta2=0.98, eps=1e-8, eps_root=0.0, weight_decay=0.0,
                 weight_decouple=False, fixed_decay=False, grad_averaging=False, maximize=False, blocks=None):
        self.b1, self.b2, self.eps, self.eps_root = beta1, beta2, eps, eps_root
        self.wd, self.decouple, self.fixed, self.avg = weight_decay, weight_decouple, fixed_decay, grad_averaging
        self.maximize, self.blocks = maximize, blocks
        self.m, self.v = None, {}

    def step(self, x, g, t, lr):
        g = -g if self.maximize else g
        x = x.copy()
        first = self.m is None
        if first:
            self.m = np.zeros_like(x)
        for j, sl in enumerate(_blocks(x, self.blocks)):
            sq = float(np.sum(g[sl] ** 2))
            self.v[j] = sq if first else self.b2 * self.v[j] + (1 - self.b2) * sq
            u = g[sl] / (math.sqrt(self.v[j] + self.eps_root) + self.eps)
            if self.wd and self.decouple:
                x[sl] = x[sl] * (1 - self.wd * (1.0 if self.fixed else lr))
            elif self.wd:
                u = u + self.wd * x[sl]
            if first:
                self.m[sl] = u
            else:
                self.m[sl] = self.b1 * self.m[sl] + ((1 - self.b1) * u if self.avg else u)
            x[sl] = x[sl] - lr * self.m[sl]
        return x
