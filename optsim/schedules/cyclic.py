"""Cyclical learning rates (Smith 2017) and the one-cycle policy (Smith 2018), with
momentum cycled inversely to the rate.

``k`` is the number of updates already applied (0 for the first update), the
``opt.step(); sched.step()`` convention of ``torch.optim.lr_scheduler``.

Momentum cycling: with ``cycle_momentum=True`` (torch's default) the schedule overrides
the optimizer's momentum hyperparameter (SGD ``momentum``, Adam ``beta1``) before every
update, and the optimizer must have one, as in torch (the sweep refuses it otherwise).
With ``cycle_momentum=False`` the momentum kernel returns NaN and nothing is overridden.
"""

import math

import numpy as np
from numba import njit

from .._components import Param, ParameterError, param_layout
from .._roles import Schedule

__all__ = ["Cyclic", "OneCycle"]


# -- cyclic -------------------------------------------------------------------------------


CYCLIC_PARAMS = (
    Param("max_lr", 6e-3, "upper bound of the cycle (absolute; the optimizer lr is the lower)",
          low=0.0),
    Param("step_size_up", 2000.0, "updates u from the bottom to the peak", low=0.0, low_open=True),
    Param("step_size_down", None, "updates d from the peak back (default: u)", low=0.0,
          low_open=True, none_ok=True),
    Param("mode", "triangular", "amplitude policy", kind="choice",
          choices=("triangular", "triangular2", "exp_range")),
    Param("gamma", 1.0, "amplitude factor per update (exp_range)", low=0.0, low_open=True),
    Param("cycle_momentum", True, "cycle the optimizer's momentum inversely", kind="bool"),
    Param("base_momentum", 0.8, "momentum at the peak of the rate", low=0.0, high=1.0),
    Param("max_momentum", 0.9, "momentum at the bottom of the rate", low=0.0, high=1.0),
)
CYCLIC_SP = param_layout(CYCLIC_PARAMS)


@njit(cache=True)
def _cyclic_phase(k, sp):
    """(scale factor in [0, 1] along the triangle, amplitude scale) for update k."""
    up = sp[CYCLIC_SP.step_size_up]
    down = sp[CYCLIC_SP.step_size_down]
    if down != down:
        down = up
    mode = sp[CYCLIC_SP.mode]
    gamma = sp[CYCLIC_SP.gamma]
    total = up + down
    ratio = up / total
    cycle = math.floor(1.0 + k / total)
    x = 1.0 + k / total - cycle
    if x <= ratio:
        sf = x / ratio
    else:
        sf = (x - 1.0) / (ratio - 1.0)
    if mode == 0.0:
        scale = 1.0
    elif mode == 1.0:
        scale = 1.0 / (2.0 ** (cycle - 1.0))
    else:
        scale = gamma ** float(k)  # pow, as torch computes it (an int power multiplies)
    return sf, scale


@njit(cache=True)
def cyclic_value(k, base_lr, sp, ss, loss):
    sf, scale = _cyclic_phase(k, sp)
    return base_lr + (sp[CYCLIC_SP.max_lr] - base_lr) * sf * scale


@njit(cache=True)
def cyclic_momentum(k, sp):
    if sp[CYCLIC_SP.cycle_momentum] == 0.0:
        return np.nan
    sf, scale = _cyclic_phase(k, sp)
    base_m = sp[CYCLIC_SP.base_momentum]
    max_m = sp[CYCLIC_SP.max_momentum]
    return max_m - (max_m - base_m) * sf * scale


class Cyclic(Schedule):
    r"""Cyclical learning rate, as ``torch.optim.lr_scheduler.CyclicLR``.

    The optimizer's ``lr`` is the *lower* bound (torch's ``base_lr``, which CyclicLR
    writes into the optimizer) and ``max_lr`` the upper bound (absolute).  With
    :math:`u` = ``step_size_up``, :math:`d` = ``step_size_down`` (default :math:`u`),
    :math:`k` the number of updates already applied:

    .. math::

        c &= \lfloor 1 + k/(u+d) \rfloor, \qquad x = 1 + k/(u+d) - c, \qquad
        r = u/(u+d) \\
        s &= x/r \ \text{if}\ x \le r \ \text{else}\ (x-1)/(r-1) \\
        \eta_k &= \eta + (\eta_{\max} - \eta)\, s\, a

    with amplitude :math:`a = 1` (``triangular``), :math:`2^{-(c-1)}` (``triangular2``)
    or :math:`\gamma^k` (``exp_range``).  The rate starts at :math:`\eta`, peaks at
    :math:`k = u` and is periodic with period :math:`u + d`.  For :math:`u = d` this is
    the triangular policy of Smith (2017), :math:`\eta + (\eta_{\max} - \eta)
    \max(0, 1 - |k/u - 2\lfloor 1 + k/(2u) \rfloor + 1|)`.

    With ``cycle_momentum`` the optimizer's momentum (SGD ``momentum``, Adam ``beta1``)
    is :math:`m_k = m_{\max} - (m_{\max} - m_{\text{base}})\, s\, a`, inversely to the rate.
    """

    name = "cyclic"
    params = CYCLIC_PARAMS
    kernels = {"value": cyclic_value, "momentum": cyclic_momentum}




