"""Warm-up schedules: the Transformer's inverse-square-root warm-up (Vaswani et al. 2017)
and the untuned linear and exponential warm-ups of Ma & Yarats (2021).

``k`` is the number of updates already applied (0 for the first update); the papers'
1-based step is :math:`t = k + 1`.
"""

import math

from numba import njit

from .._components import Param, param_layout
from .._roles import Schedule
from .basic import Constant

__all__ = ["TransformerWarmup", "UntunedLinearWarmup", "UntunedExponentialWarmup"]


TRANSFORMER_PARAMS = (
    Param("d_model", 512.0, "model width d_model", low=0.0, low_open=True),
    Param("warmup_steps", 4000.0, "step W of the peak", low=0.0, low_open=True),
)
TRANSFORMER_SP = param_layout(TRANSFORMER_PARAMS)


@njit(cache=True)
def transformer_value(k, base_lr, sp, ss, loss):
    d_model = sp[TRANSFORMER_SP.d_model]
    warmup = sp[TRANSFORMER_SP.warmup_steps]
    t = k + 1.0
    return base_lr * (d_model**-0.5 * min(t**-0.5, t * warmup**-1.5))


class TransformerWarmup(Schedule):
    r"""The Transformer schedule (Vaswani et al. 2017, §5.3).

    .. math:: \eta_k = \eta \cdot d_{\text{model}}^{-1/2}
              \min\!\left(t^{-1/2},\ t\, W^{-3/2}\right), \qquad t = k + 1

    with :math:`W` = ``warmup_steps`` (4000 in the paper) and :math:`k` the number of
    updates already applied.  The optimizer's ``lr`` is a *multiplier*: ``lr=1`` gives
    the paper's schedule (peak :math:`(d_{\text{model}} W)^{-1/2} \approx 6.99\times
    10^{-4}` at :math:`t = W` for :math:`d_{\text{model}} = 512`), linear before the peak
    and :math:`\propto t^{-1/2}` after.  It equals ``torch.optim.lr_scheduler.LambdaLR``
    with ``lambda s: d**-0.5 * min((s+1)**-0.5, (s+1) * W**-1.5)``.
    """

    name = "transformer"
    params = TRANSFORMER_PARAMS
    kernels = {"value": transformer_value}


UNTUNED_WARMUP_PARAMS = (
    Param("beta2", 0.999, "the optimizer's beta2 (sets the warm-up length)", low=0.0, high=1.0,
          high_open=True),
)
UNTUNED_WARMUP_SP = param_layout(UNTUNED_WARMUP_PARAMS)


@njit(cache=True)
def untuned_linear_value(k, base_lr, sp, ss, loss, inner):
    omega = min(1.0, (1.0 - sp[UNTUNED_WARMUP_SP.beta2]) * (k + 1.0) / 2.0)
    return inner * omega


@njit(cache=True)
def untuned_exponential_value(k, base_lr, sp, ss, loss, inner):
    omega = 1.0 - math.exp(-(1.0 - sp[UNTUNED_WARMUP_SP.beta2]) * (k + 1.0))
    return inner * omega


class _UntunedWarmup(Schedule):
    params = UNTUNED_WARMUP_PARAMS
    children_roles = {"after": "schedule"}
    wraps = True

    def default_child(self, key):
        return Constant()

    def children(self):
        return (self._children["after"],)


class UntunedLinearWarmup(_UntunedWarmup):
    r"""Untuned linear warm-up (Ma & Yarats 2021), multiplying another schedule.

    .. math:: \eta_k = \eta^{\text{after}}_k\, \omega_t, \qquad
              \omega_t = \min\!\left(1, \frac{(1 - \beta_2)\, t}{2}\right), \qquad t = k + 1

    a warm-up of :math:`2/(1-\beta_2)` updates (2000 for :math:`\beta_2 = 0.999`).
    ``beta2`` should be the optimizer's (a schedule does not see the optimizer's
    hyperparameters).  ``after`` is the schedule being warmed up (default
    :class:`~optsim.schedules.Constant`), as with :class:`~optsim.schedules.LinearWarmup`.
    """

    name = "untuned_linear_warmup"
    kernels = {"value": untuned_linear_value}


class UntunedExponentialWarmup(_UntunedWarmup):
    r"""Untuned exponential warm-up (Ma & Yarats 2021), multiplying another schedule.

    .. math:: \eta_k = \eta^{\text{after}}_k\, \omega_t, \qquad
              \omega_t = 1 - e^{-(1 - \beta_2)\, t}, \qquad t = k + 1

    a warm-up with time constant :math:`1/(1-\beta_2)` updates.  ``beta2`` should be
    the optimizer's; ``after`` is the schedule being warmed up (default
    :class:`~optsim.schedules.Constant`).
    """

    name = "untuned_exponential_warmup"
    kernels = {"value": untuned_exponential_value}
