"""The five workloads of ``bench_peers.py``: their random-free inputs, sizes and work units.

Every implementation receives the same :class:`Workload` (learning rates, starting point,
curvatures, noise scales, data set); only the random streams differ.  All arrays are
float64.  Results are shaped ``(optimizers, lrs, replicates, records)``: the loss at each
of ``record_steps`` (step 0 and the last step included).  W5 (an MLP on digits) records
several metrics: its results are a dict ``{metric: (optimizers, lrs, replicates,
records)}`` over :data:`MLP_METRICS`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np

__all__ = ["HYPER", "MLP_METRICS", "RULES", "WORKLOADS", "PeerUnavailable", "Workload", "finals", "logreg_data",
           "make", "mlp_data", "mlp_param_sizes", "prepare_split", "python_subset"]

WORKLOADS = ("W1", "W2", "W3", "W4", "W5")

# W5's records: the full training loss, the test loss and the test accuracy (a fraction).
MLP_METRICS = ("loss", "test_loss", "test_accuracy")

# The eight update rules of W3, in PyTorch's forms (torch.optim defaults unless said).
RULES = ("sgd", "momentum", "nag", "adagrad", "rmsprop", "adam", "amsgrad", "radam")

# Hyperparameters shared by every implementation (PyTorch's defaults; Adam's are the brief's).
HYPER = {
    "momentum": 0.9,      # SGD momentum and Nesterov ("nag" = torch SGD(nesterov=True))
    "beta1": 0.9,
    "beta2": 0.999,
    "eps": 1e-8,          # Adam, AMSGrad, RAdam, RMSprop
    "alpha": 0.99,        # RMSprop's decay
    "eps_adagrad": 1e-10,
}


class PeerUnavailable(RuntimeError):
    """Raised by a peer that cannot run here after all (e.g. the compiler fails)."""


DIVERGE_FACTOR = 1e8  # optsim's default: diverged once |loss| > 1e8 max(1, |f(x0)|)


@dataclasses.dataclass
class Workload:
    """One benchmark workload: the grid, the problem and how its work is counted."""

    name: str
    title: str
    problem: str                  # "quadratic" | "rosenbrock" | "logreg" | "mlp"
    rules: tuple                  # update rules (the optimizer axis)
    lrs: np.ndarray               # learning rates (the lr axis)
    replicates: int
    steps: int
    record_steps: np.ndarray      # int64, includes 0 and `steps`
    x0: np.ndarray
    sigma: float = 0.0            # additive noise: grad + sigma * scale * N(0, I)
    scale: np.ndarray | None = None
    h: np.ndarray | None = None   # quadratic curvatures: f = 0.5 sum h_i x_i^2
    rosen: tuple = (1.0, 100.0)   # Rosenbrock (a, b): f = (a - x)^2 + b (y - x^2)^2
    X: np.ndarray | None = None   # training data: logistic regression (y in {-1, +1}), MLP (int64 labels)
    y: np.ndarray | None = None
    X_test: np.ndarray | None = None  # MLP: the test set (standardized as the training rows)
    y_test: np.ndarray | None = None
    hidden: int = 0               # MLP: the width of its one tanh hidden layer
    classes: int = 0              # MLP: number of classes (softmax outputs)
    tanh: str = "libm"            # MLP: optsim's and the C loop's tanh, "libm" or "portable" (MLP(tanh=...))
    batch: int = 0
    epochs: int = 0
    unit: str = "trajectory-steps"
    lr_index: np.ndarray | None = None  # positions of `lrs` in the full grid (subsets)
    record_every: int = 0

    # -- derived sizes --------------------------------------------------------------------
    @property
    def d(self):
        return int(self.x0.shape[0])

    @property
    def n_traj(self):
        return len(self.rules) * len(self.lrs) * self.replicates

    @property
    def shape(self):
        """Shape of a result: (optimizers, lrs, replicates, records)."""
        return (len(self.rules), len(self.lrs), self.replicates, len(self.record_steps))

    @property
    def steps_per_epoch(self):
        return -(-self.X.shape[0] // self.batch) if self.problem in ("logreg", "mlp") else 0

    @property
    def metrics(self):
        """The recorded quantities: ``("loss",)``, or :data:`MLP_METRICS` for the MLP."""
        return MLP_METRICS if self.problem == "mlp" else ("loss",)

    @property
    def layer_shapes(self):
        """MLP: ``(W1, b1, W2, b2)`` shapes, stored flat in that order (W row-major)."""
        D, H, C = self.X.shape[1], self.hidden, self.classes
        return ((H, D), (H,), (C, H), (C,))

    @property
    def work(self):
        """Units of work done (see ``unit``)."""
        if self.unit == "trajectory-steps":
            return float(self.n_traj) * self.steps
        if self.unit == "parameter-updates":
            return float(self.n_traj) * self.steps * self.d
        if self.unit == "examples":
            return float(self.n_traj) * self.epochs * self.X.shape[0]
        raise ValueError(self.unit)

    def f0(self):
        """The loss at the start (the same for every trajectory; the MLP: log(classes), the
        loss of zero logits, about the loss of a small random initialization)."""
        if self.problem == "mlp":
            return math.log(self.classes)
        return float(loss_numpy(self, self.x0[None, :])[0])

    def diverge_bound(self):
        return DIVERGE_FACTOR * max(1.0, abs(self.f0()))

    def subset(self, lr_index, replicates):
        """The same workload on some of its learning rates and fewer replicates."""
        lr_index = np.asarray(lr_index, dtype=np.int64)
        base = self.lr_index if self.lr_index is not None else np.arange(len(self.lrs))
        return dataclasses.replace(self, lrs=self.lrs[lr_index], lr_index=base[lr_index],
                                   replicates=int(replicates))

    def full_lr_index(self):
        return self.lr_index if self.lr_index is not None else np.arange(len(self.lrs))

    def describe(self):
        """A JSON-able summary."""
        out = {"name": self.name, "title": self.title, "problem": self.problem, "rules": list(self.rules),
               "lrs": [float(v) for v in self.lrs], "replicates": self.replicates, "steps": self.steps,
               "records": len(self.record_steps), "d": self.d, "trajectories": self.n_traj,
               "unit": self.unit, "work": self.work}
        if self.problem == "logreg":
            out.update(n=int(self.X.shape[0]), batch=self.batch, epochs=self.epochs)
        if self.problem == "mlp":
            out.update(n=int(self.X.shape[0]), n_test=int(self.X_test.shape[0]), batch=self.batch,
                       layers=[self.X.shape[1], self.hidden, self.classes], metrics=list(self.metrics))
        return out


def record_grid(steps, every):
    """Steps 0, every, 2 every, ... and the last step (optsim's convention)."""
    rs = np.arange(0, steps + 1, every, dtype=np.int64)
    if rs[-1] != steps:
        rs = np.append(rs, steps)
    return rs


def loss_numpy(wl, x):
    """The loss at points x (n, d) -- a NumPy reference used for f0 and by the tests."""
    x = np.asarray(x, dtype=float)
    if wl.problem == "quadratic":
        return 0.5 * (wl.h * x * x).sum(axis=1)
    if wl.problem == "rosenbrock":
        a, b = wl.rosen
        return (a - x[:, 0]) ** 2 + b * (x[:, 1] - x[:, 0] ** 2) ** 2
    if wl.problem == "logreg":
        z = -wl.y[None, :] * (x @ wl.X.T)
        return np.logaddexp(0.0, z).mean(axis=1)
    raise ValueError(wl.problem)


def logreg_data(n, d, data_dir=None, data_seed=0):
    """(X, y) of optsim's ``LogisticRegression(n_train=n, n_features=d, data_seed)``.

    optsim's problem generates its own data (it does not accept arrays), so every peer
    uses the arrays that ``problem.data()`` hands out.  With ``data_dir`` they are cached
    in ``data_dir/logreg_n{n}_d{d}_s{seed}.npz`` so that the peer processes need not
    import optsim.
    """
    path = None
    if data_dir is not None:
        path = Path(data_dir) / f"logreg_n{n}_d{d}_s{data_seed}.npz"
        if path.exists():
            with np.load(path) as z:
                return z["X"], z["y"]
    import optsim

    prob = optsim.problems.LogisticRegression(n_train=n, n_features=d, n_test=0, data_seed=data_seed)
    X, y = prob.data()[:2]
    X = np.ascontiguousarray(X, dtype=float)
    y = np.ascontiguousarray(y, dtype=float)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, X=X, y=y)
        tmp.replace(path)
    return X, y


