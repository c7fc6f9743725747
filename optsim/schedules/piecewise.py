"""Piecewise schedules: PyTorch's ``LinearLR``, optax's ``piecewise_interpolate_schedule``
(linear and cosine) and ``piecewise_constant_schedule``.

``k`` is the number of updates already applied (0 for the first update): the
``opt.step(); sched.step()`` count of ``torch.optim.lr_scheduler``, optax's ``count`` and
Keras' ``iterations``.
"""

import math

import numpy as np
from numba import njit

from .._components import Param, ParameterError, param_layout
from .._roles import Schedule

__all__ = ["LinearLR", "PiecewiseInterpolate", "PiecewiseConstant"]

MAX_PIECES = 64
"""How many boundaries a piecewise schedule can hold."""


# -- torch LinearLR ---------------------------------------------------------------------------


LINEAR_PARAMS = (
    Param("start_factor", 1.0 / 3.0, "factor of the first update", low=0.0, high=1.0, low_open=True),
    Param("end_factor", 1.0, "factor from update total_iters on", low=0.0, high=1.0),
    Param("total_iters", 5, "updates N of the ramp", kind="int", low=1),
)
LINEAR_SP = param_layout(LINEAR_PARAMS)


@njit(cache=True)
def linear_lr_value(k, base_lr, sp, ss, loss):
    s = sp[LINEAR_SP.start_factor]
    e = sp[LINEAR_SP.end_factor]
    n = sp[LINEAR_SP.total_iters]
    return base_lr * (s + (e - s) * min(n, float(k)) / n)


class LinearLR(Schedule):
    r"""A linear ramp of the factor from ``start_factor`` to ``end_factor``, as
    ``torch.optim.lr_scheduler.LinearLR(start_factor, end_factor, total_iters)``.

    .. math:: \eta_k = \eta \left(s + (e - s) \frac{\min(k, N)}{N}\right)

    with :math:`s` = ``start_factor``, :math:`e` = ``end_factor``, :math:`N` = ``total_iters``
    and :math:`k` the number of updates already applied (torch's closed form, counted as
    :math:`k/N`: the first update uses :math:`\eta s`, update :math:`N` on :math:`\eta e`).
    torch steps it by its chainable form, a product of ratios, which agrees to rounding.  The
    defaults are torch's.  As a warm-up (:math:`e = 1`) this differs from
    :class:`LinearWarmup`, which counts :math:`(k+1)/W`.  optax's ``linear_schedule`` is
    :class:`Polynomial` with ``power=1`` (absolute end value).
    """

    name = "linear_lr"
    params = LINEAR_PARAMS
    kernels = {"value": linear_lr_value}


# -- optax piecewise schedules ----------------------------------------------------------------


def _boundaries_and_scales(owner, boundaries, scales):
    b = np.asarray(boundaries, dtype=float)
    s = np.asarray(scales, dtype=float)
    if b.ndim != 1 or b.size > MAX_PIECES:
        raise ParameterError(f"{owner}: boundaries must be a flat sequence of at most {MAX_PIECES} numbers, "
                             f"got shape {b.shape}")
    if s.shape != b.shape:
        raise ParameterError(f"{owner}: scales has {s.size} values and boundaries {b.size}; give one scale "
                             f"per boundary")
    if np.any(b != np.floor(b)):
        raise ParameterError(f"{owner}: boundaries must be whole numbers of updates, got {b.tolist()}")
    if np.unique(b).size != b.size:
        raise ParameterError(f"{owner}: boundaries={b.tolist()} has a boundary twice (optax takes a dict "
                             f"{{boundary: scale}})")
    order = np.argsort(b, kind="stable")
    return b[order], s[order]


class _Piecewise(Schedule):
    """The row of a piecewise schedule: its dynamic parameters, the number of boundaries,
    then the sorted boundaries and their scales (:data:`MAX_PIECES` numbers each)."""

    def _validate(self):
        _boundaries_and_scales(type(self).__name__, self.boundaries, self.scales)

    @classmethod
    def dynamic_names(cls):
        own = tuple(p.name for p in cls.params if p.dynamic)
        return own + ("pieces",) + tuple(f"boundary_{i}" for i in range(MAX_PIECES)) + tuple(
            f"scale_{i}" for i in range(MAX_PIECES))

    def row(self):
        table = self.param_table()
        own = [table[p.name].pack(self._values[p.name]) for p in self.params if p.dynamic]
        b, s = _boundaries_and_scales(type(self).__name__, self.boundaries, self.scales)
        first = len(own) + 1
        out = np.zeros(first + 2 * MAX_PIECES)
        out[:len(own)] = own
        out[len(own)] = b.size
        out[first:first + b.size] = b
        out[first + MAX_PIECES:first + MAX_PIECES + b.size] = s
        return out


