"""Pieces shared by the update rules."""

from numba import njit

from .._components import layout

MOMENTS = layout(("m", "v"), "Moments")
"""The rows of Adam's moments in ``S``: the rules that call :func:`adam_moments` (Adam,
AMSGrad, RAdam, AdaBound, NAdam, SWATS) keep m and v as their first two state rows."""


@njit(cache=True)
def no_init(x, S, sc, hp):
    """``init`` of the rules whose state starts at zero (the engine zeroes ``S`` and ``sc``)."""


@njit(cache=True, inline="always")
def l2_gradient(gi, xi, wd, maximize):
    """PyTorch's preamble: negate the gradient for ``maximize``, then add the coupled L2 term."""
    if maximize:
        gi = -gi
    if wd != 0.0:
        gi = gi + wd * xi
    return gi


@njit(cache=True, inline="always")
def heavy_ball(xi, gi, bi, t, lr, momentum, dampening, nesterov):
    """PyTorch's SGD momentum step on one coordinate: ``(x_i, buffer_i)`` after the update
    with gradient ``gi`` (the buffer starts as the first gradient, undampened)."""
    if t == 1:
        b = gi
    else:
        b = momentum * bi + (1.0 - dampening) * gi
    d = gi + momentum * b if nesterov else b
    return xi - lr * d, b


@njit(cache=True, inline="always")
def adam_moments(S, i, gi, beta1, beta2):
    """Adam's moment estimates of coordinate i after gradient ``gi``: ``m = S[MOMENTS.m, i]``
    and ``v = S[MOMENTS.v, i]``, updated in place and returned."""
    m = beta1 * S[MOMENTS.m, i] + (1.0 - beta1) * gi
    v = beta2 * S[MOMENTS.v, i] + (1.0 - beta2) * gi * gi
    S[MOMENTS.m, i] = m
    S[MOMENTS.v, i] = v
    return m, v
