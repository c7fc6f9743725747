"""The engine against NumPy oracles; determinism; validation; divergence; compile caching."""

import math

import numpy as np
import pytest

import optsim
from optsim import noise, optimizers, problems, schedules
from optsim.problems.quadratic import rotation_matrix

from reference import loops, rules
from reference import problems as ref_problems
from reference import schedules as ref_schedules

H_DIAG = np.array([1.0, 10.0, 100.0])


def rotated_problem():
    return problems.Quadratic(curvatures=H_DIAG, rotation_seed=3, x0=[1.0, -0.5, 0.25], center=[0.1, 0.2, -0.3])


def rotated_oracle():
    q = rotation_matrix(3, None, 3)
    H = (q * H_DIAG) @ q.T
    return ref_problems.quadratic(H, np.array([0.1, 0.2, -0.3]))


def run_params(opt, steps=100, schedule=None, noise_model=None, problem=None, **kw):
    ds = optsim.sweep(problem or rotated_problem(), opt, schedule=schedule, noise=noise_model,
                      steps=steps, record_every=1, record=("params", "loss"), **kw)
    return ds


def assert_close(a, b, rtol=1e-12):
    """Normwise relative error of each row (each recorded step) at most ``rtol``."""
    a, b = np.atleast_2d(np.asarray(a).T).T, np.atleast_2d(np.asarray(b).T).T
    num = np.linalg.norm((a - b).reshape(a.shape[0], -1), axis=1)
    den = np.maximum(np.linalg.norm(b.reshape(b.shape[0], -1), axis=1), 1e-300)
    err = np.max(num / den)
    assert err <= rtol, f"relative error {err:.3g} > {rtol}"


SGD_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.01, momentum=0.9, dampening=0.5, weight_decay=0.01),
    dict(lr=0.005, momentum=0.8, nesterov=True, weight_decay=0.01),
    dict(lr=1e-4, maximize=True),
]

ADAM_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-3),
    dict(lr=0.01, bias_correction=False),
    dict(lr=0.01, amsgrad=True, weight_decay=0.01),
    dict(lr=0.01, weight_decay=0.01, decoupled_weight_decay=True),
    dict(lr=0.01, eps=1e-3, eps_mode="sqrt_v"),
    dict(lr=0.01, eps=1e-3, eps_mode="inside", betas=(0.8, 0.99)),
]


@pytest.mark.parametrize("kw", SGD_CASES)
def test_sgd_matches_oracle_closed_loop(kw):
    ds = run_params(optimizers.SGD(**kw))
    grad, loss = rotated_oracle()
    xs, fs = loops.run(rules.SGDRef(**kw), grad, loss, [1.0, -0.5, 0.25], 100, kw["lr"])
    assert_close(ds.params.values[0], xs)
    assert_close(ds.loss.values[0], fs)


@pytest.mark.parametrize("kw", ADAM_CASES)
def test_adam_matches_oracle_closed_loop(kw):
    ds = run_params(optimizers.Adam(**kw))
    grad, loss = rotated_oracle()
    rk = dict(kw)
    if "betas" in rk:
        rk["beta1"], rk["beta2"] = rk.pop("betas")
    xs, fs = loops.run(rules.AdamRef(order="torch", **rk), grad, loss, [1.0, -0.5, 0.25], 100, kw["lr"])
    assert_close(ds.params.values[0], xs)
    assert_close(ds.loss.values[0], fs)


@pytest.mark.parametrize(
    "schedule, oracle",
    [
        (schedules.Constant(), ref_schedules.constant_lr),
        (schedules.StepDecay(step_size=30, gamma=0.5), ref_schedules.step_lr(30, 0.5)),
        (schedules.LinearWarmup(warmup_steps=20), ref_schedules.warmup_lr(20)),
        (schedules.LinearWarmup(warmup_steps=10, start_factor=0.1, after=schedules.StepDecay(step_size=25, gamma=0.3)),
         ref_schedules.warmup_lr(10, 0.1, ref_schedules.step_lr(25, 0.3))),
    ],
)
def test_schedules_match_oracle(schedule, oracle):
    ds = run_params(optimizers.SGD(lr=0.02, momentum=0.9), schedule=schedule)
    grad, loss = rotated_oracle()
    xs, _ = loops.run(rules.SGDRef(momentum=0.9), grad, loss, [1.0, -0.5, 0.25], 100, 0.02, schedule=oracle)
    assert_close(ds.params.values[0], xs)


