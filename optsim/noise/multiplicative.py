"""Multiplicative Gaussian gradient noise."""

from numba import njit

from .._components import Param, param_layout
from .._rng import normal_at
from .._roles import Noise

__all__ = ["Multiplicative"]


MULTIPLICATIVE_PARAMS = (Param("sigma", 0.1, "relative standard deviation of each coordinate", low=0.0),)
MULTIPLICATIVE_NP = param_layout(MULTIPLICATIVE_PARAMS)


@njit(cache=True)
def multiplicative_apply(g, x, t, npar, ndata, rng):
    sigma = npar[MULTIPLICATIVE_NP.sigma]
    s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]
    for i in range(g.shape[0]):
        z, s0, s1, s2, s3 = normal_at(rng, s0, s1, s2, s3)
        g[i] = g[i] * (1.0 + sigma * z)
    rng[0] = s0
    rng[1] = s1
    rng[2] = s2
    rng[3] = s3


class Multiplicative(Noise):
    r"""Multiplicative noise, :math:`\tilde g_i = g_i\,(1 + \sigma\,\xi_i)`, :math:`\xi_i \sim N(0, 1)` i.i.d.

    The observed gradient is unbiased and its standard deviation is proportional to the
    gradient itself, :math:`\mathrm{sd}(\tilde g_i) = \sigma |g_i|`, so the noise vanishes at
    a stationary point (the "interpolation" regime of over-parameterised models, where
    every per-example gradient vanishes at the optimum).  Multiplicative noise of this
    kind is the setting of Hodgkinson & Mahoney, "Multiplicative noise and heavy tails in
    stochastic optimization" (ICML 2021), where it is shown to produce heavy-tailed
    iterates even with Gaussian :math:`\xi`.

    One normal draw per coordinate per step, coordinates in order.
    """

    name = "multiplicative"
    params = MULTIPLICATIVE_PARAMS
    kernels = {"apply": multiplicative_apply}
