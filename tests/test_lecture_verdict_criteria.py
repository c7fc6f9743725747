"""The verdict rows of lectures 000, 001 and 004 at the tiny scale: each carries a criterion, a
statistic, its interval, a threshold and a status that agree with each other; deterministic
claims have a zero-width interval; claims far from their threshold keep their status with
another seed of the study's random draws."""

import re

import numpy as np
import pytest
from study_cache import tiny_results

from studies import lecture_000, lecture_001, lecture_004
from studies._criteria import STATUSES

STUDIES = [lecture_000, lecture_001, lecture_004]


def _status(lo, hi, threshold, above):
    if above:
        return "reproduced" if lo > threshold else ("not reproduced" if hi < threshold else "inconclusive")
    return "reproduced" if hi < threshold else ("not reproduced" if lo > threshold else "inconclusive")


def _direction(criterion):
    found = re.findall(r"\b(above|below) [-+0-9.e]+\)", criterion)
    assert found, criterion
    return found[-1] == "above"


def assert_consistent(row):
    """The row's status follows from its interval, threshold and direction (or, for a claim made of
    several conditions, from those of each condition)."""
    assert {"criterion", "statistic", "interval", "threshold", "status", "uncertainty"} <= set(row)
    assert row["status"] in STATUSES
    assert row["reproduced"] is (row["status"] == "reproduced")
    lo, hi = row["interval"]
    assert lo <= row["statistic"] <= hi
    assert row["uncertainty"] == pytest.approx(0.5 * (hi - lo))
    if "conditions" in row:
        conds = row["conditions"]
        for c in conds:
            assert c["status"] == _status(c["statistic"], c["statistic"], c["threshold"], c["above"])
        statuses = [c["status"] for c in conds]
        want = ("not reproduced" if "not reproduced" in statuses
                else "inconclusive" if "inconclusive" in statuses else "reproduced")
        assert row["status"] == want
        decisive = next(c for c in conds if c["status"] == want)
        assert (row["statistic"], row["threshold"]) == (decisive["statistic"], decisive["threshold"])
        assert decisive["label"] in row["criterion"]
    else:
        status = _status(lo, hi, row["threshold"], _direction(row["criterion"]))
        if row.get("note"):  # a scale known to be too short: "not reproduced" reads "inconclusive"
            assert (status, row["status"]) == ("not reproduced", "inconclusive")
            assert "too short" in row["note"]
        else:
            assert row["status"] == status


@pytest.mark.parametrize("study", STUDIES, ids=lambda s: s.NAME)
def test_rows_carry_consistent_criteria(study):
    rows = study.verdict(tiny_results(study))
    for row in rows:
        assert_consistent(row)
    stochastic = [r for r in rows if r["interval"][0] < r["interval"][1]]
    # only lecture 004's claim on sigma's early variance has random draws; the rest are exact
    assert len(stochastic) == (1 if study is lecture_004 else 0)
    for row in rows:
        if row not in stochastic:
            assert "deterministic" in row["criterion"] and row["uncertainty"] == 0.0


def test_lecture_000_tiny_statuses():
    rows = lecture_000.verdict(tiny_results(lecture_000))
    assert [r["status"] for r in rows] == ["reproduced"] * 5
    # the momentum/GD loss ratio is far below the claim's factor 0.1
    assert rows[0]["statistic"] < 0.5 * rows[0]["threshold"]


def test_lecture_001_statuses_do_not_change_with_the_seed():
    """The momentum identities hold for any replayed sequence: the same statuses for other seeds,
    with statistics orders of magnitude below their rounding tolerances."""
    base = lecture_001.verdict(tiny_results(lecture_001))
    assert [r["status"] == "reproduced" for r in base] == [True, False, False, False, True, True, False, True,
                                                           True, True]
    for seed in (2, 3, 17):
        rows = lecture_001.verdict(lecture_001.run("tiny", seed=seed))
        assert [r["status"] for r in rows] == [r["status"] for r in base]
        for row in rows[-3:]:
            assert_consistent(row)
            assert row["statistic"] < 1e-2 * row["threshold"]


def test_lecture_004_sigma_variance_claim_is_seed_stable():
    """Lecture 004's one stochastic claim: its 99% bootstrap interval lies far above the factor 2
    (in log terms more than 3 times its lower half-width), and another noise seed keeps it reproduced."""
    row = lecture_004.verdict(tiny_results(lecture_004))[-1]
    assert row["claim"].startswith("At the beginning the estimate of sigma^t has a large variance")
    assert row["status"] == "reproduced" and row["threshold"] == 2.0
    lo, _ = row["interval"]
    assert np.log(row["statistic"] / row["threshold"]) > 3 * np.log(row["statistic"] / lo)
    for seed in (2, 3):
        other = lecture_004.verdict(lecture_004.run("tiny", seed=seed))
        assert other[-1]["status"] == "reproduced"
        assert other[-1]["interval"] != row["interval"]  # the seed does change the draws
        assert [r["status"] for r in other[:-1]] == [r["status"] for r in lecture_004.verdict(
            tiny_results(lecture_004))[:-1]]  # the exact-gradient claims do not depend on it


def test_lecture_004_decay_claim_too_short_at_tiny():
    """Decay first comes within 1% of the start distance at step 1253; the tiny scale's 600 steps
    cannot show it, so the claim is inconclusive there (reproduced at quick and paper)."""
    row = lecture_004.verdict(tiny_results(lecture_004))[6]
    assert row["claim"].startswith("With learning-rate decay eta^t the method reaches the end smoothly")
    assert row["status"] == "inconclusive" and "1253" in row["note"]
    assert row["statistic"] > row["threshold"]
