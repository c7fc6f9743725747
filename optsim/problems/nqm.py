"""The noisy quadratic model (NQM) of Zhang et al. (2019), with its exact expected-loss curves."""

import math

import numpy as np
from numba import njit

from .. import theory
from .._components import Param, ParameterError, param_layout
from .._rng import normal
from .._roles import Problem

__all__ = ["NoisyQuadraticModel"]


NQM_PARAMS = (
    Param("random_start", False, "x0 ~ N(0, I) per replicate instead of all ones", kind="bool"),
    Param("batch_size", None, "B: the problem adds gradient noise of covariance H/B (None: exact)",
          low=0.0, low_open=True, none_ok=True),
    Param("dim", 100, "number of coordinates K (h_i = 1/i, i = 1..K)", kind="int", low=1, dynamic=False),
)
NQM_PP = param_layout(NQM_PARAMS)


@njit(cache=True)
def nqm_value_and_grad(x, g, t, pp, data, rng):
    h = data[0]
    batch = pp[NQM_PP.batch_size]
    noisy = batch == batch  # not NaN: the problem adds its own minibatch noise
    f = 0.0
    for i in range(x.shape[0]):
        gi = h[i] * x[i]
        f += gi * x[i]
        if noisy:
            gi += math.sqrt(h[i] / batch) * normal(rng)
        g[i] = gi
    return 0.5 * f


@njit(cache=True)
def nqm_objective(x, pp, data):
    h = data[0]
    f = 0.0
    for i in range(x.shape[0]):
        f += h[i] * x[i] * x[i]
    return 0.5 * f


@njit(cache=True)
def nqm_initial_point(x, pp, data, rng):
    if pp[NQM_PP.random_start] != 0.0:
        for i in range(x.shape[0]):
            x[i] = normal(rng)


