"""Linear and logistic regression on generated Gaussian data, with a held-out test set."""

import math

import numpy as np
from numba import njit

from .._components import Param, ParameterError, param_layout
from .._roles import Problem

__all__ = ["LinearRegression", "LogisticRegression"]


# -- shared helpers ---------------------------------------------------------------------------


@njit(cache=True)
def _half_sq_norm(w):
    s = 0.0
    for j in range(w.shape[0]):
        s += w[j] * w[j]
    return 0.5 * s


@njit(cache=True)
def _log1pexp(z):
    """log(1 + exp(z)) without overflow."""
    if z > 0.0:
        return z + math.log1p(math.exp(-z))
    return math.log1p(math.exp(z))


@njit(cache=True)
def _sigmoid(z):
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


ALL_ROWS = np.zeros(0, dtype=np.int64)
"""Pass as ``idx`` with ``nb = -1`` to the row loops below to mean "every row"."""


@njit(cache=True, inline="always")
def _log1pexp_sigmoid(z):
    """``_log1pexp(z)`` and ``_sigmoid(z)`` with one exponential: both use exp(-|z|) (the
    same numbers as the two functions)."""
    e = math.exp(-abs(z))
    lp = z + math.log1p(e) if z > 0.0 else math.log1p(e)
    sg = 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)
    return lp, sg


@njit(cache=True, inline="always")
def _row(k, rows, idx, nb):
    """The data row of the k-th example of a row loop (the last one past the end)."""
    k = min(k, rows - 1)
    return k if nb < 0 else idx[k]


@njit(cache=True, inline="always")
def _dot4(X, k0, rows, idx, nb, w):
    """The dot products with ``w`` of the rows of examples ``k0`` to ``k0 + 3`` of a row
    loop, each summed over j = 0, 1, ... in turn (the same numbers as one row at a time), as
    four independent chains of additions: a single chain waits for every addition to
    finish before the next one starts."""
    i0 = _row(k0, rows, idx, nb)
    i1 = _row(k0 + 1, rows, idx, nb)
    i2 = _row(k0 + 2, rows, idx, nb)
    i3 = _row(k0 + 3, rows, idx, nb)
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    for j in range(w.shape[0]):
        wj = w[j]
        s0 += X[i0, j] * wj
        s1 += X[i1, j] * wj
        s2 += X[i2, j] * wj
        s3 += X[i3, j] * wj
    return s0, s1, s2, s3


@njit(cache=True)
def squares_rows(x, g, X, y, idx, nb):
    """Mean of 0.5 (x_i . w - y_i)^2 over rows ``idx[:nb]`` (every row if nb < 0); its gradient into g."""
    rows = X.shape[0] if nb < 0 else nb
    d = x.shape[0]
    for j in range(d):
        g[j] = 0.0
    f = 0.0
    for k0 in range(0, rows, 4):  # four rows' dot products at a time, then each row in order
        dots = _dot4(X, k0, rows, idx, nb, x)
        for q in range(min(4, rows - k0)):
            i = _row(k0 + q, rows, idx, nb)
            r = dots[q] - y[i]
            f += 0.5 * r * r
            for j in range(d):
                g[j] += r * X[i, j]
    m = max(rows, 1)
    for j in range(d):
        g[j] /= m
    return f / m


@njit(cache=True)
def logistic_rows(x, g, X, y, idx, nb):
    """Mean of log(1 + exp(-y_i x_i . w)) over rows ``idx[:nb]`` (every row if nb < 0); gradient into g."""
    rows = X.shape[0] if nb < 0 else nb
    d = x.shape[0]
    for j in range(d):
        g[j] = 0.0
    f = 0.0
    for k0 in range(0, rows, 4):  # four rows' dot products at a time, then each row in order
        dots = _dot4(X, k0, rows, idx, nb, x)
        for q in range(min(4, rows - k0)):
            i = _row(k0 + q, rows, idx, nb)
            m = y[i] * dots[q]
            lp, sg = _log1pexp_sigmoid(-m)
            f += lp
            c = -y[i] * sg
            for j in range(d):
                g[j] += c * X[i, j]
    mb = max(rows, 1)
    for j in range(d):
        g[j] /= mb
    return f / mb


