"""Prodigy (Mishchenko & Defazio 2023): Adam whose step size D is estimated on the fly.

The estimate is accumulated over all coordinates, so Prodigy keeps named per-trajectory
scalars (``scalar_names``, read as ``sc[SC.d]``) and is not elementwise: replicates run one
at a time.
"""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer

__all__ = ["Prodigy"]

PRODIGY_PARAMS = (
    Param("lr", 1.0, "multiplier of the estimated step size D (leave at 1)", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the first moment", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.999, "decay of the second moment", low=0.0, high=1.0, high_open=True),
    Param("beta3", None, "decay of the D estimate's sums (None: sqrt(beta2))", low=0.0, high=1.0,
          high_open=True, none_ok=True),
    Param("eps", 1e-8, "added to the denominator, times D", low=0.0, low_open=True),
    Param("weight_decay", 0.0, "decay coefficient", low=0.0),
    Param("decouple", True, "AdamW-style decay (times D lr) instead of L2 in the gradient", kind="bool"),
    Param("use_bias_correction", False, "Adam's bias correction in the step size", kind="bool"),
    Param("safeguard_warmup", False, "leave lr out of the D estimate's denominator", kind="bool"),
    Param("d0", 1e-6, "initial D estimate", low=0.0, low_open=True),
    Param("d_coef", 1.0, "multiplier of the D estimate", low=0.0, low_open=True),
    Param("growth_rate", math.inf, "largest factor D may grow by in one step", low=1.0, allow_inf=True),
)
H = param_layout(PRODIGY_PARAMS)
ST = layout(("m", "v", "s", "x0"))
SCALARS = ("d", "d_max", "d_numerator", "dlr")
SC = layout(SCALARS)


@njit(cache=True)
def prodigy_init(x, S, sc, hp):
    for i in range(x.shape[0]):
        S[ST.x0, i] = x[i]
    sc[SC.d] = hp[H.d0]
    sc[SC.d_max] = hp[H.d0]


@njit(cache=True)
def prodigy_step(x, g, S, sc, t, lr, hp):
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    beta3 = hp[H.beta3]
    if beta3 != beta3:  # None
        beta3 = math.sqrt(beta2)
    wd = hp[H.weight_decay]
    decouple = hp[H.decouple] != 0.0
    d0 = hp[H.d0]
    d = sc[SC.d]
    bias_correction = 1.0
    if hp[H.use_bias_correction] != 0.0:
        bias_correction = math.sqrt(1.0 - beta2 ** float(t)) / (1.0 - beta1 ** float(t))
    dlr = d * lr * bias_correction
    numerator = sc[SC.d_numerator] * beta3
    n = x.shape[0]
    if wd != 0.0 and not decouple:
        for i in range(n):
            g[i] = g[i] + wd * x[i]
    denominator = 0.0
    if lr > 0.0:
        dot = 0.0
        for i in range(n):
            dot += g[i] * (S[ST.x0, i] - x[i])
        numerator = numerator + (d / d0) * dlr * dot
        cm = d * (1.0 - beta1)
        cv = d * d * (1.0 - beta2)
        cs = (d / d0) * d if hp[H.safeguard_warmup] != 0.0 else (d / d0) * dlr
        for i in range(n):
            gi = g[i]
            S[ST.m, i] = S[ST.m, i] * beta1 + cm * gi
            S[ST.v, i] = S[ST.v, i] * beta2 + cv * gi * gi
            s = S[ST.s, i] * beta3 + cs * gi
            S[ST.s, i] = s
            denominator += abs(s)
    if denominator == 0.0:  # no progress yet (lr 0, or a zero gradient): x and D stay
        return
    d_hat = hp[H.d_coef] * numerator / denominator
    if d == d0:
        d = max(d, d_hat)
    d_max = max(sc[SC.d_max], d_hat)
    d = min(d_max, d * hp[H.growth_rate])
    sc[SC.d_numerator] = numerator
    sc[SC.d] = d
    sc[SC.d_max] = d_max
    sc[SC.dlr] = dlr
    eps_d = d * hp[H.eps]
    shrink = -wd * dlr
    for i in range(n):
        den = math.sqrt(S[ST.v, i]) + eps_d
        if wd != 0.0 and decouple:
            x[i] = x[i] + x[i] * shrink
        if beta1 > 0.0:
            x[i] = x[i] + -dlr * (S[ST.m, i] / den)
        else:
            x[i] = x[i] + (-dlr * d) * (g[i] / den)


@njit(cache=True)
def prodigy_eff_lr(S, sc, t, lr, hp, out):
    eps_d = sc[SC.d] * hp[H.eps]
    scale = sc[SC.dlr] if hp[H.beta1] > 0.0 else sc[SC.dlr] * sc[SC.d]
    for i in range(out.shape[0]):
        out[i] = scale / (math.sqrt(S[ST.v, i]) + eps_d)


class Prodigy(Optimizer):
    r"""Prodigy, as the authors' ``prodigyopt.Prodigy`` (one parameter group, ``slice_p=1``).

    With :math:`\eta_t` = the scheduled ``lr``, :math:`\beta_1, \beta_2` = ``beta1``,
    ``beta2`` (or ``betas``), :math:`\beta_3` = ``beta3`` (default :math:`\sqrt{\beta_2}`),
    :math:`d_0` = ``d0``, :math:`c` = ``d_coef``, :math:`\gamma` = ``growth_rate``,
    :math:`\epsilon` = ``eps``, :math:`\lambda` = ``weight_decay``, :math:`x_0` the starting
    point and :math:`b_t = \sqrt{1-\beta_2^t}/(1-\beta_1^t)` with ``use_bias_correction``
    (else 1), each step, from :math:`d = d_{t-1}` and :math:`\delta_t = d\,\eta_t\, b_t`:

    .. math::

        r_t &= \beta_3 r_{t-1} + (d/d_0)\, \delta_t\, \langle g_t, x_0 - x_{t-1}\rangle \\
        m_t &= \beta_1 m_{t-1} + d(1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + d^2(1-\beta_2) g_t^2, \qquad
        s_t = \beta_3 s_{t-1} + (d/d_0)\, \delta_t\, g_t \\
        \hat d_t &= c\, r_t / \|s_t\|_1, \qquad
        d_t = \min\!\big(\max(d_{\max}, \hat d_t),\ \gamma\, d'\big), \quad
        d' = \max(d, \hat d_t) \text{ while } d = d_0 \text{ (else } d) \\
        x_t &= x_{t-1}(1 - \lambda\delta_t) - \delta_t\, m_t / (\sqrt{v_t} + d_t\,\epsilon)

    with :math:`d_{\max}` the largest :math:`\hat d` so far (from :math:`d_0`).
    ``decouple=False`` adds :math:`\lambda x_{t-1}` to the gradient instead of shrinking
    :math:`x`; ``safeguard_warmup`` uses :math:`(d/d_0)\,d` for :math:`s_t`'s increment;
    with :math:`\beta_1 = 0` the step is :math:`\delta_t d_t\, g_t/(\sqrt{v_t}+d_t\epsilon)`.
    A step with :math:`\|s_t\|_1 = 0` (a zero gradient, or :math:`\eta_t = 0`) leaves
    :math:`x` and :math:`d` unchanged.

    State: ``S[0]`` = m, ``S[1]`` = v, ``S[2]`` = s, ``S[3]`` = :math:`x_0`; scalars
    ``d``, ``d_max``, ``d_numerator`` (:math:`r`) and ``dlr`` (the last :math:`\delta_t`).
    ``eff_lr`` is :math:`\delta_t / (\sqrt{v_t} + d_t\epsilon)`: the step is ``eff_lr * m``.

    References: Mishchenko & Defazio, *Prodigy: An Expeditiously Adaptive Parameter-Free
    Learner*, ICML 2024 (arXiv:2306.06101, Algorithm 3 with Adam); the authors' code,
    github.com/konstmish/prodigy (``prodigyopt``).
    """

    name = "prodigy"
    params = PRODIGY_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    slots = 4
    slot_names = ST._fields
    scalar_names = SCALARS
    momentum_param = "beta1"
    schedulable = ("beta1", "beta2", "beta3", "eps", "weight_decay", "d_coef", "growth_rate")
    elementwise = False
    kernels = {"init": prodigy_init, "step": prodigy_step, "eff_lr": prodigy_eff_lr}
