"""Generate, cache and load the entry points that the trajectory loop calls.

Every sweep runs one loop, :func:`optsim.engine._driver.run`, compiled once and kept in
numba's disk cache.  It reaches the problem, the noise models, the optimizer and the
schedule through the addresses of C-callable entry points (``numba.cfunc``), which this
module generates:

- for each combination of problem class, noise model classes and data types
  (:meth:`KernelSpec.key`, :func:`kernel_for`): ``grad``, the observed gradient of a block
  of trajectories, with the problem's gradient and the noise models inlined into one loop
  (the hot loop); ``loss``, and ``test``, ``gnorm`` and ``dist`` where a sweep records
  them, through the problem's own cached functions; ``start`` and ``project`` where the
  problem has an initial point or a feasible set; ``hess`` (the exact Hessian diagonal at
  each trajectory's point, written into the look-ahead row) where it has a
  ``hessian_diagonal`` kernel and the optimizer asks for it (``Optimizer.hessian_slot``);
- for each optimizer and each schedule class (:func:`entry_points`, written by
  :mod:`optsim.engine._entries`): ``init``, ``step``, ``eff_lr``, ``lookahead`` and
  ``point``; ``value`` and ``momentum``.

The cache of generated modules (their names, hashes, loading and :data:`KERNEL_LOG`) is
:mod:`optsim.engine._modcache`.

A sweep over 8 optimizers on one problem then compiles the problem's entry points once, and
a new optimizer on a known problem compiles only its own entry points (under a second).
The cost is an indirect call per update of a block of replicates, or per update of a
trajectory where blocks are not used: a few nanoseconds.

numba's disk cache never hits for a function that receives jitted functions as arguments
or closes over them, but it does for a module-level ``cache=True`` function that calls
module-level jitted functions.  So for each component (or combination) this module writes
the source of a module that imports exactly their functions, saves it under the kernel
cache directory (``$OPTSIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/optsim/kernels``, else
``~/.cache/optsim/kernels``) and imports it.  A second run in a new process loads the
compiled functions from numba's cache instead of compiling them.  The file name is a hash
of the generated source *and* of the source files of every module it imports, so editing
a component (ours or a user's) gives new entry points instead of stale cached ones.

Components whose functions live in ``__main__``, a notebook or any module without a
source file take the uncached path: the same source is compiled in memory.
"""

from __future__ import annotations

import math
import os
import re

import numba
import numpy as np

from .._version import __version__
from . import _driver, _fcall, _helpers  # noqa: F401  (imported by every generated module)
from ._entries import entry_points, records_address  # noqa: F401  (part of this module's interface)
from ._modcache import (  # noqa: F401  (KERNEL_LOG, cache_dir, _clock and _log: part of this module's interface)
    KERNEL_LOG,
    TEMPLATE_VERSION,
    _clock,
    _exec_uncached,
    _function_ref,
    _import_lines,
    _importable,
    _load_entry,
    _loaded,
    _lock,
    _log,
    _source_hash,
    cache_dir,
)

__all__ = ["kernel_for", "entry_points", "cache_dir", "KernelSpec", "STREAMS", "KERNEL_LOG"]

# Random-stream numbers inside a trajectory's key; noise model j uses NOISE0 + j.
STREAMS = {"problem": 0, "batch": 1, "record": 2, "init": 3, "noise0": 4}

# Blocks of replicates: at most BLOCK_TRAJ trajectories and about BLOCK_ELEMS coordinates
# (so that a block's x, gradient and state stay in the L1/L2 caches).  BLOCKS = False
# makes every sweep run one trajectory at a time (the tests compare the two).
BLOCKS = os.environ.get("OPTSIM_BLOCKS", "1") != "0"
BLOCK_TRAJ = 256
BLOCK_ELEMS = 2048


