"""Additive Gaussian gradient noise."""

import numpy as np
from numba import njit

from .._components import Param, ParameterError, param_layout
from .._rng import normal_at
from .._roles import Noise

__all__ = ["Gaussian"]


GAUSSIAN_PARAMS = (
    Param("sigma", 1.0, "standard deviation", low=0.0),
    Param("scale", None, "per-coordinate factor", kind="array", low=0.0, dynamic=False, none_ok=True,
          ndim=(0, 1)),
)
GAUSSIAN_NP = param_layout(GAUSSIAN_PARAMS)


@njit(cache=True)
def gaussian_apply(g, x, t, npar, ndata, rng):
    sigma = npar[GAUSSIAN_NP.sigma]
    scale = ndata[0]
    s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]
    if scale.shape[0] == 0:
        for i in range(g.shape[0]):
            z, s0, s1, s2, s3 = normal_at(rng, s0, s1, s2, s3)
            g[i] += sigma * z
    else:
        for i in range(g.shape[0]):
            z, s0, s1, s2, s3 = normal_at(rng, s0, s1, s2, s3)
            g[i] += sigma * scale[i] * z
    rng[0] = s0
    rng[1] = s1
    rng[2] = s2
    rng[3] = s3


class Gaussian(Noise):
    r"""Additive Gaussian noise, :math:`\tilde g = g + \sigma\, s \odot \xi`, :math:`\xi \sim N(0, I)`.

    ``sigma`` is the overall standard deviation; ``scale`` (optional) a per-coordinate
    factor :math:`s` (default 1 everywhere).
    """

    name = "gaussian"
    params = GAUSSIAN_PARAMS
    kernels = {"apply": gaussian_apply}

    def prepare(self, problem):
        if self.scale is None:
            return (np.zeros(0),)
        s = np.asarray(self.scale, dtype=float).ravel()
        if s.shape[0] != problem.dimension():
            raise ParameterError(f"Gaussian: scale has {s.shape[0]} entries but the problem has {problem.dimension()} coordinates")
        return (s,)
