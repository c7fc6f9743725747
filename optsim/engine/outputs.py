"""The outputs a sweep records, defined once.

Each :class:`Output` says what one output array holds: its name, its dtype and fill
value (what a trajectory that never wrote it keeps), its trailing dimensions after the
trajectory (and, for outputs recorded at each recorded step, after ``step``), whether it
is written at each recorded step (and then which bit of the records function's
``flags`` says it is recorded) or once per trajectory, how it is reduced over replicates,
the name of the trajectory loop's argument that receives it, and its description.

Everything else is derived from :data:`OUTPUTS`: ``optsim.RECORDABLE``, the shapes and
allocation of :class:`~optsim.engine.plan.Plan`, the order in which the outputs are
passed to :func:`optsim.engine._driver.run`, the flag bits of
:func:`optsim.engine._records.records` (:data:`FLAGS`), the reducer
(:mod:`optsim.reduce`) and both Dataset assemblers (:mod:`optsim._sweep.assemble`).
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np

__all__ = ["Output", "OUTPUTS", "OUTPUT_NAMES", "RECORDED", "FLAGS", "STAT_NAMES", "DIVERGED_DOC",
           "output", "dim_sizes", "shape", "trailing_dims"]

#: The labels of the ``stat`` dimension of ``eff_lr_stats``.
STAT_NAMES = ("min", "mean", "max")

#: The description of the boolean ``diverged`` a full Dataset derives from ``diverged_at``.
DIVERGED_DOC = "the trajectory diverged"


@dataclass(frozen=True)
class Output:
    """One output array of the trajectory loop.

    ``dims``: the trailing dimensions (symbols sized by :func:`dim_sizes`: ``param``,
    ``slot``, ``stat``, ``threshold``, ``metric``), after ``step`` when ``per_record``.  ``reduction``:
    ``"stats"`` (mean, std and quantiles over replicates), ``"reached"`` (the fraction of
    replicates that reached each threshold, and the statistics of the step, a trajectory
    that never reached it counting as infinitely many steps) or ``"diverged"`` (the
    fraction of replicates that diverged).  ``reduced_doc``: what the statistics of a
    reduced Dataset are "of" (default: ``doc``).
    """

    name: str
    arg: str
    dims: tuple
    per_record: bool
    dtype: type
    doc: str
    reduction: str
    reduced_doc: str | None = None

    @property
    def fill(self):
        """The value of an entry no trajectory wrote (-1 for integers, NaN for floats)."""
        return -1 if np.dtype(self.dtype).kind == "i" else np.nan

    @property
    def what(self):
        """What a reduced Dataset's statistics of this output are statistics of."""
        return self.doc if self.reduced_doc is None else self.reduced_doc


_F = np.float64
_I = np.int64

#: Every output, in the order :func:`optsim.engine._driver.run` takes them (``out_*``).
OUTPUTS = (
    Output("loss", "out_loss", (), True, _F, "the training objective f(x_t) at each recorded step", "stats"),
    Output("test_loss", "out_test", (), True, _F, "the loss on the problem's test set (problems with one)", "stats"),
    Output("grad_norm", "out_gnorm", (), True, _F, "the norm of the noise-free gradient at x_t", "stats"),
    Output("dist", "out_dist", (), True, _F, "the distance from x_t to the optimum (problems that know it)",
           "stats"),
    Output("params", "out_params", ("param",), True, _F,
           "the parameters x_t themselves (dims: ..., step, param)", "stats"),
    Output("eff_lr", "out_eff", ("param",), True, _F,
           "the effective learning rate of each coordinate in the last update", "stats"),
    Output("eff_lr_stats", "out_effstats", ("stat",), True, _F, "min, mean and max over coordinates of eff_lr",
           "stats"),
    Output("state", "out_state", ("slot", "param"), True, _F,
           "the optimizer's state vectors (dims: ..., step, slot, param)", "stats"),
    Output("state_norm", "out_statenorm", ("slot",), True, _F,
           "the root-mean-square of each optimizer state vector", "stats"),
    Output("metrics", "out_metrics", ("metric",), True, _F,
           "the problem's named metrics (Problem.metric_names(): accuracies, ...; none for most problems)",
           "stats"),
    Output("final_loss", "out_final", (), False, _F, "loss at the last step (inf if the trajectory diverged)",
           "stats", "final loss"),
    Output("min_loss", "out_min", (), False, _F, "lowest recorded loss", "stats", "min loss"),
    Output("argmin_step", "out_argmin", (), False, _I, "step of the lowest recorded loss", "stats", "argmin step"),
    Output("first_below", "out_first", ("threshold",), False, _I,
           "first recorded step with loss <= threshold (-1: never)", "reached",
           "first recorded step with loss <= threshold (inf: never)"),
    Output("diverged_at", "out_div", (), False, _I,
           "step at which the trajectory diverged and was frozen (-1: never)", "diverged"),
)

OUTPUT_NAMES = tuple(o.name for o in OUTPUTS)

#: The outputs written at each recorded step (what ``record=`` chooses from), in order.
RECORDED = tuple(o.name for o in OUTPUTS if o.per_record)

#: The bit of the records function's ``flags`` that says each of :data:`RECORDED` is
#: recorded (``RECORDED[i]``: bit ``1 << i``); a module-level namedtuple of integers,
#: which numba folds into constants.
FLAGS = namedtuple("Flags", RECORDED)(*(1 << i for i in range(len(RECORDED))))

_BY_NAME = {o.name: o for o in OUTPUTS}


def output(name):
    """The :class:`Output` called ``name``."""
    return _BY_NAME[name]


def dim_sizes(dim, n_slots, n_thresholds, n_metrics=0):
    """The sizes of the trailing dimension symbols for a sweep of ``dim`` coordinates."""
    return {"param": int(dim), "slot": int(n_slots), "stat": len(STAT_NAMES), "threshold": int(n_thresholds),
            "metric": int(n_metrics)}


def shape(o, n, n_records, sizes):
    """The shape of output ``o`` for ``n`` trajectories, ``n_records`` of its recorded
    steps (0: not recorded; ignored for per-trajectory outputs)."""
    lead = (n, n_records) if o.per_record else (n,)
    return lead + tuple(sizes[d] for d in o.dims)


def trailing_dims(o):
    """The dimensions of ``o`` after the trajectory's (``step`` first if per record)."""
    return (["step"] if o.per_record else []) + list(o.dims)