# -- one cycle ----------------------------------------------------------------------------


ONECYCLE_PARAMS = (
    Param("total_steps", 1000.0, "updates N of the cycle", low=1.0),
    Param("pct_start", 0.3, "fraction of the cycle spent increasing the rate", low=0.0, high=1.0,
          low_open=True),
    Param("anneal_strategy", "cos", "annealing function", kind="choice", choices=("cos", "linear")),
    Param("div_factor", 25.0, "initial rate = max_lr / div_factor", low=0.0, low_open=True),
    Param("final_div_factor", 1e4, "min_lr = initial rate / final_div_factor", low=0.0, low_open=True),
    Param("three_phase", False, "go back to the initial rate before annealing to min_lr", kind="bool"),
    Param("cycle_momentum", True, "cycle the optimizer's momentum inversely", kind="bool"),
    Param("base_momentum", 0.85, "momentum at the peak of the rate", low=0.0, high=1.0),
    Param("max_momentum", 0.95, "momentum at the start and end", low=0.0, high=1.0),
    Param("convention", "torch", "torch OneCycleLR or optax *_onecycle_schedule boundaries",
          kind="choice", choices=("torch", "optax")),
    Param("pct_final", 0.85, "optax linear_onecycle: end of the second phase", low=0.0, high=1.0),
)
ONECYCLE_SP = param_layout(ONECYCLE_PARAMS)


@njit(cache=True)
def _anneal(start, end, pct, cos):
    if cos:
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1.0)
    return (end - start) * pct + start


@njit(cache=True)
def _onecycle_torch(k, a0, a1, a2, three, N, pct_start, cos):
    """torch OneCycleLR: a0 -> a1 -> a2 (two phases) or a0 -> a1 -> a0 -> a2 (three)."""
    e1 = pct_start * N - 1.0
    if k > N - 1.0:
        return a2  # torch raises past N; here the rate stays at its final value
    if three:
        e2 = 2.0 * pct_start * N - 2.0
        if k <= e1:
            return _anneal(a0, a1, k / e1, cos)
        if k <= e2:
            return _anneal(a1, a0, (k - e1) / (e2 - e1), cos)
        return _anneal(a0, a2, (k - e2) / (N - 1.0 - e2), cos)
    if k <= e1:
        return _anneal(a0, a1, k / e1, cos)
    return _anneal(a1, a2, (k - e1) / (N - 1.0 - e1), cos)


@njit(cache=True)
def _onecycle_optax(k, v0, v1, v2, v3, three, N, b1, b2, cos):
    """optax piecewise interpolation between boundaries 0 < b1 (< b2) < N."""
    if three:
        if k >= N:
            return v3
        if k >= b2:
            return _anneal(v2, v3, (k - b2) / max(N - b2, 1.0), cos)
        if k >= b1:
            return _anneal(v1, v2, (k - b1) / max(b2 - b1, 1.0), cos)
        return _anneal(v0, v1, k / max(b1, 1.0), cos)
    if k >= N:
        return v2
    if k >= b1:
        return _anneal(v1, v2, (k - b1) / max(N - b1, 1.0), cos)
    return _anneal(v0, v1, k / max(b1, 1.0), cos)


@njit(cache=True)
def onecycle_value(k, base_lr, sp, ss, loss):
    N = sp[ONECYCLE_SP.total_steps]
    pct_start = sp[ONECYCLE_SP.pct_start]
    cos = sp[ONECYCLE_SP.anneal_strategy] == 0.0
    div = sp[ONECYCLE_SP.div_factor]
    final_div = sp[ONECYCLE_SP.final_div_factor]
    three = sp[ONECYCLE_SP.three_phase] != 0.0
    if sp[ONECYCLE_SP.convention] == 0.0:
        initial = base_lr / div
        return _onecycle_torch(float(k), initial, base_lr, initial / final_div, three, N, pct_start, cos)
    pct_final = sp[ONECYCLE_SP.pct_final]
    b1 = math.floor(pct_start * N)
    b2 = math.floor(pct_final * N)
    v0 = base_lr / div
    v1 = v0 * div
    if three:
        v2 = v1 * (1.0 / div)
        v3 = v2 * (1.0 / final_div)
    else:
        v2 = v1 * (1.0 / (div * final_div))
        v3 = v2
    return _onecycle_optax(float(k), v0, v1, v2, v3, three, N, b1, b2, cos)


