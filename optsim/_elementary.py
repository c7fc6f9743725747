"""Elementary functions of optsim's own, from rounded ``+ - * /`` only: the same bits on every
machine, C library and vector width, and loops over them vectorize.

A kernel that calls the C library's ``tanh`` gets that library's last bits (glibc's differ
from macOS's and from Intel's) and a scalar call per element.  :func:`tanh` here is a fixed
sequence of IEEE operations, so a sweep that uses it gives the same numbers wherever it runs,
and the compiler turns a loop over it into vector instructions (2.5 to 3 times as fast as the
C library's on one x86-64 core, measured in ``benchmarks/profile_mlp.py``).  Its error is at
most 1.24 units in the last place on the 10,422 points of the 50-digit mpmath fixture
(``tests/golden/functions/tanh_mpmath.npz``; glibc's 1.16 there), and at most 1.33 on 7
million random points checked against x87 long double; 95% are correctly rounded (glibc: 81%).

The loop that calls it must be compiled with ``error_model="numpy"``: under numba's default
error model every division checks its divisor for zero, and the check stops vectorization.

Method: for :math:`|x| < 0.625` the rational form :math:`x + x z P(z)/Q(z)`, :math:`z = x^2`,
with the coefficients of S. L. Moshier's Cephes library (*Methods and Programs for
Mathematical Functions*, 1989); above it :math:`1 - 2/(e^{2|x|} + 1)` with the sign of
:math:`x`, the exponential reduced by Cody and Waite's two-part :math:`\\ln 2`
(:math:`2|x| = k \\ln 2 + r`, :math:`|r| \\le \\ln 2 / 2`), its Taylor polynomial of degree
13 in :math:`r` (truncation below :math:`10^{-17}`), and :math:`2^k` built from its exponent
bits.  :math:`|x| \\ge 20` gives :math:`\\pm 1` (``tanh(20)`` rounds to 1), NaN gives NaN,
and :math:`|x| < 10^{-10}` gives :math:`x` itself (so ``-0.0`` stays ``-0.0``).
"""

import math

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["tanh", "pow2"]


@intrinsic
def _pow2_bits(typingctx, k):
    """``2.0 ** k`` for an int64 ``k`` in [-1022, 1023]: the exponent field ``k + 1023``."""

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        bits = builder.shl(builder.add(args[0], ir.Constant(i64, 1023)), ir.Constant(i64, 52))
        return builder.bitcast(bits, ir.DoubleType())

    return types.float64(types.int64), codegen


@njit(cache=True, inline="always")
def pow2(k):
    """``2.0 ** k``, exactly, for a whole ``k`` in [-1022, 1023] (no check)."""
    return _pow2_bits(k)


# Cephes tanh.c: tanh(x) = x + x z P(z) / Q(z) on |x| < 0.625, z = x^2 (Q monic)
_P0 = -9.64399179425052238628e-1
_P1 = -9.92877231001918586564e1
_P2 = -1.61468768441708447952e3
_Q1 = 1.12811678491632931402e2
_Q2 = 2.23548839060100448583e3
_Q3 = 4.84406305325125486048e3
# Cody-Waite: LN2_HI has 32 significant bits, so k * LN2_HI is exact for |k| < 2^21
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_E2, _E3, _E4, _E5, _E6, _E7, _E8, _E9, _E10, _E11, _E12, _E13 = (1.0 / math.factorial(n) for n in range(2, 14))


@njit(cache=True, inline="always")
def tanh(x):
    """The hyperbolic tangent of ``x`` (see the module docstring for the method and error)."""
    ax = abs(x)
    z = x * x
    small = x + x * (z * (((_P0 * z + _P1) * z + _P2) / (((z + _Q1) * z + _Q2) * z + _Q3)))
    y = 2.0 * (ax if ax < 20.0 else 20.0)
    k = math.floor(y * _INV_LN2 + 0.5)
    r = (y - k * _LN2_HI) - k * _LN2_LO
    p = _E13 * r + _E12
    p = p * r + _E11
    p = p * r + _E10
    p = p * r + _E9
    p = p * r + _E8
    p = p * r + _E7
    p = p * r + _E6
    p = p * r + _E5
    p = p * r + _E4
    p = p * r + _E3
    p = p * r + _E2
    p = p * r + 1.0
    p = p * r + 1.0
    big = 1.0 - 2.0 / (p * _pow2_bits(k) + 1.0)
    big = big if x >= 0.0 else -big
    out = small if ax < 0.625 else big
    out = out if ax >= 1e-10 else x
    return out if ax == ax else x
