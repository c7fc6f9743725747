"""RAdam's warm-up variance argument, and whether untuned warm-up does as well.

Two experiments:

(a) Monte Carlo of the adaptive learning rate
    psi_t = sqrt((1 - beta2^t) / ((1 - beta2) sum_i beta2^(t-i) g_i^2)) for i.i.d.
    gradients g_i ~ N(mu, 1), mu in {0, 10}, beta2 = 0.999: Var[psi_t] against t, the
    scaled-inverse-chi-square approximation psi^2 ~ Scaled-Inv-chi2(rho_t, 1/sigma^2) of
    Liu et al. (2020), and the rectified variance Var[psi_t] r_t^2.
(b) Adam without warm-up, Adam with the untuned linear and exponential warm-ups of Ma &
    Yarats, and RAdam over a learning-rate grid on a noisy ill-conditioned quadratic: the
    range of learning rates that train stably.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
import optsim
import optsim.analysis
from optsim import theory
from optsim.optimizers import Adam, RAdam
from optsim.schedules import UntunedExponentialWarmup, UntunedLinearWarmup

from studies._criteria import bootstrap_interval, judge, paired_decrease

NAME = "radam_warmup"
TITLE = "RAdam's warm-up variance argument versus untuned warm-up"
QUESTION = (
    "Is the variance of Adam's adaptive learning rate large in the first updates (and small "
    "when the gradient mean dominates), does RAdam's rectification r_t equalise it, and does "
    "that buy RAdam a wider range of stable learning rates than Adam without warm-up, on par "
    "with an untuned warm-up?"
)
HYPOTHESIS = (
    "Var[psi_t] is unbounded at t = 1 and decays with t for mu = 0, and is orders of magnitude "
    "smaller for mu = 10; the scaled-inverse-chi-square model tracks it and Var[psi_t] r_t^2 is "
    "roughly constant for t >~ 10; RAdam and Adam with untuned warm-up train stably over a "
    "wider learning-rate range than Adam without warm-up, and are on par with each other."
)

SCALES = {
    "tiny": {"mc_samples": 2000, "mc_groups": 8, "mc_steps": 300, "lrs": np.logspace(-2, 1, 4),
             "replicates": 4, "steps": 400},
    "quick": {"mc_samples": 40000, "mc_groups": 20, "mc_steps": 3000, "lrs": np.logspace(-3, 1, 13),
              "replicates": 32, "steps": 3000},
    "paper": {"mc_samples": 400000, "mc_groups": 40, "mc_steps": 10000, "lrs": np.logspace(-3.5, 1.5, 31),
              "replicates": 256, "steps": 10000},
}

FIGURES = ["radam_warmup_variance", "radam_warmup_lr_range"]

BETA2 = 0.999
MUS = (0.0, 10.0)
METHODS = {
    "adam": Adam(),
    "adam+linear warm-up": (Adam(), UntunedLinearWarmup(beta2=BETA2)),
    "adam+exp. warm-up": (Adam(), UntunedExponentialWarmup(beta2=BETA2)),
    "radam": RAdam(),
    # the official implementation's default: no update while rho_t <= threshold
    "radam (no SGD phase)": RAdam(below="none"),
}
#: a final loss above this multiple of the starting loss counts as "did not train"
FAIL_FACTOR = 1.0


def rho(t, beta2=BETA2):
    """(rho_inf, rho_t) of RAdam (the SMA length approximating the EMA): ``optsim.theory.radam_rho_t``."""
    return theory.radam_rho_t(t, beta2)


def rect(rho_t, rho_inf):
    """RAdam's r_t (NaN where rho_t <= 4): ``optsim.theory.radam_r_t``."""
    return theory.radam_r_t(rho_t, rho_inf)


#: Var[psi] for psi^2 ~ Scaled-Inv-chi2(nu, 1/sigma^2) (finite for nu > 2)
inv_chi2_var = theory.inv_chi2_psi_var


