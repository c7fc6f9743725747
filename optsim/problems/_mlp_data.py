"""The datasets of :class:`optsim.problems.MLP`: the real ones split and standardized, and
the synthetic ones drawn from a seed (plain NumPy, made once per sweep)."""

import math

import numpy as np

REAL = ("digits", "iris", "wine", "breast_cancer")
SYNTHETIC = ("teacher_student", "spirals", "gaussian_mixture")


def split_real(X, y, test_fraction, val_fraction, split_seed):
    """One permutation of the rows: the first ``round(test_fraction n)`` test, the next
    ``round(val_fraction n)`` validation, the rest train."""
    n = X.shape[0]
    perm = np.random.default_rng(split_seed).permutation(n)
    n_test = round(test_fraction * n)
    n_val = round(val_fraction * n)
    te, va, tr = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
    return X[tr], y[tr], X[va], y[va], X[te], y[te]


def standardize(train, *others):
    """Every array centred and scaled by the training rows' mean and standard deviation
    (ddof 0); a feature constant on the training rows is only centred."""
    mu = train.mean(axis=0)
    sd = train.std(axis=0)
    sd = np.where(sd > 0.0, sd, 1.0)
    return tuple(np.ascontiguousarray((a - mu) / sd) for a in (train, *others))


def _teacher_labels(X, rng, width, n_classes):
    """Labels of a random tanh teacher with one hidden layer of ``width`` units: weights
    N(0, 1/fan_in), biases N(0, 1/fan_in) too (so that the boundaries do not all pass
    through the origin), label = argmax of its outputs."""
    d = X.shape[1]
    W1 = rng.standard_normal((width, d)) / math.sqrt(d)
    b1 = rng.standard_normal(width) / math.sqrt(d)
    W2 = rng.standard_normal((n_classes, width)) / math.sqrt(width)
    b2 = rng.standard_normal(n_classes) / math.sqrt(width)
    out = np.tanh(X @ W1.T + b1) @ W2.T + b2
    return np.argmax(out, axis=1).astype(np.int64)


def _spirals(rng, n, noise, turns):
    """Two interleaved spirals: class c, t ~ U(0, 1), radius t, angle 2 pi turns t + pi c,
    plus N(0, noise^2) on each coordinate; the classes alternate (n // 2 and the rest)."""
    c = np.arange(n) % 2
    t = rng.uniform(0.0, 1.0, n)
    ang = 2.0 * math.pi * turns * t + math.pi * c
    X = np.stack([t * np.cos(ang), t * np.sin(ang)], axis=1) + noise * rng.standard_normal((n, 2))
    return X, c.astype(np.int64)


def _mixture(rng, n, d, n_classes, separation):
    """A mixture of ``n_classes`` Gaussians N(mu_c, I) in d dimensions, the means drawn
    N(0, separation^2 I), the classes drawn uniformly."""
    means = separation * rng.standard_normal((n_classes, d))
    c = rng.integers(0, n_classes, n)
    X = means[c] + rng.standard_normal((n, d))
    return X, c.astype(np.int64)


def flip_labels(y, fraction, n_classes, rng):
    """``round(fraction n)`` labels, at distinct random rows, each moved to one of the other
    classes uniformly."""
    y = y.copy()
    k = round(fraction * y.shape[0])
    if k == 0 or n_classes < 2:
        return y
    rows = rng.choice(y.shape[0], size=k, replace=False)
    y[rows] = (y[rows] + rng.integers(1, n_classes, k)) % n_classes
    return y


def synthetic(p):
    """``(X_train, y_train, X_val, y_val, X_test, y_test)`` of the synthetic dataset of the
    MLP ``p`` (not standardized), from ``p.data_seed``."""
    rng = np.random.default_rng(p.data_seed)
    n_all = p.n_train + p.n_test
    if p.dataset == "teacher_student":
        X = rng.standard_normal((n_all, p.n_features))
        y = _teacher_labels(X, rng, p.teacher_width, p.n_classes)
        C = p.n_classes
    elif p.dataset == "spirals":
        X, y = _spirals(rng, n_all, p.noise, p.turns)
        C = 2
    else:
        X, y = _mixture(rng, n_all, p.n_features, p.n_classes, p.separation)
        C = p.n_classes
    n_val = round(p.val_fraction * p.n_train)
    tr, va, te = slice(n_val, p.n_train), slice(0, n_val), slice(p.n_train, n_all)
    y_obs = flip_labels(y[:p.n_train], p.label_noise, C, rng) if p.label_noise > 0.0 else y[:p.n_train]
    return X[tr], y_obs[tr], X[va], y_obs[va], X[te], y[te]
