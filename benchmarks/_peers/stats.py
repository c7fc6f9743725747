"""Statistical agreement between an implementation's final losses and optsim's.

The rule, applied per cell (optimizer x learning rate) on the final loss of every
replicate:

1. *Divergence.*  A trajectory has diverged when its final loss is not finite or exceeds
   optsim's bound ``1e8 * max(1, |f(x0)|)`` (optsim freezes such a trajectory and reports
   ``inf``; peers just run on into inf/NaN).  The diverged fractions ``p1, p2`` must agree:
   ``|p1 - p2| <= max_z * sqrt(p (1 - p) (1/n1 + 1/n2))`` with ``p`` the pooled fraction
   (a two-proportion z-test), or ``|p1 - p2| <= 1 / max(n1, n2)`` (one trajectory of slack).
2. *Loss level.*  Among the trajectories that did not diverge (when there are at least two
   in one sample and one in the other), the means of ``log10(final loss)`` must agree:
   ``|m1 - m2| <= max_z * s_p * sqrt(1/n1 + 1/n2)`` with ``s_p`` the pooled standard
   deviation (the two-sample t statistic, valid under the null hypothesis that both
   samples come from the same distribution, and usable for a peer with one or two
   replicates), or ``|m1 - m2| <= abs_tol`` (``abs_tol`` = 1e-3 decades by default, for
   cells without spread).

A cell passes when both hold; an implementation agrees when every cell passes.  The
random streams differ between implementations, so only distributions can be compared.

W5 (the MLP, :func:`compare_metrics`) records several metrics; per cell the same two tests
run on the final training loss (its log10, as above), and the final test accuracy gets a
third: among the trajectories that did not diverge, the means of the accuracy (a
fraction) must agree by the same pooled two-sample z (``|m1 - m2| <= acc_tol`` also
passes, 1e-3 by default: less than one example of a test set under 1000).
"""

from __future__ import annotations

import numpy as np

__all__ = ["compare", "compare_metrics", "diverged_mask"]


def diverged_mask(final, bound):
    final = np.asarray(final, dtype=float)
    with np.errstate(invalid="ignore"):
        return ~(np.isfinite(final) & (np.abs(final) <= bound))


def _log10(v):
    return np.log10(np.maximum(v, 1e-300))


def compare(ref_final, peer_final, bound, max_z=5.0, abs_tol=1e-3):
    """Compare final losses shaped (optimizers, lrs, replicates) cell by cell.

    Returns a dict: ``agree`` (bool), ``max_z_loss``, ``max_z_div``, ``cells``,
    ``cells_compared`` (cells with a loss comparison), ``failures`` (a list of
    ``{cell, reason, ...}``) and the per-cell means (``mean_ref``, ``mean_peer``; NaN where
    not compared).
    """
    ref = np.asarray(ref_final, dtype=float)
    peer = np.asarray(peer_final, dtype=float)
    if ref.shape[:2] != peer.shape[:2]:
        raise ValueError(f"cell shapes differ: {ref.shape[:2]} vs {peer.shape[:2]}")
    O, L = ref.shape[:2]
    failures = []
    zmax_loss = 0.0
    zmax_div = 0.0
    compared = 0
    mean_ref = np.full((O, L), np.nan)
    mean_peer = np.full((O, L), np.nan)
    div_ref = np.zeros((O, L))
    div_peer = np.zeros((O, L))
    for o in range(O):
        for l in range(L):
            a, b = ref[o, l], peer[o, l]
            da, db = diverged_mask(a, bound), diverged_mask(b, bound)
            n1, n2 = a.size, b.size
            p1, p2 = da.mean(), db.mean()
            div_ref[o, l], div_peer[o, l] = p1, p2
            p = (da.sum() + db.sum()) / (n1 + n2)
            se = np.sqrt(p * (1.0 - p) * (1.0 / n1 + 1.0 / n2))
            dp = abs(p1 - p2)
            z = dp / se if se > 0 else (0.0 if dp == 0 else np.inf)
            zmax_div = max(zmax_div, float(z))
            if not (z <= max_z or dp <= 1.0 / max(n1, n2) + 1e-12):
                failures.append({"cell": [o, l], "reason": "diverged fraction", "ref": float(p1),
                                 "peer": float(p2), "z": float(z)})
            la, lb = _log10(a[~da]), _log10(b[~db])
            k1, k2 = la.size, lb.size
            if k1 + k2 < 3 or k1 < 1 or k2 < 1:
                continue
            compared += 1
            m1, m2 = la.mean(), lb.mean()
            mean_ref[o, l], mean_peer[o, l] = m1, m2
            ss = ((la - m1) ** 2).sum() + ((lb - m2) ** 2).sum()
            sp = np.sqrt(ss / (k1 + k2 - 2))
            se = sp * np.sqrt(1.0 / k1 + 1.0 / k2)
            diff = abs(m1 - m2)
            z = diff / se if se > 0 else (0.0 if diff == 0 else np.inf)
            zmax_loss = max(zmax_loss, float(z) if diff > abs_tol else 0.0)
            if not (z <= max_z or diff <= abs_tol):
                failures.append({"cell": [o, l], "reason": "mean log10 final loss", "ref": float(m1),
                                 "peer": float(m2), "z": float(z)})
    return {
        "agree": not failures,
        "max_z_loss": zmax_loss,
        "max_z_div": zmax_div,
        "cells": O * L,
        "cells_compared": compared,
        "failures": failures,
        "mean_ref": mean_ref.tolist(),
        "mean_peer": mean_peer.tolist(),
        "diverged_ref": div_ref.tolist(),
        "diverged_peer": div_peer.tolist(),
        "max_z": max_z,
        "abs_tol": abs_tol,
    }


