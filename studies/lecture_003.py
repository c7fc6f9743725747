"""Lecture 003 (NTU ML, "Optimization for Deep Learning", the new-optimizers part):
Adam against SGDM, the memory of v_t, cyclical learning rates, SGDR and warm-up, RAdam,
NAG's look-ahead and Nadam.

What is reproduced
------------------
``adam_vs_sgdm``
    "Adam: fast training, unstable; SGDM: stable, better convergence(?)".  SGDM (PyTorch's
    ``SGD(momentum=0.9)``, the lecture's m_t = lambda m_(t-1) + eta g at a constant lr) and Adam over a grid of learning rates, with replicates, on a
    noisy elongated valley f = 1/2 (x^2 + 10^4 y^2) from (-10, 1) with Gaussian gradient
    noise (sigma = 1).  Each optimizer is shown at two learning rates: the one with the
    lowest median loss after 10% of the steps ("fast") and the one with the lowest median
    loss at the end ("tuned").  Speed is the loss after 10% of the steps; stability is the
    spread across seeds of the final loss (standard deviation of log10, with its standard
    error); convergence is the median final loss.
``memory``
    "The memory of v_t keeps roughly 1000 steps": Adam (beta2 = 0.999) replays (``optsim
    .replay``) a gradient that is 1 at every step except one spike of size G (G = 10, 100,
    1000, and no spike).  From the recorded v_t: how the spike's share of v decays, and what
    the rare large gradient does to Adam's steps.
``schedules``
    The cyclical learning rate (triangular, Smith 2017), SGDR (cosine annealing with warm
    restarts, Loshchilov & Hutter 2017) and warm-up (linear, then cosine decay; the
    Transformer schedule), evaluated with the jitted value functions optsim's engine calls
    (``Schedule.learning_rates``).
``radam``
    RAdam's rectification as in Liu et al. (2020), Algorithm 2 (rho_t > 4, momentum-SGD
    below: ``RAdam(threshold=4)``): rho_t and r_t in closed form and as recovered from
    optsim's recorded effective learning rate, and its effect against Adam at large
    learning rates on a noisy, well-scaled quadratic (curvatures 0.01 ... 1 in 10
    dimensions, x0 = 2, gradient noise sigma = 0.1; the momentum-SGD steps of the first 4
    updates are unnormalised, so the gradients must not be large).
``nag``
    NAG (``NAG``: gradient at the look-ahead point theta - lambda m) against SGDM in the
    lecture's form (``SGD(momentum_form="lr_inside")``) on a valley f = 1/2 (x^2 + 10 y^2)
    from (-8, 2), with the lecture's rewriting of NAG checked against
    ``SGD(nesterov=True)``; Adam against Nadam in Dozat's form (``NAdam(form="optax")``,
    constant mu = beta1) on the same valley.

Deviations: the lecture's Adam-vs-SGDM evidence is from deep networks (test accuracy, the
generalization gap); a quadratic has no test set, so only training speed, stability across
seeds and final training loss are compared.  The claims that the LR range test picks the
cyclical bounds, that varying the learning rate avoids local minima, and the slide on
normalization are not examined (no non-convex problem here).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

import optsim
from optsim import theory
from optsim.analysis import loss_surface
from optsim.optimizers import NAG, SGD, Adam, NAdam, RAdam
from optsim.schedules import (
    CosineAnnealing,
    Cyclic,
    LinearWarmup,
    TransformerWarmup,
    WarmRestarts,
)

from studies._criteria import LEVEL, all_of, bootstrap_interval, exact, judge, normal_interval

NAME = "lecture_003"
TITLE = "Lecture 003: Adam vs SGDM, v_t's memory, cyclical LR / SGDR / warm-up, RAdam, NAG and Nadam"
QUESTION = (
    "Is Adam faster but less stable than SGDM on a noisy valley, does v_t remember a gradient for about "
    "1000 steps, do RAdam's rectification and NAG's look-ahead behave as the lecture says, and do the "
    "cyclical, SGDR and warm-up schedules have the stated shapes?"
)
HYPOTHESIS = (
    "Adam reaches a low loss sooner than SGDM while its final loss varies more across seeds; a spike's "
    "share of v_t falls by e after 1/(1-beta2) = 1000 steps; r_t rises from 0 to 1 and RAdam's early "
    "loss is steadier than Adam's; NAG overshoots less than SGDM and equals SGD(nesterov=True) in the "
    "look-ahead variable; Nadam is slightly faster than Adam."
)
GALLERY = {
    "lecture": "003",
    "title": "Optimization for deep learning: new optimizers",
    "source": "NTU Machine Learning, Hung-yi Lee's course, 'Optimization for Deep Learning' (part 2: new optimizers)",
    "file": "003_f315980259ebb1a7.txt",
}
FIGURES = ["lecture_003_adam_vs_sgdm", "lecture_003_v_memory", "lecture_003_schedules", "lecture_003_radam",
           "lecture_003_nag_nadam"]

SCALES = {
    "tiny": {"lrs": 7, "replicates": 16, "steps": 400, "spike_steps": 4500, "radam_replicates": 16,
             "radam_steps": 300, "schedule_steps": 3500, "nag_steps": 100, "surface_n": 60},
    "quick": {"lrs": 21, "replicates": 256, "steps": 2000, "spike_steps": 10000, "radam_replicates": 128,
              "radam_steps": 1000, "schedule_steps": 3500, "nag_steps": 100, "surface_n": 161},
    "paper": {"lrs": 31, "replicates": 1024, "steps": 5000, "spike_steps": 12000, "radam_replicates": 512,
              "radam_steps": 3000, "schedule_steps": 3500, "nag_steps": 100, "surface_n": 201},
}

#: exact gradients; a Gaussian of size 0 lets these runs share the compiled kernels of noisy ones
NOISE_FREE = optsim.noise.Gaussian(sigma=0.0)
BETA1, BETA2 = 0.9, 0.999
SPIKES = [0.0, 10.0, 100.0, 1000.0]
SPIKE_AT = 3000  # late, where the bias corrections are near 1
RADAM_LRS = [0.1, 0.3, 1.0]
LAMBDA, NAG_LR, ADAM_LR = 0.9, 0.02, 0.3
NAG_XLIM, NAG_YLIM = (-9.0, 3.0), (-3.0, 3.01)  # no grid node exactly at the minimum (log contours)


# -- Adam vs SGDM ----------------------------------------------------------------------------


def valley():
    """The elongated valley f = 1/2 (x^2 + 10^4 y^2) from (-10, 1)."""
    return optsim.problems.valley(1e4, x0=[-10.0, 1.0])


def _adam_vs_sgdm(cfg):
    steps = cfg["steps"]
    ds = optsim.sweep(
        problem=valley(), noise=optsim.noise.Gaussian(sigma=1.0),
        optimizer={"sgdm": SGD(momentum=0.9), "adam": Adam()},
        grid={"lr": np.logspace(-5, 0, cfg["lrs"])}, replicates=cfg["replicates"], steps=steps,
        record_every=max(1, steps // 50), record=("loss",), seed=0,
    )
    med = ds["loss"].median("replicate")
    early = med.sel(step=steps // 10, method="nearest")
    ds["early_loss"] = early
    ds["fast_lr"] = early.fillna(np.inf).idxmin("lr")
    ds["tuned_lr"] = med.isel(step=-1).fillna(np.inf).idxmin("lr")
    ds.attrs["early_step"] = int(early["step"])
    return ds


def spread(final):
    """Standard deviation of log10(final loss) over replicates, and its standard error."""
    x = np.log10(np.asarray(final, dtype=float))
    x = x[np.isfinite(x)]
    sd = float(np.std(x, ddof=1))
    return sd, sd / np.sqrt(2 * (x.size - 1))


# -- the memory of v_t -------------------------------------------------------------------------


def _memory(cfg):
    T = cfg["spike_steps"]
    grads = np.ones((len(SPIKES), T, 1))
    for r, G in enumerate(SPIKES):
        if G:
            grads[r, SPIKE_AT - 1, 0] = G  # update number SPIKE_AT (1-based) sees the spike
    lr = 1e-3
    ds = optsim.replay(Adam(lr=lr, betas=[BETA1, BETA2]), grads, record=("params", "state"))
    ds = ds.isel(replicate=0, param=0, drop=True)
    x = ds["params"].values
    out = xr.Dataset(
        {
            "v": (("spike", "t"), ds["state"].sel(slot="v").values[:, 1:]),
            "step_size": (("spike", "t"), np.abs(np.diff(x, axis=1)) / lr),
            "theta": (("spike", "step"), x),
        },
        coords={"spike": SPIKES, "t": np.arange(1, T + 1), "step": np.arange(T + 1)},
        attrs={"lr": lr, "beta1": BETA1, "beta2": BETA2, "spike_at": SPIKE_AT},
    )
    base = out["v"].sel(spike=0.0)
    excess = (out["v"] - base) / ((1 - BETA2) * (out["spike"] ** 2 - 1))
    out["v_excess"] = excess.where(out["spike"] > 0).where(out["t"] >= SPIKE_AT)
    return out


# -- schedules ---------------------------------------------------------------------------------


#: (panel, label, schedule, base lr) of the schedules figure
SCHEDULES = [
    ("cyclical", "triangular (Smith 2017)", Cyclic(max_lr=0.1, step_size_up=500, cycle_momentum=False), 0.01),
    ("cyclical", "triangular2 (halving)", Cyclic(max_lr=0.1, step_size_up=500, mode="triangular2",
                                                 cycle_momentum=False), 0.01),
    ("sgdr", "SGDR, T_0 = 500, T_mult = 1", WarmRestarts(T_0=500, T_mult=1.0), 0.1),
    ("sgdr", "SGDR, T_0 = 500, T_mult = 2", WarmRestarts(T_0=500, T_mult=2.0), 0.1),
    ("warmup", "linear warm-up 300, then cosine", LinearWarmup(warmup_steps=300, after=CosineAnnealing(T_max=3500)),
     0.1),
    ("warmup", "Transformer (d_model 512, W = 400)", TransformerWarmup(d_model=512.0, warmup_steps=400.0), 1.0),
]


def _schedules(cfg):
    n = cfg["schedule_steps"]
    vals = np.array([s.learning_rates(n, lr) for _, _, s, lr in SCHEDULES])
    return xr.Dataset(
        {"lr": (("schedule", "k"), vals)},
        coords={"schedule": [label for _, label, _, _ in SCHEDULES], "k": np.arange(n),
                "panel": ("schedule", [p for p, *_ in SCHEDULES])},
    )


# -- RAdam ---------------------------------------------------------------------------------------


def rho(t, beta2=BETA2):
    """(rho_inf, rho_t): the maximum and the effective memory length of the EMA of g^2
    (``optsim.theory.radam_rho_t``)."""
    return theory.radam_rho_t(t, beta2)


def rectification(t, beta2=BETA2):
    """RAdam's r_t (NaN where rho_t <= 4, where RAdam takes a momentum-SGD step)."""
    rho_inf, rho_t = rho(t, beta2)
    return theory.radam_r_t(rho_t, rho_inf)


