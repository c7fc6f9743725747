"""Constant, step decay and linear warm-up schedules."""


from numba import njit

from .._components import Param, param_layout
from .._roles import Schedule

__all__ = ["Constant", "StepDecay", "LinearWarmup"]


@njit(cache=True)
def constant_value(k, base_lr, sp, ss, loss):
    return base_lr


STEP_PARAMS = (
    Param("step_size", 100, "updates between decays", kind="int", low=1, step_count=True),
    Param("gamma", 0.1, "decay factor", low=0.0, low_open=True),
)
STEP_SP = param_layout(STEP_PARAMS)

LINEAR_WARMUP_PARAMS = (
    Param("warmup_steps", 100, "length W of the warm-up", kind="float", low=0.0, low_open=True),
    Param("start_factor", 0.0, "factor s the warm-up starts from", low=0.0, high=1.0),
)
LINEAR_WARMUP_SP = param_layout(LINEAR_WARMUP_PARAMS)


@njit(cache=True)
def step_value(k, base_lr, sp, ss, loss):
    return base_lr * sp[STEP_SP.gamma] ** (k // int(sp[STEP_SP.step_size]))


@njit(cache=True)
def linear_warmup_value(k, base_lr, sp, ss, loss, inner):
    warmup = sp[LINEAR_WARMUP_SP.warmup_steps]
    start = sp[LINEAR_WARMUP_SP.start_factor]
    return inner * (start + (1.0 - start) * min(1.0, (k + 1.0) / warmup))


class Constant(Schedule):
    r"""A constant learning rate, :math:`\eta_k = \eta`."""

    name = "constant"
    params = ()
    kernels = {"value": constant_value}


class StepDecay(Schedule):
    r"""Multiply the learning rate by ``gamma`` every ``step_size`` updates.

    .. math:: \eta_k = \eta\, \gamma^{\lfloor k / s \rfloor}

    with :math:`k` the number of updates already applied (0 for the first update),
    as ``torch.optim.lr_scheduler.StepLR`` stepped once per update.
    """

    name = "step"
    params = STEP_PARAMS
    kernels = {"value": step_value}


class LinearWarmup(Schedule):
    r"""Linear warm-up over ``warmup_steps`` updates, multiplying another schedule.

    .. math:: \eta_k = \eta^{\text{after}}_k \left(s + (1-s)\min\!\left(1, \frac{k+1}{W}\right)\right)

    with :math:`W` = ``warmup_steps``, :math:`s` = ``start_factor`` and :math:`k` the
    number of updates already applied, so the first update uses :math:`s + (1-s)/W`
    (the ``(k+1)/W`` convention of the Transformer and of Ma & Yarats' untuned
    warm-up) and update :math:`W-1` onwards the full rate.  ``after`` is the schedule
    being warmed up (default :class:`Constant`).
    """

    name = "linear_warmup"
    params = LINEAR_WARMUP_PARAMS
    children_roles = {"after": "schedule"}
    kernels = {"value": linear_warmup_value}
    wraps = True

    def default_child(self, key):
        return Constant()

    def children(self):
        return (self._children["after"],)