def prepare_split(X, y, test_fraction=0.2, val_fraction=0.0, split_seed=0):
    """The MLP problem's split and standardization, written from its specification.

    One permutation ``np.random.default_rng(split_seed).permutation(n)``: its first
    ``round(test_fraction n)`` rows are the test set, the next ``round(val_fraction n)``
    the validation set, the rest the training set.  Every feature is standardized with
    the training rows' mean and (population) standard deviation; a constant feature is
    only centred.  Returns ``{X_train, y_train, X_val, y_val, X_test, y_test}``.
    """
    n = X.shape[0]
    perm = np.random.default_rng(split_seed).permutation(n)
    n_test, n_val = round(test_fraction * n), round(val_fraction * n)
    parts = {"test": perm[:n_test], "val": perm[n_test:n_test + n_val], "train": perm[n_test + n_val:]}
    tr = X[parts["train"]]
    mu = tr.mean(axis=0)
    sd = tr.std(axis=0)
    sd = np.where(sd > 0.0, sd, 1.0)
    out = {}
    for k, rows in parts.items():
        out[f"X_{k}"] = np.ascontiguousarray((X[rows] - mu) / sd, dtype=np.float64)
        out[f"y_{k}"] = np.ascontiguousarray(y[rows], dtype=np.int64)
    return out


