"""The Monte-Carlo-aware verdict criteria (studies/_criteria.py) and how the runner keeps them."""

import json

import numpy as np
import pytest
from scipy import stats

from studies import _criteria as C
from studies import _runner as R


def test_mean_interval_is_the_t_interval():
    rng = np.random.default_rng(1)
    v = rng.normal(2.0, 3.0, 17)
    m, (lo, hi) = C.mean_interval(v, level=0.95)
    want = stats.t.interval(0.95, 16, loc=v.mean(), scale=stats.sem(v))
    assert m == pytest.approx(v.mean())
    assert (lo, hi) == pytest.approx(want, rel=1e-12)


def test_mean_interval_covers_at_its_level():
    rng = np.random.default_rng(2)
    hits = 0
    for _ in range(2000):
        _, (lo, hi) = C.mean_interval(rng.exponential(1.0, 40), level=0.9)
        hits += lo <= 1.0 <= hi
    assert 0.85 < hits / 2000 < 0.93  # a t interval of skewed data covers a little less than 90%


def test_judge_three_states_and_fields():
    up = C.judge(2.0, (1.0, 3.0), 0.5, criterion="c")
    assert up["status"] == "reproduced" and up["reproduced"] is True
    assert up["uncertainty"] == 1.0 and up["interval"] == [1.0, 3.0] and up["threshold"] == 0.5
    assert C.judge(2.0, (0.0, 3.0), 0.5, criterion="c")["status"] == "inconclusive"
    assert C.judge(-2.0, (-3.0, -1.0), 0.5, criterion="c")["status"] == "not reproduced"
    below = C.judge(-2.0, (-3.0, -1.0), 0.5, above=False, criterion="c")
    assert below["status"] == "reproduced" and "below 0.5" in below["criterion"]
    assert C.judge(1.0, (float("-inf"), float("inf")), 0.0, criterion="c")["status"] == "inconclusive"
    with pytest.raises(ValueError, match="interval"):
        C.judge(1.0, (2.0, 1.0), 0.0, criterion="c")


def test_too_short_turns_only_a_failure_into_inconclusive_with_a_note():
    short = C.judge(-2.0, (-3.0, -1.0), 0.5, criterion="c", too_short="needs 10^5 steps")
    assert short["status"] == "inconclusive" and short["reproduced"] is False
    assert "too short" in short["note"] and "10^5" in short["note"]
    ok = C.judge(2.0, (1.0, 3.0), 0.5, criterion="c", too_short="needs 10^5 steps")
    assert ok["status"] == "reproduced" and "note" not in ok
    text = R.format_verdict(R._check_verdict("x", [{"claim": "c", "source": "s", "expected": "e",
                                                    "measured": "m", **short}]))
    assert "note:     this scale is too short" in text


def test_exact_is_two_state_with_zero_uncertainty():
    row = C.exact(0.3, 0.5, above=False, criterion="rate")
    assert row["status"] == "reproduced" and row["uncertainty"] == 0.0 and row["interval"] == [0.3, 0.3]
    assert "deterministic" in row["criterion"] and "below 0.5" in row["criterion"]
    assert C.exact(0.7, 0.5, above=False, criterion="rate")["status"] == "not reproduced"
    assert C.exact(0.7, 0.5, above=False, criterion="rate", too_short="t")["status"] == "inconclusive"


def test_scale_of_reads_the_runners_stamp():
    import xarray as xr

    assert C.scale_of({"a": xr.Dataset(attrs={"study_scale": "paper"})}) == "paper"
    assert C.scale_of({"a": xr.Dataset()}) is None


def test_within_band_judges_the_nearer_bound():
    assert C.within(0.1, (-0.2, 0.3), -0.5, 0.5, criterion="c")["status"] == "reproduced"
    assert C.within(0.4, (0.2, 0.6), -0.5, 0.5, criterion="c")["status"] == "inconclusive"
    assert C.within(0.9, (0.6, 1.2), -0.5, 0.5, criterion="c")["status"] == "not reproduced"
    row = C.within(-0.9, (-1.2, -0.6), -0.5, 0.5, criterion="c")
    assert row["status"] == "not reproduced" and row["threshold"] == -0.5


