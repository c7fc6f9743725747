"""Small jitted helpers of the generated kernels."""

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


@njit(cache=True)
def _fill_diverged(k, b, d, r, R, x, S, out_loss, out_test, out_gnorm, out_dist, out_params,
                   out_eff, out_effstats, out_state, out_statenorm):
    """Records ``r`` to ``R - 1`` of trajectory ``k`` (block position ``b``), which diverged
    at the current step: losses inf, parameters and state frozen where they are, effective
    rates NaN."""
    for rr in range(r, R):
        if out_loss.shape[1] > 0:
            out_loss[k, rr] = np.inf
        if out_test.shape[1] > 0:
            out_test[k, rr] = np.inf
        if out_gnorm.shape[1] > 0:
            out_gnorm[k, rr] = np.inf
        if out_dist.shape[1] > 0:
            out_dist[k, rr] = np.inf
        if out_params.shape[1] > 0:
            for i in range(d):
                out_params[k, rr, i] = x[i]
        if out_eff.shape[1] > 0:
            for i in range(d):
                out_eff[k, rr, i] = np.nan
        if out_effstats.shape[1] > 0:
            for i in range(3):
                out_effstats[k, rr, i] = np.nan
        if out_state.shape[1] > 0:
            for s in range(S.shape[0]):
                for i in range(d):
                    out_state[k, rr, s, i] = S[s, b * d + i]
        if out_statenorm.shape[1] > 0:
            for s in range(S.shape[0]):
                out_statenorm[k, rr, s] = np.nan
