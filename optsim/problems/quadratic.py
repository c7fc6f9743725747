"""Quadratic objectives: diagonal or rotated, from curvatures or a condition number."""

import math

import numpy as np
from numba import njit

from .._components import Param, ParameterError
from .._roles import Problem

__all__ = ["Quadratic"]

DEFAULT_CURVATURES = (1.0, 10.0)


@njit(cache=True)
def quadratic_value_and_grad(x, g, t, pp, data, rng):
    h, H, c = data[0], data[1], data[2]
    d = x.shape[0]
    f = 0.0
    if H.shape[0] == 0:
        for i in range(d):
            z = x[i] - c[i]
            g[i] = h[i] * z
            f += g[i] * z
    else:
        for i in range(d):
            s = 0.0
            for j in range(d):
                s += H[i, j] * (x[j] - c[j])
            g[i] = s
            f += s * (x[i] - c[i])
    return 0.5 * f


@njit(cache=True)
def quadratic_objective(x, pp, data):
    h, H, c = data[0], data[1], data[2]
    d = x.shape[0]
    f = 0.0
    if H.shape[0] == 0:
        for i in range(d):
            z = x[i] - c[i]
            f += h[i] * z * z
    else:
        for i in range(d):
            s = 0.0
            for j in range(d):
                s += H[i, j] * (x[j] - c[j])
            f += s * (x[i] - c[i])
    return 0.5 * f


@njit(cache=True)
def quadratic_distance(x, pp, data):
    c = data[2]
    s = 0.0
    for i in range(x.shape[0]):
        s += (x[i] - c[i]) ** 2
    return math.sqrt(s)


@njit(cache=True)
def quadratic_hessian_diagonal(x, h, pp, data):
    """The Hessian's diagonal: the curvatures, or the diagonal of the rotated matrix."""
    curv, H = data[0], data[1]
    for i in range(x.shape[0]):
        h[i] = curv[i] if H.shape[0] == 0 else H[i, i]


def rotation_matrix(dim, angle_deg=None, seed=None):
    """An orthogonal matrix: a plane rotation by ``angle_deg`` (2-D) or a random one."""
    if angle_deg is not None:
        if dim != 2:
            raise ParameterError(f"Quadratic: rotation={angle_deg} (an angle) needs 2 dimensions, got {dim}")
        a = math.radians(angle_deg)
        return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


