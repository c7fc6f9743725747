"""A sweep flattened into trajectories, split into groups that share their compiled functions.

:class:`Plan` is what :func:`optsim.sweep` builds after validation and before any
allocation of results.  It knows every trajectory's hyperparameter rows and random key,
can estimate the memory of the results, and can run any contiguous range of any group's
trajectories on its own (:meth:`Plan.run_range`), which is how sweeps are chunked,
resumed, and spread over workers.  A trajectory's result depends only on its own key and
rows, never on which range or thread ran it.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numba
import numpy as np

from . import _driver
from .codegen import (
    KERNEL_LOG,
    KernelSpec,
    _clock,
    _log,
    entry_points,
    kernel_for,
    records_address,
    workspace,
)
from .outputs import OUTPUT_NAMES, OUTPUTS, dim_sizes, shape

__all__ = ["Plan", "Group", "RECORDABLE", "KERNEL_LOG", "kernel_time", "scalar_labels"]


def scalar_labels(opt_cls):
    """The names of an optimizer class's scalars ``sc``: its ``scalar_names``, or
    ``scalar0``, ``scalar1``, ... for a class that counts them without naming them."""
    names = tuple(getattr(opt_cls, "scalar_names", ()))
    return names if len(names) == opt_cls.scalars else tuple(f"scalar{i}" for i in range(opt_cls.scalars))


def kernel_time(since=0, kind="kernel", clock="seconds"):
    """(number compiled, seconds compiling, number loaded from the cache, seconds loading)
    over the entries of :data:`KERNEL_LOG` from ``since`` on, of one ``kind`` ("kernel",
    "entry points"; None: both), in wall (``clock="seconds"``) or CPU seconds
    (``"cpu_seconds"``)."""
    log = [e for e in KERNEL_LOG[since:] if kind is None or e["kind"] == kind]
    comp = [e[clock] for e in log if e["compiled"]]
    load = [e[clock] for e in log if not e["compiled"]]
    return len(comp), sum(comp), len(load), sum(load)


def _blocks(n, threads):
    """Contiguous blocks of about n / (4 threads) trajectories (load balance across cores)."""
    if n == 0:
        return []
    size = max(1, -(-n // (4 * max(1, threads))))
    return [(a, min(a + size, n)) for a in range(0, n, size)]

#: What ``record=`` accepts, and what each holds (from :data:`optsim.engine.outputs.OUTPUTS`).
RECORDABLE = {o.name: o.doc for o in OUTPUTS if o.per_record}


@dataclass
class Group:
    """Trajectories that share the problem's entry points and one set of static data."""

    spec: KernelSpec
    problem: object
    noises: tuple
    optimizer: object
    schedule_nodes: tuple
    index: np.ndarray  # positions of these trajectories in the sweep's flat order
    hpo: np.ndarray
    hps: np.ndarray
    hpn: np.ndarray
    hpp: np.ndarray
    rep: np.ndarray
    cell: np.ndarray
    x0: np.ndarray = field(repr=False, default=None)
    pdata: tuple = field(repr=False, default=())
    ndata: tuple = field(repr=False, default=())
    xstar: np.ndarray = field(repr=False, default=None)
    blocks: np.ndarray = field(repr=False, default=None)  # (offset, rows, cols) per parameter array

    @property
    def size(self):
        return int(self.index.shape[0])


