"""Synthetic sweep-shaped Datasets for the explorer's tests (no sweep is run: they build in ms)."""

from __future__ import annotations

import numpy as np
import xarray as xr

OPTIMIZERS = ["sgd", "adam"]
LRS = [1e-3, 1e-2, 5e-2]
CURV = (1.0, 10.0)


def valley(steps=401, replicates=12, seed=0, diverge=True):
    """Noisy descent in f = (x^2 + 10 y^2) / 2: params, loss and grad_norm over (optimizer, lr,
    replicate, step), a saved ``surface`` and the ``optimum`` attribute, like the studies' sweeps.
    With ``diverge``, half of sgd's replicates at the largest lr blow up to inf at step 300."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps, dtype=float)
    rate = np.array([[1.0, 1.0], [3.0, 2.0]])[:, None, None, None, :] * np.array(LRS)[None, :, None, None, None]
    x0 = np.array([-3.0, 1.5])
    noise = 0.02 * rng.standard_normal((len(OPTIMIZERS), len(LRS), replicates, steps, 2)).cumsum(axis=3) / np.sqrt(1 + t)[:, None]
    params = x0 * np.exp(-rate * np.asarray(CURV) * t[None, None, None, :, None] * 40) + noise
    params[:, :, :, 0, :] = x0
    loss = 0.5 * (CURV[0] * params[..., 0] ** 2 + CURV[1] * params[..., 1] ** 2)
    grad = np.hypot(CURV[0] * params[..., 0], CURV[1] * params[..., 1])
    if diverge:
        half = replicates // 2
        loss[0, -1, :half, 300:] = np.inf
        grad[0, -1, :half, 300:] = np.inf
        params[0, -1, :half, 300:, :] = params[0, -1, :half, 299:300, :] * 1e9
    xs, ys = np.linspace(-3.5, 1.0, 61), np.linspace(-1.0, 2.0, 41)
    surf = 0.5 * (CURV[0] * xs[None, :] ** 2 + CURV[1] * ys[:, None] ** 2)
    dims = ("optimizer", "lr", "replicate", "step")
    ds = xr.Dataset(
        {
            "loss": (dims, loss),
            "grad_norm": (dims, grad),
            "params": (dims + ("param",), params),
            "final_loss": (dims[:-1], loss[..., -1]),
            "surface": (("y", "x"), surf + 1e-3),
        },
        coords={"optimizer": OPTIMIZERS, "lr": LRS, "replicate": np.arange(replicates), "step": np.arange(steps),
                "param": ["x", "y"], "x": xs, "y": ys},
        attrs={"optimum": [0.0, 0.0], "spec_hash": "0123456789abcdef"},
    )
    return ds
