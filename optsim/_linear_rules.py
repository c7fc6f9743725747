r"""The update rules of optsim written as affine maps of their state, for the exact moment
recursions of :mod:`optsim.expected`.

Every rule here is linear in the parameters, its buffers and the observed gradient.  Per
eigen-coordinate of a quadratic the state is a short vector :math:`s` (the rows ``names``:
the parameter ``x`` first, then the rule's buffers), and update :math:`t` (1-based, with the
scheduled rate :math:`\eta_t`) is

.. math::

    s_t = M_t\, s_{t-1} + n_t\, \tilde g_t, \qquad
    \tilde g_t = \pm h\, e^\top s_{t-1} + \lambda (f^\top s_{t-1} + w) + \xi_t

where :math:`e^\top s` is the point where the gradient is taken (``x``, a look-ahead point,
Schedule-Free's ``y``), :math:`f^\top s` the point of the coupled L2 term of
``weight_decay`` :math:`\lambda`, :math:`w` the minimiser's coordinate (the L2 term pulls
to 0, not to the minimiser) and :math:`\xi_t` the gradient noise.  ``step(t, lr)`` returns
:math:`(M_t, n_t, e, f)`; :math:`M_t` and :math:`n_t` may carry a leading coordinate axis
(the frozen preconditioners of :class:`FrozenAdam`).  ``start`` is the state as a multiple
of the starting point (:math:`s_0 = \text{start}\cdot x_0`).

These classes read the optimizers' values by name and import no optimizer module.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rule_for", "NoRecursion"]


class NoRecursion(Exception):
    """The combination has no exact (or linearized) moment recursion in optsim."""


def _vec(*v):
    return np.array(v, dtype=float)


class _Rule:
    names = ("x",)
    exact = True
    stationary = True  # at a constant lr the step matrices settle (after the first-step / bias transients)
    sign = 1.0
    weight_decay = 0.0
    coord_scale = None  # the per-coordinate factor p of step_parts' M1 and n1 (a frozen preconditioner)

    def step_parts(self, t, lr):
        """(M0, M1, n0, n1, e, f): the step with M = M0 + p_i M1 and n = n0 + p_i n1."""
        M, n, e, f = self.step(t, lr)
        return M, np.zeros_like(M), n, np.zeros_like(n), e, f

    @property
    def start(self):
        s = np.zeros(len(self.names))
        s[0] = 1.0
        return s


class SGDRule(_Rule):
    r"""``SGD`` in its three momentum forms, with dampening, Nesterov, coupled L2 and maximize.

    Rows ``(x, momentum_buffer)`` (just ``x`` at ``momentum=0``).  With :math:`\mu` =
    ``momentum``, :math:`\tau` = ``dampening``, the buffer update is
    :math:`b_t = \beta_b b_{t-1} + c_b g_t` and the step :math:`d_t = d_b b_{t-1} + d_g g_t`:

    .. math::

        \text{torch}: (\beta_b, c_b) = (0, 1)\ (t = 1),\ (\mu, 1-\tau)\ (t > 1), \quad
            x_t = x_{t-1} - \eta_t d_t \\
        \text{lr\_inside}: (\beta_b, c_b) = (0, \eta_t)\ (t = 1),\ (\mu, (1-\tau)\eta_t), \quad
            x_t = x_{t-1} - d_t \\
        \text{ema}: (\beta_b, c_b) = (\mu, 1-\mu), \quad x_t = x_{t-1} - \eta_t d_t

    with :math:`d_t = b_t` (:math:`d_b = \beta_b, d_g = c_b`) or, Nesterov,
    :math:`d_t = a g_t + \mu b_t` (:math:`a` = 1, :math:`\eta_t`, :math:`1-\mu`).
    """

    def __init__(self, o):
        self.mu, self.tau, self.nesterov = float(o.momentum), float(o.dampening), bool(o.nesterov)
        self.form = o.momentum_form
        self.weight_decay = float(o.weight_decay)
        self.sign = -1.0 if o.maximize else 1.0
        self.names = ("x",) if self.mu == 0.0 else ("x", "momentum_buffer")

    def step(self, t, lr):
        mu, tau = self.mu, self.tau
        e = _vec(*([1.0] + [0.0] * (len(self.names) - 1)))
        if mu == 0.0:
            return np.eye(1), _vec(-lr), e, e
        first = t == 1
        if self.form == "torch":
            # b' = beta_b b + c_b g ; x' = x - lr (c_g g + mu b')  (nesterov) or x - lr b'
            bb, cb = (0.0, 1.0) if first else (mu, 1.0 - tau)
        elif self.form == "lr_inside":
            bb, cb = (0.0, lr) if first else (mu, (1.0 - tau) * lr)
        else:  # ema: v' = mu v + (1 - mu) g from v_0 = 0
            bb, cb = mu, 1.0 - mu
        # d = db b + dg g, x' = x - scale d (lr_inside: the rate is already in the buffer)
        scale = 1.0 if self.form == "lr_inside" else lr
        if self.nesterov:
            direct = {"torch": 1.0, "lr_inside": lr, "ema": 1.0 - mu}[self.form]
            db, dg = mu * bb, direct + mu * cb
        else:
            db, dg = bb, cb
        M = np.array([[1.0, -scale * db], [0.0, bb]])
        n = _vec(-scale * dg, cb)
        return M, n, e, e


class NAGRule(_Rule):
    r"""``NAG``: rows ``(x, velocity)``, the gradient and its L2 term at the look-ahead point,

    .. math:: u_t = \gamma u_{t-1} + \eta_t \tilde g(x_{t-1} - \gamma u_{t-1}), \qquad x_t = x_{t-1} - u_t
    """

    names = ("x", "velocity")

    def __init__(self, o):
        self.gamma = float(o.momentum)
        self.weight_decay = float(o.weight_decay)
        self.sign = -1.0 if o.maximize else 1.0

    def step(self, t, lr):
        g = self.gamma
        # u' = g u + lr grad ; x' = x - u'
        M = np.array([[1.0, -g], [0.0, g]])
        n = _vec(-lr, lr)
        e = _vec(1.0, -g)
        return M, n, e, e


class ScheduleFreeSGDRule(_Rule):
    r"""``ScheduleFreeSGD``: rows ``(x, z, y)``, the average, the base sequence and the
    gradient point, from :math:`x_0 = z_0 = y_0`; :math:`\gamma_t` and :math:`c_t` are the
    rule's own warm-up and averaging weight (computed here as its kernel does),

    .. math::

        z_t = z_{t-1} - \gamma_t \tilde g(y_{t-1}), \quad x_t = (1-c_t) x_{t-1} + c_t z_t, \quad
        y_t = (1-\beta) z_t + \beta x_t

    (Defazio et al., *The Road Less Scheduled*, NeurIPS 2024, Algorithm 1).
    """

    names = ("x", "z", "y")
    stationary = False  # the averaging weight c_t changes at every update

    def __init__(self, o):
        self.beta = float(o.momentum)
        self.weight_decay = float(o.weight_decay)
        self.W = float(o.warmup_steps)
        self.r, self.p = float(o.r), float(o.weight_lr_power)
        self.optax = o.warmup_index == "optax"
        self.at_z = o.decay_at == "z"
        self.lr_max = 0.0
        self.wsum = 0.0

    @property
    def start(self):
        return _vec(1.0, 1.0, 1.0)

    def _warm(self, k):
        return 1.0 if self.W <= 0.0 or k >= self.W else k / self.W

    def step(self, t, lr):
        lr_w = lr * self._warm(float(t))
        lr_t = lr * self._warm(float(t) - 1.0) if self.optax else lr_w
        self.lr_max = max(lr_w, self.lr_max)
        weight = (float(t) ** self.r) * (self.lr_max ** self.p)
        self.wsum = self.wsum + weight
        c = weight / self.wsum if self.wsum != 0.0 else 0.0
        b = self.beta
        # z' = z - lr_t g ; x' = (1-c) x + c z' ; y' = (1-b) z' + b x'
        M = np.array([[1.0 - c, c, 0.0],
                      [0.0, 1.0, 0.0],
                      [b * (1.0 - c), (1.0 - b) + b * c, 0.0]])
        n = _vec(-c * lr_t, -lr_t, -lr_t * ((1.0 - b) + b * c))
        e = _vec(0.0, 0.0, 1.0)
        f = _vec(0.0, 1.0, 0.0) if self.at_z else e
        return M, n, e, f


class FrozenAdam(_Rule):
    r"""Adam (or RMSprop) with its second-moment denominator frozen at a fixed diagonal
    :math:`D_i`, the momentum EMA and its bias correction kept exactly (see
    :func:`optsim.expected.frozen_preconditioner`)."""

    exact = False  # the bias correction 1 - beta1**t changes, but tends to 1: stationary in the limit

    def __init__(self, kind, o, denom):
        self.kind = kind
        self.denom = np.asarray(denom, dtype=float)
        self.sign = -1.0 if o.maximize else 1.0
        self.weight_decay = float(o.weight_decay)
        if kind == "adam":
            self.b1 = float(o.beta1)
            self.bc_m = bool(o.bias_correction_m)
            self.names = ("x", "m")
        else:
            self.mu = float(o.momentum)
            self.names = ("x",) if self.mu == 0.0 else ("x", "momentum_buffer")

    @property
    def coord_scale(self):
        return 1.0 / self.denom

    def step_parts(self, t, lr):
        k = len(self.names)
        e = np.zeros(k)
        e[0] = 1.0
        M0, M1, n0, n1 = np.zeros((k, k)), np.zeros((k, k)), np.zeros(k), np.zeros(k)
        M0[0, 0] = 1.0
        if self.kind == "adam":
            b1 = self.b1
            bc = (1.0 - b1 ** float(t)) if self.bc_m else 1.0
            M0[1, 1] = b1
            M1[0, 1] = -lr * b1 / bc
            n0[1] = 1.0 - b1
            n1[0] = -lr * (1.0 - b1) / bc
        elif k == 1:
            n1[0] = -lr
        else:
            M0[0, 1] = -lr * self.mu
            M0[1, 1] = self.mu
            n1[0] = -lr
            n1[1] = 1.0
        return M0, M1, n0, n1, e, e

    def step(self, t, lr):
        d = self.denom.shape[0]
        p = 1.0 / self.denom
        k = len(self.names)
        e = np.zeros(k)
        e[0] = 1.0
        M = np.zeros((d, k, k))
        n = np.zeros((d, k))
        M[:, 0, 0] = 1.0
        if self.kind == "adam":
            b1 = self.b1
            bc = (1.0 - b1 ** float(t)) if self.bc_m else 1.0
            # m' = b1 m + (1 - b1) g ; x' = x - lr m' / (bc D)
            M[:, 1, 1] = b1
            M[:, 0, 1] = -lr * p * b1 / bc
            n[:, 1] = 1.0 - b1
            n[:, 0] = -lr * p * (1.0 - b1) / bc
        elif k == 1:
            n[:, 0] = -lr * p
        else:
            mu = self.mu
            # torch: buf' = mu buf + g / D ; x' = x - lr buf'
            M[:, 1, 1] = mu
            M[:, 0, 1] = -lr * mu
            n[:, 1] = p
            n[:, 0] = -lr * p
        return M, n, e, e


def rule_for(optimizer, denom=None):
    """The affine form of ``optimizer``, or :class:`NoRecursion` naming why there is none.

    ``denom`` (the frozen denominators) makes Adam and RMSprop linearizable."""
    name = type(optimizer).name
    if name == "sgd":
        return SGDRule(optimizer)
    if name == "nag":
        return NAGRule(optimizer)
    if name == "schedule_free_sgd":
        return ScheduleFreeSGDRule(optimizer)
    if name in ("adam", "adamw") and denom is not None:
        if optimizer.weight_decay != 0.0 and (name == "adamw" or optimizer.decoupled_weight_decay):
            raise NoRecursion(f"{name}: decoupled weight decay is not linearized")
        return FrozenAdam("adam", optimizer, denom)
    if name == "rmsprop" and denom is not None:
        if optimizer.momentum_form != "torch" or optimizer.nesterov or optimizer.bias_correction:
            raise NoRecursion("rmsprop: only the torch momentum form without bias correction is linearized")
        return FrozenAdam("rmsprop", optimizer, denom)
    raise NoRecursion(f"optimizer {name!r} has no exact moment recursion (sgd, nag, schedule_free_sgd; "
                      "adam and rmsprop linearized)")


def limit_t():
    """An update count where every bias factor beta**t has vanished (stationary matrices)."""
    return float(2 ** 40)

