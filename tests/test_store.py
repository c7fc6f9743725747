"""Chunked sweep results on disk: identical to in-memory runs, resumable, never mixed."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import xarray as xr

import optsim
from optsim.engine.plan import Plan
from optsim.sweep import build_plan
from optsim.store import StoreError, SweepInterrupted, auto_chunk_size, missing_chunks


def _kwargs(**over):
    kw = dict(
        problem=optsim.problems.Quadratic(curvatures=[1.0, 100.0], x0=[1.0, 1.0]),
        optimizer={"adam": optsim.optimizers.Adam(), "sgd": optsim.optimizers.SGD()},
        noise=optsim.noise.Gaussian(sigma=1.0),
        grid={"lr": np.logspace(-4, 0, 5)},
        replicates=8, steps=60, record_every=20, record=("loss", "params"), thresholds=[0.5],
        seed=3, progress=False,
    )
    kw.update(over)
    return kw


def _same(a, b):
    """Bit-identical data, coordinates and spec (provenance attrs aside)."""
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
    assert a.attrs["spec_hash"] == b.attrs["spec_hash"]
    assert a.attrs["optsim_spec"] == b.attrs["optsim_spec"]


@pytest.fixture
def count_runs(monkeypatch):
    """Count (and optionally interrupt) the chunks a sweep computes."""
    calls = []
    state = {"fail_after": None}
    original = Plan.run_range

    def run_range(self, gi, start, stop, out=None, threads=None):
        if state["fail_after"] is not None and len(calls) >= state["fail_after"]:
            raise KeyboardInterrupt
        calls.append((gi, start, stop))
        return original(self, gi, start, stop, out=out, threads=threads)

    monkeypatch.setattr(Plan, "run_range", run_range)
    return calls, state


def test_out_dir_is_identical_to_memory(tmp_path):
    ref = optsim.sweep(**_kwargs())
    ds = optsim.sweep(**_kwargs(), out_dir=tmp_path / "run", chunk_size=7)
    _same(ref, ds)
    _same(ref, optsim.load(tmp_path / "run" / "result.nc"))
    files = sorted(os.listdir(tmp_path / "run" / "chunks"))
    assert len(files) == sum(-(-40 // 7) for _ in range(2))  # two groups of 5 lrs x 8 replicates
    assert (tmp_path / "run" / "spec.json").exists()


def test_resume_after_interrupt_computes_only_missing(tmp_path, count_runs):
    calls, state = count_runs
    ref = optsim.sweep(**_kwargs())
    calls.clear()
    state["fail_after"] = 3
    with pytest.raises(SweepInterrupted, match="resume=True"):
        optsim.sweep(**_kwargs(), out_dir=tmp_path, chunk_size=6)
    assert len(os.listdir(tmp_path / "chunks")) == 3
    assert not (tmp_path / "result.nc").exists()
    calls.clear()
    state["fail_after"] = None
    ds = optsim.sweep(**_kwargs(), out_dir=tmp_path, chunk_size=6, resume=True)
    total = 2 * -(-40 // 6)
    assert len(calls) == total - 3
    _same(ref, ds)
    # resuming a finished directory computes nothing
    calls.clear()
    _same(ref, optsim.sweep(**_kwargs(), out_dir=tmp_path, resume=True))
    assert calls == []


def test_resume_recomputes_deleted_chunks_with_another_chunk_size(tmp_path, count_runs):
    calls, _ = count_runs
    ref = optsim.sweep(**_kwargs(), out_dir=tmp_path, chunk_size=10)
    chunks = sorted((tmp_path / "chunks").iterdir())
    for p in chunks[1:4]:
        p.unlink()
    calls.clear()
    ds = optsim.sweep(**_kwargs(), out_dir=tmp_path, chunk_size=4, resume=True)
    assert sum(b - a for _, a, b in calls) == 30  # exactly the deleted trajectories
    _same(ref, ds)


def test_directory_rules(tmp_path):
    optsim.sweep(**_kwargs(), out_dir=tmp_path)
    with pytest.raises(StoreError, match="resume=True"):
        optsim.sweep(**_kwargs(), out_dir=tmp_path)
    other = _kwargs(seed=4)
    h_old = optsim.load(tmp_path / "result.nc").attrs["spec_hash"]
    with pytest.raises(StoreError) as err:
        optsim.sweep(**other, out_dir=tmp_path, resume=True)
    h_new = optsim.sweep(**other).attrs["spec_hash"]
    assert h_old in str(err.value) and h_new in str(err.value)
    ds = optsim.sweep(**other, out_dir=tmp_path, overwrite=True)
    assert ds.attrs["spec_hash"] == h_new == optsim.load(tmp_path / "result.nc").attrs["spec_hash"]
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("x")
    with pytest.raises(StoreError, match="not an optsim sweep directory"):
        optsim.sweep(**_kwargs(), out_dir=tmp_path / "foreign")
    with pytest.raises(optsim.ParameterError, match="out_dir"):
        optsim.sweep(**_kwargs(), resume=True)


def test_chunk_helpers():
    plan, _ = build_plan(
        optsim.problems.Quadratic(), optsim.optimizers.SGD(), grid={"lr": [0.1, 0.2]}, replicates=5, steps=10)
    assert auto_chunk_size(plan) >= 1
    assert missing_chunks(plan, [], 4) == [(0, 0, 4), (0, 4, 8), (0, 8, 10)]
    assert missing_chunks(plan, [(0, 2, 5), (0, 8, 10)], 4) == [(0, 0, 2), (0, 5, 8)]
    assert missing_chunks(plan, [(0, 0, 10)], 4) == []


def test_missing_dask_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(optsim.OptsimError, match=r"optsim\[dask\]"):
        optsim.sweep(**_kwargs(), client="local:1")


KILL_KWARGS = """
import numpy as np, optsim
def kwargs():
    return dict(problem=optsim.problems.Quadratic(curvatures=[1.0, 100.0], x0=[1.0, 1.0]),
                optimizer=optsim.optimizers.Adam(), noise=optsim.noise.Gaussian(sigma=1.0),
                grid={"lr": np.logspace(-4, 0, 32)}, replicates=200, steps=1000, record_every=50,
                seed=7, progress=False)
"""


def test_sigkill_mid_run_then_resume(tmp_path, count_runs):
    calls, _ = count_runs
    out = tmp_path / "run"
    script = tmp_path / "run_sweep.py"
    script.write_text(KILL_KWARGS + textwrap.dedent(f"""
        optsim.sweep(**kwargs(), out_dir={str(out)!r}, chunk_size=200, threads=1)
        print("finished")
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    chunk_dir = out / "chunks"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if chunk_dir.is_dir() and any(p.suffix == ".npz" for p in chunk_dir.iterdir()):
                break
            time.sleep(0.01)
        assert proc.poll() is None, proc.communicate()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done = [p for p in chunk_dir.iterdir() if p.suffix == ".npz"]
    total = 32  # 32 lrs x 200 replicates, 200 per chunk
    assert 1 <= len(done) < total
    namespace = {}
    exec(KILL_KWARGS, namespace)
    calls.clear()
    ds = optsim.sweep(**namespace["kwargs"](), out_dir=out, chunk_size=200, resume=True)
    assert len(calls) == total - len(done)
    _same(optsim.sweep(**namespace["kwargs"]()), ds)
