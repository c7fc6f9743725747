"""The exact expected dynamics (optsim.expected, optsim.theory): against an independent
superposition oracle, against closed forms, and against Monte Carlo within its standard errors."""

import math

import numpy as np
import pytest
from scipy.stats import norm

import optsim
from optsim import expected, theory
from optsim.noise import CurvatureScaled, Gaussian
from optsim.optimizers import NAG, SGD, Adam, RMSprop, ScheduleFreeSGD
from optsim.problems import LinearRegression, NoisyQuadraticModel, Quadratic
from optsim.schedules import WSD, CosineAnnealing, WarmupCosine

from reference import moments
from reference.rules import NAGRef, SGDRef
from reference.rules_adapt import ScheduleFreeRef

STEPS = 30
CURV = [0.5, 1.0, 2.0]


def _problems():
    return {
        "diag": Quadratic(curvatures=CURV, center=[0.3, -0.2, 0.1], x0=[1.0, -1.0, 2.0]),
        "rotated": Quadratic(curvatures=CURV, center=[0.3, -0.2, 0.1], x0=[1.0, -1.0, 2.0], rotation_seed=3),
        "nqm": NoisyQuadraticModel(dim=3, batch_size=8.0),
        "nqm_random": NoisyQuadraticModel(dim=3, random_start=True),
        "regression": LinearRegression(n_train=12, n_test=0, n_features=3, noise=0.5, l2=0.05, x0=[1.0, -1.0, 0.5]),
    }


def _regression_parts(problem):
    """H, the minimiser and the loss there, from the data (normal equations)."""
    X, y = problem.data()[:2]
    n = X.shape[0]
    H = X.T @ X / n + problem.l2 * np.eye(X.shape[1])
    c = np.linalg.solve(H, X.T @ y / n)
    return H, c, 0.5 * np.mean((X @ c - y) ** 2) + 0.5 * problem.l2 * c @ c


NOISES = {
    "none": None,
    "gauss": Gaussian(sigma=0.3),
    "gauss_scaled": Gaussian(sigma=0.5, scale=[1.0, 2.0, 0.5]),
    "curv": CurvatureScaled(batch_size=4.0),
}

RULES = {
    "sgd": (SGD(lr=0.3), SGDRef()),
    "torch_damp": (SGD(lr=0.2, momentum=0.8, dampening=0.1), SGDRef(momentum=0.8, dampening=0.1)),
    "torch_nesterov_wd": (SGD(lr=0.2, momentum=0.7, nesterov=True, weight_decay=0.05),
                          SGDRef(momentum=0.7, nesterov=True, weight_decay=0.05)),
    "lr_inside": (SGD(lr=0.2, momentum=0.8, momentum_form="lr_inside", dampening=0.2),
                  SGDRef(momentum=0.8, momentum_form="lr_inside", dampening=0.2)),
    "ema_nesterov": (SGD(lr=0.4, momentum=0.6, momentum_form="ema", nesterov=True),
                     SGDRef(momentum=0.6, momentum_form="ema", nesterov=True)),
    "maximize": (SGD(lr=0.05, maximize=True, weight_decay=0.3), SGDRef(maximize=True, weight_decay=0.3)),
    "nag": (NAG(lr=0.2, momentum=0.8, weight_decay=0.05), NAGRef(momentum=0.8, weight_decay=0.05)),
    "sf": (ScheduleFreeSGD(lr=0.5, momentum=0.9), ScheduleFreeRef(momentum=0.9)),
    "sf_options": (ScheduleFreeSGD(lr=0.5, momentum=0.8, warmup_steps=5, r=1.0, weight_lr_power=1.0,
                                   warmup_index="optax", decay_at="z", weight_decay=0.1),
                   ScheduleFreeRef(momentum=0.8, warmup_steps=5, r=1.0, weight_lr_power=1.0, warmup_index="optax",
                                   decay_at="z", weight_decay=0.1)),
}

SCHEDULES = {
    "constant": None,
    "cosine": CosineAnnealing(T_max=STEPS),
    "wsd": WSD(total_steps=STEPS, warmup_steps=5, decay_fraction=0.3),
    "warmup_cosine": WarmupCosine(warmup_steps=5, decay_steps=STEPS),
}


