"""Small jitted helpers of the trajectory loop and the generated entry points."""

import math

import numpy as np
from numba import njit


@njit(cache=True)
def _norm(v):
    s = 0.0
    for i in range(v.shape[0]):
        s += v[i] * v[i]
    return math.sqrt(s)


@njit(cache=True)
def _rms(v):
    if v.shape[0] == 0:
        return np.nan
    s = 0.0
    for i in range(v.shape[0]):
        s += v[i] * v[i]
    return math.sqrt(s / v.shape[0])


@njit(cache=True)
def _stats(v, out):
    """min, mean and max of ``v`` into ``out[0:3]``."""
    lo = np.inf
    hi = -np.inf
    s = 0.0
    for i in range(v.shape[0]):
        lo = min(lo, v[i])
        hi = max(hi, v[i])
        s += v[i]
    out[0] = lo
    out[1] = s / v.shape[0]
    out[2] = hi


@njit(cache=True)
def _dist(x, xstar):
    if xstar.shape[0] == 0:
        return np.nan
    s = 0.0
    for i in range(x.shape[0]):
        s += (x[i] - xstar[i]) ** 2
    return math.sqrt(s)


@njit(cache=True, inline="always")
def _same_bits(a, b):
    return a == b or (a != a and b != b)


@njit(cache=True)
def _same_rows(hpo, hps, hpn, hpp, k0, k1):
    """True when trajectories k0 and k1 have identical hyperparameter rows (NaN equals NaN)."""
    for arr in (hpo, hps, hpn, hpp):
        for j in range(arr.shape[1]):
            if not _same_bits(arr[k0, j], arr[k1, j]):
                return False
    return True
