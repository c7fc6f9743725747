"""The Monte-Carlo-aware verdict rows of the beta2_memory and bias_correction studies: each row's
criterion, statistic, interval, threshold and status agree with each other, the statistics match
plain-NumPy/SciPy recomputations from the saved arrays, and a verdict far from its threshold keeps
its status under another seed."""

import numpy as np
import pytest
from scipy import stats
from study_cache import LONGER_THAN_TINY, assert_readme_verdicts, tiny_results

from studies import _criteria as C
from studies import beta2_memory as b2m
from studies import bias_correction as bc


def _check_row(row):
    """criterion, statistic, interval, uncertainty, threshold, status and reproduced agree."""
    assert {"criterion", "statistic", "interval", "uncertainty", "threshold", "status"} <= set(row), row["claim"]
    lo, hi = row["interval"]
    thr, stat = row["threshold"], row["statistic"]
    assert lo <= stat <= hi, row
    assert row["uncertainty"] == pytest.approx(0.5 * (hi - lo)), row
    above = row["criterion"].endswith(f"above {thr:g})")
    assert above or row["criterion"].endswith(f"below {thr:g})"), row["criterion"]
    if above:
        want = "reproduced" if lo > thr else ("not reproduced" if hi < thr else "inconclusive")
    else:
        want = "reproduced" if hi < thr else ("not reproduced" if lo > thr else "inconclusive")
    if row.get("note"):
        assert want == "not reproduced" and "too short" in row["note"], row
        want = "inconclusive"
    assert row["status"] == want and row["reproduced"] is (want == "reproduced"), row
    if "deterministic" in row["criterion"]:
        assert lo == hi == stat


def _far(row):
    """The interval lies more than twice its half-width away from the threshold."""
    lo, hi = row["interval"]
    return min(abs(lo - row["threshold"]), abs(hi - row["threshold"])) > 2 * row["uncertainty"]


def _same_far_statuses(runs):
    firm = 0
    for k in range(len(runs[0])):
        rows = [r[k] for r in runs]
        assert len({r["claim"] for r in rows}) == 1
        if all(_far(r) for r in rows):
            firm += 1
            assert len({r["status"] for r in rows}) == 1, rows
    return firm


def _row(rows, start):
    match = [r for r in rows if r["claim"].startswith(start)]
    assert len(match) == 1, start
    return match[0]


# -- bias_correction ------------------------------------------------------------------------------


def test_bias_correction_rows_are_consistent_and_match_a_recomputation():
    results = tiny_results(bc)
    rows = bc.verdict(results)
    for row in rows:
        _check_row(row)
    # the EMA claim: |mean corrected EMA - 1| / beta^t with the 99% t interval over replicates
    e = results["ema"]
    b, t = float(e.beta.values[-1]), 10
    m = e["ema"].sel(beta=b, step=t).values / (1 - b ** t)
    half = stats.t.ppf(0.995, m.size - 1) * m.std(ddof=1) / np.sqrt(m.size)
    row = _row(rows, "An EMA started at 0")
    assert row["statistic"] == pytest.approx(abs(m.mean() - 1) / b ** t, rel=1e-9)
    assert row["interval"][1] == pytest.approx(max(abs(m.mean() - half - 1), abs(m.mean() + half - 1)) / b ** t,
                                               rel=1e-9)
    assert row["threshold"] == 0.1
    # the first-step claims are deterministic
    assert _row(rows, "Adam's first step")["criterion"].count("deterministic") == 1


def test_bias_correction_instability_statistic_is_the_smallest_log_margin():
    a = tiny_results(bc)["ablation"].sel(beta1=0.0)
    unc, cor = (bc.bc_sel(a, c) for c in (False, True))
    start = float(np.median(a["loss"].isel(step=0).values))
    lr_max, b2 = float(a.lr.values[-1]), a.beta2.values

    def worst(key):
        return [float((unc[key].sel(beta2=x).median("replicate") / cor[key].sel(beta2=x).median("replicate")).max())
                for x in b2]

    early, late = worst("early_loss"), worst("late_loss")
    peak_u = float(unc["peak_early_loss"].sel(beta2=b2[-1], lr=lr_max).median()) / start
    peak_c = float(cor["peak_early_loss"].sel(beta2=b2[-1], lr=lr_max).median()) / start
    want = min(np.log(peak_u), -np.log(peak_c), np.log(early[-1] / late[-1]), np.log(early[-1] / 2),
               np.log(early[1] / early[0]))
    row = _row(bc.verdict(tiny_results(bc)), "Without bias correction")
    assert row["statistic"] == pytest.approx(want, rel=1e-12)


