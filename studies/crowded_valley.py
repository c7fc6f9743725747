"""Defaults against tuning, and optimizer rankings against the tuning budget.

Twelve optimizers (SGD, heavy-ball momentum, Nesterov, Adam, AdamW, NAdam, RAdam, RMSprop,
Adagrad, AdaBelief, Yogi, Lion) on a suite of problem x noise instances (Rosenbrock under
Gaussian and Student-t noise, Beale under Gaussian noise, the noisy quadratic model with its
curvature-scaled noise, an ill-conditioned quadratic under multiplicative noise, and
L2-regularised logistic regression with minibatch gradients), each run at its defaults
(PyTorch's) and at ``trials`` random-search configurations of its own space, the same number
for every optimizer (``optsim.tuning.tuning_sweep``).

The score of a run is log10 of its final excess loss over the starting one, clipped to
[-8, 0]: a run that diverged or ended above the start counts as no progress, and one below
1e-8 of the start has solved the instance.  The first half of the
replicates are the validation seeds, the second the report seeds: a configuration is chosen
on the validation median and its report median is what is reported.  A budget of 1 is the
defaults; a budget of k > 1 is the expected report of the best-on-validation of k random
trials, exactly over the draw of the k (Dodge et al. 2019, ``optsim.tuning.expected_best_of_k``).
Uncertainty: a bootstrap that resamples each optimizer's random trials and, jointly for all
optimizers (common random numbers), the validation and the report seeds; every claim is
judged on a bootstrap percentile interval at the 99% level (``studies._criteria``: reproduced,
not reproduced, or inconclusive where the interval holds the threshold), the draws re-centred on
the estimate (the expected best-of-k over all subsets of the observed trials is unbiased,
while a resample repeats trials, which shifts its best-of-k: see :func:`centred`).

Question one (Schmidt, Schneider & Hennig 2021): is the best of all optimizers at their
defaults (chosen on validation) about as good as one optimizer tuned with a comparable
budget (16 trials against 12 default runs)?  Question two (Sivaprasad et al. 2020; Choi et
al. 2019): does the ranking of the optimizers change with the budget, and do the more general
optimizers (momentum, Nesterov) stop being worse than their special case (SGD) once tuned?

Scales: ``tiny`` (three instances, 16 trials, 4 seeds, a tenth of the steps: seconds, for the
tests); ``quick`` (six instances, 128 trials per optimizer, 8 seeds, 300-1000 steps: 13 s of
CPU, compiled kernels cached); ``paper`` (256 trials, 32 seeds, four times the steps: 64 times
the quick scale's trajectory-steps; measured: 3.7 min of CPU, 5 min on two shared cores, 0.8 GB peak).
Schmidt et al. tune on deep-learning tasks with budgets of 25 and 50 trials; the suite here is
small problems whose optimum is known, so the scores are exact distances to it.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from optsim import tuning
from optsim.optimizers import (
    SGD, AdaBelief, Adagrad, Adam, AdamW, Lion, NAdam, RAdam, RMSprop, Yogi,
)
from studies._criteria import LEVEL, judge, within

NAME = "crowded_valley"
TITLE = "Defaults against tuning, and rankings against the tuning budget (Crowded Valley)"
QUESTION = (
    "Over a suite of problems and noise models, is trying twelve optimizers at their defaults about as good "
    "as tuning one of them by random search with a comparable budget (Schmidt et al. 2021), and does the "
    "ranking of the optimizers change between a budget of 1 (the defaults) and the largest budget "
    "(Sivaprasad et al. 2020, Choi et al. 2019)?"
)
HYPOTHESIS = (
    "The best of the defaults is within a factor sqrt(10) (half a decade) of a typical single optimizer "
    "tuned with 16 trials; the ranking at a budget of 1 differs from that at the largest budget (at least one "
    "pair of optimizers swaps places, by a margin whose 99% bootstrap interval is above 0); tuned momentum "
    "and Nesterov are not worse than tuned SGD on any instance."
)

SCALES = {
    "tiny": {"trials": 16, "replicates": 4, "steps": 0.1, "budgets": [1, 4, 16], "boot": 100,
             "instances": ["rosenbrock_gaussian", "nqm", "logistic_minibatch"]},
    "quick": {"trials": 128, "replicates": 8, "steps": 1.0, "budgets": [1, 4, 16, 64], "boot": 300,
              "instances": None},
    "paper": {"trials": 256, "replicates": 32, "steps": 4.0, "budgets": [1, 4, 16, 64], "boot": 500,
              "instances": None},
}

FIGURES = ["crowded_valley_profiles", "crowded_valley_best_of_k"]

LR = tuning.LogUniform(1e-5, 1.0)
MOM = tuning.Uniform(0.0, 0.99)
#: label: (optimizer at its defaults, its search space)
METHODS = {
    "sgd": (SGD(), {"lr": LR}),
    "momentum": (SGD(momentum=0.9), {"lr": LR, "momentum": MOM}),
    "nesterov": (SGD(momentum=0.9, nesterov=True), {"lr": LR, "momentum": tuning.Uniform(0.01, 0.99)}),
    "adam": (Adam(), {"lr": LR, "beta1": MOM}),
    "adamw": (AdamW(), {"lr": LR, "beta1": MOM, "weight_decay": tuning.LogUniform(1e-4, 1e-1)}),
    "nadam": (NAdam(), {"lr": LR, "beta1": MOM}),
    "radam": (RAdam(), {"lr": LR, "beta1": MOM}),
    "rmsprop": (RMSprop(), {"lr": LR, "alpha": tuning.Uniform(0.9, 0.999)}),
    "adagrad": (Adagrad(), {"lr": LR}),
    "adabelief": (AdaBelief(), {"lr": LR, "beta1": MOM}),
    "yogi": (Yogi(), {"lr": LR, "beta1": MOM}),
    "lion": (Lion(), {"lr": LR, "beta1": MOM}),
}
#: more general optimizer: the special case it contains (Choi et al. 2019's inclusion relations)
INCLUSIONS = {"momentum": "sgd", "nesterov": "sgd"}
#: the k of the best-of-k curves (those above the number of trials are dropped)
CURVE_KS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
#: "about as good": within this many decades of loss
ABOUT = 0.5
#: the comparable budget of question one: 16 tuning runs against 12 default runs
MATCHED_BUDGET = 16
TAUS = np.geomspace(1.0, 1e6, 121)
#: a run whose excess loss fell below 10**FLOOR of the start has solved the instance (Dolan & More's
#: convergence test): scores are clipped there, so that no instance's last decades dominate the means
FLOOR = -8.0


def instances():
    """name: (problem, noise models, steps at scale 1), the suite's problem x noise instances."""
    from optsim import noise, problems

    return {
        "rosenbrock_gaussian": (problems.Rosenbrock(), noise.Gaussian(sigma=1.0), 1000),
        "rosenbrock_student_t": (problems.Rosenbrock(), noise.StudentT(nu=2.5, scale=1.0), 1000),
        "beale_gaussian": (problems.Beale(), noise.Gaussian(sigma=0.3), 1000),
        "nqm": (problems.NoisyQuadraticModel(dim=10, batch_size=8.0), None, 500),
        "quadratic_multiplicative": (problems.Quadratic(condition_number=100.0, dim=10),
                                     noise.Multiplicative(sigma=0.5), 500),
        "logistic_minibatch": (problems.LogisticRegression(l2=0.01, n_train=64, n_features=8),
                               noise.Minibatch(batch_size=8), 300),
    }