class Quadratic(Problem):
    r"""A convex quadratic :math:`f(x) = \tfrac12 (x-c)^\top H (x-c)`.

    :math:`H = Q\,\mathrm{diag}(h)\,Q^\top` with curvatures :math:`h` = ``curvatures``
    (or ``dim`` values spaced geometrically from 1 to ``condition_number``; default
    ``[1, 10]``) and
    :math:`Q` the identity, a 2-D rotation by ``rotation`` degrees, or a random
    orthogonal matrix drawn from ``rotation_seed``.  :math:`c` = ``center`` (default 0)
    is the minimiser; the start is ``x0`` (default all ones).

    Memory: a diagonal problem (no rotation) holds :math:`h` and :math:`c`, :math:`O(d)`; a
    rotated one is dense by its structure and holds :math:`H`, :math:`8 d^2` bytes (and each
    gradient costs :math:`O(d^2)`).  Either is shared by every trajectory.

    Lecture examples: the deep valley / elongated ravine of lectures 000 and 004 is
    ``Quadratic(curvatures=[1, 100])``; the worked Adam example of lecture 001,
    :math:`f(x) = (2x - 10)^2 = \tfrac12 \cdot 8 (x - 5)^2`, is
    ``Quadratic(curvatures=[8], center=[5], x0=[0])``.
    """

    name = "quadratic"
    params = (
        Param("curvatures", None, "eigenvalues h of H", kind="array", low=0.0, dynamic=False, none_ok=True,
              ndim=(0, 1), shape_note="curvatures are the diagonal of H (its eigenvalues), not a matrix: for "
              "a non-diagonal H give its eigenvalues with rotation= (2-D) or rotation_seed= (H = Q diag(h) Q^T)"),
        Param("condition_number", None, "h spaced geometrically from 1 to this", low=1.0, dynamic=False, none_ok=True),
        Param("dim", None, "dimension (with condition_number)", kind="int", low=1, dynamic=False, none_ok=True),
        Param("x0", None, "starting point (default all ones)", kind="array", dynamic=False, none_ok=True,
              ndim=(0, 1)),
        Param("center", None, "the minimiser c (default 0)", kind="array", dynamic=False, none_ok=True,
              ndim=(0, 1)),
        Param("rotation", None, "rotation angle in degrees (2-D)", dynamic=False, none_ok=True),
        Param("rotation_seed", None, "seed of a random orthogonal rotation", kind="int", low=0, dynamic=False, none_ok=True),
    )
    kernels = {
        "value_and_grad": quadratic_value_and_grad,
        "objective": quadratic_objective,
        "distance": quadratic_distance,
        "hessian_diagonal": quadratic_hessian_diagonal,
    }

    def _validate(self):
        if self.curvatures is not None and self.condition_number is not None:
            raise ParameterError("Quadratic: give at most one of curvatures and condition_number")
        if self.condition_number is not None and self.dim is None:
            raise ParameterError("Quadratic: condition_number needs dim (an integer >= 1)")
        d = self.dim_()
        for name in ("x0", "center"):
            v = getattr(self, name)
            if v is not None and v.shape != (d,):
                raise ParameterError(f"Quadratic: {name} must have {d} entries (one per curvature), got shape {v.shape}")
        if self.rotation is not None and self.rotation_seed is not None:
            raise ParameterError("Quadratic: give at most one of rotation and rotation_seed")

    def dim_(self):
        if self.condition_number is not None:
            return self.dim
        return len(self.curvature_vector())

    def dimension(self):
        return self.dim_()

    def curvature_vector(self):
        if self.condition_number is not None:
            return np.geomspace(1.0, self.condition_number, self.dim)
        if self.curvatures is None:
            return np.array(DEFAULT_CURVATURES)
        return np.asarray(self.curvatures, dtype=float).ravel()

    def rotation_(self):
        if self.rotation is None and self.rotation_seed is None:
            return None
        return rotation_matrix(self.dim_(), self.rotation, self.rotation_seed)

    def hessian_is_diagonal(self):
        """Whether :math:`H` is diagonal by construction (no rotation): then
        :meth:`hessian_diag` and the noise models need only the :math:`d` curvatures."""
        return self.rotation is None and self.rotation_seed is None

    def hessian(self):
        """The dense :math:`d \times d` matrix :math:`H` (:math:`8 d^2` bytes; a diagonal
        problem's curvatures are :meth:`hessian_diag`)."""
        h = self.curvature_vector()
        q = self.rotation_()
        return np.diag(h) if q is None else (q * h) @ q.T

    def start_point(self):
        return np.ones(self.dim_()) if self._values["x0"] is None else self._values["x0"].copy()

    def center_(self):
        return np.zeros(self.dim_()) if self.center is None else np.asarray(self.center, dtype=float)

    def data(self):
        q = self.rotation_()
        H = np.zeros((0, 0)) if q is None else self.hessian()
        return (self.curvature_vector(), H, self.center_())

    def loss_floor(self):
        return 0.0  # a quadratic form with curvatures >= 0

    def optimum(self):
        return self.center_()

    def hessian_diag(self):
        if self.hessian_is_diagonal():
            return self.curvature_vector().copy()  # the diagonal of H, without making H
        return np.diag(self.hessian()).copy()

    def data_bytes(self):
        d = self.dim_()
        if self.hessian_is_diagonal():
            return 8 * 4 * d  # h and c (and the curvatures' temporaries)
        return 8 * (6 * d * d + 4 * d)  # H, and the rotation's draw, QR and products


def valley(steepness, x0=None):
    r"""The lectures' valley :math:`f(x, y) = \tfrac12 (x^2 + \kappa y^2)`, flat along x and
    steep across it (:math:`\kappa` = ``steepness``, the condition number), from ``x0``.

    ``Quadratic(curvatures=[1, steepness], x0=x0)``.  Lecture 000's deep, narrow valley is
    ``valley(50, x0=[-9, 1.2])``, lecture 003's elongated valley ``valley(1e4, x0=[-10, 1])``.
    """
    return Quadratic(curvatures=[1.0, float(steepness)], x0=x0)
