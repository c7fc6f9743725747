"""NumPy oracles for the Adam family, one trajectory at a time, written from the formulas in
REFERENCE_RULES.md (sections 5-8, 10) and PAPERS.md (sections 2, 3a, 4, 6) and lecture 002.

Each oracle has ``step(x, g, t, lr) -> new x`` (t 1-based, lr the scheduled rate) so that it
plugs into :func:`reference.run`.  Also here: :class:`GradientSequence`, a test problem whose
gradient at update k is row k of a fixed matrix, for open-loop comparisons.
"""

import math

import numpy as np
from numba import njit

from optsim._components import Param
from optsim._roles import Problem


# -- the open-loop problem ------------------------------------------------------------------


@njit(cache=True)
def seq_value_and_grad(x, g, t, pp, data):
    G = data[0]
    k = min(t, G.shape[0] - 1)
    for i in range(x.shape[0]):
        g[i] = G[k, i]
    return 0.0


@njit(cache=True)
def seq_value_and_grad_rng(x, g, t, pp, data, rng):
    return seq_value_and_grad(x, g, t, pp, data)


@njit(cache=True)
def seq_objective(x, pp, data):
    return 0.0


class GradientSequence(Problem):
    """The gradient at update k (0-based) is ``grads[k]`` whatever x is; the loss is 0."""

    name = "gradient_sequence"
    params = (
        Param("grads", None, "gradients, one row per update", kind="array", dynamic=False),
        Param("x0", None, "starting point", kind="array", dynamic=False),
    )
    kernels = {"value_and_grad": seq_value_and_grad_rng, "objective": seq_objective}

    def dimension(self):
        return np.atleast_2d(self.grads).shape[1]

    def start_point(self):
        return np.asarray(self.x0, float).ravel().copy()

    def data(self):
        return (np.ascontiguousarray(np.atleast_2d(self.grads), dtype=float),)


def run_open_loop(rule, grads, x0, lr, schedule=None):
    """Parameters after each update (rows 0..len(grads)) for a fixed gradient sequence."""
    x = np.array(x0, float)
    xs = [x.copy()]
    for k, g in enumerate(np.asarray(grads, float)):
        x = rule.step(x, g.copy(), k + 1, lr if schedule is None else schedule(k, lr))
        xs.append(x.copy())
    return np.array(xs)


# -- shared pieces -------------------------------------------------------------------------


def _prep(x, g, lr, wd, decoupled, maximize=False, mult=None):
    """Maximize, then coupled L2 or decoupled decay (times lr, or times ``mult`` if given)."""
    g = -g if maximize else g.copy()
    if wd:
        if decoupled:
            x = x * (1 - (lr if mult is None else mult) * wd)
        else:
            g = g + wd * x
    return x, g


class _Moments:
    def __init__(self, b1, b2):
        self.b1, self.b2 = b1, b2
        self.m = self.v = None

    def update(self, g):
        if self.m is None:
            self.m, self.v = np.zeros_like(g), np.zeros_like(g)
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        return self.m, self.v


# -- section 5: Adam, AdamW, AMSGrad ---------------------------------------------------------


class AdamRef:
    """torch Adam/AdamW (eps on sqrt(v_hat)), Keras ('sqrt_v'), the 'inside' form; AMSGrad as max of
    raw v (torch, Keras) or of v_hat (optax); decoupled decay times lr or times lr/base_lr."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
                 bias_correction_m=True, bias_correction_v=True, eps_mode="sqrt_vhat", decoupled_weight_decay=False,
                 amsgrad_mode="max_v", decay_scaling="lr"):
        self.base, self.eps, self.wd, self.ams, self.maximize = lr, eps, weight_decay, amsgrad, maximize
        self.bcm, self.bcv, self.eps_mode, self.decoupled = bias_correction_m, bias_correction_v, eps_mode, decoupled_weight_decay
        self.mode, self.scaling = amsgrad_mode, decay_scaling
        self.mom = _Moments(beta1, beta2)
        self.vmax = None

    def step(self, x, g, t, lr):
        mult = lr / self.base if self.scaling == "multiplier" else lr
        x, g = _prep(x, g, lr, self.wd, self.decoupled, self.maximize, mult)
        m, v = self.mom.update(g)
        bc1 = 1 - self.mom.b1**t if self.bcm else 1.0
        bc2 = 1 - self.mom.b2**t if self.bcv else 1.0
        if self.vmax is None:
            self.vmax = np.zeros_like(x)
        if self.ams and self.mode == "max_vhat":
            self.vmax = np.maximum(self.vmax, v / bc2)
            vhat = self.vmax
        elif self.ams:
            self.vmax = np.maximum(self.vmax, v)
            vhat = self.vmax / bc2
        else:
            vhat = v / bc2
        if self.eps_mode == "sqrt_vhat":
            denom = np.sqrt(vhat) + self.eps
        elif self.eps_mode == "sqrt_v":
            denom = np.sqrt(vhat) + self.eps / math.sqrt(bc2)
        else:
            denom = np.sqrt(vhat + self.eps)
        return x - lr * (m / bc1) / denom


AMSGRAD_FORMS = {
    "torch": dict(amsgrad_mode="max_v"),
    "keras": dict(amsgrad_mode="max_v", eps_mode="sqrt_v"),
    "optax": dict(amsgrad_mode="max_vhat"),
    "paper": dict(bias_correction_m=False, bias_correction_v=False),
}


def AMSGradRef(form="torch", **kw):
    return AdamRef(amsgrad=True, **AMSGRAD_FORMS[form], **kw)


class PaperAMSGradRef:
    """Reddi et al. Algorithm 2 written out: v_hat = max(v_hat, v), x -= lr m / (sqrt(v_hat) + eps)."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=0.0):
        self.mom, self.eps, self.vh = _Moments(beta1, beta2), eps, None

    def step(self, x, g, t, lr):
        m, v = self.mom.update(g)
        self.vh = v.copy() if self.vh is None else np.maximum(self.vh, v)
        return x - lr * m / (np.sqrt(self.vh) + self.eps)