MLP_SPEC = {"dataset": "digits", "hidden": (32,), "activation": "tanh", "loss": "cross_entropy", "bias": True,
            "init": "glorot"}


def mlp_tanh():
    """W5's tanh in optsim and the C loop: ``$OPTSIM_BENCH_MLP_TANH`` (``bench_peers.py
    --mlp-tanh`` sets it for the worker processes), by default ``"portable"``, optsim's own
    vectorized tanh, the same operations in both; ``"libm"`` the C library's in both.  JAX,
    PyTorch and NumPy use their own."""
    v = os.environ.get("OPTSIM_BENCH_MLP_TANH", "portable")
    if v not in ("libm", "portable"):
        raise ValueError(f"OPTSIM_BENCH_MLP_TANH={v!r}: give 'libm' or 'portable'")
    return v


def mlp_data(data_dir=None):
    """W5's arrays: ``optsim.problems.MLP(**MLP_SPEC).arrays()`` when optsim has the MLP
    problem (the exact arrays its kernels see), else :func:`prepare_split` of
    ``optsim.datasets.load("digits")``; cached in ``data_dir`` for the peer processes."""
    path = None if data_dir is None else Path(data_dir) / "mlp_digits_split0.npz"
    if path is not None and path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    import optsim
    from optsim import datasets

    if hasattr(optsim.problems, "MLP"):
        arr = optsim.problems.MLP(**MLP_SPEC).arrays()
        arr = {k: np.ascontiguousarray(arr[k]) for k in ("X_train", "y_train", "X_test", "y_test")}
    else:
        arr = prepare_split(*datasets.load("digits"))
        arr = {k: arr[k] for k in ("X_train", "y_train", "X_test", "y_test")}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arr)
        tmp.replace(path)
    return arr


def mlp_param_sizes(wl):
    """Sizes of W1, b1, W2, b2 in the flat parameter vector."""
    return tuple(int(np.prod(s)) for s in wl.layer_shapes)


def finals(wl, res):
    """The final record of every metric: ``{metric: (optimizers, lrs, replicates)}``."""
    if isinstance(res, dict):
        return {k: np.asarray(res[k])[..., -1] for k in wl.metrics}
    return {"loss": np.asarray(res)[..., -1]}


# -- the five workloads -------------------------------------------------------------------------

SIZES = {  # name: (full, quick)
    "W1": ({"n_lr": 64, "reps": 256, "steps": 2000, "every": 50},
           {"n_lr": 16, "reps": 64, "steps": 500, "every": 50}),
    "W2": ({"d": 10_000, "n_lr": 8, "reps": 8, "steps": 1000, "every": 10},
           {"d": 1000, "n_lr": 8, "reps": 8, "steps": 1000, "every": 10}),
    "W3": ({"n_lr": 32, "reps": 64, "steps": 2000, "every": 50},
           {"n_lr": 8, "reps": 16, "steps": 500, "every": 50}),
    "W4": ({"n": 10_000, "d": 100, "n_lr": 8, "reps": 8, "epochs": 5, "batch": 32},
           {"n": 2000, "d": 100, "n_lr": 8, "reps": 8, "epochs": 1, "batch": 32}),
    "W5": ({"n_lr": 16, "reps": 64, "steps": 2000, "every": 100, "batch": 32},
           {"n_lr": 4, "reps": 16, "steps": 300, "every": 100, "batch": 32}),
}

# The plain-Python peer runs this subset of each workload and is extrapolated:
# (number of learning rates, replicates); the lrs are spread over the grid's interior.
PYTHON_SUBSET = {"W1": (4, 4), "W2": (2, 1), "W3": (2, 2), "W4": (2, 1), "W5": (1, 1)}