@njit(cache=True)
def squares_sum(x, X, y):
    """Sum over every row of 0.5 (x_i . w - y_i)^2, four rows' dot products at a time."""
    n = X.shape[0]
    f = 0.0
    for k0 in range(0, n, 4):
        dots = _dot4(X, k0, n, ALL_ROWS, -1, x)
        for q in range(min(4, n - k0)):
            r = dots[q] - y[k0 + q]
            f += 0.5 * r * r
    return f


@njit(cache=True)
def logistic_sum(x, X, y, error):
    """Sum over every row of log(1 + exp(-y_i x_i . w)) or, with ``error``, the number of
    rows with y_i x_i . w <= 0; four rows' dot products at a time."""
    n = X.shape[0]
    f = 0.0
    for k0 in range(0, n, 4):
        dots = _dot4(X, k0, n, ALL_ROWS, -1, x)
        for q in range(min(4, n - k0)):
            m = y[k0 + q] * dots[q]
            if not error:
                f += _log1pexp(-m)
            elif m <= 0.0:
                f += 1.0
    return f


@njit(cache=True)
def _matvec(X, w):
    """X w, each row's products summed in order (``_dot4``, as the losses sum them).  A
    BLAS product sums in an order that depends on the library's build and the CPU, so the
    data would differ in the last bits from one machine to another; and a threaded BLAS
    call leaves its threads spinning for a while, taking cores from the sweep that follows."""
    n = X.shape[0]
    out = np.empty(n)
    for k0 in range(0, n, 4):
        dots = _dot4(X, k0, n, ALL_ROWS, -1, w)
        for q in range(min(4, n - k0)):
            out[k0 + q] = dots[q]
    return out


@njit(cache=True, inline="always")
def _add_l2(x, g, lam, f):
    for j in range(x.shape[0]):
        g[j] += lam * x[j]
    return f + lam * _half_sq_norm(x)


# -- the parameters ----------------------------------------------------------------------------

_COMMON = (
    Param("l2", 0.0, "L2 penalty lambda: adds lambda/2 ||w||^2", low=0.0),
    Param("n_train", 100, "training examples", kind="int", low=1, dynamic=False),
    Param("n_test", 1000, "test examples", kind="int", low=0, dynamic=False),
    Param("n_features", 10, "features d (may exceed n_train)", kind="int", low=1, dynamic=False),
    Param("noise", 0.1, "label noise level (see the class docstring)", low=0.0, dynamic=False),
    Param("data_seed", 0, "seed of the dataset", kind="int", low=0, dynamic=False),
    Param("x0", None, "starting weights (default zeros)", kind="array", dynamic=False, none_ok=True),
)
REGRESSION_PP = param_layout(_COMMON)
"""The row of both regressions (logistic regression adds only static parameters)."""


# -- linear regression -------------------------------------------------------------------------


@njit(cache=True)
def linreg_value_and_grad(x, g, t, pp, data, rng):
    return _add_l2(x, g, pp[REGRESSION_PP.l2], squares_rows(x, g, data[0], data[1], ALL_ROWS, -1))


@njit(cache=True)
def linreg_objective(x, pp, data):
    X, y = data[0], data[1]
    return squares_sum(x, X, y) / X.shape[0] + pp[REGRESSION_PP.l2] * _half_sq_norm(x)


@njit(cache=True)
def linreg_batch_value_and_grad(x, g, idx, nb, pp, data):
    return _add_l2(x, g, pp[REGRESSION_PP.l2], squares_rows(x, g, data[0], data[1], idx, nb))


