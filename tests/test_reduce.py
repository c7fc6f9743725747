"""Reductions over replicates on the fly (``sweep(..., reduce=...)``): exact, chunk- and
resume-proof, and proposed by the memory guard."""

import numpy as np
import pytest
import xarray as xr

import optsim
from optsim.reduce import check_reduce


def _kwargs(**over):
    kw = dict(
        problem=optsim.problems.Quadratic(curvatures=[1.0, 100.0], x0=[1.0, 1.0]),
        optimizer={"adam": optsim.optimizers.Adam(), "sgd": optsim.optimizers.SGD()},
        noise=optsim.noise.Gaussian(sigma=1.0),
        grid={"lr": np.logspace(-3, 0.5, 5)},
        replicates=12, steps=200, record_every=40, record=("loss", "params"), thresholds=[1e-2, 1e-3],
        seed=5, progress=False,
    )
    kw.update(over)
    return kw


@pytest.fixture(scope="module")
def full():
    return optsim.sweep(**_kwargs())


def _expected_quantile(da, q):
    """xarray's quantile, with inf (not nan) where the replicates between are both infinite."""
    lin = da.quantile(q, "replicate")
    lower = da.quantile(q, "replicate", method="lower")
    return xr.where(np.isnan(lin) & np.isinf(lower), lower, lin)


@pytest.mark.parametrize("chunk_size", [None, 12, 30])
def test_statistics_equal_reducing_the_full_result(full, chunk_size):
    red = optsim.sweep(**_kwargs(), reduce=("mean", "std", "quantiles"), chunk_size=chunk_size)
    assert "replicate" not in red.dims and red.attrs["replicates"] == 12
    assert red.attrs["reduced_over"] == "replicate"
    q = [0.1, 0.5, 0.9]
    for name in ("loss", "params", "final_loss", "min_loss"):
        xr.testing.assert_equal(red[f"{name}_mean"].reset_coords(drop=True),
                                full[name].mean("replicate").reset_coords(drop=True))
        xr.testing.assert_allclose(red[f"{name}_std"], full[name].std("replicate", ddof=1), rtol=1e-12)
        exp = _expected_quantile(full[name], q).transpose(*red[f"{name}_quantile"].dims)
        np.testing.assert_array_equal(red[f"{name}_quantile"].values, exp.values)
    np.testing.assert_array_equal(red["diverged_fraction"].values, full["diverged"].mean("replicate").values)
    reached = full["first_below"] >= 0
    np.testing.assert_array_equal(red["first_below_fraction"].values,
                                  reached.mean("replicate").transpose(*red["first_below_fraction"].dims).values)
    steps = full["first_below"].where(reached, np.inf)
    np.testing.assert_array_equal(red["first_below_quantile"].values,
                                  _expected_quantile(steps, q).transpose(*red["first_below_quantile"].dims).values)
    assert np.isinf(red["loss_mean"].sel(optimizer="sgd").isel(lr=-1, step=-1))  # diverged cells stay inf


def test_reduced_out_dir_resumes_to_the_same_result(tmp_path):
    ref = optsim.sweep(**_kwargs(), reduce="mean,quantiles")
    run = tmp_path / "run"
    first = optsim.sweep(**_kwargs(), reduce="mean,quantiles", out_dir=run, chunk_size=24)
    xr.testing.assert_identical(ref.drop_attrs(), first.drop_attrs())
    chunks = sorted((run / "chunks").iterdir())
    with np.load(chunks[0]) as z:
        assert "loss_mean" in z.files and "loss" not in z.files  # chunk files hold statistics
    for f in chunks[::2]:
        f.unlink()
    again = optsim.sweep(**_kwargs(), reduce="mean,quantiles", out_dir=run, resume=True, chunk_size=36)
    xr.testing.assert_identical(ref.drop_attrs(), again.drop_attrs())
    with pytest.raises(optsim.OptsimError, match="spec hash"):  # unreduced results are another spec
        optsim.sweep(**_kwargs(), out_dir=run, resume=True)


def test_memory_guard_proposes_reductions():
    kw = _kwargs(replicates=4096, steps=1000, record_every=1, record=("loss", "params"))
    with pytest.raises(optsim.MemoryLimitError, match=r"reduce=\('mean', 'quantiles'\) needs about"):
        optsim.sweep(**kw, max_memory=5 * 10**8)
    with pytest.raises(optsim.MemoryLimitError, match="even reduced over replicates"):
        optsim.sweep(**kw, reduce="mean", max_memory=10**6)


@pytest.mark.parametrize("bad, match", [("median", "reduce: each entry must be one of mean, std, quantiles"),
                                        (["mean", "max"], "reduce: each entry"), ([], "reduce: each entry")])
def test_bad_reduce_is_refused(bad, match):
    with pytest.raises(optsim.ParameterError, match=match):
        check_reduce(bad, (0.5,))


def test_bad_quantiles_are_refused():
    with pytest.raises(optsim.ParameterError, match=r"quantiles: levels in \[0, 1\]"):
        optsim.sweep(**_kwargs(), reduce="quantiles", quantiles=[0.5, 1.5])


def test_summary_figure_of_a_reduced_sweep():
    from optsim.plotting import summary_figure

    red = optsim.sweep(**_kwargs(optimizer=optsim.optimizers.Adam()), reduce=("mean", "quantiles"))
    fig = summary_figure(red, title="reduced")
    assert len(fig.axes) == 2 and all(ax.get_xlabel() for ax in fig.axes)
