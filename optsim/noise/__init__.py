"""Gradient-noise models: how the exact gradient becomes the observed one."""

from .._roles import Noise
from .gaussian import Gaussian

__all__ = ["Noise", "Gaussian"]
