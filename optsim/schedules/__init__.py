"""Learning-rate schedules: pure functions of the update count (and, for plateau
schedules, the trajectory's own loss); see :mod:`optsim._roles`."""

from .._roles import Schedule
from .ademamix import Beta3Warmup
from .basic import Constant, LinearWarmup, StepDecay
from .cyclic import Cyclic, OneCycle
from .decay import (
    CosineAnnealing,
    Exponential,
    InverseSqrtDecay,
    InverseTime,
    MultiStep,
    Polynomial,
    WarmRestarts,
)
from .join import Join
from .piecewise import LinearLR, PiecewiseConstant, PiecewiseInterpolate
from .plateau import ReduceOnPlateau
from .warmup import TransformerWarmup, UntunedExponentialWarmup, UntunedLinearWarmup
from .warmup_cosine import SGDR, WarmupCosine
from .wsd import WSD

__all__ = [
    "Schedule",
    "Constant",
    "StepDecay",
    "LinearWarmup",
    "MultiStep",
    "Exponential",
    "InverseTime",
    "InverseSqrtDecay",
    "Polynomial",
    "CosineAnnealing",
    "WarmRestarts",
    "ReduceOnPlateau",
    "Cyclic",
    "OneCycle",
    "TransformerWarmup",
    "UntunedLinearWarmup",
    "UntunedExponentialWarmup",
    "Beta3Warmup",
    "WSD",
    "WarmupCosine",
    "SGDR",
    "LinearLR",
    "PiecewiseInterpolate",
    "PiecewiseConstant",
    "Join",
]
