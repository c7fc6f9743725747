"""A linear warm-up then a cosine decay, in optax's and Keras' conventions, and SGDR as a
sequence of such cycles (optax ``sgdr_schedule``).

``k`` is the number of updates already applied (0 for the first update): optax's ``count``
and Keras' ``optimizer.iterations``.  The peak is the base value (the optimizer's ``lr``, or
the value of any scheduled hyperparameter); the start and end values are absolute, as
optax's ``init_value`` and ``end_value``.
"""

import math

import numpy as np
from numba import njit

from .._components import Param, ParameterError, layout, param_layout
from .._roles import Schedule

__all__ = ["WarmupCosine", "SGDR"]


@njit(cache=True)
def optax_warmup_cosine(c, init, peak, warmup, decay, end, exponent):
    """``optax.warmup_cosine_decay_schedule(init, peak, warmup, decay, end, exponent)(c)``:
    ``linear_schedule`` for ``c < warmup``, then ``cosine_decay_schedule`` over
    ``decay - warmup`` updates."""
    if c < warmup:
        return (init - peak) * (1.0 - c / warmup) + peak
    alpha = 0.0 if peak == 0.0 else end / peak
    length = decay - warmup
    t = min(c - warmup, length)
    return peak * ((1.0 - alpha) * (0.5 * (1.0 + math.cos(math.pi * t / length))) ** exponent + alpha)


# -- warm-up then cosine ------------------------------------------------------------------


WARMUP_COSINE_PARAMS = (
    Param("warmup_steps", 100, "updates W of the linear warm-up", kind="int", low=0),
    Param("decay_steps", 1000, "optax: updates of the whole schedule (W included); keras: of the cosine",
          kind="int", low=1),
    Param("init_value", 0.0, "value the warm-up starts from at k = 0 (absolute)", low=0.0),
    Param("end_value", 0.0, "value the cosine ends at (absolute; optax end_value)", low=0.0),
    Param("alpha", None, "end as a fraction of the peak (Keras alpha; replaces end_value)", low=0.0,
          none_ok=True),
    Param("exponent", 1.0, "power of the cosine factor (optax)", low=0.0, low_open=True),
    Param("convention", "optax", "optax (decay_steps includes the warm-up) or keras (follows it)",
          kind="choice", choices=("optax", "keras")),
)
WARMUP_COSINE_SP = param_layout(WARMUP_COSINE_PARAMS)


@njit(cache=True)
def warmup_cosine_value(k, base_lr, sp, ss, loss):
    W = sp[WARMUP_COSINE_SP.warmup_steps]
    D = sp[WARMUP_COSINE_SP.decay_steps]
    init = sp[WARMUP_COSINE_SP.init_value]
    alpha = sp[WARMUP_COSINE_SP.alpha]
    e = sp[WARMUP_COSINE_SP.exponent]
    peak = base_lr
    if sp[WARMUP_COSINE_SP.convention] == 0.0:  # optax
        end = sp[WARMUP_COSINE_SP.end_value] if alpha != alpha else alpha * peak
        return optax_warmup_cosine(k, init, peak, W, D, end, e)
    # keras CosineDecay(init, D, alpha, warmup_target=peak, warmup_steps=W)
    if alpha != alpha:
        alpha = 0.0 if peak == 0.0 else sp[WARMUP_COSINE_SP.end_value] / peak
    c = min(float(k), D + W)
    if c < W:
        return (peak - init) * (c / W) + init
    decayed = (1.0 - alpha) * (0.5 * (1.0 + math.cos(math.pi * ((c - W) / D)))) ** e + alpha
    return peak * decayed