def _loss_at(problem, x):
    return float(problem.kernels["objective"](np.asarray(x, float), problem.row(), problem.data()))


def _instance(name, cfg, seed):
    problem, nz, steps = instances()[name]
    steps = max(int(round(steps * cfg["steps"])), 10)
    opt = problem.optimum()
    f_star = _loss_at(problem, opt) if opt is not None else 0.0
    f0 = _loss_at(problem, problem.start_point())
    ds = tuning.tuning_sweep(problem, {k: m for k, (m, _) in METHODS.items()},
                             {k: s for k, (_, s) in METHODS.items()}, cfg["trials"], seed=seed,
                             search_seed=seed, noise=nz, replicates=cfg["replicates"], steps=steps, record=())
    ds = ds.drop_dims("step", errors="ignore")
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = (ds["final_loss"] - f_star) / (f0 - f_star)
        ds["score"] = np.log10(excess.where(np.isfinite(excess) & (excess < 1.0), 1.0).clip(min=10.0 ** FLOOR))
    ds["score"].attrs["description"] = f"log10((f_T - f*) / (f_0 - f*)), clipped to [{FLOOR}, 0] (diverged: 0)"
    ds.attrs.update(instance=name, f0=f0, f_star=f_star, steps=steps)
    return ds


def _readouts(trials, cfg, seed=0):
    """Point estimates and bootstrap draws of every score the verdicts and figures read."""
    ks = [k for k in CURVE_KS if k <= cfg["trials"]]
    names = list(trials)
    labels = list(METHODS)
    n_boot = cfg["boot"]
    rng = np.random.default_rng(seed)
    tuned = np.empty((n_boot + 1, len(names), len(labels), len(ks)))
    dval = np.empty((n_boot + 1, len(names), len(labels)))
    drep = np.empty_like(dval)
    for p, name in enumerate(names):
        s = trials[name]["score"].transpose("optimizer", "trial", "replicate").values
        n_opt, n_tr, n_rep = s.shape
        h = n_rep // 2
        idx_t = np.empty((n_boot + 1, n_opt, n_tr - 1), dtype=np.int64)
        idx_v = np.empty((n_boot + 1, h), dtype=np.int64)
        idx_r = np.empty((n_boot + 1, n_rep - h), dtype=np.int64)
        idx_t[0], idx_v[0], idx_r[0] = np.arange(1, n_tr), np.arange(h), np.arange(h, n_rep)  # draw 0: the data
        idx_t[1:] = 1 + rng.integers(0, n_tr - 1, (n_boot, n_opt, n_tr - 1))
        idx_v[1:] = rng.integers(0, h, (n_boot, h))
        idx_r[1:] = h + rng.integers(0, n_rep - h, (n_boot, n_rep - h))
        o = np.arange(n_opt)[None, :, None, None]
        val = np.median(s[o, idx_t[:, :, :, None], idx_v[:, None, None, :]], axis=-1)
        rep = np.median(s[o, idx_t[:, :, :, None], idx_r[:, None, None, :]], axis=-1)
        dims = ("boot", "optimizer", "trial")
        e = tuning.expected_best_of_k(xr.DataArray(val, dims=dims), xr.DataArray(rep, dims=dims), ks=ks)
        tuned[:, p] = e["mean"].values
        dval[:, p] = np.median(s[:, 0, :][:, idx_v], axis=-1).T
        drep[:, p] = np.median(s[:, 0, :][:, idx_r], axis=-1).T
    coords = {"boot": np.arange(n_boot + 1), "instance": names, "optimizer": labels, "k": ks}
    ds = xr.Dataset({
        "tuned": (("boot", "instance", "optimizer", "k"), tuned),
        "default_validation": (("boot", "instance", "optimizer"), dval),
        "default_report": (("boot", "instance", "optimizer"), drep),
    }, coords=coords)
    best = tuning.defaults_vs_tuned(10.0 ** ds["default_validation"], 10.0 ** ds["default_report"],
                                    10.0 ** ds["tuned"].sel(k=min(MATCHED_BUDGET, ks[-1])))
    ds["best_default"] = np.log10(best["best_default"])
    ds["best_default_optimizer"] = best["best_default_solver"].isel(boot=0, drop=True)
    ds["budget_score"] = xr.concat([ds["default_report"]] + [ds["tuned"].sel(k=k, drop=True) for k in cfg["budgets"][1:]],
                                   dim="budget").assign_coords(budget=cfg["budgets"]).transpose("boot", "budget", ...)
    ds["profile"] = tuning.performance_profile(10.0 ** ds["budget_score"], taus=TAUS, problem_dims=["instance"])
    ds = ds.assign_coords(tau=TAUS)
    ds.attrs.update(floor=FLOOR, boot_level_note="boot 0 is the data; 1.. are bootstrap draws", matched_budget=min(MATCHED_BUDGET, ks[-1]))
    return ds


