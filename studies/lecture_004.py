"""Lecture 004 (Hung-yi Lee, ML 2022, "類神經網路訓練不起來怎麼辦 (三)：自動調整學習速率"): one
learning rate cannot fit an elongated convex error surface; the root-mean-square
adaptive learning rate gets close to the end and then bursts; learning-rate decay and
warm-up fix it.

The error surface
-----------------
An elongated convex quadratic f = 1/2 (theta - c)^T H (theta - c) with curvatures 1 (flat,
along theta_1) and 200 (steep, across the valley, theta_2), start (-10, 1), minimum (0, 0)
(``Quadratic(curvatures=[1, 200], rotation=0.1, x0=[-10, 1])``).  The valley is rotated
by 0.1 degrees (invisible in the figures): that couples the coordinates slightly, so the
steep coordinate never becomes exactly 0 in floating point.  On an exactly axis-aligned
quadratic it can underflow to 0 before its step turns unstable, and a perturbation of 0
cannot grow (a floating-point artefact that would hide the lecture's burst for some eta).

What is reproduced
------------------
``gd``
    "Training can be difficult even without critical points": gradient descent with a
    large eta = 0.99999 * 2/lambda_max (just inside the stability limit) bounces between
    the valley walls while the loss stays put and the gradient stays large, and with a
    small eta = 1e-6 it slides to the valley floor and then cannot move along it in the
    lecture's 100,000 updates.  (Further inside the limit the bouncing dies out sooner:
    on a quadratic it lasts about 1/(2 - eta lambda_max) steps.)
``rms``
    The lecture's root-mean-square method theta^(t+1) = theta^t - eta/sigma^t g^t with
    sigma^t = sqrt(1/(t+1) sum_(i<=t) (g^i)^2), constant eta = 0.3, in NumPy
    (:func:`lecture_rms`): optsim has no optimizer for it.  With eta^t = eta/sqrt(t+1)
    the sqrt(t+1) cancels and the rule is AdaGrad, eta/sqrt(sum (g^i)^2): that case is
    checked against optsim's ``Adagrad(eps=0)`` to 1e-12, which validates the NumPy code.
    With constant eta the per-coordinate rate eta sqrt(t+1)/sqrt(sum (g^i)^2) grows like
    sqrt(t) once the gradient of a coordinate has become tiny, until the step of the steep
    coordinate exceeds its stability limit 2/H_22 and it bursts ("爆走").
``schedules``
    Learning-rate scheduling eta^t/sigma^t with optsim's ``Adagrad(eps=0)``: decay eta^t =
    eta/sqrt(t+1) is exactly ``Adagrad(lr=eta)``; warm-up then decay, eta^t = eta
    min(1, (t+1)/W)/sqrt(t+1), is ``Adagrad(lr=eta)`` under ``LinearWarmup(W,
    start_factor=0)``.  Decay at eta = 0.3 reaches the end without bursts; at a ten times
    larger eta the first update (eta sign(g^0) in every coordinate, since sigma^0 = |g^0|)
    throws the iterate across the valley, and warm-up prevents it.  The lecture's reason
    for warm-up, "at the beginning the estimate of sigma has large variance", is measured
    on the same runs with Gaussian gradient noise (standard deviation equal to the initial
    gradient in each coordinate), over replicates.

Verdicts: every run but the noisy one uses exact gradients (or the NumPy rule), so those
claims have no Monte-Carlo error and are judged by ``exact`` against the claim's bound.
The claim about sigma^t's variance is judged from the noisy replicates: the ratio of the
relative spread of sigma^t after 1 update to that after ~100, with a paired bootstrap
interval over the replicates (99%), against the factor 2.

Deviations: the lecture's figures come from its own (unstated) surface and learning rates
(1e-2 and 1e-7); the quadratic, the learning rates and the noise are ours, chosen so that
the figures look like the lecture's.  The decay eta/sqrt(t+1) is one choice of decay (the
lecture does not fix one).  RMSProp and Adam (also in the lecture) have no figure here.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

import optsim
from optsim.analysis import loss_surface
from optsim.optimizers import SGD, Adagrad
from optsim.schedules import LinearWarmup
from optsim.sweep import Method
from studies._criteria import all_of, bootstrap_interval, exact, judge, scale_of

NAME = "lecture_004"
TITLE = "Lecture 004: adaptive learning rate on an elongated error surface (burst, decay, warm-up)"
QUESTION = (
    "On an elongated convex error surface, does one learning rate fail (bouncing or crawling), does the "
    "root-mean-square adaptive rate get close to the minimum and then burst, and do learning-rate decay "
    "and warm-up remove the burst and the erratic first steps?"
)
HYPOTHESIS = (
    "GD with a large eta bounces with a stalled loss and a large gradient, with a small eta it is still far "
    "after 100,000 updates; eta/sigma^t reaches within 1e-6 of the minimum and then bursts whenever "
    "eta/sigma_2^t H_22 exceeds 2; eta^t = eta/sqrt(t+1) (AdaGrad) never bursts; warm-up removes the jump "
    "of the first update; sigma^t is most variable in the first steps."
)
GALLERY = {
    "lecture": "004",
    "title": "Adaptive learning rate: RMS, the burst, decay and warm-up",
    "source": "Hung-yi Lee, NTU Machine Learning 2022, '類神經網路訓練不起來怎麼辦 (三)：自動調整學習速率'",
    "file": "004_bd59fb27145eabb9.txt",
}
FIGURES = ["lecture_004_one_learning_rate", "lecture_004_rms_burst", "lecture_004_scheduling"]

SCALES = {
    "tiny": {"gd_steps": 2000, "gd_dense": 300, "rms_steps": 600, "noise_replicates": 16, "surface_n": 60},
    "quick": {"gd_steps": 100_000, "gd_dense": 2000, "rms_steps": 3000, "noise_replicates": 256, "surface_n": 161},
    "paper": {"gd_steps": 100_000, "gd_dense": 5000, "rms_steps": 6000, "noise_replicates": 1024, "surface_n": 241},
}

CURVATURES, ROTATION, X0 = [1.0, 200.0], 0.1, [-10.0, 1.0]
ETA_RMS = 0.3  # the lecture's constant eta for eta/sigma
ETA_BIG = 3.0  # ten times larger, where the first update jumps without warm-up
WARMUP = 100
ETA_SMALL_GD = 1e-6
LARGE_FACTOR = 0.99999  # eta_large = LARGE_FACTOR * 2/lambda_max
#: exact gradients; a Gaussian of size 0 lets these runs share the compiled kernels of noisy ones
NOISE_FREE = optsim.noise.Gaussian(sigma=0.0)
XLIM, YLIM = (-11.0, 2.0), (-2.25, 1.51)  # no grid node exactly at the minimum (log contours)
NAMES = ["theta_1", "theta_2"]  # the axes of the loss surface (params "x0", "x1")
#: the first step at which decay at ETA_RMS is within 1% of the start distance (quick and paper
#: scales, exact gradients); a shorter run cannot show that it "reaches the end"
DECAY_REACH_STEP = 1253


def surface_problem():
    """The elongated valley: flat along theta_1, steep across it (theta_2)."""
    return optsim.problems.Quadratic(curvatures=CURVATURES, rotation=ROTATION, x0=X0)


def eta_large_gd(pb):
    """Just inside GD's stability limit: LARGE_FACTOR * 2/lambda_max."""
    return LARGE_FACTOR * 2.0 / float(np.linalg.eigvalsh(pb.hessian()).max())


