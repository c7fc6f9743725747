"""Where the SDE approximation of SGD and Adam holds, where it breaks, and its scaling rules.

Four experiments, each on paths the library couples to the discrete optimizer
(:mod:`optsim.sde`):

(a) weak error against the learning rate and the batch size: SGD on a quadratic with
    curvature-scaled (NQM) noise of batch B, over a fixed time T, against the first- and
    second-order SMEs of Li, Tai & E (stochastic Heun, substeps); the Monte-Carlo weak error
    |E f(X_T) - E f(x_K)| (paired on the shared increments) beside the exact one from the
    closed forms;
(b) noise type: Gaussian, Student-t (nu = 3, unit variance) and symmetric alpha-stable
    (alpha = 1.5, the scale of a unit-variance Gaussian) gradient noise against the Gaussian
    SME: the Kolmogorov-Smirnov distance between the laws of x_K and X_T, against the lr;
(c) the square-root scaling rule of Malladi et al. (2022) for Adam (batch kappa B, lr
    sqrt(kappa) eta, 1 - beta -> kappa (1 - beta), eps -> eps/sqrt(kappa), 1/kappa as many
    steps) against the linear rule (lr kappa eta), on the NQM (curvature-scaled noise) and
    on a linear regression (minibatches with replacement, i.i.d. noise as the SDEs assume,
    and without: random reshuffling, whose noise is correlated within an epoch);
(d) SVAG (Li, Malladi & Arora 2021): l steps of lr eta/l with amplified noise, at a large
    lr where SGD is not yet its SME, converging to the SME's closed form as l grows, for
    Gaussian and Student-t noise;
(e) the SDEs of Adam and RMSprop (Malladi et al. 2022) against the discrete rules, coupled,
    as eta -> 0 with sigma = sigma0/eta, 1 - beta = c eta^2 (their scaling).

Verdicts (``studies._criteria``, 99% intervals): the weak errors and slopes with normal intervals
from the paired Monte-Carlo SEs (Bonferroni over cells, batch sizes or lrs; the orders fitted on
the three smallest lrs, as the weak order is a statement as eta -> 0); the KS distances with the
two-sample KS interval c(alpha) sqrt(2/n) against a tolerance of 0.05 ("agree" below, "break"
above); the scaling rules and reshuffling by paired bootstraps over replicates; SVAG and the
adaptive SDEs by delta-method ratios.  At the quick scale the Student-t trend, the NQM's sqrt
rule and SVAG are inconclusive (within the Monte-Carlo error of 256-4000 replicates); at the
paper scale only the Student-t trend is.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr
from scipy import stats

import optsim
import optsim.sde as sde
from optsim.noise import AlphaStable, CurvatureScaled, Gaussian, Minibatch, StudentT
from optsim.optimizers import SGD, Adam, RMSprop
from optsim.problems import LinearRegression, Quadratic

from studies._criteria import LEVEL, bootstrap_interval, judge, normal_interval

NAME = "sde_scaling"
TITLE = "Where the SDE approximation of SGD and Adam holds, and its scaling rules"
QUESTION = (
    "How large is the weak error of the SDE approximation of SGD across learning rates, batch sizes "
    "and noise types, does heavy-tailed noise break it, does the square-root scaling rule keep Adam's "
    "trajectory fixed across batch sizes where the linear rule does not, and does SVAG reach the SDE "
    "limit?"
)
HYPOTHESIS = (
    "The weak error of the first-order SME falls like eta and that of the second-order like eta^2 at "
    "every batch size; with Gaussian noise the laws of x_K and X_T become indistinguishable at small "
    "lr, with Student-t noise they approach slowly, with alpha-stable noise they do not; the "
    "square-root rule keeps Adam's final loss within 10% across kappa = 1..8 on the NQM and a "
    "regression while the linear rule does not; SVAG's gap to the SME shrinks to within its standard "
    "error by l = 16; the SDEs of Adam and RMSprop approach the discrete rules as lr falls under their scaling."
)

#: tiny: about 5 s of compute (the tests); quick: about 1 minute of CPU (56 s wall on two busy cores);
#: paper: 564 s of CPU, 22 minutes wall on two cores shared with other runs, peak memory 370 MB (measured).
SCALES = {
    "tiny": {"lrs": [0.1, 0.05, 0.025], "batches": [1.0, 64.0], "time": 2.0, "reps": 400, "substeps": 4,
             "noise_lrs": [0.2, 0.05], "noise_reps": 400, "noise_substeps": 2, "kappas": [1, 4], "steps0": 400,
             "scale_reps": 128,
             "ells": [1, 4, 16], "svag_reps": 400, "adaptive_lrs": [0.04, 0.02], "adaptive_reps": 200},
    "quick": {"lrs": [0.1, 0.05, 0.025], "batches": [1.0, 64.0], "time": 2.0, "reps": 1000, "substeps": 8,
              "noise_lrs": [0.2, 0.05, 0.0125], "noise_reps": 4000, "noise_substeps": 2, "kappas": [1, 2, 4, 8],
              "steps0": 1600, "scale_reps": 256, "ells": [1, 2, 4, 8, 16], "svag_reps": 4000,
              "adaptive_lrs": [0.04, 0.02, 0.01], "adaptive_reps": 400},
    "paper": {"lrs": [0.2, 0.1, 0.05, 0.025, 0.0125], "batches": [1.0, 8.0, 64.0], "time": 2.0,
              "reps": 10000, "substeps": 8, "noise_lrs": [0.2, 0.1, 0.05, 0.025, 0.0125, 0.00625],
              "noise_reps": 20000, "noise_substeps": 4, "kappas": [1, 2, 4, 8], "steps0": 8000, "scale_reps": 1024,
              "ells": [1, 2, 4, 8, 16, 32, 64], "svag_reps": 40000, "adaptive_lrs": [0.04, 0.02, 0.01, 0.005],
              "adaptive_reps": 2000},
}

FIGURES = ["sde_scaling_weak_error", "sde_scaling_rules"]

CURVATURES = (1.0, 4.0)
NOISES = {
    "gaussian": Gaussian(sigma=1.0),
    "student_t(3)": StudentT(nu=3.0, scale=1.0 / math.sqrt(3.0)),  # unit variance
    "alpha_stable(1.5)": AlphaStable(alpha=1.5, scale=1.0 / math.sqrt(2.0)),  # the scale of N(0, 1)
}
#: Adam's base settings for the scaling rules (beta1 = 0.9 allows kappa up to 9 under the sqrt rule).
ADAM = Adam(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8)
#: The NQM (h_i = 1/i) from its optimum, where the noise dominates the gradient (the SDE's regime).
NQM = Quadratic(curvatures=[1.0 / i for i in range(1, 9)], x0=[0.0] * 8)
NQM_BATCH = 1.0
REGRESSION = LinearRegression(n_train=256, n_test=0, n_features=8, noise=0.5, data_seed=0)
REGRESSION_BATCH = 4
#: Minibatches with replacement (i.i.d. noise, the SDE's model) and without (random reshuffling).
SAMPLINGS = {"with_replacement": True, "without_replacement": False}
SVAG_LR = 0.2
#: SVAG's gap at the largest l, as a share of the l = 1 gap, below which it has reached the SME
SVAG_SHRINK = 0.25
#: Malladi et al.'s scaling for (e): sigma = SIGMA0/eta, 1 - beta1 = C1 eta^2, 1 - beta2 (RMSprop's
#: 1 - alpha) = C2 eta^2, over the SDE time ADAPTIVE_TIME = K eta^2.
SIGMA0, C1, C2, ADAPTIVE_TIME = 0.02, 250.0, 2.5, 0.4
KS_LEVEL = 1.628  # c(0.01) of the two-sample Kolmogorov-Smirnov test: D > c sqrt(2/n) rejects at 1%


def _quadratic():
    return Quadratic(curvatures=list(CURVATURES))


def _exact_loss(mean, var):
    h = np.asarray(CURVATURES)
    return float(np.sum(0.5 * h * (mean ** 2 + var)))


def _weak(cfg, seed=0):
    """(a): paired weak errors of the SMEs of order 1 and 2, and the exact ones."""
    p = _quadratic()
    h = np.asarray(CURVATURES)
    T = cfg["time"]
    shape = (len(cfg["lrs"]), len(cfg["batches"]), 2)
    mc, se, exact, ef_discrete = (np.empty(shape) for _ in range(4))
    for i, lr in enumerate(cfg["lrs"]):
        steps = int(round(T / lr))
        for j, B in enumerate(cfg["batches"]):
            noise = CurvatureScaled(batch_size=B)
            md, vd = sde.sgd_quadratic_moments(h, [1, 1], [0, 0], h / B, lr, steps)
            for k, order in enumerate((1, 2)):
                ds = sde.coupled_paths(p, SGD(lr=lr), noise, steps=steps, replicates=cfg["reps"], seed=1 + seed,
                                       substeps=cfg["substeps"], scheme="heun", order=order)
                diff = (ds["loss_sde"] - ds["loss_discrete"]).isel(step=-1).values
                mc[i, j, k] = diff.mean()
                se[i, j, k] = diff.std(ddof=1) / math.sqrt(diff.size)
                ms, vs = sde.sme_quadratic_moments(h, [1, 1], [0, 0], h / B, lr, steps * lr, order=order)
                exact[i, j, k] = _exact_loss(ms, vs) - _exact_loss(md, vd)
                ef_discrete[i, j, k] = _exact_loss(md, vd)
    dims = ("lr", "batch_size", "order")
    out = xr.Dataset({"weak_error": (dims, mc), "weak_error_se": (dims, se), "weak_error_exact": (dims, exact),
                      "loss_discrete_exact": (dims, ef_discrete)},
                     coords={"lr": cfg["lrs"], "batch_size": cfg["batches"], "order": [1, 2]})
    out.attrs.update(time=T, replicates=cfg["reps"], substeps=cfg["substeps"], curvatures=list(CURVATURES))
    return out


def _ks(a, b):
    """The two-sample Kolmogorov-Smirnov distance sup |F_a - F_b|."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, "right") / a.size
    fb = np.searchsorted(b, grid, "right") / b.size
    return float(np.max(np.abs(fa - fb)))


