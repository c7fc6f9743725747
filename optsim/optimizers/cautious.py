"""Cautious (Liang et al. 2024): any update rule, with the coordinates of its step that
disagree in sign with the gradient masked out and the rest rescaled.

``Cautious(Adam(lr=1e-3))`` builds, once per wrapped class, an optimizer class whose kernels
call the wrapped rule's kernels and then mask its step; its hyperparameters are the wrapped
rule's followed by ``normalization``.  The wrapped classes are made on demand; in a
configuration file or on the command line ``cautious_<name>`` and ``cautious_exact_<name>``
name them (:func:`optsim.registry.get`), and ``optsim list`` describes the family once, after
the registered optimizers.
"""

import math

from numba import njit

from .._components import Param, ParameterError
from .._roles import Optimizer

__all__ = ["Cautious"]

NORMALIZATIONS = ("count_plus_one", "mean", "none")
CAUTIOUS_PARAMS = (
    Param("normalization", "count_plus_one", "rescaling of the kept coordinates of each array: "
          "'count_plus_one' by n / (kept + 1) (the authors' C-Optim, pytorch-optimizer), 'mean' by "
          "1 / max(mean of the mask, 1e-3) (timm), 'none'", kind="choice", choices=NORMALIZATIONS),
)
MEAN_FLOOR = 1e-3  # timm: mask.mean().clamp_(min=1e-3)

_CACHE = {}


def _masked_step_kernels(inner, exact):
    """init, step and eff_lr of the cautious form of the optimizer class ``inner`` (with the
    mask from the noise-free gradient that the engine writes into the mask row: ``exact``)."""
    ks = inner.kernels
    inner_init, inner_step, inner_eff = ks["init"], ks["step"], ks["eff_lr"]
    before = inner.slots  # the rows after the wrapped rule's: x before the step, the mask's gradient
    grad_row = inner.slots + 1
    kept = inner.scalars  # the scalar after the wrapped rule's: the fraction of coordinates kept
    mode_at = len([p for p in inner.params if p.dynamic])  # the position of normalization in hp
    matrix = bool(getattr(inner, "matrix", False))
    observed = not exact  # the mask's gradient is the observed one, copied here

    @njit
    def cautious_init(x, S, sc, hp):
        inner_init(x, S, sc, hp)

    @njit
    def mask(x, S, sc, hp, blocks):
        mode = hp[mode_at]
        total = 0.0
        for k in range(blocks.shape[0]):
            off = blocks[k, 0]
            size = blocks[k, 1] * max(blocks[k, 2], 1)
            count = 0.0
            for i in range(off, off + size):
                if (S[before, i] - x[i]) * S[grad_row, i] > 0.0:
                    count += 1.0
            total += count
            if mode == 0.0:
                scale = size / (count + 1.0)
            elif mode == 1.0:
                scale = 1.0 / max(count / size, MEAN_FLOOR)
            else:
                scale = 1.0
            for i in range(off, off + size):
                d = S[before, i] - x[i]
                x[i] = S[before, i] - d * scale if d * S[grad_row, i] > 0.0 else S[before, i]
        sc[kept] = total / x.shape[0]

    if matrix:
        @njit
        def cautious_step(x, g, S, sc, t, lr, hp, blocks):
            for i in range(x.shape[0]):
                S[before, i] = x[i]
                if observed:
                    S[grad_row, i] = g[i]
            inner_step(x, g, S, sc, t, lr, hp, blocks)
            mask(x, S, sc, hp, blocks)
    else:
        @njit
        def cautious_step(x, g, S, sc, t, lr, hp, blocks):
            for i in range(x.shape[0]):
                S[before, i] = x[i]
                if observed:
                    S[grad_row, i] = g[i]
            inner_step(x, g, S, sc, t, lr, hp)
            mask(x, S, sc, hp, blocks)

    @njit
    def cautious_eff_lr(S, sc, t, lr, hp, out):
        inner_eff(S, sc, t, lr, hp, out)

    kernels = {"init": cautious_init, "step": cautious_step, "eff_lr": cautious_eff_lr}
    for extra in ("lookahead", "point"):
        if extra in ks:
            kernels[extra] = ks[extra]
    return kernels


def _names(names, n, prefix):
    names = tuple(names)
    return names if len(names) == n else tuple(f"{prefix}{i}" for i in range(n))


