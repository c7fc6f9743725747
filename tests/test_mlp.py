"""The MLP problem: back-propagation against finite differences and against JAX (a committed
fixture), the initializations, the data split and standardization, minibatch training
against a NumPy oracle, the metrics record, matrix rules on its weights, and bad input."""

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

import optsim
from optsim import ParameterError, _rng
from optsim.engine.codegen import STREAMS
from optsim.noise import Minibatch
from optsim.optimizers import SGD, Adam, Muon, SOAP
from optsim.problems import MLP, Quadratic
from optsim.problems import _mlp_kernels as K

from reference import mlp as ref
from reference.noise import sample_batch

GOLDEN = Path(__file__).resolve().parent / "golden" / "problems"
ACTS = ("tanh", "relu", "gelu")
LOSSES = ("cross_entropy", "squared")


def _problem(widths, activation="tanh", loss="cross_entropy", bias=True, init="glorot", tanh="libm"):
    """An MLP of the given widths (the synthetic mixture fixes the input and output sizes)."""
    return MLP(dataset="gaussian_mixture", n_features=widths[0], n_classes=widths[-1], hidden=list(widths[1:-1]),
               activation=activation, loss=loss, bias=bias, init=init, tanh=tanh)


def _cfg(widths, **kw):
    return _problem(widths, **kw)._config()


def _small_data(n_in, n_classes, n=9, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n_in)), rng.integers(0, n_classes, n).astype(np.int64)


def _batch_loss(x, X, y, cfg, idx):
    g = np.empty_like(x)
    f = K.mlp_batch(x, g, X, y, idx, idx.shape[0], cfg)
    return f, g


# -- gradients ----------------------------------------------------------------------------

CASES = [(*c, "libm") for c in itertools.product(ACTS, LOSSES, (True, False), ((4,), (4, 3), (3, 4, 2)))]
CASES += [("tanh", "cross_entropy", True, hidden, "portable") for hidden in ((4,), (4, 3))]  # optsim's own tanh


@pytest.mark.parametrize("act,loss,bias,hidden,tanh", CASES)
def test_backprop_matches_central_differences(act, loss, bias, hidden, tanh):
    widths = (5, *hidden, 3)
    cfg = _cfg(widths, activation=act, loss=loss, bias=bias, tanh=tanh)
    X, y = _small_data(5, 3)
    d = _problem(widths, bias=bias).dimension()
    x = 0.7 * np.random.default_rng(1).standard_normal(d)
    idx = np.array([3, 0, 7, 7, 2], dtype=np.int64)  # a minibatch, a repeated row included
    f, g = _batch_loss(x, X, y, cfg, idx)
    h = 1e-6
    fd = np.empty(d)
    for k in range(d):
        e = np.zeros(d)
        e[k] = h
        fd[k] = (_batch_loss(x + e, X, y, cfg, idx)[0] - _batch_loss(x - e, X, y, cfg, idx)[0]) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    # the full-batch path (passes of CHUNK rows) against the oracle
    gf = np.empty(d)
    ff, _ = K.mlp_full(x, gf, X, y, cfg, True)
    fo, go = ref.loss_and_grad(x, X, y, widths, bias, act, loss)
    assert ff == pytest.approx(fo, rel=1e-13)
    np.testing.assert_allclose(gf, go, rtol=1e-11, atol=1e-14)


def test_full_batch_passes_do_not_change_the_numbers():
    """A dataset of several CHUNK passes gives the bits of one pass over the same rows."""
    widths = (6, 5, 4)
    cfg = _cfg(widths)
    X, y = _small_data(6, 4, n=K.CHUNK * 2 + 7, seed=3)
    x = np.random.default_rng(2).standard_normal(_problem(widths).dimension())
    g1, g2 = np.empty_like(x), np.empty_like(x)
    f1, _ = K.mlp_full(x, g1, X, y, cfg, True)
    f2 = K.mlp_batch(x, g2, X, y, np.arange(X.shape[0], dtype=np.int64), X.shape[0], cfg)
    assert f1 == pytest.approx(f2, rel=1e-14)
    np.testing.assert_array_equal(g1, g2)  # the sums over examples run in the same order


