"""The four roles a component can play, and the jitted functions each must provide.

Every function below is a module-level ``@njit`` function (``cache=True`` for the
registered components) that takes and returns only scalars and preallocated arrays, never
allocates and never raises.  The engine's trajectory loop is compiled once and calls
them through C-callable entry points: per combination of problem and noise model(s) (the
problem's gradient and the noise models inlined into one loop), and per optimizer and
schedule function; see :mod:`optsim.engine.codegen`.

Optimizer (``kernels`` keys)
    ``init(x, S, sc, hp)``
        set up the state: ``S`` is float64[slots, d] (zeroed), ``sc`` float64[scalars]
        (zeroed; named by ``scalar_names``, for rules that accumulate over all coordinates),
        ``hp`` this trajectory's hyperparameter row (its first entry, ``lr``, is the base lr).
    ``step(x, g, S, sc, t, lr, hp)``
        apply one update to ``x`` in place; ``g`` is the observed gradient (it may be
        overwritten), ``t`` the 1-based step number used in bias corrections, ``lr`` the
        scheduled learning rate for this step.
    ``step(x, g, S, sc, t, lr, hp, blocks)`` (a rule with ``matrix = True``)
        the same, with the problem's parameter blocks (``Problem.param_blocks``): an int64
        array [nblocks, 3] of (offset, rows, cols) into ``x``, ``cols = 0`` for a vector
        block of ``rows`` numbers.  Such a rule advances one trajectory at a time.
    ``eff_lr(S, sc, t, lr, hp, out)``
        write the effective per-coordinate learning rate of the last update into ``out``.
    ``lookahead(x, S, sc, t, hp, y)`` (optional)
        for rules whose gradient is taken at a look-ahead point: write that point into
        ``y``; the engine evaluates the gradient there instead of at ``x``.
    ``point(x, g_prev, S, sc, t, k, hp, y)`` (optional; rules with ``evaluations > 1``)
        for rules that take several gradients per step: write the ``k``-th evaluation point
        (``k = 0 .. evaluations - 1``) into ``y``; ``g_prev`` holds the observed gradient at
        the previous point (undefined for ``k = 0``).  The engine evaluates
        the observed gradient at each point in turn, on the same noise sample or on
        independent draws (``same_noise``), and calls ``step`` with the last one; a rule
        that needs an earlier gradient keeps it in its state from ``point``.  A rule with
        ``point`` has no ``lookahead`` (``point`` at ``k = 0`` is its look-ahead).

Schedule
    ``value(k, base_lr, sp, ss, loss) -> lr``
        the learning rate for update ``k`` (0-based count of updates already applied),
        ``sp`` this trajectory's schedule row, ``ss`` float64[state_size] scratch state
        (zeroed; for plateau schedules), ``loss`` the observed loss at this step.
    A schedule that wraps another (warm-up composed with a decay) has
    ``value(k, base_lr, sp, ss, loss, inner_lr) -> lr`` and lists its children in
    ``children()``.
    A schedule that joins several (pieces one after the other) has ``wraps = True``, the
    ``value`` above (``inner_lr`` is then the running piece's rate) and
    ``clock(k, sp, j) -> k_j`` (optional): the count child ``j`` sees at the join's count
    ``k``, or -1 when that child is not running (it is then not evaluated at all, nor is
    anything below it, as torch's ``SequentialLR`` steps only the running scheduler).
    Exactly one child runs at every ``k``; the others under it count as their parent does.
    ``momentum(k, sp) -> m`` (optional)
        a value that overrides the optimizer's ``momentum_param`` for update ``k`` (cyclic
        momentum); NaN leaves it unchanged.  The engine runs it as the schedule of that
        hyperparameter, on the same row ``sp``, as it runs any scheduled hyperparameter.
    The same schedules can drive any numeric hyperparameter of the optimizer
    (``Method(opt, schedules={"beta1": ...})``): ``value`` then gets that hyperparameter's
    value in the row as ``base_lr``, and what it returns is written into ``hp`` before
    update ``k``.

Problem
    ``value_and_grad(x, g, t, pp, data, rng) -> loss``
        the gradient the optimizer would see without any noise model (exact for
        deterministic problems) written into ``g``, and the loss at ``x``.
    ``objective(x, pp, data) -> f``
        the training objective recorded as ``loss`` (for stochastic problems, its expectation).
    optional: ``test_loss(x, pp, data)``, ``distance(x, pp, data)``,
    ``batch_value_and_grad(x, g, idx, nb, pp, data) -> loss`` (minibatch gradient over
    rows ``idx[:nb]``), ``project(x, pp, data)`` (onto the feasible set, after every
    update), ``initial_point(x, pp, data, rng)`` (random starting points per replicate),
    ``hessian_diagonal(x, h, pp, data)`` (the exact diagonal of the objective's Hessian at
    ``x`` into ``h``, for rules that ask for it with ``Optimizer.hessian_slot``),
    ``metrics(x, out, pp, data)`` (the problem's named metrics at ``x``, one per name of
    ``Problem.metric_names()``, into ``out``; recorded with ``record=("metrics",)``; it may
    allocate, as it runs only at recorded steps).

Noise
    ``apply(g, x, t, npar, ndata, rng)``
        turn the exact gradient ``g`` into the observed one, in place.
    Minibatch sampling is its own kind (``kind = "minibatch"``): see
    :class:`optsim.noise.Minibatch`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from ._components import Component, ParameterError, closest

__all__ = ["Optimizer", "Schedule", "Problem", "Noise", "blocks_of"]


class Optimizer(Component):
    """Base class of update rules.  ``params[0]`` must be ``lr``."""

    role: ClassVar[str] = "optimizer"
    kernels: ClassVar[dict] = {}
    slots: ClassVar[int] = 0
    """Per-coordinate state vectors (rows of ``S``)."""
    slot_names: ClassVar[tuple[str, ...]] = ()
    scalars: ClassVar[int] = 0
    """Per-trajectory scalar state (``sc``)."""
    momentum_param: ClassVar[str | None] = None
    """The hyperparameter a momentum-cycling schedule overrides (``momentum``, ``beta1``)."""
    schedulable: ClassVar[tuple[str, ...] | None] = None
    """The hyperparameters that may follow a schedule (``Method(..., schedules={name: ...})``);
    None: every dynamic float parameter but ``lr`` (which follows ``schedule``)."""
    scalar_names: ClassVar[tuple[str, ...]] = ()
    """Names of the per-trajectory scalars ``sc`` (read as ``sc[SC.d]`` with
    ``SC = optsim._components.layout(scalar_names)``); a class that names them gets
    ``scalars = len(scalar_names)``."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "scalar_names" in cls.__dict__:
            if "scalars" in cls.__dict__ and cls.scalars != len(cls.scalar_names):
                raise TypeError(f"{cls.__name__}: scalars={cls.scalars} but {len(cls.scalar_names)} scalar_names")
            cls.scalars = len(cls.scalar_names)
        if cls.evaluations < 1 or (cls.evaluations > 1 and "point" not in cls.kernels):
            raise TypeError(f"{cls.__name__}: evaluations={cls.evaluations} needs evaluations >= 1 and, "
                            "above 1, a 'point' kernel")
        if "point" in cls.kernels and "lookahead" in cls.kernels:
            raise TypeError(f"{cls.__name__}: a rule has 'point' or 'lookahead', not both")

    def check_schedules(self, schedules) -> dict:
        """``{hyperparameter: schedule}`` in declaration order, or a one-line ParameterError
        naming the hyperparameter that cannot follow a schedule."""
        if not schedules:
            return {}
        cls = type(self)
        if not isinstance(schedules, Mapping):
            raise ParameterError(f"schedules must be a dict {{hyperparameter: schedule}}, got {schedules!r}")
        table = self.param_table()
        allowed = cls.schedulable_names()
        for name, sched in schedules.items():
            if name == "lr":
                raise ParameterError("schedules: lr follows schedule=, not schedules={'lr': ...}")
            if name not in table:
                raise ParameterError(f"schedules: {cls.__name__} has no parameter {name!r}{closest(name, table)}")
            if name not in allowed:
                raise ParameterError(f"schedules: {cls.__name__}.{name} cannot follow a schedule (the ones that "
                                     f"can: {', '.join(allowed) or 'none'})")
            if not isinstance(sched, Schedule):
                raise ParameterError(f"schedules: {name} must follow an optsim schedule, got {sched!r}")
            if self.values[name] is None:
                raise ParameterError(f"schedules: {cls.__name__}.{name} is None; give it a value to schedule from")
        return {p.name: schedules[p.name] for p in self.params if p.name in schedules}

    @classmethod
    def schedulable_names(cls) -> tuple[str, ...]:
        """The hyperparameters that may follow a schedule (see ``schedulable``)."""
        if cls.schedulable is not None:
            return tuple(cls.schedulable)
        return tuple(p.name for p in cls.params if p.dynamic and p.kind == "float" and p.name != "lr")
    evaluations: ClassVar[int] = 1
    """Gradient evaluations per step; more than one needs a ``point`` kernel."""
    same_noise: ClassVar[bool] = True
    """With several evaluations per step: True evaluates every point on the same noise sample
    (the random streams and the minibatch sampler are saved before the first evaluation and
    restored before each later one; SAM, MARS), False on independent draws (the streams
    continue).  Common random numbers across cells hold either way."""
    same_noise_param: ClassVar[str | None] = None
    """A bool hyperparameter that chooses ``same_noise`` per trajectory (None: the class's)."""
    matrix: ClassVar[bool] = False
    """True when ``step`` acts on each of the problem's matrices as a matrix: it then takes the
    extra ``blocks`` argument (see the module docstring), and replicates advance one at a time."""
    exact_gradient_row: ClassVar[str | None] = None
    """The name of a state row (one of ``slot_names``) into which the engine writes, before
    every ``step``, the problem's gradient without any noise model at the point where the
    observed gradient was taken (``value_and_grad`` on the records' random stream): the
    exact gradient that only a simulator knows (the exact-mask Cautious).  None: not needed."""

    hessian_slot: ClassVar[str | None] = None
    """The state row (one of ``slot_names``) into which the engine writes the problem's exact
    Hessian diagonal at the current point before every ``step``, where the problem has a
    ``hessian_diagonal`` kernel (else the row is left to the rule); None: never."""

    def check_problem(self, problem) -> None:
        """Raise a one-line ParameterError, before any work, when this rule cannot run on
        ``problem`` (a rule whose state must fit the problem's parameter blocks, or that needs
        an optional problem kernel).  Default: every problem will do."""

    elementwise: ClassVar[bool] = False
    """True when ``init``, ``step``, ``eff_lr`` and ``lookahead`` treat every coordinate on its
    own (no sums or norms over coordinates) and ``sc`` depends only on ``t`` and ``hp``.  The
    engine then advances the replicates of a grid cell together, as one long vector, which
    is several times faster and gives the same numbers to the bit."""