@njit(cache=True)
def onecycle_momentum(k, sp):
    if sp[ONECYCLE_SP.cycle_momentum] == 0.0:
        return np.nan
    N = sp[ONECYCLE_SP.total_steps]
    pct_start = sp[ONECYCLE_SP.pct_start]
    cos = sp[ONECYCLE_SP.anneal_strategy] == 0.0
    three = sp[ONECYCLE_SP.three_phase] != 0.0
    base_m = sp[ONECYCLE_SP.base_momentum]
    max_m = sp[ONECYCLE_SP.max_momentum]
    if sp[ONECYCLE_SP.convention] == 0.0:
        # momentum: max -> base -> max (three phases: max -> base -> max -> max)
        e1 = pct_start * N - 1.0
        kk = min(float(k), N - 1.0)
        if three:
            e2 = 2.0 * pct_start * N - 2.0
            if kk <= e1:
                return _anneal(max_m, base_m, kk / e1, cos)
            if kk <= e2:
                return _anneal(base_m, max_m, (kk - e1) / (e2 - e1), cos)
            return max_m
        if kk <= e1:
            return _anneal(max_m, base_m, kk / e1, cos)
        return _anneal(base_m, max_m, (kk - e1) / (N - 1.0 - e1), cos)
    b1 = math.floor(pct_start * N)
    b2 = math.floor(sp[ONECYCLE_SP.pct_final] * N)
    return _onecycle_optax(float(k), max_m, base_m, max_m, max_m, three, N, b1, b2, cos)


class OneCycle(Schedule):
    r"""The one-cycle policy (Smith 2018), as ``torch.optim.lr_scheduler.OneCycleLR``.

    The optimizer's ``lr`` is the peak ``max_lr``.  With :math:`N` = ``total_steps``,
    :math:`p` = ``pct_start``, :math:`k` the number of updates already applied,
    :math:`\eta_0 = \eta/\text{div\_factor}` and :math:`\eta_{\min} =
    \eta_0/\text{final\_div\_factor}` (torch's ``min_lr``), ``convention="torch"``
    (default) anneals :math:`\eta_0 \to \eta` over :math:`k \in [0, pN - 1]` and
    :math:`\eta \to \eta_{\min}` over :math:`[pN - 1, N - 1]`; with ``three_phase``,
    :math:`\eta_0 \to \eta \to \eta_0 \to \eta_{\min}` with phase ends :math:`pN - 1`,
    :math:`2pN - 2`, :math:`N - 1`.  Within a phase from :math:`a` to :math:`b` with
    progress :math:`\pi \in [0, 1]`: ``anneal_strategy="cos"`` gives
    :math:`b + (a - b)(1 + \cos \pi\pi)/2`, ``"linear"`` gives :math:`a + (b - a)\pi`.
    torch refuses to step past :math:`N`; here the rate stays at :math:`\eta_{\min}`
    from :math:`k = N - 1` on.

    With ``cycle_momentum`` the optimizer's momentum (SGD ``momentum``, Adam ``beta1``)
    follows the same phases from ``max_momentum`` to ``base_momentum`` and back (three
    phases: max, base, max, max), as torch.

    ``convention="optax"`` is ``optax.cosine_onecycle_schedule(N, peak, p, div,
    final_div)`` (with ``anneal_strategy="cos"``): interpolation between boundaries
    :math:`\lfloor pN \rfloor` and :math:`N`, so the peak is at :math:`k = \lfloor pN
    \rfloor` and :math:`\eta_{\min}` is reached at :math:`k = N`, one update later than
    torch.  With ``three_phase`` and ``anneal_strategy="linear"`` it is
    ``optax.linear_onecycle_schedule(N, peak, p, pct_final, div, final_div)``:
    :math:`\eta_0 \to \eta \to \eta_0 \to \eta_{\min}` with boundaries
    :math:`\lfloor pN \rfloor, \lfloor p_{\text{final}} N \rfloor, N`.  (optax does not
    cycle momentum; here the momentum follows the same boundaries.)
    """

    name = "one_cycle"
    params = ONECYCLE_PARAMS
    kernels = {"value": onecycle_value, "momentum": onecycle_momentum}

    def _validate(self):
        N, p = self.total_steps, self.pct_start
        if self.convention == "torch":
            if p * N - 1.0 <= 0.0 or (not self.three_phase and p * N - 1.0 >= N - 1.0):
                raise ParameterError(
                    f"OneCycle: pct_start * total_steps - 1 must lie strictly between 0 and "
                    f"total_steps - 1 (got pct_start={p}, total_steps={N})"
                )
            if self.three_phase and not (p * N - 1.0 < 2 * p * N - 2.0 < N - 1.0):
                raise ParameterError(
                    f"OneCycle: three_phase needs pct_start * total_steps - 1 < "
                    f"2 * pct_start * total_steps - 2 < total_steps - 1 (got pct_start={p}, total_steps={N})"
                )
        elif self.three_phase and not (math.floor(p * N) <= math.floor(self.pct_final * N) <= N):
            raise ParameterError(
                f"OneCycle: pct_final ({self.pct_final}) must not come before pct_start ({p})"
            )
