"""The trajectory loop every sweep runs, compiled once for every problem and component.

:func:`run` advances a range of trajectories without the GIL; the plan
(:mod:`optsim.engine.plan`) runs ranges on all cores from a thread pool.  Every
trajectory owns its rows of every output and its random streams, so the results do not
depend on the number of threads or on the ranges.

Nothing in this loop depends on the problem, the noise models, the optimizer or the
schedule: it reaches all of them through C-callable entry points (``numba.cfunc``) whose
addresses the plan hands it in two small tables (``Plan.entry_tables``).  The problem's
entry points, generated for each combination of problem and noise model classes
(:func:`optsim.engine.codegen.kernel_for`), compute the observed gradient of a block of
trajectories (the problem's gradient and the noise models inlined into one loop), the
loss and the other numbers recorded at a step, the initial point and the projection.  The optimizer's and the
schedule's entry points (:func:`optsim.engine.codegen.entry_points`) update a block and
give the learning rate.  What a recorded step writes into the outputs is
:func:`optsim.engine._records.records`.  So this loop is compiled once, on first use, and
kept in numba's disk cache; a new problem compiles only its own small entry points.

Blocks.  The loop advances a block of B trajectories together: consecutive trajectories
with identical hyperparameter rows (the replicates of a grid cell) when the optimizer is
elementwise and the schedule the same for all of them (``KernelSpec.blocked``, the block
size is the first dimension of the workspace's random streams), else one at a time
(B = 1).  Their coordinates lie one trajectory after another in flat arrays
(``X[b*d + i]``), the optimizer's state likewise (``S[s, b*d + i]``).  The problem and the
noise models see one trajectory's slice at a time, with its own random streams; the
schedule is evaluated once per step; and the optimizer updates the block in one call, a
loop over B*d numbers that the compiler vectorizes.  Every number goes through the same
operations in the same order whatever B is, so the results do not depend on it, to the
bit.  The cost of reaching the components by address is one indirect call per block and
step for each of them: a few nanoseconds.

The frame.  The problem's entry points take one pointer, to the ``frame``: an int64 array
of addresses and sizes (the block's coordinates, gradient, random streams, the problem's
hyperparameters and data arrays; layout ``FRAME``) that this loop and the plan fill in,
and a float64 array ``fs`` of scalars passed both ways (``FS``).

Several gradient evaluations per step.  A rule with a ``point`` entry point (``FN.point``)
takes ``FN.evals`` observed gradients per step at the points it writes, each from the
gradient at the one before (:func:`_gradients`), on the same noise sample (the random
streams and the minibatch sampler saved before the first and restored before each later
one) or on independent draws; ``step`` gets the last.  The other rules take one, at ``x``
or at their ``lookahead`` point, through the same calls as before.

The loop allocates nothing (the caller hands it a ``workspace``), so it is compiled without
numba's reference counting (``_nrt=False``): every array view, or a slice of a trajectory,
otherwise costs two atomic operations, and those were more than half of a step's time.
"""

import numpy as np
from numba import njit

from .._components import layout
from .._rng import seed_stream
from ._fcall import addr_of, call_f64, call_i64, call_void
from ._helpers import _same_rows

__all__ = ["FRAME", "FS", "FR", "FSL", "FN", "SCHED", "WORK", "WT", "WTI", "DATA_WIDTH", "HP_LR", "NO_TARGET", "SCHED_LR_ONLY",
           "SCHED_CLOCK", "SCHED_CLOCKED", "run"]

# Positions in the frame.  The problem's data arrays follow from DATA on, four numbers each:
# address and up to three dimensions.
FRAME = {
    "d": 0, "X": 1, "Y": 2, "G": 3, "div": 4, "bound": 5, "rng": 6, "nstreams": 7,
    "pp": 8, "npp": 9, "npar": 10, "nnpar": 11, "xstar": 12, "nxstar": 13, "gs": 14,
    "fs": 15, "idx": 16, "nidx": 17, "perms": 18, "mbss": 19, "bmax": 20, "DATA": 21,
}
# Positions in fs: the last observed loss (both ways); the loss, test loss, gradient norm and
# distance of a recorded step (from the problem's loss, test, gnorm, dist); the bound on |x_i|.
FS = {"fobs": 0, "f": 1, "ftest": 2, "gnorm": 3, "dist": 4, "x_bound": 5, "size": 6}

