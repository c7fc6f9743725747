"""Pieces shared by the update rules."""

from numba import njit


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
