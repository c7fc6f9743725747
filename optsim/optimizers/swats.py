"""SWATS (Keskar & Socher 2017): start with Adam, switch to SGD at a rate estimated from Adam's steps."""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import MOMENTS, adam_moments, no_init

__all__ = ["SWATS"]

SWATS_PARAMS = (
    Param("lr", 1e-3, "learning rate of the Adam phase", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the first moment; SGD momentum after the switch", low=0.0, high=1.0,
          high_open=True),
    Param("beta2", 0.999, "decay of the second moment and of the rate estimate", low=0.0, high=1.0,
          high_open=True),
    Param("eps", 1e-9, "Adam's denominator eps and the switch tolerance", low=0.0),
    Param("weight_decay", 0.0, "coupled L2 coefficient added to the gradient", low=0.0),
    Param("require_positive", False, "switch only when the estimated rate is positive", kind="bool"),
)
SWATS_SLOTS = ("m", "a", "velocity")
SWATS_SCALARS = ("switched", "rate_estimate", "sgd_rate", "switch_step")

H = param_layout(SWATS_PARAMS, "SWATSParams")
M = layout(SWATS_SLOTS, "SWATSSlots")
C = layout(SWATS_SCALARS, "SWATSScalars")
assert (M.m, M.a) == (MOMENTS.m, MOMENTS.v)  # the rows adam_moments updates


@njit(cache=True)
def swats_step(x, g, S, sc, t, lr, hp):
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    eps = hp[H.eps]
    wd = hp[H.weight_decay]
    need_positive = hp[H.require_positive] != 0.0
    d = x.shape[0]
    if sc[C.switched] != 0.0:  # SGD phase: v = beta1 v + g, x -= (1 - beta1) Lambda v
        rate = (1.0 - beta1) * sc[C.sgd_rate]
        for i in range(d):
            gi = g[i]
            if wd != 0.0:
                gi = gi + wd * x[i]
            vb = beta1 * S[M.velocity, i] + gi
            S[M.velocity, i] = vb
            x[i] = x[i] - rate * vb
        return
    bc1 = 1.0 - beta1 ** float(t)
    bc2 = 1.0 - beta2 ** float(t)
    step_size = lr * math.sqrt(bc2) / bc1
    pp = 0.0
    pg = 0.0
    for i in range(d):
        gi = g[i]
        if wd != 0.0:
            gi = gi + wd * x[i]
        m, v = adam_moments(S, i, gi, beta1, beta2)
        p = -step_size * m / (math.sqrt(v) + eps)
        x[i] = x[i] + p
        pp += p * p
        pg += p * gi
    if pg != 0.0:
        gamma = pp / (-pg)  # the SGD rate whose step has the Adam step's projection
        lam = beta2 * sc[C.rate_estimate] + (1.0 - beta2) * gamma
        sc[C.rate_estimate] = lam
        big_lambda = lam / bc2
        if t > 1 and abs(big_lambda - gamma) < eps and (big_lambda > 0.0 or not need_positive):
            sc[C.switched] = 1.0
            sc[C.sgd_rate] = big_lambda
            sc[C.switch_step] = t


@njit(cache=True)
def swats_eff_lr(S, sc, t, lr, hp, out):
    if sc[C.switched] != 0.0:
        for i in range(out.shape[0]):
            out[i] = sc[C.sgd_rate]
        return
    t = max(t, 1)
    step_size = lr * math.sqrt(1.0 - hp[H.beta2] ** float(t)) / (1.0 - hp[H.beta1] ** float(t))
    for i in range(out.shape[0]):
        out[i] = step_size / (math.sqrt(S[M.a, i]) + hp[H.eps])


class SWATS(Optimizer):
    r"""SWATS: Adam until its steps look like SGD's, then SGD with momentum (Keskar & Socher 2017).

    With :math:`\eta_t` the scheduled ``lr``, :math:`\beta_1, \beta_2`, :math:`\epsilon` =
    ``eps`` and step :math:`k` (1-based), the Adam phase (Algorithm 1 of the paper) is

    .. math::

        m_k &= \beta_1 m_{k-1} + (1-\beta_1) g_k, \qquad
        a_k = \beta_2 a_{k-1} + (1-\beta_2) g_k^2 \\
        p_k &= -\eta_k \frac{\sqrt{1-\beta_2^k}}{1-\beta_1^k}\, \frac{m_k}{\sqrt{a_k} + \epsilon},
        \qquad x_k = x_{k-1} + p_k

    and, when :math:`p_k^\top g_k \ne 0`, the SGD rate whose step projects onto the Adam step,

    .. math::

        \gamma_k = \frac{p_k^\top p_k}{-p_k^\top g_k}, \qquad
        \lambda_k = \beta_2 \lambda_{k-1} + (1-\beta_2)\gamma_k, \qquad
        \Lambda_k = \frac{\lambda_k}{1-\beta_2^k}.

    The rule switches, after that step, when :math:`k > 1` and
    :math:`|\Lambda_k - \gamma_k| < \epsilon` (with ``require_positive``, also
    :math:`\Lambda_k > 0`, as some implementations add).  The switch is global over all
    coordinates of the trajectory.  From the next step on it is SGD with momentum at the
    frozen rate :math:`\Lambda`: :math:`v_k = \beta_1 v_{k-1} + g_k`,
    :math:`x_k = x_{k-1} - (1-\beta_1)\Lambda v_k` (:math:`v` starts at 0, so the
    steady-state step is :math:`\Lambda g`); the lr schedule no longer applies.

    ``eps`` (default 1e-9, the paper's value as reported by its reproductions) is both the
    Adam denominator's :math:`\epsilon` (on the uncorrected :math:`\sqrt{a_k}`) and the switch
    tolerance.  ensmallen uses 1e-8; ``pytorch_optimizer`` uses 1e-6 with a relative
    ``allclose`` test, which this does not reproduce.  ``weight_decay`` is coupled L2 in both
    phases.

    State (``slot_names``): ``m``, ``a``, ``velocity`` = the SGD velocity; scalars
    (``scalar_names``): ``switched`` = 1 after the switch, ``rate_estimate`` = :math:`\lambda_k`,
    ``sgd_rate`` = the frozen :math:`\Lambda`, ``switch_step`` = the step k of the switch.
    ``eff_lr`` is the Adam rate :math:`\eta_k\sqrt{1-\beta_2^k}/((1-\beta_1^k)(\sqrt{a_k}+\epsilon))`
    (the step is ``eff_lr * m``) before the switch and :math:`\Lambda` after it.

    Reference: Keskar & Socher, *Improving Generalization Performance by Switching from
    Adam to SGD*, arXiv:1712.07628 (2017).
    """

    name = "swats"
    params = SWATS_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    kernels = {"init": no_init, "step": swats_step, "eff_lr": swats_eff_lr}
    slots = 3
    slot_names = SWATS_SLOTS
    scalars = 4
    scalar_names = SWATS_SCALARS
    momentum_param = "beta1"
