"""Wilson et al. (2017): a separable least-squares problem on which adaptive methods overfit."""

import numpy as np
from numba import njit

from .._components import Param, ParameterError
from .._roles import Problem
from .regression import ALL_ROWS, squares_rows

__all__ = ["Wilson"]


@njit(cache=True)
def wilson_value_and_grad(x, g, t, pp, data, rng):
    # (1/n) ||Xw - y||^2 is twice the mean of 0.5 r_i^2
    f = squares_rows(x, g, data[0], data[1], ALL_ROWS, -1)
    for j in range(x.shape[0]):
        g[j] *= 2.0
    return 2.0 * f


@njit(cache=True)
def wilson_objective(x, pp, data):
    X, y = data[0], data[1]
    f = 0.0
    for i in range(X.shape[0]):
        s = 0.0
        for j in range(x.shape[0]):
            s += X[i, j] * x[j]
        f += (s - y[i]) ** 2
    return f / X.shape[0]


@njit(cache=True)
def wilson_batch_value_and_grad(x, g, idx, nb, pp, data):
    f = squares_rows(x, g, data[0], data[1], idx, nb)
    for j in range(x.shape[0]):
        g[j] *= 2.0
    return 2.0 * f


@njit(cache=True)
def wilson_test_loss(x, pp, data):
    yt = data[2]
    n = yt.shape[0]
    wrong = 0
    for i in range(n):
        # a fresh point's unique features lie outside the trained coordinates
        s = x[0] * yt[i] + x[1] + x[2]
        if s * yt[i] <= 0.0:
            wrong += 1
    return wrong / max(n, 1)


def wilson_features(y, dim):
    """The feature matrix of the construction for labels ``y`` (1-based indices in the docs)."""
    n = y.shape[0]
    X = np.zeros((n, dim))
    X[:, 0] = y
    X[:, 1] = 1.0
    X[:, 2] = 1.0
    for i in range(n):
        start = 3 + 5 * i  # 0-based index of feature 4 + 5(i-1) for the 1-based example i
        count = 1 + int(round(2 * (1 - y[i])))  # j runs over 4+5(i-1) .. 4+5(i-1)+2(1-y_i)
        X[i, start:start + count] = 1.0
    return X


class Wilson(Problem):
    r"""The "adaptivity can overfit" least-squares problem of Wilson et al. (2017, §3.3).

    Wilson, Roelofs, Stern, Srebro & Recht, "The marginal value of adaptive gradient
    methods in machine learning", NeurIPS 2017 (arXiv:1705.08292).

    Labels :math:`y_i = +1` with probability :math:`p` (``p``), else :math:`-1`,
    :math:`i = 1..n` (``n_train``), drawn from ``data_seed``.  Features (1-based
    coordinates): :math:`x_{i,1} = y_i`, :math:`x_{i,2} = x_{i,3} = 1`,
    :math:`x_{i,j} = 1` for :math:`j = 4 + 5(i-1), \dots, 4 + 5(i-1) + 2(1 - y_i)` (one
    unique feature when :math:`y_i = 1`, five when :math:`y_i = -1`), all others 0.  The
    paper's space is infinite-dimensional; :math:`d` = ``dim`` (default
    :math:`\max(6n, 5n + 3)`, enough to hold every unique feature) must be at least
    :math:`5n + 3`; extra coordinates are never touched.

    Loss: :math:`R(w) = \frac1n \|Xw - y\|_2^2`, the paper's :math:`\|Xw - y\|^2` divided
    by :math:`n` (same minimisers; with :math:`\epsilon \to 0` the adaptive iterates are
    unchanged, and SGD's stable step sizes stay of order 1 whatever :math:`n`).  Start
    :math:`w_0 = 0`.

    ``test_loss`` is the test *classification error* on ``n_test`` fresh draws from the
    same distribution: a new point's unique features are coordinates no training point
    uses (and that gradient methods never move), so :math:`\langle w, x\rangle =
    w_1 y + w_2 + w_3`; a point counts as wrong when :math:`y \langle w, x\rangle \le 0`
    (a zero score is an error, so :math:`w = 0` has error 1).

    Known solutions: ``min_norm_solution()`` :math:`X^\top (X X^\top)^{-1} y`, where
    GD/SGD from 0 converge (test error 0), also ``optimum()`` for the ``dist`` record;
    ``adaptive_solution()`` :math:`\tfrac14 \mathrm{sign}(X^\top y)`, where AdaGrad, RMSProp
    and Adam (:math:`\epsilon \to 0`) converge when :math:`b = \sum_i y_i > 0`
    (Lemma 3.1 with :math:`c = 4`); it labels every new point +1, test error
    :math:`\approx 1 - p`.

    Memory: the dense training matrix :math:`X`, :math:`8 n d` bytes (:math:`d \ge 5n + 3`,
    so :math:`O(n^2)`), shared by every trajectory; the ``dist`` record's optimum solves an
    :math:`n \times n` system once.
    """

    name = "wilson"
    params = (
        Param("n_train", 50, "training examples n", kind="int", low=1, dynamic=False),
        Param("p", 0.7, "probability of the label +1", low=0.5, high=1.0, low_open=True, dynamic=False),
        Param("n_test", 1000, "fresh test draws", kind="int", low=1, dynamic=False),
        Param("dim", None, "dimension d (default max(6n, 5n+3))", kind="int", low=4, dynamic=False, none_ok=True),
        Param("data_seed", 0, "seed of the labels", kind="int", low=0, dynamic=False),
    )
    kernels = {
        "value_and_grad": wilson_value_and_grad,
        "objective": wilson_objective,
        "batch_value_and_grad": wilson_batch_value_and_grad,
        "test_loss": wilson_test_loss,
    }

    def _validate(self):
        if self.dim is not None and self.dim < 5 * self.n_train + 3:
            raise ParameterError(
                f"Wilson: dim={self.dim} is too small; it must be at least 5*n_train+3 = {5 * self.n_train + 3}"
            )

    def dimension(self):
        return self.dim if self.dim is not None else max(6 * self.n_train, 5 * self.n_train + 3)

    def start_point(self):
        return np.zeros(self.dimension())

    def labels(self):
        """(training labels, test labels)."""
        rng = np.random.default_rng(self.data_seed)
        y = np.where(rng.random(self.n_train) < self.p, 1.0, -1.0)
        yt = np.where(rng.random(self.n_test) < self.p, 1.0, -1.0)
        return y, yt

    def design(self):
        """The training matrix X (n, d) and labels y."""
        y, _ = self.labels()
        return wilson_features(y, self.dimension()), y

    def data(self):
        X, y = self.design()
        return (X, y, self.labels()[1])

    def data_bytes(self):
        n, t = self.n_train, self.n_test
        return 8 * (n * self.dimension() + 3 * n + 3 * t)  # X (dense: n x d), the labels

    def n_samples(self):
        return self.n_train

    def min_norm_solution(self):
        X, y = self.design()
        return X.T @ np.linalg.solve(X @ X.T, y)

    def adaptive_solution(self):
        r"""The limit of adaptive methods from 0, :math:`\mathrm{sign}(X^\top y)/4` (needs :math:`\sum y_i > 0`)."""
        X, y = self.design()
        if y.sum() <= 0:
            raise ParameterError("Wilson: the labels sum to <= 0, so Lemma 3.1 does not apply to this draw")
        u = X.T @ y
        return np.sign(u) / 4.0

    def optimum(self):
        return self.min_norm_solution()
