"""NumPy oracles of the matrix rules Adafactor, SOAP and Sophia, written from the papers and
the reference implementations' formulas (not from optsim's kernels).

Each oracle takes ``shapes``, the problem's ``{name: shape}`` (the flat parameter is each
array row-major after the one before), and offers ``step(x, g, t, lr) -> new x`` for
:mod:`reference.loops`.
"""

import numpy as np


def blocks(shapes):
    """``(slice, shape)`` of every array of ``shapes``, a 2-D or a 1-D shape."""
    out, off = [], 0
    for shape in shapes.values():
        shape = tuple(shape)
        n = int(np.prod(shape))
        out.append((slice(off, off + n), shape if len(shape) == 2 else (n,)))
        off += n
    return out


def rms(a):
    return float(np.sqrt(np.mean(np.square(a))))


class AdafactorRef:
    """Adafactor (Shazeer & Stern 2018, Algorithms 4 and 5) with torch's, optax's and HF's
    conventions: ``eps_mode`` 'clamp' (torch) or 'add' (G^2 + eps1), ``decay_scaling`` 'lr'
    (torch), 'alpha' (HF) or 'none' (optax)."""

    def __init__(self, shapes, lr=1e-2, beta2_decay=-0.8, eps1=np.finfo(float).eps, eps2=1e-3, d=1.0,
                 weight_decay=0.0, beta1=None, relative_step=True, warmup_init=False, scale_parameter=True,
                 eps_mode="clamp", decay_scaling="lr", factored=True, min_dim_size_to_factor=1,
                 maximize=False):
        self.blocks = blocks(shapes)
        self.kw = dict(beta2_decay=beta2_decay, eps1=eps1, eps2=eps2, d=d, wd=weight_decay, beta1=beta1,
                       relative_step=relative_step, warmup_init=warmup_init, scale=scale_parameter,
                       add=eps_mode == "add", decay=decay_scaling, factored=factored, min_dim=min_dim_size_to_factor,
                       maximize=maximize)
        self.state = {}

    def step(self, x, g, t, lr):
        k = self.kw
        x = np.array(x, float)
        g = -np.asarray(g, float) if k["maximize"] else np.asarray(g, float)
        one_minus_b2 = float(t) ** k["beta2_decay"]
        b2 = 1.0 - one_minus_b2
        if k["relative_step"]:
            rho = min(1e-6 * t if k["warmup_init"] else lr, 1.0 / np.sqrt(t))
        else:
            rho = lr
        for bi, (sl, shape) in enumerate(self.blocks):
            X = x[sl].reshape(shape)
            G = g[sl].reshape(shape)
            alpha = max(k["eps2"], rms(X)) * rho if k["scale"] else rho
            G2 = G * G + (k["eps1"] if k["add"] else 0.0)
            st = self.state.setdefault(bi, {})
            if len(shape) == 2 and k["factored"] and min(shape) >= k["min_dim"]:
                R = b2 * st.get("R", np.zeros(shape[0])) + one_minus_b2 * G2.mean(axis=1)
                C = b2 * st.get("C", np.zeros(shape[1])) + one_minus_b2 * G2.mean(axis=0)
                st["R"], st["C"] = R, C
                mean_r = R.mean() if k["add"] else max(R.mean(), k["eps1"])
                V = np.outer(R, C) / mean_r
            else:
                V = b2 * st.get("V", np.zeros(shape)) + one_minus_b2 * G2
                st["V"] = V
            if not k["add"]:
                V = np.maximum(V, k["eps1"] ** 2)
            U = G / np.sqrt(V)
            if k["d"] is not None:
                U = U / max(1.0, rms(U) / k["d"])
            u = alpha * U
            if k["beta1"] is not None:
                u = k["beta1"] * st.get("m", np.zeros(shape)) + (1.0 - k["beta1"]) * u
                st["m"] = u
            c = {"lr": lr, "alpha": alpha, "none": 1.0}[k["decay"]]
            x[sl] = (X * (1.0 - c * k["wd"]) - u).ravel()
        return x
