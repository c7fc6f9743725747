"""The problem's entry points, which the trajectory loop calls by address.

:func:`optsim.engine._driver.run` reaches the problem and its noise models through eight
C-callable functions (``numba.cfunc``), each given the address of the *frame*, an int64
array of the addresses and sizes of the block's arrays (layout ``_driver.FR``):

- ``grad(fp, t, B, look)``: the observed gradient of the running trajectories of a block of
  ``B``, at the look-ahead point ``y`` where ``look`` (else at ``x``); marks those whose loss
  or coordinates left the bounds (``div = t``, gradient 0) and returns how many did.  This
  is the hot loop.
- ``loss(fp, b)``, ``test(fp, b)``, ``gnorm(fp, b, t)`` and ``dist(fp, b)``: the loss, test
  loss, exact gradient norm and distance to the optimum of trajectory ``b`` into the frame's
  scalars (``fs``, layout ``_driver.FSL``); each is compiled only when a sweep records it.
- ``start(fp, b)``: the problem's initial point of trajectory ``b``, from its own stream.
- ``project(fp, B)``: the running trajectories of the block back onto the feasible set.
- ``exact(fp, b, t, look, out)``: the noise-free gradient of trajectory ``b`` where its
  observed one was taken (the look-ahead point where ``look``), into the array at ``out``,
  for a rule that reads it (``Optimizer.exact_gradient_row``).
- ``hess(fp, B)``: the exact Hessian diagonal of the objective at each trajectory's point of
  the block, into its look-ahead row ``Y`` (for a rule with ``Optimizer.hessian_slot``).
- ``metrics(fp, b, out, m)``: the problem's named metrics of trajectory ``b``
  (``Problem.metric_names()``) into the ``m`` numbers at ``out`` (NaN first, so that a
  problem with fewer metrics than the output is wide leaves the rest NaN).

The bodies are here.  :mod:`optsim.engine.codegen` compiles them once per combination of
problem class, noise model classes and data types: it copies a function's source into a
generated module that binds the names below to that combination's functions, and wraps it
with its signature (:data:`SIGNATURES`) and ``cache=True``, so that numba's disk cache keeps
it.  What is generated is only what the cache needs: the imports of the combination's
functions, the tuple of its data arrays (their types) and the chain of its noise models.

The names a body uses and this module does not compute are bound by the generated module:

``NFRAME``
    the frame's length;
``DIM``
    the number of coordinates ``grad`` is compiled for (0: any, read from the frame);
``data_arrays(fr) -> (pdata, ndata)``
    the problem's data arrays and, per noise model, a tuple of its own;
``observe(y, g, t, pp, pdata, npar, ndata, rng, idx, perms, mbss, b) -> f``
    the observed loss at ``y``, with the observed gradient written into ``g``: the problem's
    ``value_and_grad`` (or a minibatch's ``batch_value_and_grad``), then every noise model's
    ``apply``, inlined;
``objective``, ``value_and_grad``, ``test_loss``, ``initial_point``
    the problem's own cached functions of those names;
``distance(x, xstar, pp, pdata) -> float``
    the problem's ``distance``, else the Euclidean distance to the optimum ``xstar``;
``problem_metrics(x, out, pp, pdata)``
    the problem's ``metrics``;
``project_point(x, pp, pdata)``
    the problem's ``project``, inlined;
``hessian_point(x, h, pp, pdata)``
    the problem's ``hessian_diagonal``, inlined.

Here they are stubs that say so, which keeps this module importable and lintable.
"""

import numpy as np
from numba import carray, njit

from .._components import layout
from ._driver import FR, FSL
from ._fcall import pointer
from ._helpers import _norm

__all__ = ["STREAMS", "SIGNATURES", "ENTRIES", "frame_arrays"]

# Random-stream numbers inside a trajectory's key; noise model j uses noise0 + j.
STREAMS = {"problem": 0, "batch": 1, "record": 2, "init": 3, "noise0": 4}
STREAM = layout(STREAMS, "Streams")

# Each entry point's signature, in the generated module's names (FP: the frame's address,
# I: an int64).
SIGNATURES = {
    "grad": "types.int64(FP, I, I, I)",
    "loss": "types.void(FP, I)",
    "test": "types.void(FP, I)",
    "gnorm": "types.void(FP, I, I)",
    "dist": "types.void(FP, I)",
    "start": "types.void(FP, I)",
    "project": "types.void(FP, I)",
    "exact": "types.void(FP, I, I, I, I)",
    "hess": "types.void(FP, I)",
    "metrics": "types.void(FP, I, I, I)",
}
ENTRIES = tuple(SIGNATURES)


@njit(cache=True, inline="always")
def frame_arrays(fr):
    """The frame's arrays: ``(d, X, Y, G, div, bound, rngs, pp, npar, xstar, gs, fs, idx,
    perms, mbss)``, each a view of the loop's workspace."""
    d = fr[FR.d]
    bmax = fr[FR.bmax]
    X = carray(pointer(fr[FR.X], np.float64), bmax * d)
    Y = carray(pointer(fr[FR.Y], np.float64), bmax * d)
    G = carray(pointer(fr[FR.G], np.float64), bmax * d)
    div = carray(pointer(fr[FR.div], np.int64), bmax)
    bound = carray(pointer(fr[FR.bound], np.float64), bmax)
    rngs = carray(pointer(fr[FR.rng], np.uint64), (bmax, fr[FR.nstreams], 4))
    pp = carray(pointer(fr[FR.pp], np.float64), fr[FR.npp])
    npar = carray(pointer(fr[FR.npar], np.float64), fr[FR.nnpar])
    xstar = carray(pointer(fr[FR.xstar], np.float64), fr[FR.nxstar])
    gs = carray(pointer(fr[FR.gs], np.float64), d)
    fs = carray(pointer(fr[FR.fs], np.float64), FSL.size)
    idx = carray(pointer(fr[FR.idx], np.int64), fr[FR.nidx])
    perms = carray(pointer(fr[FR.perms], np.int64), (bmax, fr[FR.nidx]))
    mbss = carray(pointer(fr[FR.mbss], np.float64), (bmax, 2))
    return d, X, Y, G, div, bound, rngs, pp, npar, xstar, gs, fs, idx, perms, mbss


