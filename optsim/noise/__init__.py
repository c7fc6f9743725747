"""Gradient-noise models: how the exact gradient becomes the observed one."""

from .._roles import Noise
from .curvature import CurvatureScaled
from .gaussian import Gaussian
from .heavy_tailed import AlphaStable, StudentT
from .minibatch import Minibatch
from .multiplicative import Multiplicative
from .spikes import Spikes

__all__ = [
    "Noise",
    "Gaussian",
    "Multiplicative",
    "StudentT",
    "AlphaStable",
    "Spikes",
    "CurvatureScaled",
    "Minibatch",
]
