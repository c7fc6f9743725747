"""A tiny least-squares problem with a dataset, for testing minibatch sampling."""

import numpy as np
from numba import njit

from optsim._components import Param, ParameterError
from optsim._roles import Problem

__all__ = ["ToyLeastSquares"]


@njit(cache=True)
def _ls_rows(x, g, A, b, idx, nb):
    """0.5 * mean of squared residuals over rows idx[:nb]; its gradient into g."""
    d = x.shape[0]
    for i in range(d):
        g[i] = 0.0
    f = 0.0
    for k in range(nb):
        r = idx[k]
        res = -b[r]
        for i in range(d):
            res += A[r, i] * x[i]
        f += res * res
        for i in range(d):
            g[i] += res * A[r, i]
    inv = 1.0 / nb
    for i in range(d):
        g[i] *= inv
    return 0.5 * f * inv


@njit(cache=True)
def toy_ls_value_and_grad(x, g, t, pp, data, rng):
    A, b, rows = data[0], data[1], data[2]
    return _ls_rows(x, g, A, b, rows, rows.shape[0])


@njit(cache=True)
def toy_ls_batch_value_and_grad(x, g, idx, nb, pp, data):
    return _ls_rows(x, g, data[0], data[1], idx, nb)


@njit(cache=True)
def toy_ls_objective(x, pp, data):
    A, b = data[0], data[1]
    f = 0.0
    for r in range(A.shape[0]):
        res = -b[r]
        for i in range(x.shape[0]):
            res += A[r, i] * x[i]
        f += res * res
    return 0.5 * f / A.shape[0]


class ToyLeastSquares(Problem):
    r"""Least squares :math:`f(x) = \frac{1}{2n} \sum_k (a_k^\top x - b_k)^2` on a small dataset.

    Rows :math:`a_k` of ``A`` (n x d) and targets ``b``; by default ``n`` x ``d`` standard
    normals and :math:`b = A x^* + 0.1\,\epsilon` from ``seed``.  Start: ``x0`` (default 0).
    """

    name = "toy_least_squares"
    params = (
        Param("n", 20, "examples", kind="int", low=1, dynamic=False),
        Param("d", 3, "coordinates", kind="int", low=1, dynamic=False),
        Param("seed", 0, "seed of the random dataset", kind="int", low=0, dynamic=False),
        Param("A", None, "design matrix (n x d)", kind="array", dynamic=False, none_ok=True),
        Param("b", None, "targets (n)", kind="array", dynamic=False, none_ok=True),
        Param("x0", None, "starting point", kind="array", dynamic=False, none_ok=True),
    )
    kernels = {
        "value_and_grad": toy_ls_value_and_grad,
        "batch_value_and_grad": toy_ls_batch_value_and_grad,
        "objective": toy_ls_objective,
    }

    def _validate(self):
        if (self.A is None) != (self.b is None):
            raise ParameterError("ToyLeastSquares: give both A and b or neither")
        if self.A is not None:
            A = np.atleast_2d(self.A)
            if self.b.ndim != 1 or self.b.shape[0] != A.shape[0]:
                raise ParameterError("ToyLeastSquares: b must have one entry per row of A")

    def arrays(self):
        if self.A is not None:
            return np.atleast_2d(np.asarray(self.A, float)), np.asarray(self.b, float).ravel()
        rng = np.random.default_rng(self.seed)
        A = rng.standard_normal((self.n, self.d))
        b = A @ rng.standard_normal(self.d) + 0.1 * rng.standard_normal(self.n)
        return A, b

    def dimension(self):
        return self.arrays()[0].shape[1]

    def n_samples(self):
        return self.arrays()[0].shape[0]

    def start_point(self):
        return np.zeros(self.dimension()) if self.x0 is None else np.asarray(self.x0, float).copy()

    def data(self):
        A, b = self.arrays()
        return (np.ascontiguousarray(A), b, np.arange(A.shape[0], dtype=np.int64))

    def optimum(self):
        A, b = self.arrays()
        return np.linalg.lstsq(A, b, rcond=None)[0]
