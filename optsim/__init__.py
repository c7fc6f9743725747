"""optsim: study optimizers by simulating thousands of trajectories at once.

>>> import numpy as np, optsim
>>> ds = optsim.sweep(
...     problem=optsim.problems.Quadratic(curvatures=[1.0, 100.0], x0=[1.0, 1.0]),
...     noise=optsim.noise.Gaussian(sigma=1.0),
...     optimizer=optsim.optimizers.Adam(),
...     grid={"lr": np.logspace(-4, 0, 8)},
...     replicates=16, steps=200, record_every=50, seed=0,
... )
>>> ds["loss"].dims
('lr', 'replicate', 'step')
"""

from . import _vector_width

_vector_width.apply()  # before anything imports numba

from . import expected, noise, optimizers, problems, registry, rng, schedules, sde, theory, tuning
from ._components import OptsimError, Param, ParameterError, layout, param_layout
from ._version import __version__
from .engine.plan import RECORDABLE
from .explore import explore
from .io import load, save
from .replay import replay
from .sweep import MemoryLimitError, Method, sweep

__all__ = [
    "__version__",
    "sweep",
    "replay",
    "Method",
    "save",
    "load",
    "explore",
    "RECORDABLE",
    "optimizers",
    "schedules",
    "problems",
    "noise",
    "registry",
    "rng",
    "theory",
    "tuning",
    "expected",
    "sde",
    "Param",
    "layout",
    "param_layout",
    "OptsimError",
    "ParameterError",
    "MemoryLimitError",
]