class WarmupCosine(Schedule):
    r"""A linear warm-up from ``init_value`` to the base value, then a cosine decay to the end
    value, clamped there.

    .. math::

        \eta_k = \begin{cases}
            \eta_0 + (\eta - \eta_0)\, k / W & k < W \\
            \eta \left((1 - a) \left(\tfrac12\left(1 + \cos\frac{\pi \min(k - W, C)}{C}\right)\right)^{e}
            + a\right) & k \ge W
        \end{cases}

    with :math:`\eta` the base value (the peak), :math:`\eta_0` = ``init_value``, :math:`W` =
    ``warmup_steps``, :math:`e` = ``exponent``, :math:`a` = ``alpha``, or
    :math:`\eta_{\text{end}}/\eta` with :math:`\eta_{\text{end}}` = ``end_value`` (0 for
    :math:`\eta = 0`), and :math:`k` the number of updates already applied.  The first update
    uses exactly :math:`\eta_0` and the cosine starts at the end of the warm-up,
    :math:`\eta_W = \eta`.

    ``convention="optax"`` (default) is ``optax.warmup_cosine_decay_schedule(init_value,
    peak_value=eta, warmup_steps=W, decay_steps=D, end_value, exponent)``: :math:`D` =
    ``decay_steps`` counts the warm-up, so the cosine lasts :math:`C = D - W` updates (it
    needs :math:`D > W`).  ``convention="keras"`` is ``keras.optimizers.schedules.CosineDecay(
    initial_learning_rate=init_value, decay_steps=D, alpha, warmup_target=eta,
    warmup_steps=W)``: the cosine lasts :math:`C = D` updates after the warm-up.  Keras has
    no exponent; ``alpha`` is its fraction of the peak (``end_value`` unused when it is
    given).  The two warm-ups are the same line written :math:`(\eta_0 - \eta)(1 - k/W) +
    \eta` (optax) and :math:`(\eta - \eta_0) k/W + \eta_0` (Keras), which differ in the last
    bit.

    Reference: I. Loshchilov, F. Hutter, "SGDR: Stochastic Gradient Descent with Warm
    Restarts", ICLR 2017 (the cosine); P. Goyal et al., "Accurate, Large Minibatch SGD:
    Training ImageNet in 1 Hour", 2017 (the linear warm-up).
    """

    name = "warmup_cosine"
    params = WARMUP_COSINE_PARAMS
    kernels = {"value": warmup_cosine_value}

    def _validate(self):
        if self.alpha is not None and self.end_value != 0.0:
            raise ParameterError(f"WarmupCosine: alpha={self.alpha!r} and end_value={self.end_value!r} are both "
                                 f"set; give the end as one of them")
        if self.convention == "optax" and self.decay_steps <= self.warmup_steps:
            raise ParameterError(f"WarmupCosine: decay_steps={self.decay_steps} is not allowed; with "
                                 f"convention='optax' it counts the warm-up and must exceed warmup_steps="
                                 f"{self.warmup_steps}")


# -- SGDR: cycles of warm-up and cosine -------------------------------------------------------


MAX_CYCLES = 32
"""How many cycles an :class:`SGDR` schedule can hold."""
CYCLE_ARRAYS = ("decay_steps", "warmup_steps", "init_values", "peak_scales", "end_values", "exponents")

SGDR_PARAMS = (
    Param("decay_steps", (100.0, 200.0), "length of each cycle, warm-up included (its decay_steps)",
          kind="array", low=0.0, low_open=True, dynamic=False),
    Param("warmup_steps", (0.0,), "warm-up of each cycle (one value: every cycle)", kind="array", low=0.0,
          dynamic=False),
    Param("init_values", (0.0,), "value each cycle's warm-up starts from (absolute)", kind="array", low=0.0,
          dynamic=False),
    Param("peak_scales", (1.0,), "peak of each cycle, as a multiple of the base value", kind="array",
          low=0.0, dynamic=False),
    Param("end_values", (0.0,), "value each cycle's cosine ends at (absolute)", kind="array", low=0.0,
          dynamic=False),
    Param("exponents", (1.0,), "power of each cycle's cosine factor", kind="array", low=0.0, low_open=True,
          dynamic=False),
)
SGDR_ROW = layout(("cycles",), "SGDRRow")
"""The one scalar at the start of an :class:`SGDR` row: the number of cycles; then the six
arrays of :data:`CYCLE_ARRAYS`, :data:`MAX_CYCLES` numbers each."""
FIRST_CYCLE = len(SGDR_ROW)
CYCLE_FIELD = layout(CYCLE_ARRAYS, "SGDRCycleField")


@njit(cache=True)
def sgdr_value(k, base_lr, sp, ss, loss):
    n = int(sp[SGDR_ROW.cycles])
    start = 0.0
    i = 0
    while i < n - 1 and k >= start + sp[FIRST_CYCLE + CYCLE_FIELD.decay_steps * MAX_CYCLES + i]:
        start += sp[FIRST_CYCLE + CYCLE_FIELD.decay_steps * MAX_CYCLES + i]
        i += 1
    return optax_warmup_cosine(
        k - start,
        sp[FIRST_CYCLE + CYCLE_FIELD.init_values * MAX_CYCLES + i],
        base_lr * sp[FIRST_CYCLE + CYCLE_FIELD.peak_scales * MAX_CYCLES + i],
        sp[FIRST_CYCLE + CYCLE_FIELD.warmup_steps * MAX_CYCLES + i],
        sp[FIRST_CYCLE + CYCLE_FIELD.decay_steps * MAX_CYCLES + i],
        sp[FIRST_CYCLE + CYCLE_FIELD.end_values * MAX_CYCLES + i],
        sp[FIRST_CYCLE + CYCLE_FIELD.exponents * MAX_CYCLES + i],
    )


