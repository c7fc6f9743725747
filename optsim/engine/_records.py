"""What the trajectory loop writes at a recorded step, and for a trajectory that diverged.

This work does not depend on the problem, the noise models or the optimizer, so it is
compiled once, as a C-callable function (``numba.cfunc``, kept in numba's disk cache).
The loop (:func:`optsim.engine._driver.run`) gets the problem's numbers (loss, test loss,
gradient norm, distance) from the problem's entry points and calls
:data:`records` through its address (``Plan.entry_tables``) with pointers to its
outputs, whose shapes are those of ``Plan.output_shapes`` for the ``n`` trajectories of
the call.  ``flags`` says which outputs are recorded (bit i for ``RECORDS[i]``; by name,
:data:`optsim.engine.outputs.FLAGS`, which numba folds into constants).
"""

import numpy as np
from numba import carray, cfunc, types

from ._helpers import _rms, _stats
from .outputs import FLAGS as F
from .outputs import RECORDED

__all__ = ["RECORDS", "records"]

RECORDS = RECORDED

_I = types.int64
_F = types.float64
_P = types.CPointer(types.float64)
_Q = types.CPointer(types.int64)


@cfunc(types.void(_I, _I, _I, _I, _I, _I, _I, _I, _I, _I, _I, _I, _I, _I, _F, _F, _F, _F,
                  _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _Q, _P, _P, _P, _P),
       cache=True, error_model="numpy")
def records(diverged, k, r, t, n, R, d, nslots, oslots, lmax, b, flags, nthr, nmet, f, ftest, gnorm, dist,
            p_loss, p_test, p_gnorm, p_dist, p_params, p_eff, p_effstats, p_state, p_statenorm, p_metrics,
            p_first, p_thr, p_x, p_S, p_EFF):
    """Record ``r`` of trajectory ``k`` (block position ``b``) at step ``t``; or, with
    ``diverged``, records ``r`` to ``R - 1`` of a trajectory that left the bounds at this
    step: losses inf, parameters and state frozen where they are, effective rates and
    metrics NaN.

    ``nslots`` is the optimizer's number of state vectors, ``oslots`` the outputs' (the
    most of any optimizer in the sweep; the others' extra slots stay NaN).  ``nmet`` is the
    width of the metrics' output; the problem's ``metrics`` entry point writes a recorded
    step's metrics there itself, so only a diverged trajectory's are written here."""
    x = carray(p_x, d)
    S = carray(p_S, (nslots, lmax))
    stop = R if diverged else r + 1
    for rr in range(r, stop):
        if flags & F.loss:
            carray(p_loss, (n, R))[k, rr] = f
        if flags & F.test_loss:
            carray(p_test, (n, R))[k, rr] = ftest
        if flags & F.grad_norm:
            carray(p_gnorm, (n, R))[k, rr] = gnorm
        if flags & F.dist:
            carray(p_dist, (n, R))[k, rr] = dist
        if flags & F.params:
            out = carray(p_params, (n, R, d))
            for i in range(d):
                out[k, rr, i] = x[i]
        if flags & (F.eff_lr | F.eff_lr_stats):
            if diverged:
                if flags & F.eff_lr:
                    out = carray(p_eff, (n, R, d))
                    for i in range(d):
                        out[k, rr, i] = np.nan
                if flags & F.eff_lr_stats:
                    stats = carray(p_effstats, (n, R, 3))
                    for i in range(3):
                        stats[k, rr, i] = np.nan
            else:
                eff = carray(p_EFF, (lmax,))[b * d:(b + 1) * d]
                if t == 0:
                    for i in range(d):
                        eff[i] = np.nan
                if flags & F.eff_lr:
                    out = carray(p_eff, (n, R, d))
                    for i in range(d):
                        out[k, rr, i] = eff[i]
                if flags & F.eff_lr_stats:
                    _stats(eff, carray(p_effstats, (n, R, 3))[k, rr])
        if flags & F.state:
            out = carray(p_state, (n, R, oslots, d))
            for s in range(nslots):
                for i in range(d):
                    out[k, rr, s, i] = S[s, b * d + i]
        if flags & F.state_norm:
            out = carray(p_statenorm, (n, R, oslots))
            for s in range(nslots):
                if diverged:
                    out[k, rr, s] = np.nan
                else:
                    out[k, rr, s] = _rms(S[s, b * d:(b + 1) * d])
        if flags & F.metrics and diverged:
            out = carray(p_metrics, (n, R, nmet))
            for i in range(nmet):
                out[k, rr, i] = np.nan
    if not diverged:
        first_below = carray(p_first, (n, nthr))
        thresholds = carray(p_thr, nthr)
        for j in range(nthr):
            if first_below[k, j] < 0 and f <= thresholds[j]:
                first_below[k, j] = t