def test_noisy_run_matches_oracle_draw_for_draw():
    ds = optsim.sweep(rotated_problem(), optimizers.Adam(lr=0.05), noise=noise.Gaussian(sigma=0.7),
                      steps=60, record_every=1, record=("params",), replicates=3, seed=11)
    grad, loss = rotated_oracle()
    for r in range(3):
        xs, _ = loops.run(rules.AdamRef(lr=0.05, order="torch"), grad, loss, [1.0, -0.5, 0.25], 60, 0.05, sigma=0.7, seed=11, replicate=r)
        assert_close(ds.params.values[r], xs)


# -- determinism ------------------------------------------------------------------------------


def _noisy_sweep(**kw):
    return optsim.sweep(
        problems.Quadratic(curvatures=[1.0, 100.0]), optimizers.Adam(), noise=noise.Gaussian(sigma=1.0),
        grid={"lr": np.logspace(-3, 0, 6), "beta2": [0.99, 0.999]}, replicates=7, steps=300,
        record_every=25, record=("loss", "params"), seed=5, **kw,
    )


def test_bit_identical_across_threads_and_chunks():
    base = _noisy_sweep(threads=1)
    for kw in (dict(threads=2), dict(threads=2, chunk_size=5), dict(threads=1, chunk_size=13)):
        other = _noisy_sweep(**kw)
        for name in ("loss", "params", "final_loss", "min_loss", "diverged_at"):
            np.testing.assert_array_equal(base[name].values, other[name].values)


_ALL_RECORDS = ("loss", "grad_norm", "dist", "params", "eff_lr", "eff_lr_stats", "state",
                "state_norm")


def _kernel_case(case, rules=None):
    """The sweep of one of the cases on which two ways of running the kernel must agree to
    the bit (``rules``: the optimizers of "all optimizers")."""
    return {
        "all optimizers": dict(problem=problems.Rosenbrock(), noise=noise.Gaussian(sigma=0.5),
                               optimizer=rules, grid={"lr": [1e-3, 0.05, 0.5]}),
        "look-ahead and schedule": dict(
            problem=problems.Quadratic(curvatures=[1.0, 50.0]), noise=noise.Gaussian(sigma=1.0),
            optimizer=[optimizers.NAG(momentum=0.9), optimizers.Adam()],
            schedule=schedules.OneCycle(total_steps=60), grid={"lr": [0.01, 0.2]}),
        "projection": dict(problem=problems.ReddiStochastic(), optimizer=optimizers.Adam(),
                           grid={"lr": [0.01, 0.1]}),
        "minibatch": dict(problem=problems.LogisticRegression(n_train=60, n_features=4),
                          noise=noise.Minibatch(batch_size=5), optimizer=optimizers.SGD(momentum=0.9),
                          grid={"lr": [0.05, 0.5]}),
        "nqm": dict(problem=problems.NoisyQuadraticModel(dim=20, random_start=True),
                    optimizer=optimizers.RMSprop(), grid={"lr": [1e-3, 0.3, 3.0]}),
        "eight coordinates": dict(problem=problems.Quadratic(curvatures=np.geomspace(1.0, 100.0, 8)),
                                  noise=noise.Gaussian(sigma=0.3), optimizer=optimizers.RMSprop(),
                                  grid={"lr": [1e-3, 0.05, 0.3]}),
    }[case]


@pytest.mark.parametrize("case", ["all optimizers", "look-ahead and schedule", "projection",
                                  "minibatch", "nqm"])