def lecture_rms(pb, eta, steps):
    """The lecture's root-mean-square method, in NumPy.

    theta^(t+1) = theta^t - eta^t / sigma^t * g^t, sigma^t = sqrt(1/(t+1) sum_(i=0..t) (g^i)^2)
    per coordinate (t = 0, 1, ...; g^t the exact gradient at theta^t).  ``eta(t)`` gives
    eta^t.  Returns the iterates (steps + 1, d), sigma^t and the per-coordinate rate
    eta^t/sigma^t (steps, d).
    """
    H, c = pb.hessian(), pb.optimum()
    x = np.array(pb.start_point(), dtype=float)
    S = np.zeros_like(x)
    xs = np.empty((steps + 1, x.size))
    sig = np.empty((steps, x.size))
    xs[0] = x
    for t in range(steps):
        g = H @ (x - c)
        S += g * g
        sig[t] = np.sqrt(S / (t + 1))
        x = x - eta(t) / sig[t] * g
        xs[t + 1] = x
    return xs, sig, np.array([eta(t) for t in range(steps)])[:, None] / sig


def _surface(pb, n):
    s = loss_surface(pb, XLIM, YLIM, n=n)
    return s.rename({"x0": NAMES[0], "x1": NAMES[1]})


def _gd(cfg, pb):
    T = cfg["gd_steps"]
    rec = np.unique(np.concatenate([np.arange(cfg["gd_dense"] + 1), np.linspace(0, T, 1001).astype(int)]))
    ds = optsim.sweep(problem=pb, noise=NOISE_FREE, optimizer=SGD(), grid={"lr": [ETA_SMALL_GD, eta_large_gd(pb)]},
                      steps=T, record_steps=rec, record=("loss", "grad_norm", "params"), seed=0)
    return ds.isel(replicate=0, drop=True)