@njit(cache=True)
def linreg_test_loss(x, pp, data):
    Xt, yt = data[2], data[3]
    return squares_sum(x, Xt, yt) / max(Xt.shape[0], 1)


# -- logistic regression ---------------------------------------------------------------------


@njit(cache=True)
def logreg_value_and_grad(x, g, t, pp, data, rng):
    return _add_l2(x, g, pp[REGRESSION_PP.l2], logistic_rows(x, g, data[0], data[1], ALL_ROWS, -1))


@njit(cache=True)
def logreg_objective(x, pp, data):
    X, y = data[0], data[1]
    return logistic_sum(x, X, y, False) / X.shape[0] + pp[REGRESSION_PP.l2] * _half_sq_norm(x)


@njit(cache=True)
def logreg_batch_value_and_grad(x, g, idx, nb, pp, data):
    return _add_l2(x, g, pp[REGRESSION_PP.l2], logistic_rows(x, g, data[0], data[1], idx, nb))


@njit(cache=True)
def logreg_test_loss(x, pp, data):
    Xt, yt, mode = data[2], data[3], data[4]
    return logistic_sum(x, Xt, yt, mode[0] != 0.0) / max(Xt.shape[0], 1)


# -- the classes -----------------------------------------------------------------------------


class _Generated(Problem):
    def _validate(self):
        x0 = self._values["x0"]
        if x0 is not None and np.asarray(x0).size != self.n_features:
            raise ParameterError(
                f"{type(self).__name__}: x0 must have n_features={self.n_features} entries, got shape {np.shape(x0)}"
            )

    def dimension(self):
        return self.n_features

    def start_point(self):
        x0 = self._values["x0"]
        return np.zeros(self.n_features) if x0 is None else np.asarray(x0, dtype=float).ravel().copy()

    def n_samples(self):
        return self.n_train

    def _draw(self):
        rng = np.random.default_rng(self.data_seed)
        d = self.n_features
        n = self.n_train + self.n_test
        w_true = rng.standard_normal(d) / math.sqrt(d)
        X = rng.standard_normal((n, d))
        eps = rng.standard_normal(n)
        return w_true, X, _matvec(X, w_true) + self.noise * eps

    def true_weights(self):
        """The weights :math:`w^\\star` that generated the labels."""
        return self._draw()[0]


class LinearRegression(_Generated):
    r"""Least squares on generated data, :math:`L(w) = \frac1n\sum_i \tfrac12 (x_i^\top w - y_i)^2 + \tfrac\lambda2\|w\|^2`.

    Data (from ``data_seed``): :math:`w^\star \sim N(0, I_d/d)`, rows
    :math:`x_i \sim N(0, I_d)`, :math:`y_i = x_i^\top w^\star + s\,\epsilon_i`,
    :math:`\epsilon_i \sim N(0, 1)`, :math:`s` = ``noise``; the first ``n_train`` rows
    train, the next ``n_test`` test.  No intercept.  ``test_loss`` is the mean
    :math:`\tfrac12` squared error on the test rows (no penalty).  Over-parameterised
    settings (``n_features > n_train``) are allowed.

    ``optimum()``: :math:`(X^\top X/n + \lambda I)^{-1} X^\top y / n` for :math:`\lambda > 0`;
    for :math:`\lambda = 0` the minimum-norm least-squares solution :math:`X^+ y` (the point
    gradient methods reach from 0).  It is computed for the instance's own ``l2``; when
    ``l2`` is gridded the ``dist`` record still refers to that value.
    Minibatch gradients (``batch_value_and_grad``) are batch means.

    Memory: the data, :math:`8 (n_{train} + n_{test}) d` bytes, shared by every trajectory
    (its train and test rows are views of one draw); the ``dist`` record solves for the optimum once
    (a dense :math:`d \times d` system for :math:`\lambda > 0`).
    """

    name = "linear_regression"
    params = _COMMON
    kernels = {
        "value_and_grad": linreg_value_and_grad,
        "objective": linreg_objective,
        "batch_value_and_grad": linreg_batch_value_and_grad,
        "test_loss": linreg_test_loss,
    }

    def data(self):
        _, X, y = self._draw()
        n = self.n_train
        return (np.ascontiguousarray(X[:n]), y[:n].copy(), np.ascontiguousarray(X[n:]), y[n:].copy())

    def optimum(self):
        X, y = self.data()[:2]
        n = X.shape[0]
        if self.l2 > 0.0:
            A = X.T @ X / n + self.l2 * np.eye(X.shape[1])
            return np.linalg.solve(A, X.T @ y / n)
        return np.linalg.lstsq(X, y, rcond=None)[0]

    def hessian_diag(self):
        X = self.data()[0]
        return np.mean(X * X, axis=0) + self.l2

    def data_bytes(self):
        n, d = self.n_train + self.n_test, self.n_features
        return 8 * (n * d + 4 * n + 2 * d)  # the draw of X (its train and test rows are views), y


