"""The memory a sweep will take, computed from its sizes before anything is allocated.

Every size here is a Python integer (no overflow, whatever the sweep's sizes), and every
estimate is made before the arrays it describes exist: :func:`optsim.sweep.build_plan`
asks :class:`Budget` twice, first from the counts alone (trajectories, grid values, recorded
steps), before the grid's values are expanded, then with the data of every kernel group,
before the first planning array is made.  What is counted:

``planning``   the per-trajectory rows of every group (hyperparameters of the optimizer,
               schedules, noise models and problem; replicate, cell and position), 8 bytes
               a column, and the temporaries made while they are built
``grid``       the grid's values, as the Python objects the plan keeps of them
``data``       the static arrays of the problem and noise models (``Problem.data_bytes``,
               ``Noise.prepare_bytes``), with the start point and the optimum, per group
``results``    the raw outputs of every trajectory (or, reduced over replicates, the
               per-cell statistics and one raw chunk and its reduction)
``chunk``      a chunk's raw outputs before they are copied into the results
``dataset``    what the labelled Dataset adds to the results (the ``diverged`` flags)
``file``       writing the result file of a sweep with ``out_dir`` (at most the results again)
``workspace``  the compiled loop's scratch arrays, one set per thread

A sweep whose estimate exceeds its limit (``max_memory``, default 80% of the memory
available now) is refused with :class:`MemoryLimitError`, whose one-line message gives the
estimate, the limit, and the ways out.
"""

from __future__ import annotations

import math
import os

from ._components import OptsimError

__all__ = ["MemoryLimitError", "Budget", "Extent", "MAX_STEPS", "GRID_VALUE_BYTES", "grid_value_bytes",
           "check_values"]


class MemoryLimitError(OptsimError, MemoryError):
    """A sweep whose results would not fit in memory (raised before allocating)."""


#: The largest ``steps`` a sweep accepts: every step count is then exact in float64 (as the
#: schedules and records see it) and far from int64's limit.  At a few nanoseconds per step
#: a single trajectory of this length would run for years; see :data:`LONG_WORK`.
MAX_STEPS = 2**53

#: Updates x coordinates past which a sweep warns, before starting, that it will run long
#: (about an hour or more on one core at 10^9 coordinate-updates per second).
LONG_WORK = 4 * 10**12

#: Bytes the plan keeps per grid value: the value's Python object (a float, 24 bytes; a
#: list or tuple for array values) and a slot in a tuple of the axis's values.
GRID_VALUE_BYTES = 24 + 8 + 56

#: Bytes of the compiled loop's workspace per trajectory advanced together and coordinate,
#: beyond the optimizer's state vectors: the point, the look-ahead point, the gradient, the
#: effective rates and one scratch gradient.
_WORK_VECTORS = 5


def _available_memory():
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(b):
    if b >= 2**60:
        return f"{b / 2**60:.3g} EiB"
    if b >= 2**40:
        return f"{b / 2**40:.3g} TiB"
    return f"{b / 2**30:.2f} GiB" if b >= 2**28 else f"{b / 2**20:.1f} MiB"


def default_limit(max_memory=None):
    """``max_memory``, or 80% of the memory available now (None: unknown)."""
    if max_memory is not None:
        return int(max_memory)
    avail = _available_memory()
    return None if avail is None else int(0.8 * avail)


def grid_value_bytes(n, per_value=GRID_VALUE_BYTES):
    """The bytes of ``n`` grid values as the plan keeps them."""
    return int(n) * per_value


def check_values(what, n, per_value, max_memory=None):
    """Refuse, before making them, ``n`` values of ``per_value`` bytes each (``what``:
    where they are asked for, e.g. a configuration's ``logspace``) that cannot fit."""
    need = int(n) * int(per_value)
    limit = default_limit(max_memory)
    if limit is not None and need > limit:
        allowed = "allowed (max_memory)" if max_memory is not None else "available (80% of the free memory)"
        raise MemoryLimitError(f"{what}: {int(n)} values need about {_gib(need)}, more than the {_gib(limit)} "
                               f"{allowed}; use fewer values")
    return need


