"""optsim's portable tanh (optsim._elementary) against 50-digit values (a committed mpmath
fixture), its special values, its bits in and out of vectorized loops, and the MLP's
``tanh="portable"`` beside its default (its gradients are checked in test_mlp.py)."""

import math
from pathlib import Path

import numpy as np
import pytest
from numba import njit

import optsim
from optsim import _elementary
from optsim.noise import Minibatch
from optsim.optimizers import Adam
from optsim.problems import MLP


FIXTURE = Path(__file__).resolve().parent / "golden" / "functions" / "tanh_mpmath.npz"


@njit(cache=True, error_model="numpy")
def _vector(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = _elementary.tanh(x[i])
    return out


@njit(cache=True)
def _scalar(x):
    """The same calls under numba's default error model: a loop that does not vectorize."""
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = _elementary.tanh(x[i])
    return out


def _ulps(got, hi, lo):
    """Distance from the exact value hi + lo in units of the last place of hi."""
    return np.abs(((got - hi) - lo) / np.spacing(np.abs(hi)))


def test_within_a_few_tenths_of_glibc_error_against_50_digit_values():
    z = np.load(FIXTURE)
    x, hi, lo = z["x"], z["hi"], z["lo"]
    err = _ulps(_vector(x), hi, lo)
    assert err.max() < 1.3, (err.max(), x[err.argmax()])
    # most values correctly rounded: a wrong coefficient or a lost bit of ln 2 shows here first
    assert (_vector(x) == hi).mean() > 0.9


def test_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 1e-12, 20.0, -20.0, 1e300, 0.625])
    t = _vector(x)
    assert t[0] == 0.0 and math.copysign(1.0, t[0]) == 1.0
    assert t[1] == 0.0 and math.copysign(1.0, t[1]) == -1.0
    assert t[2] == 1.0 and t[3] == -1.0 and np.isnan(t[4])
    assert t[5] == 5e-324 and t[6] == -5e-324 and t[7] == 1e-12
    assert t[8] == 1.0 and t[9] == -1.0 and t[10] == 1.0
    assert t[11] == pytest.approx(math.tanh(0.625), rel=3e-16)


def test_odd_and_the_same_bits_in_scalar_and_vector_loops():
    x = np.random.default_rng(0).standard_normal(4099) * np.logspace(-3, 1.5, 4099)
    v, s = _vector(x), _scalar(x)
    assert np.array_equal(v.view(np.int64), s.view(np.int64))
    assert np.array_equal(_vector(-x), -v)


def test_pow2_is_exact():
    for k in (-1022, -1, 0, 1, 52, 1023):
        assert _elementary.pow2(k) == 2.0 ** k


def test_the_default_tanh_is_the_c_librarys():
    """tanh='libm' (the default) keeps the numbers of earlier releases; 'portable' differs
    from it only in the last bits."""
    kw = dict(optimizer=Adam(lr=0.01), noise=Minibatch(batch_size=8), steps=20, seed=0, progress=False,
              record=("loss",), record_every=20)
    a = optsim.sweep(MLP(dataset="iris", hidden=[6]), **kw)
    b = optsim.sweep(MLP(dataset="iris", hidden=[6], tanh="libm"), **kw)
    c = optsim.sweep(MLP(dataset="iris", hidden=[6], tanh="portable"), **kw)
    assert np.array_equal(a.loss.values, b.loss.values)
    np.testing.assert_allclose(c.loss.values, a.loss.values, rtol=1e-12)
