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