# The same positions as namedtuples of constants (``optsim._components.layout``), which
# numba folds into the loads a literal index gives: the loop and the generated entry points
# read ``frame[FR.X]``, ``fs[FSL.fobs]``.  A data array takes DATA_WIDTH numbers.
FR = layout(FRAME, "Frame")
FSL = layout(FS, "FrameScalars")
DATA_WIDTH = 4
# The table of entry points (``Plan.entry_tables``): the optimizer's init, step, eff_lr and
# lookahead (0: none), the records function, the problem's grad, loss, test, gnorm, dist, start and
# project (0: none); then the optimizer's point (0: none), its number of gradient evaluations
# per step, whether they share one noise sample (1) or draw anew (0), and the position in hp of
# the hyperparameter that chooses this per trajectory (-1: none); then, for a matrix rule
# (``Optimizer.matrix``), the address and number of rows of the problem's parameter blocks
# (``Problem.param_blocks``; nblocks 0: an elementwise step); then, for a rule that reads the
# noise-free gradient (``Optimizer.exact_gradient_row``), the problem's ``exact`` entry point
# (0: none) and the state row it writes into; then the problem's hess (0: none) and the
# optimizer's state row it fills before every step (``Optimizer.hessian_slot``); then the
# problem's metrics (0: not recorded), which write a recorded step's row of the metrics output.
FN = layout(("init", "step", "eff_lr", "lookahead", "records", "grad", "loss", "test",
             "gnorm", "dist", "start", "project", "point", "evals", "same_noise", "same_noise_hp",
             "blocks", "nblocks", "exact", "exact_row", "hess", "hess_slot", "metrics"), "EntryTable")
# The columns of a schedule node's row: the address of its value function, the child whose
# value it wraps (-1: none), the offset and width of its parameters in the schedule row and
# of its state; then, only in a sweep that schedules hyperparameters (the
# table is SCHED_LR_ONLY columns wide otherwise), the position in hp of the base value its
# value function gets (HP_LR: the learning rate) and where its value goes (NO_TARGET: to its
# parent, or, for the learning rate's root, the last row, to the update; else the position in
# hp of the scheduled hyperparameter, written there before every update).  A schedule that
# cycles the optimizer's momentum (``Cyclic``, ``OneCycle``) gets a second row, whose value
# function is its momentum function and whose target is the momentum hyperparameter.
SCHED = layout(("value", "child", "sp_off", "sp_n", "ss_off", "ss_n", "base", "target"),
               "ScheduleTable")
NO_TARGET = -1
SCHED_LR_ONLY = SCHED.base
# Three more columns, only in a sweep whose trees hold a schedule with a ``clock`` (a join,
# whose pieces count their updates from their own start): the row of the node's parent (-1:
# a root), the node's position among its parent's children, and the address of the node's own
# clock function (0: none).  Before every update the loop gives each node its count, from the
# roots down: a root counts t; a join's child what the join's clock returns for it (-1: the
# piece is not running, and neither it nor its subtree is evaluated); any other child its
# parent's count.  A join's value then wraps the child that is running.
SCHED_CLOCK = layout(("up", "slot", "clock"), "ScheduleClocks")
SCHED_CLOCKED = len(SCHED)
# The rows of the workspace's W (coordinates, look-ahead point, gradient, effective rates),
# wt (the per-trajectory floats) and wti (the per-trajectory integers).
WORK = layout(("X", "Y", "G", "EFF"), "Work")
WT = layout(("bound", "last", "best", "first"), "WorkFloats")
WTI = layout(("best_step", "div"), "WorkInts")
HP_LR = 0  # the optimizer's params[0] is lr (``optsim._roles.Optimizer``)
assert tuple(FR) == tuple(FRAME.values()) and tuple(FSL) == tuple(FS.values())


