"""Checks of judged verdict rows, independent of ``studies._criteria``: the status a row's
interval and threshold imply, and whether its verdict is far enough from its threshold to be
expected to keep its status with another seed."""


def implied_status(row):
    """The status a row's interval and threshold imply, read independently of judge(): the claimed
    side is the last "above" or "below" in the criterion's closing parenthesis."""
    tail = row["criterion"].rsplit("(", 1)[-1]
    above, below = tail.rfind(" above "), tail.rfind(" below ")
    assert max(above, below) >= 0, row["criterion"]
    lo, hi = row["interval"]
    t = row["threshold"]
    if above > below:
        return "reproduced" if lo > t else ("not reproduced" if hi < t else "inconclusive")
    return "reproduced" if hi < t else ("not reproduced" if lo > t else "inconclusive")


def far_from_threshold(row, factor=1.5):
    """The statistic lies more than ``factor`` times its interval's reach (from the statistic
    towards the threshold) away from the threshold: 1.5 times a 99% reach is about 4 standard
    errors."""
    lo, hi = row["interval"]
    reach = row["statistic"] - lo if row["statistic"] > row["threshold"] else hi - row["statistic"]
    return abs(row["statistic"] - row["threshold"]) > factor * reach


def assert_firm_verdicts_keep_their_status(runs, at_least, factor=1.5):
    """``runs``: the verdict rows of one study under several seeds.  Every claim far from its
    threshold at every seed has the same status at each; returns how many there were, at least
    ``at_least``."""
    firm = 0
    for k in range(len(runs[0])):
        rows = [r[k] for r in runs]
        if all(far_from_threshold(r, factor) for r in rows):
            firm += 1
            assert len({r["status"] for r in rows}) == 1, rows
    assert firm >= at_least
    return firm