class Extent:
    """The sizes that shape a sweep's outputs, without its planning arrays.

    Duck-types what :class:`optsim.reduce.Reducer` reads of a plan (``n_traj``,
    ``thresholds``, ``output_shapes``), so the reduced outputs are sized from it too.
    """

    def __init__(self, n_traj, n_steps, n_records, record, thresholds, dim, n_slots, replicates, n_metrics=0,
                 n_scalars=0):
        import numpy as np

        self.n_traj = int(n_traj)
        self.n_steps = int(n_steps)
        self.n_records = int(n_records)
        self.record = tuple(record)
        self.thresholds = np.asarray(thresholds, dtype=np.float64)
        self.dim = int(dim)
        self.n_slots = int(n_slots)
        self.replicates = int(replicates)
        self.n_metrics = int(n_metrics)  # the problems' metrics (record "metrics")
        self.n_scalars = int(n_scalars)  # the optimizers' named scalars (record "scalars")

    def output_shapes(self, n):
        from .engine.outputs import OUTPUTS, dim_sizes, shape

        sizes = dim_sizes(self.dim, self.n_slots, self.thresholds.shape[0], self.n_metrics, self.n_scalars)
        R = self.n_records
        return {o.name: (shape(o, int(n), R if o.name in self.record else 0, sizes), o.dtype) for o in OUTPUTS}

    def output_bytes(self, n=None):
        import numpy as np

        n = self.n_traj if n is None else n
        return sum(math.prod(s) * np.dtype(dt).itemsize for s, dt in self.output_shapes(n).values())

    def describe(self):
        return (f"({self.n_traj} trajectories x {self.n_records} recorded steps x {len(self.record)} recorded "
                f"quantities, dimension {self.dim})")


def _reduced_bytes(reducer):
    return sum(math.prod(s) * 8 for s, _ in reducer._fields(reducer.n_cells).values())