def _oracle_inputs(problem, noise):
    """H, c, x0, noise covariance and start covariance in the problem's own coordinates."""
    if isinstance(problem, NoisyQuadraticModel):
        h = problem.curvatures()
        H, c, x0 = np.diag(h), np.zeros(h.size), np.ones(h.size)
        cov = np.diag(h / problem.batch_size) if problem.batch_size is not None else np.zeros((h.size, h.size))
        start = np.eye(h.size) if problem.random_start else None
        x0 = np.zeros(h.size) if problem.random_start else x0  # x0 ~ N(0, I)
    elif isinstance(problem, LinearRegression):
        H, c, _ = _regression_parts(problem)
        x0, cov, start = problem.start_point(), np.zeros_like(H), None
    else:
        H, c, x0 = problem.hessian(), problem.center_(), problem.start_point()
        cov, start = np.zeros_like(H), None
    if isinstance(noise, Gaussian):
        s = np.ones(H.shape[0]) if noise.scale is None else np.asarray(noise.scale, float)
        cov = cov + np.diag(noise.sigma ** 2 * s ** 2)
    elif isinstance(noise, CurvatureScaled):  # a regression has no hessian(): its diagonal
        cov = cov + (np.diag(np.diag(H)) if isinstance(problem, LinearRegression) else H) / noise.batch_size
    return H, c, x0, cov, start