def _rms(cfg, pb):
    T = cfg["rms_steps"]
    xs, sig, rate = lecture_rms(pb, lambda t: ETA_RMS, T)
    xs_d, _, _ = lecture_rms(pb, lambda t: ETA_RMS / np.sqrt(t + 1.0), T)
    H = pb.hessian()
    f = 0.5 * np.einsum("ti,ij,tj->t", xs - pb.optimum(), H, xs - pb.optimum())
    return xr.Dataset(
        {
            "params": (("step", "param"), xs),
            "loss": ("step", f),
            "dist": ("step", np.linalg.norm(xs - pb.optimum(), axis=1)),
            "sigma": (("t", "param"), sig),
            "stability": (("t", "param"), rate * np.diag(H)),  # eta^t/sigma^t H_ii; GD diverges above 2
            "params_decay": (("step", "param"), xs_d),
        },
        coords={"step": np.arange(T + 1), "t": np.arange(T), "param": pb.coord_names()},
        attrs={"eta": ETA_RMS, "optimum": pb.optimum(), "H22": float(H[1, 1])},
    )


def _methods():
    return {
        f"decay, eta {ETA_RMS:g}": Adagrad(lr=ETA_RMS, eps=0.0),
        f"decay, eta {ETA_BIG:g}": Adagrad(lr=ETA_BIG, eps=0.0),
        f"warm-up + decay, eta {ETA_BIG:g}": Method(Adagrad(lr=ETA_BIG, eps=0.0),
                                                    LinearWarmup(warmup_steps=WARMUP, start_factor=0.0)),
    }