def _pooled_z(a, b):
    """(mean a, mean b, |difference| / its pooled standard error) of two samples."""
    m1, m2 = a.mean(), b.mean()
    ss = ((a - m1) ** 2).sum() + ((b - m2) ** 2).sum()
    sp = np.sqrt(ss / (a.size + b.size - 2))
    se = sp * np.sqrt(1.0 / a.size + 1.0 / b.size)
    diff = abs(m1 - m2)
    return m1, m2, (diff / se if se > 0 else (0.0 if diff == 0 else np.inf))


def compare_metrics(ref, peer, bound, max_z=5.0, abs_tol=1e-3, acc_tol=1e-3):
    """:func:`compare` of dicts of final records ``{"loss", "test_accuracy", ...}`` (each
    (optimizers, lrs, replicates)): the diverged fraction and the mean log10 final
    training loss as :func:`compare` does, and the mean final test accuracy.

    The result has :func:`compare`'s keys and ``max_z_acc``, ``mean_acc_ref``,
    ``mean_acc_peer``; a failure's ``reason`` names the metric.
    """
    out = compare(ref["loss"], peer["loss"], bound, max_z=max_z, abs_tol=abs_tol)
    ra, pa = np.asarray(ref["test_accuracy"], dtype=float), np.asarray(peer["test_accuracy"], dtype=float)
    O, L = ra.shape[:2]
    acc_ref = np.full((O, L), np.nan)
    acc_peer = np.full((O, L), np.nan)
    zmax = 0.0
    for o in range(O):
        for l in range(L):
            ka = ~diverged_mask(ref["loss"][o, l], bound) & np.isfinite(ra[o, l])
            kb = ~diverged_mask(peer["loss"][o, l], bound) & np.isfinite(pa[o, l])
            a, b = ra[o, l][ka], pa[o, l][kb]
            if a.size + b.size < 3 or a.size < 1 or b.size < 1:
                continue
            m1, m2, z = _pooled_z(a, b)
            acc_ref[o, l], acc_peer[o, l] = m1, m2
            diff = abs(m1 - m2)
            zmax = max(zmax, float(z) if diff > acc_tol else 0.0)
            if not (z <= max_z or diff <= acc_tol):
                out["failures"].append({"cell": [o, l], "reason": "mean final test accuracy", "ref": float(m1),
                                        "peer": float(m2), "z": float(z)})
    out.update(agree=not out["failures"], max_z_acc=zmax, mean_acc_ref=acc_ref.tolist(),
               mean_acc_peer=acc_peer.tolist(), acc_tol=acc_tol)
    for f in out["failures"]:
        if f["reason"] == "mean log10 final loss":
            f["reason"] = "mean log10 final training loss"
    return out
