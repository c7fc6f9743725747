"""``optsim.sweep``: many trajectories over a grid of hyperparameters, as an xarray Dataset.

The work is done in :mod:`optsim._sweep`, one concern per module (the keyword set, methods
and parameter names, the grid, the plan, the assembled Datasets, the running of chunks);
this module is the entry point, :func:`sweep`, and re-exports their public names.
"""

from __future__ import annotations

from . import _provenance  # noqa: F401 - importable from here before the split
from ._components import Component, OptsimError, ParameterError, closest  # noqa: F401
from ._roles import Noise, Optimizer, Problem, Schedule  # noqa: F401
from ._sweep.assemble import (  # noqa: F401 - re-exported
    _STAT_TEXT, _TRAILING, _attrs, _coord_names, _layout_coords, _slot_names, _spec_dict, assemble,
    assemble_reduced, spec_hash,
)
from ._sweep.grid import _Axis, _axes, _record_steps  # noqa: F401 - re-exported
from ._sweep.keywords import KEYWORDS, PLAN_KEYWORDS, _check_int, takes  # noqa: F401 - re-exported
from ._budget import Budget
from ._sweep.plan import _build_plan, _make_group, _node_entries, build_plan  # noqa: F401 - re-exported
from ._sweep.run import (  # noqa: F401 - re-exported
    MemoryLimitError, _available_memory, _gib, check_memory, run_chunked, run_plan,
)
from ._sweep.spec import (  # noqa: F401 - re-exported
    Method, _as_method, _get, _locations, _methods, _resolve, _schedule_tree, _set,
)
from .engine.codegen import KernelSpec  # noqa: F401
from .engine.plan import RECORDABLE, Group, Plan  # noqa: F401
from .io import to_jsonable as _jsonable  # noqa: F401 - the old private name of the spec's JSON helper

__all__ = ["sweep", "build_plan", "Method", "MemoryLimitError", "assemble", "run_chunked"]


# -- the public entry point ---------------------------------------------------------------


@takes("sweep")
def sweep(
    problem,
    optimizer,
    *,
    noise=None,
    schedule=None,
    grid=None,
    replicates=1,
    steps=100,
    record_every=None,
    record_steps=None,
    record=("loss",),
    thresholds=(),
    seed=0,
    common_random_numbers=True,
    diverge_factor=1e8,
    x_bound=None,
    threads=None,
    chunk_size=None,
    max_memory=None,
    progress=None,
    out_dir=None,
    resume=False,
    overwrite=False,
    client=None,
    reduce=None,
    quantiles=(0.1, 0.5, 0.9),
    schedules=None,
):
    """Run many optimizer trajectories over a grid of hyperparameters.

    Parameters
    ----------
    problem : optsim.problems.Problem
        The objective (with its starting point).
    optimizer : Optimizer, list of Optimizer, or dict {label: Optimizer or (Optimizer, Schedule)}
        One update rule, or several along an ``optimizer`` dimension.
    {keywords}

    Returns
    -------
    xarray.Dataset
        Dimensions ``[optimizer,] <grid axes>, replicate, step`` (plus ``param``, ``slot``,
        ``stat``, ``threshold`` where needed; ``quantile`` and no ``replicate`` with
        ``reduce``); the full spec, seed, versions and git revision in ``attrs``.
    """
    given = dict(locals())  # every keyword, already checked by its entry in the table
    from .reduce import Reducer, check_reduce

    if out_dir is None and (resume or overwrite):
        raise ParameterError("resume and overwrite apply to out_dir=...; give the sweep's directory")
    if resume and overwrite:
        raise ParameterError("resume=True and overwrite=True conflict: resume keeps the finished chunks, "
                             "overwrite discards them; give one of them")

    stats, qs = check_reduce(reduce, quantiles)
    kwargs = dict(common_random_numbers=bool(common_random_numbers))
    if client is None:
        from .distributed import current_client

        client = current_client()
    checkpoint = None
    if out_dir is None:
        from .store import current_checkpoints

        checkpoint = current_checkpoints()
    saved = out_dir is not None or checkpoint is not None
    # every allocation of the sweep is sized, and refused if it cannot fit, before the first is made
    budget = Budget(max_memory, True, stats, qs, chunk_size, threads,
                    chunked=saved or client is not None, saved=saved)
    plan, layout = _build_plan(problem, optimizer, budget, **{name: given[name] for name in PLAN_KEYWORDS})
    reducer = Reducer(plan, layout["replicates"], stats, qs) if stats else None
    spec = _spec_dict(plan, layout, kwargs)
    if reducer is not None:
        spec["reduce"] = list(stats)
        spec["quantiles"] = list(qs) if "quantiles" in stats else []
    if progress is None:
        import sys

        progress = sys.stderr.isatty()
    if checkpoint is not None:
        out_dir, resume = checkpoint / spec_hash(spec), True
    if out_dir is None and client is None and reducer is None:
        out = run_plan(plan, threads=threads, chunk_size=chunk_size, progress=progress)
        return assemble(plan, layout, out, spec)
    from .store import ChunkStore

    store = None
    if out_dir is not None:
        store = ChunkStore(out_dir, spec, spec_hash(spec), resume=bool(resume), overwrite=bool(overwrite))
    out = run_chunked(plan, store=store, client=client, threads=threads, chunk_size=chunk_size,
                      progress=progress, reducer=reducer)
    if reducer is not None:
        ds = assemble_reduced(plan, layout, out, spec, reducer)
    else:
        ds = assemble(plan, layout, out, spec)
    if store is not None:
        from .io import save

        save(ds, store.result_path)
    return ds