class Budget:
    """What a sweep may take, and the check of its estimate against it.

    ``results=False`` (a plan built on its own, :func:`optsim.sweep.build_plan`): only the
    plan's own arrays are counted, against the memory available.  ``stats``, ``quantiles``:
    the reduction over replicates (``()``: none); ``chunk_size``, ``threads``, ``chunked``
    (results kept in a store or computed on a cluster), ``saved`` (the result is written to
    the store's ``result.nc``): how the sweep will run.
    """

    def __init__(self, max_memory=None, results=True, stats=(), quantiles=(0.1, 0.5, 0.9), chunk_size=None,
                 threads=None, chunked=False, saved=False):
        self.max_memory = max_memory
        self.results = bool(results)
        self.stats = tuple(stats)
        self.quantiles = tuple(quantiles)
        self.chunk_size = chunk_size
        self.threads = threads
        self.chunked = bool(chunked)
        self.saved = bool(saved)

    def _threads(self):
        if self.threads is not None:
            return int(self.threads)
        import numba

        return int(numba.get_num_threads())

    def _auto_chunk(self, extent):
        from .store import TARGET_CHUNK_WORK

        return self.chunk_size or max(1, int(TARGET_CHUNK_WORK // (extent.n_steps * max(1, extent.dim))))

    def _chunk(self, extent, n_groups, whole):
        """Trajectories in the largest raw chunk that is made apart from the results (a
        single group run in one process writes straight into them)."""
        if n_groups == 1 and not self.chunked:
            return 0
        return min(self._auto_chunk(extent) if self.chunked else (self.chunk_size or whole), whole)

    def parts(self, extent, planning=0, data=0, grid=0, n_groups=1, largest_group=None, samples=0):
        """{part: bytes} of the sweep of ``extent`` (see the module's docstring); ``samples``:
        the examples a minibatch sampler permutes (0: none)."""
        from .engine.codegen import BLOCK_ELEMS, BLOCK_TRAJ
        from .reduce import Reducer

        out = {"planning": int(planning), "grid": int(grid), "data": int(data)}
        d = max(1, extent.dim)
        block = min(BLOCK_TRAJ, max(1, BLOCK_ELEMS // d))  # trajectories advanced together
        per_thread = 8 * (_WORK_VECTORS + extent.n_slots) * block * d + 8 * int(samples) * (1 + 2 * block)
        out["workspace"] = self._threads() * per_thread
        if not self.results:
            return out
        whole = extent.n_traj if largest_group is None else int(largest_group)
        if self.stats:
            red = Reducer(extent, extent.replicates, self.stats, self.quantiles)
            size = red.chunk_size(self._auto_chunk(extent))
            out["results"] = _reduced_bytes(red)
            # the raw chunk, and the copies its quantiles sort and select in
            out["chunk"] = 3 * extent.output_bytes(min(size, extent.n_traj))
        else:
            out["results"] = extent.output_bytes()
            out["chunk"] = extent.output_bytes(self._chunk(extent, n_groups, whole))
            out["dataset"] = extent.n_traj  # the diverged flags, one byte each
        if self.saved:
            out["file"] = out["results"]  # writing result.nc (its encoding copies, at most the results again)
        return out

    def check(self, extent, **sizes):
        """Refuse the sweep of ``extent`` if its estimate exceeds the limit; return the estimate."""
        parts = self.parts(extent, **sizes)
        need = sum(parts.values())
        limit = default_limit(self.max_memory)
        if limit is None or need <= limit:
            return need
        raise MemoryLimitError(self._message(extent, parts, need, limit, sizes))

    def _message(self, extent, parts, need, limit, sizes):
        from .reduce import Reducer

        what = extent.describe()
        shown = ", ".join(f"{k} {_gib(v)}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1])
                          if v >= need / 100)
        raise_it = (f"max_memory=... raises the limit" if self.max_memory is not None
                    else "max_memory=... sets the limit")
        head = f"about {_gib(need)} {what} ({shown}), more than the {_gib(limit)} allowed ({raise_it})"
        largest = max(parts, key=parts.get)
        if largest in ("planning", "grid") and self.results:
            return (f"this sweep needs {head}; its {largest} alone takes {_gib(parts[largest])} whatever is "
                    f"recorded or reduced. Ways out: fewer trajectories per sweep (fewer grid values or "
                    f"replicates; split the grid into several sweeps, each with its own out_dir=...).")
        if largest in ("workspace", "data"):
            return (f"this sweep needs {head}; the problem's {largest} alone takes {_gib(parts[largest])} "
                    f"(dimension {extent.dim}). Ways out: a smaller problem (fewer coordinates or examples)"
                    f"{'' if largest == 'data' else ', or fewer threads (threads=...)'}.")
        if not self.results:
            return (f"this sweep's plan needs {head}. Fewer trajectories (grid values x replicates), a "
                    f"smaller problem, or several sweeps.")
        if self.stats:
            return (f"even reduced over replicates this sweep needs {head}. Record less often (a larger "
                    f"record_every, or record_steps=[...]), fewer quantities, fewer statistics, or a "
                    f"smaller chunk_size.")
        proposals = []
        for stats in (("mean", "quantiles"), ("mean",)):
            alt = Budget(self.max_memory, True, stats, self.quantiles, self.chunk_size, self.threads, True,
                         self.saved)
            proposals.append((stats, sum(alt.parts(extent, **sizes).values())))
        offer = "; ".join(f"reduce={tuple(st)!r} needs about {_gib(b)}" for st, b in proposals)
        return (
            f"this sweep needs {head}. Ways out: reduce over replicates on the fly and keep only "
            f"statistics ({offer}); record less often (a larger record_every, or "
            f"record_steps=[...]); record fewer quantities (record=('loss',)); keep only the "
            f"summaries (record=(), with thresholds=[...] for steps-to-threshold); or split the "
            f"grid into several sweeps, each with its own out_dir=... (finished chunks stream to "
            f"disk there and the sweep can be resumed; only its assembled result must fit)."
        )
