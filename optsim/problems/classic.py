"""Classic two-dimensional test functions: Rosenbrock, Beale, a saddle, Himmelblau."""

import math

import numpy as np
from numba import njit

from .._components import Param, ParameterError, param_layout
from .._roles import Problem

__all__ = ["Rosenbrock", "Beale", "Saddle", "Himmelblau"]


def _start(problem, default):
    x0 = problem._values["x0"]
    if x0 is None:
        return np.asarray(default, dtype=float)
    return np.asarray(x0, dtype=float).ravel().copy()


def _check_x0(problem):
    x0 = problem._values["x0"]
    if x0 is not None and np.asarray(x0).size != 2:
        raise ParameterError(f"{type(problem).__name__}: x0 must have 2 entries (x, y), got shape {np.shape(x0)}")


# -- Rosenbrock --------------------------------------------------------------------------


ROSENBROCK_PARAMS = (
    Param("a", 1.0, "location parameter: the minimum is (a, a^2)"),
    Param("b", 100.0, "valley steepness", low=0.0),
    Param("x0", None, "starting point (x, y); default (-1.5, 2)", kind="array", dynamic=False, none_ok=True,
          ndim=(0, 1)),
)
ROSENBROCK_PP = param_layout(ROSENBROCK_PARAMS)


@njit(cache=True)
def rosenbrock_value_and_grad(x, g, t, pp, data, rng):
    a = pp[ROSENBROCK_PP.a]
    b = pp[ROSENBROCK_PP.b]
    u = a - x[0]
    v = x[1] - x[0] * x[0]
    g[0] = -2.0 * u - 4.0 * b * x[0] * v
    g[1] = 2.0 * b * v
    return u * u + b * v * v


@njit(cache=True)
def rosenbrock_objective(x, pp, data):
    a = pp[ROSENBROCK_PP.a]
    b = pp[ROSENBROCK_PP.b]
    u = a - x[0]
    v = x[1] - x[0] * x[0]
    return u * u + b * v * v


@njit(cache=True)
def rosenbrock_hessian_diagonal(x, h, pp, data):
    """The Hessian's diagonal: 2 - 4 b (x1 - x0^2) + 8 b x0^2 and 2 b."""
    b = pp[ROSENBROCK_PP.b]
    h[0] = 2.0 - 4.0 * b * (x[1] - x[0] * x[0]) + 8.0 * b * x[0] * x[0]
    h[1] = 2.0 * b


@njit(cache=True)
def rosenbrock_distance(x, pp, data):
    a = pp[ROSENBROCK_PP.a]
    return math.sqrt((x[0] - a) ** 2 + (x[1] - a * a) ** 2)


class Rosenbrock(Problem):
    r"""Rosenbrock's banana valley :math:`f(x, y) = (a - x)^2 + b\,(y - x^2)^2`.

    The global minimum is :math:`f = 0` at :math:`(a, a^2)`; the valley floor
    :math:`y = x^2` is curved and, for large ``b``, very narrow (the Hessian at the minimum
    has condition number about :math:`2500` for :math:`a = 1, b = 100`).  Default start
    :math:`(-1.5, 2)`.

    Source: H. H. Rosenbrock, "An automatic method for finding the greatest or least value
    of a function", The Computer Journal 3(3), 1960.  Symbols: ``a`` = :math:`a`,
    ``b`` = :math:`b`, coordinates ``x``, ``y``.  Both ``a`` and ``b`` are dynamic; the
    ``dist`` record follows a gridded ``a`` (it is computed in the kernel).
    """

    name = "rosenbrock"
    params = ROSENBROCK_PARAMS
    kernels = {
        "value_and_grad": rosenbrock_value_and_grad,
        "objective": rosenbrock_objective,
        "distance": rosenbrock_distance,
        "hessian_diagonal": rosenbrock_hessian_diagonal,
    }

    def _validate(self):
        _check_x0(self)

    def dimension(self):
        return 2

    def start_point(self):
        return _start(self, (-1.5, 2.0))

    def loss_floor(self):
        return 0.0  # a sum of squares (b >= 0)

    def optimum(self):
        return np.array([self.a, self.a * self.a])

    def coord_names(self):
        return ["x", "y"]


