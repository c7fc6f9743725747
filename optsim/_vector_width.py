"""``OPTSIM_VECTOR_WIDTH``: the width of the vector instructions the compiled loops prefer.

On x86-64 processors with AVX-512, LLVM's tuning for Intel's cores (Rocket Lake among them)
prefers 256-bit vectors even though 512-bit ones exist, because on the first of those cores
512-bit instructions lower the clock.  ``OPTSIM_VECTOR_WIDTH`` overrides that choice for
every loop numba compiles in the process:

- ``auto`` (the default): the compiler's choice for the processor;
- ``512``: prefer 512-bit vectors where the processor has them;
- ``256``: prefer 256-bit vectors.

The numbers do not change, to the bit: optsim's loops take every sum in index order and
apply the same rounded operations to each element whatever the vector width
(``tests/test_vector_width.py`` compares kernels and whole sweeps under two settings).
Only the speed does.  On a 2-core Intel Xeon (family 6 model 167, ``lscpu``), ``512`` made
the MLP workload W5 of ``benchmarks/bench_peers.py`` 1.30 times as fast in two quick runs
back to back (see ``docs/performance.md``).

The setting is read once, when optsim is imported.  It sets numba's ``NUMBA_CPU_FEATURES``
to the host's features with LLVM's ``prefer-256-bit`` tuning turned off (``512``) or on
(``256``), so it must be in the environment before numba compiles anything (numba may be
imported first); a ``NUMBA_CPU_FEATURES`` set by hand is left as it is, and on other
processors than x86 the setting does nothing.  Compiled code is cached per set of features,
so the first sweep under a new setting compiles afresh.
"""

import os
import platform
import sys
import warnings

__all__ = ["VARIABLE", "CHOICES", "features", "apply"]

VARIABLE = "OPTSIM_VECTOR_WIDTH"
CHOICES = {"auto": None, "512": "-prefer-256-bit", "256": "+prefer-256-bit"}


def _choice(environ):
    value = environ.get(VARIABLE, "auto").strip().lower() or "auto"
    if value not in CHOICES:
        raise ValueError(f"{VARIABLE}={environ[VARIABLE]!r} is not a vector width: give one of "
                         f"{', '.join(map(repr, CHOICES))}")
    return value


def features(value, host=None):
    """The ``NUMBA_CPU_FEATURES`` string for the setting ``value`` (None for ``auto``):
    ``host``'s features (by default this machine's, as numba reads them) and the tuning
    flag."""
    flag = CHOICES[value]
    if flag is None:
        return None
    if host is None:
        import llvmlite.binding as llvm

        host = llvm.get_host_cpu_features().flatten()
    kept = [f for f in host.split(",") if f and f.lstrip("+-") != "prefer-256-bit"]
    return ",".join(kept + [flag])


def apply(environ=os.environ):
    """Set ``NUMBA_CPU_FEATURES`` in ``environ`` from ``OPTSIM_VECTOR_WIDTH`` (see the module
    docstring); the setting's value, ``auto`` when it is not set."""
    value = _choice(environ)
    if value == "auto" or environ.get("NUMBA_CPU_FEATURES") or not _x86():
        return value
    flags = features(value)
    if "numba" in sys.modules:
        if _numba_compiled():
            warnings.warn(f"{VARIABLE}={value} has no effect: numba compiled code before optsim was imported and "
                          f"keeps the settings it compiled with; import optsim first, or set NUMBA_CPU_FEATURES",
                          RuntimeWarning, stacklevel=3)
            return value
        from numba.core import config

        config.CPU_FEATURES = flags  # numba read its environment on import; it reads this when it sets up
    environ["NUMBA_CPU_FEATURES"] = flags
    return value


def _x86():
    """Whether this is an x86 processor, the only kind with LLVM's ``prefer-256-bit`` tuning."""
    return platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def _numba_compiled():
    """Whether numba, imported already, has set up its CPU compiler (and so keeps the CPU
    features it set it up with)."""
    from numba.core import registry

    target = getattr(registry, "cpu_target", None)
    return target is None or "_toplevel_target_context" in vars(target)