def test_backprop_matches_jax_autodiff_fixture():
    meta = json.loads((GOLDEN / "mlp_jax.json").read_text())
    z = np.load(GOLDEN / "mlp_jax.npz")
    X, y = z["X"], z["y"].astype(np.int64)
    idx = np.arange(X.shape[0], dtype=np.int64)
    assert len(meta["cases"]) == 24
    for case in meta["cases"]:
        widths = (meta["n_in"], *case["hidden"], meta["n_classes"])
        cfg = _cfg(widths, activation=case["activation"], loss=case["loss"], bias=case["bias"])
        x = z[case["name"] + "/x"]
        f, g = _batch_loss(x, X, y, cfg, idx)
        assert f == pytest.approx(float(z[case["name"] + "/loss"]), rel=1e-13), case["name"]
        np.testing.assert_allclose(g, z[case["name"] + "/grad"], rtol=1e-11, atol=1e-15, err_msg=case["name"])


# -- initialization -----------------------------------------------------------------------

@pytest.mark.parametrize("rule", ["glorot", "he", "lecun", "torch"])
def test_initializations_have_their_moments(rule):
    p = MLP(dataset="iris", hidden=[40], init=rule)  # W1: 40 x 4, W2: 3 x 40
    cfg = p._config()
    reps = 300
    draws = np.empty((reps, p.dimension()))
    for r in range(reps):
        draws[r] = 0.0
        K.mlp_init(draws[r], cfg, _rng.stream_state(5, r, STREAMS["init"], 0))
    off = 0
    for name, shape in p.param_shapes().items():
        n = int(np.prod(shape))
        v = draws[:, off:off + n].ravel()
        off += n
        fan_in = shape[1] if len(shape) == 2 else {"b1": 4, "b2": 40}[name]
        fan_out = shape[0]
        if len(shape) == 1 and rule != "torch":
            assert np.all(v == 0.0), name
            continue
        var = {"glorot": 2.0 / (fan_in + fan_out), "he": 2.0 / fan_in, "lecun": 1.0 / fan_in,
               "torch": 1.0 / (3.0 * fan_in)}[rule]
        se_mean = math.sqrt(var / v.size)
        assert abs(v.mean()) < 5 * se_mean, (name, v.mean())
        kurt = 1.8 if rule == "torch" else 3.0  # fourth moment / var^2 of a uniform, a normal
        se_var = var * math.sqrt((kurt - 1.0) / v.size)
        assert abs(v.var() - var) < 5 * se_var, (name, v.var(), var)
        if rule == "torch":
            assert np.max(np.abs(v)) <= 1.0 / math.sqrt(fan_in)
        else:
            m4 = np.mean(v**4) / v.var() ** 2
            assert abs(m4 - 3.0) < 0.3, (name, m4)


def test_initial_networks_are_per_replicate_reproducible_and_common_to_every_cell():
    p = MLP(dataset="iris", hidden=[6])
    kw = dict(grid={"lr": [0.01, 0.1]}, replicates=3, steps=1, record_steps=[0], record=("params",),
              progress=False)
    a = optsim.sweep(p, SGD(), seed=4, **kw).params.isel(step=0).values
    b = optsim.sweep(p, SGD(), seed=4, **kw).params.isel(step=0).values
    c = optsim.sweep(p, SGD(), seed=5, **kw).params.isel(step=0).values
    np.testing.assert_array_equal(a, b)  # reproducible
    np.testing.assert_array_equal(a[0], a[1])  # every cell: the same initial networks (CRN)
    assert not np.array_equal(a[0, 0], a[0, 1]) and not np.array_equal(a[0, 1], a[0, 2])
    assert not np.array_equal(a, c)
    # and the draws are the kernel's from the replicate's own init stream
    for r in range(3):
        x = np.zeros(p.dimension())
        K.mlp_init(x, p._config(), _rng.stream_state(4, r, STREAMS["init"], 0))
        np.testing.assert_array_equal(a[0, r], x)
    # distinct replicates are uncorrelated
    many = optsim.sweep(p, SGD(), seed=1, replicates=200, steps=1, record_steps=[0], record=("params",),
                        progress=False).params.isel(step=0).values
    W = many[:, :6 * 4]
    cor = np.corrcoef(W[:-1].ravel(), W[1:].ravel())[0, 1]
    assert abs(cor) < 5 / math.sqrt(W[1:].size)