# -- Beale --------------------------------------------------------------------------------


@njit(cache=True)
def beale_value_and_grad(x, g, t, pp, data, rng):
    u = x[0]
    v = x[1]
    r1 = 1.5 - u + u * v
    r2 = 2.25 - u + u * v * v
    r3 = 2.625 - u + u * v * v * v
    g[0] = 2.0 * (r1 * (v - 1.0) + r2 * (v * v - 1.0) + r3 * (v * v * v - 1.0))
    g[1] = 2.0 * u * (r1 + 2.0 * v * r2 + 3.0 * v * v * r3)
    return r1 * r1 + r2 * r2 + r3 * r3


@njit(cache=True)
def beale_objective(x, pp, data):
    u = x[0]
    v = x[1]
    r1 = 1.5 - u + u * v
    r2 = 2.25 - u + u * v * v
    r3 = 2.625 - u + u * v * v * v
    return r1 * r1 + r2 * r2 + r3 * r3


class Beale(Problem):
    r"""Beale's function :math:`f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2`.

    Global minimum :math:`f = 0` at :math:`(3, 0.5)`; flat plateaus and sharp ridges near
    the axes.  Default start :math:`(1, 1)`.

    Source: E. M. L. Beale, "On an iterative method for finding a local minimum of a
    function of more than one variable", Tech. Rep. 25, Princeton Univ., 1958; the usual
    form in optimisation test suites (e.g. Jamil & Yang, "A literature survey of benchmark
    functions for global optimisation problems", 2013, function 10).
    """

    name = "beale"
    params = (
        Param("x0", None, "starting point (x, y); default (1, 1)", kind="array", dynamic=False, none_ok=True,
              ndim=(0, 1)),
    )
    kernels = {"value_and_grad": beale_value_and_grad, "objective": beale_objective}

    def _validate(self):
        _check_x0(self)

    def dimension(self):
        return 2

    def start_point(self):
        return _start(self, (1.0, 1.0))

    def loss_floor(self):
        return 0.0  # a sum of squares

    def optimum(self):
        return np.array([3.0, 0.5])

    def coord_names(self):
        return ["x", "y"]


# -- saddle ---------------------------------------------------------------------------------


SADDLE_PARAMS = (
    Param("quartic", 0.0, "coefficient q of the bounding term q y^4 / 4", low=0.0),
    Param("x0", None, "starting point (x, y); default (1, 1e-3)", kind="array", dynamic=False, none_ok=True,
          ndim=(0, 1)),
)
SADDLE_PP = param_layout(SADDLE_PARAMS)


@njit(cache=True)
def saddle_value_and_grad(x, g, t, pp, data, rng):
    q = pp[SADDLE_PP.quartic]
    u = x[0]
    v = x[1]
    g[0] = u
    g[1] = -v + q * v * v * v
    return 0.5 * (u * u - v * v) + 0.25 * q * v * v * v * v


@njit(cache=True)
def saddle_objective(x, pp, data):
    q = pp[SADDLE_PP.quartic]
    u = x[0]
    v = x[1]
    return 0.5 * (u * u - v * v) + 0.25 * q * v * v * v * v


@njit(cache=True)
def saddle_distance(x, pp, data):
    q = pp[SADDLE_PP.quartic]
    if not q > 0.0:
        return np.nan
    ys = 1.0 / math.sqrt(q)
    return math.sqrt(x[0] * x[0] + (abs(x[1]) - ys) ** 2)


