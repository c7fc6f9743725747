"""Decay schedules: multi-step, exponential, inverse-time, inverse square root,
polynomial, cosine annealing and cosine annealing with warm restarts.

Every value is a closed-form function of ``k``, the number of updates already applied
(0 for the first update): the ``opt.step(); sched.step()`` convention of
``torch.optim.lr_scheduler``, optax's ``count`` and Keras' ``iterations``.  ``base_lr``
(written :math:`\\eta` below) is the optimizer's ``lr``.  Where the libraries differ, a
named option selects the convention; the default is PyTorch's.
"""

import math

import numpy as np
from numba import njit

from .._components import Param, ParameterError, param_layout
from .._roles import Schedule

__all__ = [
    "MultiStep",
    "Exponential",
    "InverseTime",
    "InverseSqrtDecay",
    "Polynomial",
    "CosineAnnealing",
    "WarmRestarts",
]

MAX_MILESTONES = 64
"""How many milestones a :class:`MultiStep` schedule can hold."""


# -- multi-step ---------------------------------------------------------------------------


MULTISTEP_PARAMS = (
    Param("milestones", (100.0, 200.0), "updates k at which the rate is multiplied by gamma",
          kind="array", low=0.0, dynamic=False, ndim=(0, 1)),
    Param("gamma", 0.1, "decay factor", low=0.0, low_open=True),
    Param("convention", "torch", "torch/optax (switch at k == m) or keras (at k == m + 1)",
          kind="choice", choices=("torch", "keras")),
)
MULTISTEP_SP = param_layout(MULTISTEP_PARAMS)
FIRST_MILESTONE = len(MULTISTEP_SP)
"""Where the milestones start in a :class:`MultiStep` row, after its dynamic parameters."""


@njit(cache=True)
def multistep_value(k, base_lr, sp, ss, loss):
    gamma = sp[MULTISTEP_SP.gamma]
    keras = sp[MULTISTEP_SP.convention] != 0.0
    n = 0
    for i in range(FIRST_MILESTONE, sp.shape[0]):  # sorted, padded with +inf
        m = sp[i]
        if k > m or (k == m and not keras):
            n += 1
        else:
            break
    return base_lr * gamma**n


class MultiStep(Schedule):
    r"""Multiply the learning rate by ``gamma`` at each milestone.

    .. math:: \eta_k = \eta\, \gamma^{\#\{i : m_i \le k\}}

    with :math:`k` the number of updates already applied: update ``m`` is the first to
    use the decayed rate, as ``torch.optim.lr_scheduler.MultiStepLR`` stepped once per
    update and ``optax.piecewise_constant_schedule`` with every scale equal to ``gamma``.
    A milestone listed twice decays twice (torch counts duplicates).
    ``convention="keras"`` switches one update later, :math:`\#\{i : m_i < k\}`, as
    ``keras.optimizers.schedules.PiecewiseConstantDecay``.

    ``milestones`` is static: it is packed, sorted and padded with :math:`+\infty`, into
    each trajectory's schedule row after the dynamic parameters (at most 64 milestones).
    """

    name = "multistep"
    params = MULTISTEP_PARAMS
    kernels = {"value": multistep_value}

    def _validate(self):
        m = self.milestones
        if m.ndim != 1 or m.size > MAX_MILESTONES:
            raise ParameterError(
                f"MultiStep: milestones must be a flat sequence of at most {MAX_MILESTONES} "
                f"numbers, got shape {m.shape}"
            )
        if np.any(m != np.floor(m)):
            raise ParameterError(f"MultiStep: milestones must be whole numbers of updates, got {m.tolist()}")

    @classmethod
    def dynamic_names(cls):
        return ("gamma", "convention") + tuple(f"milestone_{i}" for i in range(MAX_MILESTONES))

    def row(self):
        table = self.param_table()
        out = np.full(FIRST_MILESTONE + MAX_MILESTONES, np.inf)
        out[MULTISTEP_SP.gamma] = table["gamma"].pack(self.gamma)
        out[MULTISTEP_SP.convention] = table["convention"].pack(self.convention)
        m = np.sort(self.milestones)
        out[FIRST_MILESTONE:FIRST_MILESTONE + m.size] = m
        return out


