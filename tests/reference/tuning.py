"""Oracles of the tuning readouts, by brute force: every subset of trials, every table entry by hand.

- :func:`best_of_k_enumerated`: the mean and variance of the reported value of the
  best-on-validation trial over every size-``k`` subset (without replacement) or every
  ordered ``k``-tuple (with replacement) of ``N`` trials, ties going to the lower index;
- :func:`dodge_expected_max`: Dodge et al.'s (2019) empirical-CDF formula of the expected
  maximum of ``k`` draws with replacement;
- :func:`profile_by_hand`: Dolan and More's rho_s(tau) written as two loops.
"""

import itertools

import numpy as np


def best_of_k_enumerated(val, rep, k, replace=False, minimize=True):
    n = len(val)
    picks = []
    subsets = itertools.product(range(n), repeat=k) if replace else itertools.combinations(range(n), k)
    for sub in subsets:
        best = None
        for i in sub:
            v = val[i] if minimize else -val[i]
            if best is None or v < best[0] or (v == best[0] and i < best[1]):
                best = (v, i)
        picks.append(rep[best[1]])
    picks = np.array(picks, dtype=float)
    return picks.mean(), picks.var()


def dodge_expected_max(v, k):
    """sum_i v_(i) [F(v_(i))^k - F(v_(i-1))^k] with the empirical CDF F of ``v`` (distinct values)."""
    v = np.sort(np.asarray(v, dtype=float))
    n = len(v)
    total = 0.0
    for i in range(n):
        total += v[i] * (((i + 1) / n) ** k - (i / n) ** k)
    return total


def profile_by_hand(table, tau):
    """``table[p][s]``: cost of solver s on problem p (inf: failed)."""
    n_p, n_s = len(table), len(table[0])
    out = []
    for s in range(n_s):
        count = 0
        for p in range(n_p):
            best = min(table[p])
            if np.isfinite(table[p][s]) and table[p][s] / best <= tau:
                count += 1
        out.append(count / n_p)
    return out
