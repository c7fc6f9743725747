"""Analysis helpers on small synthetic Datasets with known answers."""

import numpy as np
import pytest
import xarray as xr

from optsim import analysis


def synthetic(n_opt=2, lrs=(0.01, 0.1, 1.0), reps=5):
    """loss[optimizer, lr, replicate, step] = base * decay^step, with known minimisers."""
    steps = np.array([0, 10, 20, 30])
    opt = [f"o{i}" for i in range(n_opt)]
    rep = np.arange(reps)
    # final loss per (optimizer, lr): optimizer o0 is best at lr=0.1, o1 at lr=0.01
    final = np.array([[1.0, 0.1, 10.0], [0.05, 0.5, 5.0]])[:n_opt, : len(lrs)]
    spread = 1.0 + 0.1 * (rep - rep.mean())  # replicate r multiplies the loss
    loss = np.empty((n_opt, len(lrs), reps, steps.size))
    for s, st in enumerate(steps):
        frac = st / steps[-1]
        loss[..., s] = (10.0 ** (1 - frac) * final[..., None] ** frac) * spread
    ds = xr.Dataset(
        {
            "loss": (("optimizer", "lr", "replicate", "step"), loss),
            "final_loss": (("optimizer", "lr", "replicate"), loss[..., -1]),
            "diverged": (("optimizer", "lr", "replicate"), np.zeros(loss.shape[:3], dtype=bool)),
        },
        coords={"optimizer": opt, "lr": list(lrs), "replicate": rep, "step": steps},
    )
    return ds


def test_quantile_band():
    ds = synthetic()
    band = analysis.quantile_band(ds["loss"], q=(0.0, 0.5, 1.0))
    assert set(band.dims) == {"quantile", "optimizer", "lr", "step"}
    np.testing.assert_allclose(band.sel(quantile=0.5), ds["loss"].median("replicate"))
    np.testing.assert_allclose(band.sel(quantile=0.0), ds["loss"].min("replicate"))
    with pytest.raises(ValueError, match="no dimension"):
        analysis.quantile_band(ds["loss"], dim="seed")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        analysis.quantile_band(ds["loss"], q=(0.5, 2.0))


def test_quantile_band_with_diverged_runs():
    da = xr.DataArray([[1.0, 2.0, np.inf, 3.0, 4.0]], dims=("lr", "replicate"))
    band = analysis.quantile_band(da, q=(0.5,))
    assert float(band.squeeze()) == 3.0


def test_steps_to_threshold_from_curves_and_first_below():
    ds = synthetic()
    # o0 at lr=1.0 ends at 10 * spread: the loss never drops below 1
    out = analysis.steps_to_threshold(ds, 1.0)
    assert out.dims == ("optimizer", "lr", "replicate")
    assert np.isnan(out.sel(optimizer="o0", lr=1.0)).all()
    loss, steps = ds["loss"].values, ds["step"].values
    for idx in np.ndindex(loss.shape[:3]):
        below = np.nonzero(loss[idx] <= 1.0)[0]
        want = float(steps[below[0]]) if below.size else np.nan
        np.testing.assert_equal(out.values[idx], want)
    # several thresholds give a threshold dimension
    two = analysis.steps_to_threshold(ds, [1.0, 0.1])
    assert two.sizes["threshold"] == 2
    # first_below takes precedence when it holds the threshold
    fb = xr.DataArray(np.full(ds["final_loss"].shape + (1,), 7), dims=ds["final_loss"].dims + ("threshold",),
                      coords={"threshold": [1.0]})
    fb[0, 0, 0, 0] = -1
    ds2 = ds.assign(first_below=fb)
    got = analysis.steps_to_threshold(ds2, 1.0)
    assert np.isnan(got[0, 0, 0]) and float(got[0, 0, 1]) == 7.0
    with pytest.raises(ValueError, match="thresholds"):
        analysis.steps_to_threshold(ds[["final_loss"]], 1.0)


