"""Generate, cache and load the trajectory kernel for one combination of components.

The kernel runs a range of trajectories one after the other, without the GIL; the plan
(:mod:`optsim.engine.plan`) runs blocks of trajectories on all cores from a thread pool.
A serial kernel compiles about 2.5 times faster than the same loop as a numba
``prange`` (6 s against 16 s here), and every trajectory still owns its rows of every
array, so the results do not depend on the number of threads or the blocks.

numba's disk cache never hits for a kernel that receives jitted functions as arguments
or closes over them, but it does for a module-level ``@njit(cache=True)`` kernel that
calls module-level jitted functions.  So for each combination of problem class, noise
model classes, optimizer class and schedule structure this module writes the source of
a kernel that imports exactly those functions, saves it under the kernel cache
directory (``$OPTSIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/optsim/kernels``, else
``~/.cache/optsim/kernels``) and imports it.  A second run in a new process loads the
compiled kernel from numba's cache instead of compiling it.

Every component function is inlined into the kernel at numba's IR level
(``inline='always'``): calls between separately compiled functions pay numba's atomic
reference counting on every array argument, which doubled the cost of a step.

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
from pathlib import Path

import numba

from .._version import __version__
from ..io import atomic_path
from . import _helpers  # noqa: F401  (imported by every generated kernel)

__all__ = ["kernel_for", "cache_dir", "KernelSpec", "STREAMS"]

TEMPLATE_VERSION = "4"

# Random-stream numbers inside a trajectory's key; noise model j uses NOISE0 + j.
STREAMS = {"problem": 0, "batch": 1, "record": 2, "init": 3, "noise0": 4}

_lock = threading.Lock()
_loaded: dict[str, object] = {}
_file_digests: dict[str, tuple[float, str]] = {}


def cache_dir() -> Path:
    """Where generated kernels (and numba's cache of them) are kept."""
    env = os.environ.get("OPTSIM_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "kernels"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "optsim" / "kernels"


class KernelSpec:
    """The structure a kernel is specialised on: component classes and schedule tree."""

    def __init__(self, problem_cls, noise_classes, optimizer_cls, schedule_nodes,
                 n_pdata=1, n_ndata=()):
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

    def key(self):
        return (self.problem_cls, self.noise_classes, self.optimizer_cls, self.schedule_nodes,
                self.n_pdata, self.n_ndata)


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
    O = spec.optimizer_cls.kernels
    for need in ("value_and_grad", "objective"):
        if need not in P:
            raise TypeError(f"{spec.problem_cls.__name__}.kernels lacks {need!r}")
    for need in ("init", "step", "eff_lr"):
        if need not in O:
            raise TypeError(f"{spec.optimizer_cls.__name__}.kernels lacks {need!r}")
    funcs["p_vg"] = P["value_and_grad"]
    funcs["p_obj"] = P["objective"]
    funcs["o_init"] = O["init"]
    funcs["o_step"] = O["step"]
    funcs["o_eff"] = O["eff_lr"]

    # -- the observed gradient -------------------------------------------------------
    lookahead = "lookahead" in O
    xg = "y" if lookahead else "x"
    grad = []
    if lookahead:
        funcs["o_look"] = O["lookahead"]
        grad.append("o_look(x, S, sc, t + 1, hp, y)")
    views = []  # array views made once per trajectory, outside the step loop
    noise_lines = []
    nz_off = 0
    minibatch = False
    for j, ncls in enumerate(spec.noise_classes):
        width = len(ncls.dynamic_names())
        views.append(f"np{j} = npar[{nz_off}:{nz_off + width}]")
        views.append(f"rng_n{j} = rng[{STREAMS['noise0'] + j}]")
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
            grad.append(f"fobs = p_bvg({xg}, g, idx, nb, pp, pdata)")
        else:
            funcs[f"n{j}_apply"] = ncls.kernels["apply"]
            noise_lines.append(f"n{j}_apply(g, {xg}, t, {sl}, ndata[{j}], rng_n{j})")
        nz_off += width
    if not minibatch:
        grad.append(f"fobs = p_vg({xg}, g, t, pp, pdata, rng_problem)")
    grad += noise_lines

    # -- the schedule tree -------------------------------------------------------------
    sched = []
    sp_off = 0
    ss_off = 0
    mom_index = -1
    if spec.optimizer_cls.momentum_param is not None:
        mom_index = spec.optimizer_cls.dynamic_names().index(spec.optimizer_cls.momentum_param)
    for i, (scls, child) in enumerate(spec.schedule_nodes):
        width = len(scls.dynamic_names())
        views.append(f"sp{i} = sp[{sp_off}:{sp_off + width}]")
        views.append(f"ss{i} = ss[{ss_off}:{ss_off + scls.state_size}]")
        sl = f"sp{i}"
        st = f"ss{i}"
        funcs[f"s{i}_value"] = scls.kernels["value"]
        inner = f", lr{child}" if scls.wraps else ""
        sched.append(f"lr{i} = s{i}_value(t, base_lr, {sl}, {st}, fobs{inner})")
        if "momentum" in scls.kernels and mom_index >= 0:
            # (an optimizer without momentum: the sweep has refused cycle_momentum=True)
            funcs[f"s{i}_mom"] = scls.kernels["momentum"]
            sched.append(f"mom = s{i}_mom(t, {sl})")
            sched.append(f"if mom == mom:\n    hp[{mom_index}] = mom")
        sp_off += width
        ss_off += scls.state_size
    sched.append(f"lr = lr{len(spec.schedule_nodes) - 1}")

    # -- optional problem functions ----------------------------------------------------
    test_line = "pass"
    if "test_loss" in P:
        funcs["p_test"] = P["test_loss"]
        test_line = "out_test[k, r] = p_test(x, pp, pdata)"
    if "distance" in P:
        funcs["p_dist"] = P["distance"]
        dist_expr = "p_dist(x, pp, pdata)"
    else:
        dist_expr = "_dist(x, xstar)"
    project = ["pass"]
    if "project" in P:
        funcs["p_proj"] = P["project"]
        project = ["p_proj(x, pp, pdata)"]
    init_point = ["pass"]
    if "initial_point" in P:
        funcs["p_init"] = P["initial_point"]
        init_point = [f"p_init(x, pp, pdata, rng[{STREAMS['init']}])"]  # once per trajectory

    nstreams = STREAMS["noise0"] + len(spec.noise_classes)
    pd_args = [f"pd{i}" for i in range(spec.n_pdata)]
    nd_args = [[f"nd{j}_{i}" for i in range(n)] for j, n in enumerate(spec.n_ndata)]
    tup = lambda names: "(" + ", ".join(names) + ("," if len(names) == 1 else "") + ")"  # noqa: E731
    src = _TEMPLATE.format(
        data_args=", ".join(pd_args + [a for group in nd_args for a in group]),
        pdata_tuple=tup(pd_args),
        ndata_tuple=tup([tup(group) for group in nd_args]) if nd_args else "()",
        version=TEMPLATE_VERSION,
        nstreams=nstreams,
        lookahead_alloc="y = np.empty(d)" if lookahead else "y = x",
        batch_alloc=(
            "idx = np.empty(nsamples, np.int64)\n        perm = np.arange(nsamples)\n        mbs = np.zeros(2)"
            if minibatch
            else "pass"
        ),
        init_point=_indent(init_point, 8),
        views=_indent(views, 8),
        grad=_indent(grad, 12),
        sched=_indent("\n".join(sched).split("\n"), 12),
        project=_indent(project, 12),
        test_line=test_line,
        dist_expr=dist_expr,
    )
    return src, funcs


_TEMPLATE = '''
@njit(cache=CACHE, nogil=True, error_model="numpy")
def kernel(x0, hpo, hps, hpn, hpp, xstar, rep, cell, seed, steps, rec_steps,
           thresholds, div_factor, x_bound, nslots, nscal, nsched, nsamples,
           out_loss, out_test, out_gnorm, out_dist, out_params, out_eff, out_effstats,
           out_state, out_statenorm, out_final, out_min, out_argmin, out_first, out_div,
           {data_args}):
    # optsim generated kernel, template {version}
    n = hpo.shape[0]
    d = x0.shape[1]
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
    check_x = x_bound < np.inf
    for k in range(n):
        pdata = {pdata_tuple}
        ndata = {ndata_tuple}
        x = x0[np.int64(k) if x0.shape[0] > 1 else np.int64(0)].copy()
        {lookahead_alloc}
        g = np.empty(d)
        gs = np.empty(d)
        eff = np.empty(d)
        S = np.zeros((nslots, d))
        sc = np.zeros(nscal)
        hp = hpo[k].copy()
        sp = hps[k]
        npar = hpn[k]
        pp = hpp[k]
        ss = np.zeros(nsched)
        rng = np.empty(({nstreams}, 4), np.uint64)
        for j in range({nstreams}):
            seed_stream(rng[j], seed, rep[k], j, cell[k])
        rng_problem = rng[{problem_stream}]
        rng_batch = rng[{batch_stream}]
        {batch_alloc}
{views}
{init_point}
        o_init(x, S, sc, hp)
        base_lr = hp[0]
        f0 = p_obj(x, pp, pdata)
        bound = div_factor * max(1.0, abs(f0))
        if not (bound < np.inf):
            bound = np.inf
        lr = np.nan
        last = np.nan
        best = np.inf
        best_step = -1
        div = -1
        r = 0
        t = 0
        fobs = f0
        nb = 0
        while True:
            if r < R and rec_steps[r] == t:
                f = p_obj(x, pp, pdata)
                if f != f:
                    f = np.inf
                if rec_loss:
                    out_loss[k, r] = f
                if rec_test:
                    {test_line}
                if rec_gnorm:
                    p_vg(x, gs, t, pp, pdata, rng[{record_stream}])
                    out_gnorm[k, r] = _norm(gs)
                if rec_dist:
                    out_dist[k, r] = {dist_expr}
                if rec_params:
                    for i in range(d):
                        out_params[k, r, i] = x[i]
                if rec_eff or rec_effstats:
                    if t == 0:
                        eff[:] = np.nan
                    else:
                        o_eff(S, sc, t, lr, hp, eff)
                    if rec_eff:
                        for i in range(d):
                            out_eff[k, r, i] = eff[i]
                    if rec_effstats:
                        _stats(eff, out_effstats[k, r])
                if rec_state:
                    for s in range(nslots):
                        for i in range(d):
                            out_state[k, r, s, i] = S[s, i]
                if rec_statenorm:
                    for s in range(nslots):
                        out_statenorm[k, r, s] = _rms(S[s])
                last = f
                if f < best:
                    best = f
                    best_step = t
                for j in range(nthr):
                    if out_first[k, j] < 0 and f <= thresholds[j]:
                        out_first[k, j] = t
                r += 1
            if t >= steps:
                break
{grad}
            bad = not (abs(fobs) <= bound)
            if check_x and not bad:
                for i in range(d):
                    if not (abs(x[i]) <= x_bound):
                        bad = True
                        break
            if bad:
                div = t
                break
{sched}
            o_step(x, g, S, sc, t + 1, lr, hp)
{project}
            t += 1
        if div >= 0:
            last = np.inf
            while r < R:
                if rec_loss:
                    out_loss[k, r] = np.inf
                if rec_test:
                    out_test[k, r] = np.inf
                if rec_gnorm:
                    out_gnorm[k, r] = np.inf
                if rec_dist:
                    out_dist[k, r] = np.inf
                if rec_params:
                    for i in range(d):
                        out_params[k, r, i] = x[i]
                if rec_eff:
                    for i in range(d):
                        out_eff[k, r, i] = np.nan
                if rec_effstats:
                    for i in range(3):
                        out_effstats[k, r, i] = np.nan
                if rec_state:
                    for s in range(nslots):
                        for i in range(d):
                            out_state[k, r, s, i] = S[s, i]
                if rec_statenorm:
                    for s in range(nslots):
                        out_statenorm[k, r, s] = np.nan
                r += 1
        out_final[k] = last
        out_min[k] = best
        out_argmin[k] = best_step
        out_div[k] = div
'''.replace("{record_stream}", str(STREAMS["record"])).replace(
    "{problem_stream}", str(STREAMS["problem"])).replace("{batch_stream}", str(STREAMS["batch"]))

_HEADER = '''"""Generated by optsim {optsim_version} (template {version}); do not edit.

Components: {components}
"""
import math
import numpy as np
from numba import njit
from optsim._rng import seed_stream
from optsim.engine._helpers import _norm, _rms, _stats, _dist
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
    components = ", ".join(
        c.__name__
        for c in (spec.problem_cls, *spec.noise_classes, spec.optimizer_cls, *(n for n, _ in spec.schedule_nodes))
    )
    if not cacheable:
        return _compile_in_memory(src, funcs)
    imports = "\n".join(
        f"from {mod} import {qual} as _{alias}\n{alias} = njit(inline='always')(_{alias}.py_func)"
        for alias, (mod, qual) in sorted(refs.items())
    )
    header = _HEADER.format(
        optsim_version=__version__, version=TEMPLATE_VERSION, components=components, imports=imports
    )
    full = header + src
    h = hashlib.sha256(full.encode())
    h.update(numba.__version__.encode())
    modules = sorted({mod for mod, _ in refs.values()} | {"optsim._rng", "optsim.engine._helpers"})
    for mod in modules:
        h.update(_file_digest(sys.modules[mod].__file__).encode())
    name = "k_" + h.hexdigest()[:24]
    with _lock:
        if name in _loaded:
            return _loaded[name]
        try:
            kernel = _load_module(name, full)
        except OSError:
            kernel = _compile_in_memory(src, funcs)
        _loaded[name] = kernel
        return kernel


def _load_module(name, source):
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
    return module.kernel


def _compile_in_memory(src, funcs):
    import math

    import numpy as np
    from numba import njit

    from .._rng import seed_stream
    from ._helpers import _dist, _norm, _rms, _stats

    namespace = dict(
        math=math, np=np, njit=njit, seed_stream=seed_stream,
        _norm=_norm, _rms=_rms, _stats=_stats, _dist=_dist, CACHE=False,
    )
    namespace.update({alias: njit(inline="always")(fn.py_func) for alias, fn in funcs.items()})
    exec(compile(src, "<optsim generated kernel>", "exec"), namespace)
    return namespace["kernel"]
