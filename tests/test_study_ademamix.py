"""The AdEMAMix study: a tiny run with its verdict and figures, its headline claims at the
tiny scale, and its Rosenbrock runs against a plain-NumPy AdEMAMix with the paper's warm-ups."""

import importlib
import math

import numpy as np
import pytest
from study_cache import assert_readme_verdicts, tiny_results
from verdict_checks import assert_firm_verdicts_keep_their_status, implied_status

from studies import ademamix as study


def _row(rows, start):
    matching = [r for r in rows if r["claim"].startswith(start)]
    assert len(matching) == 1, start
    return matching[0]


def test_tiny_run_verdict_and_figures():
    import matplotlib.pyplot as plt

    for attr in ("NAME", "TITLE", "QUESTION", "HYPOTHESIS"):
        assert isinstance(getattr(study, attr), str) and getattr(study, attr)
    assert set(study.SCALES) == {"tiny", "quick", "paper"}
    results = tiny_results(study)
    rows = study.verdict(results)
    assert len(rows) == 2 + 2 * len(study.NOISES)
    assert_readme_verdicts("ademamix", rows)  # the tiny scale's verdicts are the quick scale's, as README states
    for row in rows:
        assert set(row) >= {"claim", "source", "expected", "measured", "reproduced"}
        assert isinstance(row["reproduced"], bool)
        assert any(ch.isdigit() for ch in row["measured"])
    for name in study.FIGURES:
        mod = importlib.import_module(f"figures.{name}")
        assert mod.NAME == name and mod.STUDY == study.NAME and mod.__doc__
        fig = mod.draw(results)
        assert fig.axes and all(ax.get_xlabel() for ax in fig.axes if ax.get_visible())
        plt.close(fig)


def test_headline_claims_at_tiny_scale():
    rows = study.verdict(tiny_results(study))
    # at the common small learning rate the slow momentum carries AdEMAMix further along the valley
    assert _row(rows, "At a common small learning rate AdEMAMix gets further")["reproduced"] is True
    # tuned Adam converges to the minimum; AdEMAMix at its tuned learning rate does not get lower
    assert _row(rows, "AdEMAMix reaches a lower loss than Adam when both")["reproduced"] is False
    for nz in study.NOISES:
        assert _row(rows, f"At the common learning rate AdEMAMix's lead survives {nz.replace('_', '-')}")[
            "reproduced"] is True


def _oracle_losses(lr, steps, T, alpha=study.ALPHA, beta3=study.BETA3, b1=0.9, b2=0.999, eps=1e-8):
    """AdEMAMix (Pagliardini et al. 2024, Algorithm 1) with alpha_t = alpha min(1, t/T) and the
    beta3 warm-up f(t) = exp(ln b1 ln beta3 / ((1 - t/T) ln beta3 + (t/T) ln b1)) on Rosenbrock."""
    x = np.array(study.START, float)
    m1, m2, nu = np.zeros(2), np.zeros(2), np.zeros(2)

    def f(p):
        return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2

    out = [f(x)]
    for t in range(1, steps + 1):
        g = np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])
        a = t / T
        al = alpha * min(a, 1.0)
        b3 = beta3 if a >= 1 else math.exp(math.log(b1) * math.log(beta3) / ((1 - a) * math.log(beta3)
                                                                           + a * math.log(b1)))
        m1 = b1 * m1 + (1 - b1) * g
        m2 = b3 * m2 + (1 - b3) * g
        nu = b2 * nu + (1 - b2) * g * g
        x = x - lr * (m1 / (1 - b1 ** t) + al * m2) / (np.sqrt(nu / (1 - b2 ** t)) + eps)
        out.append(f(x))
    return np.array(out)


@pytest.mark.parametrize("lr", [1e-3, 3e-2])
def test_rosenbrock_runs_match_a_numpy_ademamix(lr):
    import optsim

    steps, T = 400, 300  # the warm-ups end inside the run
    ds = optsim.sweep(problem=study.problem(), optimizer={"ademamix": study.methods(T)["ademamix"]},
                      grid={"lr": [lr]}, steps=steps, record=("loss",), record_every=1)
    got = ds["loss"].squeeze().values
    np.testing.assert_allclose(got, _oracle_losses(lr, steps, T), rtol=1e-9, atol=1e-12)


def test_bootstrap_median_ratio_interval():
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(0.0, 0.5, 200), rng.lognormal(np.log(4.0), 0.5, 200)
    r, lo, hi = study.bootstrap_median_ratio(a, b, 1000)
    assert lo < r < hi and hi < 1.0 and 0.15 < r < 0.4
    r, lo, hi = study.bootstrap_median_ratio(a, a[::-1].copy(), 1000)
    assert r == pytest.approx(1.0) and lo <= 1.0 <= hi


def test_verdict_rows_carry_a_consistent_criterion():
    """Every row: a status of the three, reproduced iff "reproduced", the statistic inside its
    interval, the uncertainty half its width, and the status the interval and threshold imply; the
    noise-free claims are deterministic (a point interval), the noisy ones have a real interval."""
    from studies._criteria import STATUSES

    rows = study.verdict(tiny_results(study))
    for row in rows:
        assert row["status"] in STATUSES and row["reproduced"] is (row["status"] == "reproduced")
        lo, hi = row["interval"]
        assert lo <= row["statistic"] <= hi
        assert row["uncertainty"] == pytest.approx(0.5 * (hi - lo))
        assert row["status"] == implied_status(row), row
        assert f"{row['statistic']:.3g}" in row["measured"]
    for row in rows[:2]:
        assert "deterministic" in row["criterion"] and row["uncertainty"] == 0.0
    for row in rows[2:]:
        assert "99% interval" in row["criterion"] and row["uncertainty"] > 0.0


def test_run_lead_against_numpy():
    """The noisy common-lr statistic, recomputed from the raw losses: per replicate the mean over
    the recorded steps after 0 of log10(max(L, 1e-6)) differences, then the median."""
    res = tiny_results(study)
    n = res["noisy"]
    rows = study.verdict(res)
    lr = float(n["lr"].sel(lr=study.COMMON_LR, method="nearest"))
    for k, nz in enumerate(n["noise"].values):
        raw = n["loss"].sel(noise=nz, lr=lr).transpose("optimizer", "replicate", "step").values
        i_a, i_m = list(n["optimizer"].values).index("adam"), list(n["optimizer"].values).index("ademamix")
        lg = np.log10(np.maximum(raw[:, :, 1:], 1e-6))
        want = np.median((lg[i_m] - lg[i_a]).mean(axis=1))
        assert rows[2 + k]["statistic"] == pytest.approx(want, rel=1e-12)
    assert study.run_lead(np.array([1.0, np.inf]), np.array([1.0, 1.0])) == np.inf
    assert study.run_lead(np.array([1.0, 1e-9, 1e-12]), np.array([1.0, 1e-7, 1e-20])) == 0.0


def test_a_verdict_far_from_its_threshold_does_not_change_with_the_seed():
    """The noisy experiment under two more noise seeds (the noise-free one has no random draws):
    every claim whose statistic lies, at every seed, more than 1.5 times its 99% interval's reach away from
    the threshold keeps its status."""
    res = tiny_results(study)
    runs = [study.verdict(res)]
    for seed in (101, 202):
        runs.append(study.verdict({"clean": res["clean"], "noisy": study.run("tiny", seed=seed)["noisy"]}))
    # the two noise-free claims and the three common-lr noisy ones
    assert_firm_verdicts_keep_their_status(runs, at_least=5)