def cautious_class(inner, exact=False):
    """The optimizer class of the cautious form of the optimizer class ``inner`` (made once);
    ``exact``: the mask from the noise-free gradient (see :func:`Cautious`)."""
    key = (inner, bool(exact))
    if key in _CACHE:
        return _CACHE[key]
    if not (isinstance(inner, type) and issubclass(inner, Optimizer)) or "step" not in inner.kernels:
        raise ParameterError(f"Cautious wraps an optsim optimizer, got {inner!r}")
    if getattr(inner, "cautious_of", None) is not None:
        raise ParameterError(f"Cautious: {inner.__name__} is already cautious")
    taken = {p.name for p in inner.params}
    if "normalization" in taken:
        raise ParameterError(f"Cautious: {inner.__name__} has a parameter 'normalization' already")
    slot_names = _names(inner.slot_names, inner.slots, "slot") + ("x_before", "mask_grad")
    scalar_names = _names(inner.scalar_names, inner.scalars, "scalar") + ("kept_fraction",)
    attrs = {
        "__doc__": _doc(inner, exact),
        "__module__": __name__,
        "name": f"cautious_exact_{inner.name}" if exact else f"cautious_{inner.name}",
        "params": tuple(inner.params) + CAUTIOUS_PARAMS,
        "aliases": dict(getattr(inner, "aliases", {}) or {}),
        "slots": len(slot_names),
        "slot_names": slot_names,
        "scalar_names": scalar_names,
        "momentum_param": inner.momentum_param,
        "schedulable": tuple(inner.schedulable_names()),
        "evaluations": inner.evaluations,
        "same_noise": inner.same_noise,
        "same_noise_param": inner.same_noise_param,
        "matrix": True,  # the mask is normalized over each of the problem's arrays
        "elementwise": False,
        "kernels": _masked_step_kernels(inner, exact),
        "cautious_of": inner,
        "exact_gradient_row": "mask_grad" if exact else None,
    }
    if hasattr(inner, "_validate"):
        attrs["_validate"] = inner._validate
    cls = type(f"Cautious{'Exact' if exact else ''}{inner.__name__}", (Optimizer,), attrs)
    _CACHE[key] = cls
    return cls


def Cautious(optimizer, normalization="count_plus_one", exact=False):
    """The cautious form of ``optimizer`` (an optsim optimizer with its hyperparameters).

    ``normalization``: how the kept coordinates are rescaled (see the class docstring).
    ``exact=True``: the mask compares the step with the gradient WITHOUT noise at the point
    where the observed gradient was taken (the engine evaluates the problem's gradient there
    once more, ``Optimizer.exact_gradient_row``): the cautious rule with a perfect sign
    oracle, which only a simulator can run.  Its registry name is ``cautious_exact_<rule>``."""
    if not isinstance(optimizer, Optimizer):
        raise ParameterError(f"Cautious wraps an optsim optimizer, got {optimizer!r}")
    if not isinstance(exact, bool):
        raise ParameterError(f"Cautious: exact must be True or False, got {exact!r}")
    cls = cautious_class(type(optimizer), exact)
    return cls(**dict(optimizer.values, normalization=normalization))


def _doc(inner, exact):
    which = ("the gradient without noise at the point where the observed one was taken (the "
             "engine evaluates it through ``exact_gradient_row``: a sign oracle only a simulator has)"
             if exact else "the observed gradient it was given")
    return rf"""Cautious {inner.__name__}: the step of ``{inner.name}`` kept only where it agrees in sign
    with the {'exact ' if exact else ''}gradient (Liang et al. 2024).

    With :math:`u_t = x_{{t-1}} - x_t^{{\text{{rule}}}}` the step the wrapped rule takes and
    :math:`g_t` {which}, for each of the problem's arrays of :math:`n` coordinates:

    .. math::

        \phi_{{t,i}} = \mathbb 1[u_{{t,i}}\, g_{{t,i}} > 0], \qquad
        x_t = x_{{t-1}} - s_t\, \phi_t \odot u_t, \qquad
        s_t = \frac{{n}}{{\sum_i \phi_{{t,i}} + 1}} \ \text{{('count_plus_one')}}, \quad
        \frac{{1}}{{\max(\bar\phi_t, 10^{{-3}})}} \ \text{{('mean')}}, \quad 1 \ \text{{('none')}}

    with :math:`\bar\phi_t` the mean of the mask over the array.  ``'count_plus_one'`` is the
    authors' C-Optim code and pytorch-optimizer's ``apply_cautious``; ``'mean'`` timm's
    ``caution=True``.  The libraries mask the moment before the rule's own weight
    decay; this wrapper masks the whole step, weight decay included (the same without decay).
    A rule that keeps its own copy of the point in its state (Schedule-Free's :math:`y` and
    :math:`z`) goes on from its unmasked copy.

    State: the wrapped rule's rows, then ``x_before`` and ``mask_grad`` (the gradient of the
    mask); scalars: the wrapped rule's, then ``kept_fraction`` (the fraction of coordinates
    kept at the last step).  ``eff_lr`` is the wrapped rule's, before masking.

    References: Liang, Chen, Liu & Liu, *Cautious Optimizers: Improving Training with One
    Line of Code*, arXiv:2411.16085, 2024; github.com/kyleliang919/C-Optim;
    ``pytorch_optimizer`` (``cautious=True``).
    """
