r"""The compiled step loop of :mod:`optsim._linear` for a noise covariance that is diagonal in
the eigenbasis: every coordinate's mean and covariance propagated on its own.

Per update :math:`t` and coordinate :math:`i` the step matrices are
:math:`M = M^{(0)}_t + p_i M^{(1)}_t`, :math:`n = n^{(0)}_t + p_i n^{(1)}_t` (``p`` a
per-coordinate factor: the frozen preconditioner of a linearized rule, else 0), and with
:math:`q = \pm h_i e_t + \lambda f_t`

.. math::

    A = M + n q^\top, \qquad \mu' = A\mu + \lambda w_i n, \qquad P' = A P A^\top + \Sigma_{ii} n n^\top

Importing this module compiles nothing: the loop compiles on its first call (cached).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["propagate_diagonal"]


@njit(cache=True)
def _propagate(M0, M1, n0, n1, E, F, p, h, sgn, lam, w, sigma, mean, P, rec, r, out_mean, out_var):
    T = M0.shape[0]
    d = h.shape[0]
    k = M0.shape[1]
    A = np.empty((k, k))
    n = np.empty(k)
    m2 = np.empty(k)
    AP = np.empty((k, k))
    j = 0
    if rec.shape[0] > 0 and rec[0] == 0:
        for i in range(d):
            out_mean[0, i] = mean[i, r]
            out_var[0, i] = P[i, r, r]
        j = 1
    for t in range(T):
        if j >= rec.shape[0]:
            break
        for i in range(d):
            hi = sgn * h[i]
            pi = p[i]
            for a in range(k):
                n[a] = n0[t, a] + pi * n1[t, a]
            for a in range(k):
                for b in range(k):
                    A[a, b] = M0[t, a, b] + pi * M1[t, a, b] + n[a] * (hi * E[t, b] + lam * F[t, b])
            kick = lam * w[i]
            for a in range(k):
                s = n[a] * kick
                for b in range(k):
                    s += A[a, b] * mean[i, b]
                m2[a] = s
            for a in range(k):
                mean[i, a] = m2[a]
            for a in range(k):
                for b in range(k):
                    s = 0.0
                    for c in range(k):
                        s += A[a, c] * P[i, c, b]
                    AP[a, b] = s
            si = sigma[i]
            for a in range(k):
                for b in range(k):
                    s = si * n[a] * n[b]
                    for c in range(k):
                        s += AP[a, c] * A[b, c]
                    P[i, a, b] = s
        if rec[j] == t + 1:
            for i in range(d):
                out_mean[j, i] = mean[i, r]
                out_var[j, i] = P[i, r, r]
            j += 1


def propagate_diagonal(M0, M1, n0, n1, E, F, p, h, sgn, lam, w, sigma, mean, P, rec, r):
    """(means, variances) of state row ``r`` at the steps ``rec``, each ``(len(rec), d)``;
    ``mean`` (d, k) and ``P`` (d, k, k) are the start and are overwritten."""
    out_mean = np.full((rec.shape[0], h.shape[0]), np.nan)
    out_var = np.full((rec.shape[0], h.shape[0]), np.nan)
    _propagate(np.ascontiguousarray(M0, dtype=np.float64), np.ascontiguousarray(M1, dtype=np.float64),
               np.ascontiguousarray(n0, dtype=np.float64), np.ascontiguousarray(n1, dtype=np.float64),
               np.ascontiguousarray(E, dtype=np.float64), np.ascontiguousarray(F, dtype=np.float64),
               np.ascontiguousarray(p, dtype=np.float64), np.ascontiguousarray(h, dtype=np.float64), float(sgn),
               float(lam), np.ascontiguousarray(w, dtype=np.float64), np.ascontiguousarray(sigma, dtype=np.float64),
               np.ascontiguousarray(mean, dtype=np.float64), np.ascontiguousarray(P, dtype=np.float64),
               np.ascontiguousarray(rec, dtype=np.int64), int(r), out_mean, out_var)
    return out_mean, out_var
