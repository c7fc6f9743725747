"""Objectives with their gradients (and datasets, optima, projections where they have them)."""

from .._roles import Problem
from .classic import Beale, Himmelblau, Rosenbrock, Saddle
from .double_well import DoubleWell
from .matrix import MatrixRegression
from .mlp import MLP
from .nqm import NoisyQuadraticModel
from .quadratic import Quadratic, valley
from .reddi import ReddiOnline, ReddiStochastic
from .replay import Replay
from .regression import LinearRegression, LogisticRegression
from .sigmoid import SigmoidNeuron
from .wilson import Wilson

__all__ = [
    "Problem",
    "Quadratic",
    "valley",
    "Rosenbrock",
    "Beale",
    "Saddle",
    "Himmelblau",
    "NoisyQuadraticModel",
    "SigmoidNeuron",
    "LinearRegression",
    "LogisticRegression",
    "Wilson",
    "ReddiOnline",
    "ReddiStochastic",
    "DoubleWell",
    "Replay",
    "MatrixRegression",
    "MLP",
]