class KernelSpec:
    """A group's component classes and schedule tree.

    The problem's entry points are specialised on the problem, the noise models and the
    types of their data arrays only (:meth:`key`); the optimizer and the schedule decide
    whether replicates advance in blocks (``blocked``) and which of their entry points the
    plan hands the loop."""

    def __init__(self, problem_cls, noise_classes, optimizer_cls, schedule_nodes,
                 n_pdata=1, n_ndata=(), blocked=None, data_sig=None):
        self.problem_cls = problem_cls
        self.noise_classes = tuple(noise_classes)
        # the number of the problem's and of each noise model's data arrays
        self.n_pdata = int(n_pdata)
        self.n_ndata = tuple(int(n) for n in n_ndata) or tuple(1 for _ in self.noise_classes)
        # (dtype name, number of dimensions) of every data array, the problem's first
        n_data = self.n_pdata + sum(self.n_ndata)
        self.data_sig = tuple((str(t), int(nd)) for t, nd in data_sig) if data_sig is not None \
            else (("float64", 1),) * n_data
        if len(self.data_sig) != n_data:
            raise ValueError(f"data_sig describes {len(self.data_sig)} arrays, not {n_data}")
        self.optimizer_cls = optimizer_cls
        # schedule_nodes: (class, child_index or -1, target) in evaluation order (children first):
        # target is None for the learning rate's tree, else the position in the optimizer's row
        # of the hyperparameter the node's tree schedules (a pair (class, child) is lr's)
        self.schedule_nodes = tuple((c, child, *rest) if rest else (c, child, None)
                                    for c, child, *rest in schedule_nodes)
        self.blocked = blockable(optimizer_cls, [c for c, *_ in self.schedule_nodes]) if blocked is None \
            else bool(blocked)

    def key(self):
        """What the problem's entry points depend on: the optimizer and the schedule are
        not part of it (the loop calls them through their own entry points)."""
        return (self.problem_cls, self.noise_classes, self.n_pdata, self.n_ndata, self.data_sig)


def blockable(optimizer_cls, schedule_classes):
    """Whether the replicates of a cell can advance together (see ``Optimizer.elementwise``).

    They can when the optimizer treats coordinates independently and every replicate gets
    the same learning rate and scheduled hyperparameters at every step (no schedule, of the
    learning rate or of a hyperparameter, that watches the loss or keeps state).
    """
    if not BLOCKS or not getattr(optimizer_cls, "elementwise", False):
        return False
    return all(c.state_size == 0 and not getattr(c, "watches_loss", False) for c in schedule_classes)


def _indent(lines, n):
    pad = " " * n
    return "\n".join(pad + ln if ln else ln for ln in lines)


def generate_source(spec: KernelSpec):
    """The source of the problem's entry points and the functions it needs, as
    {alias: jitted function}."""
    funcs = {}
    P = spec.problem_cls.kernels
    for need in ("value_and_grad", "objective"):
        if need not in P:
            raise TypeError(f"{spec.problem_cls.__name__}.kernels lacks {need!r}")
    funcs["p_vg"] = P["value_and_grad"]
    funcs["p_obj"] = P["objective"]

    # -- the observed gradient, at the look-ahead point y (= x for most optimizers) ---------
    grad = []
    views = []  # views of a block's hyperparameter row
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
            grad.append(f"nb = mb_sample(idx, perms[b], mbss[b], {sl}, rng_batch)")
            grad.append("fobs = p_bvg(y, g, idx, nb, pp, pdata)")
        else:
            funcs[f"n{j}_apply"] = ncls.kernels["apply"]
            noise_lines.append(f"n{j}_apply(g, y, t, {sl}, ndata[{j}], rng_n{j})")
        nz_off += width
    if not minibatch:
        grad.append("fobs = p_vg(y, g, t, pp, pdata, rng_problem)")
    grad += noise_lines

    # -- optional problem functions ----------------------------------------------------
    optional = []
    if "test_loss" in P:
        funcs["p_test"] = P["test_loss"]
        optional.append(_TEST)
    if "distance" in P:
        funcs["p_dist"] = P["distance"]
        dist_expr = "_p_dist(x, pp, pdata)"
    else:
        dist_expr = "_dist(x, xstar)"
    if "project" in P:  # onto the feasible set, after every update of the still running ones
        funcs["p_proj"] = P["project"]
        optional.append(_PROJECT)
    if "hessian_diagonal" in P:  # the exact Hessian diagonal at x, into Y, for a rule with a hessian_slot
        funcs["p_hess"] = P["hessian_diagonal"]
        optional.append(_HESS)
    if "initial_point" in P:  # once per trajectory
        funcs["p_init"] = P["initial_point"]
        optional.append(_START.replace("{init_stream}", str(STREAMS["init"])))

    src = (_PROBLEM_TEMPLATE + "".join(optional)).format(
        version=TEMPLATE_VERSION,
        unpack="    #unpack",
        views=_indent(views, 4),
        rng_views=_indent(rng_views, 8),
        grad=_indent(grad, 8),
        dist_expr=dist_expr,
    )
    unpack = _unpack_lines(spec)
    return "".join(_unpack_used(f, unpack) for f in re.split(r"(?=\n\n@cfunc)", src)), funcs