def test_all_of_shows_the_deciding_part_of_judged_rows_and_conditions():
    ok = C.within(0.5, (0.4, 0.6), 0.1, 1.0, criterion="band")
    near = C.within(0.9, (0.8, 1.2), 0.1, 1.0, criterion="band")
    out = C.within(0.05, (0.02, 0.08), 0.1, 1.0, criterion="band")
    row = C.all_of([ok, near, out], criterion="claim")
    assert row["status"] == "not reproduced" and row["statistic"] == 0.05 and len(row["conditions"]) == 3
    assert row["criterion"].startswith("claim: all of (a) band") and "shown: (c)" in row["criterion"]
    assert C.all_of([ok, near], criterion="c")["status"] == "inconclusive"
    both = C.all_of([ok, ("x < 2", 1.0, 2.0, False)], criterion="c")
    assert both["status"] == "reproduced" and both["statistic"] == 0.5 and "shown: (a)" in both["criterion"]
    assert both["conditions"][1]["above"] is False and both["conditions"][1]["interval"] == [1.0, 1.0]
    assert C.all_of([("x > 1", float("nan"), 1.0, True)], criterion="c")["status"] == "not reproduced"
    short = C.all_of([out], criterion="c", too_short="needs more steps")
    assert short["status"] == "inconclusive" and "too short" in short["note"]
    with pytest.raises(ValueError, match="at least one"):
        C.all_of([], criterion="c")


def test_bootstrap_of_an_infinite_statistic():
    est, (lo, hi) = C.bootstrap_interval(lambda r: np.inf, 5)
    assert est == lo == hi == np.inf
    est, (lo, hi) = C.bootstrap_interval(lambda r: np.nan, 5)  # an overflowed run counts as +inf
    assert est == lo == hi == np.inf
    x = np.array([1.0, 2.0, np.inf, 3.0])
    est, (lo, hi) = C.bootstrap_interval(lambda r: float(np.max(x[r])), 4, n_boot=200)
    assert est == np.inf and hi == np.inf and np.isfinite(lo)


def test_paired_decrease_finds_the_weakest_pair_with_bonferroni():
    rng = np.random.default_rng(3)
    base = np.array([5.0, 3.0, 2.9, 0.0])  # the pair (1, 2) barely decreases
    s = base + 0.05 * rng.standard_normal((30, 4))
    dec, (lo, hi), k = C.paired_decrease(s, level=0.99)
    assert k == 1
    d = s[:, 1] - s[:, 2]
    want = stats.t.interval(1 - 0.01 / 3, 29, loc=d.mean(), scale=stats.sem(d))
    assert dec == pytest.approx(d.mean()) and (lo, hi) == pytest.approx(want, rel=1e-12)


def test_bootstrap_interval_of_a_mean_matches_the_normal_interval():
    rng = np.random.default_rng(4)
    x = rng.normal(0.0, 1.0, 400)
    est, (lo, hi) = C.bootstrap_interval(lambda i: x[i].mean(), x.size, n_boot=2000, level=0.95)
    half = 1.96 * x.std(ddof=1) / np.sqrt(x.size)
    assert est == pytest.approx(x.mean())
    assert hi - lo == pytest.approx(2 * half, rel=0.15)


def test_runner_checks_and_prints_statuses():
    row = {"claim": "c", "source": "s", "expected": "e", "measured": "m",
           **C.judge(0.1, (-1.0, 1.0), 0.0, criterion="crit")}
    out = R._check_verdict("x", [row])
    text = R.format_verdict(out)
    assert "INCONCLUSIVE AT THIS SCALE" in text and "judged:   crit" in text
    json.dumps(out)  # every field is kept in verdict.json
    with pytest.raises(R.StudyError, match="status"):
        R._check_verdict("x", [{**row, "status": "maybe"}])
    with pytest.raises(R.StudyError, match="reproduced"):
        R._check_verdict("x", [{**row, "reproduced": True}])


def test_a_verdict_far_from_its_threshold_does_not_change_with_the_seed():
    """radam_warmup at the tiny scale under three seeds: every claim whose interval lies at
    least its own width away from the threshold reaches the same status every time."""
    from studies import radam_warmup as rw

    lr_range = rw.run("tiny", seed=0)["lr_range"]
    runs = []
    for seed in (0, 1, 2):
        res = {"variance": rw._monte_carlo(rw.SCALES["tiny"], seed=seed), "lr_range": lr_range}
        runs.append(rw.verdict(res))
    firm = 0
    for k in range(len(runs[0])):
        rows = [r[k] for r in runs]
        far = all(min(abs(r["interval"][0] - r["threshold"]), abs(r["interval"][1] - r["threshold"]))
                  > 2 * r["uncertainty"] for r in rows)
        if far:
            firm += 1
            assert len({r["status"] for r in rows}) == 1, rows
    assert firm >= 4  # the four variance claims are far from their thresholds at every seed
