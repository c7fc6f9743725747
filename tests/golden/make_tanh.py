"""Regenerate the golden file of tanh at 50 significant digits, from mpmath.

Run where mpmath is installed (optsim need not be)::

    python tests/golden/make_tanh.py          # from the repository root

The points: zeros and both signs of tiny, subnormal and huge numbers; 400 log-spaced
magnitudes from 1e-12 to 40 with both signs; dense grids around the switch of method at
0.625 and around 20, where tanh rounds to 1; and 4,000 random points of a standard normal
times 0.01, 0.3, 1, 3 and 10 (seed 0).  Writes ``tests/golden/functions/tanh_mpmath.npz``
with ``x`` and the exact tanh as a sum of two doubles, ``hi`` (the correctly rounded value)
and ``lo`` (the remainder, rounded), and the mpmath version.
"""

from pathlib import Path

import mpmath
import numpy as np

OUT = Path(__file__).resolve().parent / "functions" / "tanh_mpmath.npz"
mpmath.mp.dps = 50


def points():
    rs = np.random.default_rng(0)
    mags = np.logspace(-12, np.log10(40.0), 400)
    near = [np.linspace(0.6, 0.65, 501), np.linspace(19.0, 21.0, 201), np.linspace(18.0, 19.5, 101)]
    spread = [rs.standard_normal(800) * s for s in (0.01, 0.3, 1.0, 3.0, 10.0)]
    special = np.array([0.0, 1e-300, 5e-324, 2.2250738585072014e-308, 1e-10, 1.0000000000000002e-10, 1e300,
                        np.finfo(float).max])
    x = np.concatenate([special, mags, *near, *spread])
    return np.concatenate([x, -x])


def main():
    x = points()
    hi = np.empty_like(x)
    lo = np.empty_like(x)
    for i, v in enumerate(x):
        t = mpmath.tanh(mpmath.mpf(float(v)))
        hi[i] = float(t)
        lo[i] = float(t - mpmath.mpf(hi[i]))
    OUT.parent.mkdir(exist_ok=True)
    np.savez_compressed(OUT, x=x, hi=hi, lo=lo, mpmath=np.array(mpmath.__version__))
    print(f"wrote {OUT} ({x.size} points, mpmath {mpmath.__version__})")


if __name__ == "__main__":
    main()