def run(scale="quick", seed=0):
    """The study at ``scale``; ``seed`` shifts every instance's seeds and the bootstrap's (0: the
    published results)."""
    cfg = SCALES[scale]
    names = cfg["instances"] or list(instances())
    trials = {name: _instance(name, cfg, seed=seed + j) for j, name in enumerate(names)}
    out = {f"trials_{name}": ds for name, ds in trials.items()}
    out["readouts"] = _readouts(trials, cfg, seed=seed)
    return out


def centred(stat):
    """The bootstrap draws of ``stat`` (draw 0 = the data, on the first axis or dimension
    ``boot``) shifted so that their mean is the estimate: stat_b - mean(stat_b) + stat_0.

    The expected best-of-k over every k-subset of the observed trials is an unbiased estimate
    (a U-statistic) of the expected best of k fresh trials, but a resample repeats trials, so
    its best-of-k is shifted (worse); only the spread is taken from the bootstrap."""
    if hasattr(stat, "dims"):
        draws = stat.isel(boot=slice(1, None))
        return draws - draws.mean("boot") + stat.isel(boot=0)
    stat = np.asarray(stat, float)
    return stat[1:] - stat[1:].mean(axis=0) + stat[0]


def _interval(draws, level):
    lo, hi = np.quantile(np.asarray(draws), [(1 - level) / 2, (1 + level) / 2], method="nearest")
    return float(lo), float(hi)