def _schedules(cfg, pb, seed=1):
    T = cfg["rms_steps"]
    ds = optsim.sweep(problem=pb, noise=NOISE_FREE, optimizer=_methods(), steps=T, record_every=1,
                      record=("loss", "params", "eff_lr"), seed=0).isel(replicate=0, drop=True)
    # the lecture's eta^t (eta^t/sigma^t = Adagrad's lr_t/sqrt(sum g^2), so eta^t = lr_t/sqrt(t+1))
    k = np.arange(T)
    warm = np.minimum(1.0, (k + 1.0) / WARMUP)
    eta_t = {
        "constant": np.full(T, ETA_RMS),
        f"decay, eta {ETA_RMS:g}": ETA_RMS / np.sqrt(k + 1.0),
        f"decay, eta {ETA_BIG:g}": ETA_BIG / np.sqrt(k + 1.0),
        f"warm-up + decay, eta {ETA_BIG:g}": ETA_BIG * warm / np.sqrt(k + 1.0),
    }
    ds["eta_t"] = (("schedule", "t"), np.array(list(eta_t.values())))
    ds = ds.assign_coords(schedule=list(eta_t), t=k)
    # Gaussian gradient noise with the size of the initial gradient in each coordinate
    g0 = np.abs(pb.hessian() @ (np.array(X0) - pb.optimum()))
    rec = np.unique(np.geomspace(1, T, 40).astype(int).tolist() + [0, T])
    noisy = optsim.sweep(problem=pb, noise=optsim.noise.Gaussian(sigma=1.0, scale=list(g0)), optimizer=_methods(),
                         steps=T, replicates=cfg["noise_replicates"], record_steps=rec, record=("state",), seed=seed)
    # after t updates AdaGrad's S holds t squared gradients: the lecture's sigma^(t-1) = sqrt(S / t)
    steps = noisy["step"].values
    S = noisy["state"].isel(slot=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(S / xr.DataArray(np.where(steps > 0, steps, np.nan), dims="step", coords={"step": steps}))
    ds["noisy_sigma"] = sigma.rename({"step": "nstep", "param": "nparam"})
    ds.attrs.update(noise_scale=g0, warmup=WARMUP)
    return ds


def run(scale="quick", seed=1):
    """``seed``: of the Gaussian gradient noise of the noisy replicates (the default gives the
    saved results; every other run has exact gradients)."""
    cfg = SCALES[scale]
    pb = surface_problem()
    gd = _gd(cfg, pb)
    gd["surface"] = _surface(pb, cfg["surface_n"])
    gd.attrs.update(optimum=pb.optimum(), eta_small=ETA_SMALL_GD, eta_large=eta_large_gd(pb))
    rms = _rms(cfg, pb)
    rms["surface"] = gd["surface"]
    sched = _schedules(cfg, pb, seed=seed)
    sched["surface"] = gd["surface"]
    sched["rms_params"] = rms["params"].rename({"step": "rstep"})
    sched.attrs["optimum"] = pb.optimum()
    return {"gd": gd, "rms": rms, "schedules": sched}


def bursts(dist, reach=1e-3, out=1e-2):
    """Bursts of a path that has come close to the minimum.

    After the distance first falls below ``reach`` x the starting distance, a burst is a
    maximal run of steps farther than ``out`` x the starting distance.  Returns the reach
    step and, per burst, (onset, start, peak, end): onset is the closest approach before the
    burst (where the growth begins), start/end the run, peak its farthest point.
    """
    d = np.asarray(dist, dtype=float)
    below = np.flatnonzero(d < reach * d[0])
    if below.size == 0:
        return None, []
    r = int(below[0])
    far = d > out * d[0]
    far[: r + 1] = False
    starts = np.flatnonzero(far[1:] & ~far[:-1]) + 1
    found, prev = [], r
    for s in starts:
        tail = np.flatnonzero(~far[s:])
        e = int(s + tail[0]) if tail.size else len(d)
        onset = int(prev + np.argmin(d[prev:s]))
        found.append((onset, int(s), int(s + np.argmax(d[s:e])), e))
        prev = e
    return r, found


def verdict(results):
    gd, rms, sc = results["gd"], results["rms"], results["schedules"]
    fig_gd, fig_rms, fig_sc = FIGURES
    rows = []
    src = "lecture 004, 'Training can be difficult even without critical points' (convex error surface)"
    big, small = gd.attrs["eta_large"], gd.attrs["eta_small"]
    g = gd.sel(lr=big)
    dense = int(gd["step"].values[np.flatnonzero(np.diff(gd["step"].values) > 1)[0]]) if np.any(
        np.diff(gd["step"].values) > 1) else int(gd["step"].values[-1])
    win = g.sel(step=slice(10, dense))
    theta2 = win["params"].sel(param="x1").values
    flips = float(np.mean(np.sign(theta2[1:]) != np.sign(theta2[:-1])))
    l_ratio = float(win["loss"].isel(step=-1) / win["loss"].isel(step=0))
    gn_start, gn_end = float(win["grad_norm"].isel(step=0)), float(win["grad_norm"].isel(step=-1))
    gn_small = float(gd.sel(lr=small)["grad_norm"].isel(step=-1))
    rows.append({
        "claim": "With a large learning rate the parameters bounce between the two walls of the valley: the loss stops "
                 "decreasing although the gradient is not small (training stuck != small gradient).",
        "source": src, "figure": fig_gd,
        "expected": "loss about flat (above half its value) while the gradient norm stays large (above half its "
                    "value); theta_2 changes side at nearly every step (more than 95%)",
        "measured": (f"eta = {big:.5g} ({LARGE_FACTOR} x 2/lambda_max), steps 10-{dense}: the loss only falls to "
                     f"{l_ratio:.2f} of its value while the gradient norm stays at {gn_start:.3g} -> {gn_end:.3g} (the "
                     f"small-eta run ends at {gn_small:.3g}); theta_2 changes sign at {100 * flips:.0f}% of the steps"),
        **all_of([(f"loss at step {dense} / loss at step 10", l_ratio, 0.5, True),
                  ("share of steps where theta_2 changes sign", flips, 0.95, True),
                  (f"gradient norm at step {dense} / at step 10", gn_end / gn_start, 0.5, True)],
                 criterion=f"GD at eta = {LARGE_FACTOR} x 2/lambda_max, exact gradients, steps 10-{dense}"),
    })
    s = gd.sel(lr=small)
    T = int(s["step"].values[-1])
    x_end = s["params"].sel(param="x0").isel(step=-1).values
    progress = 1 - float(x_end) / X0[0]
    rows.append({
        "claim": "With a small learning rate gradient descent reaches the valley floor but cannot move along the flat "
                 "direction: after 100,000 updates it is still far from the minimum.",
        "source": src, "figure": fig_gd,
        "expected": "far from the minimum after 100,000 updates: less than half of the way along theta_1",
        "measured": (f"eta = {small:g}: after {T} updates theta_1 = {float(x_end):.2f} (start {X0[0]:g}, minimum 0): "
                     f"{100 * progress:.0f}% of the way; loss {float(s['loss'].isel(step=-1)):.3g} "
                     f"(start {float(s['loss'].isel(step=0)):.3g})"),
        **exact(progress, 0.5, above=False,
                criterion=f"share of the way from theta_1 = {X0[0]:g} to 0 after {T} exact-gradient GD updates"),
    })

    src = "lecture 004, 'Without Adaptive Learning Rate' / Adagrad figure ('為甚麼後來會突然爆炸呢')"
    reach, found = bursts(rms["dist"].values)
    d = rms["dist"].values
    closest = min((d[o] for o, *_ in found), default=float(d.min()))
    rows.append({
        "claim": "With sigma = root mean square of the past gradients the method walks along the flat valley floor and "
                 "gets very close to the end.",
        "source": src, "figure": fig_rms,
        "expected": "close to the minimum: closest approach below 1e-6 of the start distance",
        "measured": (f"eta = {rms.attrs['eta']:g}: within 0.1% of the start distance at step {reach}; closest approaches "
                     f"before the bursts down to {closest:.1e} (start distance {d[0]:.2f}; "
                     f"{closest / d[0]:.1e} of it)"),
        **exact(closest / d[0], 1e-6, above=False,
                criterion="closest approach (before the bursts) / start distance"),
    })
    peaks = [d[p] for _, _, p, _ in found]
    rows.append({
        "claim": "... and then suddenly blows up (爆走), and does so again after settling.",
        "source": src, "figure": fig_rms,
        "expected": "at least one burst away from the minimum after reaching it",
        "measured": (f"{len(found)} bursts in {len(d) - 1} steps, starting at steps "
                     + ", ".join(str(st) for _, st, _, _ in found)
                     + (f"; each reaches {min(peaks):.2f}-{max(peaks):.2f} from the minimum" if found else "")),
        **exact(len(found), 0, above=True,
                criterion=f"number of bursts (beyond 1% of the start distance after coming within 0.1%) in "
                          f"{len(d) - 1} steps"),
    })
    stab = rms["stability"].sel(param="x1").values
    stab1 = rms["stability"].sel(param="x0").values
    onset = [float(stab[o]) for o, *_ in found]
    after = [float(stab[min(e, len(stab) - 1)]) for *_, e in found]
    move = [np.abs(rms["params"].values[p] - rms["params"].values[o]) for o, _, p, _ in found]
    steep_share = float(np.mean([m[1] / m.sum() for m in move])) if move else float("nan")
    rows.append({
        "claim": "Cause: sigma accumulated many small gradients, so eta/sigma became large and the step exploded; the "
                 "burst reaches large gradients, sigma grows and the steps shrink again.",
        "source": src, "figure": fig_rms,
        "expected": "each burst starts when the step of a coordinate passes its stability limit (eta/sigma H_ii > 2) "
                    "and ends with it back below",
        "measured": (("steep coordinate theta_2: eta/sigma_2 H_22 at the onsets "
                      + ", ".join(f"{v:.3f}" for v in onset) + "; after the bursts "
                      + ", ".join(f"{v:.2f}" for v in after)
                      + f"; flat theta_1 stays at <= {float(stab1.max()):.2f}; the bursts move {100 * steep_share:.0f}% "
                      "along theta_2 (across the valley; the notes' '左右方向' reads as the flat direction, but the "
                      "unstable coordinate is the steep one whose gradient vanished on the valley floor)")
                     if found else "no burst"),
        **all_of([("smallest eta/sigma_2 H_22 at a burst's onset", min(onset) if found else float("-inf"), 1.99,
                   True),
                  ("largest eta/sigma_2 H_22 after a burst", max(after) if found else float("inf"), 2.0, False)],
                 criterion="stability index of the steep coordinate around each burst"),
    })
    optsim_ada = sc["params"].sel(optimizer=f"decay, eta {ETA_RMS:g}").transpose("step", "param").values
    err = float(np.max(np.abs(optsim_ada - rms["params_decay"].values)))
    rows.append({
        "claim": "The lecture's eta^t/sigma^t with eta^t = eta/sqrt(t+1) is AdaGrad (eta/sqrt(sum g^2)).",
        "source": "lecture 004, 'Root Mean Square' (used in Adagrad)", "figure": fig_rms,
        "expected": "the NumPy implementation of the lecture's rule (used for constant eta) equals optsim's "
                    "Adagrad(eps=0) to 1e-12",
        "measured": f"max |difference| of the iterates over {len(d) - 1} steps: {err:.1e}",
        **exact(err, 1e-12, above=False, criterion="max |NumPy rule - optsim Adagrad(eps=0)| over the iterates"),
    })

    src = "lecture 004, 'Learning Rate Scheduling' (decay, warm-up)"
    dec = sc.sel(optimizer=f"decay, eta {ETA_RMS:g}")
    dd = np.linalg.norm(dec["params"].transpose("step", "param").values - sc.attrs["optimum"], axis=1)
    _, dec_bursts = bursts(dd)
    rebound = float(np.max(dd[1:] / np.minimum.accumulate(dd)[:-1]))
    # farthest distance once within 0.1% of the start distance (a burst goes beyond 1%); the
    # final distance if it never gets there
    dec_reach = np.flatnonzero(dd < 1e-3 * dd[0])
    farthest = float(dd[dec_reach[0]:].max() if dec_reach.size else dd[-1]) / dd[0]
    rows.append({
        "claim": "With learning-rate decay eta^t the method reaches the end smoothly (no burst).",
        "source": src, "figure": fig_sc,
        "expected": "no burst; ends close to the minimum (below 1% of the start distance)",
        "measured": (f"eta^t = {ETA_RMS:g}/sqrt(t+1) (optsim Adagrad): {len(dec_bursts)} bursts; distance "
                     f"{dd[0]:.2f} -> {dd[-1]:.1e} after {len(dd) - 1} steps; it never exceeds {rebound:.2f} x its "
                     f"closest approach so far, and once within 0.1% of the start distance never farther than "
                     f"{farthest:.1e} of it (constant eta: {len(found)} bursts)"),
        **exact(farthest, 1e-2, above=False,
                criterion=f"decay eta^t = {ETA_RMS:g}/sqrt(t+1), exact gradients: the farthest distance once within "
                          f"0.1% of the start distance (the final distance if never), / start distance (below 1%: no "
                          f"burst, and the end is close)",
                too_short=(f"decay first comes within 1% of the start distance at step {DECAY_REACH_STEP}; this "
                           f"scale runs {len(dd) - 1} steps"
                           if scale_of(results) != "paper" and len(dd) - 1 < DECAY_REACH_STEP else None)),
    })
    f0 = float(sc["loss"].isel(step=0).max())
    early = {m: float(sc["loss"].sel(optimizer=m).isel(step=slice(1, 21)).max()) / f0 for m in sc.optimizer.values}
    nobig, wbig = f"decay, eta {ETA_BIG:g}", f"warm-up + decay, eta {ETA_BIG:g}"
    d_end = {m: float(np.linalg.norm(sc["params"].sel(optimizer=m).isel(step=-1).values - sc.attrs["optimum"]))
             for m in (nobig, wbig)}
    rows.append({
        "claim": "Warm-up (increase, then decrease eta^t) keeps the first steps, taken while sigma rests on few "
                 "gradients, small.",
        "source": src, "figure": fig_sc,
        "expected": "without warm-up the first updates jump (loss rises above the start loss); with warm-up they do "
                    "not (at most the start loss)",
        "measured": (f"eta = {ETA_BIG:g}: highest loss in steps 1-20 / start loss = {early[nobig]:.2f} without warm-up, "
                     f"{early[wbig]:.2f} with a {WARMUP}-step warm-up; both end near the minimum (distance "
                     f"{d_end[nobig]:.1e}, {d_end[wbig]:.1e})"),
        **all_of([("highest loss in steps 1-20 / start loss, without warm-up", early[nobig], 1.0, True),
                  ("highest loss in steps 1-20 / start loss, with warm-up", early[wbig], 1.0 + 1e-12, False)],
                 criterion=f"eta = {ETA_BIG:g}, exact gradients"),
    })
    sig = sc["noisy_sigma"].sel(optimizer=nobig, nparam="x1")
    late = int(sig["nstep"].sel(nstep=100, method="nearest"))
    at = {k: int(sig["nstep"].sel(nstep=k, method="nearest")) for k in (1, 10, 100)}
    vals = sig.sel(nstep=[at[1], at[10], at[100]]).transpose("replicate", "nstep").values

    def spread(idx):
        v = vals[idx]
        return v.std(axis=0) / v.mean(axis=0)

    def ratio(idx):
        r = spread(idx)
        return float(r[0] / r[2])

    rel = spread(np.arange(vals.shape[0]))
    n_rep = int(vals.shape[0])
    stat, interval = bootstrap_interval(ratio, n_rep)
    rows.append({
        "claim": "At the beginning the estimate of sigma^t has a large variance.",
        "source": src + " 'At the beginning, the estimate of sigma has large variance'", "figure": fig_sc,
        "expected": "the spread of sigma^t across noisy runs is largest in the first steps: its relative spread after "
                    "1 update more than twice that after ~100",
        "measured": (f"steep coordinate, {n_rep} runs with Gaussian gradient noise: relative spread "
                     f"std/mean of sigma^t = {rel[0]:.2f} after 1 update, {rel[1]:.2f} after ~10, {rel[2]:.2f} after "
                     f"~100 (step {late}): ratio {stat:.2f}, 99% interval [{interval[0]:.2f}, {interval[1]:.2f}]"),
        **judge(stat, interval, 2.0, above=True,
                criterion=f"relative spread of sigma^t after 1 update / after {late} updates, paired bootstrap over "
                          f"the {n_rep} noisy replicates"),
    })
    return rows
