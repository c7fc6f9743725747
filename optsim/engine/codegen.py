"""Generate, cache and load the entry points that the trajectory loop calls.

Every sweep runs one loop, :func:`optsim.engine._driver.run`, compiled once and kept in
numba's disk cache.  It reaches the problem, the noise models, the optimizer and the
schedule through the addresses of C-callable entry points (``numba.cfunc``), which this
module generates:

- for each combination of problem class, noise model classes and data types
  (:meth:`KernelSpec.key`, :func:`kernel_for`): ``grad``, the observed gradient of a block
  of trajectories, with the problem's gradient and the noise models inlined into one loop
  (the hot loop; for a problem of at most :data:`FIXED_DIM_MAX` coordinates, compiled once
  per dimension, so that its loops over coordinates are unrolled); ``loss``, and ``test``, ``gnorm`` and ``dist`` where a sweep records
  them, through the problem's own cached functions; ``start`` and ``project`` where the
  problem has an initial point or a feasible set; ``hess`` (the exact Hessian diagonal at
  each trajectory's point, into the look-ahead row) where it has a ``hessian_diagonal``
  kernel and the optimizer asks for it (``Optimizer.hessian_slot``); ``metrics`` (the
  problem's named metrics into a recorded step's row) where it has them and a sweep records them;
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
the source of a module that imports exactly their functions, binds them to the names that
the entry point's body uses (the bodies are real functions of
:mod:`optsim.engine._problem_entries`, whose source is copied in), saves it under the kernel
cache directory (``$OPTSIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/optsim/kernels``, else
``~/.cache/optsim/kernels``) and imports it.  A second run in a new process loads the
compiled functions from numba's cache instead of compiling them.  The file name is a hash
of the generated source *and* of the source files of every module it imports, so editing
a component (ours or a user's) gives new entry points instead of stale cached ones.

Components whose functions live in ``__main__``, a notebook or any module without a
source file take the uncached path: the same source is compiled in memory.
"""

from __future__ import annotations

import inspect
import os

import numba
import numpy as np

from .._version import __version__
from . import _driver, _fcall, _helpers, _problem_entries
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

# Random-stream numbers inside a trajectory's key; noise model j uses noise0 + j.
STREAMS = _problem_entries.STREAMS
PROBLEM_ENTRIES = _problem_entries.ENTRIES

# Blocks of replicates: at most BLOCK_TRAJ trajectories and about BLOCK_ELEMS coordinates
# (so that a block's x, gradient and state stay in the L1/L2 caches).  BLOCKS = False
# makes every sweep run one trajectory at a time (the tests compare the two).
BLOCKS = os.environ.get("OPTSIM_BLOCKS", "1") != "0"
BLOCK_TRAJ = 256
BLOCK_ELEMS = 2048

# A problem in at most this many coordinates gets a ``grad`` compiled for its dimension:
# the loops over a trajectory's coordinates (the problem's gradient, the noise) are then
# unrolled, and its random streams stay in registers between its normals.  Larger problems
# share one ``grad`` that reads the dimension from the frame.  0: every problem shares it.
FIXED_DIM_MAX = 8


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


_DTYPES = ("float64", "float32", "int64", "int32", "uint64", "uint32", "int16", "uint16", "int8", "uint8")


def _data_arrays(spec):
    """The source of ``data_arrays(fr)``: the problem's data arrays and each noise model's,
    typed by ``spec.data_sig``, from their addresses and dimensions in the frame."""
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
    ndata, at = [], spec.n_pdata
    for count in spec.n_ndata:
        ndata.append(tup(arrays[at:at + count]))
        at += count
    return ("@njit(inline='always')\ndef data_arrays(fr):\n"
            f"    return {tup(arrays[:spec.n_pdata])}, {tup(ndata)}\n")


