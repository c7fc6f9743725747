"""Counter-free, per-trajectory random streams for the kernels.

Every trajectory owns one small generator per *stream* (gradient noise, minibatch
sampling, the problem's own randomness, ...).  A stream's state is four ``uint64``
words of xoshiro256** (Blackman & Vigna 2018), seeded by splitmix64 from the key
``(root seed, replicate, stream, cell)``.  Nothing is shared between trajectories,
so results do not depend on thread count, scheduling or chunking.

With *common random numbers* (the default in :func:`optsim.sweep`) the ``cell``
part of the key is 0 for every grid cell, so replicate ``r`` sees the same noise
sequence in every cell and for every optimizer.

All draws are float64.  Normals use a 256-layer ziggurat (Marsaglia & Tsang 2000,
with Doornik's 2005 trick of taking the layer, sign and mantissa bits from one
64-bit word); Student-t uses Bailey's polar method (1994); symmetric alpha-stable
uses Chambers, Mallows & Stuck (1976).

These functions are jitted, unchecked and never allocate.  They are also callable
from Python, which is how the tests compare them with NumPy oracles.
"""

import math

import numpy as np
from numba import njit

__all__ = [
    "STATE_WORDS",
    "seed_stream",
    "next_u64",
    "uniform",
    "randint",
    "normal",
    "normal_at",
    "exponential",
    "student_t",
    "symmetric_stable",
    "stream_state",
]

STATE_WORDS = 4

_U0 = np.uint64(0)
_U1 = np.uint64(1)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_KEY_REP = np.uint64(0x243F6A8885A308D3)  # digits of pi: separate the key parts
_KEY_STREAM = np.uint64(0x13198A2E03707344)
_KEY_CELL = np.uint64(0xA4093822299F31D0)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S17 = np.uint64(17)
_S11 = np.uint64(11)
_S8 = np.uint64(8)
_FIVE = np.uint64(5)
_NINE = np.uint64(9)
_MASK8 = np.uint64(255)
_TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True)
def _splitmix64(z):
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True)
def seed_stream(state, seed, replicate, stream, cell):
    """Seed ``state`` (uint64[4]) from the key (seed, replicate, stream, cell)."""
    z = _splitmix64(np.uint64(seed))
    z = _splitmix64(z ^ _splitmix64(np.uint64(replicate) ^ _KEY_REP))
    z = _splitmix64(z ^ _splitmix64(np.uint64(stream) ^ _KEY_STREAM))
    z = _splitmix64(z ^ _splitmix64(np.uint64(cell) ^ _KEY_CELL))
    for i in range(STATE_WORDS):
        z = z + _GOLDEN
        state[i] = _splitmix64(z)


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True, inline="always")
def next_u64(s):
    """xoshiro256**: the next 64-bit word of stream ``s`` (advances ``s``)."""
    result = _rotl(s[1] * _FIVE, 7) * _NINE
    t = s[1] << _S17
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@njit(cache=True, inline="always")
def next_u64_at(s0, s1, s2, s3):
    """:func:`next_u64` on a stream whose state is held in ``s0, s1, s2, s3`` (kept in
    registers across draws) rather than in memory: ``(word, s0, s1, s2, s3)``."""
    result = _rotl(s1 * _FIVE, 7) * _NINE
    t = s1 << _S17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@njit(cache=True)
def uniform(s):
    """A float64 uniform on [0, 1) with 53 random bits."""
    return float(next_u64(s) >> _S11) * _TWO_M53


@njit(cache=True)
def randint(s, n):
    """An integer uniform on {0, ..., n-1}: floor(U n), with a bias below n / 2**53."""
    return int(uniform(s) * n)


@njit(cache=True)
def exponential(s):
    """A standard exponential draw, -log(1 - U) with U on [0, 1)."""
    return -math.log(1.0 - uniform(s))


# --- ziggurat tables (256 layers of equal area under exp(-x^2/2)) ---------------


def _ziggurat_tables(n=256):
    """Solve for the base-strip edge r and build the layer edges x_i and f(x_i)."""
    f = lambda x: math.exp(-0.5 * x * x)  # noqa: E731
    tail = lambda r: math.sqrt(math.pi / 2.0) * math.erfc(r / math.sqrt(2.0))  # noqa: E731

    def top_residual(r):
        v = r * f(r) + tail(r)
        x = r
        for _ in range(n - 2):
            y = v / x + f(x)
            if y >= 1.0:
                return 1.0  # ran out of room: r too small
            x = math.sqrt(-2.0 * math.log(y))
        return v / x + f(x) - 1.0  # the last layer must end exactly at f(0) = 1

    lo, hi = 3.0, 4.5
    for _ in range(200):  # bisection, to the point where it no longer moves (about 55 steps)
        mid = 0.5 * (lo + hi)
        if top_residual(mid) > 0.0:
            if mid == lo:
                break
            lo = mid
        else:
            if mid == hi:
                break
            hi = mid
    r = 0.5 * (lo + hi)
    v = r * f(r) + tail(r)
    x = np.empty(n + 1)
    x[0] = v / f(r)  # the base strip's virtual width: area v over height f(r)
    x[1] = r
    for i in range(1, n - 1):
        x[i + 1] = math.sqrt(-2.0 * math.log(v / x[i] + f(x[i])))
    x[n] = 0.0
    fx = np.exp(-0.5 * x * x)
    return r, x, fx