def test_blocks_of_replicates_match_one_at_a_time_to_the_bit(case, monkeypatch):
    """The kernel advances the replicates of a cell together when it can; the numbers must
    not depend on it, including for trajectories that diverge mid-block."""
    from optsim._roles import Optimizer
    from optsim.engine import codegen

    elementwise = [cls() for cls in optimizers.__dict__.values()
                   if isinstance(cls, type) and issubclass(cls, Optimizer)
                   and getattr(cls, "elementwise", False)]
    kw = _kernel_case(case, elementwise)
    record = _ALL_RECORDS if case != "minibatch" else ("loss", "test_loss", "params")
    runs = []
    for blocks in (True, False):
        monkeypatch.setattr(codegen, "BLOCKS", blocks)
        runs.append(optsim.sweep(**kw, replicates=5, steps=60, record_every=7, record=record,
                                 seed=11, threads=1))
    blocked, single = runs
    if case == "all optimizers":
        assert int((blocked.diverged_at >= 0).sum()) > 0  # some diverge inside a block
    for name in blocked.data_vars:
        np.testing.assert_array_equal(blocked[name].values, single[name].values, err_msg=name)


@pytest.mark.parametrize("case", ["all optimizers", "look-ahead and schedule", "projection",
                                  "minibatch", "eight coordinates"])
def test_grad_compiled_for_the_dimension_matches_the_shared_one_to_the_bit(case, monkeypatch):
    """A problem in few coordinates gets a ``grad`` compiled for its dimension (its loops
    unrolled); the numbers must be those of the ``grad`` shared by every dimension,
    including for trajectories that leave the bounds."""
    from optsim.engine import codegen
    from optsim.sweep import build_plan

    rules = [optimizers.SGD(momentum=0.9), optimizers.Adam(), optimizers.AMSGrad(), optimizers.RAdam(),
             optimizers.SWATS()]
    kw = _kernel_case(case, rules)
    if case == "all optimizers":
        kw["x_bound"] = 50.0
    plan, _ = build_plan(kw["problem"], optimizers.Adam(), noise=kw.get("noise"), steps=5)
    spec, d = plan.groups[0].spec, plan.groups[0].x0.shape[1]
    assert 0 < d <= codegen.FIXED_DIM_MAX and codegen.grad_dim(d) == d
    assert f"DIM = {d}\n" in codegen.generate_source(spec, d)[0]
    # its own entry point, not the shared one
    assert codegen.kernel_for(spec, ["grad"], d=d)["grad"] != codegen.kernel_for(spec, ["grad"])["grad"]
    record = _ALL_RECORDS if case != "minibatch" else ("loss", "test_loss", "params")
    runs = []
    for fixed in (codegen.FIXED_DIM_MAX, 0):
        monkeypatch.setattr(codegen, "FIXED_DIM_MAX", fixed)
        runs.append(optsim.sweep(**kw, replicates=5, steps=60, record_every=7, record=record,
                                 seed=11, threads=1))
    own, shared = runs
    if case == "all optimizers":
        assert int((own.diverged_at >= 0).sum()) > 0  # some leave the bounds inside a block
    for name in own.data_vars:
        np.testing.assert_array_equal(own[name].values, shared[name].values, err_msg=name)


def test_common_random_numbers_share_noise_across_cells():
    # SGD with lr so small that the gradient noise dominates: x_1 - x_0 = -lr * (g + noise).
    def first_noise(crn):
        ds = optsim.sweep(problems.Quadratic(curvatures=[1.0], x0=[0.0]), optimizers.SGD(),
                          noise=noise.Gaussian(sigma=1.0), grid={"lr": [0.1, 0.2]}, replicates=2,
                          steps=1, record_every=1, record=("params",), common_random_numbers=crn)
        p = ds.params.sel(param="x0")
        return -(p.isel(step=1) - p.isel(step=0)) / ds.lr

    shared = first_noise(True).values
    np.testing.assert_allclose(shared[0], shared[1], rtol=1e-12)
    assert shared[0, 0] != shared[0, 1]  # replicates differ
    own = first_noise(False).values
    assert not np.allclose(own[0], own[1])