# -- section 6: AdaMax; lecture 002: MaxProp ---------------------------------------------------


class AdamaxRef:
    def __init__(self, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, maximize=False,
                 eps_mode="inside_max", decoupled_weight_decay=False):
        self.b1, self.b2, self.eps, self.wd, self.maximize = beta1, beta2, eps, weight_decay, maximize
        self.outside, self.decoupled = eps_mode == "outside", decoupled_weight_decay
        self.m = self.u = None

    def step(self, x, g, t, lr):
        x, g = _prep(x, g, lr, self.wd, self.decoupled, self.maximize)
        if self.m is None:
            self.m, self.u = np.zeros_like(x), np.zeros_like(x)
        self.m = self.b1 * self.m + (1 - self.b1) * g
        if self.outside:  # Keras: u = max(b2 u, |g|); lr m / ((1 - b1^t)(u + eps))
            self.u = np.maximum(self.b2 * self.u, np.abs(g))
            return x - lr * self.m / ((1 - self.b1**t) * (self.u + self.eps))
        self.u = np.maximum(self.b2 * self.u, np.abs(g) + self.eps)  # torch, optax
        return x - (lr / (1 - self.b1**t)) * self.m / self.u


class MaxPropRef:
    """Lecture 002: v_t = max(beta v_{t-1}, |g_t|); w -= eta g / (v_t + eps)."""

    def __init__(self, lr=1e-3, beta=0.999, eps=1e-8, weight_decay=0.0, maximize=False):
        self.beta, self.eps, self.wd, self.maximize = beta, eps, weight_decay, maximize
        self.v = None

    def step(self, x, g, t, lr):
        x, g = _prep(x, g, lr, self.wd, False, self.maximize)
        self.v = np.abs(g) if self.v is None else np.maximum(self.beta * self.v, np.abs(g))
        return x - lr * g / (self.v + self.eps)


# -- section 7: NAdam -------------------------------------------------------------------------


class NAdamRef:
    """torch NAdam (mu schedule with momentum_decay), Keras (0.96^t), optax (constant mu, Dozat),
    lecture 002 (beta1 m_hat + (1 - beta1) g / (1 - beta1^t))."""

    def __init__(self, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, maximize=False, form="torch"):
        self.b1, self.b2, self.eps, self.wd, self.psi = beta1, beta2, eps, weight_decay, momentum_decay
        self.decoupled, self.maximize, self.form = decoupled_weight_decay, maximize, form
        self.mom = _Moments(beta1, beta2)
        self.mu_product = 1.0

    def step(self, x, g, t, lr):
        b1 = self.b1
        x, g = _prep(x, g, lr, self.wd, self.decoupled, self.maximize)
        m, v = self.mom.update(g)
        denom = np.sqrt(v / (1 - self.b2**t)) + self.eps
        if self.form in ("torch", "keras"):
            e = t * self.psi if self.form == "torch" else t
            e1 = (t + 1) * self.psi if self.form == "torch" else t + 1
            mu = b1 * (1 - 0.5 * 0.96**e)
            mu_next = b1 * (1 - 0.5 * 0.96**e1)
            self.mu_product *= mu
            m_hat = mu_next * m / (1 - self.mu_product * mu_next) + (1 - mu) * g / (1 - self.mu_product)
        elif self.form == "optax":
            m_hat = b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1**t)
        else:
            m_hat = b1 * (m / (1 - b1**t)) + (1 - b1) * g / (1 - b1**t)
        return x - lr * m_hat / denom