# -- data ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name,tf,vf,seed", [("digits", 0.2, 0.0, 0), ("wine", 0.25, 0.1, 3),
                                             ("breast_cancer", 0.3, 0.2, 7), ("iris", 0.0, 0.5, 1)])
def test_split_and_standardization_against_numpy(name, tf, vf, seed):
    X, y = optsim.datasets.load(name)
    n = X.shape[0]
    perm = np.random.default_rng(seed).permutation(n)
    nt, nv = round(tf * n), round(vf * n)
    te, va, tr = perm[:nt], perm[nt:nt + nv], perm[nt + nv:]
    mu = X[tr].mean(axis=0)
    sd = X[tr].std(axis=0)
    scale = np.where(sd == 0.0, 1.0, sd)
    a = MLP(dataset=name, test_fraction=tf, val_fraction=vf, split_seed=seed).arrays()
    for part, rows in (("train", tr), ("val", va), ("test", te)):
        np.testing.assert_allclose(a[f"X_{part}"], (X[rows] - mu) / scale, rtol=1e-15, atol=1e-15)
        np.testing.assert_array_equal(a[f"y_{part}"], y[rows])
        assert a[f"X_{part}"].dtype == np.float64 and a[f"y_{part}"].dtype == np.int64
    np.testing.assert_allclose(a["X_train"].mean(axis=0), 0.0, atol=1e-12)
    live = sd > 0
    np.testing.assert_allclose(a["X_train"].std(axis=0)[live], 1.0, rtol=1e-12)
    assert np.all(a["X_train"][:, ~live] == 0.0)  # a constant feature is only centred
    assert MLP(dataset=name, test_fraction=tf, val_fraction=vf, split_seed=seed).n_samples() == len(tr)


def test_synthetic_datasets():
    ts = MLP(dataset="teacher_student", n_train=300, n_test=200, n_features=8, n_classes=4).arrays()
    assert ts["X_train"].shape == (300, 8) and ts["X_test"].shape == (200, 8)
    assert set(np.unique(ts["y_train"])) <= set(range(4)) and len(np.unique(ts["y_train"])) >= 2
    sp = MLP(dataset="spirals", n_train=200, n_test=100, val_fraction=0.25).arrays()
    assert sp["X_train"].shape == (150, 2) and sp["X_val"].shape == (50, 2)
    assert sorted(np.unique(sp["y_train"])) == [0, 1]
    clean = MLP(dataset="gaussian_mixture", n_train=400, n_classes=3, label_noise=0.0).arrays()
    noisy = MLP(dataset="gaussian_mixture", n_train=400, n_classes=3, label_noise=0.25).arrays()
    np.testing.assert_array_equal(clean["X_train"], noisy["X_train"])
    assert np.sum(clean["y_train"] != noisy["y_train"]) == 100  # exactly the fraction, each to another class
    np.testing.assert_array_equal(clean["y_test"], noisy["y_test"])  # test labels stay clean
    again = MLP(dataset="gaussian_mixture", n_train=400, n_classes=3, label_noise=0.25).arrays()
    np.testing.assert_array_equal(noisy["y_train"], again["y_train"])
    other = MLP(dataset="gaussian_mixture", n_train=400, n_classes=3, data_seed=1).arrays()
    assert not np.array_equal(clean["X_train"], other["X_train"])


