"""Lecture 000 (Ki Hyun Kim, "Equation: Momentum & Adaptive LR"): momentum in a deep
valley, and Adam's update split into an "adaptive LR" factor and a "momentum" factor.

What is reproduced
------------------
``valley``
    The "Momentum Example: deep valley" slide.  Gradient descent and momentum in the
    lecture's form (g~_t = gamma g~_(t-1) - eta g_t, theta_(t+1) = theta_t + g~_t:
    ``SGD(momentum=0.9, momentum_form="lr_inside")``) on a narrow valley
    f = 1/2 (x^2 + 50 y^2) (``Quadratic(curvatures=[1, 50])``) from (-9, 1.2), over a grid
    of learning rates; the figure shows each method at the learning rate with the lowest
    loss after the run (so neither is handicapped by a choice of eta).  The loss surface
    is saved with the run.
``adam``
    The "Adam Explanation" slide: Adam as the lecture writes it, with eps inside the square
    root (theta_(t+1) = theta_t - eta s_hat / sqrt(r_hat + eps): ``Adam(eps_mode="inside")``),
    on the same valley, recording its moments s_t (m) and r_t (v).  From them the lecture's
    factors are computed:

        adaptive LR   A_t = sqrt(1 - rho2^t) / (1 - rho1^t)
        constant      C   = (1 - rho1) / sqrt(1 - rho2)
        momentum      M_t = sum_i rho1^(t-i) g_i / sqrt(sum_i rho2^(t-i) g_i^2)
                          = (s_t / (1 - rho1)) / sqrt(r_t / (1 - rho2))

    and eta A_t C M_t is compared with optsim's actual update (equal up to the dropped eps).

Verdicts: every run uses exact gradients and the factors are closed forms, so no claim has
Monte-Carlo error: each is judged by ``exact`` (the statistic against the claim's bound),
and reaches the same status at every scale.

Deviations: the lecture gives no valley, learning rate or eps; the valley, eta = 0.01 for
Adam, eps = 1e-8 (optsim's default) and the learning-rate grid are ours.  The slides on learning-rate decay (halving on a
plateau, step decay), AdaGrad and the wrap-up ("Adam is known to be the most robust to
hyperparameters") have no figure: the last is a statement about practice on real tasks,
which a two-dimensional valley cannot settle.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

import optsim
from optsim import theory
from optsim.analysis import loss_surface
from optsim.optimizers import SGD, Adam
from studies._criteria import all_of, exact

NAME = "lecture_000"
TITLE = "Lecture 000: momentum in a deep valley and Adam's adaptive-LR x momentum factors"
QUESTION = (
    "Does momentum get down a deep, narrow valley faster than gradient descent, and does Adam's update "
    "equal the lecture's product of an 'adaptive LR' factor sqrt(1-rho2^t)/(1-rho1^t), a constant and a "
    "'momentum' factor?"
)
HYPOTHESIS = (
    "At their best learning rates momentum reaches a far lower loss than gradient descent in the same "
    "steps; eta A_t C M_t equals Adam's update up to eps, A_t C = 1 at t = 1 and A_t -> 1 after a few "
    "thousand steps, and |M_t| stays below 1/sqrt(1 - rho1^2/rho2)."
)
GALLERY = {
    "lecture": "000",
    "title": "Momentum and adaptive learning rates",
    "source": "Ki Hyun Kim, 'Equation: Momentum & Adaptive LR' (nlp.with.deep.learning)",
    "file": "000_7921251ac64cd7a3.txt",
}
FIGURES = ["lecture_000_momentum_valley", "lecture_000_adam_factors"]

SCALES = {
    "tiny": {"valley_steps": 60, "lrs": 9, "adam_steps": 400, "surface_n": 60},
    "quick": {"valley_steps": 100, "lrs": 33, "adam_steps": 3000, "surface_n": 161},
    "paper": {"valley_steps": 100, "lrs": 65, "adam_steps": 10000, "surface_n": 241},
}

CURVATURES, X0 = [1.0, 50.0], [-9.0, 1.2]
GAMMA = 0.9
ADAM_LR, RHO1, RHO2 = 0.01, 0.9, 0.999
#: exact gradients; a Gaussian of size 0 lets these runs share the compiled kernels of noisy ones
NOISE_FREE = optsim.noise.Gaussian(sigma=0.0)
XLIM, YLIM = (-10.0, 2.5), (-2.0, 2.01)  # no grid node exactly at the minimum (log contours)


def valley():
    """The deep, narrow valley f = 1/2 (x^2 + 50 y^2), from (-9, 1.2)."""
    return optsim.problems.valley(CURVATURES[1], x0=X0)


def _valley(cfg):
    pb = valley()
    ds = optsim.sweep(
        problem=pb, noise=NOISE_FREE,
        optimizer={"gd": SGD(), "momentum": SGD(momentum=GAMMA, momentum_form="lr_inside")},
        grid={"lr": np.logspace(-4, 0, cfg["lrs"])}, steps=cfg["valley_steps"], record_every=1,
        record=("loss", "params"), seed=0,
    )
    ds["surface"] = loss_surface(pb, XLIM, YLIM, n=cfg["surface_n"]).rename({"x0": "x", "x1": "y"})
    ds["best_lr"] = ds["final_loss"].isel(replicate=0).idxmin("lr")
    ds.attrs["optimum"] = pb.optimum()
    return ds


def factors(m, v, t, rho1=RHO1, rho2=RHO2):
    """The lecture's split of Adam's step from the moments m_t = s_t, v_t = r_t at step t:
    (adaptive LR A_t, constant C, momentum M_t)."""
    t = np.asarray(t, dtype=float)
    A = theory.adam_step_factor(rho1, rho2, t)
    C = theory.uncorrected_step_ratio(rho1, rho2)
    M = (m / (1 - rho1)) / np.sqrt(v / (1 - rho2))
    return A, C, M


def _adam(cfg):
    steps = cfg["adam_steps"]
    ds = optsim.sweep(
        problem=valley(), noise=NOISE_FREE,
        optimizer=Adam(lr=ADAM_LR, betas=[RHO1, RHO2], eps_mode="inside"),
        steps=steps, record_every=1, record=("loss", "grad_norm", "params", "state"), seed=0,
    )
    ds = ds.isel(replicate=0)
    x = ds["params"].transpose("step", "param").values
    m = ds["state"].sel(slot="m").transpose("step", "param").values[1:]
    v = ds["state"].sel(slot="v").transpose("step", "param").values[1:]
    t = np.arange(1, steps + 1)
    A, C, M = factors(m, v, t[:, None])
    out = xr.Dataset(
        {
            "update": (("t", "param"), x[:-1] - x[1:]),  # theta_(t-1) - theta_t, the step at t
            "adaptive_lr": ("t", A[:, 0]),
            "momentum_factor": (("t", "param"), M),
            "product": (("t", "param"), ADAM_LR * A * C * M),
            "loss": ("t", ds["loss"].values[1:]),
            "grad_norm": ("t", ds["grad_norm"].values[:-1]),  # at theta_(t-1), where g_t is taken
        },
        coords={"t": t, "param": ds["param"].values},
        attrs={"lr": ADAM_LR, "rho1": RHO1, "rho2": RHO2, "constant": C, "eps": float(Adam().eps)},
    )
    return out


def run(scale="quick"):
    cfg = SCALES[scale]
    return {"valley": _valley(cfg), "adam": _adam(cfg)}


def verdict(results):
    """Every claim is about exact-gradient trajectories or closed forms (no random draws), so
    each is judged with :func:`studies._criteria.exact` (or :func:`studies._criteria.all_of`
    for a claim made of several conditions): no Monte-Carlo error, the same status at every
    scale that runs the same trajectories."""
    ds, ad = results["valley"], results["adam"]
    fig_v, fig_a = FIGURES
    rows = []
    best = {o: float(ds["best_lr"].sel(optimizer=o)) for o in ("gd", "momentum")}
    loss = {o: ds["loss"].sel(optimizer=o, lr=best[o]).isel(replicate=0) for o in best}
    f0 = float(loss["gd"].isel(step=0))
    T = int(ds["step"].values[-1])

    def steps_to(o, frac):
        below = (loss[o] <= frac * f0).values
        return int(np.argmax(below)) if below.any() else None

    s_gd, s_mo = steps_to("gd", 1e-2), steps_to("momentum", 1e-2)

    def fmt(s):
        return str(s) if s is not None else f"> {T}"

    end = {o: float(loss[o].isel(step=-1)) for o in best}
    ratio = end["momentum"] / end["gd"] if end["gd"] > 0 else float("inf")
    rows.append({
        "claim": "In a deep valley momentum accumulates the gradients along the valley and gets down faster than "
                 "gradient descent.",
        "source": "lecture 000, 'Momentum Example: deep valley'", "figure": fig_v,
        "expected": "momentum reaches a loss at least 10 times lower than GD's in the same number of steps (each at "
                    "its best lr): final loss ratio momentum / GD below 0.1",
        "measured": (f"after {T} steps: GD (lr {best['gd']:.3g}) loss {end['gd']:.2e}, momentum "
                     f"(lr {best['momentum']:.3g}) {end['momentum']:.2e} (start {f0:.1f}): ratio {ratio:.2e}; "
                     f"steps to 1% of the start: GD {fmt(s_gd)}, momentum {fmt(s_mo)}"),
        **exact(ratio, 0.1, above=False,
                criterion=f"final loss momentum / GD after {T} exact-gradient steps, each at the lr of the grid with "
                          f"the lowest final loss"),
    })
    fl = ds["final_loss"].isel(replicate=0)
    stable = np.isfinite(fl.sel(optimizer="gd")) & np.isfinite(fl.sel(optimizer="momentum"))
    better = float((fl.sel(optimizer="momentum") < fl.sel(optimizer="gd"))[stable].mean()) if bool(stable.any()) else 0.0
    rows.append({
        "claim": "Momentum's advantage is not an artefact of one learning rate.",
        "source": "lecture 000, 'Momentum Example: deep valley'", "figure": fig_v,
        "expected": "momentum lower than GD at most (more than half of the) learning rates where both are stable",
        "measured": (f"momentum ends lower at {100 * better:.0f}% of the {int(stable.sum())} learning rates where both "
                     f"stay finite; GD diverges above lr {float(fl.lr.where(np.isfinite(fl.sel(optimizer='gd'))).max()):.3g}, "
                     f"momentum above {float(fl.lr.where(np.isfinite(fl.sel(optimizer='momentum'))).max()):.3g}"),
        **exact(better, 0.5, above=True,
                criterion="share of the learning rates (both finite) where momentum's final loss is below GD's"),
    })

    upd, prod = ad["update"].values, ad["product"].values
    big = np.abs(upd) > 1e-3 * ad.attrs["lr"]
    rel = np.abs(prod - upd)[big] / np.abs(upd)[big]
    rows.append({
        "claim": "theta_(t+1) = theta_t - eta s_hat/sqrt(r_hat + eps) ~ theta_t - eta [sqrt(1-rho2^t)/(1-rho1^t)] "
                 "[(1-rho1)/sqrt(1-rho2)] [sum rho1^(t-i) g_i / sqrt(sum rho2^(t-i) g_i^2)].",
        "source": "lecture 000, 'Adam Explanation'", "figure": fig_a,
        "expected": "the product of the three factors equals Adam's update up to the dropped eps (relative "
                    "difference below 1e-4)",
        "measured": (f"max relative difference over {len(ad.t)} steps x 2 coordinates: {rel.max():.1e} (median "
                     f"{np.median(rel):.1e}); eps = {ad.attrs['eps']:g} inside the square root"),
        **exact(float(rel.max()), 1e-4, above=False,
                criterion="max relative difference |eta A_t C M_t - update| / |update| (updates above 1e-3 eta)"),
    })
    A = ad["adaptive_lr"]
    C = ad.attrs["constant"]
    tmin = int(A.idxmin("t"))
    t_mid = min(1000, int(ad.t.values[-1]))
    rise = np.diff(A.sel(t=slice(tmin, None)).values)
    rows.append({
        "claim": "The 'adaptive LR' factor sqrt(1-rho2^t)/(1-rho1^t) comes from the bias corrections and tends to 1.",
        "source": "lecture 000, 'Adam Explanation'", "figure": fig_a,
        "expected": "A_1 C = 1 (the first step is eta sign(g)); A_t -> 1 (it exceeds 0.9 from t = 1660 on): after its "
                    "dip A_t rises at every step",
        "measured": (f"A_1 = {float(A.sel(t=1)):.4f}, C = {C:.4f}, A_1 C = {float(A.sel(t=1)) * C:.6f}; A_t dips to "
                     f"{float(A.min()):.3f} at t = {tmin}, then rises: A_{t_mid} = {float(A.sel(t=t_mid)):.3f}, "
                     f"A_{int(ad.t.values[-1])} = {float(A.isel(t=-1)):.3f} (smallest step-to-step rise "
                     f"{float(rise.min()) if rise.size else float('nan'):.2e}); it is the same for every parameter"),
        **all_of([("|A_1 C - 1|", abs(float(A.sel(t=1)) * C - 1), 1e-12, False),
                  (f"smallest rise A_(t+1) - A_t after the dip at t = {tmin}",
                   float(rise.min()) if rise.size else float("-inf"), 0.0, True)],
                 criterion="closed form of the adaptive-LR factor"),
    })
    bound = 1 / np.sqrt(1 - RHO1**2 / RHO2)
    M = np.abs(ad["momentum_factor"])
    rows.append({
        "claim": "The 'momentum' factor is a direction made of discounted gradients, normalised by their "
                 "discounted root mean square (scale-free).",
        "source": "lecture 000, 'Adam Explanation'", "figure": fig_a,
        "expected": f"|M_t| <= 1/sqrt(1 - rho1^2/rho2) = {bound:.3f} (Cauchy-Schwarz), whatever the gradient size",
        "measured": (f"max |M_t| = {float(M.max()):.3f} over {len(ad.t)} steps while the gradient norm ranges over "
                     f"{np.log10(ad['grad_norm'].max() / ad['grad_norm'].min()):.1f} decades"),
        **exact(float(M.max()), float(bound) + 1e-12, above=False,
                criterion=f"max |M_t| over the {len(ad.t)} exact-gradient steps"),
    })
    return rows