# -- exponential --------------------------------------------------------------------------


EXPONENTIAL_PARAMS = (
    Param("gamma", 0.99, "decay rate per transition_steps updates", low=0.0, low_open=True),
    Param("transition_steps", 1.0, "updates T per factor gamma", low=0.0, low_open=True),
    Param("staircase", False, "decay in whole steps of T updates", kind="bool"),
    Param("transition_begin", 0, "updates b before the decay starts", kind="int", low=0, step_count=True),
    Param("end_lr", None, "bound on the rate (optax end_value; absolute)", low=0.0, none_ok=True),
)
EXPONENTIAL_SP = param_layout(EXPONENTIAL_PARAMS)


@njit(cache=True)
def exponential_value(k, base_lr, sp, ss, loss):
    gamma = sp[EXPONENTIAL_SP.gamma]
    steps = sp[EXPONENTIAL_SP.transition_steps]
    staircase = sp[EXPONENTIAL_SP.staircase] != 0.0
    begin = sp[EXPONENTIAL_SP.transition_begin]
    end = sp[EXPONENTIAL_SP.end_lr]
    c = k - begin
    if c <= 0:
        lr = base_lr
    else:
        p = c / steps
        if staircase:
            p = math.floor(p)
        lr = base_lr * gamma**p
    if end == end:
        if gamma < 1.0:
            lr = max(lr, end)
        else:
            lr = min(lr, end)
    return lr


class Exponential(Schedule):
    r"""Exponential decay.

    .. math:: \eta_k = \eta\, \gamma^{p}, \qquad p = \frac{k - b}{T}
              \ \ (\lfloor\cdot\rfloor \text{ if staircase}), \qquad \eta_k = \eta \text{ for } k \le b

    with :math:`T` = ``transition_steps``, :math:`b` = ``transition_begin``.  The
    defaults (:math:`T = 1`, :math:`b = 0`) give :math:`\eta\gamma^k`, as
    ``torch.optim.lr_scheduler.ExponentialLR``; the general form is
    ``optax.exponential_decay(init, T, gamma, b, staircase, end_value)`` and, with
    :math:`b = 0`, ``keras.optimizers.schedules.ExponentialDecay(init, T, gamma,
    staircase)``.  ``end_lr`` (optax's ``end_value``, absolute) bounds the result: a
    floor when :math:`\gamma < 1`, a ceiling otherwise.
    """

    name = "exponential"
    params = EXPONENTIAL_PARAMS
    kernels = {"value": exponential_value}


# -- inverse time -------------------------------------------------------------------------


INVERSE_TIME_PARAMS = (
    Param("decay_rate", 0.5, "rate r", low=0.0),
    Param("decay_steps", 1.0, "updates T per unit of p", low=0.0, low_open=True),
    Param("staircase", False, "decay in whole steps of T updates", kind="bool"),
)
INVERSE_TIME_SP = param_layout(INVERSE_TIME_PARAMS)


@njit(cache=True)
def inverse_time_value(k, base_lr, sp, ss, loss):
    rate = sp[INVERSE_TIME_SP.decay_rate]
    steps = sp[INVERSE_TIME_SP.decay_steps]
    p = k / steps
    if sp[INVERSE_TIME_SP.staircase] != 0.0:
        p = math.floor(p)
    return base_lr / (1.0 + rate * p)


class InverseTime(Schedule):
    r"""Inverse-time decay, as ``keras.optimizers.schedules.InverseTimeDecay``.

    .. math:: \eta_k = \frac{\eta}{1 + r\, p}, \qquad p = k / T \ \ (\lfloor\cdot\rfloor \text{ if staircase})

    with :math:`r` = ``decay_rate``, :math:`T` = ``decay_steps`` and :math:`k` the number
    of updates already applied.  With :math:`T = 1` this is the :math:`\eta/(1 + r k)`
    of classical stochastic approximation.
    """

    name = "inverse_time"
    params = INVERSE_TIME_PARAMS
    kernels = {"value": inverse_time_value}


# -- inverse square root -----------------------------------------------------------------


@njit(cache=True)
def inverse_sqrt_value(k, base_lr, sp, ss, loss):
    return base_lr / math.sqrt(k + 1.0)


