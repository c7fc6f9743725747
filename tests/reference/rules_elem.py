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
        self.size = self.prev = self.last = None

    def step(self, x, g, t, lr):
        g = -g if self.maximize else g
        if self.size is None:
            self.size, self.prev, self.last = np.full_like(x, self.lr0), np.zeros_like(x), np.zeros_like(x)
        s = np.sign(g * self.prev)
        factor = np.where(s > 0, self.up, np.where(s < 0, self.dn, 1.0))
        if self.form == "backtracking":  # Riedmiller & Braun 1993, Rprop+
            self.size = np.where(s > 0, np.minimum(self.size * self.up, self.hi),
                                 np.where(s < 0, np.maximum(self.size * self.dn, self.lo), self.size))
            step = np.where(s < 0, -self.last, -np.sign(g) * self.size)
            self.last = np.where(s < 0, 0.0, step)
            self.prev = np.where(s < 0, 0.0, g)
            return x + step
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


def _norm(a):
    return float(np.sqrt(np.sum(a * a)))


class LAMBRef:
    """You et al. 2019, Algorithm 2, per block: u = m_hat / (sqrt(v_hat + eps_root) + eps) + wd x,
    r = phi(||x||) / (||u|| + trust_eps) (1 where a norm is 0), x -= lr r u; with
    pytorch-optimizer's decoupled decay and 'step_size' bias correction as options."""

    def __init__(self, lr=None, beta1=0.9, beta2=0.999, eps=1e-6, eps_root=0.0, weight_decay=0.0,
                 weight_decouple=False, fixed_decay=False, bias_correction="update", grad_averaging=True,
                 max_weight_norm=None, trust_eps=0.0, maximize=False, blocks=None):
        self.b1, self.b2, self.eps, self.eps_root = beta1, beta2, eps, eps_root
        self.wd, self.decouple, self.fixed = weight_decay, weight_decouple, fixed_decay
        self.bc, self.avg, self.max_wn, self.teps = bias_correction, grad_averaging, max_weight_norm, trust_eps
        self.maximize, self.blocks = maximize, blocks
        self.m = self.v = None

    def step(self, x, g, t, lr):
        g = -g if self.maximize else g
        x = x.copy()
        if self.m is None:
            self.m, self.v = np.zeros_like(x), np.zeros_like(x)
        if self.wd and self.decouple:
            x = x * (1 - self.wd * (1.0 if self.fixed else lr))
        self.m = self.b1 * self.m + ((1 - self.b1) if self.avg else 1.0) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        if self.bc == "update":
            m, v, post = self.m / (1 - self.b1 ** t), self.v / (1 - self.b2 ** t), 1.0
        else:
            m, v = self.m, self.v
            post = 1 / (1 - self.b1 ** t) if self.bc == "step_size" else 1.0
        u = m / (np.sqrt(v + self.eps_root) + self.eps)
        if self.wd and not self.decouple:
            u = u + self.wd * x
        for sl in _blocks(x, self.blocks):
            wn, un = _norm(x[sl]), _norm(u[sl])
            if self.max_wn is not None:
                wn = min(wn, self.max_wn)
            r = 1.0 if wn == 0 or un == 0 else wn / (un + self.teps)
            x[sl] = x[sl] - lr * r * post * u[sl]
        return x


class LARSRef:
    """You, Gitman & Ginsburg 2017, Algorithm 1, per block: lambda = eta ||x|| / (||g|| + wd ||x|| + eps)
    (or optax's eta ||x|| / (||g + wd x|| + eps)), u = lambda (g + wd x), momentum on u."""

    def __init__(self, lr=None, momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0,
                 trust_coefficient=1e-3, eps=0.0, ratio_form="paper", lr_in_buffer=False, exclude_vectors=False,
                 maximize=False, blocks=None, vector_blocks=()):
        self.mu, self.tau, self.nesterov, self.wd = momentum, dampening, nesterov, weight_decay
        self.tc, self.eps, self.form, self.inside = trust_coefficient, eps, ratio_form, lr_in_buffer
        self.exclude, self.maximize, self.blocks, self.vectors = exclude_vectors, maximize, blocks, vector_blocks
        self.b = None

    def step(self, x, g, t, lr):
        g = -g if self.maximize else g
        if self.b is None:
            self.b = np.zeros_like(x)
        u = np.empty_like(x)
        for j, sl in enumerate(_blocks(x, self.blocks)):
            is_vector = self.blocks is None or j in self.vectors
            if self.exclude and is_vector:
                u[sl] = g[sl]
                continue
            d = g[sl] + self.wd * x[sl]
            wn = _norm(x[sl])
            if self.form == "paper":
                den = _norm(g[sl]) + self.wd * wn + self.eps
                r = 1.0 if wn == 0 or den == 0 else self.tc * wn / den
            else:
                dn = _norm(d)
                r = 1.0 if wn == 0 or dn == 0 else self.tc * wn / (dn + self.eps)
            u[sl] = r * d
        if self.inside:
            u = lr * u
        if self.mu > 0:
            self.b = self.mu * self.b + (1 - self.tau) * u
            step = u + self.mu * self.b if self.nesterov else self.b
        else:
            step = u
        return x - step if self.inside else x - lr * step