class Schedule(Component):
    """Base class of learning-rate schedules."""

    role: ClassVar[str] = "schedule"
    kernels: ClassVar[dict] = {}
    state_size: ClassVar[int] = 0
    wraps: ClassVar[bool] = False
    """True when ``value`` takes the inner schedule's lr (composed schedules)."""
    watches_loss: ClassVar[bool] = False
    """True when ``value`` reads ``loss``: the rate then differs between replicates, and the
    engine runs them one at a time (as it does for any schedule with ``state_size > 0``)."""

    def children(self) -> tuple["Schedule", ...]:
        return ()

    def tree(self) -> list[tuple[tuple[str, ...], "Schedule"]]:
        """Post-order ``(path, node)`` pairs: children come before their parent, the order
        in which the engine evaluates them; ``path`` is the keys from this schedule down."""
        out = []

        def walk(node, path):
            for key, child in node.children_map.items():
                walk(child, path + (key,))
            out.append((path, node))

        walk(self, ())
        return out

    def learning_rates(self, n, base_lr, losses=None) -> np.ndarray:
        """The learning rate of updates ``k = 0..n-1`` from ``base_lr``, without a sweep.

        Calls the same jitted value functions as the engine, in the same order (a wrapping
        schedule gets its child's rate), so the numbers are the engine's.  ``losses`` (length
        ``n``) is the loss each update sees, for schedules that watch it (plateau); default 0.
        """
        tree = self.tree()
        nodes = [node for _, node in tree]
        rows = [node.row() for node in nodes]
        states = [np.zeros(type(node).state_size) for node in nodes]
        index = {id(node): i for i, node in enumerate(nodes)}
        out = np.empty(int(n))
        if any("clock" in type(node).kernels for node in nodes):
            return self._clocked_rates(tree, rows, states, out, float(base_lr), losses)
        for k in range(int(n)):
            loss = 0.0 if losses is None else float(losses[k])
            vals = []
            for i, node in enumerate(nodes):
                fn = type(node).kernels["value"]
                if type(node).wraps:
                    child = next(iter(node.children_map.values()))
                    vals.append(fn(k, base_lr, rows[i], states[i], loss, vals[index[id(child)]]))
                else:
                    vals.append(fn(k, base_lr, rows[i], states[i], loss))
            out[k] = vals[-1]
        return out

    @staticmethod
    def _clocked_rates(tree, rows, states, out, base_lr, losses):
        """:meth:`learning_rates` of a tree with a join: the engine's counts, from the root
        down, then the values of the nodes that run, children first."""
        nodes = [node for _, node in tree]
        position = {path: i for i, (path, _) in enumerate(tree)}
        up = [position.get(path[:-1], -1) if path else -1 for path, _ in tree]
        slot = [list(nodes[up[i]].children_map).index(path[-1]) if up[i] >= 0 else 0
                for i, (path, _) in enumerate(tree)]
        first = [position[path + (next(iter(node.children_map)),)] if type(node).wraps else -1
                 for path, node in tree]
        m = len(nodes)
        vals = [np.nan] * m
        for k in range(out.shape[0]):
            loss = 0.0 if losses is None else float(losses[k])
            clock = [k] * m
            running = list(first)
            for i in range(m - 1, -1, -1):
                p = up[i]
                if p >= 0:
                    clock[i] = clock[p]
                    if clock[p] >= 0 and "clock" in type(nodes[p]).kernels:
                        clock[i] = type(nodes[p]).kernels["clock"](clock[p], rows[p], slot[i])
                        if clock[i] >= 0:
                            running[p] = i
            for i, node in enumerate(nodes):
                if clock[i] < 0:
                    continue
                fn = type(node).kernels["value"]
                if type(node).wraps:
                    vals[i] = fn(clock[i], base_lr, rows[i], states[i], loss, vals[running[i]])
                else:
                    vals[i] = fn(clock[i], base_lr, rows[i], states[i], loss)
            out[k] = vals[-1]
        return out


