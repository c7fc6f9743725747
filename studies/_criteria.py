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

__all__ = ["STATUSES", "judge", "exact", "all_of", "within", "scale_of", "mean_interval", "normal_interval", "paired_decrease",
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
    """The verdict fields of a claim made of several criteria that must all hold.

    Some claims are a conjunction ("the loss stays flat, the iterate changes side at nearly
    every step and the gradient stays large").  Each of ``parts`` is either a judged row
    (the fields :func:`judge`, :func:`exact` or :func:`within` return) or, for a
    deterministic condition, ``(label, statistic, threshold, above)``, judged with
    :func:`exact` (an undefined, NaN, statistic fails its condition).  The claim is
    "reproduced" when every part is; its row is the part that decides it (the first that is
    not reproduced, else the first inconclusive one, else the first part, the claim's
    headline), so that its ``statistic``, ``interval``, ``threshold`` and ``status`` stay
    consistent with each other; its criterion names every part and ends with the one shown,
    and every part is kept under ``conditions``.  ``too_short`` as in :func:`judge`.
    """
    if not parts:
        raise ValueError("parts must name at least one condition, got none")
    judged = []
    for part in parts:
        if isinstance(part, dict):
            judged.append((part["criterion"], None, part))
            continue
        label, stat, threshold, above = part
        stat = float(stat)
        if np.isnan(stat):  # undefined: a value on the failing side
            stat = float("-inf") if above else float("inf")
        judged.append((label, bool(above), exact(stat, threshold, above=above, criterion=label)))
    statuses = [r["status"] for _, _, r in judged]
    k = next((statuses.index(s) for s in ("not reproduced", "inconclusive") if s in statuses), 0)
    row = dict(judged[k][2])
    listed = "; ".join(f"({chr(97 + n)}) {lab}" for n, (lab, _, _) in enumerate(judged))
    row["criterion"] = f"{criterion}: all of {listed}; shown: ({chr(97 + k)}) {row['criterion']}"
    if too_short and row["status"] == "not reproduced":
        row.update(status="inconclusive", reproduced=False, note=f"this scale is too short for the effect: {too_short}")
    row["conditions"] = [{"label": lab, "above": above, **{key: r[key] for key in
                          ("criterion", "statistic", "interval", "threshold", "status")}}
                         for lab, above, r in judged]
    return row


def within(statistic, interval, low, high, *, criterion, level=LEVEL):
    """The verdict fields of a claim "low < statistic < high" (an equivalence band).

    The claim holds where the interval lies inside the band and fails where it lies wholly
    outside it; the row is judged against the bound the interval comes closer to crossing (a
    one-sided :func:`judge` against ``high`` from below or against ``low`` from above), so
    that its threshold is the bound that decides.
    """
    lo, hi = interval
    if hi - high >= low - lo:
        return judge(statistic, interval, high, above=False, criterion=criterion, level=level)
    return judge(statistic, interval, low, above=True, criterion=criterion, level=level)


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
    the percentile interval widened where needed to contain the estimate.  A statistic may be
    infinite (a run that diverged); a NaN one counts as +inf, and where any draw is infinite
    the quantiles are the nearest draws instead of interpolations.

    A statistic that returns a 1-d array (several statistics of the same resamples) gives a
    list of ``(estimate, (lo, hi))``, one per entry: each the same as a call with that entry
    alone, the resamples drawn once.
    """
    rng = np.random.default_rng(seed)
    est = _undefined_as_inf(statistic(np.arange(samples)))
    boots = _undefined_as_inf(np.array([statistic(rng.integers(0, samples, samples)) for _ in range(n_boot)],
                                       dtype=float))
    if np.ndim(est) == 0:
        return _percentile_interval(est, boots, level)
    return [_percentile_interval(float(e), boots[:, j], level) for j, e in enumerate(est)]


def _percentile_interval(est, boots, level):
    """``(est, (lo, hi))``: the percentile interval of the draws ``boots``, widened to contain ``est``."""
    # interpolating between an infinite and a finite draw gives NaN: take the nearest draw then
    method = "linear" if np.isfinite(boots).all() else "nearest"
    lo, hi = np.quantile(boots, [0.5 - level / 2, 0.5 + level / 2], method=method)
    return est, (min(float(lo), est), max(float(hi), est))


def _undefined_as_inf(x):
    """``x`` with NaN (a run that overflowed, an estimate that never got there) as +inf."""
    x = np.where(np.isnan(x), np.inf, np.asarray(x, dtype=float))
    return float(x) if x.ndim == 0 else x