# -- training, records --------------------------------------------------------------------

@pytest.mark.parametrize("replace", [False, True])
def test_minibatch_sgd_matches_a_numpy_oracle(replace):
    p = MLP(dataset="iris", hidden=[5], activation="gelu")
    B, lr, steps = 16, 0.1, 17  # 120 training rows: a last batch of 8 in every epoch
    ds = optsim.sweep(p, SGD(lr=lr), noise=Minibatch(batch_size=B, with_replacement=replace), replicates=2,
                      steps=steps, record_steps=[0, steps], record=("params", "loss"), seed=2, progress=False)
    a = p.arrays()
    widths = p.widths()
    for r in range(2):
        x = ds.params.isel(replicate=r, step=0).values.copy()
        rng = _rng.stream_state(2, r, STREAMS["batch"], 0)
        perm, state = list(range(p.n_samples())), {"pos": 0, "epochs": 0}
        for _ in range(steps):
            rows = np.asarray(sample_batch(Minibatch(batch_size=B, with_replacement=replace), perm, state, rng))
            _, g = ref.loss_and_grad(x, a["X_train"][rows], a["y_train"][rows], widths, True, "gelu",
                                     "cross_entropy")
            x -= lr * g
        np.testing.assert_allclose(ds.params.isel(replicate=r, step=1).values, x, rtol=1e-10, atol=1e-13)
        f, _ = ref.loss_and_grad(x, a["X_train"], a["y_train"], widths, True, "gelu", "cross_entropy")
        assert float(ds.loss.isel(replicate=r, step=1)) == pytest.approx(f, rel=1e-10)


def test_metrics_against_a_numpy_forward_pass():
    p = MLP(dataset="wine", hidden=[6, 5], activation="relu", loss="squared", val_fraction=0.2)
    ds = optsim.sweep(p, Adam(lr=0.01), noise=Minibatch(batch_size=8), replicates=2, steps=30, record_every=15,
                      record=("params", "metrics", "test_loss"), seed=0, progress=False)
    assert list(ds.metric.values) == list(p.metric_names()) == [
        "train_accuracy", "test_accuracy", "val_loss", "val_accuracy", "grad_norm_W1", "grad_norm_b1",
        "grad_norm_W2", "grad_norm_b2", "grad_norm_W3", "grad_norm_b3"]
    a = p.arrays()
    for r in range(2):
        for s in range(3):
            x = ds.params.isel(replicate=r, step=s).values
            want = ref.metrics(x, a, p.widths(), True, "relu", "squared")
            np.testing.assert_allclose(ds.metrics.isel(replicate=r, step=s).values, want, rtol=1e-11, atol=1e-15)
            ft, _ = ref.loss_and_grad(x, a["X_test"], a["y_test"], p.widths(), True, "relu", "squared")
            assert float(ds.test_loss.isel(replicate=r, step=s)) == pytest.approx(ft, rel=1e-12)
    # no validation set: its loss and accuracy are NaN
    ds0 = optsim.sweep(MLP(dataset="iris", hidden=[3]), SGD(lr=0.1), steps=2, record=("metrics",), progress=False)
    vals = ds0.metrics.sel(metric=["val_loss", "val_accuracy"]).values
    assert np.all(np.isnan(vals))
    red = optsim.sweep(p, Adam(lr=0.01), replicates=3, steps=4, record=("metrics",), reduce="mean",
                       progress=False)
    assert red.metrics_mean.dims[-1] == "metric" and red.metrics_mean.sizes["metric"] == 10


