"""Sweeps on a Dask cluster (two local worker processes on loopback): identical results,
and a worker killed mid-run loses nothing."""

import os
import signal
import warnings

import numpy as np
import pytest
import xarray as xr

distributed = pytest.importorskip("distributed")

import optsim  # noqa: E402
from optsim.store import ChunkStore  # noqa: E402


def _kwargs(**over):
    kw = dict(
        problem=optsim.problems.Quadratic(curvatures=[1.0, 100.0], x0=[1.0, 1.0]),
        optimizer=optsim.optimizers.Adam(),
        noise=optsim.noise.Gaussian(sigma=1.0),
        grid={"lr": np.logspace(-4, 0, 8)},
        replicates=32, steps=400, record_every=50, thresholds=[0.1], seed=11, progress=False,
    )
    kw.update(over)
    return kw


def _same(a, b):
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
    assert a.attrs["spec_hash"] == b.attrs["spec_hash"]


@pytest.fixture(scope="module")
def client():
    # workers inherit os.environ, so they share this process's OPTSIM_CACHE_DIR
    with warnings.catch_warnings():  # another test's cluster may hold the default HTTP port
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def reference():
    return optsim.sweep(**_kwargs())


def test_cluster_matches_local(client, reference):
    _same(reference, optsim.sweep(**_kwargs(), client=client, chunk_size=16))
    _same(reference, optsim.sweep(**_kwargs(), client=client))  # automatic chunks
    assert client.status == "running"  # a Client passed in is not closed


def test_cluster_writes_the_chunk_store(client, reference, tmp_path):
    ds = optsim.sweep(**_kwargs(), client=client, chunk_size=16, out_dir=tmp_path)
    _same(reference, ds)
    assert len(os.listdir(tmp_path / "chunks")) == 256 // 16
    _same(reference, optsim.load(tmp_path / "result.nc"))


def test_worker_killed_mid_run_loses_nothing(client, tmp_path, monkeypatch):
    kw = _kwargs(grid={"lr": np.logspace(-4, 0, 8)}, replicates=100, steps=5000, record_every=500)
    reference = optsim.sweep(**kw)
    pids = client.run(os.getpid)  # {worker address: pid}
    killed = []
    original = ChunkStore.write

    def write(self, gi, start, stop, part):
        original(self, gi, start, stop, part)
        if not killed:  # after the first chunk: kill a worker that is running one
            busy = [addr for addr, keys in client.processing().items() if keys and addr in pids]
            assert busy
            killed.append(pids[busy[0]])
            os.kill(killed[0], signal.SIGKILL)

    monkeypatch.setattr(ChunkStore, "write", write)
    ds = optsim.sweep(**kw, client=client, chunk_size=50, out_dir=tmp_path)
    _same(reference, ds)
    assert len(os.listdir(tmp_path / "chunks")) == 800 // 50
    assert killed and killed[0] not in client.run(os.getpid).values()  # it died and was replaced


def test_local_n_starts_and_closes_its_cluster(reference):
    _same(reference, optsim.sweep(**_kwargs(), client="local:2"))
    with pytest.raises(optsim.OptsimError, match="local:N"):
        optsim.sweep(**_kwargs(), client="local:zero")


def test_default_client_block(client, reference, monkeypatch):
    from optsim.distributed import current_client, default_client
    from optsim.engine.plan import Plan

    def refuse(*args, **kwargs):
        raise AssertionError("ran in the client process, not on the cluster")

    monkeypatch.setattr(Plan, "run_range", refuse)  # this process only; workers are others
    with default_client(client) as c:
        assert current_client() is c
        _same(reference, optsim.sweep(**_kwargs(), chunk_size=64))
    assert current_client() is None


def test_cluster_reduces_on_the_workers(client):
    kw = _kwargs(reduce=("mean", "quantiles"))
    local = optsim.sweep(**kw)
    on_cluster = optsim.sweep(**kw, client=client, chunk_size=40)  # rounded to whole cells of 32
    _same(local, on_cluster)
    assert "loss_quantile" in on_cluster and "replicate" not in on_cluster.dims


def test_cluster_resume_sets_aside_and_recomputes_a_damaged_chunk(client, reference, tmp_path, caplog):
    import logging

    optsim.sweep(**_kwargs(), client=client, chunk_size=16, out_dir=tmp_path)
    bad = tmp_path / "chunks" / "0_16_32.npz"
    bad.write_bytes(bad.read_bytes()[:100])  # truncated
    caplog.set_level(logging.WARNING, logger="optsim.store")
    _same(reference, optsim.sweep(**_kwargs(), client=client, chunk_size=16, out_dir=tmp_path, resume=True))
    reports = [r.getMessage() for r in caplog.records if r.name == "optsim.store"]
    assert len(reports) == 1 and str(bad) in reports[0]
    assert (tmp_path / "chunks" / "0_16_32.npz.bad-1").stat().st_size == 100
    _same(reference, optsim.load(tmp_path / "result.nc"))