class Saddle(Problem):
    r"""A strict saddle :math:`f(x, y) = \tfrac12 (x^2 - y^2) + \tfrac{q}{4} y^4`.

    The origin is a saddle point (Hessian :math:`\mathrm{diag}(1, -1)`).  With
    ``quartic`` :math:`q = 0` (the default) the function is unbounded below along
    :math:`y` and there is no minimum (``optimum()`` is None; the divergence guard of
    :func:`optsim.sweep` stops runaway trajectories).  With :math:`q > 0` it is bounded,
    with two global minima :math:`(0, \pm 1/\sqrt q)` of value :math:`-1/(4q)`;
    ``optimum()`` is the one on the side of the start's :math:`y` (the ``+`` one when
    :math:`y_0 = 0`), and the ``dist`` record is the distance to the nearer of the two
    (NaN when :math:`q = 0`).

    The default start :math:`(1, 10^{-3})` lies almost on the stable manifold
    :math:`y = 0`, so plain gradient descent approaches the saddle and lingers there before
    the unstable direction takes over (the saddle-point picture of the lecture notes on
    cyclical learning rates and of Dauphin et al., "Identifying and attacking the saddle
    point problem in high-dimensional non-convex optimization", NeurIPS 2014).
    """

    name = "saddle"
    params = SADDLE_PARAMS
    kernels = {
        "value_and_grad": saddle_value_and_grad,
        "objective": saddle_objective,
        "distance": saddle_distance,
    }

    def _validate(self):
        _check_x0(self)

    def dimension(self):
        return 2

    def start_point(self):
        return _start(self, (1.0, 1e-3))

    def optimum(self):
        if self.quartic <= 0.0:
            return None
        y0 = self.start_point()[1]
        return np.array([0.0, (1.0 if y0 >= 0 else -1.0) / math.sqrt(self.quartic)])

    def coord_names(self):
        return ["x", "y"]


# -- Himmelblau -----------------------------------------------------------------------------


@njit(cache=True)
def himmelblau_value_and_grad(x, g, t, pp, data, rng):
    u = x[0]
    v = x[1]
    r1 = u * u + v - 11.0
    r2 = u + v * v - 7.0
    g[0] = 4.0 * u * r1 + 2.0 * r2
    g[1] = 2.0 * r1 + 4.0 * v * r2
    return r1 * r1 + r2 * r2


@njit(cache=True)
def himmelblau_objective(x, pp, data):
    u = x[0]
    v = x[1]
    r1 = u * u + v - 11.0
    r2 = u + v * v - 7.0
    return r1 * r1 + r2 * r2


def _himmelblau_newton(p, iters=50):
    p = np.asarray(p, dtype=float).copy()
    for _ in range(iters):
        u, v = p
        r1 = u * u + v - 11.0
        r2 = u + v * v - 7.0
        g = np.array([4 * u * r1 + 2 * r2, 2 * r1 + 4 * v * r2])
        H = np.array([[4 * r1 + 8 * u * u + 2, 4 * u + 4 * v], [4 * u + 4 * v, 2 + 4 * r2 + 8 * v * v]])
        p = p - np.linalg.solve(H, g)
    return p


class Himmelblau(Problem):
    r"""Himmelblau's function :math:`f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2`.

    Four global minima, all with :math:`f = 0`: :math:`(3, 2)`,
    :math:`(-2.805118, 3.131313)`, :math:`(-3.779310, -3.283186)` and
    :math:`(3.584428, -1.848126)` (``minima()`` gives them to machine precision), one local
    maximum at about :math:`(-0.2708, -0.9230)` and four saddles.  ``optimum()`` is the
    minimum *nearest the start* (Euclidean), a convention for the ``dist`` record only:
    an optimizer may well end in another basin.  Default start :math:`(0, 0)`, whose nearest
    minimum is :math:`(3, 2)`.

    Source: D. M. Himmelblau, "Applied Nonlinear Programming", McGraw-Hill, 1972.
    """

    name = "himmelblau"
    params = (
        Param("x0", None, "starting point (x, y); default (0, 0)", kind="array", dynamic=False, none_ok=True,
              ndim=(0, 1)),
    )
    kernels = {"value_and_grad": himmelblau_value_and_grad, "objective": himmelblau_objective}

    _APPROX_MINIMA = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126))

    def _validate(self):
        _check_x0(self)

    def dimension(self):
        return 2

    def start_point(self):
        return _start(self, (0.0, 0.0))

    def minima(self):
        """The four minimisers, shape (4, 2), refined by Newton's method."""
        return np.array([_himmelblau_newton(p) for p in self._APPROX_MINIMA])

    def loss_floor(self):
        return 0.0  # a sum of squares

    def optimum(self):
        m = self.minima()
        d = np.linalg.norm(m - self.start_point(), axis=1)
        return m[int(np.argmin(d))].copy()

    def coord_names(self):
        return ["x", "y"]