PIECEWISE_ARRAYS = (
    Param("boundaries", (100.0, 200.0), "updates k at which a new scale applies", kind="array", low=0.0,
          dynamic=False),
    Param("scales", (0.5, 0.5), "factor of each boundary (applied cumulatively)", kind="array", low=0.0,
          dynamic=False),
)
INTERPOLATE_PARAMS = (Param("interpolation", "linear", "linear or cosine between the values",
                            kind="choice", choices=("linear", "cosine")),) + PIECEWISE_ARRAYS
INTERPOLATE_SP = param_layout(INTERPOLATE_PARAMS)
INTERPOLATE_N = len(INTERPOLATE_SP)  # the number of boundaries, then the boundaries, then the scales
INTERPOLATE_B = INTERPOLATE_N + 1
INTERPOLATE_S = INTERPOLATE_B + MAX_PIECES


@njit(cache=True)
def piecewise_interpolate_value(k, base_lr, sp, ss, loss):
    n = int(sp[INTERPOLATE_N])
    cosine = sp[INTERPOLATE_SP.interpolation] != 0.0
    lo = 0.0  # optax's bounds start at 0
    start = base_lr  # the cumulative product of the scales, values[i]
    for i in range(n):
        hi = sp[INTERPOLATE_B + i]
        end = start * sp[INTERPOLATE_S + i]
        if lo <= k < hi:
            pct = (k - lo) / max(hi - lo, 1.0)
            if cosine:
                return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1.0)
            return (end - start) * pct + start
        lo = hi
        start = end
    return start


class PiecewiseInterpolate(_Piecewise):
    r"""Interpolation between cumulative scales at boundaries, as
    ``optax.piecewise_interpolate_schedule(interpolation, init_value=eta, {b_i: s_i})``.

    .. math::

        v_0 = \eta, \quad v_i = v_{i-1} s_i, \qquad
        \eta_k = \begin{cases}
            v_{i-1} + (v_i - v_{i-1})\, p & \text{linear} \\
            v_i + \tfrac12 (v_{i-1} - v_i)(1 + \cos \pi p) & \text{cosine}
        \end{cases}
        \quad \text{for } b_{i-1} \le k < b_i, \quad p = \frac{k - b_{i-1}}{\max(b_i - b_{i-1}, 1)}

    with :math:`b_0 = 0`, the boundaries :math:`b_i` sorted, the scales :math:`s_i` =
    ``scales`` (each the ratio of the value at its boundary to the one before: optax
    multiplies them up, it does not interpolate between the scales themselves),
    :math:`\eta_k = v_n` from the last boundary on, and :math:`k` the number of updates
    already applied.  :math:`\eta` is the base value.  ``boundaries`` and ``scales`` are
    static (packed into the row, at most 64).
    """

    name = "piecewise_interpolate"
    params = INTERPOLATE_PARAMS
    kernels = {"value": piecewise_interpolate_value}


CONSTANT_PARAMS = (Param("convention", "optax", "optax (scale from k == b) or keras (from k == b + 1)",
                         kind="choice", choices=("optax", "keras")),) + PIECEWISE_ARRAYS
CONSTANT_SP = param_layout(CONSTANT_PARAMS)
CONSTANT_N = len(CONSTANT_SP)
CONSTANT_B = CONSTANT_N + 1
CONSTANT_S = CONSTANT_B + MAX_PIECES


@njit(cache=True)
def piecewise_constant_value(k, base_lr, sp, ss, loss):
    n = int(sp[CONSTANT_N])
    keras = sp[CONSTANT_SP.convention] != 0.0
    v = base_lr
    for i in range(n):
        b = sp[CONSTANT_B + i]
        if k > b or (k == b and not keras):
            v = sp[CONSTANT_S + i] * v
        else:
            break
    return v


class PiecewiseConstant(_Piecewise):
    r"""Piecewise-constant scales at boundaries, as ``optax.piecewise_constant_schedule(
    init_value=eta, boundaries_and_scales={b_i: s_i})``.

    .. math:: \eta_k = \eta \prod_{i : b_i \le k} s_i

    with :math:`k` the number of updates already applied and :math:`\eta` the base value:
    update :math:`b_i` is the first to use scale :math:`s_i` (as :class:`MultiStep`, with a
    scale per boundary).  ``convention="keras"`` switches one update later,
    :math:`\prod_{i : b_i < k} s_i`, as ``keras.optimizers.schedules.PiecewiseConstantDecay(
    boundaries, values)`` with :math:`\text{values}_i = \eta \prod_{j \le i} s_j`.
    ``boundaries`` and ``scales`` are static (packed into the row, at most 64).
    """

    name = "piecewise_constant"
    params = CONSTANT_PARAMS
    kernels = {"value": piecewise_constant_value}
