"""The per-trajectory random streams, for the kernels of new components.

A component's kernel draws only from the stream the engine hands it (``rng``, four
``uint64`` words of xoshiro256**, keyed by root seed, replicate, stream and cell), with
these jitted draws; the draws are then common random numbers across grid cells,
reproducible to the bit, and independent of threads and chunks.  Each takes the stream's
state and advances it:

- :func:`uniform` ``(rng) -> u`` in [0, 1), :func:`randint` ``(rng, n)`` in 0..n-1,
  :func:`exponential`, :func:`normal`, :func:`student_t` ``(rng, nu)`` and
  :func:`symmetric_stable` ``(rng, alpha)``;
- :func:`normal_at` ``(rng, s0, s1, s2, s3) -> (z, s0, s1, s2, s3)``, the normal of a loop
  that keeps the four state words in registers and writes them back once
  (``rng[0], rng[1], rng[2], rng[3] = s0, s1, s2, s3``);
- :func:`stream_state` ``(seed, replicate, stream, cell)``, a fresh state from Python (to
  check a kernel's draws against a NumPy oracle, as the tests do).

The generator and the ziggurat are described in :mod:`optsim._rng`.
"""

from ._rng import (
    STATE_WORDS,
    exponential,
    normal,
    normal_at,
    randint,
    stream_state,
    student_t,
    symmetric_stable,
    uniform,
)

__all__ = ["STATE_WORDS", "uniform", "randint", "exponential", "normal", "normal_at", "student_t",
           "symmetric_stable", "stream_state"]
