"""Smoke and claim tests of the generalization-gap and RAdam warm-up studies."""

import importlib

import numpy as np
import pytest
from study_cache import LONGER_THAN_TINY, assert_readme_verdicts, tiny_results
from verdict_checks import implied_status

from studies import generalization_gap, radam_warmup

STUDIES = [generalization_gap, radam_warmup]


@pytest.mark.parametrize("study", STUDIES, ids=lambda s: s.NAME)
def test_tiny_run_verdict_and_figures(study):
    for attr in ("NAME", "TITLE", "QUESTION", "HYPOTHESIS"):
        assert isinstance(getattr(study, attr), str) and getattr(study, attr)
    assert set(study.SCALES) == {"tiny", "quick", "paper"}
    results = tiny_results(study)
    assert results and all(hasattr(ds, "data_vars") for ds in results.values())
    rows = study.verdict(results)
    assert rows
    for row in rows:
        assert set(row) >= {"claim", "source", "expected", "measured", "reproduced"}
        assert isinstance(row["reproduced"], bool)
        assert any(ch.isdigit() for ch in row["measured"])
    assert_readme_verdicts(study.NAME, rows)
    for name in study.FIGURES:
        mod = importlib.import_module(f"figures.{name}")
        assert mod.NAME == name and mod.STUDY == study.NAME and mod.__doc__
        fig = mod.draw(results)
        assert fig.axes and all(ax.get_xlabel() for ax in fig.axes if ax.get_visible())
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_wilson_adaptive_methods_overfit():
    """Lemma 3.1 of Wilson et al.: Adam etc. reach sign(X^T y)/4 (test error 1 - p); GD the min-norm solution."""
    cfg = dict(generalization_gap.SCALES["tiny"], wilson_n=[20], wilson_p=[0.7, 0.9], wilson_seeds=1)
    w = generalization_gap._wilson(cfg)
    ada = w.sel(optimizer=list(generalization_gap.ADAPTIVE))
    assert float(ada["cos_sign"].min()) > 0.99
    assert np.allclose(ada["test_error"].values, np.broadcast_to(w["test_frac_negative"].values, ada["test_error"].shape),
                       atol=0.01)
    gd = w.sel(optimizer=["gd", "gd+momentum"])
    assert float(gd["cos_min_norm"].min()) > 0.999
    assert float(gd["test_error"].max()) == 0.0


def test_heavy_tails_escape_more_and_sgd_more_than_adam():
    cfg = dict(generalization_gap.SCALES["tiny"], dw_lrs=[0.006, 0.01], dw_replicates=64, dw_steps=1500)
    import optsim

    st = generalization_gap._basins(cfg, optsim.noise.AlphaStable(scale=generalization_gap.DW_NOISE_SCALE),
                                    "alpha", [1.5, 2.0])
    share = st["escaped"].mean("replicate")
    assert np.all(share.sel(optimizer="sgd", alpha=1.5).values > share.sel(optimizer="sgd", alpha=2.0).values)
    # Adam at the same learning rate has a smaller effective step and escapes less
    assert np.all(share.sel(optimizer="adam", alpha=1.5).values < share.sel(optimizer="sgd", alpha=1.5).values)


def _matched_step_verdict(**basins):
    """generalization_gap's verdict with its alpha-stable double-well runs at ``basins`` (the rest tiny)."""
    import optsim

    g = generalization_gap
    results = dict(tiny_results(g))
    cfg = dict(g.SCALES["tiny"], **basins)
    results["basins_stable"] = g._basins(cfg, optsim.noise.AlphaStable(scale=g.DW_NOISE_SCALE), "alpha",
                                         cfg["dw_alphas"])
    assert_readme_verdicts("generalization_gap", g.verdict(results), only=LONGER_THAN_TINY["generalization_gap"])


def test_readme_matched_step_claim_on_a_wider_lr_grid():
    """README: SGD leaves the sharp basin more often than Adam at a matched effective step.  The tiny
    grid (one lr) has no SGD learning rate as small as Adam's effective step; three lrs suffice."""
    _matched_step_verdict(dw_lrs=[0.003, 0.01, 0.03], dw_replicates=64, dw_steps=1500)


@pytest.mark.slow
def test_readme_matched_step_claim_at_the_quick_scale():
    q = generalization_gap.SCALES["quick"]
    _matched_step_verdict(**{k: q[k] for k in ("dw_lrs", "dw_alphas", "dw_replicates", "dw_steps")})


def test_adaptive_lr_variance_and_rectification():
    cfg = dict(radam_warmup.SCALES["tiny"], mc_samples=8000, mc_groups=8, mc_steps=400)
    v = radam_warmup._monte_carlo(cfg)
    var = v["var_psi"].median("replicate")
    assert float(var.sel(mu=0.0, step=1)) > 100 * float(var.sel(mu=0.0, step=400))
    assert float((var.sel(mu=10.0) / var.sel(mu=0.0)).max()) < 0.01
    # the scaled-inverse-chi-square model within 30% for t >= 10
    ratio = var.sel(mu=0.0, step=slice(10, None)) / v["approx_var_psi"].sel(step=slice(10, None))
    assert float(np.abs(np.log(ratio)).max()) < np.log(1.3)
    rectified = v["rectified_var_psi"].median("replicate").sel(mu=0.0, step=slice(10, None))
    assert float(rectified.max() / rectified.min()) < 2.0


def test_closed_forms():
    rho_inf, rho_t = radam_warmup.rho(np.array([1.0, 5.0, 1e6]))
    assert rho_inf == pytest.approx(1999.0)
    assert rho_t[0] == pytest.approx(1.0, abs=1e-6) and rho_t[-1] == pytest.approx(rho_inf)
    assert radam_warmup.rect(rho_inf, rho_inf) == pytest.approx(1.0)
    # Var[psi] of the model decays like 1/(2 nu) for large nu
    assert radam_warmup.inv_chi2_var(2000.0) == pytest.approx(1 / (2 * 2000.0), rel=0.01)


def test_generalization_gap_rows_are_judged_consistently():
    """Every generalization_gap row carries a criterion, statistic, interval and threshold consistent
    with its status; Wilson et al.'s two claims (full-batch, noise-free runs) are exact: zero
    uncertainty, every condition judged and kept."""
    rows = generalization_gap.verdict(tiny_results(generalization_gap))
    for row in rows:
        lo, hi = row["interval"]
        assert lo <= row["statistic"] <= hi and row["criterion"], row
        want = implied_status(row)
        assert row["status"] == want and row["reproduced"] is (want == "reproduced"), row
    wilson = [r for r in rows if r["source"].startswith("Wilson et al. 2017, ") and "§3" in r["source"]]
    assert len(wilson) == 2
    for row in wilson:
        assert "deterministic" in row["criterion"] and row["uncertainty"] == 0.0 and row["status"] == "reproduced"
        assert len(row["conditions"]) == 2 and all(c["status"] == "reproduced" for c in row["conditions"])