def ranking_score(ro):
    """Per draw, budget and optimizer: the mean score over the instances (lower is better)."""
    return ro["budget_score"].mean("instance")


def kendall_tau(a, b):
    """Kendall's tau-a between two score vectors (ties count as neither)."""
    a, b = np.asarray(a), np.asarray(b)
    i, j = np.triu_indices(a.size, 1)
    return float(np.mean(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])))


def swap_margins(first, last):
    """Per pair of optimizers (the upper triangle, last axis), how far they swap places:
    ``max(min(-d1, d2), min(d1, -d2))`` with d1, d2 their score differences at the first and
    at the last budget (lower is better).  > 0: one is ahead at the first budget and behind at
    the last, by at least that much at both; < 0: they keep their order."""
    first, last = np.asarray(first, float), np.asarray(last, float)
    i, j = np.triu_indices(first.shape[-1], 1)
    d1, d2 = first[..., i] - first[..., j], last[..., i] - last[..., j]
    return np.maximum(np.minimum(-d1, d2), np.minimum(d1, -d2)), (i, j)


def _centred_max(stat0, draws):
    """A selection statistic's point estimate and its draws re-centred on it (as :func:`centred`)."""
    return float(stat0), np.asarray(draws, float) - np.mean(draws) + float(stat0)