def radam_problem():
    """A well-scaled noisy quadratic: curvatures 0.01 ... 1 in 10 dimensions, x0 = 2."""
    return optsim.problems.Quadratic(curvatures=list(np.geomspace(0.01, 1.0, 10)), x0=[2.0] * 10)


def _radam(cfg, seed=3):
    steps = cfg["radam_steps"]
    pb, noise = radam_problem(), optsim.noise.Gaussian(sigma=0.1)
    ds = optsim.sweep(
        problem=pb, noise=noise, optimizer={"adam": Adam(), "radam": RAdam(threshold=4.0)},
        grid={"lr": RADAM_LRS}, replicates=cfg["radam_replicates"], steps=steps, record_every=1,
        record=("loss",), seed=seed,
    )
    # r_t recovered from one RAdam run's effective learning rate: eff_lr = lr r_t l_t / (1 - beta1^t)
    # with l_t = sqrt(1 - beta2^t) / (sqrt(v_t) + eps)
    lr = 0.1
    one = optsim.sweep(problem=pb, noise=noise, optimizer=RAdam(lr=lr, threshold=4.0), steps=steps, record_every=1,
                       record=("eff_lr", "state"), seed=seed).isel(replicate=0, drop=True)
    t = one["step"].values[1:]
    eff = one["eff_lr"].isel(step=slice(1, None)).isel(param=0).values
    v = one["state"].sel(slot="v").isel(step=slice(1, None)).isel(param=0).values
    eps = float(RAdam().eps)
    r_engine = eff * theory.bias_correction(BETA1, t) * (np.sqrt(v) + eps) / (lr * np.sqrt(theory.bias_correction(BETA2, t)))
    sgd_phase = eff * theory.bias_correction(BETA1, t) / lr  # 1 where RAdam takes the momentum-SGD step lr m_hat
    rho_inf, rho_t = rho(t)
    ds["r_engine"] = ("t", np.where(rho_t > 4, r_engine, np.nan))
    ds["sgd_phase_factor"] = ("t", np.where(rho_t <= 4, sgd_phase, np.nan))
    ds["r_closed"] = ("t", rectification(t))
    ds["rho_t"] = ("t", rho_t)
    ds = ds.assign_coords(t=t)
    ds.attrs.update(rho_inf=rho_inf, beta2=BETA2)
    return ds


