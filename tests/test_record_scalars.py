"""``record=("scalars",)``: the optimizer's named scalars at every recorded step, against the
rules' own kernels driven step by step and the NumPy oracles of tests/reference; labels when
several rules share a sweep, rules without scalars, divergence, reduce=, out_dir=, TOML/CLI."""

import numpy as np
import pytest

import optsim
from optsim._components import ParameterError, layout
from optsim.cli import main
from optsim.config import parse_config
from optsim.optimizers import Adam, NAdam
from optsim.optimizers.dadaptation import DAdaptAdam
from optsim.optimizers.dog import DoG
from optsim.optimizers.prodigy import Prodigy
from optsim.problems import Quadratic

from reference import rules as rr
from reference import rules_adapt as ra

STEPS = 40


def problem():
    return Quadratic(condition_number=10.0, dim=4)


def drive(rule, pb, steps=STEPS):
    """The rule's own ``init``/``step`` kernels on the noise-free quadratic, one trajectory:
    every scalar after init (row 0) and after each step, shape (steps + 1, scalars)."""
    h = np.asarray(pb.hessian_diag(), dtype=np.float64)
    x = np.asarray(pb.start_point(), dtype=np.float64).copy()
    hp = np.asarray(rule.row(), dtype=np.float64)
    init, step = rule.kernels["init"], rule.kernels["step"]
    S = np.zeros((type(rule).slots, x.shape[0]))
    sc = np.zeros(type(rule).scalars)
    init(x, S, sc, hp)
    out = [sc.copy()]
    for t in range(1, steps + 1):
        g = h * x
        step(x, g, S, sc, t, 1.0, hp)
        out.append(sc.copy())
    return np.array(out)


def oracle_d(ref, pb, steps=STEPS):
    """d after each step of a NumPy oracle (``ProdigyRef`` is called, the D-Adaptation ones step)."""
    h = np.asarray(pb.hessian_diag(), dtype=np.float64)
    x = np.asarray(pb.start_point(), dtype=np.float64).copy()
    for t in range(1, steps + 1):
        x = ref(x, h * x, t) if callable(ref) else ref.step(x, h * x, t, 1.0)
    return np.array(ref.ds if hasattr(ref, "ds") else ref.history)


def sweep(opt, **kw):
    kw.setdefault("steps", STEPS)
    kw.setdefault("record_every", 1)
    kw.setdefault("record", ("loss", "scalars"))
    return optsim.sweep(problem(), opt, progress=False, **kw)


@pytest.mark.parametrize("opt, ref", [(Prodigy(), rr.ProdigyRef()),
                                      (DAdaptAdam(lr=1.0), ra.DAdaptAdamRef())])
def test_d_estimate_matches_the_kernels_and_the_oracle(opt, ref):
    ds = sweep(opt)
    got = ds.scalars.isel(replicate=0).values
    assert ds.scalars.dims == ("replicate", "step", "scalar")
    assert list(ds.scalar.values) == list(type(opt).scalar_names)
    np.testing.assert_array_equal(got, drive(opt, problem()))  # the same kernels, the same numbers
    d = ds.scalars.sel(scalar="d").isel(replicate=0).values
    want = oracle_d(ref, problem())
    assert want.shape == (STEPS,) and want[-1] > 100 * want[0]  # d has grown: the check has teeth
    np.testing.assert_allclose(d[1:], want, rtol=1e-12)
    assert d[0] == 1e-6  # d0, after init


def test_recorded_steps_only_and_other_records_unchanged():
    base = sweep(Prodigy(), record=("loss", "params"), record_every=7)
    ds = sweep(Prodigy(), record=("loss", "params", "scalars"), record_every=7)
    assert "scalars" not in base
    for v in ("loss", "params", "final_loss", "min_loss"):
        np.testing.assert_array_equal(ds[v].values, base[v].values)
    full = drive(Prodigy(), problem())
    np.testing.assert_array_equal(ds.scalars.isel(replicate=0).values, full[ds.step.values])


def test_two_rules_share_the_names_they_have_in_common():
    ds = sweep({"prodigy": Prodigy(), "dadapt": DAdaptAdam(lr=1.0), "dog": DoG(lr=1.0)})
    names = list(ds.scalar.values)
    assert names == ["d", "d_max", "d_numerator", "dlr", "numerator_weighted", "k", "rbar", "G", "eta", "steps"]
    for label, opt in (("prodigy", Prodigy()), ("dadapt", DAdaptAdam(lr=1.0)), ("dog", DoG(lr=1.0))):
        row = ds.scalars.sel(optimizer=label, replicate=0)
        own = list(type(opt).scalar_names)
        np.testing.assert_array_equal(row.sel(scalar=own).values, drive(opt, problem()))
        others = [n for n in names if n not in own]
        assert np.isnan(row.sel(scalar=others).values).all()
    # the shared d: Prodigy's and D-Adaptation's estimates side by side
    d = ds.scalars.sel(scalar="d", replicate=0)
    assert np.isfinite(d.sel(optimizer=["prodigy", "dadapt"]).values).all()
    assert np.isnan(d.sel(optimizer="dog").values).all()


