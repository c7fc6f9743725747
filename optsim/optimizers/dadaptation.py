"""D-Adaptation (Defazio & Mishchenko 2023): SGD and Adam whose step size d is a lower
bound on the distance to the solution, estimated on the fly from the gradients.

The estimate sums over all coordinates, so both rules keep named per-trajectory scalars
(``scalar_names``, read as ``sc[SC.d]``) and are not elementwise.
"""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer

__all__ = ["DAdaptSGD", "DAdaptAdam"]


def _d_params():
    return (
        Param("d0", 1e-6, "initial estimate d_0 of the distance", low=0.0, low_open=True),
        Param("growth_rate", math.inf, "largest factor d may grow by in one step", low=1.0, allow_inf=True),
    )


SGD_PARAMS = (
    Param("lr", 1.0, "multiplier of the adapted step size (leave at 1)", low=0.0, low_open=True),
    Param("momentum", 0.0, "momentum mu: x is the mu-average of x and z", low=0.0, high=1.0, high_open=True),
    Param("weight_decay", 0.0, "weight decay: L2 in the gradient, or with decouple x shrunk by it times d lr",
          low=0.0),
) + _d_params() + (
    Param("decouple", False, "shrink x by (1 - weight_decay d lr) instead of adding L2 to the gradient "
          "(pytorch-optimizer's weight_decouple=True)", kind="bool"),
)
ADAM_PARAMS = (
    Param("lr", 1.0, "multiplier of the adapted step size (leave at 1)", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the first moment", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.999, "decay of the second moment (and sqrt(beta2) of the estimate's sums)", low=0.0,
          high=1.0, high_open=True),
    Param("eps", 1e-8, "added to the root of the second moment", low=0.0, low_open=True),
    Param("weight_decay", 0.0, "decay coefficient", low=0.0),
    Param("decouple", False, "AdamW-style decay (times d lr) instead of L2 in the gradient", kind="bool"),
    Param("use_bias_correction", False, "Adam's bias correction in the step size", kind="bool"),
) + _d_params()

HS = param_layout(SGD_PARAMS, "DAdaptSGDParams")
HA = param_layout(ADAM_PARAMS, "DAdaptAdamParams")
SGD_SLOTS = ("s", "x0")
ADAM_SLOTS = ("exp_avg", "exp_avg_sq", "s")
SS = layout(SGD_SLOTS, "DAdaptSGDSlots")
SA = layout(ADAM_SLOTS, "DAdaptAdamSlots")
SGD_SCALARS = ("d", "numerator_weighted", "g0_norm", "k", "dlr")
ADAM_SCALARS = ("d", "numerator_weighted", "k", "dlr")
CS = layout(SGD_SCALARS, "DAdaptSGDScalars")
CA = layout(ADAM_SCALARS, "DAdaptAdamScalars")


@njit(cache=True)
def dadapt_sgd_init(x, S, sc, hp):
    for i in range(x.shape[0]):
        S[SS.x0, i] = x[i]
    sc[CS.d] = hp[HS.d0]


@njit(cache=True)
def dadapt_sgd_step(x, g, S, sc, t, lr, hp):
    n = x.shape[0]
    wd = hp[HS.weight_decay]
    decouple = hp[HS.decouple] != 0.0
    d = sc[CS.d]
    if sc[CS.k] == 0.0:  # the first step that counts sets the scale of the gradients
        gsq = 0.0
        for i in range(n):
            gsq += g[i] * g[i]  # without weight decay, as the reference
        sc[CS.g0_norm] = math.sqrt(gsq)
    g0 = sc[CS.g0_norm]
    if g0 == 0.0:  # a zero first gradient: nothing to scale by yet
        return
    dlr = d * lr / g0
    numerator = sc[CS.numerator_weighted]
    sk_sq = 0.0
    if lr > 0.0:
        dot = 0.0
        for i in range(n):
            gi = g[i] + wd * x[i] if wd != 0.0 and not decouple else g[i]
            s = S[SS.s, i]
            dot += gi * s
            s = s + dlr * gi
            S[SS.s, i] = s
            sk_sq += s * s
        numerator += dlr * dot
        d_hat = 2.0 * numerator / math.sqrt(sk_sq) if sk_sq > 0.0 else d
        d = max(d, min(d_hat, d * hp[HS.growth_rate]))
    if sk_sq == 0.0:
        return
    sc[CS.numerator_weighted] = numerator
    sc[CS.d] = d
    sc[CS.dlr] = dlr
    sc[CS.k] += 1.0
    mu = hp[HS.momentum]
    ck = 1.0 - mu
    shrink = 1.0 - wd * dlr if decouple else 1.0
    for i in range(n):
        z = S[SS.x0, i] - S[SS.s, i]
        xi = x[i] * shrink
        x[i] = xi * (1.0 - ck) + ck * z


@njit(cache=True)
def dadapt_sgd_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = sc[CS.dlr]


@njit(cache=True)
def dadapt_adam_step(x, g, S, sc, t, lr, hp):
    n = x.shape[0]
    beta1 = hp[HA.beta1]
    beta2 = hp[HA.beta2]
    eps = hp[HA.eps]
    wd = hp[HA.weight_decay]
    decouple = hp[HA.decouple] != 0.0
    d = sc[CA.d]
    k = sc[CA.k]
    bias_correction = 1.0
    if hp[HA.use_bias_correction] != 0.0:
        bias_correction = math.sqrt(1.0 - beta2 ** (k + 1.0)) / (1.0 - beta1 ** (k + 1.0))
    dlr = d * lr * bias_correction
    sqrt_beta2 = math.sqrt(beta2)
    numerator_acum = 0.0
    sk_l1 = 0.0
    if wd != 0.0 and not decouple:
        for i in range(n):
            g[i] = g[i] + wd * x[i]
    if lr > 0.0:
        dot = 0.0
        for i in range(n):
            gi = g[i]
            s = S[SA.s, i]
            dot += gi * (s / (math.sqrt(S[SA.exp_avg_sq, i]) + eps))
            S[SA.exp_avg, i] = S[SA.exp_avg, i] * beta1 + dlr * (1.0 - beta1) * gi
            S[SA.exp_avg_sq, i] = S[SA.exp_avg_sq, i] * beta2 + (1.0 - beta2) * gi * gi
            s = s * sqrt_beta2 + dlr * (1.0 - sqrt_beta2) * gi
            S[SA.s, i] = s
            sk_l1 += abs(s)
        numerator_acum = dlr * dot
    numerator = sqrt_beta2 * sc[CA.numerator_weighted] + (1.0 - sqrt_beta2) * numerator_acum
    if sk_l1 == 0.0:  # the moments have decayed, the scalars and the step count stay
        return
    if lr > 0.0:
        d_hat = numerator / ((1.0 - sqrt_beta2) * sk_l1)
        d = max(d, min(d_hat, d * hp[HA.growth_rate]))
    sc[CA.numerator_weighted] = numerator
    sc[CA.d] = d
    sc[CA.dlr] = dlr
    sc[CA.k] = k + 1.0
    shrink = -wd * dlr
    for i in range(n):
        den = math.sqrt(S[SA.exp_avg_sq, i]) + eps
        if wd != 0.0 and decouple:
            x[i] = x[i] + x[i] * shrink
        x[i] = x[i] - S[SA.exp_avg, i] / den


@njit(cache=True)
def dadapt_adam_init(x, S, sc, hp):
    sc[CA.d] = hp[HA.d0]


@njit(cache=True)
def dadapt_adam_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = sc[CA.dlr] / (math.sqrt(S[SA.exp_avg_sq, i]) + hp[HA.eps])


_REFS = r"""
    References: Defazio & Mishchenko, *Learning-Rate-Free Learning by D-Adaptation*, ICML
    2023 (arXiv:2301.07733); the authors' package ``dadaptation`` (github.com/
    facebookresearch/dadaptation, v3.2).
"""


class DAdaptSGD(Optimizer):
    __doc__ = r"""D-Adaptation SGD, as ``dadaptation.DAdaptSGD`` (dual averaging with momentum).

    With :math:`\eta_k` = the scheduled ``lr``, :math:`\mu` = ``momentum``, :math:`\lambda` =
    ``weight_decay``, :math:`d_0` = ``d0``, :math:`\gamma` = ``growth_rate``, :math:`x_0` the
    starting point, :math:`\tilde g_k = g_k + \lambda x_k` and
    :math:`G = \lVert g_{\text{first}} \rVert_2` the norm of the first gradient (without the
    decay term: the reference's ``grad.add`` there is not in place), each step from
    :math:`d = d_k`, :math:`\delta_k = d\, \eta_k / G`:

    .. math::

        r_{k+1} &= r_k + \delta_k \langle \tilde g_k, s_k \rangle, \qquad
        s_{k+1} = s_k + \delta_k \tilde g_k \\
        d_{k+1} &= \max\!\big(d,\ \min(2 r_{k+1} / \lVert s_{k+1} \rVert_2,\ \gamma d)\big) \\
        z_{k+1} &= x_0 - s_{k+1}, \qquad x_{k+1} = \mu x_k + (1 - \mu) z_{k+1}

    With ``decouple`` (pytorch-optimizer's ``weight_decouple=True``) :math:`\tilde g_k = g_k`
    and :math:`x_k` is first shrunk to :math:`x_k(1 - \lambda\delta_k)`.  pytorch-optimizer's
    ``DAdaptSGD`` also defaults to ``momentum=0.9`` (dadaptation: 0), takes :math:`G` in
    float32, and has no early return for :math:`s_{k+1} = 0`.
    A step with :math:`s_{k+1} = 0` (a zero gradient at the start) leaves :math:`x`, the
    scalars and the step count :math:`k` unchanged, as the reference's early return; a zero
    first gradient norm :math:`G` likewise (the reference divides by it).

    State: ``s``, ``x0``; scalars ``d``, ``numerator_weighted`` (:math:`r`), ``g0_norm``
    (:math:`G`), ``k`` (the steps taken) and ``dlr`` (the last :math:`\delta_k`, which is
    ``eff_lr``).
""" + _REFS

    name = "dadapt_sgd"
    params = SGD_PARAMS
    slots = len(SGD_SLOTS)
    slot_names = SGD_SLOTS
    scalar_names = SGD_SCALARS
    momentum_param = "momentum"
    schedulable = ("momentum", "weight_decay", "growth_rate")
    elementwise = False
    kernels = {"init": dadapt_sgd_init, "step": dadapt_sgd_step, "eff_lr": dadapt_sgd_eff_lr}


class DAdaptAdam(Optimizer):
    __doc__ = r"""D-Adaptation Adam, as ``dadaptation.DAdaptAdam`` (one parameter group,
    ``layer_scale`` 1).

    With :math:`\eta_k` = the scheduled ``lr``, :math:`\beta_1, \beta_2` = ``beta1``,
    ``beta2`` (or ``betas``), :math:`\epsilon` = ``eps``, :math:`\lambda` = ``weight_decay``,
    :math:`d_0` = ``d0``, :math:`\gamma` = ``growth_rate``, :math:`b_k = \sqrt{1-\beta_2^{k+1}}
    / (1 - \beta_1^{k+1})` with ``use_bias_correction`` (else 1), :math:`\tilde g_k = g_k +
    \lambda x_k` (``decouple=False``, else :math:`g_k`), each step from :math:`d = d_k` and
    :math:`\delta_k = d\, \eta_k\, b_k`:

    .. math::

        a_k &= \delta_k \big\langle \tilde g_k,\ s_k / (\sqrt{v_k} + \epsilon) \big\rangle \\
        m_{k+1} &= \beta_1 m_k + \delta_k (1-\beta_1) \tilde g_k, \qquad
        v_{k+1} = \beta_2 v_k + (1-\beta_2) \tilde g_k^2 \\
        s_{k+1} &= \sqrt{\beta_2}\, s_k + \delta_k (1 - \sqrt{\beta_2})\, \tilde g_k, \qquad
        r_{k+1} = \sqrt{\beta_2}\, r_k + (1 - \sqrt{\beta_2})\, a_k \\
        d_{k+1} &= \max\!\Big(d,\ \min\!\big(\tfrac{r_{k+1}}{(1-\sqrt{\beta_2}) \lVert s_{k+1}\rVert_1},
                   \ \gamma d\big)\Big) \\
        x_{k+1} &= x_k (1 - \lambda \delta_k) - m_{k+1} / (\sqrt{v_{k+1}} + \epsilon)

    (the factor :math:`1 - \lambda\delta_k` only with ``decouple``).  The step uses the
    :math:`\delta_k` of the old :math:`d`; the new :math:`d` enters the next step.  A step
    with :math:`s_{k+1} = 0` keeps the decayed moments but leaves :math:`x`, the scalars and
    :math:`k` (the bias correction's count) unchanged, as the reference's early return.

    State: ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`), ``s``; scalars ``d``,
    ``numerator_weighted`` (:math:`r`), ``k`` and ``dlr`` (the last :math:`\delta_k`).
    ``eff_lr`` is :math:`\delta_k / (\sqrt{v} + \epsilon)`.
""" + _REFS

    name = "dadapt_adam"
    params = ADAM_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    slots = len(ADAM_SLOTS)
    slot_names = ADAM_SLOTS
    scalar_names = ADAM_SCALARS
    momentum_param = "beta1"
    schedulable = ("beta1", "beta2", "eps", "weight_decay", "growth_rate")
    elementwise = False
    kernels = {"init": dadapt_adam_init, "step": dadapt_adam_step, "eff_lr": dadapt_adam_eff_lr}
