"""Plain-NumPy oracles of the schedule-free, learning-rate-free and corrected-gradient rules.

Written from the papers' algorithms and the authors' packages (schedulefree, dadaptation,
dog-optimizer), never from optsim's kernels; each has ``step(x, g, t, lr) -> new x`` for
:mod:`reference.loops` (``t`` 1-based, ``lr`` the scheduled rate), and ``lookahead(x)``
where the gradient is taken at another point than the recorded one.
"""

import math

import numpy as np


# -- Schedule-Free (Defazio et al. 2024) -------------------------------------------------------


class ScheduleFreeRef:
    """Schedule-Free SGD (``adam=False``) or AdamW: the recorded x is the average, the gradient
    is taken at y = (1 - beta) z + beta x (Algorithm 1 of *The Road Less Scheduled*, with the
    schedulefree package's warm-up and lr_max weighting)."""

    def __init__(self, adam=False, lr=None, momentum=0.9, beta1=0.9, beta2=0.999, eps=1e-8, eps_root=0.0, weight_decay=0.0,
                 warmup_steps=0, r=0.0, weight_lr_power=2.0, warmup_index="one_based", decay_at="y",
                 bias_correction="moment"):
        self.adam = adam
        self.beta = beta1 if adam else momentum
        self.b2, self.eps, self.eps_root, self.wd = beta2, eps, eps_root, weight_decay
        self.W, self.r, self.p = warmup_steps, r, weight_lr_power
        self.optax_warmup = warmup_index == "optax"
        self.at_z = decay_at == "z"
        self.bc_in_lr = bias_correction == "lr"
        self.z = None
        self.v = None
        self.lr_max = 0.0
        self.wsum = 0.0

    def _warm(self, k):
        return 1.0 if self.W == 0 or k >= self.W else k / self.W

    def lookahead(self, x):
        if self.z is None:
            return np.array(x, float)
        return (1.0 - self.beta) * self.z + self.beta * x

    def step(self, x, g, t, lr):
        x = np.array(x, float)
        if self.z is None:
            self.z = x.copy()
            self.v = np.zeros_like(x)
        y = self.lookahead(x)
        w_rate = lr * self._warm(t)
        z_rate = lr * self._warm(t - 1) if self.optax_warmup else w_rate
        if self.adam:
            bc2 = 1.0 - self.b2 ** t
            if self.bc_in_lr:
                w_rate *= math.sqrt(bc2)
                z_rate *= math.sqrt(bc2)
            self.v = self.b2 * self.v + (1.0 - self.b2) * g * g
            vhat = self.v if self.bc_in_lr else self.v / bc2
            u = g / (np.sqrt(vhat + self.eps_root) + self.eps)
        else:
            u = np.array(g, float)
        u = u + self.wd * (self.z if self.at_z else y)
        self.lr_max = max(self.lr_max, w_rate)
        weight = t ** self.r * self.lr_max ** self.p
        self.wsum += weight
        c = weight / self.wsum if self.wsum > 0 else 0.0
        self.z = self.z - z_rate * u
        return (1.0 - c) * x + c * self.z


# -- D-Adaptation (Defazio & Mishchenko 2023) ----------------------------------------------------


class DAdaptSGDRef:
    """dadaptation.DAdaptSGD: dual averaging s += d lr / |g_first| g, d from 2 <g, s> sums / |s|,
    x the momentum-average of x and z = x0 - s."""

    def __init__(self, lr=None, momentum=0.0, weight_decay=0.0, d0=1e-6, growth_rate=math.inf, decouple=False):
        self.mu, self.wd, self.d, self.growth = momentum, weight_decay, d0, growth_rate
        self.decouple = decouple
        self.k = 0
        self.num = 0.0
        self.s = self.x0 = None
        self.g0 = None
        self.history = []  # d after each step

    def step(self, x, g, t, lr):
        x = np.array(x, float)
        if self.s is None:
            self.s, self.x0 = np.zeros_like(x), x.copy()
        if self.k == 0:
            self.g0 = float(np.sqrt(np.sum(np.asarray(g) ** 2)))
        if self.g0 == 0.0:
            return x
        dlr = self.d * lr / self.g0
        gt = g if self.decouple else g + self.wd * x
        s_new = self.s + dlr * gt
        if not np.any(s_new):
            return x
        self.num = self.num + dlr * float(np.dot(gt, self.s))
        self.s = s_new
        d_hat = 2.0 * self.num / np.linalg.norm(self.s)
        self.d = max(self.d, min(d_hat, self.d * self.growth))
        self.k += 1
        self.history.append(self.d)
        if self.decouple:
            x = x * (1 - self.wd * dlr)
        return self.mu * x + (1.0 - self.mu) * (self.x0 - self.s)