def test_rules_without_scalars():
    ds = sweep(Adam(lr=0.1), replicates=2)
    assert ds.scalars.sizes["scalar"] == 0 and ds.scalars.dims[-1] == "scalar"
    both = sweep({"adam": Adam(lr=0.1), "prodigy": Prodigy()})
    assert list(both.scalar.values) == list(Prodigy.scalar_names)
    assert np.isnan(both.scalars.sel(optimizer="adam").values).all()


def test_blocked_replicates_and_a_diverged_trajectory_stay_frozen():
    # NAdam is elementwise (replicates advance together) and its mu_product changes every step
    ok = sweep(NAdam(lr=0.01), replicates=3)
    mu = ok.scalars.sel(scalar="mu_product").values
    want = drive(NAdam(lr=0.01), problem())[:, layout(NAdam.scalar_names).mu_product]
    np.testing.assert_array_equal(mu, np.broadcast_to(want, mu.shape))
    ds = sweep(NAdam(lr=50.0), diverge_factor=10.0)
    at = int(ds.diverged_at.values[0])
    assert 0 < at < STEPS
    mu = ds.scalars.sel(scalar="mu_product").isel(replicate=0)
    frozen = mu.sel(step=ds.step > at).values
    assert frozen.size > 0 and np.all(frozen == float(mu.sel(step=at)))
    assert not np.isclose(float(mu.sel(step=at)), want[-1])  # it would have moved on


def test_reduce_and_out_dir(tmp_path):
    opts = {"prodigy": Prodigy(), "adam": Adam(lr=0.1)}
    full = sweep(opts, replicates=3, record_every=5)
    red = sweep(opts, replicates=3, record_every=5, reduce="mean")
    assert red.scalars_mean.dims == ("optimizer", "step", "scalar")
    assert list(red.scalar.values) == list(Prodigy.scalar_names)
    np.testing.assert_array_equal(red.scalars_mean.values, full.scalars.mean("replicate").values)
    stored = sweep(opts, replicates=3, record_every=5, out_dir=tmp_path / "run", chunk_size=2)
    np.testing.assert_array_equal(stored.scalars.values, full.scalars.values)
    assert list(stored.scalar.values) == list(full.scalar.values)


def test_toml_and_cli(tmp_path):
    text = """
[problem]
name = "quadratic"
condition_number = 10.0
dim = 4

[optimizer]
name = "prodigy"

[run]
steps = 10
record_every = 5
record = ["loss", "scalars"]
"""
    assert "scalars" in parse_config(text)["record"]
    cfg = tmp_path / "p.toml"
    cfg.write_text(text)
    out = tmp_path / "p.nc"
    assert main(["sweep", str(cfg), "-o", str(out), "--quiet", "--no-figure"]) == 0
    ds = optsim.load(out)
    np.testing.assert_array_equal(ds.scalars.isel(replicate=0).values, drive(Prodigy(), problem(), 10)[::5])


def test_bad_record_name_is_refused_in_one_line():
    with pytest.raises(ParameterError) as exc:
        sweep(Prodigy(), record=("loss", "scalar"))
    msg = str(exc.value)
    assert "\n" not in msg and "'scalar'" in msg and "scalars" in msg


def test_the_memory_guard_counts_the_metrics_and_scalars_records(monkeypatch):
    """The size the guard checks is what the plan allocates, with the problem's metrics and the
    optimizers' named scalars recorded (both were once sized as empty)."""
    from optsim import _budget
    from optsim.optimizers import Adam, Prodigy
    from optsim.problems import MLP
    from optsim.sweep import build_plan

    seen = []
    real = _budget.Budget.check

    def spy(self, extent, **sizes):
        seen.append(extent)
        return real(self, extent, **sizes)

    monkeypatch.setattr(_budget.Budget, "check", spy)
    for problem, rule, record in ((MLP(dataset="iris", hidden=[6]), Adam(lr=0.01), ("loss", "metrics")),
                                  (MLP(dataset="iris", hidden=[6]), Prodigy(), ("loss", "scalars", "metrics"))):
        seen.clear()
        plan, _ = build_plan(problem, {"a": rule, "b": rule}, grid={"lr": [0.1, 1.0]}, replicates=3, steps=40,
                             record_every=10, record=record)
        assert len(seen) == 2  # from the counts alone, then with every group
        for extent in seen:
            assert extent.output_bytes() == plan.output_bytes()
        assert plan.output_shapes(plan.n_traj)["metrics"][0][-1] > 0
