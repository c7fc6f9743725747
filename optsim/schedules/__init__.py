"""Learning-rate schedules: pure functions of the update count (and, for plateau
schedules, the trajectory's own loss); see :mod:`optsim._roles`."""

from .._roles import Schedule
from .basic import Constant, LinearWarmup, StepDecay

__all__ = ["Schedule", "Constant", "StepDecay", "LinearWarmup"]
