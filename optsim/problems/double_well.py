"""A 1-D double well with a sharp (narrow) and a flat (wide) basin, for escape-time studies."""

import math

import numpy as np
from numba import njit

from .._components import Param, ParameterError, param_layout
from .._roles import Problem

__all__ = ["DoubleWell"]


DOUBLE_WELL_PARAMS = (
    Param("sharp_center", -1.0, "a: centre of the sharp basin"),
    Param("sharp_width", 0.1, "w_s: width of the sharp basin", low=0.0, low_open=True),
    Param("sharp_depth", 1.0, "h_s: depth of the sharp basin", low=0.0, low_open=True),
    Param("flat_center", 2.0, "b: centre of the flat basin"),
    Param("flat_width", 0.5, "w_f: width of the flat basin", low=0.0, low_open=True),
    Param("flat_depth", 1.0, "h_f: depth of the flat basin", low=0.0, low_open=True),
    Param("wall", 10.0, "kappa: stiffness of the confining wall outside [L, U]", low=0.0),
    Param("x0", None, "starting point (default: the sharp basin's centre)", none_ok=True),
)
DOUBLE_WELL_PP = param_layout(DOUBLE_WELL_PARAMS)


@njit(cache=True)
def _dw_terms(z, pp):
    a = pp[DOUBLE_WELL_PP.sharp_center]
    wa = pp[DOUBLE_WELL_PP.sharp_width]
    ha = pp[DOUBLE_WELL_PP.sharp_depth]
    b = pp[DOUBLE_WELL_PP.flat_center]
    wb = pp[DOUBLE_WELL_PP.flat_width]
    hb = pp[DOUBLE_WELL_PP.flat_depth]
    kappa = pp[DOUBLE_WELL_PP.wall]
    ua = (z - a) / wa
    ub = (z - b) / wb
    ea = ha * math.exp(-0.5 * ua * ua)
    eb = hb * math.exp(-0.5 * ub * ub)
    f = -ea - eb
    df = ea * ua / wa + eb * ub / wb
    wmax = max(wa, wb)
    lo = min(a, b) - 4.0 * wmax
    hi = max(a, b) + 4.0 * wmax
    if z < lo:
        f += 0.5 * kappa * (z - lo) ** 2
        df += kappa * (z - lo)
    elif z > hi:
        f += 0.5 * kappa * (z - hi) ** 2
        df += kappa * (z - hi)
    return f, df


@njit(cache=True)
def double_well_value_and_grad(x, g, t, pp, data, rng):
    f, df = _dw_terms(x[0], pp)
    g[0] = df
    return f


@njit(cache=True)
def double_well_objective(x, pp, data):
    f, df = _dw_terms(x[0], pp)
    return f


@njit(cache=True)
def double_well_initial_point(x, pp, data, rng):
    x0 = pp[DOUBLE_WELL_PP.x0]
    x[0] = x0 if x0 == x0 else pp[DOUBLE_WELL_PP.sharp_center]