@njit(cache=True, nogil=True, error_model="numpy", _nrt=False, inline="always")
def _copy_sample(b, ns, rngs, perms, mbss, rngs_to, perms_to, mbss_to):
    """Copy trajectory b's random streams and minibatch sampler state (its noise sample)."""
    for j in range(rngs.shape[1]):
        for w in range(rngs.shape[2]):
            rngs_to[b, j, w] = rngs[b, j, w]
    for i in range(ns):
        perms_to[b, i] = perms[b, i]
    mbss_to[b, 0] = mbss[b, 0]
    mbss_to[b, 1] = mbss[b, 1]


@njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
def run(x0, hpo, hps, hpn, hpp, xstar, rep, cell, seed, steps, rec_steps,
        thresholds, div_factor, x_bound, nslots, nscal, nsched, nsamples, fn, sched,
        out_loss, out_test, out_gnorm, out_dist, out_params, out_eff, out_effstats,
        out_state, out_statenorm, out_metrics, out_final, out_min, out_argmin, out_first, out_div,
        W, S, sc, hp, ss, wt, wti, rngs, wd, idx, perms, mbss, lrs, frame, fs,
        rng_save, perm_save, mbss_save):
    """Run trajectories ``0:n`` of the given rows (see the module docstring).

    ``fn`` holds the addresses of the optimizer's ``init``, ``step``, ``eff_lr`` and
    ``lookahead`` (0: none), the records function, the problem's ``grad``, ``loss``,
    ``test``, ``gnorm``, ``dist`` (0: not recorded), ``start`` and ``project`` (0: none),
    the optimizer's ``point`` (0: none), gradient evaluations per step and choice of noise
    sample (see :func:`_gradients`), and a matrix rule's parameter blocks (address and rows;
    0 rows: none) (layout ``FN``); ``sched`` one row per schedule node, the trees of the
    scheduled hyperparameters first and the learning rate's last (layout ``SCHED``, see
    ``Plan.entry_tables``)."""
    n = hpo.shape[0]
    d = x0.shape[1]
    bmax = rngs.shape[0]
    R = rec_steps.shape[0]
    nthr = thresholds.shape[0]
    rec_loss = out_loss.shape[1] > 0
    rec_test = out_test.shape[1] > 0
    rec_gnorm = out_gnorm.shape[1] > 0
    rec_dist = out_dist.shape[1] > 0
    rec_params = out_params.shape[1] > 0
    rec_eff = out_eff.shape[1] > 0
    rec_effstats = out_effstats.shape[1] > 0
    rec_state = out_state.shape[1] > 0
    rec_statenorm = out_statenorm.shape[1] > 0
    rec_metrics = out_metrics.shape[1] > 0
    flags = (rec_loss * 1 + rec_test * 2 + rec_gnorm * 4 + rec_dist * 8 + rec_params * 16 + rec_eff * 32
             + rec_effstats * 64 + rec_state * 128 + rec_statenorm * 256 + rec_metrics * 512)
    a_loss = addr_of(out_loss)
    a_test = addr_of(out_test)
    a_gnorm = addr_of(out_gnorm)
    a_dist = addr_of(out_dist)
    a_params = addr_of(out_params)
    a_eff = addr_of(out_eff)
    a_effstats = addr_of(out_effstats)
    a_state = addr_of(out_state)
    a_statenorm = addr_of(out_statenorm)
    a_metrics = addr_of(out_metrics)
    nmet = out_metrics.shape[2]
    a_thr = addr_of(thresholds)
    a_first = addr_of(out_first)
    oslots = out_statenorm.shape[2]
    bound = wt[WT.bound]
    last = wt[WT.last]
    best = wt[WT.best]
    first = wt[WT.first]
    best_step = wti[WTI.best_step]
    div = wti[WTI.div]
    # the components' entry points
    f_init = fn[FN.init]
    f_step = fn[FN.step]
    f_eff = fn[FN.eff_lr]
    f_look = fn[FN.lookahead]
    f_rec = fn[FN.records]
    f_grad = fn[FN.grad]
    f_loss = fn[FN.loss]
    f_test = fn[FN.test]
    f_gnorm = fn[FN.gnorm]
    f_dist = fn[FN.dist]
    f_start = fn[FN.start]
    f_proj = fn[FN.project]
    f_metrics = fn[FN.metrics] if nmet > 0 else 0
    f_point = fn[FN.point]
    evals = fn[FN.evals]
    look = 1 if f_look != 0 or f_point != 0 else 0
    a_blocks = fn[FN.blocks]
    nblocks = fn[FN.nblocks]  # > 0: the step takes the parameter blocks
    f_exact = fn[FN.exact]  # != 0: the noise-free gradient goes into the state row exact_row
    exact_row = fn[FN.exact_row]
    nnodes = sched.shape[0]
    targeted = sched.shape[1] > SCHED_LR_ONLY  # some node sets a hyperparameter
    clocked = sched.shape[1] > SCHED_CLOCKED  # some node restarts its children's count (a join)
    lmax = S.shape[1]
    nhp = hp.shape[0]
    a_S = addr_of(S)
    a_sc = addr_of(sc)
    a_hp = addr_of(hp)
    a_ss = addr_of(ss)
    a_X = addr_of(W[WORK.X])
    a_Y = addr_of(W[WORK.Y])
    a_G = addr_of(W[WORK.G])
    a_EFF = addr_of(W[WORK.EFF])
    # what the problem's entry points read (the plan has filled in the data arrays)
    a_frame = addr_of(frame)
    frame[FR.d] = d
    frame[FR.X] = a_X
    frame[FR.Y] = a_Y
    frame[FR.G] = a_G
    frame[FR.div] = addr_of(div)
    frame[FR.bound] = addr_of(bound)
    frame[FR.rng] = addr_of(rngs)
    frame[FR.nstreams] = rngs.shape[1]
    frame[FR.xstar] = addr_of(xstar)
    frame[FR.nxstar] = xstar.shape[0]
    frame[FR.gs] = addr_of(wd[0])
    frame[FR.fs] = addr_of(fs)
    frame[FR.idx] = addr_of(idx)
    frame[FR.nidx] = idx.shape[0]
    frame[FR.perms] = addr_of(perms)
    frame[FR.mbss] = addr_of(mbss)
    frame[FR.bmax] = bmax
    fs[FSL.x_bound] = x_bound
    ns = perms.shape[1]  # the minibatch sampler's permutation (0: no minibatches)
    k0 = 0
    while k0 < n:
        k1 = k0 + 1
        while k1 < n and k1 - k0 < bmax and _same_rows(hpo, hps, hpn, hpp, k0, k1):
            k1 += 1
        B = k1 - k0
        L = B * d
        X = W[WORK.X, :L]
        for s in range(nslots):
            for i in range(L):
                S[s, i] = 0.0
        sc[:] = 0.0
        ss[:] = 0.0
        for j in range(hp.shape[0]):
            hp[j] = hpo[k0, j]
        sp = hps[k0]
        npar = hpn[k0]
        pp = hpp[k0]
        frame[FR.pp] = addr_of(pp)
        frame[FR.npp] = pp.shape[0]
        frame[FR.npar] = addr_of(npar)
        frame[FR.nnpar] = npar.shape[0]
        for b in range(B):
            k = k0 + b
            for j in range(rngs.shape[1]):
                seed_stream(rngs[b, j], seed, rep[k], j, cell[k])
            x = X[b * d:(b + 1) * d]
            row = x0[np.int64(k) if x0.shape[0] > 1 else np.int64(0)]
            for i in range(d):
                x[i] = row[i]
            for i in range(ns):
                perms[b, i] = i
            if ns > 0:
                mbss[b, 0] = 0.0
                mbss[b, 1] = 0.0
            if f_start != 0:
                call_void(f_start, (a_frame, b))
        a_sp = addr_of(sp)
        call_void(f_init, (a_X, L, a_S, nslots, lmax, a_sc, nscal, a_hp, nhp))
        base_lr = hp[HP_LR]
        alive = B
        fobs = np.nan
        for b in range(B):
            call_void(f_loss, (a_frame, b))
            f0 = fs[FSL.f]
            first[b] = f0
            bnd = div_factor * max(1.0, abs(f0))
            if not (bnd < np.inf):
                bnd = np.inf
            bound[b] = bnd
            last[b] = np.nan
            best[b] = np.inf
            best_step[b] = -1
            div[b] = -1
            fobs = f0
        fs[FSL.fobs] = fobs
        lr = np.nan
        r = 0
        t = 0
        while True:
            if r < R and rec_steps[r] == t:
                if (rec_eff or rec_effstats) and t > 0:
                    call_void(f_eff, (a_S, nslots, lmax, a_sc, nscal, t, lr, a_hp, nhp, a_EFF, L))
                for b in range(B):
                    if div[b] >= 0:
                        continue
                    k = k0 + b
                    if t == 0:  # where the bound was set from, the same point
                        f = first[b]
                    else:
                        call_void(f_loss, (a_frame, b))
                        f = fs[FSL.f]
                    if f != f:
                        f = np.inf
                    fs[FSL.ftest] = np.nan
                    fs[FSL.gnorm] = np.nan
                    fs[FSL.dist] = np.nan
                    if f_test != 0:
                        call_void(f_test, (a_frame, b))
                    if f_gnorm != 0:
                        call_void(f_gnorm, (a_frame, b, t))
                    if f_dist != 0:
                        call_void(f_dist, (a_frame, b))
                    if f_metrics != 0:  # straight into this record's row of the metrics
                        call_void(f_metrics, (a_frame, b, a_metrics + 8 * (k * R + r) * nmet, nmet))
                    call_void(f_rec, (0, k, r, t, n, R, d, nslots, oslots, lmax, b, flags, nthr, nmet, f,
                                      fs[FSL.ftest], fs[FSL.gnorm], fs[FSL.dist], a_loss, a_test, a_gnorm, a_dist,
                                      a_params, a_eff, a_effstats, a_state, a_statenorm, a_metrics, a_first, a_thr,
                                      a_X + 8 * b * d, a_S, a_EFF))
                    last[b] = f
                    if f < best[b]:
                        best[b] = f
                        best_step[b] = t
                r += 1
            if t >= steps:
                break
            if f_point == 0:
                if f_look != 0:
                    call_void(f_look, (a_X, L, a_S, nslots, lmax, a_sc, nscal, t + 1, a_hp, nhp, a_Y))
                nbad = call_i64(f_grad, (a_frame, t, B, look))
            else:
                same = fn[FN.same_noise] != 0
                if fn[FN.same_noise_hp] >= 0:
                    same = hp[fn[FN.same_noise_hp]] != 0.0
                nbad = _gradients(f_point, f_grad, evals, same, a_frame, t, B, L, a_X, a_G, a_S, nslots,
                                  lmax, a_sc, nscal, a_hp, nhp, a_Y, rngs, perms, mbss, rng_save,
                                  perm_save, mbss_save)
            # the observed gradient of every running trajectory; those that left the bounds
            # get div = t, a zero gradient (they ride along with the block), and their later
            # records filled now
            if nbad > 0:
                for b in range(B):
                    if div[b] == t:
                        alive -= 1
                        call_void(f_rec, (1, k0 + b, r, t, n, R, d, nslots, oslots, lmax, b, flags, nthr, nmet,
                                          np.inf, np.inf, np.inf, np.inf, a_loss, a_test, a_gnorm, a_dist,
                                          a_params, a_eff, a_effstats, a_state, a_statenorm, a_metrics, a_first,
                                          a_thr, a_X + 8 * b * d, a_S, a_EFF))
                        last[b] = np.inf
            fobs = fs[FSL.fobs]
            if alive == 0:
                break
            if clocked:  # every node's count, parents first (lrs[nnodes:] counts, lrs[2 nnodes:] running child)
                for i in range(nnodes - 1, -1, -1):
                    p = sched[i, SCHED_CLOCKED + SCHED_CLOCK.up]
                    tc = t
                    if p >= 0:
                        tc = np.int64(lrs[nnodes + p])
                        if tc >= 0 and sched[p, SCHED_CLOCKED + SCHED_CLOCK.clock] != 0:
                            tc = call_i64(sched[p, SCHED_CLOCKED + SCHED_CLOCK.clock],
                                          (tc, a_sp + 8 * sched[p, SCHED.sp_off], sched[p, SCHED.sp_n],
                                           sched[i, SCHED_CLOCKED + SCHED_CLOCK.slot]))
                            if tc >= 0:
                                lrs[2 * nnodes + p] = i
                    lrs[nnodes + i] = tc
            for i in range(nnodes):  # children first; sched[i] = addresses, child, offsets
                tc = t
                c = sched[i, SCHED.child]
                if clocked:
                    tc = np.int64(lrs[nnodes + i])
                    if tc < 0:
                        continue  # a piece of a join that is not running
                    if sched[i, SCHED_CLOCKED + SCHED_CLOCK.clock] != 0:
                        c = np.int64(lrs[2 * nnodes + i])
                inner = lrs[c] if c >= 0 else np.nan
                base = base_lr
                if targeted and sched[i, SCHED.base] != HP_LR:
                    base = hpo[k0, sched[i, SCHED.base]]
                lrs[i] = call_f64(sched[i, SCHED.value], (tc, base, a_sp + 8 * sched[i, SCHED.sp_off],
                                                          sched[i, SCHED.sp_n], a_ss + 8 * sched[i, SCHED.ss_off],
                                                          sched[i, SCHED.ss_n], fobs, inner))
                if targeted and sched[i, SCHED.target] != NO_TARGET:
                    hp[sched[i, SCHED.target]] = lrs[i]
            lr = lrs[nnodes - 1]
            if f_exact != 0:  # the gradient without noise where the observed one was taken
                for b in range(B):
                    if div[b] < 0:
                        call_void(f_exact, (a_frame, b, t, look, a_S + 8 * (exact_row * lmax + b * d)))
            if fn[FN.hess] != 0:  # the exact Hessian diagonal at x, via Y, into the rule's state row
                call_void(fn[FN.hess], (a_frame, B))
                hs = fn[FN.hess_slot]
                for i in range(L):
                    S[hs, i] = W[WORK.Y, i]
            if nblocks > 0:
                call_void(f_step, (a_X, a_G, L, a_S, nslots, lmax, a_sc, nscal, t + 1, lr, a_hp, nhp,
                                   a_blocks, nblocks))
            else:
                call_void(f_step, (a_X, a_G, L, a_S, nslots, lmax, a_sc, nscal, t + 1, lr, a_hp, nhp))
            if f_proj != 0:
                call_void(f_proj, (a_frame, B))
            t += 1
        for b in range(B):
            k = k0 + b
            out_final[k] = last[b]
            out_min[k] = best[b]
            out_argmin[k] = best_step[b]
            out_div[k] = div[b]
        k0 = k1


