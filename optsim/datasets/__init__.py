"""Small classification datasets shipped with optsim, so that problems on real data need no download.

Each dataset is one compressed NumPy archive beside this module, with the arrays ``X``
(examples x features), ``y`` (integer class labels from 0), ``feature_names`` and
``target_names``.  The files are copies of the UCI Machine Learning Repository datasets as
scikit-learn 1.9 bundles them; their sources and licences are in ``LICENSES.md`` here.

>>> from optsim import datasets
>>> X, y = datasets.load("digits")
>>> X.shape, y.shape, int(y.max()) + 1
((1797, 64), (1797,), 10)
"""

import hashlib
import os

import numpy as np

from .._components import ParameterError

__all__ = ["NAMES", "load", "info"]

_HERE = os.path.dirname(os.path.abspath(__file__))

_FILES = {
    # name: (sha256 of the file, examples, features, classes, source)
    "digits": ("578bd152a635d438351bc09a977ed4824ed97d941a5f48337310d91a5192af5d", 1797, 64, 10,
               "Optical Recognition of Handwritten Digits (Alpaydin & Kaynak, UCI, 1998): 8x8 images, "
               "pixel counts 0-16"),
    "iris": ("ad14fa4976961363f6a1f3762be37cecbe55f2c55d488f660bbdfed5610015ed", 150, 4, 3,
             "Iris (Fisher, 1936; UCI)"),
    "wine": ("5fa2a65332939980bd901cc8be3f710e46f10b77b048f1130a4c21f463bb0df0", 178, 13, 3,
             "Wine (Forina et al., 1991; UCI)"),
    "breast_cancer": ("8f004072a1d26090da2b9f2dbfade246205b135705bfa96079806ac0e8994da9", 569, 30, 2,
                      "Breast Cancer Wisconsin, Diagnostic (Wolberg, Street & Mangasarian, 1995; UCI)"),
}
NAMES = tuple(_FILES)
"""The names :func:`load` accepts."""

_LOADED = {}


def info(name):
    """``{"examples", "features", "classes", "source"}`` of dataset ``name``."""
    _check(name)
    _, n, d, c, source = _FILES[name]
    return {"examples": n, "features": d, "classes": c, "source": source}


def _check(name):
    if name not in _FILES:
        raise ParameterError(f"dataset={name!r} is not one of {', '.join(map(repr, NAMES))}")


def load(name):
    """The features (float64, examples x features) and integer labels of dataset ``name``.

    The file's SHA-256 is checked on first use, so a damaged copy is an error rather than
    different numbers.  The arrays are fresh copies; the raw values are returned, unscaled.
    """
    _check(name)
    if name not in _LOADED:
        path = os.path.join(_HERE, name + ".npz")
        with open(path, "rb") as fh:
            raw = fh.read()
        digest = hashlib.sha256(raw).hexdigest()
        if digest != _FILES[name][0]:
            raise OSError(f"{path}: SHA-256 {digest} differs from the shipped file's; reinstall optsim")
        with np.load(path, allow_pickle=False) as z:
            _LOADED[name] = (np.asarray(z["X"], dtype=np.float64), np.asarray(z["y"], dtype=np.int64))
    X, y = _LOADED[name]
    return X.copy(), y.copy()
