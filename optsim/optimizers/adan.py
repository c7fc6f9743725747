"""Adan (Xie et al. 2022): adaptive Nesterov momentum from three moments, of the gradient, of
the gradient difference and of the squared Nesterov gradient g + beta2 (g - g_prev)."""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import no_init

__all__ = ["Adan", "DIFF_COEFFICIENTS"]

DIFF_COEFFICIENTS = ("beta2", "one_minus_beta2")

ADAN_PARAMS = (
    Param("lr", 1e-3, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.98, "decay of the gradient's EMA m", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.92, "decay of the gradient difference's EMA v", low=0.0, high=1.0, high_open=True),
    Param("beta3", 0.99, "decay of the EMA n of the squared Nesterov gradient", low=0.0, high=1.0,
          high_open=True),
    Param("eps", 1e-8, "added to sqrt(n_hat) in the denominator", low=0.0),
    Param("eps_root", 0.0, "added to n_hat inside the square root (optax)", low=0.0),
    Param("weight_decay", 0.0, "decay coefficient", low=0.0),
    Param("no_prox", False, "decay x <- x (1 - lr wd) before the step (optax; pytorch-optimizer's "
          "weight_decouple) instead of the proximal x <- x / (1 + lr wd) after it (the authors' default)",
          kind="bool"),
    Param("diff_coefficient", "beta2", "coefficient c of the difference g - g_prev in n and of v in the "
          "step: beta2 (the paper's 1 - beta2 in its notation, the authors' code, pytorch-optimizer) or "
          "1 - beta2 (optax)", kind="choice", choices=DIFF_COEFFICIENTS),
    Param("bias_correction", True, "divide m, v, n by 1 - beta^t (the code; the paper's Algorithm 1 has none)",
          kind="bool"),
    Param("maximize", False, "ascend instead of descend", kind="bool"),
)
ADAN_SLOTS = ("m", "v", "n", "g_prev")
H = param_layout(ADAN_PARAMS, "AdanParams")
M = layout(ADAN_SLOTS, "AdanSlots")


@njit(cache=True, inline="always")
def _corrections(t, hp):
    if hp[H.bias_correction] == 0.0:
        return 1.0, 1.0, 1.0
    tt = float(t)
    return 1.0 - hp[H.beta1] ** tt, 1.0 - hp[H.beta2] ** tt, 1.0 - hp[H.beta3] ** tt


@njit(cache=True)
def adan_step(x, g, S, sc, t, lr, hp):
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    beta3 = hp[H.beta3]
    eps = hp[H.eps]
    eps_root = hp[H.eps_root]
    wd = hp[H.weight_decay]
    no_prox = hp[H.no_prox] != 0.0
    c = beta2 if hp[H.diff_coefficient] == 0.0 else 1.0 - beta2
    maximize = hp[H.maximize] != 0.0
    bc1, bc2, bc3 = _corrections(t, hp)
    for i in range(x.shape[0]):
        gi = -g[i] if maximize else g[i]
        d = 0.0 if t == 1 else gi - S[M.g_prev, i]
        S[M.g_prev, i] = gi
        m = beta1 * S[M.m, i] + (1.0 - beta1) * gi
        v = beta2 * S[M.v, i] + (1.0 - beta2) * d
        u = gi + c * d
        n = beta3 * S[M.n, i] + (1.0 - beta3) * u * u
        S[M.m, i] = m
        S[M.v, i] = v
        S[M.n, i] = n
        if eps_root == 0.0:
            den = math.sqrt(n) / math.sqrt(bc3) + eps
        else:
            den = math.sqrt(n / bc3 + eps_root) + eps
        step = (lr / bc1) * m / den + (lr * c / bc2) * v / den
        if wd != 0.0 and no_prox:
            x[i] = x[i] * (1.0 - lr * wd) - step
        elif wd != 0.0:
            x[i] = (x[i] - step) / (1.0 + lr * wd)
        else:
            x[i] = x[i] - step


@njit(cache=True)
def adan_eff_lr(S, sc, t, lr, hp, out):
    bc1, bc2, bc3 = _corrections(max(t, 1), hp)
    for i in range(out.shape[0]):
        out[i] = lr / bc1 / (math.sqrt(S[M.n, i] / bc3 + hp[H.eps_root]) + hp[H.eps])


class Adan(Optimizer):
    r"""Adan, in the authors' form by default (``adan.Adan``, github.com/sail-sg/Adan).

    With :math:`\eta_t` = the scheduled ``lr``, :math:`\beta_1, \beta_2, \beta_3` = ``beta1``,
    ``beta2``, ``beta3`` (or ``betas``; *decay* rates, as in the code: the paper's
    :math:`\beta_i` are one minus these), :math:`\epsilon` = ``eps``, :math:`\epsilon_r` =
    ``eps_root``, :math:`\lambda` = ``weight_decay``, :math:`c` = the difference coefficient
    and :math:`d_t = g_t - g_{t-1}` (:math:`d_1 = 0`):

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) d_t \\
        n_t &= \beta_3 n_{t-1} + (1-\beta_3) (g_t + c\, d_t)^2, \qquad
        \delta_t = \eta_t\, \frac{m_t/(1-\beta_1^t) + c\, v_t/(1-\beta_2^t)}
                   {\sqrt{n_t/(1-\beta_3^t) + \epsilon_r} + \epsilon} \\
        x_t &= (x_{t-1} - \delta_t) / (1 + \eta_t\lambda)
        \quad\text{or, with ``no\_prox``,}\quad x_t = x_{t-1}(1 - \eta_t\lambda) - \delta_t

    Options, where the implementations differ:

    - ``diff_coefficient``: :math:`c = \beta_2` (``'beta2'``: the paper's :math:`1-\beta_2`
      in its own notation, the authors' code and ``pytorch_optimizer.Adan``) or
      :math:`c = 1-\beta_2` (``'one_minus_beta2'``: ``optax.adan``, which takes the paper's
      coefficient :math:`1-\beta_2` literally while its ``b2`` is a decay rate; with the
      default 0.92 that weighs the difference 0.08 instead of 0.92).
    - ``no_prox``: the authors' default is the proximal decay (the paper's
      :math:`(1+\lambda\eta)^{-1}`); ``no_prox=True`` is the authors' ``no_prox``,
      pytorch-optimizer's ``weight_decouple=True`` and optax's ``weight_decay`` (which adds
      :math:`\lambda x` to the update before the learning rate: the same numbers).
    - ``eps_root``: optax's, inside the square root.
    - ``bias_correction``: the three corrections of the code (the paper's Algorithm 1 has none).
    - ``maximize``: negate the gradient first.

    The authors' and pytorch-optimizer's ``max_grad_norm`` (a clipping of the global gradient
    norm before the step) is not part of this rule: it sums over coordinates.

    State (``slot_names``): ``m``, ``v``, ``n``, ``g_prev``.  ``eff_lr`` is
    :math:`\eta_t / ((1-\beta_1^t)(\sqrt{\hat n_t + \epsilon_r} + \epsilon))`.

    References: X. Xie, P. Zhou, H. Li, Z. Lin, S. Yan, *Adan: Adaptive Nesterov Momentum
    Algorithm for Faster Optimizing Deep Models*, IEEE TPAMI 2024 (arXiv:2208.06677).
    """

    name = "adan"
    params = ADAN_PARAMS
    aliases = {"betas": ("beta1", "beta2", "beta3")}
    kernels = {"init": no_init, "step": adan_step, "eff_lr": adan_eff_lr}
    slots = len(ADAN_SLOTS)
    slot_names = ADAN_SLOTS
    momentum_param = "beta1"
    elementwise = True