def rebound(loss, window):
    """Per trajectory, the largest factor by which the loss rises above its running minimum
    within the first ``window`` steps (1: it never rises)."""
    e = loss.sel(step=slice(0, window)).transpose(..., "step").values
    run_min = np.minimum.accumulate(e, axis=-1)
    return loss.isel(step=0, drop=True).copy(data=np.max(e[..., 1:] / run_min[..., :-1], axis=-1))


# -- NAG and Nadam ---------------------------------------------------------------------------------


def nag_valley():
    """The valley of the NAG figure, f = 1/2 (x^2 + 10 y^2) from (-8, 2)."""
    return optsim.problems.Quadratic(curvatures=[1.0, 10.0], x0=[-8.0, 2.0])


def _nag(cfg):
    pb = nag_valley()
    ds = optsim.sweep(
        problem=pb, noise=NOISE_FREE,
        optimizer={
            "momentum": SGD(lr=NAG_LR, momentum=LAMBDA, momentum_form="lr_inside"),
            "nag": NAG(lr=NAG_LR, momentum=LAMBDA),
            "sgd nesterov": SGD(lr=NAG_LR, momentum=LAMBDA, nesterov=True),
            "adam": Adam(lr=ADAM_LR),
            "nadam": NAdam(lr=ADAM_LR, form="optax"),
        },
        steps=cfg["nag_steps"], record_every=1, record=("loss", "params", "state"), seed=0,
    ).isel(replicate=0, drop=True)
    # NAG's look-ahead point for the next update: theta_t - lambda m_t (m_t: the velocity, lr inside)
    m = ds["state"].sel(optimizer="nag").isel(slot=0)
    ds["lookahead"] = ds["params"].sel(optimizer="nag") - LAMBDA * m
    ds["surface"] = loss_surface(pb, NAG_XLIM, NAG_YLIM, n=cfg["surface_n"]).rename({"x0": "x", "x1": "y"})
    ds.attrs.update(optimum=pb.optimum(), lam=LAMBDA, nag_lr=NAG_LR, adam_lr=ADAM_LR)
    return ds


