"""optsim through its public API: ``optsim.sweep``."""

from __future__ import annotations

import numpy as np

NAME = "optsim"
LABEL = "optsim"


def unavailable():
    try:
        import optsim  # noqa: F401
    except ImportError as e:  # pragma: no cover - optsim is the subject
        return f"optsim not importable ({e})"
    return None


def threads():
    import numba

    return numba.get_num_threads()


def _optimizer(rule):
    from optsim import optimizers as O

    return {
        "sgd": lambda: O.SGD(),
        "momentum": lambda: O.SGD(momentum=0.9),
        # PyTorch's NAG: SGD(nesterov=True).  (optsim's NAG class is the lectures'
        # look-ahead form: the same dynamics at a constant lr, but it records the true
        # point instead of the look-ahead point.)
        "nag": lambda: O.SGD(momentum=0.9, nesterov=True),
        "adagrad": lambda: O.Adagrad(),
        "rmsprop": lambda: O.RMSprop(),
        "adam": lambda: O.Adam(),
        "amsgrad": lambda: O.AMSGrad(),
        "radam": lambda: O.RAdam(),
    }[rule]()


def problem_and_noise(wl):
    import optsim

    if wl.problem == "quadratic":
        problem = optsim.problems.Quadratic(curvatures=wl.h, x0=wl.x0)
        scale = None if np.all(wl.scale == 1.0) else wl.scale
        noise = optsim.noise.Gaussian(sigma=wl.sigma, scale=scale)
    elif wl.problem == "rosenbrock":
        a, b = wl.rosen
        problem = optsim.problems.Rosenbrock(a=a, b=b, x0=wl.x0)
        noise = optsim.noise.Gaussian(sigma=wl.sigma)
    elif wl.problem == "mlp":
        if not hasattr(optsim.problems, "MLP"):
            from .workloads import PeerUnavailable

            raise PeerUnavailable("the mlp problem is missing (optsim.problems.MLP)")
        from .workloads import MLP_SPEC

        # train_metrics=False: the test accuracy without the train accuracy and the per-layer
        # norms of the full training gradient (a pass over the training set per record),
        # which no peer computes
        extra = {"train_metrics": False} if any(p.name == "train_metrics" for p in optsim.problems.MLP.params) else {}
        if wl.tanh != "libm":
            extra["tanh"] = wl.tanh
        problem = optsim.problems.MLP(**MLP_SPEC, **extra)
        noise = optsim.noise.Minibatch(batch_size=wl.batch, with_replacement=False)
    elif wl.problem == "logreg":
        # The data of every peer came from this same generator (workloads.logreg_data).
        problem = optsim.problems.LogisticRegression(
            n_train=wl.X.shape[0], n_features=wl.X.shape[1], n_test=0, data_seed=0, x0=wl.x0)
        noise = optsim.noise.Minibatch(batch_size=wl.batch)
    else:
        raise ValueError(wl.problem)
    return problem, noise


def sweep(wl, seed=0):
    """The workload as one ``optsim.sweep`` call; returns the Dataset."""
    import optsim

    problem, noise = problem_and_noise(wl)
    if len(wl.rules) == 1:
        optimizer = _optimizer(wl.rules[0])
    else:
        optimizer = {r: _optimizer(r) for r in wl.rules}
    # the MLP's test accuracy comes with its "metrics" record (see problem_and_noise)
    record = ("loss", "test_loss", "metrics") if wl.problem == "mlp" else ("loss",)
    return optsim.sweep(
        problem=problem, noise=noise, optimizer=optimizer, grid={"lr": np.asarray(wl.lrs)},
        replicates=wl.replicates, steps=wl.steps, record_steps=wl.record_steps,
        record=record, seed=seed, progress=False,
    )


def check_data(wl):
    """The data optsim will use are the arrays the peers got."""
    if wl.problem == "mlp":
        from optsim import datasets

        from .workloads import MLP_SPEC, prepare_split

        problem, _ = problem_and_noise(wl)
        got = problem.arrays()
        spec = prepare_split(*datasets.load(MLP_SPEC["dataset"]))
        for k, v in (("X_train", wl.X), ("y_train", wl.y), ("X_test", wl.X_test), ("y_test", wl.y_test)):
            if not np.array_equal(got[k], v):
                raise RuntimeError(f"optsim's MLP {k} differs from the benchmark's arrays")
            if not np.allclose(spec[k], v, rtol=0, atol=1e-12):
                raise RuntimeError(f"optsim's MLP {k} differs from the interface's split and standardization")
    if wl.problem == "logreg":
        problem, _ = problem_and_noise(wl)
        X, y = problem.data()[:2]
        if not (np.array_equal(X, wl.X) and np.array_equal(y, wl.y)):
            raise RuntimeError("optsim's LogisticRegression data differ from the benchmark's arrays")


def _metric(ds, name):
    if name in ds:
        return ds[name]
    return ds["metrics"].sel(metric=name)  # a metric axis, if the problem's records are stacked


def to_array(wl, ds):
    if wl.problem == "mlp":
        out = {}
        for m in wl.metrics:
            da = _metric(ds, m)
            dims = [d for d in ("optimizer", "lr", "replicate", "step") if d in da.dims]
            out[m] = np.asarray(da.transpose(*dims).values, dtype=float).reshape(wl.shape)
        return out
    loss = ds["loss"]
    dims = ("optimizer", "lr", "replicate", "step") if "optimizer" in loss.dims else ("lr", "replicate", "step")
    arr = loss.transpose(*dims).values
    return arr.reshape(wl.shape)


def run(wl, seed=0):
    """Loss records shaped (optimizers, lrs, replicates, records), and extras."""
    ds = sweep(wl, seed)
    return to_array(wl, ds), {"outputs_nbytes": int(ds.nbytes)}


def warmup(wl):
    """Load or compile the kernels (a tiny sweep of the same components)."""
    check_data(wl)
    tiny = wl.subset(np.arange(min(2, len(wl.lrs))), 2)
    tiny.steps = min(wl.steps, {"logreg": 2 * wl.steps_per_epoch, "mlp": 50}.get(wl.problem, 10))
    tiny.record_steps = np.array([0, tiny.steps], dtype=np.int64)
    sweep(tiny, seed=0)
    return {}