def test_metrics_of_problems_without_them_and_after_divergence():
    ds = optsim.sweep(Quadratic(curvatures=[1.0, 2.0]), SGD(lr=0.1), steps=4, record=("loss", "metrics"),
                      progress=False)
    assert ds.metrics.sizes["metric"] == 0
    # a rate that blows up: the records after divergence are NaN
    ds = optsim.sweep(MLP(dataset="iris", hidden=[4], loss="squared"), SGD(lr=1e3), steps=40, record_every=10,
                      record=("loss", "metrics"), diverge_factor=10.0, progress=False)
    at = int(ds.diverged_at.values[0])
    assert at > 0
    after = ds.metrics.isel(replicate=0).sel(step=ds.step > at).values
    assert after.size and np.all(np.isnan(after))


@pytest.mark.parametrize("opt", [Muon(lr=0.02), SOAP(lr=3e-3)], ids=["muon", "soap"])
def test_matrix_rules_train_the_hidden_layers(opt):
    p = MLP(dataset="iris", hidden=[16, 8])
    blocks = p.param_blocks()
    assert [tuple(b[1:]) for b in blocks] == [(16, 4), (16, 0), (8, 16), (8, 0), (3, 8), (3, 0)]
    ds = optsim.sweep(p, opt, noise=Minibatch(batch_size=16), replicates=2, steps=150, record_every=150,
                      record=("loss", "metrics"), seed=0, progress=False)
    loss = ds.loss.values
    assert np.all(loss[:, -1] < 0.5 * loss[:, 0]), loss
    assert np.all(ds.metrics.sel(metric="train_accuracy").isel(step=-1).values > 0.8)


# -- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("kw,words", [
    (dict(hidden=[8, 8, 8, 8]), "hidden=[8.0, 8.0, 8.0, 8.0]"),
    (dict(hidden=[2.5]), "hidden=[2.5]"),
    (dict(hidden=[0]), "hidden="),
    (dict(dataset="mnist"), "dataset='mnist'"),
    (dict(activation="sigmoid"), "activation='sigmoid'"),
    (dict(n_train=100), "n_train=100 does not apply to dataset='digits'"),
    (dict(dataset="spirals", n_features=3), "n_features=3 does not apply to dataset='spirals'"),
    (dict(dataset="spirals", test_fraction=0.5), "test_fraction=0.5 does not apply"),
    (dict(dataset="teacher_student", separation=2.0), "separation=2.0 does not apply"),
    (dict(test_fraction=0.6, val_fraction=0.5), "leave no training rows"),
    (dict(test_fraction=1.0), "test_fraction=1.0"),
    (dict(label_noise=0.1), "label_noise=0.1 does not apply"),
    (dict(activation="relu", tanh="portable"), "tanh='portable' applies to activation='tanh' only"),
    (dict(tanh="fast"), "tanh"),
])
def test_bad_parameters_are_refused_in_one_line(kw, words):
    with pytest.raises(ParameterError) as err:
        MLP(**kw)
    msg = str(err.value)
    assert words in msg and "\n" not in msg, msg


def test_a_batch_larger_than_the_training_set_is_refused():
    with pytest.raises(ParameterError, match=r"batch_size=200 is larger than the 120 examples"):
        optsim.sweep(MLP(dataset="iris"), SGD(), noise=Minibatch(batch_size=200), steps=2, progress=False)


def test_test_only_metrics():
    p = MLP(dataset="wine", hidden=[4], val_fraction=0.2, train_metrics=False)
    assert p.metric_names() == ("test_accuracy", "val_loss", "val_accuracy")
    ds = optsim.sweep(p, Adam(lr=0.01), noise=Minibatch(batch_size=8), steps=10, record_every=5,
                      record=("params", "metrics"), seed=0, progress=False)
    a = p.arrays()
    for s in range(3):
        x = ds.params.isel(replicate=0, step=s).values
        want = ref.metrics(x, a, p.widths(), True, "tanh", "cross_entropy")[[1, 2, 3]]
        np.testing.assert_allclose(ds.metrics.isel(replicate=0, step=s).values, want, rtol=1e-11)
