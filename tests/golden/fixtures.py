"""The golden-file format: one ``.npz`` per case under ``tests/golden/<kind>/``.

Every file holds ``meta``, a JSON string, and the case's arrays.

An **optimizer** case (kind ``optimizers``) is a library's trajectory of one update rule:

- ``meta``: ``case`` (the file's stem), ``library`` (``torch``, ``optax``,
  ``pytorch_optimizer``, ``keras``), ``library_version``, ``reference`` (the library's call,
  e.g. ``torch.optim.Adam(lr=0.01, betas=(0.8, 0.99))``), ``optimizer`` (optsim's spec, a
  dict ``{"name": <registry name>, <parameters>}`` for :func:`optsim.registry.build`),
  ``schedule`` (optional, the learning-rate schedule's spec), ``schedules`` (optional,
  ``{hyperparameter: schedule spec}``), ``loop`` (``open`` or ``closed``), ``rtol``
  (default 1e-12: the largest normwise relative error over the rows) and ``note``;
  optional: ``jax_version`` (optax and Keras-on-jax cases), ``param_shapes`` (``{name:
  shape}`` in storage order, as :meth:`optsim.Problem.param_shapes`: the flat ``x`` is these
  arrays one after the other, each row-major; a matrix rule sees the matrices, the test runs
  the case on a problem that declares them), ``comparable`` (default true; false records a
  library's trajectory that optsim does not reproduce yet, with the reason in ``note``; the
  test then only checks the file reads);
- ``x0``, shape (d,): the starting point;
- ``grads``, shape (T, d), open loop only: update ``k`` sees ``grads[k]`` whatever the
  parameters are (:func:`optsim.replay`);
- ``curvatures`` and ``center``, shape (d,), closed loop only: the gradient is
  ``curvatures * (x - center)``, the diagonal quadratic
  ``optsim.problems.Quadratic(curvatures=..., center=..., x0=...)``;
- ``xs``, shape (T + 1, d): the parameters before the first and after every update.

A **schedule** case (kind ``schedules``) is a library's learning rate at every update:

- ``meta``: ``case``, ``library``, ``library_version``, ``reference``, ``schedule``
  (optsim's spec), ``base_lr``, ``rtol`` and ``note``;
- ``lrs``, shape (T,): the rate of updates ``k = 0 .. T-1``
  (:meth:`optsim.schedules.Schedule.learning_rates`);
- optional ``momentum``, shape (T,): the momentum (or Adam's beta1) the schedule sets at each
  update, for schedules that cycle it (torch's ``CyclicLR`` and ``OneCycleLR``);
- optional ``losses``, shape (T,): the loss observed at each update, for schedules that
  watch it (``ReduceLROnPlateau``).

Every field beyond the first version's is optional, so files of any version read the same.

This module needs only NumPy, so the ``make_*.py`` scripts run where the libraries are
installed and optsim is not.
"""

import json
from pathlib import Path

import numpy as np

__all__ = ["ROOT", "KINDS", "save", "load", "cases"]

ROOT = Path(__file__).resolve().parent
KINDS = ("optimizers", "schedules")
REQUIRED = {
    "optimizers": ("case", "library", "library_version", "reference", "optimizer", "loop"),
    "schedules": ("case", "library", "library_version", "reference", "schedule", "base_lr"),
}
ARRAYS = {
    ("optimizers", "open"): ("x0", "grads", "xs"),
    ("optimizers", "closed"): ("x0", "curvatures", "center", "xs"),
    ("schedules", None): ("lrs",),
}
OPTIONAL_ARRAYS = {
    ("optimizers", "open"): (),
    ("optimizers", "closed"): (),
    ("schedules", None): ("momentum", "losses"),
}


def _arrays_for(kind, meta):
    return ARRAYS[(kind, meta.get("loop") if kind == "optimizers" else None)]


def save(kind, meta, **arrays):
    """Write ``tests/golden/<kind>/<meta['case']>.npz``; returns its path.

    Refuses a case that lacks a required field or array, so that a generator cannot
    write a file the test would misread."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {KINDS}")
    missing = [k for k in REQUIRED[kind] if k not in meta]
    if missing:
        raise ValueError(f"{meta.get('case')}: meta lacks {missing}")
    need = _arrays_for(kind, meta)
    optional = OPTIONAL_ARRAYS[(kind, meta.get("loop") if kind == "optimizers" else None)]
    if not set(need) <= set(arrays) or not set(arrays) <= set(need) | set(optional):
        raise ValueError(f"{meta['case']}: arrays {sorted(arrays)}, expected {sorted(need)}"
                         f" and optionally {sorted(optional)}")
    meta = dict(meta, rtol=float(meta.get("rtol", 1e-12)))
    path = ROOT / kind / f"{meta['case']}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    out = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    np.savez_compressed(path, meta=np.array(json.dumps(meta, sort_keys=True)), **out)
    return path


def load(path):
    """``(meta, {name: array})`` of one golden file."""
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["meta"][()]))
        arrays = {k: f[k] for k in f.files if k != "meta"}
    return meta, arrays


def cases(kind):
    """The golden files of ``kind``, sorted by name."""
    return sorted((ROOT / kind).glob("*.npz"))