def _bc_more_replicates(seed):
    p = bc.SCALES["tiny"]
    res = dict(bc.run("tiny", seed=seed))
    res["ema"] = bc._ema(dict(p["ema"], replicates=2000), seed=seed)
    res["ablation"] = bc._ablation(dict(p["ablation"], replicates=16, late=1000, seed=seed))
    return res


def test_bias_correction_readme_claims_on_more_replicates():
    """README's EMA and instability verdicts, which the tiny scale leaves inconclusive, hold with
    2000 EMA replicates and 16 ablation replicates up to step 1000 (the tiny grid)."""
    rows = bc.verdict(_bc_more_replicates(0))
    assert_readme_verdicts("bias_correction", rows, only=LONGER_THAN_TINY["bias_correction"])


def test_bias_correction_far_verdicts_do_not_change_with_the_seed():
    runs = [bc.verdict(_bc_more_replicates(seed)) for seed in (0, 1, 2)]
    for rows in runs:
        for row in rows:
            _check_row(row)
    assert _same_far_statuses(runs) >= 4  # the EMA, both first-step claims and the instability claim


def test_run_seed_zero_is_the_default_draws():
    p = bc.SCALES["tiny"]
    assert np.array_equal(bc.run("tiny", seed=0)["ema"]["ema"].values, bc._ema(p["ema"])["ema"].values)


# -- beta2_memory ---------------------------------------------------------------------------------


def test_beta2_memory_rows_are_consistent_on_tiny():
    rows = b2m.verdict(tiny_results(b2m))
    for row in rows:
        _check_row(row)
    assert sum("deterministic" in r["criterion"] for r in rows) >= 7  # the impulse, online and phase claims
    # the online claims at tiny's 2e4 steps are shorter than Reddi et al.'s 1e6: inconclusive with a note
    assert _row(rows, "On the online 1010/-10 problem")["status"] == "inconclusive"


REDDI = {"steps": 20_000, "stochastic_steps": 100_000, "replicates": 4, "record_every": 100, "lr": 0.5}


def _b2m_longer(seed):
    res = dict(tiny_results(b2m))
    res.update(b2m._reddi(REDDI, seed=seed))
    res["reddi_stochastic_later"] = b2m._reddi_stochastic_later(REDDI, seed=seed)
    return res


@pytest.fixture(scope="module")
def b2m_seeds():
    return [_b2m_longer(seed) for seed in (0, 1)]


def test_beta2_memory_stochastic_statistic_matches_a_recomputation(b2m_seeds):
    res = b2m_seeds[0]
    st = res["reddi_stochastic"]
    n = st.sizes["step"]
    late = st["x"].isel(step=slice(n - max(2, n // 10), n)).mean("step")
    q = stats.t.ppf(1 - 0.01 / 4, st.sizes["replicate"] - 1)  # 99%, Bonferroni over the two parts
    parts = []
    for values in (late.sel(optimizer="adam").values - 0.95, -0.9 - late.sel(optimizer="amsgrad").values):
        half = q * values.std(ddof=1) / np.sqrt(values.size)
        parts.append((values.mean(), values.mean() - half, values.mean() + half))
    row = _row(b2m.verdict(res), "On the stochastic 1010/-10 problem")
    assert row["statistic"] == pytest.approx(min(p[0] for p in parts), rel=1e-9)
    assert row["interval"] == pytest.approx([min(p[1] for p in parts), min(p[2] for p in parts)], rel=1e-9)
    _check_row(row)


def test_beta2_memory_far_verdicts_do_not_change_with_the_seed(b2m_seeds):
    runs = [b2m.verdict(res) for res in b2m_seeds]
    for rows in runs:
        for row in rows:
            _check_row(row)
    # the seven deterministic claims and clipped ADOPT's (its phase part far below 0 at every seed)
    assert _same_far_statuses(runs) >= 8


def test_smallest_margin_is_a_joint_bonferroni_interval():
    rng = np.random.default_rng(5)
    a, b = rng.normal(1.0, 0.1, 12), rng.normal(0.5, 0.2, 12)
    s, (lo, hi) = b2m._smallest_margin([a, b, 0.7])
    ia, ib = C.mean_interval(a, 1 - 0.01 / 2), C.mean_interval(b, 1 - 0.01 / 2)
    assert s == pytest.approx(min(a.mean(), b.mean(), 0.7))
    assert (lo, hi) == pytest.approx((min(ia[1][0], ib[1][0], 0.7), min(ia[1][1], ib[1][1], 0.7)))
    assert b2m._smallest_margin([0.3, -0.2]) == (-0.2, (-0.2, -0.2))