def grad(fp, t, B, look):
    fr = carray(fp, NFRAME)
    d, X, Y, G, div, bound, rngs, pp, npar, xstar, gs, fs, idx, perms, mbss = frame_arrays(fr)
    if DIM > 0:  # compiled for this many coordinates: the loops over them are unrolled
        d = DIM
    pdata, ndata = data_arrays(fr)
    fobs = fs[FSL.fobs]
    x_bound = fs[FSL.x_bound]
    check_x = x_bound < np.inf
    a_X = fr[FR.X]
    a_Y = fr[FR.Y] if look != 0 else a_X
    a_G = fr[FR.G]
    nbad = 0
    for b in range(B):
        if div[b] >= 0:
            continue
        # trajectory b's rows, of exactly d (a slice of the block's row would be clamped to it)
        x = carray(pointer(a_X + 8 * b * d, np.float64), d)
        g = carray(pointer(a_G + 8 * b * d, np.float64), d)
        y = carray(pointer(a_Y + 8 * b * d, np.float64), d)
        fobs = observe(y, g, t, pp, pdata, npar, ndata, rngs[b], idx, perms, mbss, b)
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


def loss(fp, b):
    fr = carray(fp, NFRAME)
    d, X, Y, G, div, bound, rngs, pp, npar, xstar, gs, fs, idx, perms, mbss = frame_arrays(fr)
    pdata, ndata = data_arrays(fr)
    fs[FSL.f] = objective(X[b * d:(b + 1) * d], pp, pdata)


def test(fp, b):
    fr = carray(fp, NFRAME)
    d, X, Y, G, div, bound, rngs, pp, npar, xstar, gs, fs, idx, perms, mbss = frame_arrays(fr)
    pdata, ndata = data_arrays(fr)
    fs[FSL.ftest] = test_loss(X[b * d:(b + 1) * d], pp, pdata)


def gnorm(fp, b, t):
    fr = carray(fp, NFRAME)
    d, X, Y, G, div, bound, rngs, pp, npar, xstar, gs, fs, idx, perms, mbss = frame_arrays(fr)
    pdata, ndata = data_arrays(fr)
    value_and_grad(X[b * d:(b + 1) * d], gs, t, pp, pdata, rngs[b, STREAM.record])
    fs[FSL.gnorm] = _norm(gs)


def dist(fp, b):
    fr = carray(fp, NFRAME)
    d, X, Y, G, div, bound, rngs, pp, npar, xstar, gs, fs, idx, perms, mbss = frame_arrays(fr)
    pdata, ndata = data_arrays(fr)
    fs[FSL.dist] = distance(X[b * d:(b + 1) * d], xstar, pp, pdata)


def start(fp, b):
    fr = carray(fp, NFRAME)
    d, X, Y, G, div, bound, rngs, pp, npar, xstar, gs, fs, idx, perms, mbss = frame_arrays(fr)
    pdata, ndata = data_arrays(fr)
    initial_point(X[b * d:(b + 1) * d], pp, pdata, rngs[b, STREAM.init])


def project(fp, B):
    fr = carray(fp, NFRAME)
    d, X, Y, G, div, bound, rngs, pp, npar, xstar, gs, fs, idx, perms, mbss = frame_arrays(fr)
    pdata, ndata = data_arrays(fr)
    for b in range(B):
        if div[b] < 0:
            project_point(X[b * d:(b + 1) * d], pp, pdata)


def exact(fp, b, t, look, out):
    fr = carray(fp, NFRAME)
    d, X, Y, G, div, bound, rngs, pp, npar, xstar, gs, fs, idx, perms, mbss = frame_arrays(fr)
    pdata, ndata = data_arrays(fr)
    pt = Y[b * d:(b + 1) * d] if look != 0 else X[b * d:(b + 1) * d]
    value_and_grad(pt, carray(pointer(out, np.float64), d), t, pp, pdata, rngs[b, STREAM.record])


def hess(fp, B):
    fr = carray(fp, NFRAME)
    d, X, Y, G, div, bound, rngs, pp, npar, xstar, gs, fs, idx, perms, mbss = frame_arrays(fr)
    pdata, ndata = data_arrays(fr)
    for b in range(B):
        hessian_point(X[b * d:(b + 1) * d], Y[b * d:(b + 1) * d], pp, pdata)


def metrics(fp, b, out, m):
    fr = carray(fp, NFRAME)
    d, X, Y, G, div, bound, rngs, pp, npar, xstar, gs, fs, idx, perms, mbss = frame_arrays(fr)
    pdata, ndata = data_arrays(fr)
    row = carray(pointer(out, np.float64), m)
    for i in range(m):
        row[i] = np.nan
    problem_metrics(X[b * d:(b + 1) * d], row, pp, pdata)


# -- what the generated module binds (see the module docstring) ------------------------------

NFRAME = FR.DATA
DIM = 0


def _bound_by_the_generated_module(*args):
    raise NotImplementedError("bound by the module optsim.engine.codegen generates for a problem")


data_arrays = observe = objective = value_and_grad = test_loss = initial_point = distance = \
    project_point = hessian_point = problem_metrics = _bound_by_the_generated_module