class Problem(Component):
    """Base class of objectives."""

    role: ClassVar[str] = "problem"
    kernels: ClassVar[dict] = {}

    def dimension(self) -> int:
        raise NotImplementedError

    def start_point(self) -> np.ndarray:
        """The starting point (before ``initial_point``, if the problem randomises it)."""
        raise NotImplementedError

    def data(self) -> tuple:
        """The static arrays handed to every kernel call (at least one array)."""
        return (np.zeros(0),)

    def optimum(self) -> np.ndarray | None:
        """The minimiser, where known (used for the distance to the optimum)."""
        return None

    def n_samples(self) -> int | None:
        """The number of examples, for problems that support minibatch sampling."""
        return None

    def loss_floor(self) -> float | None:
        """A number the loss is never below, where known (``None``: not known).  A sweep's
        ``thresholds`` below it are refused: no trajectory could ever reach them."""
        return None

    def hessian_diag(self) -> np.ndarray | None:
        """Curvatures along the coordinates, where the noise models need them."""
        return None

    def metric_names(self) -> tuple[str, ...]:
        """The names of what the ``metrics`` kernel writes, in order (the labels of the
        ``metric`` dimension of the ``metrics`` record); () for a problem without one."""
        return ()

    def data_bytes(self) -> int | None:
        """The bytes :meth:`data` takes to make and hold its arrays, computed from the
        problem's sizes without making them (the sweep's memory guard refuses, before any
        allocation, what will not fit).  ``None`` (the default): not known, and the sweep
        makes :meth:`data` once to measure it."""
        return None

    def coord_names(self) -> list[str]:
        d = self.dimension()
        return [f"x{i}" for i in range(d)]

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """The parameter as named arrays, ``{name: shape}`` in storage order, whose sizes add up
        to :meth:`dimension`.  The engine stores them as one flat vector, each array row-major
        after the one before; elementwise rules see only that vector.  Default: one vector,
        ``{"x": (d,)}``."""
        return {"x": (self.dimension(),)}

    def param_blocks(self) -> np.ndarray:
        """:meth:`param_shapes` as the int64 array [nblocks, 3] of (offset, rows, cols) that
        a matrix rule's ``step`` gets: a 2-D shape (r, c) gives (offset, r, c); a vector or a
        scalar of n numbers gives (offset, n, 0); a shape (r, c1, c2, ...) of more dimensions
        is taken as the r x (c1 c2 ...) matrix of its rows (as Muon's reference flattens
        convolution filters).  A one-line ParameterError for shapes that do not fit."""
        return blocks_of(self.param_shapes(), self.dimension(), type(self).__name__)

    def param_names(self) -> list[str]:
        """Names of the coordinates from :meth:`param_shapes`: ``W[0,1]``, ``b[2]``."""
        names = []
        for name, shape in self.param_shapes().items():
            names += [f"{name}[{','.join(map(str, ix))}]" for ix in np.ndindex(*shape)] if shape else [name]
        return names