def run(scale="quick"):
    cfg = SCALES[scale]
    return {"adam_vs_sgdm": _adam_vs_sgdm(cfg), "memory": _memory(cfg), "schedules": _schedules(cfg),
            "radam": _radam(cfg), "nag": _nag(cfg)}


# -- verdict -----------------------------------------------------------------------------------------


def _reduction(ref, new):
    """The relative reduction (ref - new) / |ref|; ``None`` (never reached) counts as infinite."""
    ref = np.inf if ref is None else float(ref)
    new = np.inf if new is None else float(new)
    if not np.isfinite(ref):
        return 1.0 if np.isfinite(new) else 0.0
    return (ref - new) / abs(ref)


def _steps_to(loss, frac):
    below = (loss <= frac * float(loss.isel(step=0))).values
    return int(loss["step"].values[np.argmax(below)]) if below.any() else None


def _early_ratio(ds):
    """ln(best early median loss of Adam / of SGDM) and its paired bootstrap interval."""
    early = ds["loss"].sel(step=ds.attrs["early_step"]).transpose("optimizer", "lr", "replicate")
    names = [str(o) for o in ds["optimizer"].values]
    vals = np.where(np.isfinite(early.values), early.values, np.inf)
    ia, isg = names.index("adam"), names.index("sgdm")

    def stat(r):
        med = np.median(vals[:, :, r], axis=2)
        return float(np.log(med[ia].min() / med[isg].min()))

    return bootstrap_interval(stat, ds.sizes["replicate"])


def _rebound_ratio(ra):
    """max over the lrs of ln(median rebound factor radam / adam) in the first 100 steps, with its
    paired bootstrap interval (both optimizers run on the same seeds)."""
    reb = rebound(ra["loss"], 100).transpose("optimizer", "lr", "replicate")
    names = [str(o) for o in reb["optimizer"].values]
    vals = reb.values
    ia, ir = names.index("adam"), names.index("radam")

    def stat(r):
        med = np.median(vals[:, :, r], axis=2)
        return float(np.max(np.log(med[ir] / med[ia])))

    return bootstrap_interval(stat, reb.sizes["replicate"])


def _final_gap(ds, pick):
    """max over the fast and tuned lrs of ln(median final loss SGDM / Adam), with its bootstrap interval."""
    fl = {k: ds["final_loss"].sel(optimizer=k[0], lr=pick[k]).values for k in pick}

    def stat(r):
        return float(max(np.log(np.median(fl[("sgdm", kind)][r]) / np.median(fl[("adam", kind)][r]))
                         for kind in ("fast", "tuned")))

    return bootstrap_interval(stat, ds.sizes["replicate"])