class DoubleWell(Problem):
    r"""A smooth 1-D double well: a sharp narrow basin and a wide flat one of (nearly) equal depth.

    .. math::

        f(x) = -h_s\, e^{-(x - a)^2 / (2 w_s^2)} - h_f\, e^{-(x - b)^2 / (2 w_f^2)}
               + \tfrac\kappa2\, \mathrm{dist}(x, [L, U])^2

    Sharp basin: centre :math:`a` (``sharp_center``, -1), width :math:`w_s`
    (``sharp_width``, 0.1), depth :math:`h_s` (``sharp_depth``, 1); flat basin: :math:`b`
    (``flat_center``, 2), :math:`w_f` (``flat_width``, 0.5), :math:`h_f` (``flat_depth``, 1).
    Curvature at the bottoms: :math:`h_s/w_s^2 = 100` versus :math:`h_f/w_f^2 = 4`.  The
    quadratic wall :math:`\kappa` (``wall``, 10) acts only outside
    :math:`[L, U] = [\min(a,b) - 4w, \max(a,b) + 4w]`, :math:`w = \max(w_s, w_f)`, and keeps
    escaping trajectories from wandering off (:math:`f` and :math:`f'` are continuous
    there).  The two Gaussians overlap only through their tails, so with equal
    :math:`h` the minima lie within :math:`\sim e^{-(b-a)^2/(2w_f^2)}` (about
    :math:`10^{-8}` by default) of :math:`a` and :math:`b` and have equal depth to that
    accuracy; the barrier between them has height :math:`\approx h`.

    Setting: the heavy-tailed escape studies after Şimşekli, Sagun & Gürbüzbalaban (ICML
    2019) and Zhou et al. (NeurIPS 2020): a 1-D double well with a narrow basin A and a
    wide basin B of equal depth (the form is optsim's choice; those papers' abstracts fix
    no formula).  ``basin_of(x)`` labels points 0 (sharp side of the barrier) or 1 (flat
    side); ``minima()`` gives both minimisers and ``barrier()`` the local maximum between
    them.  ``optimum()`` is None: the two minima have (nearly) equal depth.

    The start is ``x0``, by default the sharp basin's centre :math:`a`; it is set in the
    kernel, so it follows a gridded ``sharp_center``.  All parameters are dynamic.
    """

    name = "double_well"
    params = DOUBLE_WELL_PARAMS
    kernels = {
        "value_and_grad": double_well_value_and_grad,
        "objective": double_well_objective,
        "initial_point": double_well_initial_point,
    }

    def _validate(self):
        sep = abs(self.flat_center - self.sharp_center)
        if sep < 2.0 * (self.sharp_width + self.flat_width):
            raise ParameterError(
                f"DoubleWell: the centres {self.sharp_center} and {self.flat_center} are too close for the widths "
                f"{self.sharp_width} and {self.flat_width}; they must be at least 2*(sharp_width + flat_width) apart"
            )

    def dimension(self):
        return 1

    def start_point(self):
        return np.array([self.sharp_center if self.x0 is None else self.x0])

    def coord_names(self):
        return ["x"]

    def value_and_derivative(self, x):
        """f(x) and f'(x), vectorised (NumPy)."""
        x = np.asarray(x, dtype=float)
        pp = self.row()
        f = np.empty_like(x)
        d = np.empty_like(x)
        for k, z in np.ndenumerate(x):
            f[k], d[k] = _dw_terms(float(z), pp)
        return f, d

    def _root(self, lo, hi):
        """Bisection for f'(x) = 0 in [lo, hi] (f' changes sign there)."""
        pp = self.row()
        dlo = _dw_terms(lo, pp)[1]
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            dm = _dw_terms(mid, pp)[1]
            if (dm > 0) == (dlo > 0):
                lo, dlo = mid, dm
            else:
                hi = mid
        return 0.5 * (lo + hi)

    def minima(self):
        """(sharp minimiser, flat minimiser)."""
        a, wa, b, wb = self.sharp_center, self.sharp_width, self.flat_center, self.flat_width
        return np.array([self._root(a - wa, a + wa), self._root(b - wb, b + wb)])

    def barrier(self):
        """The local maximum of f between the two minima."""
        m = np.sort(self.minima())
        grid = np.linspace(m[0], m[1], 2001)
        f, _ = self.value_and_derivative(grid)
        k = int(np.argmax(f))
        k = min(max(k, 1), grid.size - 2)
        return self._root(grid[k - 1], grid[k + 1])

    def basin_of(self, x):
        """0 where x lies on the sharp basin's side of the barrier, 1 on the flat basin's (vectorised)."""
        x = np.asarray(x, dtype=float)
        c = self.barrier()
        if self.sharp_center < self.flat_center:
            return np.where(x < c, 0, 1)
        return np.where(x > c, 0, 1)