_ZIG_R, _ZIG_X, _ZIG_F = _ziggurat_tables()


@njit(cache=True, inline="always")
def normal(s):
    """A standard normal draw (256-layer ziggurat, float64).

    The common case (about 99% of draws: one 64-bit word, one comparison) is inlined into
    the caller; the rest goes to :func:`_normal_rest`, which continues the same algorithm.
    """
    u = next_u64(s)
    i = np.int64(u & _MASK8)
    x = float(u >> _S11) * _TWO_M53 * _ZIG_X[i]
    if x < _ZIG_X[i + 1]:
        return -x if ((u >> _S8) & _U1) == _U1 else x
    return _normal_rest(s, u)


@njit(cache=True, inline="always")
def normal_at(s, s0, s1, s2, s3):
    """:func:`normal` on a stream whose state is held in ``s0, s1, s2, s3`` (kept in
    registers across draws) rather than in memory: ``(draw, s0, s1, s2, s3)``.  ``s`` is the
    stream's array, written and read back only in the rare case (about 1%)."""
    u, s0, s1, s2, s3 = next_u64_at(s0, s1, s2, s3)
    i = np.int64(u & _MASK8)
    x = float(u >> _S11) * _TWO_M53 * _ZIG_X[i]
    if x < _ZIG_X[i + 1]:
        return (-x if ((u >> _S8) & _U1) == _U1 else x), s0, s1, s2, s3
    s[0] = s0
    s[1] = s1
    s[2] = s2
    s[3] = s3
    x = _normal_rest(s, u)
    return x, s[0], s[1], s[2], s[3]


@njit(cache=True)
def _normal_rest(s, u):
    """The ziggurat from a first word ``u`` that fell outside its layer's rectangle."""
    first = True
    while True:
        if not first:
            u = next_u64(s)
        first = False
        i = np.int64(u & _MASK8)
        negative = ((u >> _S8) & _U1) == _U1
        x = float(u >> _S11) * _TWO_M53 * _ZIG_X[i]
        if x < _ZIG_X[i + 1]:
            return -x if negative else x
        if i == 0:
            # the tail beyond r (Marsaglia 1964)
            while True:
                a = -math.log(1.0 - uniform(s)) / _ZIG_R
                b = -math.log(1.0 - uniform(s))
                if 2.0 * b > a * a:
                    x = _ZIG_R + a
                    return -x if negative else x
        # the wedge between the layer's rectangle and the curve
        y = _ZIG_F[i] + uniform(s) * (_ZIG_F[i + 1] - _ZIG_F[i])
        if y < math.exp(-0.5 * x * x):
            return -x if negative else x


@njit(cache=True)
def student_t(s, nu):
    """A Student-t draw with ``nu`` > 0 degrees of freedom (Bailey's polar method)."""
    while True:
        u = 2.0 * uniform(s) - 1.0
        v = 2.0 * uniform(s) - 1.0
        w = u * u + v * v
        if 0.0 < w <= 1.0:
            return u * math.sqrt(nu * (w ** (-2.0 / nu) - 1.0) / w)


@njit(cache=True)
def symmetric_stable(s, alpha):
    """A symmetric alpha-stable draw S_alpha(1, 0, 0), 0 < alpha <= 2.

    Chambers-Mallows-Stuck.  ``alpha = 2`` gives N(0, 2); ``alpha = 1`` a standard Cauchy.
    """
    v = math.pi * (uniform(s) - 0.5)
    if alpha == 1.0:
        return math.tan(v)
    w = -math.log(1.0 - uniform(s))
    while w == 0.0:
        w = -math.log(1.0 - uniform(s))
    return (
        math.sin(alpha * v)
        / math.cos(v) ** (1.0 / alpha)
        * (math.cos(v - alpha * v) / w) ** ((1.0 - alpha) / alpha)
    )


def stream_state(seed, replicate=0, stream=0, cell=0):
    """A fresh uint64[4] stream state for the given key (Python helper for tests and users)."""
    state = np.empty(STATE_WORDS, dtype=np.uint64)
    seed_stream(state, np.uint64(int(seed) % 2**64), replicate, stream, cell)
    return state
