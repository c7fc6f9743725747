"""Verdict fields of a deterministic claim made of several conditions that must all hold.

Some claims of the lecture studies are a conjunction ("the loss stays flat, the iterate
changes side at nearly every step and the gradient stays large"), each condition a
deterministic quantity with its own bound.  :func:`all_of` judges each condition with
:func:`studies._criteria.exact` and returns one verdict row's fields: the status is
"reproduced" when every condition holds, and the row's ``statistic`` and ``threshold``
are those of the condition that decides it (the first that fails, else the first
condition, the claim's headline), so that ``statistic``, ``threshold`` and ``status``
stay consistent with each other.  Every condition is kept under ``conditions``.
"""

from __future__ import annotations

from studies._criteria import exact

__all__ = ["all_of"]


def all_of(parts, *, criterion):
    """``parts``: ``(label, statistic, threshold, above)`` for each condition, in order (the
    first is the headline).  Returns the fields to merge into a verdict row (as
    :func:`~studies._criteria.exact`), with ``conditions`` (label, statistic, threshold,
    above, status of each) added."""
    if not parts:
        raise ValueError("parts must name at least one condition, got none")
    judged = [(label, exact(s, t, above=above, criterion=label), above) for label, s, t, above in parts]
    failing = [j for j in judged if j[1]["status"] == "not reproduced"]
    open_ = [j for j in judged if j[1]["status"] == "inconclusive"]
    label, row, _ = (failing or open_ or judged)[0]
    row = dict(row)
    listed = "; ".join(f"{lab} {'above' if ab else 'below'} {r['threshold']:g}" for lab, r, ab in judged)
    row["criterion"] = (f"{criterion}: all of [{listed}] (deterministic, no Monte-Carlo error); "
                        f"the statistic is that of '{label}'")
    row["conditions"] = [{"label": lab, "statistic": r["statistic"], "threshold": r["threshold"], "above": ab,
                          "status": r["status"]} for lab, r, ab in judged]
    return row