def _noise(cfg, seed=0):
    """(b): KS distance of x_K and X_T (the stiff coordinate, h = 4) per noise type and lr."""
    p = _quadratic()
    T = cfg["time"]
    names = list(NOISES)
    ks, med_d, med_s = (np.empty((len(names), len(cfg["noise_lrs"]))) for _ in range(3))
    for a, name in enumerate(names):
        for i, lr in enumerate(cfg["noise_lrs"]):
            ds = sde.coupled_paths(p, SGD(lr=lr), NOISES[name], steps=int(round(T / lr)), replicates=cfg["noise_reps"],
                                   seed=2 + seed, substeps=cfg["noise_substeps"], scheme="heun")
            xd = ds["x_discrete"].isel(step=-1, coord=1).values
            xs = ds["x_sde"].isel(step=-1, coord=1).values
            ks[a, i] = _ks(xd, xs)
            med_d[a, i] = np.median(np.abs(xd))
            med_s[a, i] = np.median(np.abs(xs))
    dims = ("noise", "lr")
    out = xr.Dataset({"ks": (dims, ks), "median_abs_discrete": (dims, med_d), "median_abs_sde": (dims, med_s)},
                     coords={"noise": names, "lr": cfg["noise_lrs"]})
    out.attrs.update(time=T, replicates=cfg["noise_reps"],
                     ks_critical=KS_LEVEL * math.sqrt(2.0 / cfg["noise_reps"]), ks_level=0.01)
    return out