def _monte_carlo(cfg, seed=0):
    """Var[psi_t] per group of samples (dims: mu, replicate = group, step = t)."""
    rng = np.random.default_rng(seed)
    T, N, G = cfg["mc_steps"], cfg["mc_samples"], cfg["mc_groups"]
    t = np.arange(1, T + 1)
    var = np.empty((len(MUS), G, T))
    mean = np.empty((len(MUS), G, T))
    for k, mu in enumerate(MUS):
        s = np.zeros(N)
        for i in range(T):
            g = mu + rng.standard_normal(N)
            s = BETA2 * s + g * g
            psi = np.sqrt((1 - BETA2 ** (i + 1)) / ((1 - BETA2) * s)).reshape(G, -1)
            var[k, :, i] = psi.var(axis=1, ddof=1)
            mean[k, :, i] = psi.mean(axis=1)
    rho_inf, rho_t = rho(t)
    r = rect(rho_t, rho_inf)
    ds = xr.Dataset(
        {
            "var_psi": (("mu", "replicate", "step"), var),
            "mean_psi": (("mu", "replicate", "step"), mean),
            "rho": (("step",), rho_t),
            "r": (("step",), r),
            "approx_var_psi": (("step",), inv_chi2_var(rho_t, 1.0)),
            "omega_linear": (("step",), theory.untuned_linear_warmup(t, BETA2)),
            "omega_exp": (("step",), theory.untuned_exponential_warmup(t, BETA2)),
        },
        coords={"mu": list(MUS), "replicate": np.arange(G), "step": t},
    )
    ds["rectified_var_psi"] = ds["var_psi"] * ds["r"] ** 2
    ds["var_psi"].attrs["long_name"] = "Var[psi_t]"
    ds.attrs.update(beta2=BETA2, rho_inf=float(rho_inf), samples_per_group=N // G,
                    approx_var_inf=float(inv_chi2_var(rho_inf)))
    return ds