def _compare(problem, noise, rule, ref, schedule, averaging=None, ema_decay=0.9, ema_start="x1"):
    rates = np.full(STEPS, rule.lr) if schedule is None else schedule.learning_rates(STEPS, rule.lr)
    H, c, x0, cov, start = _oracle_inputs(problem, noise)
    mean, C, lm, lv = moments.moments(ref, H, c, x0, STEPS, lambda k: rates[k], cov, start, averaging, ema_decay,
                                      ema_start)
    dyn = expected.expected_dynamics(problem, rule, noise, schedule, STEPS, averaging=averaging, ema_decay=ema_decay,
                                     ema_start=ema_start)
    if isinstance(problem, LinearRegression):
        lm = lm + _regression_parts(problem)[2]
    scale = max(1.0, float(np.max(np.abs(lm))))
    np.testing.assert_allclose(dyn.loss_mean, lm, rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_allclose(dyn.loss_var, lv, rtol=1e-8, atol=1e-12 * scale ** 2)
    np.testing.assert_allclose(dyn.mean, mean, rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_allclose(dyn.var, np.einsum("tii->ti", C), rtol=1e-8, atol=1e-12 * scale)
    assert dyn.exact


@pytest.mark.parametrize("rule", list(RULES))
@pytest.mark.parametrize("case", ["diag/gauss/constant", "rotated/gauss_scaled/cosine", "nqm/curv/wsd",
                                  "nqm_random/gauss/warmup_cosine", "rotated/curv/constant", "diag/none/cosine",
                                  "regression/curv/cosine"])
def test_recursion_matches_superposition_oracle(rule, case):
    pname, nname, sname = case.split("/")
    opt, ref = RULES[rule]
    _compare(_problems()[pname], NOISES[nname], opt, ref, SCHEDULES[sname])


@pytest.mark.parametrize("averaging", ["polyak", "ema", "ema_x0"])
@pytest.mark.parametrize("rule", ["sgd", "torch_damp", "nag", "sf"])
def test_averaged_iterates_match_oracle(rule, averaging):
    opt, ref = RULES[rule]
    start = "x0" if averaging == "ema_x0" else "x1"
    _compare(_problems()["rotated"], NOISES["gauss_scaled"], opt, ref, SCHEDULES["cosine"], averaging[:3]
             if averaging != "polyak" else averaging, 0.8, start)


def test_nqm_closed_forms_are_kept():
    p = NoisyQuadraticModel(dim=12)
    for m in (0.0, 0.9):
        got = expected.expected_loss(p, SGD(lr=0.4, momentum=m), CurvatureScaled(batch_size=2.0), steps=300)
        np.testing.assert_allclose(got, p.expected_loss(300, 0.4, batch_size=2.0, momentum=m), rtol=1e-12)


def test_stationary_risk_closed_forms():
    h, sig2, lr = np.array([0.2, 1.0, 3.0]), 0.25, 0.3
    p = Quadratic(curvatures=h)
    sgd = expected.stationary_risk(p, SGD(lr=lr), Gaussian(sigma=math.sqrt(sig2)))
    # SGD: Var x_i = lr sigma^2 / (h_i (2 - lr h_i))
    assert sgd == pytest.approx(0.5 * np.sum(h * lr * sig2 / (h * (2 - lr * h))), rel=1e-12)
    mu = 0.7
    hb = expected.stationary_risk(p, SGD(lr=lr, momentum=mu), Gaussian(sigma=math.sqrt(sig2)))
    # heavy ball: Var x = lr sigma^2 (1 + mu) / (h (1 - mu) (2 (1 + mu) - lr h))
    var = lr * sig2 * (1 + mu) / (h * (1 - mu) * (2 * (1 + mu) - lr * h))
    assert hb == pytest.approx(0.5 * np.sum(h * var), rel=1e-10)
    # the recursion settles on it, and an unstable rate has infinite risk
    long = expected.expected_loss(p, SGD(lr=lr, momentum=mu), Gaussian(sigma=math.sqrt(sig2)), steps=3000)
    assert long[-1] == pytest.approx(hb, rel=1e-9)
    assert expected.stationary_risk(p, SGD(lr=0.9), Gaussian(sigma=0.5)) == math.inf
    ema = expected.stationary_risk(p, SGD(lr=lr), Gaussian(sigma=0.5), averaging="ema", ema_decay=0.9)
    assert 0 < ema < sgd


def test_steps_to_target_against_the_closed_form():
    p = NoisyQuadraticModel(dim=20)
    o, noise = SGD(lr=0.5), CurvatureScaled(batch_size=16.0)
    target = 0.05
    curve = [0.5 * p.curvatures() @ s for s in theory.nqm_sgd_second_moment(p.curvatures(), 0.5, 2000, 16.0)]
    first = next(t for t, v in enumerate(curve) if v <= target)
    assert expected.steps_to_target(p, o, target, noise, max_steps=2000) == first
    assert expected.steps_to_target(p, o, 1e-9, noise, max_steps=2000) == -1


def test_theory_reexports_and_coverage():
    assert theory.expected_dynamics is expected.expected_dynamics
    p = NoisyQuadraticModel(dim=3)
    assert expected.has_exact_recursion(p, SGD(), CurvatureScaled())
    assert not expected.has_exact_recursion(p, Adam(), CurvatureScaled())
    assert not expected.has_exact_recursion(optsim.problems.Rosenbrock(), SGD())
    assert not expected.has_exact_recursion(p, SGD(), optsim.noise.StudentT(nu=2.0))
    assert not expected.has_exact_recursion(p, SGD(), optsim.noise.AlphaStable())
    assert expected.has_exact_recursion(p, SGD(), optsim.noise.StudentT(nu=5.0))
    with pytest.raises(expected.NoRecursion):
        expected.expected_dynamics(p, Adam(), CurvatureScaled(), steps=3)


@pytest.mark.parametrize("call, match", [
    (lambda p: expected.expected_dynamics(p, SGD(), steps=-1), "steps=-1"),
    (lambda p: expected.expected_dynamics(p, SGD(), steps=3, averaging="swa"), "averaging='swa'"),
    (lambda p: expected.expected_dynamics(p, SGD(), steps=3, averaging="ema", ema_decay=1.0), "ema_decay=1.0"),
    (lambda p: expected.steps_to_target(p, SGD(), math.nan), "target=nan"),
    (lambda p: expected.expected_dynamics(p, SGD(), steps=3, averaging="ema", ema_start="x2"), "ema_start='x2'"),
    (lambda p: expected.expected_curve({"x": 1}, var="grad_norm"), "var='grad_norm'"),
])
def test_bad_input(call, match):
    with pytest.raises(optsim.ParameterError, match=match):
        call(NoisyQuadraticModel(dim=3))


# -- Monte Carlo against the exact curve ------------------------------------------------------

REPS = 4000
MC_STEPS = 40


def _mc_cases():
    sched = {"cos": CosineAnnealing(T_max=MC_STEPS), "wsd": WSD(total_steps=MC_STEPS, warmup_steps=4),
             "wc": WarmupCosine(warmup_steps=4, decay_steps=MC_STEPS)}
    methods = {
        "sgd": SGD(lr=0.3),
        "sgd_cos": (SGD(lr=0.3), sched["cos"]),
        "hb_wsd": (SGD(lr=0.1, momentum=0.8), sched["wsd"]),
        "nesterov_wc": (SGD(lr=0.1, momentum=0.8, nesterov=True), sched["wc"]),
        "nag": NAG(lr=0.1, momentum=0.8),
        "lr_inside_cos": (SGD(lr=0.1, momentum=0.8, momentum_form="lr_inside"), sched["cos"]),
        "sf": ScheduleFreeSGD(lr=0.5, momentum=0.9),
        "sf_warm": (ScheduleFreeSGD(lr=0.5, momentum=0.9, warmup_steps=5), sched["cos"]),
    }
    return {
        "nqm_curv": (NoisyQuadraticModel(dim=4), CurvatureScaled(batch_size=2.0), methods),
        "rotated_gauss": (Quadratic(curvatures=[0.3, 1.0, 2.0], rotation_seed=1, center=[0.5, 0.0, -0.5]),
                          Gaussian(sigma=0.4, scale=[1.0, 0.5, 2.0]), methods),
        "regression_curv": (LinearRegression(n_train=20, n_test=0, n_features=3, noise=0.5, l2=0.01),
                            CurvatureScaled(batch_size=4.0), methods),
    }


def _z_scores(ds):
    exact = expected.expected_curve(ds)
    sd = expected.expected_curve(ds, stat="std")
    reps = ds.sizes["replicate"]
    mc = ds["loss"].mean("replicate")
    live = sd > 0
    z = ((mc - exact) / (sd / math.sqrt(reps))).where(live)
    # where the exact spread is zero (the fixed start) Monte Carlo must equal the mean exactly
    np.testing.assert_allclose(mc.where(~live).values, exact.where(~live).values, rtol=1e-12, equal_nan=True)
    return z, ds["loss"].var("replicate") / (sd * sd)


def _bonferroni(n, alpha=1e-3):
    return float(norm.isf(alpha / (2 * n)))


def _check_mc(reps, alpha=1e-3):
    zs = []
    for name, (problem, noise, methods) in _mc_cases().items():
        ds = optsim.sweep(problem, methods, noise=noise, grid={"lr": [0.05, 0.2]}, replicates=reps,
                          steps=MC_STEPS, record_every=4, seed=11)
        z, ratio = _z_scores(ds)
        zs.append(z.values[np.isfinite(z.values)])
        r = ratio.values[np.isfinite(ratio.values)]
        # the sample variance of a Gaussian quadratic form (kurtosis <= 15) has a relative
        # standard error <= sqrt(14 / n): five of them
        tol = 5.0 * math.sqrt(14.0 / reps)
        assert np.all(np.abs(r - 1.0) < tol), f"{name}: variance ratio {r.min():.3f}..{r.max():.3f}, tol {tol:.3f}"
    z = np.concatenate(zs)
    bound = _bonferroni(z.size, alpha)
    print(f"max |z| = {np.max(np.abs(z)):.2f} over {z.size} z-scores (bound {bound:.2f})")
    assert np.max(np.abs(z)) < bound, f"max |z| = {np.max(np.abs(z)):.2f} over {z.size} >= {bound:.2f}"
    return z


def test_monte_carlo_agrees_with_exact_curve():
    _check_mc(REPS)


@pytest.mark.slow
def test_monte_carlo_agrees_with_exact_curve_many_replicates():
    _check_mc(40_000)


# -- the linearized (frozen-preconditioner) Adam ----------------------------------------------


def test_linearized_adam_agrees_late_and_not_early():
    p, noise = NoisyQuadraticModel(dim=5), CurvatureScaled(batch_size=2.0)
    ds = optsim.sweep(p, Adam(beta2=0.99), noise=noise, grid={"lr": [0.01, 0.03]}, replicates=1000, steps=3000,
                      record_steps=[100, 300, 2000, 3000], seed=3)
    lin = expected.expected_curve(ds, linearize=True)
    assert lin.attrs["exact"] is False
    assert expected.expected_curve(ds) is None  # no exact recursion for Adam
    ratio = ds["loss"].mean("replicate") / lin
    late = ratio.sel(step=[2000, 3000]).values
    assert np.all(np.abs(late - 1.0) < 0.05), late  # late, small lr: within 5%
    assert float(ratio.sel(lr=0.01, step=100)) > 1.3  # early the preconditioner has not settled
    for lr in (0.01, 0.03):
        risk = expected.stationary_risk(p, Adam(lr=lr, beta2=0.99), noise, linearize=True)
        assert risk == pytest.approx(float(ds["loss"].sel(lr=lr, step=3000).mean()), rel=0.05)
    # the frozen denominators are sqrt(h / B) + eps: Zhang et al.'s H^(-1/2) preconditioner
    d = expected.frozen_preconditioner(p, Adam(), noise)
    np.testing.assert_allclose(d, np.sqrt(p.curvatures() / 2.0) + 1e-8, rtol=1e-15)
    rms = expected.frozen_preconditioner(p, RMSprop(eps_inside=True, eps=1e-3), noise)
    np.testing.assert_allclose(rms, np.sqrt(p.curvatures() / 2.0 + 1e-3), rtol=1e-15)


# -- expected_curve on a sweep's grid, and the overlays ---------------------------------------


def test_expected_curve_follows_the_sweep_grid():
    p = NoisyQuadraticModel(dim=3)
    methods = {"sgd": SGD(lr=0.1), "rms": RMSprop(lr=0.01), "hb": (SGD(lr=0.1, momentum=0.5), CosineAnnealing(T_max=9))}
    ds = optsim.sweep(p, methods, noise=CurvatureScaled(batch_size=4.0),
                      grid={"noise.batch_size": [1.0, 8.0], "lr,momentum": [(0.1, 0.5), (0.2, 0.3)]},
                      replicates=2, steps=9, record_every=3, record=("loss", "params"))
    ex = expected.expected_curve(ds)
    assert ex.dims == ds["loss"].dims[:-2] + ("step",)
    assert list(ex["optimizer"].values) == list(ds["optimizer"].values)
    assert np.isnan(ex.sel(optimizer="rms")).all() and np.isfinite(ex.sel(optimizer="hb")).all()
    batch = next(d for d in ex.dims if d not in ("optimizer", "lr_momentum", "step"))
    for i, b in enumerate((1.0, 8.0)):
        want = expected.expected_loss(p, SGD(lr=0.2, momentum=0.3), CurvatureScaled(batch_size=b),
                                      CosineAnnealing(T_max=9), steps=9)[::3]
        got = ex.sel(optimizer="hb").isel({"lr_momentum": 1, batch: i})
        np.testing.assert_allclose(got.values, want, rtol=1e-12)
    from optsim import plotting

    with plotting.use_style():  # the overlay finds the point of a zipped axis by its coordinates
        fig, ax = plotting.new_figure(1, 1)
        one = ds["loss"].sel(optimizer="hb").isel({"lr_momentum": 1, batch: 0})
        plotting.plot_band(ax, one, spec=ds.attrs["optsim_spec"])
        (line,) = _exact_lines(fig)
        np.testing.assert_allclose(line.get_ydata(), ex.sel(optimizer="hb").isel({"lr_momentum": 1, batch: 0}))
    params = expected.expected_curve(ds, var="params", stat="var")
    assert params.dims[-2:] == ("step", "param")
    assert expected.expected_curve(optsim.sweep(optsim.problems.Rosenbrock(), SGD(), steps=3)) is None


def _exact_lines(fig):
    return [line for ax in fig.axes for line in ax.get_lines() if line.get_linestyle() == "--"]


def test_overlays_in_the_overview_figure():
    from optsim import plotting

    p = NoisyQuadraticModel(dim=3)
    ds = optsim.sweep(p, SGD(momentum=0.5), noise=CurvatureScaled(batch_size=4.0), grid={"lr": [0.05, 0.2]},
                      replicates=8, steps=20, record_every=5)
    fig = plotting.summary_figure(ds)
    lines = _exact_lines(fig)
    assert len(lines) == 2
    want = expected.expected_curve(ds).sel(lr=0.2).values
    assert any(np.allclose(line.get_ydata(), want, rtol=1e-12) for line in lines)
    labels = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert plotting.EXACT_LABEL in labels
    assert _exact_lines(plotting.summary_figure(ds, exact=False)) == []
    multi = optsim.sweep(p, {"sgd": SGD(), "adam": Adam()}, noise=CurvatureScaled(batch_size=4.0),
                         grid={"lr": [0.05, 0.2]}, replicates=8, steps=20, record_every=5)
    assert len(_exact_lines(plotting.summary_figure(multi))) == 1  # sgd has one, adam none
    with plotting.use_style():
        fig, ax = plotting.new_figure(1, 1)
        plotting.plot_band(ax, ds["loss"].sel(lr=0.05), spec=ds)
        assert len(_exact_lines(fig)) == 1
        fig, ax = plotting.new_figure(1, 1)
        plotting.plot_band(ax, ds["loss"].sel(lr=0.05))  # no spec: nothing to draw
        assert _exact_lines(fig) == []


def test_overlay_in_the_reduced_overview():
    from optsim import plotting

    ds = optsim.sweep(NoisyQuadraticModel(dim=3), {"sgd": SGD(), "nag": NAG()}, noise=CurvatureScaled(batch_size=4.0),
                      grid={"lr": [0.05, 0.2]}, replicates=8, steps=20, record_every=5, reduce=["mean", "quantiles"])
    lines = _exact_lines(plotting.summary_figure(ds))
    assert len(lines) == 2
    assert _exact_lines(plotting.summary_figure(ds, exact=False)) == []


@pytest.mark.parametrize("averaging", ["polyak", "ema"])
def test_monte_carlo_of_averaged_iterates(averaging):
    """The average of the recorded iterates, formed here, against the averaged recursion."""
    p = Quadratic(curvatures=CURV, rotation_seed=2, center=[0.2, 0.0, -0.3])
    opt, noise, sched = SGD(lr=0.3, momentum=0.5), Gaussian(sigma=0.5), CosineAnnealing(T_max=MC_STEPS)
    ds = optsim.sweep(p, opt, noise=noise, schedule=sched, replicates=REPS, steps=MC_STEPS, record_every=1,
                      record=("params",), seed=5)
    xs = ds["params"].transpose("replicate", "step", "param").values
    avg = np.stack([moments.average(x, averaging, 0.8) for x in xs])
    z0 = avg - p.center_()
    loss = 0.5 * np.einsum("rti,ij,rtj->rt", z0, p.hessian(), z0)
    dyn = expected.expected_dynamics(p, opt, noise, sched, MC_STEPS, averaging=averaging, ema_decay=0.8)
    sd = np.sqrt(dyn.loss_var[1:])
    z = (loss.mean(0)[1:] - dyn.loss_mean[1:]) / (sd / math.sqrt(REPS))
    assert np.max(np.abs(z)) < _bonferroni(z.size), np.max(np.abs(z))


def test_student_t_noise_mean_is_exact():
    """Heavy-tailed noise with a finite variance: the mean loss is still exact (no Gaussian
    fourth moments, so the loss variance is NaN and the z-scores use the sample one)."""
    p = Quadratic(curvatures=CURV, rotation_seed=4)
    noise = optsim.noise.StudentT(nu=6.0, scale=0.5)
    methods = {"hb": (SGD(lr=0.2, momentum=0.7), CosineAnnealing(T_max=MC_STEPS)), "sf": ScheduleFreeSGD(lr=0.5)}
    ds = optsim.sweep(p, methods, noise=noise, replicates=REPS, steps=MC_STEPS, record_every=4, seed=9)
    exact = expected.expected_curve(ds)
    assert np.isnan(expected.expected_curve(ds, stat="var")).all()
    loss = ds["loss"].isel(step=slice(1, None))
    z = (loss.mean("replicate") - exact.isel(step=slice(1, None))) / (loss.std("replicate") / math.sqrt(REPS))
    assert float(np.abs(z).max()) < _bonferroni(z.size)
    # its variance per coordinate is s^2 nu / (nu - 2), as Gaussian noise of that variance
    same = expected.expected_dynamics(p, SGD(lr=0.2), Gaussian(sigma=0.5 * math.sqrt(1.5)), steps=10)
    got = expected.expected_dynamics(p, SGD(lr=0.2), noise, steps=10)
    np.testing.assert_allclose(got.loss_mean, same.loss_mean, rtol=1e-12)
    assert not got.gaussian and np.isnan(got.loss_var).all()
