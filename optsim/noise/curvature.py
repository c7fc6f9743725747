"""Gradient noise with covariance H / B: the noisy quadratic model."""

import math

import numpy as np
from numba import njit

from .._components import Param, ParameterError, param_layout
from .._rng import normal
from .._roles import Noise

__all__ = ["CurvatureScaled"]


CURVATURE_PARAMS = (Param("batch_size", 1.0, "batch size B dividing the covariance H", low=0.0, low_open=True),)
CURVATURE_NP = param_layout(CURVATURE_PARAMS)


@njit(cache=True)
def curvature_scaled_apply(g, x, t, npar, ndata, rng):
    c = 1.0 / math.sqrt(npar[CURVATURE_NP.batch_size])
    root_h = ndata[0]
    L = ndata[1]
    d = g.shape[0]
    if L.shape[0] == 0:
        for i in range(d):
            g[i] += c * root_h[i] * normal(rng)
    else:
        # g += L xi / sqrt(B), one coordinate of xi at a time (nothing allocated)
        for j in range(d):
            z = c * normal(rng)
            for i in range(d):
                g[i] += L[i, j] * z


def _diagonal(problem):
    """Whether ``problem`` says its Hessian is diagonal by construction (``hessian_is_diagonal()``)."""
    check = getattr(problem, "hessian_is_diagonal", None)
    return bool(check()) if callable(check) else False


class CurvatureScaled(Noise):
    r"""The noisy-quadratic-model noise: :math:`\tilde g = g + \xi`, :math:`\xi \sim N(0, H/B)`.

    :math:`H` is the problem's Hessian and :math:`B` = ``batch_size``.  The per-example
    gradient covariance is taken equal to the Hessian (true near the optimum of a
    well-specified likelihood, where the Fisher equals the Hessian), and averaging
    :math:`B` examples divides it by :math:`B`.

    For a diagonal Hessian :math:`H = \mathrm{diag}(h)` (``problem.hessian_diag()``) the
    coordinates are independent, :math:`\xi_i = \sqrt{h_i / B}\, z_i`.  For a problem whose
    Hessian is not diagonal (a rotated :class:`~optsim.problems.Quadratic`, which has
    ``hessian()``) the noise is :math:`\xi = L z / \sqrt B` with :math:`L` the symmetric
    square root :math:`L = Q\,\mathrm{diag}(\sqrt{\lambda})\,Q^\top` of
    :math:`H = Q\,\mathrm{diag}(\lambda)\,Q^\top` (so :math:`L L^\top = H`).  In both cases
    :math:`z \sim N(0, I)` is drawn one coordinate at a time, in order.

    Memory and work: :math:`O(d)` for a diagonal Hessian (``hessian_diag()``, or a problem
    whose ``hessian_is_diagonal()`` says so, whose dense ``hessian()`` is then never made);
    a Hessian that is not diagonal is dense by its structure: :math:`L` takes :math:`8 d^2`
    bytes (its eigendecomposition about :math:`8 \cdot 8 d^2` while it is made, once per
    sweep) and a draw :math:`O(d^2)` operations.  ``batch_size`` is
    dynamic, so it can be gridded without recompiling; it need not be an integer.

    Source: Zhang, Li, Nado, Martens, Sachdeva, Dahl, Shallue & Grosse, "Which Algorithmic
    Choices Matter at Which Batch Sizes? Insights From a Noisy Quadratic Model"
    (NeurIPS 2019), where :math:`H = \mathrm{diag}(h)` and the minibatch noise variance is
    :math:`h_i / B`.
    """

    name = "curvature_scaled"
    params = CURVATURE_PARAMS
    kernels = {"apply": curvature_scaled_apply}

    def prepare(self, problem):
        d = problem.dimension()
        H = None
        if hasattr(problem, "hessian") and not _diagonal(problem):
            H = np.asarray(problem.hessian(), dtype=float)
        h = problem.hessian_diag()
        if h is None and H is not None:
            h = np.diag(H)
        if h is None:
            raise ParameterError(
                f"CurvatureScaled: {type(problem).__name__} provides no curvatures "
                "(hessian_diag() or hessian()); the noise covariance H/B needs them"
            )
        h = np.asarray(h, dtype=float).ravel()
        if h.shape[0] != d:
            raise ParameterError(f"CurvatureScaled: hessian_diag() has {h.shape[0]} entries, the problem has {d} coordinates")
        if H is not None and np.any(H - np.diag(np.diag(H)) != 0.0):
            if H.shape != (d, d):
                raise ParameterError(f"CurvatureScaled: hessian() has shape {H.shape}, expected {(d, d)}")
            H = 0.5 * (H + H.T)
            lam, Q = np.linalg.eigh(H)
            tol = 1e-10 * max(1.0, float(np.max(np.abs(lam))))
            if np.any(lam < -tol):
                raise ParameterError(
                    f"CurvatureScaled: the Hessian has a negative eigenvalue ({lam.min():.3g}); "
                    "a noise covariance H/B must be positive semidefinite"
                )
            L = (Q * np.sqrt(np.clip(lam, 0.0, None))) @ Q.T
            return (np.sqrt(np.clip(h, 0.0, None)), np.ascontiguousarray(L))
        if np.any(h < 0.0):
            raise ParameterError(
                f"CurvatureScaled: negative curvature {h.min():.3g}; a noise variance h_i/B must be >= 0"
            )
        return (np.sqrt(h), np.zeros((0, 0)))

    def prepare_bytes(self, problem):
        d = problem.dimension()
        rebuild = problem.data_bytes() or 0  # hessian_diag() may make the problem's data again
        if hasattr(problem, "hessian") and not _diagonal(problem):
            return 8 * 8 * d * d + 8 * 3 * d + rebuild
        return 8 * 3 * d + rebuild
