"""The single sigmoid neuron with a sparse input feature (the AdaGrad toy of the lecture notes)."""

import math

import numpy as np
from numba import njit

from .._components import Param, ParameterError
from .._roles import Problem

__all__ = ["SigmoidNeuron"]


@njit(cache=True)
def _sigmoid(z):
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@njit(cache=True)
def sigmoid_neuron_value_and_grad(x, g, t, pp, data, rng):
    X, Y, scale = data[0], data[1], data[2]
    w = x[0]
    b = x[1]
    f = 0.0
    gw = 0.0
    gb = 0.0
    for i in range(X.shape[0]):
        yh = _sigmoid(w * X[i] + b)
        r = yh - Y[i]
        f += 0.5 * r * r
        d = r * yh * (1.0 - yh)
        gw += d * X[i]
        gb += d
    s = scale[0] / X.shape[0]
    g[0] = gw * s
    g[1] = gb * s
    return f * s


@njit(cache=True)
def sigmoid_neuron_objective(x, pp, data):
    X, Y, scale = data[0], data[1], data[2]
    f = 0.0
    for i in range(X.shape[0]):
        r = _sigmoid(x[0] * X[i] + x[1]) - Y[i]
        f += 0.5 * r * r
    return f * (scale[0] / X.shape[0])


@njit(cache=True)
def sigmoid_neuron_batch_value_and_grad(x, g, idx, nb, pp, data):
    X, Y, scale = data[0], data[1], data[2]
    w = x[0]
    b = x[1]
    f = 0.0
    gw = 0.0
    gb = 0.0
    for k in range(nb):
        i = idx[k]
        yh = _sigmoid(w * X[i] + b)
        r = yh - Y[i]
        f += 0.5 * r * r
        d = r * yh * (1.0 - yh)
        gw += d * X[i]
        gb += d
    s = scale[0] / max(nb, 1)
    g[0] = gw * s
    g[1] = gb * s
    return f * s


class SigmoidNeuron(Problem):
    r"""One sigmoid neuron :math:`\hat y = \sigma(w x + b)` fitted by squared error, with a sparse input.

    .. math::

        L(w, b) = \kappa \cdot \frac1n \sum_{i=1}^n \tfrac12 \big(\sigma(w x_i + b) - y_i\big)^2,
        \qquad \kappa = n \text{ (reduction='sum') or } 1 \text{ ('mean')}

    Source: the CS6910 (IIT Madras, M. Khapra) lecture on adaptive learning rates
    (modules 5.9/5.10, "AdaGrad"): "We created 500 random (x, y) pairs and then for
    roughly 80% of these pairs we set x to 0", so the feature of :math:`w` is sparse while
    :math:`b`'s is always on; start :math:`(w, b) = (-2, -2)` as in the lecture's AdaGrad
    code.  The lecture's gradient ``grad_w = (f - y) f (1 - f) x`` is that of
    :math:`\tfrac12(f - y)^2`, and its full-batch loops *accumulate* (``dw += grad_w``)
    without dividing by :math:`n`, so the default ``reduction='sum'`` reproduces its
    gradients (and hence its learning rates, e.g. :math:`\eta = 0.1` for AdaGrad) exactly;
    ``'mean'`` divides everything by :math:`n`.

    The lecture does not say how the pairs were drawn.  Here, from ``data_seed``:
    :math:`x_i \sim U(-x_{\max}, x_{\max})` (``x_max``), then each :math:`x_i` is set to 0
    independently with probability ``sparsity`` (0.8), and
    :math:`y_i = \sigma(w^\star x_i + b^\star)` with (``w_true``, ``b_true``).  The labels
    are therefore realisable and the global minimum is :math:`L = 0` at
    :math:`(w^\star, b^\star)` (``optimum()``), unique when some :math:`x_i \ne 0`.

    Minibatches (``batch_value_and_grad``) use the batch mean times :math:`\kappa`, an
    unbiased estimate of the full gradient for either reduction.  Coordinates ``w``, ``b``.
    """

    name = "sigmoid_neuron"
    params = (
        Param("n_points", 500, "number of (x, y) pairs", kind="int", low=1, dynamic=False),
        Param("sparsity", 0.8, "probability that an x is set to 0", low=0.0, high=1.0, dynamic=False),
        Param("x_max", 1.0, "x ~ U(-x_max, x_max) before sparsification", low=0.0, low_open=True, dynamic=False),
        Param("w_true", 1.0, "w of the labelling neuron (the optimum)", dynamic=False),
        Param("b_true", 0.5, "b of the labelling neuron (the optimum)", dynamic=False),
        Param("reduction", "sum", "'sum' (as the lecture's code) or 'mean' over points", kind="choice",
              choices=("sum", "mean"), dynamic=False),
        Param("data_seed", 0, "seed of the dataset", kind="int", low=0, dynamic=False),
        Param("x0", None, "starting point (w, b); default (-2, -2)", kind="array", dynamic=False, none_ok=True),
    )
    kernels = {
        "value_and_grad": sigmoid_neuron_value_and_grad,
        "objective": sigmoid_neuron_objective,
        "batch_value_and_grad": sigmoid_neuron_batch_value_and_grad,
    }

    def _validate(self):
        x0 = self._values["x0"]
        if x0 is not None and np.asarray(x0).size != 2:
            raise ParameterError(f"SigmoidNeuron: x0 must have 2 entries (w, b), got shape {np.shape(x0)}")

    def dimension(self):
        return 2

    def start_point(self):
        x0 = self._values["x0"]
        return np.array([-2.0, -2.0]) if x0 is None else np.asarray(x0, dtype=float).ravel().copy()

    def dataset(self):
        """The points ``(x, y)`` as two arrays of length ``n_points``."""
        rng = np.random.default_rng(self.data_seed)
        x = rng.uniform(-self.x_max, self.x_max, self.n_points)
        x[rng.random(self.n_points) < self.sparsity] = 0.0
        z = self.w_true * x + self.b_true
        y = 1.0 / (1.0 + np.exp(-z))
        return x, y

    def data(self):
        x, y = self.dataset()
        scale = float(self.n_points) if self.reduction == "sum" else 1.0
        return (x, y, np.array([scale]))

    def data_bytes(self):
        return 8 * (5 * self.n_points + 1)

    def n_samples(self):
        return self.n_points

    def optimum(self):
        return np.array([self.w_true, self.b_true])

    def coord_names(self):
        return ["w", "b"]
