"""The memory guard: every allocation of a sweep is sized before the first is made.

The estimate is checked against what a sweep really allocates (``tracemalloc`` over a small
run), a refused huge sweep is checked to allocate almost nothing (the peak RSS of a fresh
process), and the diagonal curvature-scaled noise is checked to need O(d), not O(d^2).
"""

import json
import os
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

import optsim
from optsim import noise, optimizers, problems
from optsim._budget import MAX_STEPS, Budget
from optsim.config import expand_axis

SWEEP = sys.modules["optsim.sweep"]
MiB = 2**20


@pytest.fixture
def estimates(monkeypatch):
    """The last estimate (total, parts) each sweep's Budget made."""
    seen = []

    class Recording(Budget):
        def check(self, extent, **sizes):
            need = super().check(extent, **sizes)
            seen.append((need, self.parts(extent, **sizes)))
            return need

    monkeypatch.setattr(SWEEP, "Budget", Recording)
    return seen


def _traced_peak(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


QUAD10 = problems.Quadratic(curvatures=np.linspace(1.0, 10.0, 10))
CASES = {
    # the results dominate (curves of 10 coordinates): one group, written in place
    "curves": dict(problem=QUAD10, optimizer=optimizers.Adam(lr=0.1), grid={"lr": np.logspace(-3, 0, 10)},
                   replicates=20, steps=150, record_every=1, record=("loss", "params")),
    # reduced on the fly: the per-cell statistics and a raw chunk with its quantiles
    "reduced": dict(problem=QUAD10, optimizer=optimizers.Adam(lr=0.1), grid={"lr": np.logspace(-3, 0, 10)},
                    replicates=20, steps=150, record_every=1, record=("loss", "params"),
                    reduce="mean,quantiles"),
    # many short trajectories: the planning rows are a third of the total
    "planning": dict(problem=problems.Quadratic(), optimizer=optimizers.SGD(lr=0.1),
                     grid={"lr": np.logspace(-3, 0, 50)}, replicates=1000, steps=10),
    # the problem's data dominates
    "data": dict(problem=problems.LinearRegression(n_features=200, n_train=3000, n_test=1000),
                 optimizer=optimizers.SGD(lr=0.01), steps=5),
}


@pytest.mark.parametrize("name", list(CASES))
def test_estimate_bounds_what_a_small_sweep_allocates(name, estimates):
    """The estimate is at least the measured peak (to 5% and 1 MiB) and at most 2.5 times
    it (plus 2 MiB: the workspace and small arrays tracemalloc sees in part)."""
    kw = CASES[name]
    optsim.sweep(**kw)  # compiled (or loaded) before measuring
    estimates.clear()
    peak = _traced_peak(lambda: optsim.sweep(**kw))
    need, parts = estimates[-1]
    assert peak <= 1.05 * need + MiB, (peak, need, parts)
    assert need <= 2.5 * peak + 2 * MiB, (peak, need, parts)


def test_planning_estimate_matches_the_planning_arrays():
    from optsim._sweep.plan import _planning_bytes
    from optsim._sweep.spec import _methods

    kw = dict(grid={"lr": np.logspace(-3, 0, 7), "beta1": [0.8, 0.9]}, replicates=13, steps=10)
    plan, layout = SWEEP.build_plan(QUAD10, optimizers.Adam(), **kw)
    m = _methods(optimizers.Adam(), optsim.schedules.Constant())[0][""]
    est = _planning_bytes(m, (), QUAD10, 14, 13, 2)
    held = plan.input_bytes()
    assert held <= est <= 1.3 * held


def test_chunked_run_is_unchanged_by_running_in_place():
    kw = dict(problem=QUAD10, optimizer=optimizers.Adam(), grid={"lr": np.logspace(-3, 0, 6)}, replicates=5,
              steps=30, record=("loss", "params"))
    whole = optsim.sweep(**kw)
    for chunk in (1, 7, 30):
        part = optsim.sweep(**kw, chunk_size=chunk)
        for v in whole.data_vars:
            np.testing.assert_array_equal(whole[v].values, part[v].values)


_REFUSED = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    import optsim
    from optsim import optimizers, problems
    rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    base = rss()
    out = {}
    cases = {
        "1e8 trajectories": lambda: optsim.sweep(problems.Quadratic(), optimizers.Adam(),
            grid={"lr": np.logspace(-3, 0, 10**4)}, replicates=10**4, steps=10, max_memory=2**30),
        "1e4 lrs x 1e5 replicates": lambda: optsim.sweep(problems.Quadratic(), optimizers.SGD(),
            grid={"lr": np.logspace(-3, 0, 10**4)}, replicates=10**5, steps=10, max_memory=2**30),
        "replicates=2**62": lambda: optsim.sweep(problems.Quadratic(), optimizers.SGD(), replicates=2**62),
        "Quadratic(dim=10**12)": lambda: optsim.sweep(problems.Quadratic(condition_number=10.0, dim=10**12),
            optimizers.SGD(), steps=10),
        "LinearRegression(n_features=10**9)": lambda: optsim.sweep(
            problems.LinearRegression(n_features=10**9), optimizers.SGD(), steps=10),
        "steps=2**63": lambda: optsim.sweep(problems.Quadratic(), optimizers.SGD(), steps=2**63),
        "record_every=1 of 2**53 steps": lambda: optsim.sweep(problems.Quadratic(), optimizers.SGD(),
            steps=2**53, record_every=1),
        "reduced 1e9 trajectories": lambda: optsim.sweep(problems.Quadratic(), optimizers.SGD(),
            grid={"lr": np.logspace(-3, 0, 10**4)}, replicates=10**5, steps=10, reduce="mean"),
    }
    for name, run in cases.items():
        try:
            run()
            out[name] = "ran"
        except optsim.OptsimError as exc:
            out[name] = type(exc).__name__ + ": " + str(exc)
    out["growth"] = rss() - base
    print(json.dumps(out))
""")


def test_refused_huge_sweeps_allocate_little():
    """Refused before any allocation: the process grows by far less than 200 MiB (before the
    guard sized the sweep arithmetically, 10^8 trajectories grew it by about 10 GiB)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-c", _REFUSED], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    growth = out.pop("growth")
    for name, what in out.items():
        assert what.startswith("ParameterError: steps=" if name.startswith("steps") else "MemoryLimitError"), \
            (name, what)
        assert "\n" not in what and "max_memory" in what or name.startswith("steps"), (name, what)
    assert growth < 200 * MiB, growth


def test_steps_are_bounded():
    with pytest.raises(optsim.ParameterError, match=r"steps=9223372036854775807 is not allowed.*\[1, 9007199254740992\]"):
        optsim.sweep(problems.Quadratic(), optimizers.SGD(), steps=2**63 - 1)
    with pytest.raises(optsim.ParameterError, match="steps="):
        SWEEP.build_plan(problems.Quadratic(), optimizers.SGD(), steps=MAX_STEPS + 1)
    with pytest.warns(UserWarning, match=r"coordinate updates .* core-hours"):
        SWEEP.build_plan(problems.Quadratic(), optimizers.SGD(), steps=MAX_STEPS)


def test_a_plan_that_cannot_fit_is_refused_by_build_plan():
    with pytest.raises(optsim.MemoryLimitError, match="plan needs about"):
        SWEEP.build_plan(problems.Quadratic(), optimizers.SGD(), replicates=2**62)


def test_the_guard_message_names_estimate_limit_and_ways_out():
    kw = dict(grid={"lr": np.logspace(-3, 0, 100)}, replicates=1000, steps=100, max_memory=10**6)
    with pytest.raises(optsim.MemoryLimitError) as exc:
        optsim.sweep(problems.Quadratic(), optimizers.SGD(), **kw)
    msg = str(exc.value)
    assert "\n" not in msg
    assert "needs about" in msg and "more than the 1.0 MiB allowed" in msg and "max_memory=" in msg
    assert "planning" in msg and "results" in msg


def test_a_huge_configured_grid_is_refused_before_it_is_made():
    with pytest.raises(optsim.MemoryLimitError, match=r"logspace: 1000000000000 values need about"):
        expand_axis("lr", {"logspace": [-3, 0, 10**12]})
    assert len(expand_axis("lr", {"logspace": [-3, 0, 5]})) == 5


def test_curvature_scaled_noise_on_a_diagonal_quadratic_needs_only_its_curvatures(monkeypatch):
    d = 20000
    q = problems.Quadratic(condition_number=1e3, dim=d)
    want = np.sqrt(np.geomspace(1.0, 1e3, d))  # the oracle: xi_i = sqrt(h_i / B) z_i

    def dense(self):
        raise AssertionError("the dense Hessian was made")

    monkeypatch.setattr(problems.Quadratic, "hessian", dense)
    nz = noise.CurvatureScaled(batch_size=4.0)
    got = {}
    peak = _traced_peak(lambda: got.setdefault("data", nz.prepare(q)))
    root_h, L = got["data"]
    np.testing.assert_array_equal(root_h, want)
    assert L.shape == (0, 0)
    assert peak < 10 * 8 * d  # O(d): a few vectors, not 8 d^2 = 3.2 GB
    assert nz.prepare_bytes(q) < 10 * 8 * d


def test_rotated_quadratic_is_still_dense():
    q = problems.Quadratic(curvatures=[1.0, 4.0, 9.0], rotation_seed=3)
    assert not q.hessian_is_diagonal()
    root_h, L = noise.CurvatureScaled().prepare(q)
    np.testing.assert_allclose(L @ L.T, q.hessian(), atol=1e-12)
    assert q.data_bytes() >= 8 * 9


@pytest.mark.parametrize("problem", [
    problems.Quadratic(condition_number=10.0, dim=50), problems.Quadratic(curvatures=[1.0, 2.0], rotation=30.0),
    problems.NoisyQuadraticModel(dim=40), problems.LinearRegression(n_features=7, n_train=30, n_test=11),
    problems.LogisticRegression(n_features=5, n_train=20, n_test=9), problems.MatrixRegression(),
    problems.Wilson(n_train=6), problems.SigmoidNeuron(),
])
def test_declared_data_bytes_cover_the_data(problem):
    held = sum(a.nbytes for a in problem.data())
    assert held <= problem.data_bytes() <= 8 * held + 64 * problem.dimension() + 1024
