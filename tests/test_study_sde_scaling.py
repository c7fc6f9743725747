"""Smoke and claim tests of the SDE-approximation study (studies/sde_scaling.py)."""

import importlib
import math

import numpy as np
from study_cache import tiny_results

from studies import sde_scaling


def _rows():
    return {row["claim"]: row for row in sde_scaling.verdict(tiny_results(sde_scaling))}


def test_tiny_run_verdict_and_figures():
    for attr in ("NAME", "TITLE", "QUESTION", "HYPOTHESIS"):
        assert isinstance(getattr(sde_scaling, attr), str) and getattr(sde_scaling, attr)
    assert set(sde_scaling.SCALES) == {"tiny", "quick", "paper"}
    results = tiny_results(sde_scaling)
    assert results and all(hasattr(ds, "data_vars") for ds in results.values())
    rows = sde_scaling.verdict(results)
    assert len(rows) == 12
    for row in rows:
        assert set(row) >= {"claim", "source", "expected", "measured", "reproduced"}
        assert isinstance(row["reproduced"], bool)
        assert any(ch.isdigit() for ch in row["measured"])
    for name in sde_scaling.FIGURES:
        mod = importlib.import_module(f"figures.{name}")
        assert mod.NAME == name and mod.STUDY == sde_scaling.NAME and mod.__doc__
        fig = mod.draw(results)
        assert fig.axes and all(ax.get_xlabel() for ax in fig.axes if ax.get_visible())
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_headline_claims_hold_at_the_tiny_scale():
    rows = _rows()
    for start in ("The coupled Monte-Carlo weak error", "The weak error in E f of the order-2 SME",
                  "The weak error in E f of the order-1 SME", "Where the noise dominates",
                  "With Gaussian noise the laws", "The square-root rule keeps Adam's final loss across batch sizes "
                  "where the linear rule does not (NQM)",
                  "The square-root rule keeps Adam's final loss across batch sizes where the linear rule does not "
                  "(regression, minibatches with replacement)", "Minibatches without replacement",
                  "The SDEs of Adam and RMSprop approximate them weakly"):
        hits = [row for claim, row in rows.items() if claim.startswith(start)]
        assert len(hits) == 1 and hits[0]["reproduced"], (start, hits)


def test_weak_errors_match_an_independent_closed_form():
    """The study's exact weak errors, against the OU and SGD moments written out here."""
    w = tiny_results(sde_scaling)["weak"]
    h = np.array(sde_scaling.CURVATURES)
    T = w.attrs["time"]
    for lr in w["lr"].values:
        K = int(round(T / lr))
        for B in w["batch_size"].values:
            s2 = h / B
            q = 1 - lr * h
            f_sgd = np.sum(0.5 * h * (q ** (2 * K) + lr * lr * s2 * (1 - q ** (2 * K)) / (1 - q * q)))
            for order in (1, 2):
                a = h * (1 + 0.5 * lr * h) if order == 2 else h
                f_sme = np.sum(0.5 * h * (np.exp(-2 * a * K * lr) + lr * s2 * (1 - np.exp(-2 * a * K * lr)) / (2 * a)))
                got = float(w["weak_error_exact"].sel(lr=lr, batch_size=B, order=order))
                assert math.isclose(got, f_sme - f_sgd, rel_tol=1e-9, abs_tol=1e-14)


def test_ks_distance_against_a_direct_computation():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(300), rng.standard_normal(200) + 0.3
    grid = np.concatenate([a, b])
    direct = max(abs(np.mean(a <= x) - np.mean(b <= x)) for x in grid)
    assert math.isclose(sde_scaling._ks(a, b), direct, abs_tol=1e-12)
