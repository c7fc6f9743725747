"""Reddi, Kale & Kumar (2018): the linear online and stochastic problems on which Adam fails."""

import numpy as np
from numba import njit

from .._components import Param, ParameterError, param_layout
from .._rng import uniform
from .._roles import Problem

__all__ = ["ReddiOnline", "ReddiStochastic"]


REDDI_ONLINE_PARAMS = (
    Param("radius", 1.0, "feasible set [-radius, radius]", low=0.0, low_open=True),
    Param("large", 1010.0, "C: the gradient on the rare steps"),
    Param("small", -10.0, "s: the gradient on the other steps"),
    Param("period", 101, "P: the rare step recurs every P steps", kind="int", low=1, step_count=True),
    Param("x0", 0.0, "starting point", dynamic=False),
)
REDDI_ONLINE_PP = param_layout(REDDI_ONLINE_PARAMS)


REDDI_STOCHASTIC_PARAMS = (
    Param("radius", 1.0, "feasible set [-radius, radius]", low=0.0, low_open=True),
    Param("large", 1010.0, "C: the rare gradient"),
    Param("small", -10.0, "s: the common gradient"),
    Param("prob", 0.01, "q: probability of the rare gradient", low=0.0, high=1.0),
    Param("x0", 0.0, "starting point", dynamic=False),
)
REDDI_STOCHASTIC_PP = param_layout(REDDI_STOCHASTIC_PARAMS)
# both problems share the projection, which reads ``radius`` where both rows keep it
assert REDDI_ONLINE_PP.radius == REDDI_STOCHASTIC_PP.radius


@njit(cache=True)
def _clip(x, lo, hi):
    for i in range(x.shape[0]):
        if x[i] < lo:
            x[i] = lo
        elif x[i] > hi:
            x[i] = hi


@njit(cache=True)
def reddi_project(x, pp, data):
    r = pp[REDDI_ONLINE_PP.radius]
    _clip(x, -r, r)


@njit(cache=True)
def reddi_online_value_and_grad(x, g, t, pp, data, rng):
    large = pp[REDDI_ONLINE_PP.large]
    small = pp[REDDI_ONLINE_PP.small]
    period = int(pp[REDDI_ONLINE_PP.period])
    # the paper's step is t + 1 (1-based); the large loss comes when (t + 1) mod period == 1
    c = large if (t + 1) % period == 1 % period else small
    g[0] = c
    return c * x[0]


@njit(cache=True)
def reddi_online_objective(x, pp, data):
    period = pp[REDDI_ONLINE_PP.period]
    return (pp[REDDI_ONLINE_PP.large] + (period - 1.0) * pp[REDDI_ONLINE_PP.small]) / period * x[0]


@njit(cache=True)
def reddi_stochastic_value_and_grad(x, g, t, pp, data, rng):
    large = pp[REDDI_STOCHASTIC_PP.large]
    small = pp[REDDI_STOCHASTIC_PP.small]
    prob = pp[REDDI_STOCHASTIC_PP.prob]
    c = large if uniform(rng) < prob else small
    g[0] = c
    return c * x[0]


@njit(cache=True)
def reddi_stochastic_objective(x, pp, data):
    prob = pp[REDDI_STOCHASTIC_PP.prob]
    return (prob * pp[REDDI_STOCHASTIC_PP.large] + (1.0 - prob) * pp[REDDI_STOCHASTIC_PP.small]) * x[0]


def _optimum(coef, radius):
    if coef > 0:
        return np.array([-radius])
    if coef < 0:
        return np.array([radius])
    return None


class ReddiOnline(Problem):
    r"""The online linear problem of Reddi et al.: :math:`f_t(x) = C x` every ``period``-th step, else :math:`s x`.

    Reddi, Kale & Kumar, "On the convergence of Adam and beyond", ICLR 2018.  With
    :math:`C` = ``large``, :math:`s` = ``small`` and :math:`P` = ``period``, on the
    feasible set :math:`F = [-r, r]` (``radius`` :math:`r = 1`):

    .. math::

        f_t(x) = \begin{cases} C x & t \bmod P = 1 \\ s x & \text{otherwise} \end{cases}

    with the paper's 1-based step :math:`t = 1, 2, \dots`.  optsim's kernels count steps
    from 0, so the gradient at kernel step :math:`k` is that of the paper's
    :math:`t = k + 1`: the very first gradient is :math:`C`.  Defaults are the synthetic
    experiment of Figure 1 (:math:`C = 1010`, :math:`s = -10`, :math:`P = 101`); Theorem 1's
    problem is ``ReddiOnline(large=C, small=-1, period=3)`` with :math:`C > 2`.

    Every iterate is projected (clipped) onto :math:`F`.  The recorded ``loss`` is the
    average loss over one period, :math:`\bar f(x) = \frac{C + (P-1)s}{P} x`
    (:math:`\tfrac{10}{101} x` by default), whose minimiser on :math:`F` is :math:`x^\star = -r`
    when :math:`C + (P-1)s > 0` (``optimum()``); ``value_and_grad`` returns this step's
    :math:`f_t(x)`.  Start :math:`x_0 = 0`.
    """

    name = "reddi_online"
    params = REDDI_ONLINE_PARAMS
    kernels = {
        "value_and_grad": reddi_online_value_and_grad,
        "objective": reddi_online_objective,
        "project": reddi_project,
    }

    def _validate(self):
        if abs(self.x0) > self.radius:
            raise ParameterError(f"ReddiOnline: x0={self.x0} lies outside the feasible set [-{self.radius}, {self.radius}]")

    def dimension(self):
        return 1

    def start_point(self):
        return np.array([self.x0])

    def mean_coefficient(self):
        return (self.large + (self.period - 1) * self.small) / self.period

    def optimum(self):
        return _optimum(self.mean_coefficient(), self.radius)

    def coord_names(self):
        return ["x"]


class ReddiStochastic(Problem):
    r"""The stochastic linear problem of Reddi et al.: :math:`f_t(x) = C x` with probability :math:`q`, else :math:`s x`.

    Reddi, Kale & Kumar, "On the convergence of Adam and beyond", ICLR 2018, synthetic
    experiment of Figure 1: :math:`C = 1010` (``large``), :math:`s = -10` (``small``),
    :math:`q = 0.01` (``prob``), on :math:`F = [-r, r]` (``radius`` 1), start 0.  Each
    step draws its coefficient independently from the problem's own random stream.  The
    recorded ``loss`` is the expected loss :math:`(qC + (1-q)s)\,x` (:math:`0.2 x` by
    default), minimised at :math:`x^\star = -r` when :math:`qC + (1-q)s > 0`
    (``optimum()``); ``value_and_grad`` returns the sampled :math:`f_t(x)`.  Iterates are
    clipped onto :math:`F`.
    """

    name = "reddi_stochastic"
    params = REDDI_STOCHASTIC_PARAMS
    kernels = {
        "value_and_grad": reddi_stochastic_value_and_grad,
        "objective": reddi_stochastic_objective,
        "project": reddi_project,
    }

    def _validate(self):
        if abs(self.x0) > self.radius:
            raise ParameterError(
                f"ReddiStochastic: x0={self.x0} lies outside the feasible set [-{self.radius}, {self.radius}]"
            )

    def dimension(self):
        return 1

    def start_point(self):
        return np.array([self.x0])

    def mean_coefficient(self):
        return self.prob * self.large + (1.0 - self.prob) * self.small

    def optimum(self):
        return _optimum(self.mean_coefficient(), self.radius)

    def coord_names(self):
        return ["x"]