def blocks_of(shapes, d, owner="problem") -> np.ndarray:
    """The blocks (offset, rows, cols) of ``shapes`` (see :meth:`Problem.param_blocks`)."""
    if not isinstance(shapes, Mapping) or not shapes:
        raise ParameterError(f"{owner}.param_shapes() must be a non-empty dict {{name: shape}}, got {shapes!r}")
    rows = []
    off = 0
    for name, shape in shapes.items():
        shape = (shape,) if isinstance(shape, (int, np.integer)) else shape
        if not isinstance(name, str) or not isinstance(shape, tuple) or not all(
                isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in shape):
            raise ParameterError(f"{owner}.param_shapes(): {name!r} has shape {shape!r}; a shape is a tuple "
                                 f"of positive integers")
        size = int(np.prod(shape, dtype=np.int64))
        if len(shape) >= 2:
            rows.append((off, int(shape[0]), size // int(shape[0])))
        else:
            rows.append((off, size, 0))
        off += size
    if off != d:
        raise ParameterError(f"{owner}.param_shapes(): the shapes {dict(shapes)} hold {off} numbers, "
                             f"but the dimension is {d}")
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


class Noise(Component):
    """Base class of gradient-noise models."""

    role: ClassVar[str] = "noise"
    kernels: ClassVar[dict] = {}
    kind: ClassVar[str] = "transform"

    def prepare(self, problem: Problem) -> tuple:
        """Static arrays this model needs from the problem (at least one array)."""
        return (np.zeros(0),)

    def prepare_bytes(self, problem: Problem) -> int | None:
        """The bytes :meth:`prepare` takes for ``problem``, computed without making its
        arrays (see :meth:`Problem.data_bytes`); ``None`` (the default): not known, and the
        sweep calls :meth:`prepare` once to measure it."""
        return None
