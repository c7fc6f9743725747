"""Least squares with a weight matrix: a small problem whose parameter is a matrix and a bias."""

import math

import numpy as np
from numba import njit

from .._components import Param, ParameterError, param_layout
from .._roles import Problem

__all__ = ["MatrixRegression"]

_PARAMS = (
    Param("n_out", 3, "outputs: rows of W", kind="int", low=1, dynamic=False),
    Param("n_in", 4, "inputs: columns of W", kind="int", low=1, dynamic=False),
    Param("bias", True, "a bias vector b of n_out entries after W", kind="bool", dynamic=False),
    Param("n_train", 64, "training examples", kind="int", low=1, dynamic=False),
    Param("noise", 0.1, "label noise level s", low=0.0, dynamic=False),
    Param("data_seed", 0, "seed of the dataset", kind="int", low=0, dynamic=False),
    Param("l2", 0.0, "L2 penalty lambda on W: adds lambda/2 ||W||_F^2", low=0.0),
    Param("x0", None, "starting parameters, W row-major then b (default zeros)", kind="array", dynamic=False,
          none_ok=True, ndim=(0, 1, 2)),
)
PP = param_layout(_PARAMS, "MatrixRegressionParams")


@njit(cache=True, inline="always")
def _prediction(x, X, s, i, p, q, bias):
    """Output i of example s: b_i + sum_j W_ij X_sj (W row-major in x, then b)."""
    z = x[q * p + i] if bias else 0.0
    for j in range(p):
        z += x[i * p + j] * X[s, j]
    return z


@njit(cache=True)
def matreg_value_and_grad(x, g, t, pp, data):
    """The loss and, into ``g``, its gradient (W's block, then b's)."""
    X, Y = data[0], data[1]
    n, p = X.shape
    q = Y.shape[1]
    bias = x.shape[0] > q * p
    lam = pp[PP.l2]
    for k in range(x.shape[0]):
        g[k] = 0.0
    f = 0.0
    for s in range(n):
        for i in range(q):
            r = _prediction(x, X, s, i, p, q, bias) - Y[s, i]
            f += 0.5 * r * r
            for j in range(p):
                g[i * p + j] += r * X[s, j]
            if bias:
                g[q * p + i] += r
    reg = 0.0
    for k in range(x.shape[0]):
        g[k] /= n
    for k in range(q * p):
        g[k] += lam * x[k]
        reg += x[k] * x[k]
    return f / n + 0.5 * lam * reg


@njit(cache=True)
def matreg_vg(x, g, t, pp, data, rng):
    return matreg_value_and_grad(x, g, t, pp, data)


@njit(cache=True)
def matreg_objective(x, pp, data):
    X, Y = data[0], data[1]
    n, p = X.shape
    q = Y.shape[1]
    bias = x.shape[0] > q * p
    f = 0.0
    for s in range(n):
        for i in range(q):
            r = _prediction(x, X, s, i, p, q, bias) - Y[s, i]
            f += 0.5 * r * r
    reg = 0.0
    for k in range(q * p):
        reg += x[k] * x[k]
    return f / n + 0.5 * pp[PP.l2] * reg


@njit(cache=True)
def matreg_hessian_diagonal(x, h, pp, data):
    """The Hessian's diagonal: mean_s X_sj^2 + lambda for W_ij, 1 for b_i."""
    X = data[0]
    n, p = X.shape
    q = data[1].shape[1]
    for j in range(p):
        s = 0.0
        for k in range(n):
            s += X[k, j] * X[k, j]
        for i in range(q):
            h[i * p + j] = s / n + pp[PP.l2]
    for k in range(q * p, x.shape[0]):
        h[k] = 1.0


class MatrixRegression(Problem):
    r"""Multi-output least squares, :math:`L(W, b) = \frac1n \sum_i \tfrac12\|W a_i + b - y_i\|^2 + \tfrac\lambda2\|W\|_F^2`.

    The parameter is the matrix :math:`W` (``n_out`` x ``n_in``) and, with ``bias``, the
    vector :math:`b` (``n_out``): ``param_shapes() = {"W": (n_out, n_in), "b": (n_out,)}``,
    stored as W row-major then b, so a matrix rule (:class:`~optsim.optimizers.Muon`) acts
    on W as a matrix and elementwise rules see the flat vector.  Data (from ``data_seed``):
    :math:`W^\star \sim N(0, 1/n_{in})` entrywise, :math:`b^\star \sim N(0, 1)`, inputs
    :math:`a_i \sim N(0, I)`, :math:`y_i = W^\star a_i + b^\star + s\,\epsilon_i`,
    :math:`\epsilon_i \sim N(0, I)`, :math:`s` = ``noise``, ``n_train`` examples.  Starts at
    zero (or ``x0``).  ``optimum()`` is the least-squares solution (for :math:`\lambda = 0`).

    Memory: the data, :math:`8 n (n_{in} + n_{out})` bytes, shared by every trajectory.
    """

    name = "matrix_regression"
    params = _PARAMS
    kernels = {"value_and_grad": matreg_vg, "objective": matreg_objective,
               "hessian_diagonal": matreg_hessian_diagonal}

    def _validate(self):
        x0 = self._values["x0"]
        if x0 is not None and np.asarray(x0).size != self.dimension():
            raise ParameterError(f"MatrixRegression: x0 must have {self.dimension()} entries, got shape "
                                 f"{np.shape(x0)}")

    def dimension(self):
        return self.n_out * self.n_in + (self.n_out if self.bias else 0)

    def param_shapes(self):
        shapes = {"W": (self.n_out, self.n_in)}
        if self.bias:
            shapes["b"] = (self.n_out,)
        return shapes

    def coord_names(self):
        return self.param_names()

    def start_point(self):
        x0 = self._values["x0"]
        return np.zeros(self.dimension()) if x0 is None else np.asarray(x0, dtype=float).ravel().copy()

    def data(self):
        rng = np.random.default_rng(self.data_seed)
        q, p, n = self.n_out, self.n_in, self.n_train
        W = rng.standard_normal((q, p)) / math.sqrt(p)
        b = rng.standard_normal(q) if self.bias else np.zeros(q)
        X = rng.standard_normal((n, p))
        Y = np.einsum("ij,sj->si", W, X) + b + self.noise * rng.standard_normal((n, q))
        return (np.ascontiguousarray(X), np.ascontiguousarray(Y))

    def data_bytes(self):
        q, p, n = self.n_out, self.n_in, self.n_train
        return 8 * (q * p + q + 2 * n * p + 4 * n * q)

    def loss_floor(self):
        return 0.0  # a mean of squares plus an L2 penalty

    def optimum(self):
        if self.l2 > 0.0:
            return None
        X, Y = self.data()
        A = np.hstack([X, np.ones((X.shape[0], 1))]) if self.bias else X
        sol = np.linalg.lstsq(A, Y, rcond=None)[0]  # (p [+1]) x q
        W = sol[:self.n_in].T
        return np.concatenate([W.ravel(), sol[self.n_in]]) if self.bias else W.ravel()
