"""Verdict criteria that respect Monte-Carlo error.

A study's claim is judged from a statistic, its uncertainty and a threshold, never from a
point estimate alone, so that the same claim reaches the same verdict at every scale where
the effect is real, and says so when it cannot be told apart from the noise:

- ``"reproduced"``: the statistic is on the claimed side of the threshold with the stated
  confidence (its interval lies wholly on that side);
- ``"not reproduced"``: it is on the other side with the same confidence;
- ``"inconclusive"``: the interval contains the threshold: the effect, if there is one, is
  within the Monte-Carlo error of this scale (a larger scale narrows the interval).

:func:`judge` turns a statistic and its interval into the verdict row's fields
(``criterion``, ``statistic``, ``uncertainty``, ``interval``, ``threshold``, ``status`` and
``reproduced``), which the runner keeps in ``verdict.json``.  The interval comes from
:func:`mean_interval` (a mean over independent groups, with a t quantile),
:func:`paired_decrease` (the smallest of several paired differences, Bonferroni-adjusted)
or :func:`bootstrap_interval` (any statistic of resampled replicates).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["STATUSES", "judge", "exact", "all_of", "scale_of", "mean_interval", "normal_interval", "paired_decrease",
           "bootstrap_interval"]

STATUSES = ("reproduced", "not reproduced", "inconclusive")

#: the default two-sided confidence of every interval (one-sided 0.5%)
LEVEL = 0.99


def _finite(x):
    return float(x) if np.isfinite(x) else (float("inf") if x > 0 else float("-inf"))


def judge(statistic, interval, threshold, *, above=True, criterion, level=LEVEL, too_short=None):
    """The verdict fields of a claim "statistic > threshold" (``above``) or "< threshold".

    ``interval`` is ``(low, high)`` at confidence ``level``.  Returns a dict to merge into
    the verdict row: ``status`` (one of :data:`STATUSES`), ``reproduced`` (True only for
    ``"reproduced"``), ``criterion`` (the text, with the level), ``statistic``,
    ``interval``, ``uncertainty`` (half the interval's width) and ``threshold``.

    ``too_short``: a reason (e.g. ``"the effect needs 10^5 steps; quick runs 10^3"``) given
    when the study knows that this scale is shorter than the effect needs (typically only
    below the paper scale).  A claim that would then be "not reproduced" is "inconclusive"
    instead, and the row gains a ``note`` saying that the scale is too short and why.
    """
    lo, hi = (float(interval[0]), float(interval[1]))
    if not lo <= hi:
        raise ValueError(f"interval=({lo}, {hi}) must have low <= high")
    if above:
        status = "reproduced" if lo > threshold else ("not reproduced" if hi < threshold else "inconclusive")
    else:
        status = "reproduced" if hi < threshold else ("not reproduced" if lo > threshold else "inconclusive")
    half = 0.5 * (hi - lo) if np.isfinite(hi - lo) else float("inf")
    row = {
        "criterion": f"{criterion} ({100 * level:g}% interval {'above' if above else 'below'} {threshold:g})",
        "statistic": _finite(statistic), "interval": [_finite(lo), _finite(hi)], "uncertainty": half,
        "threshold": float(threshold), "status": status, "reproduced": status == "reproduced",
    }
    if too_short and status == "not reproduced":
        row.update(status="inconclusive", note=f"this scale is too short for the effect: {too_short}")
    return row


def exact(statistic, threshold, *, above=True, criterion, too_short=None):
    """The verdict fields of a claim about a deterministic quantity (no Monte-Carlo error).

    For claims computed without random draws (exact-gradient trajectories, closed forms,
    surfaces): the interval is the statistic itself and the uncertainty 0, so the status
    is "reproduced" or "not reproduced" (never "inconclusive", unless the statistic equals
    the threshold).  ``too_short`` as in :func:`judge`.
    """
    s = float(statistic)
    row = judge(s, (s, s), threshold, above=above, criterion=criterion, too_short=too_short)
    row["criterion"] = (f"{criterion} (deterministic, no Monte-Carlo error: "
                        f"{'above' if above else 'below'} {threshold:g})")
    return row


def all_of(parts, *, criterion, too_short=None):
    """The verdict fields of a deterministic claim made of several conditions that must all hold.

    Some claims are a conjunction ("the loss stays flat, the iterate changes side at nearly
    every step and the gradient stays large"), each condition a deterministic quantity with
    its own bound.  ``parts``: ``(label, statistic, threshold, above)`` for each condition,
    in order (the first is the claim's headline); an undefined (NaN) statistic fails its
    condition.  Each condition is judged with :func:`exact`; the claim is "reproduced" when
    every one holds, and the row's ``statistic`` and ``threshold`` are those of the
    condition that decides it (the first that fails, else the headline), so that they stay
    consistent with ``status``.  Every condition is kept under ``conditions``.
    ``too_short`` as in :func:`judge`.
    """
    if not parts:
        raise ValueError("parts must name at least one condition, got none")
    judged = []
    for label, stat, threshold, above in parts:
        stat = float(stat)
        if np.isnan(stat):  # undefined: a value on the failing side
            stat = float("-inf") if above else float("inf")
        judged.append((label, exact(stat, threshold, above=above, criterion=label), above))
    failing = [j for j in judged if j[1]["status"] == "not reproduced"]
    open_ = [j for j in judged if j[1]["status"] == "inconclusive"]
    label, row, above = (failing or open_ or judged)[0]
    listed = "; ".join(f"{lab} {'above' if ab else 'below'} {r['threshold']:g}" for lab, r, ab in judged)
    row = exact(row["statistic"], row["threshold"], above=above, too_short=too_short,
                criterion=f"{criterion}: all of [{listed}]; the statistic is that of '{label}'")
    row["conditions"] = [{"label": lab, "statistic": r["statistic"], "threshold": r["threshold"], "above": ab,
                          "status": r["status"]} for lab, r, ab in judged]
    return row


def scale_of(results):
    """The scale (``"tiny"``, ``"quick"`` or ``"paper"``) a study's results were computed at.

    The runner stamps every saved dataset with ``study_scale``; ``None`` for results made
    by calling ``run()`` directly.
    """
    for ds in results.values():
        scale = ds.attrs.get("study_scale")
        if scale is not None:
            return str(scale)
    return None


def mean_interval(values, level=LEVEL):
    """Mean of independent ``values`` (groups, replicates) and its t interval: ``(mean, (lo, hi))``."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if v.size < 2:
        m = float(v[0]) if v.size else float("nan")
        return m, (float("-inf"), float("inf"))
    m = float(v.mean())
    se = float(v.std(ddof=1) / np.sqrt(v.size))
    q = float(stats.t.ppf(0.5 + level / 2, v.size - 1))
    return m, (m - q * se, m + q * se)


def normal_interval(estimate, se, level=LEVEL):
    """``(estimate, (lo, hi))``: the normal interval of an estimate with standard error ``se``."""
    q = float(stats.norm.ppf(0.5 + level / 2))
    return float(estimate), (float(estimate) - q * float(se), float(estimate) + q * float(se))


def paired_decrease(series, level=LEVEL):
    """The smallest decrease between consecutive checkpoints, with a Bonferroni interval.

    ``series`` is (groups, checkpoints): each row one independent group's values at the
    checkpoints (e.g. log variances at well-separated steps).  For each consecutive pair the
    per-group decrease ``series[:, k] - series[:, k + 1]`` is averaged over the groups with
    its t interval at level ``1 - (1 - level) / pairs``; the pair with the lowest lower bound
    is returned as ``(decrease, (lo, hi), k)``.
    """
    s = np.asarray(series, dtype=float)
    pairs = s.shape[1] - 1
    if pairs < 1:
        raise ValueError(f"series must have at least 2 checkpoints, got shape {s.shape}")
    adj = 1.0 - (1.0 - level) / pairs
    best = None
    for k in range(pairs):
        m, (lo, hi) = mean_interval(s[:, k] - s[:, k + 1], adj)
        if best is None or lo < best[1][0]:
            best = (m, (lo, hi), k)
    return best


def bootstrap_interval(statistic, samples, n_boot=400, level=LEVEL, seed=0):
    """Percentile bootstrap of ``statistic(indices)`` over resampled replicates.

    ``statistic`` takes an integer array of replicate indices (drawn with replacement from
    ``range(samples)``) and returns a float; it is evaluated once on ``arange(samples)``
    for the point estimate and ``n_boot`` times on resamples.  Returns ``(estimate, (lo, hi))``,
    the percentile interval widened where needed to contain the estimate.
    """
    rng = np.random.default_rng(seed)
    est = float(statistic(np.arange(samples)))
    boots = np.array([statistic(rng.integers(0, samples, samples)) for _ in range(n_boot)], dtype=float)
    lo, hi = np.quantile(boots, [0.5 - level / 2, 0.5 + level / 2])
    return est, (min(float(lo), est), max(float(hi), est))