class LogisticRegression(_Generated):
    r"""Logistic regression, :math:`L(w) = \frac1n\sum_i \log(1 + e^{-y_i x_i^\top w}) + \tfrac\lambda2\|w\|^2`, :math:`y_i \in \{-1, +1\}`.

    Data (from ``data_seed``): as :class:`LinearRegression`, then
    :math:`y_i = \mathrm{sign}(x_i^\top w^\star + s\,\epsilon_i)` (0 counts as +1), so
    ``noise`` :math:`s` flips labels near the boundary.  No intercept.  ``test_loss`` is the
    mean logistic loss on the test rows (``test_metric='loss'``) or the test
    classification error, the fraction with :math:`y\,x^\top w \le 0` (a point on the
    boundary counts as wrong; ``'error'``).

    ``optimum()``: for :math:`\lambda > 0` the unique minimiser, found by Newton's method;
    for :math:`\lambda = 0` None (on separable data, e.g. whenever ``n_features >=
    n_train``, there is no minimiser: the loss decreases along the max-margin direction).
    Minibatch gradients are batch means.

    Memory: as :class:`LinearRegression`, the data (:math:`8 (n_{train} + n_{test}) d`
    bytes) shared by every trajectory; the optimum (``l2 > 0``) is found by Newton's method
    on a dense :math:`d \times d` Hessian.
    """

    name = "logistic_regression"
    params = _COMMON + (
        Param("test_metric", "loss", "'loss' (test logistic loss) or 'error' (test classification error)",
              kind="choice", choices=("loss", "error"), dynamic=False),
    )
    kernels = {
        "value_and_grad": logreg_value_and_grad,
        "objective": logreg_objective,
        "batch_value_and_grad": logreg_batch_value_and_grad,
        "test_loss": logreg_test_loss,
    }

    def data(self):
        _, X, z = self._draw()
        y = np.where(z >= 0.0, 1.0, -1.0)
        n = self.n_train
        mode = np.array([0.0 if self.test_metric == "loss" else 1.0])
        return (np.ascontiguousarray(X[:n]), y[:n].copy(), np.ascontiguousarray(X[n:]), y[n:].copy(), mode)

    def data_bytes(self):
        n, d = self.n_train + self.n_test, self.n_features
        return 8 * (n * d + 6 * n + 2 * d)

    def optimum(self):
        if self.l2 <= 0.0:
            return None
        X, y = self.data()[:2]
        n, d = X.shape
        w = np.zeros(d)
        for _ in range(100):
            m = y * (X @ w)
            s = 0.5 * (1.0 + np.tanh(-0.5 * m))  # sigmoid(-m)
            g = -(X.T @ (y * s)) / n + self.l2 * w
            H = (X.T * (s * (1.0 - s))) @ X / n + self.l2 * np.eye(d)
            step = np.linalg.solve(H, g)
            w = w - step
            if np.max(np.abs(step)) < 1e-15 * max(1.0, np.max(np.abs(w))):
                break
        return w
