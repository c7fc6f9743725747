"""A study's run is resumable (its sweeps keep their chunks until the results are saved),
its saved results can be re-judged without computing, and its sweeps run on Dask."""

import json

import numpy as np
import pytest

from optsim import store
from studies import _runner as R

_SWEEP_STUDY = '''
import os

import numpy as np
import optsim
import xarray as xr

NAME = "two_sweeps"
TITLE = "Two sweeps, the second of which can fail"
QUESTION = "Does SGD reduce the loss of a quadratic?"
HYPOTHESIS = "yes"
SCALES = {"tiny": {"replicates": 64}, "quick": {"replicates": 64}, "paper": {"replicates": 64}}
FIGURES = []
THRESHOLD = 1.0


def _one(lr, seed):
    return optsim.sweep(optsim.problems.Quadratic(curvatures=[1.0, 4.0], x0=[1.0, 1.0]), optsim.optimizers.SGD(lr=lr),
                        noise=optsim.noise.Gaussian(sigma=0.3), replicates=SCALES["tiny"]["replicates"],
                        steps=200, record_every=50, seed=seed, chunk_size=16)


def run(scale="quick"):
    first = _one(0.05, 1)
    if os.environ.get("OPTSIM_TEST_FAIL_SECOND"):
        raise RuntimeError("the second part failed")
    return {"first": first, "second": _one(0.1, 2)}


def verdict(results):
    ratio = float(results["second"]["loss"].isel(step=-1).mean() / results["second"]["loss"].isel(step=0).mean())
    return [{"claim": "the loss goes down", "source": "toy", "expected": f"ratio < {THRESHOLD}",
             "measured": f"{ratio:.3f}", "reproduced": ratio < THRESHOLD}]
'''


@pytest.fixture
def root(tmp_path):
    (tmp_path / "studies").mkdir()
    (tmp_path / "figures").mkdir()
    (tmp_path / "studies" / "two_sweeps.py").write_text(_SWEEP_STUDY)
    return tmp_path


def _chunks(d):
    return {p: p.stat().st_mtime_ns for p in sorted(d.rglob("chunks/*.npz"))}


def test_checkpoints_make_a_sweep_resumable_and_bit_identical(tmp_path):
    import optsim

    args = (optsim.problems.Quadratic(curvatures=[1.0, 3.0], x0=[1.0, 1.0]), optsim.optimizers.Adam(lr=0.05))
    kw = dict(noise=optsim.noise.Gaussian(sigma=0.5), replicates=40, steps=60, seed=3, chunk_size=7,
              record=("loss", "params"))
    plain = optsim.sweep(*args, **kw)
    with store.checkpoints(tmp_path / "ck"):
        assert store.current_checkpoints() == tmp_path / "ck"
        with store.checkpoints(None):
            assert store.current_checkpoints() is None
        kept = optsim.sweep(*args, **kw)
        (sub,) = (tmp_path / "ck").iterdir()
        assert len(_chunks(sub)) == 6 and (sub / "result.nc").is_file()
        before = _chunks(sub)
        again = optsim.sweep(*args, **kw)  # everything is loaded, nothing rewritten
        assert _chunks(sub) == before
    assert store.current_checkpoints() is None
    for ds in (kept, again):
        np.testing.assert_array_equal(ds["loss"].values, plain["loss"].values)
        np.testing.assert_array_equal(ds["params"].values, plain["params"].values)


def test_a_failed_study_keeps_its_finished_sweeps_and_resumes(root, monkeypatch, capsys):
    monkeypatch.setenv("OPTSIM_TEST_FAIL_SECOND", "1")
    with pytest.raises(RuntimeError, match="second part"):
        R.run_study("two_sweeps", "tiny", root=root, quiet=True)
    partial = R.results_dir("two_sweeps", "tiny", root) / R.PARTIAL
    kept = _chunks(partial)
    assert len(kept) == 4  # the first sweep's 64 replicates in chunks of 16
    monkeypatch.delenv("OPTSIM_TEST_FAIL_SECOND")
    res = R.run_study("two_sweeps", "tiny", root=root)
    assert "resuming" in capsys.readouterr().out
    assert not partial.exists()  # removed once the results are saved
    fresh = R.run_study("two_sweeps", "tiny", root=root, force=True, quiet=True, resumable=False)
    for key in ("first", "second"):
        np.testing.assert_array_equal(res[key]["loss"].values, fresh[key]["loss"].values)


def test_an_interrupted_study_says_how_to_resume(root, monkeypatch):
    import optsim

    calls = []
    real = optsim.sweep

    def interrupted(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise store.SweepInterrupted("interrupted")
        return real(*a, **k)

    monkeypatch.setattr(optsim, "sweep", interrupted)
    with pytest.raises(store.SweepInterrupted, match=r"optsim study two_sweeps --scale tiny` again"):
        R.run_study("two_sweeps", "tiny", root=root, quiet=True)
    assert _chunks(R.results_dir("two_sweeps", "tiny", root) / R.PARTIAL)


def test_rejudge_uses_the_saved_results_with_the_current_verdict(root, monkeypatch, capsys):
    R.run_study("two_sweeps", "tiny", root=root, quiet=True)
    d = R.results_dir("two_sweeps", "tiny", root)
    first = json.loads((d / "verdict.json").read_text())
    assert first["reproduced"] == 1 and "verdict_hash" not in first
    src = root / "studies" / "two_sweeps.py"
    src.write_text(src.read_text().replace("THRESHOLD = 1.0", "THRESHOLD = 1e-9"))
    monkeypatch.setenv("OPTSIM_TEST_FAIL_SECOND", "1")  # computing would fail
    R.run_study("two_sweeps", "tiny", root=root, rejudge=True)
    out = capsys.readouterr().out
    assert "earlier source of the study" in out and "0/1 claims reproduced" in out
    again = json.loads((d / "verdict.json").read_text())
    assert again["study_hash"] == first["study_hash"] != again["verdict_hash"]
    assert again["run_seconds"] == first["run_seconds"]
    with pytest.raises(RuntimeError, match="second part"):  # the results are not current: recompute
        R.run_study("two_sweeps", "tiny", root=root, quiet=True)
    with pytest.raises(R.StudyError, match="conflict"):
        R.run_study("two_sweeps", "tiny", root=root, rejudge=True, force=True)


def test_rejudge_without_results_names_the_command(root):
    with pytest.raises(R.StudyError, match="optsim study two_sweeps --scale paper"):
        R.run_study("two_sweeps", "paper", root=root, rejudge=True, quiet=True)


def test_a_study_on_dask_gives_the_same_results(root):
    pytest.importorskip("distributed")
    from optsim.distributed import default_client

    local = R.run_study("two_sweeps", "tiny", root=root, quiet=True, resumable=False)
    with default_client("local:2"):
        remote = R.run_study("two_sweeps", "tiny", root=root, quiet=True, force=True)
    for key in ("first", "second"):
        np.testing.assert_array_equal(remote[key]["loss"].values, local[key]["loss"].values)