def test_no_recompilation_for_new_hyperparameter_values():
    from optsim.engine import _driver
    from optsim.engine.codegen import KERNEL_LOG

    prob = problems.Quadratic(curvatures=[1.0, 4.0])
    kw = dict(noise=noise.Gaussian(sigma=0.1), steps=5)
    optsim.sweep(prob, optimizers.Adam(lr=0.1, beta2=0.9), grid={"beta1": [0.0, 0.5]}, **kw)
    start = len(KERNEL_LOG)
    for lr, b2 in ((0.01, 0.99), (0.3, 0.5)):  # new values, and a grid over other values
        optsim.sweep(prob, optimizers.Adam(lr=lr, beta2=b2), grid={"beta1": [0.2, 0.7, 0.9]}, **kw)
    optsim.sweep(prob, optimizers.Adam(), grid={"lr": [1e-3, 1e-2], "eps": [1e-8, 1e-3]}, **kw)
    assert KERNEL_LOG[start:] == [], "new hyperparameter values compiled or loaded code"
    assert len(_driver.run.signatures) == 1


# -- known values ---------------------------------------------------------------------------


def test_adam_first_step_is_lr_times_sign_with_bias_correction():
    prob = problems.Quadratic(curvatures=[1.0, 3.0, 0.5], x0=[2.0, -1.0, 0.3])
    ds = optsim.sweep(prob, optimizers.Adam(eps=0.0), grid={"lr": [1e-3, 0.1]}, steps=1,
                      record_every=1, record=("params",))
    dx = (ds.params.isel(step=1) - ds.params.isel(step=0)).isel(replicate=0)
    expected = -np.outer(ds.lr.values, np.sign(prob.start_point()))
    np.testing.assert_allclose(dx.values, expected, rtol=1e-12)


@pytest.mark.parametrize("beta2", [0.99, 0.999, 0.9999])
def test_adam_first_step_without_bias_correction(beta2):
    prob = problems.Quadratic(curvatures=[2.0], x0=[1.5])
    ds = optsim.sweep(prob, optimizers.Adam(lr=1e-4, beta1=0.0, beta2=beta2, eps=0.0, bias_correction=False),
                      steps=1, record_every=1, record=("params",))
    step = float(ds.params.values[0, 0, 0] - ds.params.values[0, 1, 0])
    assert step == pytest.approx(1e-4 / math.sqrt(1 - beta2), rel=1e-12)


def test_lecture_001_worked_adam_example():
    """f(x) = (2x - 10)^2 from x0 = 0 with lr 0.1: Adam's first step gives x1 = 0.1.

    Kingma & Ba's step size is alpha_1 = lr sqrt(1 - beta2) / (1 - beta1) = 0.0316, and
    x1 = alpha_1 * 4 / sqrt(1.6) = 0.1 (the first step of bias-corrected Adam is lr * sign(g)).
    The lecture writes the step size with a square root of 1 - beta1^t, which would give
    0.1 * sqrt(0.001) / sqrt(0.1) = 0.01 and x1 = 0.0316; it then prints 0.0158 for it,
    and so reaches x1 = 0.0158 * 4 / sqrt(1.6) = 0.0499.
    """
    prob = problems.Quadratic(curvatures=[8.0], center=[5.0], x0=[0.0])
    ds = optsim.sweep(prob, optimizers.Adam(lr=0.1), steps=3, record_every=1, record=("params", "loss"))
    x = ds.params.values[0, :, 0]
    assert x[1] == pytest.approx(0.1, rel=1e-6)
    assert ds.loss.values[0, 0] == pytest.approx(100.0)
    assert 0.1 * math.sqrt(0.001) / 0.1 * 4 / math.sqrt(1.6) == pytest.approx(0.1)
    assert 0.0158 * 4 / math.sqrt(1.6) == pytest.approx(0.0499, abs=1e-4)


def test_sgd_stationary_variance_on_noisy_quadratic():
    """x_{t+1} = (1 - lr h) x_t - lr sigma xi has stationary variance lr sigma^2 / (h (2 - lr h))."""
    h, lr, sigma = 2.0, 0.1, 1.0
    ds = optsim.sweep(problems.Quadratic(curvatures=[h], x0=[0.0]), optimizers.SGD(lr=lr),
                      noise=noise.Gaussian(sigma=sigma), replicates=4000, steps=200,
                      record_steps=[200], record=("params",), seed=1)
    x = ds.params.sel(step=200).values.ravel()
    expected = lr * sigma**2 / (h * (2 - lr * h))
    var = x.var()
    se = expected * math.sqrt(2 / (x.size - 1))
    assert abs(var - expected) < 4 * se
    assert abs(x.mean()) < 4 * math.sqrt(expected / x.size)


