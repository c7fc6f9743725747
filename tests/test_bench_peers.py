"""The peers of ``benchmarks/bench_peers.py`` agree with optsim (tiny workloads, no timing).

Each peer's core function runs every workload at a tiny scale and its final losses are
compared with optsim's by the benchmark's own rule (``benchmarks/_peers/stats.py``).
Peers whose package is not installed are skipped, and so is the C loop without gcc.  The
first run compiles optsim's kernels for these components (cached afterwards).
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from _peers import IMPLEMENTATIONS, impl_c, stats, workloads

# the peers that need torch or jax are compared live (``pytest -m live``, see conftest.py)
LIVE_PEERS = {"jax", "torch", "torch_optim"}
PEERS = [pytest.param(name, marks=pytest.mark.live) if name in LIVE_PEERS else name
         for name in IMPLEMENTATIONS if name != "optsim"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("bench_peers_data")


@pytest.fixture(scope="module")
def reference(data_dir):
    """optsim's final losses per tiny workload, computed once."""
    cache = {}

    def get(name):
        if name not in cache:
            wl = workloads.make(name, tiny=True, data_dir=data_dir)
            loss, _ = IMPLEMENTATIONS["optsim"].run(wl, seed=0)
            cache[name] = (wl, loss[..., -1])
        return cache[name]

    return get


@pytest.mark.parametrize("wname", workloads.WORKLOADS)
@pytest.mark.parametrize("peer", PEERS)
def test_peer_agrees_with_optsim(peer, wname, reference):
    impl = IMPLEMENTATIONS[peer]
    why = impl.unavailable()
    if why:
        pytest.skip(why)
    wl, ref = reference(wname)
    work = workloads.python_subset(wl) if impl.subset else wl
    try:
        impl.warmup(work)
    except workloads.PeerUnavailable as e:  # e.g. gcc without OpenMP
        pytest.skip(str(e))
    loss, _ = impl.run(work, seed=1)
    assert loss.shape == work.shape
    # the start is the same point for everyone
    np.testing.assert_allclose(loss[..., 0], wl.f0(), rtol=1e-12)
    result = stats.compare(ref[:, work.full_lr_index()], loss[..., -1], wl.diverge_bound())
    assert result["cells_compared"] > 0
    assert result["agree"], result["failures"]


def test_agreement_rule_detects_a_shift():
    rng = np.random.default_rng(0)
    a = 10 ** rng.normal(0.0, 0.1, size=(2, 3, 64))
    b = 10 ** rng.normal(0.0, 0.1, size=(2, 3, 64))
    assert stats.compare(a, b, bound=1e8)["agree"]
    assert not stats.compare(a, b * 1.5, bound=1e8)["agree"]
    # divergence counts: all diverged in both is agreement; all against none is not
    inf = np.full((1, 1, 16), np.inf)
    assert stats.compare(inf, inf, bound=1e8)["agree"]
    assert not stats.compare(inf, np.ones((1, 1, 16)), bound=1e8)["agree"]


@pytest.mark.skipif(impl_c.unavailable() is not None, reason="no C compiler")
def test_c_ziggurat_normals(tmp_path):
    from scipy import stats as sps

    try:
        path, _ = impl_c.compile_library(tmp_path)
    except workloads.PeerUnavailable as e:
        pytest.skip(str(e))
    lib = impl_c.load(path)
    n = 200_000
    scalar = np.empty(n)
    lib.zig_sample_scalar(7, n, impl_c._ptr(scalar))
    lanes = np.empty(n)
    lib.zig_sample_lanes(8, 250, n // 250, impl_c._ptr(lanes))
    for z in (scalar, lanes):
        assert abs(z.mean()) < 5 / np.sqrt(n)
        assert abs(z.var() - 1.0) < 5 * np.sqrt(2.0 / n)
        assert sps.kstest(z, "norm").pvalue > 1e-4
        # the tail beyond the ziggurat's base strip (r = 3.654) has its probability
        tail = np.mean(np.abs(z) > 3.6541528853610088)
        p = 2 * sps.norm.sf(3.6541528853610088)
        assert abs(tail - p) < 5 * np.sqrt(p / n)


def test_alternating_rounds_keep_the_best_rate_and_each_pairs_ratio(monkeypatch):
    """optsim and the C loop run again in back-to-back pairs, in alternating order."""
    import argparse

    import bench_peers

    calls = []
    rates = {"optsim": iter([5.0, 7.0]), "c": iter([10.0, 8.0])}

    def fake_worker(wname, iname, args, tmp):
        calls.append(iname)
        return {"status": "ok", "rate": next(rates[iname])}, None

    monkeypatch.setattr(bench_peers, "run_worker", fake_worker)
    impls = {"optsim": {"status": "ok", "rate": 6.0, "work": 60.0},
             "c": {"status": "ok", "rate": 12.0, "work": 60.0},
             "numpy": {"status": "ok", "rate": 1.0, "work": 60.0}}
    bench_peers._alternate("W1", impls, argparse.Namespace(rounds=3), None, 0.0)
    assert calls == ["c", "optsim", "optsim", "c"]
    assert impls["optsim"]["round_rates"] == [6.0, 5.0, 7.0]
    assert impls["c"]["round_rates"] == [12.0, 10.0, 8.0]
    assert impls["optsim"]["rate"] == 7.0 and impls["c"]["rate"] == 12.0
    assert impls["optsim"]["best_s"] == 60.0 / 7.0
    assert impls["optsim"]["round_ratios"] == [0.5, 0.5, 7.0 / 8.0]
    assert impls["numpy"] == {"status": "ok", "rate": 1.0, "work": 60.0}

    # a run that fails: its pair gives no ratio, and the other pairs stay paired
    results = {"optsim": iter([{"status": "error"}, {"status": "ok", "rate": 4.0}]),
               "c": iter([{"status": "ok", "rate": 20.0}, {"status": "ok", "rate": 8.0}])}
    monkeypatch.setattr(bench_peers, "run_worker", lambda w, i, a, t: (next(results[i]), None))
    impls = {"optsim": {"status": "ok", "rate": 6.0, "work": 60.0},
             "c": {"status": "ok", "rate": 12.0, "work": 60.0}}
    bench_peers._alternate("W1", impls, argparse.Namespace(rounds=3), None, 0.0)
    assert impls["optsim"]["round_rates"] == [6.0, 4.0] and impls["c"]["round_rates"] == [12.0, 20.0, 8.0]
    assert impls["optsim"]["round_ratios"] == [0.5, 0.5]

    # one round, or the C loop missing: nothing more runs
    calls.clear()
    impls = {"optsim": {"status": "ok", "rate": 6.0, "work": 60.0}, "c": {"status": "unavailable"}}
    bench_peers._alternate("W1", impls, argparse.Namespace(rounds=3), None, 0.0)
    bench_peers._alternate("W1", {"optsim": {"status": "ok"}, "c": {"status": "ok"}},
                           argparse.Namespace(rounds=1), None, 0.0)
    assert calls == [] and "round_rates" not in impls["optsim"]