@njit(cache=True, nogil=True, error_model="numpy", _nrt=False)
def _gradients(f_point, f_grad, evals, same, a_frame, t, B, L, a_X, a_G, a_S, nslots, lmax, a_sc, nscal,
               a_hp, nhp, a_Y, rngs, perms, mbss, rng_save, perm_save, mbss_save):
    """The observed gradients of a block at the ``evals`` points of a step that the
    optimizer's ``point`` chooses; the last is left in the gradient row, and the number of
    trajectories that left the bounds (at any of the points) is returned.

    Point k is written from the gradient at point k - 1; the gradient there is taken on the
    same noise sample as at point 0 (``same``: every trajectory's random streams and the
    minibatch sampler's permutation and position are saved before the first evaluation and
    restored before each later one) or on fresh draws (the streams continue).  A trajectory
    that leaves the bounds at one point is marked there (``div = t``) and skipped at the
    later ones."""
    nbad = 0
    ns = perms.shape[1]
    for k in range(evals):
        if same and evals > 1:
            for b in range(B):
                if k == 0:  # save the sample's state ...
                    _copy_sample(b, ns, rngs, perms, mbss, rng_save, perm_save, mbss_save)
                else:  # ... and draw every later point from the same one
                    _copy_sample(b, ns, rng_save, perm_save, mbss_save, rngs, perms, mbss)
        call_void(f_point, (a_X, a_G, L, a_S, nslots, lmax, a_sc, nscal, t + 1, k, a_hp, nhp, a_Y))
        nbad += call_i64(f_grad, (a_frame, t, B, 1))
    return nbad