def _unpack_used(func, unpack):
    """``func`` with its ``#unpack`` line replaced by the unpack lines it needs (those
    of the names it uses and, in turn, of the names those lines use)."""
    if "    #unpack" not in func:
        return func
    names = lambda text: set(re.findall(r"[A-Za-z_]\w*", text))  # noqa: E731
    needed = names(func.replace("    #unpack", ""))
    keep = []
    for line in reversed(unpack):
        target, expr = line.split(" = ", 1)
        if target in needed:
            keep.append(line)
            needed |= names(expr)
    return func.replace("    #unpack", _indent(keep[::-1], 4))


_DTYPES = ("float64", "float32", "int64", "int32", "uint64", "uint32", "int16", "uint16", "int8", "uint8")


def _unpack_lines(spec):
    """Lines making the frame's arrays (``_driver.FRAME``) and the data tuples."""
    lines = [
        "d = fr[FR.d]",
        "bmax = fr[FR.bmax]",
        "X = carray(pointer(fr[FR.X], np.float64), bmax * d)",
        "Y = carray(pointer(fr[FR.Y], np.float64), bmax * d)",
        "G = carray(pointer(fr[FR.G], np.float64), bmax * d)",
        "div = carray(pointer(fr[FR.div], np.int64), bmax)",
        "bound = carray(pointer(fr[FR.bound], np.float64), bmax)",
        "rngs = carray(pointer(fr[FR.rng], np.uint64), (bmax, fr[FR.nstreams], 4))",
        "pp = carray(pointer(fr[FR.pp], np.float64), fr[FR.npp])",
        "npar = carray(pointer(fr[FR.npar], np.float64), fr[FR.nnpar])",
        "xstar = carray(pointer(fr[FR.xstar], np.float64), fr[FR.nxstar])",
        "gs = carray(pointer(fr[FR.gs], np.float64), d)",
        "fs = carray(pointer(fr[FR.fs], np.float64), FSL.size)",
        "idx = carray(pointer(fr[FR.idx], np.int64), fr[FR.nidx])",
        "perms = carray(pointer(fr[FR.perms], np.int64), (bmax, fr[FR.nidx]))",
        "mbss = carray(pointer(fr[FR.mbss], np.float64), (bmax, 2))",
    ]
    arrays = []
    pos = _driver.FR.DATA
    for dtype, ndim in spec.data_sig:
        if dtype not in _DTYPES or not 1 <= ndim <= 3:
            raise TypeError(f"{spec.problem_cls.__name__}: a data array of dtype {dtype} with {ndim} "
                            f"dimensions; the kernels take 1 to 3 dimensions of {', '.join(_DTYPES)}")
        shape = ", ".join(f"fr[{pos + 1 + i}]" for i in range(ndim))  # address, then dimensions
        arrays.append(f"carray(pointer(fr[{pos}], np.{dtype}), ({shape},))")
        pos += _driver.DATA_WIDTH
    tup = lambda items: "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"  # noqa: E731
    pdata = arrays[:spec.n_pdata]
    ndata, at = [], spec.n_pdata
    for count in spec.n_ndata:
        ndata.append(tup(arrays[at:at + count]))
        at += count
    lines += [f"pdata = {tup(pdata)}", f"ndata = {tup(ndata)}"]
    return lines