def _observe(spec):
    """``(source, functions)`` of ``observe``: the problem's gradient (or a minibatch's) and
    the noise models after it, each on its own random stream."""
    P = spec.problem_cls.kernels
    funcs, body, noise = {}, [], []
    off = 0
    for j, ncls in enumerate(spec.noise_classes):
        width = len(ncls.dynamic_names())
        view = f"npar[{off}:{off + width}]"
        if ncls.kind == "minibatch":
            if j != 0:
                raise TypeError("minibatch sampling must be the first noise model")
            if "batch_value_and_grad" not in P:
                raise TypeError(f"{spec.problem_cls.__name__} has no dataset to sample minibatches from")
            funcs["p_bvg"] = P["batch_value_and_grad"]
            funcs["mb_sample"] = ncls.kernels["sample"]
            body.append(f"nb = mb_sample(idx, perms[b], mbss[b], {view}, rng[{STREAMS['batch']}])")
            body.append("fobs = p_bvg(y, g, idx, nb, pp, pdata)")
        else:
            funcs[f"n{j}_apply"] = ncls.kernels["apply"]
            noise.append(f"n{j}_apply(g, y, t, {view}, ndata[{j}], rng[{STREAMS['noise0'] + j}])")
        off += width
    if not body:
        funcs["p_vg"] = P["value_and_grad"]
        body.append(f"fobs = p_vg(y, g, t, pp, pdata, rng[{STREAMS['problem']}])")
    body += noise + ["return fobs"]
    src = ("@njit(inline='always')\ndef observe(y, g, t, pp, pdata, npar, ndata, rng, idx, perms, mbss, b):\n"
           + "".join(f"    {line}\n" for line in body))
    return src, funcs


# The entry points whose body calls one of the problem's kernels under another name:
# {entry point: (the name the body calls, the problem's kernel, inlined)}.
_CALLS = {
    "loss": ("objective", "objective", False),
    "gnorm": ("value_and_grad", "value_and_grad", False),
    "test": ("test_loss", "test_loss", False),
    "start": ("initial_point", "initial_point", False),
    "project": ("project_point", "project", True),
    "exact": ("value_and_grad", "value_and_grad", False),
    "hess": ("hessian_point", "hessian_diagonal", True),
    "metrics": ("problem_metrics", "metrics", False),
}


def _bindings(spec, name):
    """``(source, functions)``: what the body of entry point ``name`` needs bound for
    ``spec``'s problem (see :mod:`optsim.engine._problem_entries`); None if the problem has
    no such entry point."""
    P = spec.problem_cls.kernels
    for need in ("value_and_grad", "objective"):
        if need not in P:
            raise TypeError(f"{spec.problem_cls.__name__}.kernels lacks {need!r}")
    if name == "grad":
        return _observe(spec)
    if name == "dist":
        if "distance" in P:
            return ("@njit(inline='always')\ndef distance(x, xstar, pp, pdata):\n"
                    "    return _p_dist(x, pp, pdata)\n", {"p_dist": P["distance"]})
        return "@njit(inline='always')\ndef distance(x, xstar, pp, pdata):\n    return _dist(x, xstar)\n", {}
    called, kernel, inline = _CALLS[name]
    if kernel not in P:
        return None
    alias = "p_" + kernel
    return f"{called} = {alias if inline else '_' + alias}\n", {alias: P[kernel]}


def _body(name):
    """Entry point ``name``'s body from :mod:`optsim.engine._problem_entries`, as a cfunc."""
    return (f"@cfunc({_problem_entries.SIGNATURES[name]}, cache=CACHE, error_model='numpy')\n"
            + inspect.getsource(getattr(_problem_entries, name)))


def _module_source(spec, names, dim=0):
    """``(source, functions)`` of entry points ``names`` of ``spec``'s problem (those it
    has), after the generated part: the frame's length, the number of coordinates ``dim``
    (0: any), ``data_arrays`` and the bindings."""
    parts, bodies, funcs = [], [], {}
    for name in names:
        b = _bindings(spec, name)
        if b is not None:
            parts.append(b[0])
            bodies.append(_body(name))
            funcs.update(b[1])
    src = "\n\n".join([_PRELUDE.format(nframe=frame_size(spec), dim=int(dim)), _data_arrays(spec), *parts, *bodies])
    return src, funcs


def generate_source(spec: KernelSpec, dim=0):
    """The source of every entry point of ``spec``'s problem, as one module after the
    imports, and the functions it needs, as ``{alias: jitted function}``
    (:func:`_compile_in_memory` compiles it); ``grad`` for ``dim`` coordinates (0: any)."""
    return _module_source(spec, PROBLEM_ENTRIES, dim)


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
        np.empty(3 * nnodes),                  # every schedule node's rate, count and running child
        frame, np.empty(_driver.FSL.size),     # the problem's entry points' frame and scalars
        np.empty((nsave, nstreams, 4), np.uint64), np.empty((nsave if ns else 0, ns), np.int64),
        np.empty((nsave, 2)),                  # saved streams, permutations, positions
    )