def verdict(results):
    rows = []
    fig_as, fig_mem, fig_sch, fig_ra, fig_nag = FIGURES
    src = "lecture 003, 'Adam vs SGDM' (Adam: fast training, unstable; SGDM: stable, better convergence(?))"
    ds = results["adam_vs_sgdm"]
    es = ds.attrs["early_step"]
    pick = {(o, kind): float(ds[f"{kind}_lr"].sel(optimizer=o)) for o in ("sgdm", "adam") for kind in ("fast", "tuned")}
    early = {o: float(ds["early_loss"].sel(optimizer=o, lr=pick[(o, "fast")])) for o in ("sgdm", "adam")}
    rows.append({
        "claim": "Adam trains fast: it reaches a low loss sooner than SGDM.",
        "source": src, "figure": fig_as,
        "expected": f"lowest median loss after {es} steps (10%) over the lr grid: Adam < SGDM",
        "measured": (f"Adam {early['adam']:.3g} (lr {pick[('adam', 'fast')]:.3g}) vs SGDM {early['sgdm']:.3g} "
                     f"(lr {pick[('sgdm', 'fast')]:.3g}); start loss {float(ds['loss'].isel(step=0).max()):.3g}"),
        **judge(*_early_ratio(ds), 0.0, above=False,
                criterion=f"ln(lowest median loss after {es} steps over the lr grid, adam / sgdm), paired "
                          f"bootstrap over {ds.sizes['replicate']} seeds (the lr chosen again in each resample)"),
    })
    sp = {k: spread(ds["final_loss"].sel(optimizer=k[0], lr=pick[k]).values) for k in pick}
    txt = "; ".join(f"{o} {kind} lr {pick[(o, kind)]:.3g}: {sp[(o, kind)][0]:.2f} +- {sp[(o, kind)][1]:.2f}"
                    for kind in ("fast", "tuned") for o in ("adam", "sgdm"))
    gaps = [normal_interval(sp[("adam", k)][0] - sp[("sgdm", k)][0], np.hypot(sp[("adam", k)][1], sp[("sgdm", k)][1]),
                            level=1 - (1 - LEVEL) / 2) for k in ("fast", "tuned")]
    weakest = min(gaps, key=lambda g: g[1][0])
    rows.append({
        "claim": "Adam is unstable, SGDM stable: Adam's final loss varies more from seed to seed.",
        "source": src, "figure": fig_as,
        "expected": "spread (sd of log10 final loss over seeds) larger for Adam, at the fast and at the tuned lr",
        "measured": f"{ds.sizes['replicate']} seeds; {txt}",
        **judge(*weakest, 0.0, above=True,
                criterion="the smaller of sd(adam) - sd(sgdm) at the fast and at the tuned lrs, normal interval "
                          "from the standard errors of the two sds, Bonferroni over the two lrs"),
    })
    fin = {k: float(np.median(ds["final_loss"].sel(optimizer=k[0], lr=pick[k]).values)) for k in pick}
    rows.append({
        "claim": "SGDM: better convergence (the lecture's question mark).",
        "source": src, "figure": fig_as,
        "expected": "SGDM ends at a lower median loss than Adam",
        "measured": (f"at the fast lrs SGDM {fin[('sgdm', 'fast')]:.3g} vs Adam {fin[('adam', 'fast')]:.3g}; "
                     f"with lrs tuned for the final loss SGDM {fin[('sgdm', 'tuned')]:.3g} vs Adam "
                     f"{fin[('adam', 'tuned')]:.3g}: SGDM is better only when Adam keeps its fast lr"),
        **judge(*_final_gap(ds, pick), 0.0, above=False,
                criterion=f"the larger of ln(median final loss sgdm / adam) at the fast and at the tuned lrs, "
                          f"paired bootstrap over {ds.sizes['replicate']} seeds"),
    })

    mem = results["memory"]
    src = "lecture 003, 'Trouble shooting: the memory of v_t keeps roughly 1000 steps'"
    ex = mem["v_excess"].sel(spike=[s for s in SPIKES if s]).dropna("t", how="all")
    k = ex["t"].values - SPIKE_AT
    share = {n: float(ex.sel(t=SPIKE_AT + n).max()) for n in (693, 1000) if SPIKE_AT + n <= int(mem.t.values[-1])}
    dev = float(np.max(np.abs(ex.values - BETA2 ** k[None, :])))
    rows.append({
        "claim": "The memory of v_t keeps roughly 1000 steps (beta2 = 0.999).",
        "source": src, "figure": fig_mem,
        "expected": "a spike's share of v_t decays as beta2^k: half after 693 steps, 1/e after 1000",
        "measured": ("optsim's v_t after a spike G (minus the spike-free v_t, over (1-beta2)(G^2-1)): "
                     + ", ".join(f"{v:.3f} after {n} steps" for n, v in share.items())
                     + f"; max |share - beta2^k| over all G and k = {dev:.1e}"),
        **all_of([("max |share - beta2^k|", dev, 1e-9, False),
                  ("|share after 1000 steps - 1/e|", abs(share.get(1000, np.inf) - np.exp(-1)), 1e-3, False)],
                 criterion="v_t's memory (replayed gradients)"),
    })
    peak = {G: float(mem["step_size"].sel(spike=G, t=slice(SPIKE_AT, None)).max()) for G in SPIKES if G}
    supp = {}
    for G in SPIKES[1:]:
        ratio = (mem["step_size"].sel(spike=G) / mem["step_size"].sel(spike=0.0)).sel(t=slice(SPIKE_AT + 1, None)).values
        below = np.flatnonzero(ratio < 0.5)
        supp[G] = int(below[-1] + 1) if below.size else 0
    # Adam's step from a huge gradient at step t0: lr (1-beta1) sqrt(1-beta2^t0) / ((1-beta1^t0) sqrt(1-beta2))
    bound = (1 - BETA1) * np.sqrt(1 - BETA2**SPIKE_AT) / ((1 - BETA1**SPIKE_AT) * np.sqrt(1 - BETA2))
    last = int(mem.t.values[-1]) - SPIKE_AT
    rows.append({
        "claim": "Late in training most gradients are small and a few mini-batches give large, informative gradients "
                 "rarely: Adam lets such a gradient move the parameters only a little, and it shrinks the following "
                 "steps for a long time.",
        "source": src, "figure": fig_mem,
        "expected": (f"the largest step after a gradient of size G at step {SPIKE_AT} stays near (1-beta1)/sqrt(1-beta2) "
                     f"(x the bias corrections) = {bound:.2f} lr however large G is (SGD: G lr); the steps after it stay "
                     f"small for ~ln((1-beta2) G^2 / 3)/(1-beta2) steps"),
        "measured": ("largest step after the spike (lr units) for G = " + ", ".join(f"{G:g}: {peak[G]:.2f}" for G in peak)
                     + "; the next steps stay below half their spike-free size for "
                     + ", ".join(f"{supp[G]}" + ("+" if supp[G] >= last else "") for G in supp)
                     + " steps respectively (1 before the spike, base gradient 1)"),
        **all_of([("largest step after a spike (lr units), below 1.1 x the bound + 0.2", max(peak.values()),
                   1.1 * bound + 0.2, False),
                  (f"steps kept below half their spike-free size after G = {SPIKES[-1]:g}", supp[SPIKES[-1]], 1000,
                   True)], criterion="a rare large gradient under Adam (replayed gradients)"),
    })

    sc = results["schedules"]
    src = "lecture 003, 'Cyclical LR [Smith, WACV'17]', 'SGDR [Loshchilov, et al., ICLR'17]', 'Adam need warm-up'"
    tri = sc["lr"].sel(schedule="triangular (Smith 2017)").values
    peaks = np.flatnonzero((tri[1:-1] > tri[:-2]) & (tri[1:-1] >= tri[2:])) + 1
    rows.append({
        "claim": "Cyclical LR: the learning rate goes up and down between two bounds, with a step size of several epochs.",
        "source": src, "figure": fig_sch,
        "expected": "triangular cycles between base lr 0.01 and max_lr 0.1, period 2 x step size = 1000 updates",
        "measured": (f"optsim Cyclic: min {tri.min():.4g}, max {tri.max():.4g}, peaks at updates "
                     + ", ".join(str(p) for p in peaks) + f" (spacing {np.diff(peaks).mean() if peaks.size > 1 else np.nan:g})"),
        **all_of([("|min lr - 0.01|", abs(tri.min() - 0.01), 1e-12, False),
                  ("|max lr - 0.1|", abs(tri.max() - 0.1), 1e-12, False),
                  ("max |peak spacing - 1000| in updates (infinite with one peak)",
                   float(np.max(np.abs(np.diff(peaks) - 1000))) if peaks.size > 1 else np.inf, 0.5, False)],
                 criterion="the triangular schedule"),
    })
    sg = sc["lr"].sel(schedule="SGDR, T_0 = 500, T_mult = 2").values
    restarts = np.flatnonzero(sg[1:] > sg[:-1] + 1e-12) + 1
    rows.append({
        "claim": "SGDR: cosine annealing with warm restarts (the rate jumps back up at each restart).",
        "source": src, "figure": fig_sch,
        "expected": "restarts to the base lr 0.1 at updates 500, 1500, 3500 (T_0 = 500, T_mult = 2), cosine decay between",
        "measured": ("optsim WarmRestarts: rate jumps up at updates " + ", ".join(str(r) for r in restarts)
                     + f", to {sg[restarts].max() if restarts.size else float('nan'):.4g}; lowest {sg.min():.3g}"),
        **all_of([("restarts missing or extra", len(set(restarts) ^ {r for r in (500, 1500) if r < len(sg)}), 0.5,
                   False),
                  ("|rate at the restarts - 0.1|", abs(sg[restarts].max() - 0.1) if restarts.size else np.inf, 1e-12,
                   False)], criterion="SGDR's restarts"),
    })
    wu = sc["lr"].sel(schedule="linear warm-up 300, then cosine").values
    peak = int(np.argmax(wu))
    rows.append({
        "claim": "Warm-up: keep the step size small at the beginning of training.",
        "source": src, "figure": fig_sch,
        "expected": "the rate rises over the warm-up, then decays",
        "measured": (f"linear warm-up: lr {wu[0]:.2g} at the first update, peak {wu[peak]:.3g} at update {peak}, "
                     f"{wu[-1]:.2g} at the end; increasing before the peak: {bool(np.all(np.diff(wu[: peak + 1]) > 0))}"),
        **all_of([("updates not increasing before the peak", np.sum(np.diff(wu[: peak + 1]) <= 0), 0.5, False),
                  ("first lr / peak lr", wu[0] / wu[peak], 0.01, False),
                  ("last lr / peak lr", wu[-1] / wu[peak], 1.0, False)],
                 criterion="the warm-up schedule's shape"),
    })

    ra = results["radam"]
    src = "lecture 003, 'RAdam [Liu, et al., ICLR'20]': effective memory size of EMA, max memory size, r_t"
    t = ra["t"].values
    rc, re_ = ra["r_closed"].values, ra["r_engine"].values
    ok = np.isfinite(rc)
    err = float(np.nanmax(np.abs(rc[ok] - re_[ok])))
    sgd_t = t[~ok]
    at = {n: float(ra["r_closed"].sel(t=n)) for n in (5, 10, 100, 1000) if n <= t[-1]}
    rows.append({
        "claim": "RAdam: rho_t is the effective memory size of the EMA (max rho_inf); while rho_t <= 4 it takes "
                 "momentum-SGD steps, afterwards the adaptive step times r_t, which rises to 1.",
        "source": src, "figure": fig_ra,
        "expected": "rho_inf = 2/(1-beta2) - 1 = 1999; r_t from optsim equals the closed form",
        "measured": (f"rho_inf = {ra.attrs['rho_inf']:g}; momentum-SGD steps at t = {', '.join(str(x) for x in sgd_t)} "
                     f"(their factor lr/(1-beta1^t) recovered to {float(np.nanmax(np.abs(ra['sgd_phase_factor'] - 1))):.0e}); "
                     + ", ".join(f"r_{n} = {v:.3f}" for n, v in at.items())
                     + f"; max |r_t(optsim) - r_t(closed form)| = {err:.1e}"),
        **all_of([("max |r_t(optsim) - r_t(closed form)|", err, 1e-9, False),
                  ("|rho_inf - 1999|", abs(ra.attrs["rho_inf"] - 1999), 1e-9, False)],
                 criterion="RAdam's rectification (an identity on the recorded effective lr)"),
    })
    reb = rebound(ra["loss"], 100).median("replicate")
    fin = ra["final_loss"].median("replicate")
    txt = "; ".join(f"lr {lr:g}: Adam {float(reb.sel(optimizer='adam', lr=lr)):.2f} vs RAdam "
                    f"{float(reb.sel(optimizer='radam', lr=lr)):.2f}" for lr in RADAM_LRS)
    rows.append({
        "claim": "Adam needs warm-up: its first steps, taken with a badly estimated v_t, are erratic; RAdam's "
                 "rectification keeps them small (a built-in warm-up).",
        "source": "lecture 003, 'Adam need warm-up' and 'RAdam'", "figure": fig_ra,
        "expected": "in the first 100 steps Adam's loss rebounds above its running minimum, RAdam's much less",
        "measured": (f"median largest rebound factor over {ra.sizes['replicate']} seeds: {txt}; final median loss "
                     + ", ".join(f"lr {lr:g}: Adam {float(fin.sel(optimizer='adam', lr=lr)):.3g} / RAdam "
                                 f"{float(fin.sel(optimizer='radam', lr=lr)):.3g}" for lr in RADAM_LRS)),
        **judge(*_rebound_ratio(ra), 0.0, above=False,
                criterion=f"max over the lrs of ln(median largest rebound factor radam / adam) in the first 100 "
                          f"steps, paired bootstrap over {ra.sizes['replicate']} seeds"),
    })

    nag = results["nag"]
    src = "lecture 003, 'Nesterov accelerated gradient (NAG)': look into the future"
    f0 = float(nag["loss"].isel(step=0).max())
    steps = {o: _steps_to(nag["loss"].sel(optimizer=o), 1e-4) for o in ("momentum", "nag", "adam", "nadam")}
    over = {o: float(nag["params"].sel(optimizer=o, param="x0").max()) for o in ("momentum", "nag", "adam", "nadam")}
    T = int(nag["step"].values[-1])

    def fmt(s):
        return str(s) if s is not None else f"> {T}"

    rows.append({
        "claim": "NAG looks into the future (gradient at theta - lambda m): it overshoots less than SGDM.",
        "source": src, "figure": fig_nag,
        "expected": "NAG passes the minimum by less and reaches a low loss sooner than SGDM (same lr, lambda)",
        "measured": (f"lr {nag.attrs['nag_lr']:g}, lambda {nag.attrs['lam']:g}: largest x past the minimum (x* = 0): "
                     f"SGDM {over['momentum']:.3f}, NAG {over['nag']:.3f}; steps to 1e-4 of the start loss ({f0:.3g}): "
                     f"SGDM {fmt(steps['momentum'])}, NAG {fmt(steps['nag'])}"),
        **all_of([("relative reduction (SGDM - NAG) / SGDM of the overshoot past x*",
                   _reduction(over["momentum"], over["nag"]), 0.0, True),
                  ("relative reduction of the steps to 1e-4 of the start loss",
                   _reduction(steps["momentum"], steps["nag"]), 0.0, True)], criterion="NAG against SGDM (exact gradients)"),
    })
    look = nag["lookahead"].transpose("step", "param").values
    sgdn = nag["params"].sel(optimizer="sgd nesterov").transpose("step", "param").values
    eq = float(np.max(np.abs(look - sgdn)))
    rows.append({
        "claim": "Rewritten with theta'_t = theta_t - lambda m_t, NAG is an SGDM-like update that needs no gradient at "
                 "a look-ahead point: theta'_t = theta'_(t-1) - lambda m_t - eta grad L(theta'_(t-1)).",
        "source": src, "figure": fig_nag,
        "expected": "NAG's look-ahead points equal the iterates of SGD(momentum, nesterov=True) (PyTorch's form)",
        "measured": f"max |theta'_t(NAG) - theta_t(SGD nesterov)| over {T} steps = {eq:.1e}",
        **exact(eq, 1e-12, above=False, criterion="max |theta'_t(NAG) - theta_t(SGD nesterov)|"),
    })
    rows.append({
        "claim": "Nadam: Adam with NAG's look-ahead momentum.",
        "source": "lecture 003, 'Nadam [Dozat, ICLR workshop'16]'", "figure": fig_nag,
        "expected": "like NAG against SGDM, Nadam overshoots less and converges sooner than Adam",
        "measured": (f"lr {nag.attrs['adam_lr']:g}: largest x past the minimum Adam {over['adam']:.3f}, Nadam "
                     f"{over['nadam']:.3f}; steps to 1e-4 of the start loss Adam {fmt(steps['adam'])}, Nadam "
                     f"{fmt(steps['nadam'])} (a small effect: the look-ahead moves weight from the older gradients "
                     f"to the current one)"),
        **all_of([("relative reduction (Adam - Nadam) / Adam of the overshoot past x*",
                   _reduction(over["adam"], over["nadam"]), 0.0, True),
                  ("relative reduction of the steps to 1e-4 of the start loss",
                   _reduction(steps["adam"], steps["nadam"]), 0.0, True)], criterion="Nadam against Adam (exact gradients)"),
    })
    return [{**r, "reproduced": bool(r["reproduced"])} for r in rows]