class NoisyQuadraticModel(Problem):
    r"""The noisy quadratic model :math:`L(x) = \tfrac12 x^\top H x`, :math:`H = \mathrm{diag}(h)`, :math:`h_i = 1/i`.

    Zhang, Li, Nado, Martens, Sachdeva, Dahl, Shallue & Grosse, "Which algorithmic choices
    matter at which batch sizes? Insights from a noisy quadratic model", NeurIPS 2019
    (arXiv:1907.04164), and the authors' notebook ``nqm.ipynb``.  Symbols: :math:`i =
    1..K` with :math:`K` = ``dim`` (the paper uses :math:`10^4`, and the condition number
    is :math:`K`); the minibatch gradient is :math:`Hx + \xi` with
    :math:`\mathrm{Cov}(\xi) = H/B` (per-coordinate standard deviation
    :math:`\sqrt{h_i/B}`), :math:`B` the batch size.

    The gradient noise can come from the problem itself (``batch_size`` = :math:`B`, a
    dynamic parameter, so a grid over batch sizes needs one compilation) or from a noise
    model: ``noise_model(B)`` is the equivalent
    ``optsim.noise.Gaussian(sigma=1, scale=sqrt(h/B))``.  With neither, gradients are exact.

    The start is all ones (default), or, with ``random_start=True``, :math:`x_0 \sim
    N(0, I)` drawn per replicate as in the paper; both have :math:`E[x_{0,i}^2] = 1`, so
    the expected loss curves of :meth:`expected_loss` apply to both.  Minimum 0 at the
    origin.

    Memory: :math:`O(K)`, the curvatures :math:`h`, shared by every trajectory.

    With ``batch_size`` set, the problem's own gradient is the noisy one, so a recorded
    ``grad_norm`` includes the noise; use the noise model instead where the noise-free
    gradient norm is wanted.
    """

    name = "nqm"
    params = NQM_PARAMS
    kernels = {
        "value_and_grad": nqm_value_and_grad,
        "objective": nqm_objective,
        "initial_point": nqm_initial_point,
    }

    def dimension(self):
        return self.dim

    def curvatures(self):
        """:math:`h_i = 1/i`, :math:`i = 1..K`."""
        return 1.0 / np.arange(1, self.dim + 1, dtype=float)

    def hessian_diag(self):
        return self.curvatures()

    def start_point(self):
        return np.ones(self.dim)

    def data(self):
        return (self.curvatures(),)

    def data_bytes(self):
        return 8 * 2 * self.dim  # h (and the 1..K it is made from)

    def optimum(self):
        return np.zeros(self.dim)

    def noise_scale(self, batch_size):
        """Per-coordinate gradient-noise standard deviation :math:`\\sqrt{h_i/B}`."""
        return np.sqrt(self.curvatures() / float(batch_size))

    def noise_model(self, batch_size):
        """The noise model equivalent to ``batch_size=B``: ``Gaussian(sigma=1, scale=sqrt(h/B))``."""
        from ..noise import Gaussian

        return Gaussian(sigma=1.0, scale=self.noise_scale(batch_size))

    def expected_loss(self, steps, lr, batch_size=None, momentum=0.0, per_coordinate=False):
        r"""Exact :math:`E[L(x_t)]` for :math:`t = 0..` ``steps`` under SGD or heavy-ball momentum.

        ``batch_size`` None means exact gradients (no noise).  Returns an array of length
        ``steps + 1`` (or ``(steps + 1, dim)`` per coordinate, each entry
        :math:`\tfrac12 h_i E[x_i^2]`).  Start: :math:`E[x_{0,i}^2] = 1`, zero velocity.

        Plain SGD (``momentum=0``), per coordinate with :math:`a = \alpha h_i`,
        :math:`c = \alpha^2 h_i / B`:
        :math:`s_{t+1} = (1-a)^2 s_t + c`, solved in closed form as
        :math:`s_t = s_* + \beta^t (s_0 - s_*)`, :math:`\beta = (1-a)^2`,
        :math:`s_* = c / (1-\beta)` (:math:`s_t = s_0 + t c` when :math:`\beta = 1`).

        Heavy ball (``momentum`` :math:`m > 0`): :math:`v_{t+1} = m v_t - \alpha h x_t -
        \alpha\sigma\xi_t`, :math:`x_{t+1} = x_t + v_{t+1}`.  This is
        ``optsim.optimizers.SGD(momentum=m)`` (PyTorch form, buffer :math:`b`) with
        :math:`v = -\alpha b` at a constant learning rate.  Squaring gives the exact linear
        recursion for :math:`(E x^2, E v^2, E xv)`

        .. math::

            \begin{pmatrix} E x^2 \\ E v^2 \\ E xv \end{pmatrix}_{t+1} =
            \begin{pmatrix} (1-a)^2 & m^2 & 2(1-a)m \\ a^2 & m^2 & -2am \\
            -(1-a)a & m^2 & (1-2a)m \end{pmatrix}
            \begin{pmatrix} E x^2 \\ E v^2 \\ E xv \end{pmatrix}_t + c \begin{pmatrix} 1 \\ 1 \\ 1 \end{pmatrix}

        The same noise :math:`-\alpha\sigma\xi_t` enters both :math:`v_{t+1}` and
        :math:`x_{t+1}`, so :math:`c = \alpha^2\sigma^2 = \alpha^2 h_i/B` is added with
        coefficient 1 to all three moments (paper eq. 21).  This recursion is iterated
        (exactly, vectorised over coordinates) rather than diagonalised, which stays exact
        at critically damped settings where the eigenvector matrix is singular.
        """
        steps = int(steps)
        if steps < 0:
            raise ParameterError(f"expected_loss: steps={steps} must be >= 0")
        lr = float(lr)
        m = float(momentum)
        if not (0.0 <= m < 1.0):
            raise ParameterError(f"expected_loss: momentum={momentum!r} must be in [0, 1)")
        h = self.curvatures()
        half_h = 0.5 * h
        out = np.empty((steps + 1, h.shape[0])) if per_coordinate else np.empty(steps + 1)
        if m == 0.0:
            moments = theory.nqm_sgd_second_moment(h, lr, steps, batch_size)
        else:
            moments = (x2 for x2, _, _ in theory.nqm_momentum_second_moments(h, lr, m, steps, batch_size))
        for k, second_moment in enumerate(moments):
            if per_coordinate:
                out[k] = half_h * second_moment
            else:
                out[k] = half_h @ second_moment
        return out