class InverseSqrtDecay(Schedule):
    r"""Inverse square-root decay :math:`\eta_k = \eta / \sqrt{k + 1}`.

    This is the :math:`\alpha_t = \alpha/\sqrt{t}` of Reddi, Kale & Kumar (2018) with
    :math:`t = k + 1` the 1-based step number (so the first update uses :math:`\eta`).
    """

    name = "inverse_sqrt"
    params = ()
    kernels = {"value": inverse_sqrt_value}


# -- polynomial ---------------------------------------------------------------------------


POLYNOMIAL_PARAMS = (
    Param("total_steps", 100.0, "updates T of the decay", low=0.0, low_open=True),
    Param("power", 1.0, "exponent p", low=0.0),
    Param("end_lr", 0.0, "final rate (absolute; torch: 0)", low=0.0),
    Param("transition_begin", 0, "updates b before the decay starts (optax)", kind="int", low=0,
          step_count=True),
    Param("cycle", False, "Keras cycle: restart with a longer period", kind="bool"),
)
POLYNOMIAL_SP = param_layout(POLYNOMIAL_PARAMS)


@njit(cache=True)
def polynomial_value(k, base_lr, sp, ss, loss):
    T = sp[POLYNOMIAL_SP.total_steps]
    power = sp[POLYNOMIAL_SP.power]
    end = sp[POLYNOMIAL_SP.end_lr]
    begin = sp[POLYNOMIAL_SP.transition_begin]
    cycle = sp[POLYNOMIAL_SP.cycle] != 0.0
    c = k - begin
    if c < 0.0:
        c = 0.0
    if cycle:
        mult = 1.0 if c == 0.0 else math.ceil(c / T)
        T = T * mult
    elif c > T:
        c = T
    return (base_lr - end) * (1.0 - c / T) ** power + end


class Polynomial(Schedule):
    r"""Polynomial decay from :math:`\eta` to ``end_lr`` over ``total_steps`` updates.

    .. math:: \eta_k = (\eta - \eta_{\text{end}}) \left(1 - \frac{c}{T}\right)^{p} + \eta_{\text{end}},
              \qquad c = \min(\max(k - b, 0), T)

    with :math:`T` = ``total_steps``, :math:`p` = ``power``, :math:`b` =
    ``transition_begin`` and :math:`k` the number of updates already applied.  The
    defaults (end 0, :math:`b = 0`) are ``torch.optim.lr_scheduler.PolynomialLR(
    total_iters=T, power=p)``; the general form is ``optax.polynomial_schedule(init,
    end, p, T, b)`` and, with :math:`b = 0`, ``keras.optimizers.schedules.PolynomialDecay(
    init, T, end, p)``.  ``cycle=True`` is Keras' ``cycle``: :math:`c` is not clamped and
    :math:`T` is replaced by :math:`T \lceil c/T \rceil` (by :math:`T` at :math:`c = 0`).
    """

    name = "polynomial"
    params = POLYNOMIAL_PARAMS
    kernels = {"value": polynomial_value}


# -- cosine annealing ---------------------------------------------------------------------


COSINE_PARAMS = (
    Param("T_max", 100.0, "updates of the half cosine", low=0.0, low_open=True),
    Param("eta_min", 0.0, "final rate (absolute)", low=0.0),
    Param("convention", "torch", "torch (periodic past T_max) or clamped (optax, Keras)",
          kind="choice", choices=("torch", "clamped")),
    Param("exponent", 1.0, "power of the cosine factor (optax)", low=0.0, low_open=True),
)
COSINE_SP = param_layout(COSINE_PARAMS)


@njit(cache=True)
def cosine_value(k, base_lr, sp, ss, loss):
    T = sp[COSINE_SP.T_max]
    eta_min = sp[COSINE_SP.eta_min]
    clamped = sp[COSINE_SP.convention] != 0.0
    exponent = sp[COSINE_SP.exponent]
    c = float(k)
    if clamped and c > T:
        c = T
    return eta_min + (base_lr - eta_min) * (0.5 * (1.0 + math.cos(math.pi * c / T))) ** exponent