def test_divergence_rate():
    ds = synthetic(reps=4)
    div = ds["diverged"].values.copy()
    div[0, 1, :2] = True
    ds["diverged"] = (ds["diverged"].dims, div)
    rate = analysis.divergence_rate(ds)
    assert float(rate.sel(optimizer="o0", lr=0.1)) == 0.5
    assert float(rate.sum()) == 0.5
    # from diverged_at when the flag is absent
    at = xr.where(ds["diverged"], 5, -1)
    rate2 = analysis.divergence_rate(ds.drop_vars("diverged").assign(diverged_at=at))
    xr.testing.assert_allclose(rate, rate2)


@pytest.mark.parametrize("reduce", ["median", "mean", "mean_log", "quantile"])
def test_best_lr_per_optimizer(reduce):
    ds = synthetic()
    best = analysis.best_lr(ds, reduce=reduce)
    assert best["best_lr"].dims == ("optimizer",)
    assert best["best_lr"].sel(optimizer="o0") == 0.1
    assert best["best_lr"].sel(optimizer="o1") == 0.01
    assert bool(best["at_edge"].sel(optimizer="o1")) and not bool(best["at_edge"].sel(optimizer="o0"))


def test_best_lr_counts_nan_as_worst_and_checks_input():
    ds = synthetic(n_opt=1)
    fl = ds["final_loss"].values.copy()
    fl[0, 1, :] = np.nan
    ds["final_loss"] = (ds["final_loss"].dims, fl)
    assert analysis.best_lr(ds)["best_lr"].item() == 0.01
    with pytest.raises(ValueError, match="no variable"):
        analysis.best_lr(ds, metric="nope")
    with pytest.raises(ValueError, match="no dimension"):
        analysis.best_lr(ds, dim="beta2")
    with pytest.raises(ValueError, match="reduce"):
        analysis.best_lr(ds, reduce="mode")


def test_mean_log_loss():
    rng = np.random.default_rng(0)
    vals = 10.0 ** rng.normal(-2.0, 0.5, size=(3, 400))
    da = xr.DataArray(vals, dims=("lr", "replicate"), name="final_loss")
    out = analysis.mean_log_loss(xr.Dataset({"final_loss": da}))
    assert set(out.data_vars) == {"mean", "sem", "n"}
    np.testing.assert_allclose(out["mean"], np.log10(vals).mean(axis=1))
    np.testing.assert_allclose(out["sem"], np.log10(vals).std(axis=1, ddof=1) / 20.0)
    assert np.all(np.abs(out["mean"] + 2.0) < 4 * out["sem"])
    assert (out["n"] == 400).all()
    # natural log, and a DataArray input
    ln = analysis.mean_log_loss(da, base=np.e)
    np.testing.assert_allclose(ln["mean"], np.log(vals).mean(axis=1))


def test_median_intervals_against_a_direct_bootstrap():
    from optsim.analysis import median_interval, median_ratio_interval

    a = np.random.default_rng(1).lognormal(size=50)
    b = np.random.default_rng(2).lognormal(size=50)
    # the same resamples written out: one set of indices, medians, percentiles
    idx = np.random.default_rng(7).integers(0, 50, (400, 50))
    meds = np.median(a[idx], axis=1)
    assert median_interval(a, 0.9, 400, 7) == (np.median(a), *np.quantile(meds, [0.05, 0.95], method="nearest"))
    r, lo, hi = median_ratio_interval(a, b, 400, 0.9, 7, paired=True)
    want = np.quantile(np.median(a[idx], axis=1) / np.median(b[idx], axis=1), [0.05, 0.95])
    assert r == np.median(a) / np.median(b)
    np.testing.assert_allclose((lo, hi), want, rtol=1e-15)  # quantile's axis path rounds the last bit
    # paired on identical samples the ratio is exactly 1; unpaired it is not
    assert median_ratio_interval(a, a, 400, paired=True)[1:] == (1.0, 1.0)
    lo, hi = median_ratio_interval(a, a, 400)[1:]
    assert lo < 1.0 < hi
