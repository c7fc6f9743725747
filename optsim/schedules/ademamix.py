"""AdEMAMix's warm-up of its slow momentum's decay beta3 (Pagliardini et al. 2024).

A schedule of the hyperparameter ``beta3`` (``Method(AdEMAMix(), schedules={"beta3":
Beta3Warmup(...)})``): the base value it gets is the optimizer's final ``beta3``.  The
warm-up of ``alpha`` is :class:`optsim.schedules.LinearWarmup` with ``start_factor=0``.
"""

import math

from numba import njit

from .._components import Param, ParameterError, param_layout
from .._roles import Schedule

__all__ = ["Beta3Warmup"]

BETA3_WARMUP_PARAMS = (
    Param("warmup_steps", 100, "length T of the warm-up", kind="float", low=0.0, low_open=True),
    Param("beta_start", 0.9, "the decay the warm-up starts from (the reference: beta1)", low=0.0,
          high=1.0, high_open=True),
    Param("log_eps", 0.0, "added to both decays inside the logarithms (the authors' code: 1e-8)", low=0.0),
)
P = param_layout(BETA3_WARMUP_PARAMS)


@njit(cache=True)
def beta3_warmup_value(k, base, sp, ss, loss):
    a = (k + 1.0) / sp[P.warmup_steps]
    if a >= 1.0:
        return base
    eps = sp[P.log_eps]
    log_start = math.log(sp[P.beta_start] + eps)
    log_end = math.log(base + eps)
    return math.exp(log_start * log_end / ((1.0 - a) * log_end + a * log_start))


class Beta3Warmup(Schedule):
    r"""AdEMAMix's beta3 warm-up: the half-life of the slow EMA grows linearly.

    With :math:`T` = ``warmup_steps``, :math:`\beta_{\text{start}}` = ``beta_start``,
    :math:`\beta_3` the optimizer's ``beta3`` and :math:`t = k + 1` the 1-based step
    (:math:`k` updates already applied):

    .. math::

        \beta_3(t) = \exp\!\left(\frac{\ln\beta_{\text{start}}\, \ln\beta_3}
            {(1 - t/T) \ln\beta_3 + (t/T) \ln\beta_{\text{start}}}\right)
            \quad (t < T), \qquad \beta_3(t) = \beta_3 \quad (t \ge T)

    the paper's :math:`f_{\beta_3}`: the half-life :math:`\ln(1/2)/\ln\beta` moves linearly
    from that of :math:`\beta_{\text{start}}` to that of :math:`\beta_3`.  The authors'
    code takes :math:`\beta_{\text{start}} = \beta_1` and adds :math:`10^{-8}` to both
    decays inside the logarithms (``log_eps=1e-8`` reproduces it; the default 0 is the
    paper's formula).

    Reference: Pagliardini, Ablin & Grangier, *The AdEMAMix Optimizer: Better, Faster,
    Older*, arXiv:2409.03137, 2024 (Section 3, the schedulers); github.com/apple/ml-ademamix.
    """

    name = "beta3_warmup"
    params = BETA3_WARMUP_PARAMS
    kernels = {"value": beta3_warmup_value}

    def _validate(self):
        if self.beta_start == 0.0 and self.log_eps == 0.0:
            raise ParameterError("Beta3Warmup: beta_start=0.0 needs log_eps > 0 (the logarithm of 0 is -inf)")