class CosineAnnealing(Schedule):
    r"""Cosine annealing from :math:`\eta` to ``eta_min`` over ``T_max`` updates.

    .. math:: \eta_k = \eta_{\min} + (\eta - \eta_{\min})
              \left(\tfrac12\left(1 + \cos\frac{\pi c}{T_{\max}}\right)\right)^{e}

    with :math:`k` the number of updates already applied.  ``convention="torch"``
    (default): :math:`c = k` and :math:`e = 1`, the closed form of
    ``torch.optim.lr_scheduler.CosineAnnealingLR``, which does not stop at
    :math:`T_{\max}` but rises again with period :math:`2T_{\max}`.
    ``convention="clamped"``: :math:`c = \min(k, T_{\max})`, as
    ``optax.cosine_decay_schedule(init, T_max, alpha=eta_min/init, exponent=e)`` and
    ``keras.optimizers.schedules.CosineDecay(init, T_max, alpha=eta_min/init)``: the rate
    stays at ``eta_min`` after :math:`T_{\max}`.  ``eta_min`` is absolute (torch);
    ``exponent`` is optax's.
    """

    name = "cosine"
    params = COSINE_PARAMS
    kernels = {"value": cosine_value}


# -- warm restarts ------------------------------------------------------------------------


WARM_RESTARTS_PARAMS = (
    Param("T_0", 50.0, "updates of the first cycle", low=0.0, low_open=True),
    Param("T_mult", 1.0, "growth factor of the cycle length", low=1.0),
    Param("eta_min", 0.0, "lowest rate (absolute)", low=0.0),
    Param("m_mul", 1.0, "height factor per restart (Keras)", low=0.0),
    Param("inclusive", False, "cycles of T_i + 1 updates ending at eta_min", kind="bool"),
)
WARM_RESTARTS_SP = param_layout(WARM_RESTARTS_PARAMS)


@njit(cache=True)
def warm_restarts_value(k, base_lr, sp, ss, loss):
    T0 = sp[WARM_RESTARTS_SP.T_0]
    Tmult = sp[WARM_RESTARTS_SP.T_mult]
    eta_min = sp[WARM_RESTARTS_SP.eta_min]
    m_mul = sp[WARM_RESTARTS_SP.m_mul]
    extra = 1.0 if sp[WARM_RESTARTS_SP.inclusive] != 0.0 else 0.0  # inclusive: a cycle has T_i + 1 updates
    Ti = T0
    cur = float(k)
    i = 0
    if Tmult == 1.0:
        i = int(cur // (T0 + extra))
        cur = cur - i * (T0 + extra)
    else:
        while cur >= Ti + extra:
            cur -= Ti + extra
            Ti = Ti * Tmult
            i += 1
    peak = 1.0 if m_mul == 1.0 else m_mul**i
    return eta_min + (base_lr - eta_min) * peak * (1.0 + math.cos(math.pi * cur / Ti)) / 2.0


class WarmRestarts(Schedule):
    r"""Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017).

    .. math:: \eta_k = \eta_{\min} + (\eta - \eta_{\min})\, m^{i}\,
              \frac{1 + \cos(\pi T_{\text{cur}} / T_i)}{2}

    where cycle :math:`i` (from 0) lasts :math:`T_i = T_0 T_{\text{mult}}^i` updates and
    :math:`T_{\text{cur}}` counts the updates since its start; :math:`k` is the number of
    updates already applied.  With ``m_mul`` :math:`m = 1` this is
    ``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)``
    stepped once per update: the rate restarts at exactly :math:`\eta` at
    :math:`k = T_0, T_0(1 + T_{\text{mult}}), \dots` (``T_mult`` may be any number
    :math:`\ge 1` here; torch requires an integer).  ``m_mul`` is Keras'
    ``CosineDecayRestarts(init, T_0, t_mul=T_mult, m_mul, alpha=eta_min/init)``, which
    multiplies the height of cycle :math:`i` by :math:`m^i`.

    ``inclusive=True`` gives every cycle :math:`T_i + 1` updates, so that it ends exactly
    at :math:`\eta_{\min}` (:math:`T_{\text{cur}} = T_i`) before restarting: the
    :math:`\cos(\pi (t \bmod (T+1))/T)` form used in lecture notes on SGDR.
    """

    name = "warm_restarts"
    params = WARM_RESTARTS_PARAMS
    kernels = {"value": warm_restarts_value}