def _scaling(cfg, problem, noise_of, name, floor=0.0, seed=0):
    """(c): Adam under the sqrt and linear rules: the loss above ``floor`` at the same fractions
    of training (kappa = 1: ``steps0`` steps; kappa: steps0/kappa)."""
    kappas = cfg["kappas"]
    n_rec = 20
    frac = np.linspace(0.0, 1.0, n_rec + 1)
    loss = np.empty((2, len(kappas), cfg["scale_reps"], n_rec + 1))
    for r, rule in enumerate(("sqrt", "linear")):
        for k, kappa in enumerate(kappas):
            steps = cfg["steps0"] // kappa
            opt = sde.scale_rule(ADAM, kappa, rule)
            ds = optsim.sweep(problem, opt, noise=noise_of(kappa), steps=steps, replicates=cfg["scale_reps"],
                              seed=4 + seed, record_every=steps // n_rec)
            loss[r, k] = ds["loss"].squeeze(drop=True).transpose("replicate", "step").values - floor
    out = xr.Dataset({"loss": (("rule", "kappa", "replicate", "frac"), loss)},
                     coords={"rule": ["sqrt", "linear"], "kappa": kappas, "replicate": np.arange(cfg["scale_reps"]),
                             "frac": frac})
    out.attrs.update(problem=name, steps0=cfg["steps0"], lr0=ADAM.lr, beta1=ADAM.beta1, beta2=ADAM.beta2,
                     floor=floor)
    return out


def _regression_floor():
    w = REGRESSION.optimum()
    return float(type(REGRESSION).kernels["objective"](w, REGRESSION.row(), REGRESSION.data()))


def _svag(cfg, seed=0):
    """(d): SVAG's E f at time T against the SME's closed form, per noise and l."""
    p = _quadratic()
    h = np.asarray(CURVATURES)
    steps = int(round(cfg["time"] / SVAG_LR))
    names = ["gaussian", "student_t(3)"]
    gap, se = (np.empty((len(names), len(cfg["ells"]))) for _ in range(2))
    ms, vs = sde.sme_quadratic_moments(h, [1, 1], [0, 0], [1.0, 1.0], SVAG_LR, steps * SVAG_LR)
    target = _exact_loss(ms, vs)
    for a, name in enumerate(names):
        for i, ell in enumerate(cfg["ells"]):
            ds = sde.svag_paths(p, NOISES[name], lr=SVAG_LR, ell=ell, steps=steps, replicates=cfg["svag_reps"],
                                seed=3 + seed)
            f = ds["loss"].isel(step=-1).values
            gap[a, i] = f.mean() - target
            se[a, i] = f.std(ddof=1) / math.sqrt(f.size)
    dims = ("noise", "ell")
    out = xr.Dataset({"gap": (dims, gap), "gap_se": (dims, se)}, coords={"noise": names, "ell": cfg["ells"]})
    out.attrs.update(lr=SVAG_LR, time=cfg["time"], sme_loss=target, replicates=cfg["svag_reps"])
    return out


def _adaptive(cfg, seed=0):
    """(e): the paired weak error of the SDEs of Adam and RMSprop as eta -> 0 under their scaling."""
    p = _quadratic()
    rules = ["adam", "rmsprop"]
    err, se, ef = (np.empty((2, len(cfg["adaptive_lrs"]))) for _ in range(3))
    for a, rule in enumerate(rules):
        for i, eta in enumerate(cfg["adaptive_lrs"]):
            if rule == "adam":
                opt = Adam(lr=eta, beta1=1.0 - C1 * eta ** 2, beta2=1.0 - C2 * eta ** 2, eps=1e-8)
            else:
                opt = RMSprop(lr=eta, alpha=1.0 - C2 * eta ** 2, eps=1e-8, initial_scale=(SIGMA0 / eta) ** 2)
            ds = sde.coupled_paths(p, opt, Gaussian(sigma=SIGMA0 / eta), steps=int(round(ADAPTIVE_TIME / eta ** 2)),
                                   replicates=cfg["adaptive_reps"], seed=5 + seed, substeps=2, scheme="heun")
            diff = (ds["loss_sde"] - ds["loss_discrete"]).isel(step=-1).values
            err[a, i] = diff.mean()
            se[a, i] = diff.std(ddof=1) / math.sqrt(diff.size)
            ef[a, i] = float(ds["loss_discrete"].isel(step=-1).mean())
    dims = ("rule", "lr")
    out = xr.Dataset({"weak_error": (dims, err), "weak_error_se": (dims, se), "loss_discrete": (dims, ef)},
                     coords={"rule": rules, "lr": cfg["adaptive_lrs"]})
    out.attrs.update(sigma0=SIGMA0, c1=C1, c2=C2, time=ADAPTIVE_TIME, replicates=cfg["adaptive_reps"])
    return out


def run(scale="quick", seed=0):
    """The study's results at ``scale``; ``seed`` offsets every experiment's seed (0: the published runs)."""
    cfg = SCALES[scale]
    out = {"weak": _weak(cfg, seed), "noise": _noise(cfg, seed),
           "scaling_nqm": _scaling(cfg, NQM, lambda kappa: CurvatureScaled(batch_size=NQM_BATCH * kappa), "NQM",
                                   seed=seed)}
    floor = _regression_floor()
    for key, repl in SAMPLINGS.items():
        out[f"scaling_regression_{key}"] = _scaling(
            cfg, REGRESSION, lambda kappa, repl=repl: Minibatch(batch_size=REGRESSION_BATCH * kappa,
                                                               with_replacement=repl),
            f"regression, minibatches {key.replace('_', ' ')}", floor, seed=seed)
    out["svag"] = _svag(cfg, seed)
    out["adaptive"] = _adaptive(cfg, seed)
    return out


def slope(x, y, se):
    """Weighted least-squares slope of log|y| on log x (weights from the relative errors se/|y|) and its SE."""
    lx, ly = np.log(np.asarray(x)), np.log(np.abs(np.asarray(y)))
    w = (np.abs(np.asarray(y)) / np.maximum(np.asarray(se), 1e-300)) ** 2
    xm = np.sum(w * lx) / np.sum(w)
    sxx = np.sum(w * (lx - xm) ** 2)
    b = np.sum(w * (lx - xm) * ly) / sxx
    return float(b), float(1.0 / math.sqrt(sxx))


def final_ratio(loss):
    """Mean final loss at each kappa over kappa = 1's, with the delta-method SE."""
    f = loss.isel(frac=-1)
    m = f.mean("replicate")
    s = f.std("replicate", ddof=1) / math.sqrt(f.sizes["replicate"])
    m1, s1 = m.isel(kappa=0), s.isel(kappa=0)
    ratio = m / m1
    return ratio, ratio * np.sqrt((s / m) ** 2 + (s1 / m1) ** 2)


#: the tolerance of "the laws agree" and "the noise breaks the SME": the KS distance between the
#: laws of x_K and X_T below / above 0.05 (their CDFs within 5 points of probability)
KS_TOLERANCE = 0.05
#: the weak-order fits use the smallest lrs, where the order (a statement as eta -> 0) applies
ORDER_LRS = 3


def _z(m=1):
    """The two-sided normal quantile at :data:`LEVEL`, Bonferroni over ``m`` intervals."""
    return float(stats.norm.ppf(1.0 - (1.0 - LEVEL) / (2 * m)))


def ks_halfwidth(n, m=1):
    """Half-width of the interval of the true KS distance D* around a measured two-sample D.

    |D - D*| <= sup |(F_a,n - F_a) - (F_b,n - F_b)|, whose 1 - alpha quantile is the two-sample
    critical value c(alpha) sqrt(2/n), c(alpha) = sqrt(-ln(alpha/2)/2) (exact for independent
    samples from nearby laws; the coupled samples here are positively dependent, which makes it
    conservative); alpha = (1 - LEVEL)/m (Bonferroni over ``m`` distances).
    """
    alpha = (1.0 - LEVEL) / m
    return math.sqrt(-0.5 * math.log(alpha / 2)) * math.sqrt(2.0 / n)


def _abs_interval(d, se, z):
    """Interval of |delta| from an estimate d of delta with standard error se (normal, quantile z)."""
    d, se = np.abs(np.asarray(d, dtype=float)), np.asarray(se, dtype=float)
    return np.maximum(d - z * se, 0.0), d + z * se


def _ratio(num, num_se, den, den_se=0.0):
    """|num| / |den| and its delta-method standard error (num and den independent)."""
    r = abs(num) / abs(den)
    return r, math.sqrt(num_se ** 2 + (r * den_se) ** 2) / abs(den)


def _max_of(stats_, ses, m=None):
    """The largest of several statistics, with the simultaneous (Bonferroni) normal interval."""
    z = _z(m or len(stats_))
    lo, hi = _abs_interval(stats_, ses, z)
    return float(np.max(np.abs(stats_))), (float(np.max(lo)), float(np.max(hi)))


def verdict(results):
    out = []
    w = results["weak"]
    cells = w["weak_error"].size
    rel = (np.abs(w["weak_error"] - w["weak_error_exact"]) / np.abs(w["weak_error_exact"])).values.ravel()
    rel_se = (w["weak_error_se"] / np.abs(w["weak_error_exact"])).values.ravel()
    agree = np.abs(w["weak_error"] - w["weak_error_exact"]) / w["weak_error_se"]
    out.append({
        "claim": "The coupled Monte-Carlo weak error |E f(X_T) - E f(x_K)| agrees with the closed forms",
        "source": "this study (optsim.sde closed forms: OU for the SME, the linear recursion for SGD)",
        "expected": "|MC - exact| below half the exact weak error at every lr, batch size and order",
        "measured": f"max |MC - exact|/|exact| = {float(rel.max()):.3f}; max |MC - exact|/SE = "
                    f"{float(agree.max()):.2f} over {cells} cells ({w.attrs['replicates']} paired replicates each)",
        **judge(*_max_of(rel, rel_se), 0.5, above=False,
                criterion=f"max over the {cells} cells of |MC - exact| / |exact|, normal intervals from the "
                          f"paired Monte-Carlo SEs, Bonferroni over the cells"),
    })
    big, small_b = w["batch_size"].values.max(), w["batch_size"].values.min()
    lrs = np.sort(w["lr"].values)[:ORDER_LRS]
    for order, batches, where in ((2, w["batch_size"].values, "at every batch size"),
                                  (1, [big], f"where the gradient dominates the noise (B = {big:g})")):
        rows, devs, ses = [], [], []
        for B in w["batch_size"].values:
            sel = w.sel(batch_size=B, order=order, lr=lrs)
            b, sb = slope(sel["lr"].values, sel["weak_error"].values, sel["weak_error_se"].values)
            rows.append(f"B={B:g}: {b:.2f} +- {sb:.2f}")
            if B in batches:
                devs.append(b - order)
                ses.append(sb)
        out.append({
            "claim": f"The weak error in E f of the order-{order} SME of SGD falls like eta^{order}, {where}",
            "source": "Li, Tai & E 2017/2019, Theorems 1 and 3 (weak orders 1 and 2)",
            "expected": f"weighted log-log slope in lr within {order} +- 0.25 over the {len(lrs)} smallest lrs",
            "measured": "slopes " + "; ".join(rows) + f" (lr {lrs.min():g}..{lrs.max():g}, T = {w.attrs['time']:g})",
            **judge(*_max_of(devs, ses), 0.25, above=False,
                    criterion=f"max over B of |slope - {order}| (weighted least squares of ln|weak error| on ln lr, "
                              f"SE from the Monte-Carlo SEs), Bonferroni over {len(devs)} batch size(s)"),
        })
    sel = w.sel(batch_size=small_b)
    e1, e2 = (sel["weak_error"].sel(order=o).values for o in (1, 2))
    s1, s2 = (sel["weak_error_se"].sel(order=o).values for o in (1, 2))
    lnr = np.log(np.abs(e2) / np.abs(e1))
    lnr_se = np.sqrt((s1 / e1) ** 2 + (s2 / e2) ** 2)
    k = int(np.argmin(lnr - _z(lnr.size) * lnr_se))
    out.append({
        "claim": f"Where the noise dominates (B = {small_b:g}) the order-2 correction does not reduce the weak "
                 f"error in E f: the O(eta^2) noise term outweighs the O(eta) drift term",
        "source": "this study (closed forms: the SGD variance eta s^2/(h(2 - eta h)) against eta s^2/(2h) and "
                  "eta s^2/(h(2 + eta h)))",
        "expected": "|error order 2| > |error order 1| at every lr",
        "measured": "order 1: " + ", ".join(f"{v:.2e}" for v in e1) + "; order 2: " + ", ".join(f"{v:.2e}" for v in e2),
        **judge(float(lnr[k]), normal_interval(lnr[k], lnr_se[k], level=1 - (1 - LEVEL) / lnr.size)[1], 0.0,
                criterion=f"min over the lrs of ln(|error order 2| / |error order 1|), delta-method SEs (the orders "
                          f"share their paths, so treating them as independent is conservative), Bonferroni over "
                          f"{lnr.size} lrs"),
    })
    n = results["noise"]
    reps = int(n.attrs["replicates"])
    nl = n.sizes["lr"]
    small = n["lr"].values.min()
    ks_g = float(n["ks"].sel(noise="gaussian", lr=small))
    ks_t = n["ks"].sel(noise="student_t(3)")
    ks_s = n["ks"].sel(noise="alpha_stable(1.5)")
    half = ks_halfwidth(reps)
    tol = KS_TOLERANCE
    out.append({
        "claim": "With Gaussian noise the laws of SGD's x_K and the SME's X_T agree at a small lr",
        "source": "Li, Tai & E 2019 (weak approximation); this study",
        "expected": f"KS distance at lr = {small:g} below {tol:g}",
        "measured": f"KS = {ks_g:.3f} (lr {small:g}); at lr {n['lr'].values.max():g}: "
                    f"{float(n['ks'].sel(noise='gaussian').isel(lr=0)):.3f}; {reps} replicates",
        **judge(ks_g, (max(ks_g - half, 0.0), ks_g + half), tol, above=False,
                criterion="the two-sample KS distance of x_K and X_T (stiff coordinate) at the smallest lr, interval "
                          "from the two-sample KS quantile c sqrt(2/n)"),
    })
    half2 = ks_halfwidth(reps, 2)
    drop = float(ks_t.isel(lr=0)) - float(ks_t.isel(lr=-1))
    out.append({
        "claim": "Student-t noise (nu = 3, the variance of the SME's) approaches the Gaussian SME as lr falls",
        "source": "the hypothesis: a central limit over the relaxation time 1/(2 h eta) steps",
        "expected": "the KS distance falls from the largest to the smallest lr",
        "measured": "KS " + ", ".join(f"{v:.3f}" for v in ks_t.values) + " at lr " +
                    ", ".join(f"{v:g}" for v in n["lr"].values) + " (Gaussian: " +
                    ", ".join(f"{v:.3f}" for v in n["ks"].sel(noise="gaussian").values) + ")",
        **judge(drop, (drop - 2 * half2, drop + 2 * half2), 0.0,
                criterion="KS distance at the largest lr minus at the smallest, each with its two-sample KS "
                          "interval, Bonferroni over the two"),
    })
    half_n = ks_halfwidth(reps, nl)
    lo_s = float(ks_s.min())
    out.append({
        "claim": "Symmetric alpha-stable noise (alpha = 1.5) breaks the Gaussian SME at every lr",
        "source": "Simsekli, Sagun & Gurbuzbalaban 2019 (SGD as a Levy-driven SDE)",
        "expected": f"KS distance above {tol:g} at every lr",
        "measured": "KS " + ", ".join(f"{v:.3f}" for v in ks_s.values) + "; median |x| discrete/SDE at the "
                    f"smallest lr {float(n['median_abs_discrete'].sel(noise='alpha_stable(1.5)', lr=small)):.3f}/"
                    f"{float(n['median_abs_sde'].sel(noise='alpha_stable(1.5)', lr=small)):.3f}",
        **judge(lo_s, (max(lo_s - half_n, 0.0), lo_s + half_n), tol, above=True,
                criterion=f"min over the lrs of the two-sample KS distance, KS intervals Bonferroni over {nl} lrs"),
    })
    for key in ("scaling_nqm", "scaling_regression_with_replacement"):
        s = results[key]
        ratio, rse = final_ratio(s["loss"])
        sq, sq_se = ratio.sel(rule="sqrt"), rse.sel(rule="sqrt")
        li, li_se = ratio.sel(rule="linear"), rse.sel(rule="linear")
        fin = s["loss"].isel(frac=-1).transpose("rule", "kappa", "replicate").values
        R = s.sizes["replicate"]
        out.append({
            "claim": f"The square-root rule keeps Adam's final loss across batch sizes where the linear rule does "
                     f"not ({s.attrs['problem']})",
            "source": "Malladi et al. 2022, Definition 4.3 and Figure 2",
            "expected": "final-loss ratio to kappa = 1: within 10% at every kappa under the sqrt rule, more than "
                        "10% off at the largest kappa under the linear rule",
            "measured": "sqrt " + ", ".join(f"{a:.3f}+-{b:.3f}" for a, b in zip(sq.values, sq_se.values)) +
                        "; linear " + ", ".join(f"{a:.3f}+-{b:.3f}" for a, b in zip(li.values, li_se.values)) +
                        " at kappa " + ", ".join(str(int(k)) for k in s["kappa"].values),
            **judge(*bootstrap_interval(lambda r: _rule_margin(fin[:, :, r]), R), 0.0,
                    criterion=f"the smaller of 0.1 - max_kappa |ratio_sqrt - 1| and |ratio_linear(kappa max) - 1| - "
                              f"0.1 (ratios of mean final losses), paired bootstrap over {R} replicates"),
        })
    rr, wr = results["scaling_regression_without_replacement"], results["scaling_regression_with_replacement"]
    f_rr = rr["loss"].sel(rule="sqrt").isel(kappa=0, frac=-1).values
    f_wr = wr["loss"].sel(rule="sqrt").isel(kappa=0, frac=-1).values
    q = float(f_rr.mean() / f_wr.mean())
    q_se = q * math.sqrt((f_rr.var(ddof=1) / f_rr.mean() ** 2 + f_wr.var(ddof=1) / f_wr.mean() ** 2) / f_rr.size)
    ratio, rse = final_ratio(rr["loss"])
    sq, sq_se = ratio.sel(rule="sqrt"), rse.sel(rule="sqrt")
    out.append({
        "claim": "Minibatches without replacement (random reshuffling) fall outside the SDE's model: their "
                 "excess loss is below that of minibatches with replacement",
        "source": "this study; the SDEs assume noise independent from step to step, which reshuffling is not "
                  "(its gradients sum to the full one over an epoch)",
        "expected": "excess-loss ratio without/with replacement (kappa = 1, end of an epoch) below 1",
        "measured": f"ratio {q:.3f} +- {q_se:.3f}; the sqrt rule without replacement: "
                    + ", ".join(f"{a:.3f}+-{b:.3f}" for a, b in zip(sq.values, sq_se.values)) + " at kappa "
                    + ", ".join(str(int(k)) for k in rr["kappa"].values),
        **judge(*bootstrap_interval(lambda r: float(np.log(f_rr[r].mean() / f_wr[r].mean())), f_rr.size), 0.0,
                above=False, criterion=f"ln(mean excess loss without / with replacement), paired bootstrap over "
                                       f"{f_rr.size} replicates"),
    })
    v = results["svag"]
    rows, rats, rat_se = [], [], []
    for name in v["noise"].values:
        g, e = v["gap"].sel(noise=name), v["gap_se"].sel(noise=name)
        r_, se_ = _ratio(float(g.isel(ell=-1)), float(e.isel(ell=-1)), float(g.isel(ell=0)), float(e.isel(ell=0)))
        rats.append(r_)
        rat_se.append(se_)
        rows.append(f"{name}: " + ", ".join(f"{a:+.4f}+-{b:.4f}" for a, b in zip(g.values, e.values)))
    out.append({
        "claim": "SVAG reaches the SME as l grows, for Gaussian and finite-variance Student-t noise",
        "source": "Li, Malladi & Arora 2021, Theorem 4.3",
        "expected": f"the gap E f(x) - E f(X_T) at the largest l below {SVAG_SHRINK:g} x the gap at l = 1, "
                    f"for each noise",
        "measured": f"lr {v.attrs['lr']:g}, E f(X_T) = {v.attrs['sme_loss']:.4f}; gaps at l = "
                    + ", ".join(str(int(e)) for e in v["ell"].values) + ": " + "; ".join(rows),
        **judge(*_max_of(rats, rat_se), SVAG_SHRINK, above=False,
                criterion=f"max over the noises of |gap(l = {int(v['ell'].values[-1])})| / |gap(l = 1)|, "
                          f"delta-method SEs, Bonferroni over {len(rats)} noises; under Student-t(3) noise x has no "
                          f"fourth moment, so f's variance is infinite and its SE only indicative"),
    })
    ad = results["adaptive"]
    rows, rats, rat_se = [], [], []
    for rule in ad["rule"].values:
        e, s, f = (ad[k].sel(rule=rule).values for k in ("weak_error", "weak_error_se", "loss_discrete"))
        for r_, se_ in (_ratio(e[-1], s[-1], e[0], s[0]), _ratio(e[-1], s[-1], 0.05 * f[-1])):
            rats.append(r_)
            rat_se.append(se_)
        rows.append(f"{rule}: " + ", ".join(f"{a:+.2e}+-{b:.1e}" for a, b in zip(e, s)) +
                    f" (E f {f[-1]:.2e} at the smallest lr)")
    out.append({
        "claim": "The SDEs of Adam and RMSprop approximate them weakly as eta -> 0 with sigma eta, "
                 "(1 - beta)/eta^2 and eps eta fixed",
        "source": "Malladi, Lyu, Panigrahi & Arora 2022, Theorems 4.2 and 4.5",
        "expected": "|E f(X_T) - E f(x_K)| at the smallest lr below the largest lr's, and below 5% of E f",
        "measured": f"sigma0 {ad.attrs['sigma0']:g}, c1 {ad.attrs['c1']:g}, c2 {ad.attrs['c2']:g}, "
                    f"T {ad.attrs['time']:g}; at lr " + ", ".join(f"{v:g}" for v in ad["lr"].values) + ": "
                    + "; ".join(rows),
        **judge(*_max_of(rats, rat_se), 1.0, above=False,
                criterion="max over the rules of |weak error at the smallest lr| / |at the largest| and / (0.05 E f "
                          "at the smallest; its Monte-Carlo error neglected), delta-method SEs, Bonferroni over "
                          f"{len(rats)} ratios"),
    })
    return out



def _rule_margin(final):
    """The sqrt rule's margin under 10% and the linear rule's over 10%, the smaller of the two, from the
    (rule, kappa, replicate) final losses: ratios of mean final losses to kappa = 1's."""
    m = final.mean(axis=2)
    q = m / m[:, :1]
    return float(min(0.1 - np.max(np.abs(q[0] - 1.0)), abs(q[1, -1] - 1.0) - 0.1))