class DAdaptAdamRef:
    """dadaptation.DAdaptAdam with one parameter group."""

    def __init__(self, lr=None, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decouple=False,
                 use_bias_correction=False, d0=1e-6, growth_rate=math.inf):
        self.b1, self.b2, self.eps, self.wd = beta1, beta2, eps, weight_decay
        self.decouple, self.bc, self.d, self.growth = decouple, use_bias_correction, d0, growth_rate
        self.k = 0
        self.num = 0.0
        self.m = self.v = self.s = None
        self.history = []

    def step(self, x, g, t, lr):
        x = np.array(x, float)
        if self.m is None:
            self.m, self.v, self.s = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
        b1, b2, q = self.b1, self.b2, math.sqrt(self.b2)
        corr = math.sqrt(1 - b2 ** (self.k + 1)) / (1 - b1 ** (self.k + 1)) if self.bc else 1.0
        dlr = self.d * lr * corr
        if self.wd and not self.decouple:
            g = g + self.wd * x
        a = dlr * float(np.dot(g, self.s / (np.sqrt(self.v) + self.eps)))
        self.m = b1 * self.m + dlr * (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g * g
        self.s = q * self.s + dlr * (1 - q) * g
        l1 = float(np.sum(np.abs(self.s)))
        if l1 == 0.0:
            return x
        self.num = q * self.num + (1 - q) * a
        self.d = max(self.d, min(self.num / ((1 - q) * l1), self.d * self.growth))
        self.k += 1
        self.history.append(self.d)
        if self.wd and self.decouple:
            x = x * (1 - self.wd * dlr)
        return x - self.m / (np.sqrt(self.v) + self.eps)


# -- DoG (Ivgi et al. 2023) and DoWG (Khaled et al. 2023) ----------------------------------------


class DoGRef:
    """eta_t = c max_i |x_i - x_0| / sqrt(eps + sum |g_i|^2), from r_eps (1 + |x_0|) (or r_eps)."""

    def __init__(self, lr=None, reps_rel=1e-6, init_step="heuristic", init_eta=None, eps=1e-8, weight_decay=0.0):
        self.reps, self.heuristic, self.init_eta = reps_rel, init_step == "heuristic", init_eta
        self.eps, self.wd = eps, weight_decay
        self.x0 = None
        self.history = []

    def step(self, x, g, t, lr):
        x = np.array(x, float)
        g = g + self.wd * x
        if self.x0 is None:
            self.x0 = x.copy()
            self.rbar = 0.0 if self.init_eta is not None else (
                self.reps * (1 + np.linalg.norm(x)) if self.heuristic else self.reps)
            self.G = self.eps
        self.rbar = max(self.rbar, float(np.linalg.norm(x - self.x0)))
        self.G += float(np.sum(g * g))
        eta = lr * self.rbar / math.sqrt(self.G)
        if len(self.history) == 0 and self.init_eta is not None:
            eta = self.init_eta
        self.history.append(self.rbar)
        return x - eta * g


class DoWGRef:
    """r2_t = max(r2, |x - x0|^2), v += r2 |g|^2, eta = c r2 / (sqrt(v) + eps) (optax.contrib.dowg)."""

    def __init__(self, lr=None, init_estim_sq_dist=None, eps=1e-4, weight_decay=0.0):
        self.r2 = eps if init_estim_sq_dist is None else init_estim_sq_dist
        self.eps, self.wd = eps, weight_decay
        self.v = 0.0
        self.x0 = None

    def step(self, x, g, t, lr):
        x = np.array(x, float)
        g = g + self.wd * x
        if self.x0 is None:
            self.x0 = x.copy()
        self.r2 = max(self.r2, float(np.sum((x - self.x0) ** 2)))
        self.v += self.r2 * float(np.sum(g * g))
        return x - lr * self.r2 / (math.sqrt(self.v) + self.eps) * g


# -- MARS (Yuan et al. 2024) ---------------------------------------------------------------------


class MARSRef:
    """MARS-AdamW / MARS-Lion over one parameter array (github:AGI-Arena/MARS, optimize_1d=True).

    ``step(x, g, t, lr, g_prev=None)``: ``g_prev`` is the gradient the correction subtracts
    (default: the last observed gradient, zero at first: the practical form)."""

    def __init__(self, lr=None, beta1=0.95, beta2=0.99, gamma=0.025, eps=1e-8, weight_decay=0.0,
                 mars_type="adamw", eps_mode="authors", eps_root=0.0, max_norm=1.0):
        self.b1, self.b2, self.gamma, self.eps, self.wd = beta1, beta2, gamma, eps, weight_decay
        self.lion, self.lib = mars_type == "lion", eps_mode == "pytorch_optimizer"
        self.eps_root, self.kappa = eps_root, max_norm
        self.m = self.v = self.last = None

    def step(self, x, g, t, lr, g_prev=None):
        x = np.array(x, float)
        g = np.array(g, float)
        if self.m is None:
            self.m, self.v, self.last = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
        prev = self.last if g_prev is None else g_prev
        c = g + self.gamma * self.b1 / (1 - self.b1) * (g - prev)
        norm = np.linalg.norm(c)
        if norm > self.kappa:
            c = c / norm * self.kappa
        self.last = g
        self.m = self.b1 * self.m + (1 - self.b1) * c
        if self.lion:
            u = np.sign(self.m)
        else:
            self.v = self.b2 * self.v + (1 - self.b2) * c * c
            b1, b2 = 1 - self.b1 ** t, 1 - self.b2 ** t
            r = np.sqrt(self.v + self.eps_root)
            den = (r + self.eps) / math.sqrt(b2) * b1 if self.lib else (r / math.sqrt(b2) + self.eps) * b1
            u = self.m / den
        return x * (1 - lr * self.wd) - lr * u


# -- SPAM (Huang et al. 2025) --------------------------------------------------------------------


class SPAMRef:
    """Adam with spike clipping (g^2 > theta v -> sign(g) sqrt(theta v)), moments zeroed every
    P steps and a cosine warm-up of W steps after each reset (pytorch_optimizer.SPAM, density 1)."""

    def __init__(self, lr=None, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.0, threshold=5000.0,
                 grad_accu_steps=20, update_proj_gap=500, warmup_epoch=50, death_rate=0.99):
        self.b1, self.b2, self.eps, self.wd, self.theta = beta1, beta2, eps, weight_decay, threshold
        self.A, self.P, self.W, self.r = grad_accu_steps, update_proj_gap, warmup_epoch, death_rate
        self.m = self.v = None
        self.since_reset = None  # steps since the last reset (None: none yet)
        self.clipped = 0

    def step(self, x, g, t, lr):
        x = np.array(x, float)
        g = np.array(g, float)
        if self.m is None or t % self.P == 0:
            self.m, self.v = np.zeros_like(x), np.zeros_like(x)
            if t % self.P == 0:
                self.since_reset = 0
        if self.theta and t >= self.A and t % self.P >= self.A:
            spike = g * g > self.theta * self.v
            self.clipped += int(spike.sum())
            g = np.where(spike, np.sign(g) * np.sqrt(self.theta * self.v), g)
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        c = self.since_reset
        s = 1.0 if c is None or c >= self.W else 1 - self.r * 0.5 * (1 + math.cos(math.pi * (c + 1) / (self.W + 1)))
        if c is not None:
            self.since_reset += 1
        step = lr * s * math.sqrt(1 - self.b2 ** t) / (1 - self.b1 ** t)
        return (x - step * self.m / (np.sqrt(self.v) + self.eps)) * (1 - lr * self.wd)


# -- Cautious (Liang et al. 2024) ----------------------------------------------------------------


class CautiousRef:
    """Any oracle rule, its step u = x - x_rule kept where u g > 0 and rescaled over the array:
    n / (kept + 1) ('count_plus_one', C-Optim), 1 / max(mean, 1e-3) ('mean'), or 1 ('none')."""

    def __init__(self, rule, normalization="count_plus_one", exact_grad=None):
        self.rule, self.norm = rule, normalization
        self.exact_grad = exact_grad  # x -> the noise-free gradient for the exact mask (None: observed)
        self.kept = []
        if hasattr(rule, "lookahead"):
            self.lookahead = rule.lookahead

    def step(self, x, g, t, lr):
        x = np.array(x, float)
        mask_g = np.array(g, float) if self.exact_grad is None else self.exact_grad(x)
        u = x - self.rule.step(x, np.array(g, float), t, lr)
        phi = (u * mask_g > 0).astype(float)
        n = phi.size
        if self.norm == "count_plus_one":
            s = n / (phi.sum() + 1)
        elif self.norm == "mean":
            s = 1 / max(phi.mean(), 1e-3)
        else:
            s = 1.0
        self.kept.append(phi.mean())
        return x - s * phi * u
