"""Plain-NumPy oracles of the update rules, one class per rule, one trajectory at a time.

Each is written directly from the formulas of REFERENCE_RULES.md and PAPERS.md (PyTorch,
optax, Keras, the papers and the lectures), never from optsim's kernels, and has
``step(x, g, t, lr) -> new x`` (``t`` 1-based, ``lr`` the scheduled rate) so that it plugs
into :mod:`reference.loops`.  A rule with a look-ahead point also has ``lookahead(x)``;
one with an effective learning rate, ``eff_lr(t, lr)`` (after the last step).
"""

import math

import numpy as np

from .schedules import beta3_warmup, linear_warmup

# -- SGD (all momentum forms), NAG, Adagrad, RMSprop, Adadelta, Lion -------------------------


class SGDRef:
    """torch SGD (momentum buffer without dampening on its first step, lr outside it), the
    'lr_inside' form (Keras, the lecture's V_t) and the 'ema' form.  ``lr`` is accepted and
    ignored: the rate is the one handed to :meth:`step`."""

    def __init__(self, lr=None, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False,
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
    raw v (torch, Keras) or of v_hat (optax); decoupled decay times lr or times lr/base_lr.

    ``order`` picks the rounding of the final step: "formula" writes it as the formula reads,
    ``lr * m_hat / (sqrt(v_hat) + eps)``; "torch" in the order of torch's single-tensor loop,
    ``(lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)`` (the two agree to about 1e-16 per step).
    ``bias_correction`` sets both ``bias_correction_m`` and ``bias_correction_v`` at once.
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
                 bias_correction_m=True, bias_correction_v=True, eps_mode="sqrt_vhat", decoupled_weight_decay=False,
                 amsgrad_mode="max_v", decay_scaling="lr", bias_correction=None, order="formula"):
        if bias_correction is not None:
            bias_correction_m = bias_correction_v = bias_correction
        if order not in ("formula", "torch") or (order == "torch" and amsgrad_mode != "max_v"):
            raise ValueError(f"AdamRef: no order {order!r} with amsgrad_mode {amsgrad_mode!r}")
        self.base, self.eps, self.wd, self.ams, self.maximize = lr, eps, weight_decay, amsgrad, maximize
        self.bcm, self.bcv, self.eps_mode, self.decoupled = bias_correction_m, bias_correction_v, eps_mode, decoupled_weight_decay
        self.mode, self.scaling, self.order = amsgrad_mode, decay_scaling, order
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
        if self.order == "torch":
            if self.ams:
                self.vmax = np.maximum(self.vmax, v)
                v = self.vmax
            if self.eps_mode == "sqrt_vhat":
                denom = np.sqrt(v) / math.sqrt(bc2) + self.eps
            elif self.eps_mode == "sqrt_v":
                denom = (np.sqrt(v) + self.eps) / math.sqrt(bc2)
            else:
                denom = np.sqrt(v / bc2 + self.eps)
            return x - (lr / bc1) * m / denom
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
    """AMSGrad in the four conventions; "paper" is Reddi et al.'s Algorithm 2 (no bias correction:
    v_hat = max(v_hat, v), x -= lr m / (sqrt(v_hat) + eps))."""
    return AdamRef(amsgrad=True, **AMSGRAD_FORMS[form], **kw)


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


# -- AdEMAMix, Prodigy, SAM (the contract v2 rules) --------------------------------------


class AdEMAMixRef:
    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, beta3=0.9999, alpha=2.0, eps=1e-8, weight_decay=0.0,
                 alpha_warmup=None, beta3_warmup=None, beta_start=None, log_eps=0.0):
        self.__dict__.update(locals())
        self.m1 = self.m2 = self.nu = 0.0

    def __call__(self, x, g, t):
        b1, b2 = self.beta1, self.beta2
        alpha = self.alpha if self.alpha_warmup is None else linear_warmup(t, self.alpha_warmup, self.alpha)
        b3 = self.beta3 if self.beta3_warmup is None else beta3_warmup(
            t, self.beta3_warmup, self.beta_start, self.beta3, self.log_eps)
        self.m1 = b1 * self.m1 + (1.0 - b1) * g
        self.m2 = b3 * self.m2 + (1.0 - b3) * g
        self.nu = b2 * self.nu + (1.0 - b2) * (g * g)
        u = (self.m1 / (1.0 - b1**t) + alpha * self.m2) / (np.sqrt(self.nu) / math.sqrt(1.0 - b2**t) + self.eps)
        return x - self.lr * (u + self.weight_decay * x)


class ProdigyRef:
    """prodigyopt.Prodigy (one parameter group, slice_p=1), sums taken in coordinate order."""

    def __init__(self, lr=1.0, beta1=0.9, beta2=0.999, beta3=None, eps=1e-8, weight_decay=0.0, decouple=True,
                 use_bias_correction=False, safeguard_warmup=False, d0=1e-6, d_coef=1.0, growth_rate=math.inf):
        self.__dict__.update(locals())
        self.d = self.d_max = d0
        self.numerator = 0.0
        self.x0 = None
        self.ds = []

    def __call__(self, x, g, t):
        if self.x0 is None:
            self.x0 = x.copy()
            self.m, self.v, self.s = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
        b1, b2, d, d0, lr = self.beta1, self.beta2, self.d, self.d0, self.lr
        b3 = math.sqrt(b2) if self.beta3 is None else self.beta3
        bc = math.sqrt(1 - b2**t) / (1 - b1**t) if self.use_bias_correction else 1.0
        dlr = d * lr * bc
        g = g + self.weight_decay * x if (self.weight_decay and not self.decouple) else g.copy()
        dot = 0.0
        for gi, x0i, xi in zip(g, self.x0, x):
            dot += gi * (x0i - xi)
        numerator = self.numerator * b3 + (d / d0) * dlr * dot
        self.m = self.m * b1 + (d * (1 - b1)) * g
        self.v = self.v * b2 + (d * d * (1 - b2)) * g * g
        self.s = self.s * b3 + ((d / d0) * d if self.safeguard_warmup else (d / d0) * dlr) * g
        den = 0.0
        for si in self.s:
            den += abs(si)
        d_hat = self.d_coef * numerator / den
        if d == d0:
            d = max(d, d_hat)
        self.d_max = max(self.d_max, d_hat)
        self.d = d = min(self.d_max, d * self.growth_rate)
        self.numerator = numerator
        self.ds.append(d)
        denom = np.sqrt(self.v) + d * self.eps
        if self.weight_decay and self.decouple:
            x = x + x * (-self.weight_decay * dlr)
        if b1 > 0:
            return x + -dlr * (self.m / denom)
        return x + (-dlr * d) * (g / denom)


class SAMRef:
    """SAM over torch.optim.SGD, as github:davda54/sam writes it (one flat parameter)."""

    def __init__(self, rho=0.05, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 adaptive=False, eps=1e-12, maximize=False):
        self.rho, self.adaptive, self.eps, self.maximize = rho, adaptive, eps, maximize
        self.base = SGDRef(momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                           nesterov=nesterov, maximize=maximize)

    def ascent(self, x, g):
        """The perturbed point; for ``maximize``, SAM's ascent on -f (a step down f)."""
        g = -g if self.maximize else g
        t = np.abs(x) if self.adaptive else 1.0
        scale = self.rho / (math.sqrt(float(np.sum((t * g) ** 2))) + self.eps)
        return x + (x * x if self.adaptive else 1.0) * g * scale

    def step(self, x, g, t, lr):
        return self.base.step(x, g, t, lr)
