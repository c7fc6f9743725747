"""Part (e) of generalization_gap: the adaptive gap against width, batch size, label noise and
training length, at the tiny scale."""

import numpy as np
import pytest
from verdict_checks import implied_status

from studies import _gap_factors as F
from studies import _gap_nn as G
from studies import generalization_gap as study

CFG = study.SCALES["tiny"]


@pytest.fixture(scope="module")
def gf():
    return F.run_factors(CFG)


def _same_cell(a, b):
    return np.array_equal(a["loss"].values, b["loss"].values) and np.array_equal(a["metrics"].values,
                                                                                 b["metrics"].values)


def test_the_factor_levels_are_the_configured_sweeps(gf):
    assert set(gf) == {spec["key"] for spec in F.FACTORS.values()}
    for key in ("gf_width", "gf_batch", "gf_label_noise", "gf_length"):
        ds = gf[key]
        assert list(ds["optimizer"].values) == list(F.FACTOR_METHODS)
        assert ds.sizes["lr_index"] == CFG["nn_lrs"] and ds.sizes["replicate"] == CFG["nn_replicates"]
        assert int(ds["step"].values[-1]) == CFG["nn_steps"]
    assert list(gf["gf_width"]["level"].values) == CFG["gf_widths"]
    assert list(gf["gf_batch"]["level"].values) == CFG["gf_batches"]
    assert list(gf["gf_label_noise"]["level"].values) == CFG["gf_label_noise"]
    # each level is the sweep of its own setting, rebuilt here from the configuration
    digits = G.TASKS["digits"]
    w, b, p = CFG["gf_widths"][0], CFG["gf_batches"][0], CFG["gf_label_noise"][-1]
    methods = F.FACTOR_METHODS
    assert _same_cell(gf["gf_width"].sel(level=w), G.nn_sweeps(G.mlp(w, **digits), CFG, methods, CFG["nn_batch"]))
    assert _same_cell(gf["gf_batch"].sel(level=b), G.nn_sweeps(G.mlp(CFG["nn_width"], **digits), CFG, methods, b))
    noisy = dict(CFG["gf_noise_data"], label_noise=p)
    assert _same_cell(gf["gf_label_noise"].sel(level=p),
                      G.nn_sweeps(G.mlp(CFG["gf_noise_width"], **noisy), CFG, methods, CFG["nn_batch"]))
    # the base cell is the same run in the width, batch and length factors, and the levels differ
    base = gf["gf_length"]
    assert _same_cell(gf["gf_width"].sel(level=CFG["nn_width"]), base)
    assert _same_cell(gf["gf_batch"].sel(level=CFG["nn_batch"]), base)
    assert not _same_cell(gf["gf_batch"].sel(level=b), base)
    lo, hi = CFG["gf_label_noise"][0], CFG["gf_label_noise"][-1]
    assert not _same_cell(gf["gf_label_noise"].sel(level=lo), gf["gf_label_noise"].sel(level=hi))
    # the labels really are noisy at the highest level, and the test labels clean
    clean, dirty = (G.mlp(CFG["gf_noise_width"], **dict(CFG["gf_noise_data"], label_noise=q)) for q in (lo, hi))
    (_, y_c, _, t_c, *_), (_, y_d, _, t_d, *_) = clean.data(), dirty.data()
    assert 0.5 * hi < np.mean(y_c != y_d) < 1.5 * hi
    assert np.array_equal(t_c, t_d)


def test_common_random_numbers_within_a_cell(gf):
    for key in ("gf_width", "gf_batch", "gf_label_noise"):
        for v in gf[key]["level"].values:
            start = gf[key]["loss"].sel(level=v).isel(step=0).values  # (optimizer, lr_index, replicate)
            assert np.all(start == start[:1, :1, :]), (key, v)
            assert np.unique(start[0, 0]).size == CFG["nn_replicates"]
    # the batch factor changes the batches, not the starting networks
    start = gf["gf_batch"]["loss"].isel(step=0).values
    assert np.all(start == start[:1])


def _oracle_gap(val, acc):
    """val, acc: (optimizer, lr_index, replicate) in FACTOR_METHODS order; the gap straight from numpy."""
    best = {}
    for i, o in enumerate(F.FACTOR_METHODS):
        k = int(np.argmin(np.median(val[i], axis=1)))
        best[o] = np.median(acc[i, k])
    return best["sgd+momentum"] - max(best["adam"], best["adamw"])


def test_each_level_gap_matches_a_numpy_recomputation(gf):
    for factor, spec in F.FACTORS.items():
        ds = gf[spec["key"]]
        levels, gaps, ints, change, change_int = F.level_gaps(ds)
        v = ds["metrics"].transpose("optimizer", "lr_index", "replicate", "step", "metric", ...)
        names = list(ds["metric"].values)
        if factor == "length":
            steps = ds["step"].values
            want_steps = [steps[np.argmin(np.abs(steps - f * CFG["nn_steps"]))] for f in CFG["gf_lengths"]]
            assert list(levels) == want_steps
            cells = [v.sel(step=s).values for s in want_steps]
        else:
            assert list(levels) == list(ds["level"].values)
            cells = [v.sel(level=lv).isel(step=-1).values for lv in levels]
        want = [_oracle_gap(c[..., names.index("val_loss")], c[..., names.index("test_accuracy")]) for c in cells]
        np.testing.assert_allclose(gaps, want, atol=1e-12)
        assert np.isclose(change, want[-1] - want[0])
        assert change_int[0] <= change <= change_int[1]
        assert np.all(ints[:, 0] <= gaps) and np.all(gaps <= ints[:, 1])


def test_the_length_gap_at_the_last_record_is_part_d_gap():
    # part (e)'s base cell has part (d)'s digits settings and seed: its last record is part (d)'s run
    assert CFG["gf_lengths"][-1] == 1.0 and "digits" in CFG["nn_tasks"]
    gf = F.run_factors(dict(CFG, gf_widths=[CFG["nn_width"]], gf_batches=[CFG["nn_batch"]], gf_label_noise=[0.0]))
    nn = G.run_nn(dict(CFG, nn_tasks=["digits"]))
    d_row = G.verdict_rows(nn)[0]  # the validation-selected gap on the digits
    levels, gaps, ints, *_ = F.level_gaps(gf["gf_length"])
    assert np.isclose(gaps[-1], d_row["statistic"])
    np.testing.assert_allclose(ints[-1], d_row["interval"], atol=1e-12)


def test_verdict_rows_are_judged(gf):
    rows = F.factor_rows(gf)
    assert len(rows) == len(F.FACTORS)
    for r in rows:
        assert r["status"] == implied_status(r)
        lo, hi = r["interval"]
        assert lo <= r["statistic"] <= hi and r["threshold"] == 0.0
        assert r["criterion"].rstrip(")").rsplit("(", 1)[-1].split()[-2] in ("above", "below")
        assert "pp" in r["measured"]
    # the folklore's side: a larger gap with width, label noise and length; a smaller one with the batch size
    sides = {f: r["criterion"].endswith("above 0)") for f, r in zip(F.FACTORS, rows)}
    assert sides == {"width": True, "batch": False, "label_noise": True, "length": True}


def test_the_figure_draws(gf):
    import matplotlib.pyplot as plt

    from figures import generalization_gap_factors as fig_mod

    fig = fig_mod.draw(gf)
    assert len(fig.axes) == len(F.FACTORS)
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_title()
        assert any(np.allclose(line.get_ydata(), 0.0) for line in ax.lines)  # the dashed zero line
    assert fig.axes[0].get_xscale() == "log" and fig.axes[3].get_xscale() == "linear"
    plt.close(fig)