class Plan:
    """Everything needed to run a sweep's trajectories, without the results."""

    def __init__(self, groups, n_traj, steps, rec_steps, record, thresholds, seed,
                 diverge_factor, x_bound, dim, n_slots, replicates=1, metric_names=(), scalar_names=()):
        self.groups = groups
        self.replicates = int(replicates)  # per grid cell; a cell's replicates are consecutive
        self.n_traj = n_traj
        self.steps = int(steps)
        self.rec_steps = np.asarray(rec_steps, dtype=np.int64)
        self.record = tuple(record)
        self.thresholds = np.asarray(thresholds, dtype=np.float64)
        self.seed = np.uint64(seed)
        self.diverge_factor = float(diverge_factor)
        self.x_bound = float(x_bound)
        self.dim = dim
        self.n_slots = n_slots
        self.metric_names = tuple(metric_names)  # the labels of the metrics' ``metric`` dimension
        self.scalar_names = tuple(scalar_names)  # the labels of the scalars' ``scalar`` dimension

    # -- shapes -------------------------------------------------------------------------
    def output_shapes(self, n):
        """Shapes of every output array for ``n`` trajectories (0 where not recorded)."""
        R = self.rec_steps.shape[0]
        sizes = dim_sizes(self.dim, self.n_slots, self.thresholds.shape[0], len(getattr(self, "metric_names", ())),
                          len(getattr(self, "scalar_names", ())))
        return {o.name: (shape(o, n, R if o.name in self.record else 0, sizes), o.dtype) for o in OUTPUTS}

    def output_bytes(self, n=None):
        n = self.n_traj if n is None else n
        total = 0
        for shape, dtype in self.output_shapes(n).values():
            total += math.prod(shape) * np.dtype(dtype).itemsize  # Python integers: no overflow
        return total

    def input_bytes(self):
        total = 0
        for g in self.groups:
            for a in (g.hpo, g.hps, g.hpn, g.hpp, g.rep, g.cell, g.index):
                total += a.nbytes
        return total

    def allocate(self, n=None):
        n = self.n_traj if n is None else n
        out = {}
        for o, (shp, dtype) in zip(OUTPUTS, self.output_shapes(n).values()):
            out[o.name] = np.full(shp, o.fill, dtype=dtype)
        return out

    # -- running ------------------------------------------------------------------------
    def run_range(self, gi, start, stop, out=None, threads=None):
        """Run trajectories ``start:stop`` of group ``gi`` on ``threads`` cores; return their outputs.

        With ``out`` (arrays for this range, as from :meth:`allocate`), fill it in place.
        """
        g = self.groups[gi]
        n = stop - start
        if out is None:
            out = self.allocate(n)
        call = self._caller(g, start, out)
        fresh = not _driver.run.signatures
        since = _clock()
        call(0, 0)  # compile (or load from the cache) once, before the threads start
        if fresh:
            hits = sum(getattr(_driver.run.stats, "cache_hits", {}).values())
            _log(_driver.__name__, "kernel", since, hits == 0)
        threads = numba.get_num_threads() if threads is None else int(threads)
        blocks = _blocks(n, threads)
        if threads <= 1 or len(blocks) <= 1:
            for a, b in blocks:
                call(a, b)
        else:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                for f in [pool.submit(call, a, b) for a, b in blocks]:
                    f.result()
        return out

    def _caller(self, g, start, out, run=None, problem=None):
        """A function running trajectories ``a:b`` of ``out`` (offset ``start`` in group ``g``).

        ``run`` and ``problem`` replace the loop and the problem's entry points (for
        ``benchmarks/profile_kernels.py``)."""
        run = _driver.run if run is None else run
        nsamples = g.problem.n_samples() or 0
        nsched = sum(type(s).state_size for s in g.schedule_nodes)
        fn, sched = self.entry_tables(g, problem)
        data = (*g.pdata, *(a for arrays in g.ndata for a in arrays))
        opt = type(g.optimizer)
        names = OUTPUT_NAMES  # in the order of run's out_* arguments
        scol = self.scalar_columns(g)

        def call(a, b):
            sl = slice(start + a, start + b)
            work = workspace(g.spec, g.x0.shape[1], g.hpo.shape[1], opt.slots, opt.scalars, nsched,
                             nsamples, sched.shape[0], data)
            run(
                g.x0, g.hpo[sl], g.hps[sl], g.hpn[sl], g.hpp[sl], g.xstar,
                g.rep[sl], g.cell[sl], self.seed, self.steps, self.rec_steps,
                self.thresholds, self.diverge_factor, self.x_bound,
                opt.slots, opt.scalars, nsched, nsamples, fn, sched, scol,
                *(out[name][a:b] for name in names),
                *work,
            )

        return call

    def scalar_columns(self, g):
        """Where each of group ``g``'s optimizer scalars goes in the ``scalar`` dimension of
        the ``scalars`` record (int64[scalars]; empty when it is not recorded)."""
        names = getattr(self, "scalar_names", ())
        if "scalars" not in self.record or not names:
            return np.zeros(0, dtype=np.int64)
        return np.array([names.index(s) for s in scalar_labels(type(g.optimizer))], dtype=np.int64)

    def entry_tables(self, g, problem=None):
        """The tables of the entry points :func:`optsim.engine._driver.run` calls.

        ``fn``: addresses of the optimizer's ``init``, ``step``, ``eff_lr`` (0 unless the
        effective rates are recorded) and ``lookahead`` (0: none), the address of
        :func:`optsim.engine._records.records`, and the addresses of the problem's ``grad``,
        ``loss``, ``test``, ``gnorm``, ``dist`` (0 unless recorded), ``start`` and
        ``project`` (0: none), then the optimizer's ``point`` (0: none), its number of gradient
        evaluations per step, whether they share one noise sample, and the position in ``hp``
        of the hyperparameter that chooses it (-1: none), and for a matrix rule the address and
        rows of the group's parameter blocks (``Problem.param_blocks``; kept alive by the
        group).  ``sched``, one row per schedule node in evaluation order:
        the address of ``value``, the child's row (-1: none), then offset and width of the
        node's parameters in the schedule row and of its state, and, where the sweep
        schedules hyperparameters, the position in ``hp`` of its base value and where its
        value goes (layout ``_driver.SCHED``; the trees of scheduled hyperparameters first,
        the learning rate's last).  Cyclic momentum is one such scheduled hyperparameter: a
        node of the learning rate's tree with a ``momentum`` function (``Cyclic``,
        ``OneCycle``) gets a second row just before the root's, on the same parameters, whose
        value is that function's and goes to the optimizer's ``momentum_param``.  Only the
        entry points named here are compiled.
        """
        opt = type(g.optimizer)
        wanted = ["init", "step"]
        if "eff_lr" in self.record or "eff_lr_stats" in self.record:
            wanted.append("eff_lr")
        for extra in ("lookahead", "point"):
            if extra in opt.kernels:
                wanted.append(extra)
        ep = entry_points(opt, wanted)
        exact_row = -1
        if getattr(opt, "exact_gradient_row", None) is not None:
            exact_row = list(opt.slot_names).index(opt.exact_gradient_row)
        names = ["grad", "loss", "start", "project"] + (["exact"] if exact_row >= 0 else []) + [
            n for n, rec in (("test", "test_loss"), ("gnorm", "grad_norm"), ("dist", "dist"), ("metrics", "metrics"))
            if rec in self.record]
        if opt.hessian_slot is not None:
            names.append("hess")
        pe = kernel_for(g.spec, names, d=g.x0.shape[1]) if problem is None else {n: problem.get(n, 0) for n in names}
        fn = np.array(type(_driver.FN)(
            init=ep["init"], step=ep["step"], eff_lr=ep.get("eff_lr", 0), lookahead=ep.get("lookahead", 0),
            records=records_address(), grad=pe["grad"], loss=pe["loss"],
            test=pe.get("test", 0), gnorm=pe.get("gnorm", 0), dist=pe.get("dist", 0), start=pe["start"],
            project=pe["project"], point=ep.get("point", 0), evals=opt.evaluations,
            same_noise=int(bool(opt.same_noise)), same_noise_hp=self._same_noise_hp(opt),
            **self._blocks_entry(g), exact=pe.get("exact", 0), exact_row=exact_row, hess=pe.get("hess", 0),
            hess_slot=opt.slot_names.index(opt.hessian_slot) if opt.hessian_slot is not None else -1,
            metrics=pe.get("metrics", 0)),
            dtype=np.int64)
        rows, cycled = [], []
        sp_off = ss_off = 0
        nodes = g.spec.schedule_nodes
        mom = self._cycled_momentum(opt, nodes)
        # a tree with a join (a schedule with a ``clock``) gets the columns _driver.SCHED_CLOCK
        clocked = any("clock" in node[0].kernels for node in nodes)
        Row, Clock = type(_driver.SCHED), type(_driver.SCHED_CLOCK)
        for i, node in enumerate(nodes):
            scls, child, target = node[:3]
            up, slot = node[3:5] if len(node) >= 5 else (-1, 0)
            sep = entry_points(scls, ["value"] + (["clock"] if clocked and "clock" in scls.kernels else []))
            width = len(scls.dynamic_names())
            # the root of a hyperparameter's tree: no later node of that tree wraps it (has it as a child)
            if clocked:
                root = target is not None and up < 0
            else:
                root = target is not None and not any(n[1] == i for n in nodes[i + 1:])
            rows.append(Row(value=sep["value"], child=child, sp_off=sp_off, sp_n=width, ss_off=ss_off,
                            ss_n=scls.state_size, base=_driver.HP_LR if target is None else target,
                            target=target if root else _driver.NO_TARGET) + Clock(up=up, slot=slot, clock=sep.get("clock", 0)))
            if mom >= 0 and target is None and "momentum" in scls.kernels:
                # the momentum of a momentum-cycling node, on the node's parameters; in a join it
                # counts the node's own updates (its parent is the node, which has no clock)
                cycled.append(Row(value=entry_points(scls, ["momentum"])["momentum"], child=-1, sp_off=sp_off,
                                  sp_n=width, ss_off=0, ss_n=0, base=mom, target=mom) + Clock(up=i, slot=0, clock=0))
            sp_off += width
            ss_off += scls.state_size
        # the cycled momentum's rows first (each before the node whose count it takes, and the
        # learning rate's root stays the last row): every other row's child and parent move down
        m = len(cycled)
        shift = lambda j: j + m if j >= 0 else j  # noqa: E731
        C = len(_driver.SCHED)
        rows = [r[:_driver.SCHED.child] + (shift(r[_driver.SCHED.child]),) + r[_driver.SCHED.child + 1:C]
                + (shift(r[C + _driver.SCHED_CLOCK.up]),) + r[C + 1:] for r in cycled + rows]
        full = C + len(_driver.SCHED_CLOCK)
        if clocked:
            width = full
        elif any(r[_driver.SCHED.target] != _driver.NO_TARGET for r in rows):
            width = C
        else:
            width = _driver.SCHED_LR_ONLY
        return fn, np.array(rows, dtype=np.int64).reshape(-1, full)[:, :width].copy()

    @staticmethod
    def _cycled_momentum(opt, nodes):
        """The position in ``hp`` of the hyperparameter that the learning rate's schedule
        cycles (``Optimizer.momentum_param``), or -1: none, because the optimizer has no
        momentum (the sweep refuses ``cycle_momentum=True`` then) or because a schedule of
        its own sets it (the sweep refuses ``cycle_momentum=True`` with one)."""
        if opt.momentum_param is None:
            return -1
        col = opt.dynamic_names().index(opt.momentum_param)
        if any(node[2] == col for node in nodes):
            return -1
        return col

    @staticmethod
    def _same_noise_hp(opt):
        """The position in ``hp`` of ``opt.same_noise_param`` (-1: the class decides)."""
        if opt.evaluations <= 1 or opt.same_noise_param is None:
            return -1
        return opt.dynamic_names().index(opt.same_noise_param)

    @staticmethod
    def _blocks_entry(g):
        """The address and rows of ``g``'s parameter blocks for a matrix rule (else 0, 0)."""
        if not getattr(type(g.optimizer), "matrix", False):
            return {"blocks": 0, "nblocks": 0}
        if g.spec.blocked or g.blocks is None:
            raise TypeError(f"{type(g.optimizer).__name__} acts on matrices: its replicates cannot advance "
                            f"in blocks, and the group needs the problem's parameter blocks")
        return {"blocks": g.blocks.ctypes.data, "nblocks": g.blocks.shape[0]}

    def chunks(self, chunk_size=None):
        """(group, start, stop) ranges covering every trajectory, at most ``chunk_size`` long."""
        out = []
        for gi, g in enumerate(self.groups):
            size = g.size if not chunk_size else int(chunk_size)
            for start in range(0, g.size, size):
                out.append((gi, start, min(start + size, g.size)))
        return out

    def scatter(self, out, gi, start, stop, part):
        """Copy the outputs of trajectories ``start:stop`` of group ``gi`` into the flat ``out``."""
        idx = self.groups[gi].index[start:stop]
        for name, arr in part.items():
            out[name][idx] = arr

    def _view(self, out, gi, start, stop):
        """Views of ``out`` for trajectories ``start:stop`` of group ``gi`` where they are
        consecutive in the flat order (the range then runs in place, with no copy), else None."""
        idx = self.groups[gi].index
        if stop <= start:
            return None
        first, last = int(idx[start]), int(idx[stop - 1])
        if last - first != stop - start - 1:
            return None
        for a in range(start, stop, 2**20):  # (in pieces: no temporary the size of the range)
            piece = idx[a:min(a + 2**20 + 1, stop)]
            if not np.all(piece[1:] - piece[:-1] == 1):
                return None
        return {name: arr[first:last + 1] for name, arr in out.items()}

    def run(self, chunk_size=None, progress=False, on_chunk=None, threads=None, ranges=None,
            out=None, done=0, reducer=None):
        """Run every trajectory; return outputs in the sweep's flat trajectory order.

        ``ranges`` (default: all of :meth:`chunks`) limits the run to those (group, start,
        stop) ranges, filling ``out`` (default: freshly allocated), of which ``done``
        trajectories are already computed (for the progress bar).  ``on_chunk(gi, start,
        stop, part)`` is called as each range finishes.  With a ``reducer``
        (:class:`optsim.reduce.Reducer`) each range is reduced over its replicates first, and
        ``out`` holds the per-cell statistics.
        """
        target = self if reducer is None else reducer
        out = target.allocate() if out is None else out
        ranges = self.chunks(chunk_size) if ranges is None else ranges
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.n_traj, initial=done, unit="traj", unit_scale=True,
                       smoothing=0.1, disable=None)
        try:
            for gi, start, stop in ranges:
                view = self._view(out, gi, start, stop) if reducer is None else None
                part = self.run_range(gi, start, stop, out=view, threads=threads)
                if reducer is not None:
                    part = reducer.reduce(gi, start, stop, part)
                if view is None:
                    target.scatter(out, gi, start, stop, part)
                if on_chunk is not None:
                    on_chunk(gi, start, stop, part)
                if bar is not None:
                    bar.update(stop - start)
        finally:
            if bar is not None:
                bar.close()
        return out