# -- divergence ---------------------------------------------------------------------------


def test_divergent_trajectories_are_frozen_and_flagged():
    ds = optsim.sweep(problems.Quadratic(curvatures=[1.0, 100.0]), optimizers.SGD(), grid={"lr": [0.001, 0.05]},
                      steps=200, record_every=10, record=("loss", "params"))
    ok, bad = ds.sel(lr=0.001), ds.sel(lr=0.05)
    assert not bool(ok.diverged.any())
    assert bool(bad.diverged.all())
    at = int(bad.diverged_at.values[0])
    assert 0 < at < 200
    later = bad.loss.sel(step=slice(at + 10, None))
    assert np.all(np.isinf(later.values))
    frozen = bad.params.sel(step=slice(at + 10, None)).values[0]
    assert np.all(frozen == frozen[0])
    assert np.isinf(bad.final_loss.values).all()
    assert np.isfinite(ok.final_loss.values).all()


def test_x_bound_freezes_a_trajectory():
    ds = optsim.sweep(problems.Quadratic(curvatures=[1.0], x0=[0.5]), optimizers.SGD(lr=0.1, maximize=True),
                      steps=100, x_bound=2.0, record_every=1, record=("params",))
    at = int(ds.diverged_at.values[0])
    assert at > 0
    assert abs(ds.params.values[0, at, 0]) > 2.0


# -- grids, methods, records ----------------------------------------------------------------


def test_several_optimizers_zipped_axes_and_records():
    ds = optsim.sweep(
        problems.Quadratic(curvatures=[1.0, 10.0]),
        {"sgdm": optimizers.SGD(momentum=0.9), "adam": (optimizers.Adam(), schedules.LinearWarmup(warmup_steps=5))},
        noise=noise.Gaussian(sigma=0.1), grid={"lr": [0.01, 0.1]}, replicates=3, steps=20, record_every=5,
        record=("loss", "grad_norm", "dist", "params", "eff_lr", "eff_lr_stats", "state", "state_norm"),
        thresholds=[1.0, 1e-3],
    )
    assert ds.loss.dims == ("optimizer", "lr", "replicate", "step")
    assert list(ds.optimizer.values) == ["sgdm", "adam"]
    assert ds.params.dims[-2:] == ("step", "param")
    assert ds.state.sizes["slot"] == 3
    assert ds.first_below.dims[-1] == "threshold"
    sgd_eff = ds.eff_lr.sel(optimizer="sgdm", step=20).values
    np.testing.assert_allclose(sgd_eff, np.broadcast_to(ds.lr.values[:, None, None], sgd_eff.shape))
    zipped = optsim.sweep(problems.Quadratic(curvatures=[1.0, 10.0]), optimizers.Adam(),
                          grid={"beta1,beta2": [(0.9, 0.999), (0.0, 0.99)], "lr": [0.1]}, steps=10)
    assert zipped.loss.dims == ("beta1_beta2", "lr", "replicate", "step")
    np.testing.assert_array_equal(zipped.beta2.values, [0.999, 0.99])


def test_grid_over_static_problem_parameter():
    ds = optsim.sweep(problems.Quadratic(curvatures=[1.0, 1.0]), optimizers.SGD(lr=0.1),
                      grid={"curvatures": [[1.0, 1.0], [1.0, 4.0]]}, steps=3, record_every=1)
    f1 = 0.5 * (0.9**6 + 0.9**6)
    f2 = 0.5 * (0.9**6 + 4 * 0.6**6)
    np.testing.assert_allclose(ds.loss.isel(step=3).values.ravel(), [f1, f2], rtol=1e-12)