class SGDR(Schedule):
    r"""SGDR with a warm-up in every cycle and cycles of any lengths, as ``optax.sgdr_schedule``.

    Cycle :math:`i` (from 0) starts at :math:`B_i = \sum_{j<i} D_j` and is the optax warm-up
    cosine of :class:`WarmupCosine` on its own count :math:`c = k - B_i`:

    .. math::

        \eta_k = \begin{cases}
            \eta^0_i + (\hat\eta_i - \eta^0_i)\, c / W_i & c < W_i \\
            \hat\eta_i \left((1 - a_i) \left(\tfrac12\left(1 + \cos\frac{\pi \min(c - W_i,\, D_i - W_i)}
            {D_i - W_i}\right)\right)^{e_i} + a_i\right) & c \ge W_i
        \end{cases}

    with :math:`D_i` = ``decay_steps[i]`` (the cycle's length, its warm-up included),
    :math:`W_i` = ``warmup_steps[i]``, :math:`\eta^0_i` = ``init_values[i]``, the peak
    :math:`\hat\eta_i = \eta s_i` with :math:`s_i` = ``peak_scales[i]`` (:math:`\eta` the base
    value), :math:`a_i = \eta^{\text{end}}_i / \hat\eta_i` with :math:`\eta^{\text{end}}_i` =
    ``end_values[i]`` (:math:`a_i = 0` for a zero peak) and :math:`e_i` = ``exponents[i]``; :math:`k` is the
    number of updates already applied.  The last cycle stays at its end value after it
    ends.  This is ``optax.sgdr_schedule([dict(init_value=..., peak_value=..., warmup_steps=...,
    decay_steps=..., end_value=..., exponent=...), ...])`` (a ``join_schedules`` of
    ``warmup_cosine_decay_schedule`` at the boundaries :math:`B_1, B_2, \dots`).  An array of one
    number gives every cycle that value.  Unlike :class:`WarmRestarts` (torch's
    :math:`T_0 T_{\text{mult}}^i`), the lengths are free, and every cycle may warm up.

    Every array is static (a grid over it runs one group per value, with the same compiled
    code); they are packed into each trajectory's row, at most 32 cycles.

    Reference: I. Loshchilov, F. Hutter, "SGDR: Stochastic Gradient Descent with Warm
    Restarts", ICLR 2017.
    """

    name = "sgdr"
    params = SGDR_PARAMS
    kernels = {"value": sgdr_value}

    def _arrays(self):
        d = np.asarray(self.decay_steps, dtype=float).ravel()
        out = {}
        for name in CYCLE_ARRAYS:
            a = np.asarray(getattr(self, name), dtype=float).ravel()
            if a.size == 1:
                a = np.full(d.size, a[0])
            out[name] = a
        return out

    def _validate(self):
        d = np.asarray(self.decay_steps, dtype=float)
        if d.ndim != 1 or d.size > MAX_CYCLES:
            raise ParameterError(f"SGDR: decay_steps must be a flat sequence of at most {MAX_CYCLES} cycle "
                                 f"lengths, got shape {d.shape}")
        for name in CYCLE_ARRAYS[1:]:
            a = np.asarray(getattr(self, name), dtype=float)
            if a.ndim != 1 or a.size not in (1, d.size):
                raise ParameterError(f"SGDR: {name} has {a.size} values; give one, or one per cycle "
                                     f"({d.size})")
        arrays = self._arrays()
        for name in ("decay_steps", "warmup_steps"):
            if np.any(arrays[name] != np.floor(arrays[name])):
                raise ParameterError(f"SGDR: {name} must be whole numbers of updates, got "
                                     f"{arrays[name].tolist()}")
        bad = np.flatnonzero(arrays["decay_steps"] <= arrays["warmup_steps"])
        if bad.size:
            i = int(bad[0])
            raise ParameterError(f"SGDR: decay_steps[{i}]={arrays['decay_steps'][i]:g} is not allowed; a cycle's "
                                 f"length counts its warm-up and must exceed warmup_steps[{i}]="
                                 f"{arrays['warmup_steps'][i]:g}")

    @classmethod
    def dynamic_names(cls):
        return ("cycles",) + tuple(f"{name}_{i}" for name in CYCLE_ARRAYS for i in range(MAX_CYCLES))

    def row(self):
        arrays = self._arrays()
        n = arrays["decay_steps"].size
        out = np.zeros(FIRST_CYCLE + len(CYCLE_ARRAYS) * MAX_CYCLES)
        out[SGDR_ROW.cycles] = n
        for name in CYCLE_ARRAYS:
            at = FIRST_CYCLE + getattr(CYCLE_FIELD, name) * MAX_CYCLES
            out[at:at + n] = arrays[name]
        return out
