"""Objectives with their gradients (and datasets, optima, projections where they have them)."""

from .._roles import Problem
from .quadratic import Quadratic

__all__ = ["Problem", "Quadratic"]