def verdict(results):
    """Each claim judged on the study's bootstrap (trials, validation and report seeds resampled,
    common to every optimizer; draws re-centred, :func:`centred`) at the 99% level."""
    ro = results["readouts"]
    out = []
    n_draws = ro.sizes["boot"] - 1
    pct = f"{100 * LEVEL:g}%"
    kb = int(ro.attrs["matched_budget"])
    tuned_k = ro["tuned"].sel(k=kb)
    delta = (tuned_k - ro["best_default"]).mean("instance")  # decades: > 0, tuning one is worse
    typical = delta.median("optimizer")
    lo, hi = _interval(centred(typical).values, LEVEL)
    point = float(typical.isel(boot=0))
    per = ", ".join(f"{o} {float(delta.sel(optimizer=o).isel(boot=0)):+.2f}" for o in ro["optimizer"].values)
    chosen = ", ".join(f"{i}: {o}" for i, o in zip(ro["instance"].values, ro["best_default_optimizer"].values))
    out.append({
        "claim": ("Trying several optimizers at their defaults is about as good as tuning a single one "
                  f"(best of {ro.sizes['optimizer']} defaults against one optimizer tuned with {kb} trials)"),
        "source": "Schmidt, Schneider & Hennig 2021 (ICML), Descending through a Crowded Valley, Sec. 4",
        "expected": (f"the median over optimizers of [mean over instances of tuned({kb}) - best default] (log10 loss) "
                     f"has its {pct} bootstrap interval inside [-{ABOUT}, {ABOUT}] decades"),
        "measured": (f"median {point:+.2f} decades, {pct} interval [{lo:+.2f}, {hi:+.2f}]; per optimizer: {per}; "
                     f"best default chosen on validation: {chosen}"),
        **within(point, (lo, hi), -ABOUT, ABOUT,
                  criterion=(f"median over optimizers of the mean over instances of tuned({kb}) - best default, "
                             f"decades, inside [-{ABOUT}, {ABOUT}]; bootstrap over trials and seeds, {n_draws} draws")),
    })

    rs = ranking_score(ro)
    b_lo, b_hi = rs["budget"].values[0], rs["budget"].values[-1]
    first, last = rs.sel(budget=b_lo), rs.sel(budget=b_hi)
    labels = list(ro["optimizer"].values)
    m0, (pi, pj) = swap_margins(first.isel(boot=0).values, last.isel(boot=0).values)
    mb, _ = swap_margins(centred(first.transpose("boot", "optimizer").values),
                         centred(last.transpose("boot", "optimizer").values))
    swap, swap_draws = _centred_max(m0.max(), mb.max(axis=-1))
    s_lo, s_hi = _interval(swap_draws, LEVEL)
    top_pairs = np.argsort(-m0)[:4]
    swaps = []
    for p in top_pairs:
        if m0[p] <= 0:
            break
        a, b = labels[pi[p]], labels[pj[p]]
        win1, win2 = (a, b) if float(first.isel(boot=0).sel(optimizer=a)) < float(first.isel(boot=0).sel(optimizer=b)) else (b, a)
        swaps.append(f"{win1} ahead of {win2} at {b_lo}, behind at {b_hi} by >= {m0[p]:.2f}")
    taus = np.array([kendall_tau(first.isel(boot=j).values, last.isel(boot=j).values) for j in range(ro.sizes["boot"])])
    t_lo, t_hi = _interval(np.clip(centred(taus), -1.0, 1.0), LEVEL)
    order = lambda da: " < ".join(str(o) for o in np.array(labels)[np.argsort(da.isel(boot=0).values)])
    out.append({
        "claim": "The ranking of optimizers changes with the tuning budget",
        "source": ("Sivaprasad et al. 2020 (ICML), Optimizer Benchmarking Needs to Account for Hyperparameter "
                   "Tuning; Choi et al. 2019, On Empirical Comparisons of Optimizers for Deep Learning"),
        "expected": (f"at least one pair swaps places between budget {b_lo} and {b_hi} (mean score over instances): "
                     f"the largest swap margin over the pairs (how far one is ahead at {b_lo} and behind at {b_hi}, "
                     f"the smaller of the two) has its {pct} bootstrap interval above 0"),
        "measured": (f"largest swap margin {swap:.3f} decades [{s_lo:.3f}, {s_hi:.3f}]; "
                     f"{int(np.sum(m0 > 0))} of {m0.size} pairs swap in the data (largest: "
                     f"{'; '.join(swaps) if swaps else 'none'}); "
                     f"Kendall tau {taus[0]:.2f} ({pct} interval [{t_lo:.2f}, {t_hi:.2f}]); "
                     f"budget {b_lo}: {order(first)}; budget {b_hi}: {order(last)}"),
        **judge(swap, (s_lo, s_hi), 0.0, above=True,
                criterion=(f"largest swap margin over the {m0.size} pairs, decades, the pair chosen again in each "
                           f"of {n_draws} bootstrap draws")),
    })

    top = ro["budget_score"].sel(budget=b_hi)
    insts = list(ro["instance"].values)
    cells, parts = [], []
    for gen, spec in INCLUSIONS.items():
        d = (top.sel(optimizer=gen) - top.sel(optimizer=spec)).transpose("boot", "instance")
        cells.append(d.values)
        parts.append(f"{gen} - {spec}: " + ", ".join(f"{float(d.sel(instance=i).isel(boot=0)):+.2f}" for i in insts))
    cells = np.concatenate(cells, axis=1)  # (boot, inclusion x instance)
    names = [f"{gen} vs {spec} on {i}" for gen, spec in INCLUSIONS.items() for i in insts]
    worst, worst_draws = _centred_max(cells[0].max(), centred(cells).max(axis=-1))
    w_lo, w_hi = _interval(worst_draws, LEVEL)
    cell_int = [_interval(centred(cells[:, c]), LEVEL) for c in range(cells.shape[1])]
    worse = [n for n, (a, _) in zip(names, cell_int) if a > 0]
    out.append({
        "claim": "Tuned, a more general optimizer is never worse than its special case (momentum and Nesterov vs SGD)",
        "source": "Choi et al. 2019, On Empirical Comparisons of Optimizers for Deep Learning, Sec. 3 (inclusion)",
        "expected": (f"at budget {b_hi}, the largest over instances of score(general) - score(SGD) has its {pct} "
                     "bootstrap interval below 0 (not worse anywhere); above 0: worse on some instance; an "
                     "instance where both are equal leaves it inconclusive"),
        "measured": (f"largest {worst:+.2f} decades [{w_lo:+.2f}, {w_hi:+.2f}] ({names[int(np.argmax(cells[0]))]}); "
                     f"decades per instance ({', '.join(insts)}): " + "; ".join(parts)
                     + (f"; each alone significantly worse ({pct}): {', '.join(worse)}" if worse
                        else "; none alone significantly worse")),
        **judge(worst, (w_lo, w_hi), 0.0, above=False,
                criterion=(f"largest over {len(INCLUSIONS)} inclusions x {len(insts)} instances of score(general) - "
                           f"score(special), decades, the cell chosen again in each of {n_draws} bootstrap draws")),
    })
    return out
