"""Monte Carlo against the exact expected loss on the noisy quadratic model.

One case of Zhang et al. (2019): the NQM with K = 100 coordinates, h_i = 1/i, gradient noise
N(0, H/B) with B = 4 (``CurvatureScaled``), SGD at lr 1.0 under a cosine schedule to zero
over the whole run.  The sweep's mean loss over R replicates (with its standard error
sd/sqrt(R)) is printed beside the exact E[L_t] of :func:`optsim.expected.expected_curve`
at a few steps, with the z-score (MC - exact) / SE and a Bonferroni bound over the table's
rows (family-wise alpha = 0.001).  SE uses the exact standard deviation (Gaussian fourth
moments); the sample one is shown beside it.

    python benchmarks/nqm_exact_vs_mc.py                    # about a minute on two cores
    python benchmarks/nqm_exact_vs_mc.py --replicates 10000 --seed 1
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from scipy.stats import norm

import optsim
from optsim.expected import expected_curve

STEPS_SHOWN = [1, 10, 50, 100, 250, 500, 1000, 1500, 2000]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--lr", type=float, default=1.0)
    ap.add_argument("--batch-size", type=float, default=4.0)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    shown = sorted({min(s, args.steps) for s in STEPS_SHOWN})
    ds = optsim.sweep(optsim.problems.NoisyQuadraticModel(dim=args.dim), optsim.optimizers.SGD(lr=args.lr),
                      noise=optsim.noise.CurvatureScaled(batch_size=args.batch_size),
                      schedule=optsim.schedules.CosineAnnealing(T_max=args.steps), replicates=args.replicates,
                      steps=args.steps, record_steps=[0] + shown, seed=args.seed)
    exact = expected_curve(ds).sel(step=shown)
    sd = expected_curve(ds, stat="std").sel(step=shown)
    loss = ds["loss"].sel(step=shown)
    mc = loss.mean("replicate")
    se = sd / math.sqrt(args.replicates)
    se_sample = loss.std("replicate", ddof=1) / math.sqrt(args.replicates)
    z = (mc - exact) / se
    bound = float(norm.isf(0.001 / (2 * len(shown))))
    print(f"NQM K={args.dim}, h_i = 1/i, noise N(0, H/{args.batch_size:g}), SGD lr={args.lr:g}, cosine to 0 over "
          f"{args.steps} steps, {args.replicates} replicates, seed {args.seed}")
    print(f"{'step':>6} {'MC mean':>12} {'SE':>10} {'SE sample':>10} {'exact':>12} {'z':>7}")
    for i, s in enumerate(shown):
        print(f"{s:>6} {float(mc[i]):>12.6g} {float(se[i]):>10.3g} {float(se_sample[i]):>10.3g} "
              f"{float(exact[i]):>12.6g} {float(z[i]):>7.2f}")
    zmax = float(np.max(np.abs(z.values)))
    print(f"max |z| = {zmax:.2f}; Bonferroni bound over {len(shown)} rows at alpha 0.001: {bound:.2f} "
          f"({'within' if zmax < bound else 'OUTSIDE'})")
    return 0 if zmax < bound else 1


if __name__ == "__main__":
    raise SystemExit(main())
