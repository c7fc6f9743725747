"""Generate, cache and load the trajectory kernel for one problem and its noise models.

The kernel runs a range of trajectories without the GIL; the plan
(:mod:`optsim.engine.plan`) runs ranges on all cores from a thread pool.  A serial kernel
compiles about 2.5 times faster than the same loop as a numba ``prange``, and every
trajectory owns its rows of every output and its random streams, so the results do not
depend on the number of threads or on the ranges.  Within a range the kernel advances
the replicates of a grid cell together (see the comment above ``_TEMPLATE``): that and
compiling without reference counting make a step several times faster than one
trajectory at a time with numba's defaults, with the same numbers to the bit.

numba's disk cache never hits for a kernel that receives jitted functions as arguments
or closes over them, but it does for a module-level ``@njit(cache=True)`` kernel that
calls module-level jitted functions.  So for each combination of problem class and noise
model classes this module writes the source of a kernel that imports exactly their
functions, saves it under the kernel cache directory (``$OPTSIM_CACHE_DIR``, else
``$XDG_CACHE_HOME/optsim/kernels``, else ``~/.cache/optsim/kernels``) and imports it.  A
second run in a new process loads the compiled kernel from numba's cache instead of
compiling it.  The problem's gradient and the noise models are inlined into the kernel at
numba's IR level (``inline='always'``); the work of recorded steps calls the problem's
own cached functions and one shared function that writes the records
(:mod:`optsim.engine._records`).

The optimizer and the schedule are not compiled into the kernel.  Each optimizer and each
schedule class gets a module of C-callable entry points (``numba.cfunc``, written and
cached the same way, see :func:`entry_points`), and the kernel calls them through their
addresses, which the plan hands it in two small tables.  A sweep over 8 optimizers then
compiles one kernel, not 8, and a new optimizer on a known problem compiles only its own
entry points (under a second).  The cost is an indirect call per update of a block of
replicates, or per update of a trajectory where blocks are not used: a few nanoseconds.

The file name is a hash of the generated source *and* of the source files of every
module it imports, so editing a component (ours or a user's) gives a new kernel
instead of a stale cached one.

Components whose functions live in ``__main__``, a notebook or any module without a
source file take the uncached path: the same source is compiled in memory.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading
import time
from pathlib import Path

import numba
import numpy as np

from .._version import __version__
from ..io import atomic_path
from . import _fcall, _helpers  # noqa: F401  (imported by every generated kernel)

__all__ = ["kernel_for", "entry_points", "cache_dir", "KernelSpec", "STREAMS", "KERNEL_LOG"]

TEMPLATE_VERSION = "5"

# Random-stream numbers inside a trajectory's key; noise model j uses NOISE0 + j.
STREAMS = {"problem": 0, "batch": 1, "record": 2, "init": 3, "noise0": 4}

# Blocks of replicates: at most BLOCK_TRAJ trajectories and about BLOCK_ELEMS coordinates
# (so that a block's x, gradient and state stay in the L1/L2 caches).  BLOCKS = False
# makes every kernel run one trajectory at a time (the tests compare the two).
BLOCKS = os.environ.get("OPTSIM_BLOCKS", "1") != "0"
BLOCK_TRAJ = 256
BLOCK_ELEMS = 2048

_lock = threading.Lock()
KERNEL_LOG: list[dict] = []
"""Every kernel and every component's entry points this process compiled or loaded:
``{"kernel", "kind" ("kernel" or "entry points"), "seconds", "compiled"}`` (also
:data:`optsim.engine.plan.KERNEL_LOG`)."""

_loaded: dict[str, object] = {}
_keep: list = []
_file_digests: dict[str, tuple[float, str]] = {}


def cache_dir() -> Path:
    """Where generated kernels (and numba's cache of them) are kept."""
    env = os.environ.get("OPTSIM_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "kernels"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "optsim" / "kernels"


class KernelSpec:
    """A group's component classes and schedule tree.

    The kernel is specialised on the problem and the noise models only (:meth:`key`); the
    optimizer and the schedule decide whether replicates advance in blocks (``blocked``)
    and which entry points the plan hands the kernel."""

    def __init__(self, problem_cls, noise_classes, optimizer_cls, schedule_nodes,
                 n_pdata=1, n_ndata=(), blocked=None):
        self.problem_cls = problem_cls
        self.noise_classes = tuple(noise_classes)
        # numba cannot hand tuples of arrays to a parallel loop, so the kernel takes the
        # problem's and each noise model's data arrays one by one: their counts are part
        # of the structure.
        self.n_pdata = int(n_pdata)
        self.n_ndata = tuple(int(n) for n in n_ndata) or tuple(1 for _ in self.noise_classes)
        self.optimizer_cls = optimizer_cls
        # schedule_nodes: list of (class, child_index or -1) in evaluation order (children first)
        self.schedule_nodes = tuple(schedule_nodes)
        self.blocked = blockable(optimizer_cls, [c for c, _ in self.schedule_nodes]) if blocked is None \
            else bool(blocked)

    def key(self):
        """What the kernel's source depends on: the optimizer and the schedule are not part
        of it (the kernel calls them through their entry points)."""
        return (self.problem_cls, self.noise_classes, self.n_pdata, self.n_ndata)


def blockable(optimizer_cls, schedule_classes):
    """Whether the replicates of a cell can advance together (see ``Optimizer.elementwise``).

    They can when the optimizer treats coordinates independently and every replicate gets
    the same learning rate at every step (no schedule that watches the loss or keeps state).
    """
    if not BLOCKS or not getattr(optimizer_cls, "elementwise", False):
        return False
    return all(c.state_size == 0 and not getattr(c, "watches_loss", False) for c in schedule_classes)


def _function_ref(fn):
    py = getattr(fn, "py_func", None)
    if py is None:
        raise TypeError(f"{fn!r} is not a numba-jitted function; decorate it with @numba.njit")
    return py.__module__, py.__qualname__


def _importable(fn):
    """True if ``fn`` can be imported by name from a module with a source file."""
    module_name, qualname = _function_ref(fn)
    mod = sys.modules.get(module_name)
    if module_name == "__main__" or mod is None:
        return False
    f = getattr(mod, "__file__", None)
    return bool(f) and os.path.isfile(f) and getattr(mod, qualname, None) is fn


def _file_digest(path):
    st = os.stat(path)
    hit = _file_digests.get(path)
    if hit and hit[0] == st.st_mtime:
        return hit[1]
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    _file_digests[path] = (st.st_mtime, digest)
    return digest


def _indent(lines, n):
    pad = " " * n
    return "\n".join(pad + ln if ln else ln for ln in lines)


def generate_source(spec: KernelSpec):
    """The kernel's source and the functions it needs, as {alias: jitted function}."""
    funcs = {}
    P = spec.problem_cls.kernels
    for need in ("value_and_grad", "objective"):
        if need not in P:
            raise TypeError(f"{spec.problem_cls.__name__}.kernels lacks {need!r}")
    funcs["p_vg"] = P["value_and_grad"]
    funcs["p_obj"] = P["objective"]

    # -- the observed gradient, at the look-ahead point y (= x for most optimizers) ---------
    grad = []
    views = []  # views of a block's hyperparameter rows, made outside the step loop
    rng_views = []  # each trajectory's random streams
    noise_lines = []
    nz_off = 0
    minibatch = False
    for j, ncls in enumerate(spec.noise_classes):
        width = len(ncls.dynamic_names())
        views.append(f"np{j} = npar[{nz_off}:{nz_off + width}]")
        rng_views.append(f"rng_n{j} = rng[{STREAMS['noise0'] + j}]")
        sl = f"np{j}"
        if ncls.kind == "minibatch":
            if j != 0:
                raise TypeError("minibatch sampling must be the first noise model")
            if "batch_value_and_grad" not in P:
                raise TypeError(f"{spec.problem_cls.__name__} has no dataset to sample minibatches from")
            minibatch = True
            funcs["p_bvg"] = P["batch_value_and_grad"]
            funcs["mb_sample"] = ncls.kernels["sample"]
            grad.append(f"nb = mb_sample(idx, perm, mbs, {sl}, rng_batch)")
            grad.append("fobs = p_bvg(y, g, idx, nb, pp, pdata)")
        else:
            funcs[f"n{j}_apply"] = ncls.kernels["apply"]
            noise_lines.append(f"n{j}_apply(g, y, t, {sl}, ndata[{j}], rng_n{j})")
        nz_off += width
    if not minibatch:
        grad.append("fobs = p_vg(y, g, t, pp, pdata, rng_problem)")
    grad += noise_lines

    # -- optional problem functions ----------------------------------------------------
    test_line = "pass"
    if "test_loss" in P:
        funcs["p_test"] = P["test_loss"]
        test_line = "ftest = _p_test(x, pp, pdata)"
    if "distance" in P:
        funcs["p_dist"] = P["distance"]
        dist_expr = "_p_dist(x, pp, pdata)"
    else:
        dist_expr = "_dist(x, xstar)"
    project = "pass"
    if "project" in P:  # onto the feasible set, after every update of the still running ones
        funcs["p_proj"] = P["project"]
        project = ("for b in range(B):\n    if div[b] < 0:\n"
                   "        p_proj(X[b * d:(b + 1) * d], pp, pdata)")
    init_point = ["pass"]
    if "initial_point" in P:
        funcs["p_init"] = P["initial_point"]
        init_point = [f"p_init(x, pp, pdata, rng[{STREAMS['init']}])"]  # once per trajectory

    data_args, pdata_tuple, ndata_tuple = _data_args(spec)
    src = _TEMPLATE.format(
        data_args=data_args,
        pdata_tuple=pdata_tuple,
        ndata_tuple=ndata_tuple,
        version=TEMPLATE_VERSION,
        nstreams=STREAMS["noise0"] + len(spec.noise_classes),
        batch_init=(
            "for i in range(nsamples):\n                perms[b, i] = i\n"
            "            mbss[b, 0] = 0.0\n            mbss[b, 1] = 0.0"
            if minibatch
            else "pass"
        ),
        batch_view="perm = perms[b]\n                mbs = mbss[b]" if minibatch else "pass",
        init_point=_indent(init_point, 12),
        views=_indent(views, 8),
        rng_views=_indent(rng_views, 16),
        grad=_indent(grad, 16),
        project=_indent(project.split("\n"), 12),
        test_line=test_line,
        dist_expr=dist_expr,
    )
    return src, funcs


def _data_args(spec):
    pd_args = [f"pd{i}" for i in range(spec.n_pdata)]
    nd_args = [[f"nd{j}_{i}" for i in range(n)] for j, n in enumerate(spec.n_ndata)]
    tup = lambda names: "(" + ", ".join(names) + ("," if len(names) == 1 else "") + ")"  # noqa: E731
    return (", ".join(pd_args + [a for group in nd_args for a in group]), tup(pd_args),
            tup([tup(group) for group in nd_args]) if nd_args else "()")


def block_size(spec, d):
    """How many trajectories the kernel for ``spec`` advances together in ``d`` dimensions."""
    if not spec.blocked:
        return 1
    return max(1, min(BLOCK_TRAJ, BLOCK_ELEMS // max(int(d), 1)))


def workspace(spec, d, n_hp, nslots, nscal, nsched, nsamples, nnodes=1):
    """The scratch arrays one kernel call works in (the kernel itself never allocates)."""
    bmax = block_size(spec, d)
    nstreams = STREAMS["noise0"] + len(spec.noise_classes)
    minibatch = bool(spec.noise_classes) and spec.noise_classes[0].kind == "minibatch"
    ns = int(nsamples) if minibatch else 0
    return (
        np.empty((4, bmax * d)),               # X, Y (look-ahead point), G, EFF
        np.empty((nslots, bmax * d)),          # S
        np.empty(nscal), np.empty(n_hp), np.empty(nsched),  # sc, hp, ss
        np.empty((3, bmax)),                   # bound, last, best
        np.empty((2, bmax), np.int64),         # best_step, div
        np.empty((bmax, nstreams, 4), np.uint64),  # every trajectory's random streams
        np.empty((1, d)),                      # scratch: the gradient for its norm
        np.empty(ns, np.int64), np.empty((bmax if ns else 0, ns), np.int64),  # idx, perms
        np.empty((bmax, 2)),                   # minibatch position and epoch
        np.empty(nnodes),                      # the learning rate of every schedule node
    )


# The kernel advances a block of B trajectories together: consecutive trajectories with
# identical hyperparameter rows (the replicates of a grid cell) when the optimizer is
# elementwise and the schedule the same for all of them (``KernelSpec.blocked``), else one
# at a time (B = 1).  Their coordinates lie one trajectory after another in flat arrays
# (``X[b*d + i]``), the optimizer's state likewise (``S[s, b*d + i]``).  The problem, the
# noise models and the records see one trajectory's slice at a time, with its own random
# streams; the schedule is evaluated once per step; and the optimizer updates the block
# in one call, a loop over B*d numbers that the compiler vectorizes.  Every number goes
# through the same operations in the same order whatever B is, so the results do not
# depend on it, to the bit.
#
# Work done only at recorded steps keeps every kernel small and quick to compile: the
# problem's numbers (loss, test loss, gradient norm, distance) come from its own cached
# functions, not inlined copies, and writing them, the parameters, the effective rates
# and the state into the outputs is ``optsim.engine._records.records``, compiled once for
# every kernel and called through its address, as the optimizer's and schedule's are.
#
# The kernel allocates nothing (the caller hands it a ``workspace``), so it is compiled
# without numba's reference counting (``_nrt=False``): every array view a component makes,
# or a slice of a trajectory, otherwise costs two atomic operations, and those were more
# than half of a step's time.
_TEMPLATE = """
@njit(cache=CACHE, nogil=True, error_model="numpy", _nrt=False)
def kernel(x0, hpo, hps, hpn, hpp, xstar, rep, cell, seed, steps, rec_steps,
           thresholds, div_factor, x_bound, nslots, nscal, nsched, nsamples, fn, sched,
           out_loss, out_test, out_gnorm, out_dist, out_params, out_eff, out_effstats,
           out_state, out_statenorm, out_final, out_min, out_argmin, out_first, out_div,
           W, S, sc, hp, ss, wt, wti, rngs, wd, idx, perms, mbss, lrs,
           {data_args}):
    # optsim generated kernel, template {version}
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
    flags = (rec_loss * 1 + rec_test * 2 + rec_gnorm * 4 + rec_dist * 8 + rec_params * 16 + rec_eff * 32
             + rec_effstats * 64 + rec_state * 128 + rec_statenorm * 256)
    a_loss = addr_of(out_loss)
    a_test = addr_of(out_test)
    a_gnorm = addr_of(out_gnorm)
    a_dist = addr_of(out_dist)
    a_params = addr_of(out_params)
    a_eff = addr_of(out_eff)
    a_effstats = addr_of(out_effstats)
    a_state = addr_of(out_state)
    a_statenorm = addr_of(out_statenorm)
    a_thr = addr_of(thresholds)
    a_first = addr_of(out_first)
    oslots = out_statenorm.shape[2]
    check_x = x_bound < np.inf
    pdata = {pdata_tuple}
    ndata = {ndata_tuple}
    bound = wt[0]
    last = wt[1]
    best = wt[2]
    best_step = wti[0]
    div = wti[1]
    gs = wd[0]
    # the optimizer's and the schedule's entry points (see entry_points)
    f_init = fn[0]
    f_step = fn[1]
    f_eff = fn[2]
    f_look = fn[3]
    mom_index = fn[4]
    f_rec = fn[5]  # optsim.engine._records.records
    nnodes = sched.shape[0]
    lmax = S.shape[1]
    nhp = hp.shape[0]
    a_S = addr_of(S)
    a_sc = addr_of(sc)
    a_hp = addr_of(hp)
    a_ss = addr_of(ss)
    k0 = 0
    while k0 < n:
        k1 = k0 + 1
        while k1 < n and k1 - k0 < bmax and _same_rows(hpo, hps, hpn, hpp, k0, k1):
            k1 += 1
        B = k1 - k0
        L = B * d
        X = W[0, :L]
        Y = W[1, :L]
        G = W[2, :L]
        EFF = W[3, :L]
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
{views}
        for b in range(B):
            k = k0 + b
            for j in range({nstreams}):
                seed_stream(rngs[b, j], seed, rep[k], j, cell[k])
            x = X[b * d:(b + 1) * d]
            row = x0[np.int64(k) if x0.shape[0] > 1 else np.int64(0)]
            for i in range(d):
                x[i] = row[i]
            rng = rngs[b]
            {batch_init}
{init_point}
        a_X = addr_of(X)
        a_Y = addr_of(Y)
        a_G = addr_of(G)
        a_sp = addr_of(sp)
        a_EFF = addr_of(EFF)
        call_void(f_init, (a_X, L, a_S, nslots, lmax, a_sc, nscal, a_hp, nhp))
        base_lr = hp[0]
        alive = B
        fobs = np.nan
        for b in range(B):
            f0 = _p_obj(X[b * d:(b + 1) * d], pp, pdata)
            bnd = div_factor * max(1.0, abs(f0))
            if not (bnd < np.inf):
                bnd = np.inf
            bound[b] = bnd
            last[b] = np.nan
            best[b] = np.inf
            best_step[b] = -1
            div[b] = -1
            fobs = f0
        lr = np.nan
        r = 0
        t = 0
        nb = 0
        while True:
            if r < R and rec_steps[r] == t:
                if (rec_eff or rec_effstats) and t > 0:
                    call_void(f_eff, (a_S, nslots, lmax, a_sc, nscal, t, lr, a_hp, nhp, addr_of(EFF), L))
                for b in range(B):
                    if div[b] >= 0:
                        continue
                    k = k0 + b
                    x = X[b * d:(b + 1) * d]
                    f = _p_obj(x, pp, pdata)
                    if f != f:
                        f = np.inf
                    ftest = np.nan
                    gnorm = np.nan
                    dist = np.nan
                    if rec_test:
                        {test_line}
                    if rec_gnorm:
                        _p_vg(x, gs, t, pp, pdata, rngs[b, {record_stream}])
                        gnorm = _norm(gs)
                    if rec_dist:
                        dist = {dist_expr}
                    call_void(f_rec, (0, k, r, t, n, R, d, nslots, oslots, lmax, b, flags, nthr, f, ftest, gnorm, dist,
                                      a_loss, a_test, a_gnorm, a_dist, a_params, a_eff, a_effstats, a_state,
                                      a_statenorm, a_first, a_thr, addr_of(x), a_S, a_EFF))
                    last[b] = f
                    if f < best[b]:
                        best[b] = f
                        best_step[b] = t
                r += 1
            if t >= steps:
                break
            if f_look != 0:
                call_void(f_look, (a_X, L, a_S, nslots, lmax, a_sc, nscal, t + 1, a_hp, nhp, a_Y))
            for b in range(B):
                if div[b] >= 0:
                    continue
                x = X[b * d:(b + 1) * d]
                g = G[b * d:(b + 1) * d]
                y = Y[b * d:(b + 1) * d] if f_look != 0 else x
                rng = rngs[b]
                rng_problem = rng[{problem_stream}]
                rng_batch = rng[{batch_stream}]
{rng_views}
                {batch_view}
{grad}
                bad = not (abs(fobs) <= bound[b])
                if check_x and not bad:
                    for i in range(d):
                        if not (abs(x[i]) <= x_bound):
                            bad = True
                            break
                if bad:
                    # the step at which it left the bounds; its later records are filled now
                    div[b] = t
                    alive -= 1
                    call_void(f_rec, (1, k0 + b, r, t, n, R, d, nslots, oslots, lmax, b, flags, nthr, np.inf, np.inf,
                                      np.inf, np.inf, a_loss, a_test, a_gnorm, a_dist, a_params, a_eff,
                                      a_effstats, a_state, a_statenorm, a_first, a_thr, addr_of(x), a_S,
                                      a_EFF))
                    last[b] = np.inf
                    for i in range(d):
                        g[i] = 0.0  # it rides along with the block, untouched by noise
            if alive == 0:
                break
            for i in range(nnodes):  # children first; sched[i] = addresses, child, offsets
                c = sched[i, 2]
                inner = lrs[c] if c >= 0 else np.nan
                lrs[i] = call_f64(sched[i, 0], (t, base_lr, a_sp + 8 * sched[i, 3], sched[i, 4],
                                                a_ss + 8 * sched[i, 5], sched[i, 6], fobs, inner))
                if sched[i, 1] != 0:
                    mom = call_f64(sched[i, 1], (t, a_sp + 8 * sched[i, 3], sched[i, 4]))
                    if mom == mom:
                        hp[mom_index] = mom
            lr = lrs[nnodes - 1]
            call_void(f_step, (a_X, a_G, L, a_S, nslots, lmax, a_sc, nscal, t + 1, lr, a_hp, nhp))
{project}
            t += 1
        for b in range(B):
            k = k0 + b
            out_final[k] = last[b]
            out_min[k] = best[b]
            out_argmin[k] = best_step[b]
            out_div[k] = div[b]
        k0 = k1
""".replace("{record_stream}", str(STREAMS["record"])).replace(
    "{problem_stream}", str(STREAMS["problem"])).replace("{batch_stream}", str(STREAMS["batch"]))

_HEADER = '''"""Generated by optsim {optsim_version} (template {version}); do not edit.

Components: {components}
"""
import math
import numpy as np
from numba import njit
from optsim._rng import seed_stream
from optsim.engine._helpers import _norm, _dist, _same_rows
from optsim.engine._fcall import call_void, call_f64, addr_of
{imports}
CACHE = True
'''


def kernel_for(spec: KernelSpec, *, cache: bool | None = None):
    """The compiled-on-first-call kernel for ``spec`` (cached on disk where possible)."""
    src, funcs = generate_source(spec)
    refs = {alias: _function_ref(fn) for alias, fn in funcs.items()}
    cacheable = all(_importable(fn) for fn in funcs.values())
    if cache is not None:
        cacheable = cacheable and cache
    components = ", ".join(c.__name__ for c in (spec.problem_cls, *spec.noise_classes))
    if not cacheable:
        return _compile_in_memory(src, funcs)
    imports = _import_lines(refs)
    header = _HEADER.format(
        optsim_version=__version__, version=TEMPLATE_VERSION, components=components, imports=imports
    )
    full = header + src
    modules = {mod for mod, _ in refs.values()} | {"optsim._rng", "optsim.engine._helpers", "optsim.engine._fcall"}
    name = "k_" + _source_hash(full, modules)
    with _lock:
        if name in _loaded:
            return _loaded[name]
        try:
            kernel = _load_module(name, full)
        except OSError:
            kernel = _compile_in_memory(src, funcs)
        _loaded[name] = kernel
        return kernel


# The C-callable entry points of an optimizer's and a schedule's functions, by role and
# function: (signature, arguments, call).  P is a pointer to float64 data (an array's
# first element), I an int64, F a float64.  The kernel calls them with the same
# arguments in this order (see _TEMPLATE).
_ENTRIES = {
    "optimizer": {
        "init": ("void(P, I, P, I, I, P, I, P, I)", "xp, n, sp, ns, m, scp, nsc, hpp, nhp",
                 "{f}(carray(xp, n), carray(sp, (ns, m)), carray(scp, nsc), carray(hpp, nhp))"),
        "step": ("void(P, P, I, P, I, I, P, I, I, F, P, I)", "xp, gp, n, sp, ns, m, scp, nsc, t, lr, hpp, nhp",
                 ("{f}(carray(xp, n), carray(gp, n), carray(sp, (ns, m)), carray(scp, nsc), t, lr,\n"
                  "        carray(hpp, nhp))")),
        "eff_lr": ("void(P, I, I, P, I, I, F, P, I, P, I)", "sp, ns, m, scp, nsc, t, lr, hpp, nhp, ep, n",
                   "{f}(carray(sp, (ns, m)), carray(scp, nsc), t, lr, carray(hpp, nhp), carray(ep, n))"),
        "lookahead": ("void(P, I, P, I, I, P, I, I, P, I, P)", "xp, n, sp, ns, m, scp, nsc, t, hpp, nhp, yp",
                      ("{f}(carray(xp, n), carray(sp, (ns, m)), carray(scp, nsc), t, carray(hpp, nhp),\n"
                       "        carray(yp, n))")),
    },
    "schedule": {
        "value": ("F(I, F, P, I, P, I, F, F)", "k, base_lr, spp, nsp, ssp, nss, loss, inner",
                  "return {f}(k, base_lr, carray(spp, nsp), carray(ssp, nss), loss{inner})"),
        "momentum": ("F(I, P, I)", "k, spp, nsp", "return {f}(k, carray(spp, nsp))"),
    },
}
_REQUIRED = {"optimizer": ("init", "step", "eff_lr"), "schedule": ("value",)}

_ENTRY_HEADER = '''"""Generated by optsim {optsim_version} (template {version}); do not edit.

C-callable entry points of {component}'s functions; the kernels call them by address.
"""
from numba import carray, cfunc, njit, types
{imports}
CACHE = True
'''

_ENTRY_PRELUDE = """
P = types.CPointer(types.float64)
I = types.int64
F = types.float64
void = types.void
"""


def entry_points(cls):
    """``{function: address}`` of the C-callable entry points of an optimizer's or a
    schedule's jitted functions (``init``, ``step``, ``eff_lr``, ``lookahead``; ``value``,
    ``momentum``), compiled once per component and kept in numba's disk cache."""
    key = ("entries", cls)
    with _lock:
        if key in _loaded:
            return _loaded[key]
    role = getattr(cls, "role", None)
    if role not in _ENTRIES:
        raise TypeError(f"{cls!r} is neither an optimizer nor a schedule")
    for name in _REQUIRED[role]:
        if name not in cls.kernels:
            raise TypeError(f"{cls.__name__}.kernels lacks {name!r}")
    funcs = {}
    body = [_ENTRY_PRELUDE]
    for name, (sig, args, call) in _ENTRIES[role].items():
        if name not in cls.kernels:
            continue
        funcs[f"f_{name}"] = cls.kernels[name]
        inner = ", inner" if getattr(cls, "wraps", False) else ""
        body.append(f"\n\n@cfunc({sig}, cache=CACHE, error_model='numpy')\ndef {name}({args}):\n"
                    f"    {call.format(f=f'f_{name}', inner=inner)}\n")
    src = "".join(body)
    names = [alias[2:] for alias in funcs]
    if all(_importable(fn) for fn in funcs.values()):
        refs = {alias: _function_ref(fn) for alias, fn in funcs.items()}
        imports = _import_lines(refs)
        full = _ENTRY_HEADER.format(optsim_version=__version__, version=TEMPLATE_VERSION,
                                    component=cls.__name__, imports=imports) + src
        name = "e_" + _source_hash(full, {mod for mod, _ in refs.values()})
        with _lock:
            t0 = time.perf_counter()
            try:
                module = _load_module(name, full, attr=None)
                entries = {n: getattr(module, n).address for n in names}
            except OSError:
                entries = None
            else:
                KERNEL_LOG.append({"kernel": f"optsim_kernels.{name}", "kind": "entry points",
                                   "seconds": time.perf_counter() - t0,
                                   "compiled": sum(getattr(module, n).cache_hits for n in names) == 0})
    else:
        entries = None
    if entries is None:  # functions without a source file, or an unwritable cache
        from numba import carray, cfunc, types

        namespace = {"carray": carray, "cfunc": cfunc, "types": types, "CACHE": False}
        namespace.update({alias: numba.njit(inline="always")(fn.py_func) for alias, fn in funcs.items()})
        t0 = time.perf_counter()
        exec(compile(src, f"<optsim entry points of {cls.__name__}>", "exec"), namespace)
        KERNEL_LOG.append({"kernel": f"<entry points of {cls.__name__}>", "kind": "entry points",
                           "seconds": time.perf_counter() - t0, "compiled": True})
        entries = {n: namespace[n].address for n in names}
        _keep.append(namespace)  # the compiled functions must outlive every kernel call
    with _lock:
        _loaded[key] = entries
    return entries


def records_address():
    """The address of :func:`optsim.engine._records.records` (compiled or loaded on first use)."""
    if "records" not in _loaded:
        with _lock:
            if "records" not in _loaded:
                t0 = time.perf_counter()
                from ._records import records

                KERNEL_LOG.append({"kernel": "optsim.engine._records", "kind": "entry points",
                                   "seconds": time.perf_counter() - t0, "compiled": records.cache_hits == 0})
                _loaded["records"] = records.address
    return _loaded["records"]


def _import_lines(refs):
    """Import each function by name (``_alias``, its cached dispatcher) and make an inlined
    copy of it (``alias``) for the generated module."""
    return "\n".join(
        f"from {mod} import {qual} as _{alias}\n{alias} = njit(inline='always')(_{alias}.py_func)"
        for alias, (mod, qual) in sorted(refs.items())
    )


def _source_hash(full, modules):
    """A hash of the generated source, numba's version and the source files it imports."""
    h = hashlib.sha256(full.encode())
    h.update(numba.__version__.encode())
    for mod in sorted(modules):
        h.update(_file_digest(sys.modules[mod].__file__).encode())
    return h.hexdigest()[:24]


def _load_module(name, source, attr="kernel"):
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    if not path.exists():
        with atomic_path(path) as tmp:
            Path(tmp).write_text(source)
    modname = f"optsim_kernels.{name}"
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module  # numba's cache re-imports the module by name
    spec.loader.exec_module(module)
    return module if attr is None else getattr(module, attr)


def _compile_in_memory(src, funcs):
    import math

    import numpy as np
    from numba import njit

    from .._rng import seed_stream
    from ._fcall import addr_of, call_f64, call_void
    from ._helpers import _dist, _norm, _same_rows

    namespace = dict(
        math=math, np=np, njit=njit, seed_stream=seed_stream,
        _norm=_norm, _dist=_dist, _same_rows=_same_rows,
        call_void=call_void, call_f64=call_f64, addr_of=addr_of,
        CACHE=False,
    )
    namespace.update({alias: njit(inline="always")(fn.py_func) for alias, fn in funcs.items()})
    namespace.update({"_" + alias: fn for alias, fn in funcs.items()})
    exec(compile(src, "<optsim generated kernel>", "exec"), namespace)
    return namespace["kernel"]