_HEADER = '''"""Generated by optsim {optsim_version} (template {version}); do not edit.

The problem's {function!r} entry point, for the problem and noise models: {components}.
Its body is ``optsim.engine._problem_entries.{function}``; this module binds the names the
body uses to these components' functions.
"""
import numpy as np
from numba import carray, cfunc, njit, types
from optsim.engine._driver import FR, FSL
from optsim.engine._fcall import pointer
from optsim.engine._helpers import _dist, _norm
from optsim.engine._problem_entries import STREAM, frame_arrays
{imports}
CACHE = True
'''
_PRELUDE = """I = types.int64
FP = types.CPointer(types.int64)
NFRAME = {nframe}
DIM = {dim}
"""
# the modules every generated module imports (their source is part of its name's hash)
_ENGINE_MODULES = {"optsim.engine._driver", "optsim.engine._fcall", "optsim.engine._helpers",
                   "optsim.engine._problem_entries", "optsim._components"}


def kernel_for(spec: KernelSpec, names=("grad", "loss", "start", "project"), *, cache: bool | None = None,
               d: int | None = None):
    """``{function: address}`` of the problem's entry points for ``spec`` (``names``, of
    :data:`PROBLEM_ENTRIES`; 0 for one the problem does not have).  Each is compiled on first
    use, once per combination of problem, noise models and data types, in a module of its own
    kept in numba's disk cache where possible.

    With ``d`` (the number of coordinates) of at most :data:`FIXED_DIM_MAX`, ``grad`` is
    compiled for that many (:func:`grad_dim`), once per ``d``; the numbers are the same."""
    return {n: _problem_entry(spec, n, cache, grad_dim(d) if n == "grad" else 0) for n in names}


def grad_dim(d):
    """The number of coordinates ``grad`` is compiled for, for a problem in ``d`` (0: any)."""
    return int(d) if d is not None and 0 < int(d) <= FIXED_DIM_MAX else 0


def _problem_entry(spec, name, cache, dim=0):
    if name not in PROBLEM_ENTRIES:
        raise ValueError(f"no problem entry point {name!r}; they are {', '.join(PROBLEM_ENTRIES)}")
    key = ("kernel", spec.key(), name, dim)
    with _lock:
        if cache is None and key in _loaded:
            return _loaded[key]
    address = 0  # an entry point the problem does not have
    if _bindings(spec, name) is not None:
        src, funcs = _module_source(spec, [name], dim)
        cacheable = all(_importable(fn) for fn in funcs.values())
        if cache is not None:
            cacheable = cacheable and cache
        components = ", ".join(c.__name__ for c in (spec.problem_cls, *spec.noise_classes))
        address = None
        if cacheable:
            refs = {alias: _function_ref(fn) for alias, fn in funcs.items()}
            header = _HEADER.format(optsim_version=__version__, version=TEMPLATE_VERSION, components=components,
                                    function=name, imports=_import_lines(refs))
            full = header + src
            modules = {mod for mod, _ in refs.values()} | _ENGINE_MODULES
            address = _load_entry("k_" + _source_hash(full, modules), full, name, "kernel")
        if address is None:  # functions without a source file, or an unwritable cache
            address = _compile_in_memory(src, funcs, spec, f"{components}: {name}")[name]
    with _lock:
        if cache is None:
            _loaded[key] = address
    return address


def _compile_in_memory(src, funcs, spec, components):
    """Compile the problem's entry points in ``src`` (after the imports) in memory:
    ``{function: address}`` (0: one the problem does not have)."""
    from numba import carray, cfunc, types

    namespace = dict(np=np, njit=numba.njit, carray=carray, cfunc=cfunc, types=types, pointer=_fcall.pointer,
                     _norm=_helpers._norm, _dist=_helpers._dist, FR=_driver.FR, FSL=_driver.FSL,
                     STREAM=_problem_entries.STREAM, frame_arrays=_problem_entries.frame_arrays, CACHE=False)
    namespace.update({alias: numba.njit(inline="always")(fn.py_func) for alias, fn in funcs.items()})
    namespace.update({"_" + alias: fn for alias, fn in funcs.items()})
    _exec_uncached(src, namespace, f"<entry points of {components}>", "kernel")
    return {n: (namespace[n].address if n in namespace else 0) for n in PROBLEM_ENTRIES}
