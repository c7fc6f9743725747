"""optsim against the reference libraries' own trajectories, from committed golden files.

Each file under ``tests/golden/`` is one case written by a ``tests/golden/make_*.py``
script from PyTorch, optax, pytorch-optimizer or Keras in float64 (the format is
:mod:`golden.fixtures`).  Here optsim runs the same case through its ordinary engine, so
the libraries' numbers are checked wherever the tests run, with none of them installed.
"""

import numpy as np
import pytest

import optsim
from golden import fixtures
from optsim import registry

OPTIMIZER_CASES = fixtures.cases("optimizers")
SCHEDULE_CASES = fixtures.cases("schedules")


def relerr(a, b):
    """The largest normwise relative error over the rows (steps)."""
    a, b = np.atleast_2d(np.asarray(a, float)), np.atleast_2d(np.asarray(b, float))
    num = np.linalg.norm(a - b, axis=-1)
    den = np.maximum(np.linalg.norm(b, axis=-1), 1e-300)
    return float(np.max(num / den))


def _schedule(spec):
    return None if spec is None else registry.build("schedule", spec)


def optsim_trajectory(meta, arrays):
    """optsim's parameters before the first and after every update, for one case."""
    opt = registry.build("optimizer", meta["optimizer"])
    schedule = _schedule(meta.get("schedule"))
    schedules = {hp: _schedule(s) for hp, s in (meta.get("schedules") or {}).items()}
    x0 = arrays["x0"]
    steps = arrays["xs"].shape[0] - 1
    if meta["loop"] == "open":
        problem = optsim.problems.Replay(grads=arrays["grads"], x0=x0)
    else:
        problem = optsim.problems.Quadratic(curvatures=arrays["curvatures"], center=arrays["center"], x0=x0)
    ds = optsim.sweep(problem, opt, schedule=schedule, schedules=schedules or None, steps=steps,
                      record_every=1, record=("params",), diverge_factor=np.inf)
    return ds["params"].values.reshape(steps + 1, -1)


def _ids(paths):
    return [p.stem for p in paths]


def test_there_are_golden_files_for_both_kinds():
    assert len(OPTIMIZER_CASES) >= 2 and len(SCHEDULE_CASES) >= 1


@pytest.mark.parametrize("path", OPTIMIZER_CASES, ids=_ids(OPTIMIZER_CASES))
def test_optimizer_matches_its_library(path):
    meta, arrays = fixtures.load(path)
    got = optsim_trajectory(meta, arrays)
    err = relerr(got, arrays["xs"])
    assert err <= meta["rtol"], f"{meta['reference']} ({meta['library']} {meta['library_version']}): {err:.3g}"


@pytest.mark.parametrize("path", SCHEDULE_CASES, ids=_ids(SCHEDULE_CASES))
def test_schedule_matches_its_library(path):
    meta, arrays = fixtures.load(path)
    lrs = arrays["lrs"]
    got = _schedule(meta["schedule"]).learning_rates(lrs.shape[0], base_lr=meta["base_lr"])
    err = relerr(got[None], lrs[None]) if np.any(lrs) else float(np.max(np.abs(got - lrs)))
    assert err <= meta["rtol"], f"{meta['reference']} ({meta['library']} {meta['library_version']}): {err:.3g}"


def test_a_wrong_trajectory_fails_the_comparison():
    """The comparison can fail: a golden trajectory off by one part in 1e9 is caught."""
    path = OPTIMIZER_CASES[0]
    meta, arrays = fixtures.load(path)
    got = optsim_trajectory(meta, arrays)
    assert relerr(got, arrays["xs"]) <= meta["rtol"]
    assert relerr(got * (1 + 1e-9), arrays["xs"]) > meta["rtol"]
