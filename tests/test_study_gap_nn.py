"""Part (d) of generalization_gap: MLPs with equal budgets, validation selection, common random numbers."""

import numpy as np
import pytest

from studies import _gap_nn as G
from studies import generalization_gap as study


@pytest.fixture(scope="module")
def nn():
    cfg = dict(study.SCALES["tiny"])
    return G.run_nn(cfg)["nn_digits"]


def test_every_optimizer_gets_the_same_budget_and_the_same_starts(nn):
    assert list(nn["optimizer"].values) == list(G.NN_METHODS)
    assert nn.sizes["lr_index"] == study.SCALES["tiny"]["nn_lrs"]
    for o, (_, centre) in G.NN_METHODS.items():
        lrs = nn["lr"].sel(optimizer=o).values
        assert np.allclose(np.log10(lrs[[0, -1]]), np.log10(centre) + np.array([-1.0, 1.0]))
    # common random numbers: replicate r starts from the same network for every optimizer and lr
    start = nn["loss"].isel(step=0).values  # (optimizer, lr_index, replicate)
    assert np.all(start == start[:1, :1, :])
    assert np.unique(start[0, 0]).size == nn.sizes["replicate"]


def test_selection_is_on_the_validation_loss(nn):
    pick = G.selected(nn)
    val = nn["metrics"].sel(metric="val_loss").isel(step=-1)
    for o, k in pick.items():
        med = np.median(val.sel(optimizer=o).transpose("lr_index", "replicate").values, axis=1)
        assert k == int(np.argmin(med))
    val_a = G.metric(nn, "val_loss").values
    acc = G.metric(nn, "test_accuracy").values
    rep = G._select_and_report(val_a, acc, np.arange(nn.sizes["replicate"]))
    for i, (o, k) in enumerate(pick.items()):
        assert rep[i] == np.median(acc[i, k])


def test_loss_matched_accuracy_uses_a_target_every_optimizer_reached(nn):
    pick = G.selected(nn)
    target, matched = G.loss_matched_accuracy(nn, pick)
    loss = nn["loss"].median("replicate")
    for o, (acc, step) in matched.items():
        assert float(loss.sel(optimizer=o).isel(lr_index=pick[o]).sel(step=step)) <= target * (1 + 1e-12)
        assert 0.0 <= acc <= 1.0


def test_verdict_rows_are_judged(nn):
    rows = G.verdict_rows({"nn_digits": nn})
    assert len(rows) == 3
    for r in rows:
        assert r["status"] in ("reproduced", "not reproduced", "inconclusive")
        lo, hi = r["interval"]
        assert lo <= r["statistic"] <= hi


def test_the_figure_draws(nn):
    from figures import generalization_gap_nn as fig_mod

    fig = fig_mod.draw({"nn_digits": nn})
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == len(G.NN_METHODS)
