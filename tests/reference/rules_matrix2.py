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


def _eigenbasis_desc(A):
    """Eigenvectors of the symmetric ``A`` by decreasing eigenvalue (NumPy's LAPACK eigh)."""
    w, Q = np.linalg.eigh(A + 1e-30 * np.eye(A.shape[0]))
    return Q[:, ::-1]


class SOAPRef:
    """SOAP (Vyas et al. 2024) as the authors' first code runs it: the first call only sets up
    L, R and their eigenbases; after each update the statistics take the gradient, and every
    ``precondition_frequency`` updates the eigenbases are refreshed by a power iteration and
    a QR step (NumPy's Householder QR) or by ``eigh``."""

    def __init__(self, shapes, lr=3e-3, beta1=0.95, beta2=0.95, shampoo_beta=None, eps=1e-8, weight_decay=0.01,
                 precondition_frequency=10, max_precond_dim=10000, precondition_1d=False, eigenbasis="qr",
                 eps_mode="sqrt_v", bias_correction=True, normalize_grads=False, decay_order="after"):
        self.blocks = blocks(shapes)
        self.b1, self.b2 = beta1, beta2
        self.sb = beta2 if shampoo_beta is None else shampoo_beta
        self.eps, self.wd, self.freq = eps, weight_decay, precondition_frequency
        self.maxdim, self.p1d, self.mode = max_precond_dim, precondition_1d, eigenbasis
        self.eps_mode, self.bc, self.norm, self.order = eps_mode, bias_correction, normalize_grads, decay_order
        self.state = {}

    def _shape(self, shape):
        if len(shape) == 2:
            return shape, shape[0] <= self.maxdim, shape[1] <= self.maxdim
        return (shape[0], 1), self.p1d and shape[0] <= self.maxdim, False

    def step(self, x, g, t, lr):
        x = np.array(x, float)
        s = t - 1
        for bi, (sl, shape) in enumerate(self.blocks):
            (r, c), left, right = self._shape(shape)
            G = np.asarray(g[sl], float).reshape(r, c)
            st = self.state.setdefault(bi, {})
            if s == 0:
                st["m"], st["v"] = np.zeros((r, c)), np.zeros((r, c))
                st["L"] = (1 - self.sb) * G @ G.T if left else None
                st["R"] = (1 - self.sb) * G.T @ G if right else None
                st["QL"] = _eigenbasis_desc(st["L"]) if left else np.eye(r)
                st["QR"] = _eigenbasis_desc(st["R"]) if right else np.eye(c)
                continue
            QL, QR = st["QL"], st["QR"]
            Gp = QL.T @ G @ QR
            st["m"] = self.b1 * st["m"] + (1 - self.b1) * G
            st["v"] = self.b2 * st["v"] + (1 - self.b2) * Gp ** 2
            bc1 = 1 - self.b1 ** s if self.bc else 1.0
            bc2 = 1 - self.b2 ** s if self.bc else 1.0
            Mp = QL.T @ st["m"] @ QR
            if self.eps_mode == "sqrt_v":
                N = Mp / (np.sqrt(st["v"]) + self.eps)
                step = lr * np.sqrt(bc2) / bc1
            else:
                N = (Mp / bc1) / np.maximum(np.sqrt(st["v"] / bc2), self.eps)
                step = lr
            U = QL @ N @ QR.T
            if self.norm:
                U = U / (rms(U) + self.eps)
            X = x[sl].reshape(r, c)
            if self.order == "after":
                X = (X - step * U) * (1 - lr * self.wd)
            else:
                X = X * (1 - lr * self.wd) - step * U
            x[sl] = X.ravel()
            if left:
                st["L"] = self.sb * st["L"] + (1 - self.sb) * G @ G.T
            if right:
                st["R"] = self.sb * st["R"] + (1 - self.sb) * G.T @ G
            if s % self.freq == 0:
                for side, (stat, key) in enumerate(((st["L"], "QL"), (st["R"], "QR"))):
                    if stat is None:
                        continue
                    if self.mode == "eigh":
                        st[key] = _eigenbasis_desc(stat)
                        continue
                    P = stat @ st[key]
                    est = np.sum(st[key] * P, axis=0)
                    order = np.argsort(-est, kind="stable")
                    st["v"] = st["v"][order, :] if side == 0 else st["v"][:, order]
                    st[key] = np.linalg.qr(P[:, order])[0]
        return x


class SophiaRef:
    """Sophia (Liu et al. 2023, Algorithm 3 and the official code): ``hess(x)`` gives the
    exact Hessian diagonal, or ``grad(x)`` the gradient for Hutchinson's estimate with a
    finite-difference Hessian-vector product; ``probe(seed, t, i, gaussian)`` the probes."""

    def __init__(self, lr=1e-4, beta1=0.965, beta2=0.99, rho=0.04, weight_decay=0.1, eps=1e-15, clip=1.0,
                 update_period=10, hessian="exact", hessian_update="after_step", denominator="add",
                 clamp_hessian=False, bias_correction=False, probe="gaussian", hvp_delta=1e-4, probe_seed=0, hess=None, grad=None, probe_fn=None):
        self.b1, self.b2, self.rho, self.wd, self.eps, self.clip = beta1, beta2, rho, weight_decay, eps, clip
        self.k, self.exact, self.before = update_period, hessian == "exact", hessian_update == "before_step"
        self.add, self.gaussian, self.delta, self.seed = denominator == "add", probe == "gaussian", hvp_delta, probe_seed
        self.hess, self.grad, self.probe = hess, grad, probe_fn
        self.clamp, self.bc = clamp_hessian, bias_correction
        self.m = self.h = None

    def step(self, x, g, t, lr):
        x = np.array(x, float)
        g = np.asarray(g, float)
        if self.m is None:
            self.m, self.h = np.zeros_like(x), np.zeros_like(x)
        if (t - 1) % self.k == 0 and (t > 1 or self.before):
            if self.exact:
                hh = np.asarray(self.hess(x), float)
            else:
                u = np.array([self.probe(self.seed, t, i, self.gaussian) for i in range(x.shape[0])])
                hh = u * ((self.grad(x + self.delta * u) - g) / self.delta)
            self.h = self.b2 * self.h + (1 - self.b2) * hh
        x = x * (1 - lr * self.wd)
        self.m = self.b1 * self.m + (1 - self.b1) * g
        h = np.maximum(self.h, 0.0) if self.clamp else self.h
        if self.add:
            u = np.sign(self.m) * np.minimum(np.abs(self.m) / (self.rho * h + self.eps), self.clip)
        else:
            u = np.clip(self.m / np.maximum(self.rho * h, self.eps), -self.clip, self.clip)
        step = lr / (1 - self.b1 ** t) if self.bc else lr
        return x - step * u
