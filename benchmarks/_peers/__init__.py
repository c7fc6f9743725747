"""Peers of ``benchmarks/bench_peers.py``: one module per implementation.

Every implementation offers ``unavailable()`` (None, or why it cannot run here),
``threads()``, ``warmup(wl)`` (compile / warm up; may return ``first_call_s``) and
``run(wl, seed)`` returning the loss at the record steps shaped
``(optimizers, lrs, replicates, records)`` plus a dict of extras.  :data:`IMPLEMENTATIONS`
lists them in table order; ``subset`` marks the one run on part of a workload and
extrapolated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from . import impl_c, impl_jax, impl_numpy, impl_optsim, impl_python, impl_torch


@dataclasses.dataclass(frozen=True)
class Impl:
    name: str
    label: str
    unavailable: Callable
    threads: Callable
    warmup: Callable
    run: Callable
    subset: bool = False


def _module(m, subset=False):
    return Impl(m.NAME, m.LABEL, m.unavailable, m.threads, m.warmup, m.run, subset)


IMPLEMENTATIONS = {
    "optsim": _module(impl_optsim),
    "numpy": _module(impl_numpy),
    "jax": _module(impl_jax),
    "torch": Impl("torch", "PyTorch, hand-written batched", impl_torch.unavailable, impl_torch.threads,
                  lambda wl: impl_torch.warmup_impl(wl, optim=False),
                  lambda wl, seed=0: impl_torch.run_impl(wl, seed, optim=False)),
    "torch_optim": Impl("torch_optim", "PyTorch torch.optim (param group per lr)", impl_torch.unavailable,
                        impl_torch.threads, lambda wl: impl_torch.warmup_impl(wl, optim=True),
                        lambda wl, seed=0: impl_torch.run_impl(wl, seed, optim=True)),
    "python": _module(impl_python, subset=True),
    "c": _module(impl_c),
}

__all__ = ["IMPLEMENTATIONS", "Impl"]