# -- section 8: RAdam ---------------------------------------------------------------------------


def radam_rho(t, b2):
    rho_inf = 2 / (1 - b2) - 1
    return rho_inf, rho_inf - 2 * t * b2**t / (1 - b2**t)


def radam_r(t, b2):
    rho_inf, rho = radam_rho(t, b2)
    return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))


class RAdamRef:
    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
                 maximize=False, threshold=5.0, comparison=">", below="sgd", eps_mode="sqrt_v"):
        self.b1, self.b2, self.eps, self.wd, self.decoupled = beta1, beta2, eps, weight_decay, decoupled_weight_decay
        self.maximize, self.threshold, self.comparison = maximize, threshold, comparison
        self.below, self.eps_mode = below, eps_mode
        self.mom = _Moments(beta1, beta2)

    def step(self, x, g, t, lr):
        g = -g if self.maximize else g.copy()
        if self.wd and not self.decoupled:
            g = g + self.wd * x
        m, v = self.mom.update(g)
        bc1, bc2 = 1 - self.b1**t, 1 - self.b2**t
        _, rho = radam_rho(t, self.b2)
        rect_on = rho > self.threshold if self.comparison == ">" else rho >= self.threshold
        if not rect_on and self.below == "none":
            return x  # the official code: no update and no decay
        if self.wd and self.decoupled:
            x = x * (1 - lr * self.wd)
        if not rect_on:
            return x - lr * m / bc1
        r = radam_r(t, self.b2)
        if self.eps_mode == "sqrt_vhat":
            return x - lr * r * (m / bc1) / (np.sqrt(v / bc2) + self.eps)
        return x - lr * r * (m / bc1) * math.sqrt(bc2) / (np.sqrt(v) + self.eps)


# -- section 10 / PAPERS 6: AdaBound, SWATS ------------------------------------------------------


class AdaBoundRef:
    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, final_lr=0.1, gamma=1e-3, eps=1e-8, weight_decay=0.0,
                 amsbound=False, decoupled_weight_decay=False):
        self.base, self.final, self.gamma, self.eps, self.wd = lr, final_lr, gamma, eps, weight_decay
        self.ams, self.decoupled = amsbound, decoupled_weight_decay
        self.mom = _Moments(beta1, beta2)
        self.vmax = None

    def step(self, x, g, t, lr):
        if self.wd and not self.decoupled:
            g = g + self.wd * x
        m, v = self.mom.update(g)
        if self.ams:
            self.vmax = v.copy() if self.vmax is None else np.maximum(self.vmax, v)
            v = self.vmax
        denom = np.sqrt(v) + self.eps
        step = lr * math.sqrt(1 - self.mom.b2**t) / (1 - self.mom.b1**t)
        final = self.final * lr / self.base
        lo, hi = final * (1 - 1 / (self.gamma * t + 1)), final * (1 + 1 / (self.gamma * t))
        new = x - np.clip(step / denom, lo, hi) * m
        if self.wd and self.decoupled:
            new = new - self.wd * x
        return new


class SWATSRef:
    """Keskar & Socher Algorithm 1 (PAPERS 6)."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-9, weight_decay=0.0, require_positive=False):
        self.b1, self.b2, self.eps, self.wd, self.pos = beta1, beta2, eps, weight_decay, require_positive
        self.mom = _Moments(beta1, beta2)
        self.sgd = False
        self.lam = 0.0
        self.Lambda = None
        self.switch_step = None
        self.vel = None

    def step(self, x, g, t, lr):
        if self.wd:
            g = g + self.wd * x
        if self.sgd:
            self.vel = g.copy() if self.vel is None else self.b1 * self.vel + g
            return x - (1 - self.b1) * self.Lambda * self.vel
        m, a = self.mom.update(g)
        p = -lr * math.sqrt(1 - self.b2**t) / (1 - self.b1**t) * m / (np.sqrt(a) + self.eps)
        if p @ g != 0:
            gamma = (p @ p) / (-(p @ g))
            self.lam = self.b2 * self.lam + (1 - self.b2) * gamma
            Lam = self.lam / (1 - self.b2**t)
            if t > 1 and abs(Lam - gamma) < self.eps and (Lam > 0 or not self.pos):
                self.sgd, self.Lambda, self.switch_step = True, Lam, t
        return x + p
