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
