"""The peers of ``benchmarks/bench_peers.py`` agree with optsim (tiny workloads, no timing).

Each peer's core function runs every workload at a tiny scale and its final losses are
compared with optsim's by the benchmark's own rule (``benchmarks/_peers/stats.py``).
Peers whose package is not installed are skipped, and so is the C loop without gcc.  The
first run compiles optsim's kernels for these components (cached afterwards).

W5 (the MLP on digits) has its own tests below: its data split against the MLP problem's
specification, the NumPy peer's back-propagation against finite differences, and the
NumPy peer, the C loop and optsim (when it has the MLP problem) agreeing on the final
training loss, test accuracy and diverged fraction.
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


@pytest.mark.parametrize("wname", [w for w in workloads.WORKLOADS if w != "W5"])  # W5: see below
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


# -- W5: an MLP on digits -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def w5(data_dir):
    return workloads.make("W5", tiny=True, data_dir=data_dir)


def test_w5_split_follows_the_mlp_interface(w5):
    """1797 digits: 359 test rows, then 1438 training rows, from one permutation of
    default_rng(0); features standardized with the training rows' statistics."""
    from optsim import datasets

    X, y = datasets.load("digits")
    perm = np.random.default_rng(0).permutation(1797)
    test, train = perm[:359], perm[359:]
    mu = X[train].mean(axis=0)
    sd = X[train].std(axis=0)
    const = sd == 0
    assert const.any()  # digits has blank pixels: only centred
    sd[const] = 1.0
    np.testing.assert_allclose(w5.X, (X[train] - mu) / sd, rtol=0, atol=1e-13)
    np.testing.assert_allclose(w5.X_test, (X[test] - mu) / sd, rtol=0, atol=1e-13)
    np.testing.assert_array_equal(w5.y, y[train])
    np.testing.assert_array_equal(w5.y_test, y[test])
    assert w5.X.dtype == np.float64 and w5.y.dtype == np.int64
    assert w5.steps_per_epoch == 45 and w5.d == 64 * 32 + 32 + 32 * 10 + 10
    np.testing.assert_allclose(w5.X[:, ~const].std(axis=0), 1.0, rtol=1e-12)


def _w5_loss(wl, x, Xb, yb):
    """Mean cross-entropy of one flat parameter vector on (Xb, yb), written out plainly."""
    D, H, C = Xb.shape[1], wl.hidden, wl.classes
    W1 = x[:H * D].reshape(H, D)
    b1 = x[H * D:H * D + H]
    W2 = x[H * D + H:H * D + H + C * H].reshape(C, H)
    b2 = x[H * D + H + C * H:]
    total = 0.0
    for xi, yi in zip(Xb, yb):
        logit = W2 @ np.tanh(W1 @ xi + b1) + b2
        total += np.log(np.sum(np.exp(logit - logit.max()))) + logit.max() - logit[yi]
    return total / len(yb)


def test_w5_numpy_backpropagation_matches_finite_differences(w5):
    from _peers import impl_numpy

    rng = np.random.default_rng(3)
    T, nb = 2, 7
    x = impl_numpy.mlp_init(w5, T, rng)
    x[:, 64 * 32:64 * 32 + 32] = rng.normal(0, 0.3, (T, 32))  # biases away from 0, to be tested too
    x[:, -10:] = rng.normal(0, 0.3, (T, 10))
    idx = rng.integers(0, w5.X.shape[0], size=(T, nb))
    g = np.empty_like(x)
    impl_numpy.mlp_grad(w5, x, g, w5.X[idx], w5.y[idx])
    h = 1e-6
    for t in range(T):
        for k in rng.choice(w5.d, size=40, replace=False).tolist() + [w5.d - 1, 64 * 32]:
            e = np.zeros(w5.d)
            e[k] = h
            fd = (_w5_loss(w5, x[t] + e, w5.X[idx[t]], w5.y[idx[t]])
                  - _w5_loss(w5, x[t] - e, w5.X[idx[t]], w5.y[idx[t]])) / (2 * h)
            assert abs(g[t, k] - fd) <= 1e-7 * max(1.0, abs(fd)), (t, k, g[t, k], fd)
    # the metrics: the loss of the full sets and the test accuracy, against the plain loop
    m = impl_numpy.mlp_metrics(w5, x, chunk=1)
    for t in range(T):
        assert m[0, t] == pytest.approx(_w5_loss(w5, x[t], w5.X, w5.y), rel=1e-12)
        assert m[1, t] == pytest.approx(_w5_loss(w5, x[t], w5.X_test, w5.y_test), rel=1e-12)


def _w5_peer(name, wl, seed):
    impl = IMPLEMENTATIONS[name]
    why = impl.unavailable()
    if why:
        pytest.skip(why)
    try:
        impl.warmup(wl)
        res, _ = impl.run(wl, seed=seed)
    except workloads.PeerUnavailable as e:  # no gcc with OpenMP; optsim without the MLP problem
        pytest.skip(str(e))
    assert set(res) == set(workloads.MLP_METRICS)
    for v in res.values():
        assert v.shape == wl.shape and np.all(np.isfinite(v))
    return workloads.finals(wl, res), res


@pytest.fixture(scope="module")
def w5_numpy(w5):
    return _w5_peer("numpy", w5, seed=0)


@pytest.mark.parametrize("peer", ["c", "optsim"])
def test_w5_peer_agrees_with_numpy(peer, w5, w5_numpy):
    ref, ref_res = w5_numpy
    fin, res = _w5_peer(peer, w5, seed=1)
    result = stats.compare_metrics(ref, fin, w5.diverge_bound())
    assert result["cells_compared"] == len(w5.lrs)
    assert result["agree"], result["failures"]
    # at step 0 every peer has fresh Glorot networks: chance accuracy, loss near log(10)
    for r in (ref_res, res):
        assert abs(r["test_accuracy"][..., 0].mean() - 0.1) < 0.03
        assert abs(r["loss"][..., 0].mean() - np.log(10)) < 0.4
    # and the runs learned: the largest learning rates reach a test accuracy above 90 %
    assert fin["test_accuracy"][0, -2:].mean() > 0.9 and ref["test_accuracy"][0, -2:].mean() > 0.9


def test_w5_agreement_rule_detects_an_accuracy_shift():
    rng = np.random.default_rng(1)
    loss = 10 ** rng.normal(-1.0, 0.1, size=(1, 2, 64))
    acc = np.clip(rng.normal(0.9, 0.01, size=(1, 2, 64)), 0, 1)
    loss2 = 10 ** rng.normal(-1.0, 0.1, size=(1, 2, 64))
    acc2 = np.clip(rng.normal(0.9, 0.01, size=(1, 2, 64)), 0, 1)
    ok = stats.compare_metrics({"loss": loss, "test_accuracy": acc}, {"loss": loss2, "test_accuracy": acc2}, 1e8)
    assert ok["agree"] and ok["max_z_acc"] < 5
    bad = stats.compare_metrics({"loss": loss, "test_accuracy": acc},
                                {"loss": loss2, "test_accuracy": acc2 - 0.02}, 1e8)
    assert not bad["agree"] and {f["reason"] for f in bad["failures"]} == {"mean final test accuracy"}
    worse = stats.compare_metrics({"loss": loss, "test_accuracy": acc},
                                  {"loss": loss2 * 1.5, "test_accuracy": acc2}, 1e8)
    assert {f["reason"] for f in worse["failures"]} == {"mean log10 final training loss"}