def make(name, quick=False, data_dir=None, tiny=False):
    """Build workload ``name`` at the full or ``quick`` scale (``tiny``: a smoke test)."""
    size = dict(SIZES[name][1 if quick or tiny else 0])
    if tiny:
        size.update(n_lr=min(size["n_lr"], 4), reps=16)
        if "steps" in size:
            size["steps"] = 100
            size["every"] = {"W2": 10, "W5": 50}.get(name, 25)
        if name == "W2":
            size["d"] = 100
        if name == "W4":
            size.update(n=256, d=10, epochs=1)
    if name == "W1":
        return Workload(
            name="W1", title="Adam on 0.5(x^2 + 100 y^2), N(0,1) gradient noise",
            problem="quadratic", rules=("adam",), lrs=np.logspace(-4, 0, size["n_lr"]),
            replicates=size["reps"], steps=size["steps"],
            record_steps=record_grid(size["steps"], size["every"]), record_every=size["every"],
            x0=np.array([1.0, 1.0]), h=np.array([1.0, 100.0]), sigma=1.0, scale=np.ones(2),
            unit="trajectory-steps",
        )
    if name == "W2":
        d = size["d"]
        h = 1.0 / np.arange(1, d + 1, dtype=float)
        return Workload(
            name="W2", title=f"Adam on the noisy quadratic model, d={d}, h_i=1/i, noise std sqrt(h_i)",
            problem="quadratic", rules=("adam",), lrs=np.logspace(-4, -1, size["n_lr"]),
            replicates=size["reps"], steps=size["steps"],
            record_steps=record_grid(size["steps"], size["every"]), record_every=size["every"],
            x0=np.ones(d), h=h, sigma=1.0, scale=np.sqrt(h), unit="parameter-updates",
        )
    if name == "W3":
        return Workload(
            name="W3", title="8 optimizers on Rosenbrock from (-1.5, 2), N(0, 0.1^2) gradient noise",
            problem="rosenbrock", rules=RULES, lrs=np.logspace(-5, -1, size["n_lr"]),
            replicates=size["reps"], steps=size["steps"],
            record_steps=record_grid(size["steps"], size["every"]), record_every=size["every"],
            x0=np.array([-1.5, 2.0]), rosen=(1.0, 100.0), sigma=0.1, scale=np.ones(2),
            unit="trajectory-steps",
        )
    if name == "W4":
        n, d, B, E = size["n"], size["d"], size["batch"], size["epochs"]
        X, y = logreg_data(n, d, data_dir)
        steps = E * math.ceil(n / B)
        return Workload(
            name="W4", title=f"Adam, minibatch logistic regression, n={n}, d={d}, batch {B}, {E} epoch(s)",
            problem="logreg", rules=("adam",), lrs=np.logspace(-4, -1, size["n_lr"]),
            replicates=size["reps"], steps=steps, record_steps=np.array([0, steps], dtype=np.int64),
            record_every=steps, x0=np.zeros(d), X=X, y=y, batch=B, epochs=E, unit="examples",
        )
    if name == "W5":
        arr = mlp_data(data_dir)
        X, y = arr["X_train"], arr["y_train"]
        H, C = MLP_SPEC["hidden"][0], int(max(y.max(), arr["y_test"].max())) + 1
        d = H * X.shape[1] + H + C * H + C
        tanh = mlp_tanh()
        return Workload(
            name="W5", title=(f"Adam, MLP {X.shape[1]}-{H}-{C} (tanh [{tanh} in optsim and C], softmax cross-entropy, Glorot) on digits, "
                              f"n={X.shape[0]} (test {arr['X_test'].shape[0]}), batch {size['batch']}"),
            problem="mlp", rules=("adam",), lrs=np.logspace(-4, -1, size["n_lr"]), replicates=size["reps"],
            steps=size["steps"], record_steps=record_grid(size["steps"], size["every"]),
            record_every=size["every"], x0=np.zeros(d), X=X, y=y, X_test=arr["X_test"], y_test=arr["y_test"],
            hidden=H, classes=C, batch=size["batch"], unit="trajectory-steps", tanh=tanh,
        )
    raise ValueError(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")


def python_subset(wl):
    """The plain-Python peer's share of ``wl``: a few interior lrs, few replicates."""
    n_lr, reps = PYTHON_SUBSET[wl.name]
    L = len(wl.lrs)
    n_lr = min(n_lr, L)
    idx = np.unique(np.round(np.linspace(0, L - 1, n_lr + 2)[1:-1]).astype(np.int64)) if L > 2 else np.arange(L)
    return wl.subset(idx, min(reps, wl.replicates))
