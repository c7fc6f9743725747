"""AdaBound and AMSBound (Luo, Xiong, Liu & Sun 2019): Adam with the step clipped into bounds that close on SGD."""

import math

from numba import njit

from .._components import Param, layout, param_layout
from .._roles import Optimizer
from ._common import MOMENTS, adam_moments, no_init

__all__ = ["AdaBound", "adabound_bounds"]

ADABOUND_PARAMS = (
    Param("lr", 1e-3, "learning rate (Adam phase)", low=0.0, low_open=True),
    Param("beta1", 0.9, "decay of the first moment", low=0.0, high=1.0, high_open=True),
    Param("beta2", 0.999, "decay of the second moment", low=0.0, high=1.0, high_open=True),
    Param("final_lr", 0.1, "the SGD rate both bounds converge to (at the base lr)", low=0.0,
          low_open=True),
    Param("gamma", 1e-3, "convergence speed of the bounds", low=0.0, low_open=True),
    Param("eps", 1e-8, "added to the uncorrected sqrt(v)", low=0.0),
    Param("weight_decay", 0.0, "coupled L2, or AdaBoundW's decay per step", low=0.0),
    Param("amsbound", False, "use the running max of v (AMSBound)", kind="bool"),
    Param("decoupled_weight_decay", False, "AdaBoundW: x -= wd * x after the step", kind="bool"),
)
ADABOUND_SLOTS = ("m", "v", "v_max")

H = param_layout(ADABOUND_PARAMS, "AdaBoundParams")
M = layout(ADABOUND_SLOTS, "AdaBoundSlots")
assert (M.m, M.v) == (MOMENTS.m, MOMENTS.v)  # the rows adam_moments updates


@njit(cache=True)
def adabound_bounds(t, lr, base_lr, final_lr, gamma):
    """(lower, upper) at step t; final_lr follows the schedule through lr / base_lr."""
    final = final_lr * lr / base_lr
    return final * (1.0 - 1.0 / (gamma * t + 1.0)), final * (1.0 + 1.0 / (gamma * t))


@njit(cache=True, inline="always")
def _clipped(step_size, den, lo, hi):
    return min(max(step_size / den, lo), hi)


@njit(cache=True)
def adabound_step(x, g, S, sc, t, lr, hp):
    beta1 = hp[H.beta1]
    beta2 = hp[H.beta2]
    eps = hp[H.eps]
    wd = hp[H.weight_decay]
    amsbound = hp[H.amsbound] != 0.0
    decoupled = hp[H.decoupled_weight_decay] != 0.0
    bc1 = 1.0 - beta1 ** float(t)
    bc2 = 1.0 - beta2 ** float(t)
    step_size = lr * math.sqrt(bc2) / bc1
    lo, hi = adabound_bounds(t, lr, hp[H.lr], hp[H.final_lr], hp[H.gamma])
    for i in range(x.shape[0]):
        gi = g[i]
        if wd != 0.0 and not decoupled:
            gi = gi + wd * x[i]
        m, v = adam_moments(S, i, gi, beta1, beta2)
        if amsbound:
            v = max(S[M.v_max, i], v)
            S[M.v_max, i] = v
        den = math.sqrt(v) + eps  # eps on the uncorrected sqrt(v)
        x_old = x[i]
        x[i] = x[i] - _clipped(step_size, den, lo, hi) * m
        if wd != 0.0 and decoupled:  # AdaBoundW: minus wd * x_{t-1}, after the step, not times lr
            x[i] = x[i] - wd * x_old


@njit(cache=True)
def adabound_eff_lr(S, sc, t, lr, hp, out):
    t = max(t, 1)
    bc1 = 1.0 - hp[H.beta1] ** float(t)
    bc2 = 1.0 - hp[H.beta2] ** float(t)
    step_size = lr * math.sqrt(bc2) / bc1
    lo, hi = adabound_bounds(t, lr, hp[H.lr], hp[H.final_lr], hp[H.gamma])
    amsbound = hp[H.amsbound] != 0.0
    for i in range(out.shape[0]):
        v = S[M.v_max, i] if amsbound else S[M.v, i]
        out[i] = _clipped(step_size, math.sqrt(v) + hp[H.eps], lo, hi)


class AdaBound(Optimizer):
    r"""AdaBound / AMSBound, in the official implementation's form (``Luolc/AdaBound``).

    With :math:`\eta_t` the scheduled ``lr``, :math:`\eta_0` the base ``lr``,
    :math:`\alpha^*` = ``final_lr``, :math:`\gamma` = ``gamma``, moments :math:`m_t, v_t` as
    in Adam:

    .. math::

        \alpha_t &= \alpha^* \eta_t/\eta_0, \qquad
        \eta_l(t) = \alpha_t\Big(1 - \frac{1}{\gamma t + 1}\Big), \qquad
        \eta_u(t) = \alpha_t\Big(1 + \frac{1}{\gamma t}\Big) \\
        s_t &= \frac{\eta_t \sqrt{1-\beta_2^t}}{1-\beta_1^t}, \qquad
        x_t = x_{t-1} - \mathrm{clip}\Big(\frac{s_t}{\sqrt{v_t} + \epsilon},\ \eta_l(t),\ \eta_u(t)\Big)\, m_t

    (eps on the uncorrected :math:`\sqrt{v_t}`).  The final rate follows any lr schedule
    through :math:`\eta_t/\eta_0`.  At t = 1 the bounds are about
    :math:`[\gamma\alpha^*, \alpha^*/\gamma]` (1e-4 and 100 for the defaults); both tend
    to :math:`\alpha^*`, so AdaBound ends as SGD with momentum at rate :math:`\alpha^*`
    (applied to :math:`m_t`, which is not bias-corrected inside the clip).

    - ``amsbound``: use :math:`\max_{s\le t} v_s` (AMSBound).
    - ``weight_decay``: coupled L2 :math:`g + \lambda x` (official ``AdaBound``), or with
      ``decoupled_weight_decay`` the official ``AdaBoundW``:
      :math:`x_t = x_{t-1} - \mathrm{step} - \lambda x_{t-1}`, *not* multiplied by the lr.

    State (``slot_names``): ``m``, ``v``, ``v_max`` = max v.  ``eff_lr`` is the clipped rate:
    the step is ``eff_lr * m``.

    Reference: Luo, Xiong, Liu & Sun, *Adaptive Gradient Methods with Dynamic Bound of
    Learning Rate*, ICLR 2019; ``Luolc/AdaBound`` ``adabound/adabound.py``.
    """

    name = "adabound"
    params = ADABOUND_PARAMS
    aliases = {"betas": ("beta1", "beta2")}
    kernels = {"init": no_init, "step": adabound_step, "eff_lr": adabound_eff_lr}
    slots = 3
    elementwise = True
    slot_names = ADABOUND_SLOTS
    momentum_param = "beta1"