def _lr_range(cfg, seed=0):
    pb = optsim.problems.Quadratic(condition_number=100.0, dim=10)
    ds = optsim.sweep(
        problem=pb, noise=optsim.noise.Gaussian(sigma=1.0), optimizer=METHODS,
        grid={"lr": list(cfg["lrs"])}, replicates=cfg["replicates"], steps=cfg["steps"],
        record=("loss",), record_every=max(cfg["steps"] // 100, 1), seed=3 + seed,
    )
    f0 = float(ds["loss"].isel(step=0).max())
    ds["failed"] = (ds["final_loss"] > FAIL_FACTOR * f0) | ds["diverged"] | ~np.isfinite(ds["final_loss"])
    ds.attrs["initial_loss"] = f0
    return ds


def run(scale="quick", seed=0):
    """The two experiments at ``scale``; ``seed`` shifts every random stream (0: the saved results)."""
    cfg = SCALES[scale]
    return {"variance": _monte_carlo(cfg, seed=seed), "lr_range": _lr_range(cfg, seed=seed)}


def _ranges(ds, tol=10.0):
    """A function of replicate indices giving, per method, the (lowest, highest) learning rate
    whose median final loss over those replicates is within ``tol`` x the method's best and
    whose failure rate is below one half ((nan, nan) if none)."""
    final = ds["final_loss"].transpose("optimizer", "lr", "replicate").values
    failed = ds["failed"].transpose("optimizer", "lr", "replicate").values
    lrs = ds["lr"].values
    names = [str(o) for o in ds["optimizer"].values]

    def ranges(idx):
        med = np.median(final[:, :, idx], axis=2)
        good = (med <= tol * med.min(axis=1, keepdims=True)) & (failed[:, :, idx].mean(axis=2) < 0.5)
        return {n: (float(lrs[g].min()), float(lrs[g].max())) if g.any() else (np.nan, np.nan)
                for n, g in zip(names, good)}

    return ranges


def stable_range(ds, tol=10.0):
    """Per method, the decades of learning rate whose median final loss is within ``tol`` x the best."""
    return _ranges(ds, tol)(np.arange(ds.sizes["replicate"]))


def _decades(ranges):
    """Each method's stable-range width in decades (0 where it has none)."""
    return {k: float(np.log10(b / a)) if np.isfinite(a) else 0.0 for k, (a, b) in ranges.items()}


#: the checkpoints of the decrease of Var[psi_t]: well-separated steps (the last step is added)
CHECKPOINTS = (1, 10, 100, 1000, 10000)


def _checkpoints(T):
    c = [t for t in CHECKPOINTS if t <= T]
    return c if c[-1] * 2 > T else c + [T]


def _log_groups(da):
    """ln of a per-group variance (replicate = group), as a (group, step) array."""
    return np.log(da.transpose("replicate", "step").values)


def verdict(results):
    v = results["variance"]
    out = []
    var = v["var_psi"].median("replicate")
    t = v["step"].values
    G = v.sizes["replicate"]
    v0, v10 = var.sel(mu=0.0), var.sel(mu=10.0)
    early = float(v0.sel(step=1))
    late = float(v0.isel(step=-1))
    cps = _checkpoints(int(t[-1]))
    logs0 = _log_groups(v["var_psi"].sel(mu=0.0, step=cps))
    dec, dec_int, k = paired_decrease(logs0)
    out.append({
        "claim": "Var[psi_t] is large in the first updates and decreases with t (mu = 0)",
        "source": "Liu et al. 2020, README Figure 1 (PAPERS.md §3a)",
        "expected": f"ln Var[psi_t] decreases between each pair of the checkpoints t = {cps}",
        "measured": (f"Var[psi_1] = {early:.3g} (median over {G} groups; the true value is "
                     f"infinite), Var[psi_10] = {float(v0.sel(step=10)):.3g}, Var[psi_{t[-1]}] = {late:.3g}; "
                     f"smallest decrease of ln Var: {dec:.3g} from t = {cps[k]} to t = {cps[k + 1]}"),
        **judge(dec, dec_int, 0.0, above=True,
                criterion=f"smallest paired decrease of ln Var[psi_t] between consecutive checkpoints, "
                          f"over {G} independent groups, Bonferroni over {len(cps) - 1} pairs"),
    })
    early_t = [s for s in t if s <= min(100, t[-1])]
    lr10 = (_log_groups(v["var_psi"].sel(mu=10.0, step=early_t)) - _log_groups(v["var_psi"].sel(mu=0.0, step=early_t)))
    lr10 = lr10 / np.log(10.0)
    worst, worst_int = bootstrap_interval(lambda g: lr10[g].mean(axis=0).max(), G)
    ratio = (v10 / v0).sel(step=slice(1, min(100, t[-1])))
    out.append({
        "claim": "For mu = 10 the adaptive-learning-rate variance is small",
        "source": "Liu et al. 2020, README Figure 1 (PAPERS.md §3a)",
        "expected": "Var[psi_t | mu=10] < 0.01 Var[psi_t | mu=0] at every t <= 100",
        "measured": (f"Var ratio mu=10 / mu=0 over t<=100: max {float(ratio.max()):.2e}; "
                     f"Var[psi_1 | mu=10] = {float(v10.sel(step=1)):.2e}"),
        **judge(worst, worst_int, -2.0, above=False,
                criterion=f"max over t <= 100 of the group-mean log10 variance ratio, bootstrap over {G} groups"),
    })
    approx = v["approx_var_psi"]
    sel = slice(10, None)
    rel = np.abs(np.log(v0.sel(step=sel) / approx.sel(step=sel)))
    dev = _log_groups(v["var_psi"].sel(mu=0.0, step=sel)) - np.log(approx.sel(step=sel).values)[None, :]
    dev_stat, dev_int = bootstrap_interval(lambda g: np.abs(dev[g].mean(axis=0)).max(), G)
    out.append({
        "claim": "psi_t^2 ~ Scaled-Inv-chi2(rho_t, 1/sigma^2) describes Var[psi_t]",
        "source": "Liu et al. 2020 §3 (PAPERS.md §3a)",
        "expected": "Monte-Carlo Var[psi_t] within a factor 2 of the model for t >= 10",
        "measured": (f"max |log(MC/model)| over t>=10 = {float(rel.max()):.2f} (factor {float(np.exp(rel.max())):.2f}); "
                     f"at t=10 MC {float(v0.sel(step=10)):.3g} vs model {float(approx.sel(step=10)):.3g}; "
                     f"t={t[-1]}: {late:.3g} vs {float(approx.isel(step=-1)):.3g}"),
        **judge(dev_stat, dev_int, float(np.log(2.0)), above=False,
                criterion=f"max over t >= 10 of |group-mean ln(MC / model)|, bootstrap over {G} groups"),
    })
    rect_g = v["rectified_var_psi"].sel(mu=0.0, step=sel).transpose("replicate", "step").values
    rect_v = v["rectified_var_psi"].median("replicate").sel(mu=0.0).sel(step=sel)
    spread = float(rect_v.max() / rect_v.min())

    def log_spread(g):
        m = np.median(rect_g[g], axis=0)
        return float(np.log(m.max() / m.min()))

    sp_stat, sp_int = bootstrap_interval(log_spread, G)
    out.append({
        "claim": "The rectified variance Var[psi_t] r_t^2 is roughly constant for t >~ 10",
        "source": "Liu et al. 2020 (PAPERS.md §3a, check (b))",
        "expected": (f"max/min over t >= 10 below 3, near the model's Var[psi]_inf = "
                     f"{v.attrs['approx_var_inf']:.3g}"),
        "measured": (f"over t in [10, {t[-1]}]: min {float(rect_v.min()):.3g}, max {float(rect_v.max()):.3g} "
                     f"(max/min {spread:.2f}); unrectified max/min {float(v0.sel(step=sel).max() / v0.sel(step=sel).min()):.1f}"),
        **judge(sp_stat, sp_int, float(np.log(3.0)), above=False,
                criterion=f"ln(max/min) over t >= 10 of the group-median rectified variance, bootstrap over {G} groups"),
    })

    ds = results["lr_range"]
    ranges = _ranges(ds)
    rng = stable_range(ds)
    width = _decades(rng)

    def widths(r):
        return _decades(ranges(r))

    R = ds.sizes["replicate"]
    fail = ds["failed"].mean("replicate")
    desc = "; ".join(f"{k}: [{a:.3g}, {b:.3g}] ({width[k]:.2f} decades)" for k, (a, b) in rng.items())
    gain, gain_int = bootstrap_interval(lambda r: (lambda w: w["radam"] - w["adam"])(widths(r)), R)
    out.append({
        "claim": "RAdam trains well over a wider learning-rate range than Adam without warm-up",
        "source": "Liu et al. 2020, README (PAPERS.md §3a, check (c))",
        "expected": "width(radam) > width(adam) (lr with median final loss within 10x of the best)",
        "measured": desc + "; failure rate at the largest lr: " + ", ".join(
            f"{o} {float(fail.sel(optimizer=o).isel(lr=-1)):.2f}" for o in ds["optimizer"].values),
        **judge(gain, gain_int, 0.0, above=True,
                criterion=f"width(radam) - width(adam) in decades, bootstrap over {R} replicates "
                          f"(the same resample for every method)"),
    })
    best = optsim.analysis.best_lr(ds)
    b = {str(o): float(best["best_final_loss"].sel(optimizer=o)) for o in ds["optimizer"].values}

    def warmup_margin(r):
        w = widths(r)
        return max(w["adam+linear warm-up"], w["adam+exp. warm-up"]) - w["radam"]

    margin, margin_int = bootstrap_interval(warmup_margin, R)
    out.append({
        "claim": "Untuned warm-up (2/(1-beta2) linear, 1/(1-beta2) exponential) is on par with RAdam",
        "source": "Ma & Yarats 2021 (PAPERS.md §3b)",
        "expected": "stable-range width of the better untuned warm-up at most 1/3 decade below RAdam's",
        "measured": (", ".join(f"{k}: width {width[k]:.2f} dec, best median final loss {b[k]:.3g}" for k in b)),
        **judge(margin, margin_int, -0.34, above=True,
                criterion=f"max(width of the two warm-ups) - width(radam) in decades, bootstrap over {R} replicates"),
    })
    return out
