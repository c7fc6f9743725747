"""optsim.explore without a browser: what the page embeds (decimated, quantized data checked
against NumPy quantiles of the Dataset), that it needs nothing from outside, and its refusals."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import optsim
import optsim.plotting
from optsim import _explore_data as xd
from optsim._components import ParameterError, ParameterTypeError
from optsim.cli import main

import explore_cases


def _payload(path):
    text = path.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="optsim-data">(.*?)</script>', text, re.S)
    return text, json.loads(m.group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def valley():
    return explore_cases.valley()


@pytest.fixture(scope="module")
def page(valley, tmp_path_factory):
    path = tmp_path_factory.mktemp("explore") / "valley.html"
    optsim.explore(valley, path, max_steps=120)
    return path


# -- encoding --------------------------------------------------------------------------------------


def test_log16_round_trip_within_its_bound():
    rng = np.random.default_rng(1)
    a = 10.0 ** rng.uniform(-12, 8, size=5000)
    a[:4] = [0.0, np.inf, np.nan, 1.0]
    blob = xd.encode(a)
    assert blob["enc"] == "log16"
    b = xd.decode(blob)
    rel, _ = xd.error_bound(blob)
    assert rel < 4e-4  # 20 decades in 16 bits
    fin = np.isfinite(a) & (a > 0)
    assert np.all(np.abs(b[fin] / a[fin] - 1) <= rel)
    assert b[0] == 0.0 and b[1] == np.inf and np.isnan(b[2])


def test_lin16_and_float32_round_trips():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(3, 7, 11)) * 5
    a[0, 0, 0], a[0, 0, 1] = -np.inf, np.nan
    blob = xd.encode(a)
    assert blob["enc"] == "lin16" and blob["shape"] == [3, 7, 11]
    _, tol = xd.error_bound(blob)
    b = xd.decode(blob)
    fin = np.isfinite(a)
    assert np.max(np.abs(b[fin] - a[fin])) <= tol and tol < 2e-4
    assert b[0, 0, 0] == -np.inf and np.isnan(b[0, 0, 1])
    f = xd.decode(xd.encode(a, "float32"))
    assert np.allclose(f[fin], a[fin], rtol=1e-7) and f[0, 0, 0] == -np.inf


def test_constant_array_encodes():
    b = xd.decode(xd.encode(np.full(5, 3.0)))
    assert np.allclose(b, 3.0, rtol=1e-12)


def test_decimate_keeps_ends_and_early_steps():
    assert list(xd.decimate(10, 50)) == list(range(10))
    idx = xd.decimate(100_001, 300)
    assert len(idx) <= 300 and idx[0] == 0 and idx[-1] == 100_000
    assert np.all(np.diff(idx) > 0)
    assert {1, 2, 3} <= set(idx.tolist())  # the geometric half keeps the first steps for a log axis
    gaps = np.diff(idx)
    assert gaps.max() <= 2 * 100_000 / 150 + 1  # the even half bounds every gap


# -- the page ---------------------------------------------------------------------------------------


def test_page_is_self_contained(page):
    text, _ = _payload(page)
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\(http|fetch\(|XMLHttpRequest", text)
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= {"http://www.w3.org/2000/svg"}  # the SVG namespace is a name, never fetched
    assert page.stat().st_size < 150_000


def test_bands_match_numpy_quantiles_within_the_quantization(valley, page):
    _, data = _payload(page)
    steps = np.array(data["x"]["values"])
    assert data["x"]["total"] == valley.sizes["step"] and len(steps) <= 120
    assert steps[0] == 0 and steps[-1] == valley["step"].values[-1]
    (loss,) = [v for v in data["variables"] if v["name"] == "loss"]
    assert loss["dims"] == ["optimizer", "lr"] and loss["nrep"] == 12 and loss["replicates"] == 5
    bands = xd.decode(loss["bands"])
    assert bands.shape == (2, 3, 3, len(steps))
    rel, _ = xd.error_bound(loss["bands"])
    sub = valley["loss"].sel(step=steps).transpose("optimizer", "lr", "replicate", "step").values
    for k, q in enumerate((0.1, 0.5, 0.9)):
        with np.errstate(invalid="ignore"):
            expected = np.quantile(sub, q, axis=2)  # the oracle: NumPy on the Dataset...
        got = bands[:, :, k, :]
        fin = np.isfinite(expected)
        assert np.all(np.abs(got[fin] / expected[fin] - 1) <= rel)
    # ...and where half the replicates diverged the median and upper quantile are infinite
    late = steps >= 300
    assert np.all(np.isinf(bands[0, 2, 2, late])) and np.all(np.isinf(bands[0, 2, 1, late]))
    assert np.all(np.isfinite(bands[0, 2, 0, late]))
    reps = xd.decode(loss["reps"])
    assert reps.shape == (2, 3, 5, len(steps))
    fin = np.isfinite(sub[:, :, :5])
    rel, _ = xd.error_bound(loss["reps"])
    assert np.all(np.abs(reps[fin] / sub[:, :, :5][fin] - 1) <= rel)


def test_controls_start_and_trajectories(valley, page):
    _, data = _payload(page)
    ctl = {c["dim"]: c for c in data["controls"]}
    assert ctl["optimizer"]["kind"] == "select" and ctl["optimizer"]["labels"] == ["sgd", "adam"]
    assert ctl["optimizer"]["colors"] == [optsim.plotting.optimizer_color("sgd"), optsim.plotting.optimizer_color("adam")]
    assert ctl["lr"]["kind"] == "slider" and ctl["lr"]["values"] == explore_cases.LRS
    assert data["compare"] == "optimizer"
    final = valley["loss"].isel(step=-1).median("replicate")
    best = np.unravel_index(int(np.nanargmin(np.where(np.isfinite(final), final, np.inf))), final.shape)
    assert data["start"] == {"optimizer": int(best[0]), "lr": int(best[1])}
    traj = data["trajectories"]
    assert traj["dims"] == ["optimizer", "lr"] and traj["count"] == 5 and traj["names"] == ["x", "y"]
    box = traj["box"]
    assert box == data["contours"]["box"] == [-3.5, 1.0, -1.0, 2.0]
    steps = np.array(data["x"]["values"]).astype(int)
    ref = valley["params"].isel(replicate=slice(0, 5)).sel(step=steps).transpose("optimizer", "lr", "replicate", "step", "param").values
    for k, (lo, hi) in enumerate(((box[0], box[1]), (box[2], box[3]))):
        got = xd.decode(traj["xy"[k]])
        w = hi - lo  # 16-bit codes span the window and one width either side
        inside = (ref[..., k] >= lo - w) & (ref[..., k] <= hi + w)
        assert inside.mean() > 0.9
        assert np.max(np.abs(got[inside] - ref[..., k][inside])) <= 3 * (hi - lo) / (2 * xd.CODES) * 1.0001
        assert np.all(np.isinf(got[~inside]))  # far outside the window: sent as a break in the line
    c = data["contours"]
    assert c["optimum"] == [0.0, 0.0] and c["log"] and len(c["levels"]) == 18 and c["lines"]
    assert c["image"].startswith("data:image/png;base64,")


def test_float32_encoding_and_variable_choice(valley, tmp_path):
    path = optsim.explore(valley, tmp_path / "f.html", encoding="float32", variables=["grad_norm"], max_paths=0,
                          compare="lr", title="grad <norm>")
    text, data = _payload(path)
    assert "<title>grad &lt;norm&gt;</title>" in text
    assert [v["name"] for v in data["variables"]] == ["grad_norm"] and data["var"] == "grad_norm"
    assert data["trajectories"] is None and data["compare"] == "lr"
    assert data["variables"][0]["bands"]["enc"] == "f32"



def test_start_picks_the_opening_view(valley, tmp_path):
    _, data = _payload(optsim.explore(valley, tmp_path / "s.html", start={"lr": 0.011, "optimizer": "sgd"}, max_paths=0))
    assert data["start"] == {"optimizer": 0, "lr": 1}


def test_a_dataset_without_replicates_or_grid(tmp_path):
    import xarray as xr

    ds = xr.Dataset({"rho": ("step", np.linspace(1, 5, 50)), "var_psi": (("mu", "step"), np.ones((2, 50)))},
                    coords={"step": np.arange(1, 51), "mu": [0.0, 10.0]})
    _, data = _payload(optsim.explore(ds, tmp_path / "r.html"))
    rho = data["variables"][0]
    rel, _ = xd.error_bound(rho["bands"])
    assert rho["dims"] == [] and rho["nrep"] == 1
    assert np.all(np.abs(xd.decode(rho["bands"])[1] / np.linspace(1, 5, 50) - 1) <= rel)
    assert data["controls"][0]["dim"] == "mu"


@pytest.mark.parametrize("kwargs, kind, words", [
    ({"var": "nope"}, ParameterError, "var='nope'"),
    ({"variables": ["final_loss"]}, ParameterError, "'final_loss' is not a curve"),
    ({"variables": "loss"}, ParameterTypeError, "variables='loss'"),
    ({"x": "time"}, ParameterError, "x='time'"),
    ({"quantiles": (0.9, 0.5, 0.1)}, ParameterError, "quantiles="),
    ({"quantiles": (0.1, 0.9)}, ParameterError, "quantiles="),
    ({"max_steps": 1}, ParameterError, "max_steps=1"),
    ({"max_steps": 2.5}, ParameterTypeError, "max_steps=2.5"),
    ({"max_replicates": -1}, ParameterError, "max_replicates=-1"),
    ({"max_paths": True}, ParameterTypeError, "max_paths=True"),
    ({"encoding": "jpeg"}, ParameterError, "encoding='jpeg'"),
    ({"levels": 1}, ParameterError, "levels=1"),
    ({"compare": "replicate"}, ParameterError, "compare='replicate'"),
    ({"surface": np.zeros((3, 3))}, ParameterError, "surface must be a 2-D DataArray"),
    ({"title": 3}, ParameterTypeError, "title=3"),
    ({"start": {"sigma": 1}}, ParameterError, "'sigma' is not one of the grid dimensions"),
    ({"start": {"optimizer": "lion"}}, ParameterError, "optimizer='lion' is none of ['sgd', 'adam']"),
    ({"start": ["lr"]}, ParameterTypeError, "start=['lr']"),
])
def test_bad_arguments_are_refused_in_one_line(valley, tmp_path, kwargs, kind, words):
    out = tmp_path / "bad.html"
    with pytest.raises(kind) as info:
        optsim.explore(valley, out, **kwargs)
    msg = str(info.value)
    assert words in msg and "\n" not in msg and msg.startswith("explore:")
    assert not out.exists()


def test_bad_dataset_and_path(valley, tmp_path):
    with pytest.raises(ParameterTypeError, match="ds=dict"):
        optsim.explore({}, tmp_path / "a.html")
    with pytest.raises(ParameterError, match="is a directory"):
        optsim.explore(valley, tmp_path)
    with pytest.raises(ParameterError, match="no variable recorded along 'step'"):
        optsim.explore(valley[["final_loss"]].assign_coords(step=valley["step"]), tmp_path / "b.html")


def test_a_real_sweep_gets_contours_from_its_problem_and_the_cli(tmp_path, capsys):
    ds = optsim.sweep(problem=optsim.problems.Quadratic(curvatures=[1.0, 10.0], x0=[1.0, 1.0]),
                      noise=optsim.noise.Gaussian(sigma=0.5), optimizer=optsim.optimizers.SGD(),
                      grid={"lr": [0.01, 0.05]}, replicates=4, steps=40, record_every=2,
                      record=("loss", "params"), seed=0)
    nc = optsim.save(ds, tmp_path / "r.nc")
    assert main(["explore", str(nc), "--max-steps", "10"]) == 0
    assert "wrote" in capsys.readouterr().out
    _, data = _payload(tmp_path / "r.html")
    assert len(data["x"]["values"]) <= 10 and data["title"] == "r"
    c = data["contours"]
    x0, x1, y0, y1 = c["box"]
    assert x0 < 0.0 < x1 and y0 < 0.0 < y1 and x1 >= 1.0 and y1 >= 1.0  # the minimum and the start
    assert c["optimum"] == [0.0, 0.0]
    assert main(["explore", str(nc), "-o", str(tmp_path / "p.html"), "--encoding", "png"]) == 2
    assert "encoding='png'" in capsys.readouterr().err
    assert main(["explore", str(tmp_path / "missing.nc")]) == 2


def test_the_headline_explorers_script(tmp_path):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "explorers_build", Path(__file__).parent.parent / "docs" / "explorers" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert set(build.EXPLORERS) == {"momentum_valley", "adam_bias_correction", "beta2_memory_reddi",
                                    "radam_warmup_variance", "sparse_sigmoid"}
    (path,) = build.build(tmp_path / "site", ["radam_warmup_variance"])  # the one without a sweep: fast
    _, data = _payload(path)
    assert path.name == "radam_warmup_variance.html" and data["var"] == "var_psi"
    assert [c["dim"] for c in data["controls"]] == ["mu"]


def test_a_reduced_result_shows_its_own_quantiles(tmp_path):
    import xarray as xr

    rng = np.random.default_rng(4)
    q = np.sort(rng.uniform(0.1, 2.0, size=(2, 3, 30)), axis=1)  # (lr, quantile, step)
    ds = xr.Dataset({"loss_quantile": (("lr", "quantile", "step"), q),
                     "loss_mean": (("lr", "step"), q.mean(axis=1))},
                    coords={"lr": [0.1, 0.2], "quantile": [0.25, 0.5, 0.75], "step": np.arange(30)})
    _, data = _payload(optsim.explore(ds, tmp_path / "q.html", var="loss_quantile"))
    v = data["variables"][0]
    assert v["name"] == "loss_quantile" and v["q"] == [0.25, 0.5, 0.75] and v["nrep"] == 0
    bands = xd.decode(v["bands"])
    rel, _ = xd.error_bound(v["bands"])
    assert np.all(np.abs(bands / q - 1) <= rel)


def test_trajectories_without_a_surface_frame_the_bulk_of_the_iterates(valley, tmp_path):
    ds = valley.drop_vars(["surface", "x", "y"])
    ds.attrs = {}
    _, data = _payload(optsim.explore(ds, tmp_path / "n.html", max_paths=3))
    assert data["contours"] is None  # not a sweep: no problem to draw
    x0, x1, y0, y1 = data["trajectories"]["box"]
    assert x0 < -3.0 < x1 and y0 < 1.5 < y1  # the start...
    assert x1 < 10 and y1 < 10  # ...and not the diverged runs' 1e9