def frame_size(spec):
    """The length of the frame of ``spec``'s entry points (``_driver.FRAME``)."""
    return _driver.FR.DATA + _driver.DATA_WIDTH * len(spec.data_sig)


def block_size(spec, d):
    """How many trajectories the loop advances together for ``spec`` in ``d`` dimensions."""
    if not spec.blocked:
        return 1
    return max(1, min(BLOCK_TRAJ, BLOCK_ELEMS // max(int(d), 1)))


def workspace(spec, d, n_hp, nslots, nscal, nsched, nsamples, nnodes=1, data=()):
    """The scratch arrays one call of ``_driver.run`` works in (it never allocates), with
    the addresses and shapes of the problem's and noise models' ``data`` arrays in its frame.

    The arrays of ``data`` must outlive the call."""
    bmax = block_size(spec, d)
    frame = np.zeros(frame_size(spec), np.int64)
    pos = _driver.FR.DATA
    for a in data:
        frame[pos] = a.ctypes.data  # address, then dimensions
        frame[pos + 1:pos + 1 + a.ndim] = a.shape
        pos += _driver.DATA_WIDTH
    nstreams = STREAMS["noise0"] + len(spec.noise_classes)
    minibatch = bool(spec.noise_classes) and spec.noise_classes[0].kind == "minibatch"
    ns = int(nsamples) if minibatch else 0
    # the random streams and the minibatch sampler's state saved before the first of several
    # gradient evaluations per step, restored before each later one (the same noise sample)
    nsave = bmax if getattr(spec.optimizer_cls, "evaluations", 1) > 1 else 0
    return (
        np.empty((4, bmax * d)),               # X, Y (look-ahead point), G, EFF
        np.empty((nslots, bmax * d)),          # S
        np.empty(nscal), np.empty(n_hp), np.empty(nsched),  # sc, hp, ss
        np.empty((4, bmax)),                   # bound, last, best, the loss at the start
        np.empty((2, bmax), np.int64),         # best_step, div
        np.empty((bmax, nstreams, 4), np.uint64),  # every trajectory's random streams
        np.empty((1, d)),                      # scratch: the gradient for its norm
        np.empty(ns, np.int64), np.empty((bmax if ns else 0, ns), np.int64),  # idx, perms
        np.empty((bmax, 2)),                   # minibatch position and epoch
        np.empty(nnodes),                      # the learning rate of every schedule node
        frame, np.empty(_driver.FSL.size),     # the problem's entry points' frame and scalars
        np.empty((nsave, nstreams, 4), np.uint64), np.empty((nsave if ns else 0, ns), np.int64),
        np.empty((nsave, 2)),                  # saved streams, permutations, positions
    )


# The problem's entry points, called by optsim.engine._driver.run with the address of its
# frame.  ``grad`` computes the observed gradient of the running trajectories of a block of
# B (the problem's gradient and the noise models inlined: this is the hot loop), marks those
# that left the bounds (div = t, gradient 0) and returns how many did.  ``loss``, ``test``,
# ``gnorm`` and ``dist`` put the loss, test loss, gradient norm and distance of trajectory
# b into fs (FSL.f, ftest, gnorm, dist), through the problem's own cached functions; each is compiled only when a
# sweep records it.
_PROBLEM_TEMPLATE = """

@cfunc(types.int64(FP, I, I, I), cache=CACHE, error_model="numpy")
def grad(fp, t, B, look):
    fr = carray(fp, NFRAME)
{unpack}
{views}
    fobs = fs[FSL.fobs]
    x_bound = fs[FSL.x_bound]
    check_x = x_bound < np.inf
    nbad = 0
    nb = 0
    for b in range(B):
        if div[b] >= 0:
            continue
        x = X[b * d:(b + 1) * d]
        g = G[b * d:(b + 1) * d]
        y = Y[b * d:(b + 1) * d] if look != 0 else x
        rng = rngs[b]
        rng_problem = rng[{problem_stream}]
        rng_batch = rng[{batch_stream}]
{rng_views}
{grad}
        bad = not (abs(fobs) <= bound[b])
        if check_x and not bad:
            for i in range(d):
                if not (abs(x[i]) <= x_bound):
                    bad = True
                    break
        if bad:
            div[b] = t
            nbad += 1
            for i in range(d):
                g[i] = 0.0
    fs[FSL.fobs] = fobs
    return nbad


@cfunc(types.void(FP, I), cache=CACHE, error_model="numpy")
def loss(fp, b):
    fr = carray(fp, NFRAME)
{unpack}
    fs[FSL.f] = _p_obj(X[b * d:(b + 1) * d], pp, pdata)


@cfunc(types.void(FP, I, I), cache=CACHE, error_model="numpy")
def gnorm(fp, b, t):
    fr = carray(fp, NFRAME)
{unpack}
    _p_vg(X[b * d:(b + 1) * d], gs, t, pp, pdata, rngs[b, {record_stream}])
    fs[FSL.gnorm] = _norm(gs)


@cfunc(types.void(FP, I), cache=CACHE, error_model="numpy")
def dist(fp, b):
    fr = carray(fp, NFRAME)
{unpack}
    x = X[b * d:(b + 1) * d]
    fs[FSL.dist] = {dist_expr}
""".replace("{record_stream}", str(STREAMS["record"])).replace(
    "{problem_stream}", str(STREAMS["problem"])).replace("{batch_stream}", str(STREAMS["batch"]))

_TEST = """

@cfunc(types.void(FP, I), cache=CACHE, error_model="numpy")
def test(fp, b):
    fr = carray(fp, NFRAME)
{unpack}
    fs[FSL.ftest] = _p_test(X[b * d:(b + 1) * d], pp, pdata)
"""

_PROJECT = """

@cfunc(types.void(FP, I), cache=CACHE, error_model="numpy")
def project(fp, B):
    fr = carray(fp, NFRAME)
{unpack}
    for b in range(B):
        if div[b] < 0:
            p_proj(X[b * d:(b + 1) * d], pp, pdata)
"""

_HESS = """

@cfunc(types.void(FP, I), cache=CACHE, error_model="numpy")
def hess(fp, B):
    fr = carray(fp, NFRAME)
{unpack}
    for b in range(B):
        p_hess(X[b * d:(b + 1) * d], Y[b * d:(b + 1) * d], pp, pdata)
"""

_START = """

@cfunc(types.void(FP, I), cache=CACHE, error_model="numpy")
def start(fp, b):
    fr = carray(fp, NFRAME)
{unpack}
    _p_init(X[b * d:(b + 1) * d], pp, pdata, rngs[b, {init_stream}])
"""

_HEADER = '''"""Generated by optsim {optsim_version} (template {version}); do not edit.

The problem's {function!r} entry point, for the problem and noise models: {components}
"""
import math
import numpy as np
from numba import carray, cfunc, njit, types
from optsim.engine._helpers import _norm, _dist
from optsim.engine._fcall import pointer
from optsim.engine._driver import FR, FSL
{imports}
CACHE = True
I = types.int64
FP = types.CPointer(types.int64)
NFRAME = {nframe}
'''


PROBLEM_ENTRIES = ("grad", "loss", "test", "gnorm", "dist", "start", "project", "hess")


def kernel_for(spec: KernelSpec, names=("grad", "loss", "start", "project"), *, cache: bool | None = None):
    """``{function: address}`` of the problem's entry points for ``spec`` (``names``, of
    :data:`PROBLEM_ENTRIES`; 0 for one the problem does not have).  Each is compiled on first
    use, once per combination of problem, noise models and data types, in a module of its own
    kept in numba's disk cache where possible."""
    return {n: _problem_entry(spec, n, cache) for n in names}


def _problem_entry(spec, name, cache):
    if name not in PROBLEM_ENTRIES:
        raise ValueError(f"no problem entry point {name!r}; they are {', '.join(PROBLEM_ENTRIES)}")
    key = ("kernel", spec.key(), name)
    with _lock:
        if cache is None and key in _loaded:
            return _loaded[key]
    parts, funcs = _problem_source(spec)
    address = 0  # an entry point the problem does not have
    if name in parts:
        src = parts[name]
        used = set(re.findall(r"[A-Za-z_]\w*", src))
        funcs = {alias: fn for alias, fn in funcs.items() if alias in used or "_" + alias in used}
        cacheable = all(_importable(fn) for fn in funcs.values())
        if cache is not None:
            cacheable = cacheable and cache
        components = ", ".join(c.__name__ for c in (spec.problem_cls, *spec.noise_classes))
        address = None
        if cacheable:
            refs = {alias: _function_ref(fn) for alias, fn in funcs.items()}
            header = _HEADER.format(optsim_version=__version__, version=TEMPLATE_VERSION, components=components,
                                    function=name, imports=_import_lines(refs), nframe=frame_size(spec))
            full = header + src
            modules = {mod for mod, _ in refs.values()} | {"optsim.engine._helpers", "optsim.engine._fcall",
                                                            "optsim.engine._driver"}
            address = _load_entry("k_" + _source_hash(full, modules), full, name, "kernel")
        if address is None:  # functions without a source file, or an unwritable cache
            address = _compile_in_memory(src, funcs, spec, f"{components}: {name}")[name]
    with _lock:
        if cache is None:
            _loaded[key] = address
    return address


def _problem_source(spec):
    """``({entry point: its source}, functions)`` of ``spec``'s problem entry points,
    generated once per :meth:`KernelSpec.key`."""
    key = ("source", spec.key())
    with _lock:
        if key in _loaded:
            return _loaded[key]
    src, funcs = generate_source(spec)
    parts = {m.group(1): part for part in re.split(r"(?=\n\n@cfunc)", src)
             if (m := re.search(r"\ndef (\w+)\(", part))}
    with _lock:
        _loaded[key] = (parts, funcs)
    return parts, funcs


def _compile_in_memory(src, funcs, spec, components):
    """Compile the problem's entry points in ``src`` in memory: ``{function: address}``."""
    from numba import carray, cfunc, types

    from ._fcall import pointer
    from ._helpers import _dist, _norm

    namespace = dict(math=math, np=np, njit=numba.njit, carray=carray, cfunc=cfunc, types=types,
                     pointer=pointer, _norm=_norm, _dist=_dist, FR=_driver.FR, FSL=_driver.FSL,
                     CACHE=False, I=types.int64,
                     FP=types.CPointer(types.int64), NFRAME=frame_size(spec))
    namespace.update({alias: numba.njit(inline="always")(fn.py_func) for alias, fn in funcs.items()})
    namespace.update({"_" + alias: fn for alias, fn in funcs.items()})
    _exec_uncached(src, namespace, f"<entry points of {components}>", "kernel")
    return {n: (namespace[n].address if n in namespace else 0) for n in PROBLEM_ENTRIES}