def test_save_and_load_round_trip(tmp_path):
    ds = _noisy_sweep(threads=1)
    path = optsim.save(ds, tmp_path / "r.nc")
    back = optsim.load(path)
    for name in ds.data_vars:
        np.testing.assert_array_equal(ds[name].values, back[name].values)
        assert ds[name].dtype == back[name].dtype
    assert back.attrs["spec_hash"] == ds.attrs["spec_hash"]
    from optsim.io import spec_of

    assert spec_of(back)["steps"] == 300


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: optimizers.Adam(lr=-1.0), r"lr=-1.0 .*lr must be a number in \(0.0, inf\)"),
        (lambda: optimizers.Adam(beta2=1.0), r"beta2=1.0 .*\[0.0, 1.0\)"),
        (lambda: optimizers.Adam(eps=-1e-8), r"eps=-1e-08.*\[0.0, inf\)"),
        (lambda: optimizers.Adam(betas=(0.9,)), r"betas"),
        (lambda: optimizers.Adam(lrr=0.1), r"did you mean 'lr'"),
        (lambda: optimizers.SGD(nesterov=True), r"nesterov=True requires momentum > 0"),
        (lambda: schedules.StepDecay(step_size=0), r"step_size=0 .*integer in \[1, inf\)"),
        (lambda: noise.Gaussian(sigma=-1), r"sigma=-1"),
        (lambda: problems.Quadratic(curvatures=[1.0, -2.0]), r"curvatures"),
    ],
)
def test_bad_hyperparameters_name_parameter_and_range(make, match):
    with pytest.raises(optsim.ParameterError, match=match):
        make()


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(steps=0), r"steps=0 .*integer >= 1"),
        (dict(replicates=2.5), r"replicates"),
        (dict(grid={"lrr": [0.1]}), r"'lrr' is not a parameter.*did you mean 'lr'"),
        (dict(grid={"lr": [0.1, -0.1]}), r"lr=-0.1 is not allowed"),
        (dict(grid={"beta2": [0.5, 1.5]}), r"beta2=1.5"),
        (dict(record=("los",)), r"did you mean 'loss'"),
        (dict(record_every=0), r"record_every"),
        (dict(record=("test_loss",)), r"no test set"),
    ],
)
def test_bad_sweep_arguments_fail_before_work(kw, match):
    with pytest.raises(optsim.ParameterError, match=match):
        optsim.sweep(problems.Quadratic(curvatures=[1.0]), optimizers.Adam(), **kw)


def test_memory_guard_refuses_with_estimate_and_way_out():
    with pytest.raises(optsim.MemoryLimitError, match=r"needs about .* record less often"):
        optsim.sweep(problems.Quadratic(curvatures=[1.0] * 10), optimizers.Adam(), grid={"lr": np.logspace(-3, 0, 100)},
                     replicates=1000, steps=1000, record_every=1, record=("params",), max_memory=10**9)


def test_user_jitted_rule_works_uncached():
    from numba import njit

    @njit
    def init(x, S, sc, hp):
        pass

    @njit
    def step(x, g, S, sc, t, lr, hp):
        for i in range(x.shape[0]):
            x[i] -= lr * np.sign(g[i])

    @njit
    def eff(S, sc, t, lr, hp, out):
        out[:] = lr

    class SignSGD(optimizers.Optimizer):
        name = "signsgd_test"
        params = (optsim.Param("lr", 0.01, low=0.0, low_open=True),)
        kernels = {"init": init, "step": step, "eff_lr": eff}

    from optsim.engine.codegen import KERNEL_LOG

    start = len(KERNEL_LOG)
    ds = optsim.sweep(problems.Quadratic(curvatures=[1.0, 10.0]), SignSGD(), grid={"lr": [0.1, 0.01]},
                      steps=50, record_every=50)
    np.testing.assert_allclose(ds.loss.isel(step=-1).values.ravel(), [0.0, 1.375], atol=1e-12)
    compiled = [e["kernel"] for e in KERNEL_LOG[start:]]
    assert "<entry point SignSGD.step>" in compiled
    assert "<entry point SignSGD.eff_lr>" not in compiled  # compiled only when recorded
    ds = optsim.sweep(problems.Quadratic(curvatures=[1.0, 10.0]), SignSGD(), grid={"lr": [0.1, 0.01]},
                      steps=50, record_every=50, record=("eff_lr",))
    assert "<entry point SignSGD.eff_lr>" in [e["kernel"] for e in KERNEL_LOG[start:]]
    np.testing.assert_array_equal(ds.eff_lr.isel(step=-1).values[..., 0], [[0.1], [0.01]])


