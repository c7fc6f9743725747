"""AdEMAMix (Pagliardini, Ablin & Grangier 2024): Adam with a second, slow momentum mixed in.

Its warm-ups of ``alpha`` and ``beta3`` are schedules of those hyperparameters
(``Method(AdEMAMix(), schedules={"alpha": ..., "beta3": ...})``, see
:mod:`optsim.schedules.ademamix`), not options of the rule.
"""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import no_init

__all__ = ["AdEMAMix"]

ADEMAMIX_PARAMS = (
    Param("lr", 1e-3, "learning rate", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the fast first moment m1", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.999, "decay of the second moment nu", low=0.0, high=1.0, high_open=True),
    Param("beta3", 0.9999, "decay of the slow first moment m2", low=0.0, high=1.0, high_open=True),
    Param("alpha", 2.0, "weight of the slow moment m2 in the update", low=0.0),
    Param("eps", 1e-8, "added to the denominator", low=0.0),
    Param("weight_decay", 0.0, "decoupled decay coefficient (times lr)", low=0.0),
)
H = param_layout(ADEMAMIX_PARAMS)
ST = layout(("m1", "m2", "nu"))


@njit(cache=True)
def ademamix_step(x, g, S, sc, t, lr, hp):
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    beta3 = hp[H.beta3]
    alpha = hp[H.alpha]
    eps = hp[H.eps]
    wd = hp[H.weight_decay]
    bc1 = 1.0 - beta1 ** float(t)
    sqrt_bc2 = math.sqrt(1.0 - beta2 ** float(t))
    for i in range(x.shape[0]):
        gi = g[i]
        m1 = beta1 * S[ST.m1, i] + (1.0 - beta1) * gi
        m2 = beta3 * S[ST.m2, i] + (1.0 - beta3) * gi
        nu = beta2 * S[ST.nu, i] + (1.0 - beta2) * (gi * gi)
        S[ST.m1, i] = m1
        S[ST.m2, i] = m2
        S[ST.nu, i] = nu
        u = (m1 / bc1 + alpha * m2) / (math.sqrt(nu) / sqrt_bc2 + eps)
        x[i] = x[i] - lr * (u + wd * x[i])


@njit(cache=True)
def ademamix_eff_lr(S, sc, t, lr, hp, out):
    sqrt_bc2 = math.sqrt(1.0 - hp[H.beta2] ** float(max(t, 1)))
    eps = hp[H.eps]
    for i in range(out.shape[0]):
        out[i] = lr / (math.sqrt(S[ST.nu, i]) / sqrt_bc2 + eps)


class AdEMAMix(Optimizer):
    r"""AdEMAMix, as the authors' PyTorch reference (``apple/ml-ademamix``).

    With :math:`\eta_t` = the scheduled ``lr``, :math:`\beta_1, \beta_2, \beta_3` =
    ``beta1``, ``beta2``, ``beta3`` (or ``betas``), :math:`\alpha` = ``alpha``,
    :math:`\epsilon` = ``eps``, :math:`\lambda` = ``weight_decay`` and :math:`t` the 1-based
    step:

    .. math::

        m_{1,t} &= \beta_1 m_{1,t-1} + (1-\beta_1) g_t, \qquad
        m_{2,t} = \beta_3 m_{2,t-1} + (1-\beta_3) g_t, \qquad
        \nu_t = \beta_2 \nu_{t-1} + (1-\beta_2) g_t^2 \\
        \hat m_{1,t} &= m_{1,t} / (1-\beta_1^t), \qquad \hat\nu_t = \nu_t / (1-\beta_2^t) \\
        x_t &= x_{t-1} - \eta_t \left( \frac{\hat m_{1,t} + \alpha\, m_{2,t}}{\sqrt{\hat\nu_t} + \epsilon}
               + \lambda x_{t-1} \right)

    Only :math:`m_1` and :math:`\nu` are bias-corrected (the slow EMA :math:`m_2` is not),
    and the weight decay is decoupled, as in AdamW (Algorithm 1 of the paper).  The paper's
    warm-ups :math:`\alpha_t = \min(t/T_\alpha, 1)\,\alpha` and its beta3 warm-up are
    schedules of ``alpha`` and ``beta3``::

        Method(AdEMAMix(alpha=8.0), schedules={
            "alpha": LinearWarmup(warmup_steps=T),            # start_factor 0
            "beta3": Beta3Warmup(warmup_steps=T, beta_start=0.9)})  # = beta1

    State: ``S[0]`` = :math:`m_1`, ``S[1]`` = :math:`m_2`, ``S[2]`` = :math:`\nu`.
    ``eff_lr`` is :math:`\eta_t / (\sqrt{\hat\nu_t} + \epsilon)`, the step per unit of
    mixed momentum :math:`\hat m_1 + \alpha m_2`.

    References: Pagliardini, Ablin & Grangier, *The AdEMAMix Optimizer: Better, Faster,
    Older*, arXiv:2409.03137, 2024 (Algorithm 1); the authors' code, github.com/apple/ml-ademamix.
    """

    name = "ademamix"
    params = ADEMAMIX_PARAMS
    aliases = {"betas": ("beta1", "beta2", "beta3")}
    slots = 3
    slot_names = ST._fields
    momentum_param = "beta1"
    elementwise = True
    kernels = {"init": no_init, "step": ademamix_step, "eff_lr": ademamix_eff_lr}
