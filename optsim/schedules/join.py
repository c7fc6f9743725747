"""Schedules one after the other: PyTorch's ``SequentialLR`` and optax's ``join_schedules``.

``k`` is the number of updates already applied (0 for the first update).  Each piece
counts its own updates from the boundary where it starts, as both libraries do; the engine
gives each piece (and everything under it) that count through the join's ``clock``
function (:mod:`optsim._roles`).
"""

import re

import numpy as np
from numba import njit

from .._components import Param, ParameterError
from .._roles import Schedule
from .basic import Constant

__all__ = ["Join"]

MAX_JOINED = 8
"""How many schedules a :class:`Join` can hold (children ``s0`` .. ``s7``)."""
PIECE_KEYS = tuple(f"s{i}" for i in range(MAX_JOINED))

JOIN_PARAMS = (
    Param("boundaries", (100.0,), "updates k at which the next schedule starts (one fewer than the schedules)",
          kind="array", low=0.0, dynamic=False),
)


@njit(cache=True)
def join_value(k, base_lr, sp, ss, loss, inner):
    return inner  # the running piece's rate (the engine hands it over)


@njit(cache=True)
def join_clock(k, sp, j):
    start = 0.0 if j == 0 else sp[j - 1]  # the row: the boundaries, padded with +inf
    end = sp[j] if j < sp.shape[0] else np.inf
    if k < start or k >= end:
        return -1
    return k - int(start)


class Join(Schedule):
    r"""Several schedules one after the other, each counting its updates from its own start.

    .. math:: \eta_k = \eta^{(i)}_{k - b_i} \quad \text{for } b_i \le k < b_{i+1},
              \qquad b_0 = 0,\ b_{n} = \infty

    with :math:`\eta^{(i)}` the schedule ``s<i>`` (``s0``, ``s1``, ... or the list
    ``schedules=[...]``), :math:`b_1 \le b_2 \le \dots` = ``boundaries`` (one fewer than the
    schedules; without any, two :class:`Constant` pieces) and :math:`k` the number of updates
    already applied: update :math:`b_i` is
    the first of schedule :math:`i`, at its own count 0, from the same base value (the
    optimizer's ``lr``, or the value of the scheduled hyperparameter).  This is
    ``optax.join_schedules(schedules, boundaries)`` and
    ``torch.optim.lr_scheduler.SequentialLR(optimizer, schedulers, milestones=boundaries)``
    stepped once per update: at a milestone torch restarts the next scheduler at its
    closed form for count 0 (``_update_lr(0)``), so both libraries give the piece the count
    :math:`k - b_i`.  Only the running piece is evaluated (as torch steps only it): a
    plateau schedule inside a join sees the losses of its own stretch only.  Boundaries
    listed twice skip the piece between them, in both libraries.

    Where the libraries differ (torch 2.13, optax 0.2.8): torch restarts a scheduler at a
    milestone through its closed form, so one that has none (``MultiplicativeLR``) goes on
    from the rate the previous piece left instead of from the base value, and it cannot nest
    a ``SequentialLR`` in another (``NotImplementedError``); optax evaluates every piece at
    every count (the same numbers for stateless pieces) and nests joins freely, as this
    class does.  For every closed-form piece the two agree to rounding, with no shift at the
    milestones.

    Any schedule can be a piece, a warm-up wrapping a decay or another join among them, and
    its parameters are gridded as ``schedule.s1.T_max``.  ``boundaries`` is static (a grid
    over it runs one group per value, with the same compiled code), at most 8 pieces.
    """

    name = "join"
    params = JOIN_PARAMS
    children_roles = {key: "schedule" for key in PIECE_KEYS}
    kernels = {"value": join_value, "clock": join_clock}
    wraps = True

    def __init__(self, **kwargs):
        pieces = kwargs.pop("schedules", None)
        if pieces is not None:
            given = [key for key in kwargs if key in PIECE_KEYS]
            if given:
                raise ParameterError(f"Join: give schedules=[...] or {', '.join(given)}, not both")
            if isinstance(pieces, Schedule) or not hasattr(pieces, "__len__"):
                raise ParameterError(f"Join: schedules={pieces!r} must be a list of schedules")
            if len(pieces) > MAX_JOINED:
                raise ParameterError(f"Join: schedules has {len(pieces)} schedules; at most {MAX_JOINED}")
            kwargs.update({f"s{i}": s for i, s in enumerate(pieces)})
        keys = sorted((k for k in kwargs if re.fullmatch(r"s\d+", k)), key=lambda k: int(k[1:]))
        if not keys:  # Join(): two constant pieces, the base value throughout
            kwargs.update(s0=Constant(), s1=Constant())
            keys = ["s0", "s1"]
        if keys != list(PIECE_KEYS[:len(keys)]) or len(keys) < 2:
            raise ParameterError(f"Join: the schedules must be s0, s1, ... (at least two, at most {MAX_JOINED}) "
                                 f"or schedules=[...]; got {', '.join(keys) or 'none'}")
        object.__setattr__(self, "children_roles", {k: "schedule" for k in keys})
        super().__init__(**kwargs)

    def _validate(self):
        b = self.boundaries
        n = len(self.children_roles)
        if b.ndim != 1 or b.size != n - 1:
            raise ParameterError(f"Join: boundaries={b.tolist()} is not allowed; {n} schedules need {n - 1} "
                                 f"boundaries")
        if np.any(b != np.floor(b)) or np.any(np.diff(b) < 0):
            raise ParameterError(f"Join: boundaries={b.tolist()} must be whole numbers of updates in "
                                 f"increasing order")

    def children(self):
        return tuple(self._children.values())

    @classmethod
    def dynamic_names(cls):
        return tuple(f"boundary_{i}" for i in range(MAX_JOINED - 1))

    def row(self):
        out = np.full(MAX_JOINED - 1, np.inf)
        out[:self.boundaries.size] = self.boundaries
        return out