def test_one_kernel_serves_every_optimizer_and_schedule():
    from optsim.engine._driver import SCHED, SCHED_LR_ONLY
    from optsim.engine.codegen import KERNEL_LOG, entry_points, kernel_for
    from optsim.sweep import build_plan

    prob, nz = problems.Quadratic(curvatures=[1.0, 4.0]), noise.Gaussian(sigma=0.1)
    combos = [(optimizers.SGD(momentum=0.9), schedules.Constant()),
              (optimizers.NAG(), schedules.OneCycle(total_steps=20)),
              (optimizers.Adam(), schedules.LinearWarmup(warmup_steps=5, after=schedules.CosineAnnealing(T_max=20))),
              (optimizers.SWATS(), schedules.ReduceOnPlateau())]
    kernels = set()
    for opt, sched in combos:
        plan, _ = build_plan(prob, opt, noise=nz, schedule=sched, steps=20)
        kernels.add(tuple(kernel_for(plan.groups[0].spec).values()))
        fn, table = plan.entry_tables(plan.groups[0])
        assert fn[1] == entry_points(type(opt))["step"] != 0
        assert (fn[3] != 0) == isinstance(opt, optimizers.NAG)  # only NAG has a look-ahead point
        # a row per schedule node, and one more where the schedule cycles the momentum (a
        # scheduled hyperparameter: the full width of the table)
        cycled = isinstance(sched, schedules.OneCycle)
        assert table.shape == (len(sched.tree()) + cycled, len(SCHED) if cycled else SCHED_LR_ONLY)
    assert len(kernels) == 1
    start = len(KERNEL_LOG)
    a = optsim.sweep(prob, [opt for opt, _ in combos[:2]], noise=nz, grid={"lr": [0.01, 0.1]},
                     replicates=3, steps=20)
    assert [e["kind"] for e in KERNEL_LOG[start:]].count("kernel") <= 1  # one kernel, at most once
    assert np.all(np.isfinite(a.loss.values))


def test_user_jitted_schedule_works_uncached():
    # a schedule defined in a function: its entry point compiles in memory; the kernel is shared
    from numba import njit

    @njit
    def halving_value(k, base_lr, sp, ss, loss):
        return base_lr * sp[0] ** k

    class Halving(schedules.Schedule):
        name = "halving_test"
        params = (optsim.Param("factor", 0.5, low=0.0, high=1.0),)
        kernels = {"value": halving_value}

    prob = problems.Quadratic(curvatures=[1.0], x0=[1.0])
    kw = dict(grid={"lr": [0.1, 0.2]}, steps=5, record_every=1, record=("params",))
    ds = optsim.sweep(prob, optimizers.SGD(), schedule=Halving(factor=0.5), **kw)
    ref = optsim.sweep(prob, optimizers.SGD(), schedule=schedules.Exponential(gamma=0.5), **kw)
    np.testing.assert_array_equal(ds.params.values, ref.params.values)


def test_user_problem_defined_in_a_function_compiles_in_memory():
    # its functions cannot be imported by name: the problem's entry points compile in memory,
    # with its 2-D float and 1-D int64 data arrays, and give the same numbers as the cached ones
    from numba import njit
    from toy_problems import ToyLeastSquares, toy_ls_objective, toy_ls_value_and_grad

    from optsim.engine.codegen import KERNEL_LOG

    class LocalLeastSquares(ToyLeastSquares):
        name = "local_least_squares_test"
        kernels = {"value_and_grad": njit(toy_ls_value_and_grad.py_func),
                   "objective": njit(toy_ls_objective.py_func)}

    kw = dict(noise=noise.Gaussian(sigma=0.3), grid={"lr": [0.01, 0.1]}, replicates=3, steps=30,
              record_every=10, record=("loss", "grad_norm", "params"))
    start = len(KERNEL_LOG)
    ds = optsim.sweep(LocalLeastSquares(), optimizers.Adam(), **kw)
    assert any(e["kernel"].startswith("<entry points of LocalLeastSquares") for e in KERNEL_LOG[start:])
    cached = optsim.sweep(ToyLeastSquares(), optimizers.Adam(), **kw)
    for name in ("loss", "grad_norm", "params", "final_loss"):
        np.testing.assert_array_equal(ds[name].values, cached[name].values)
