"""Regenerate the golden files of Adafactor, SOAP and Sophia.

Run where the libraries are installed (optsim need not be)::

    python tests/golden/make_matrix2.py          # from the repository root

Matrix cases carry ``param_shapes`` in their meta (``{name: shape}``; ``x0``, ``grads`` and
``xs`` hold the arrays flattened row-major, one after the other): the libraries get one
tensor per shape, and optsim a problem that declares those shapes.  Vector cases (no
``param_shapes``) are one tensor of d numbers, as in :mod:`make_classic`.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import drivers  # noqa: E402
import fixtures  # noqa: E402

STEPS = 100
SHAPES = [[3, 4], [3]]  # a weight matrix and a bias: 15 numbers


def problem(shapes):
    """``(x0, curvatures, center)`` of a closed-loop case: an ill-conditioned diagonal quadratic."""
    d = sum(int(np.prod(s)) for s in shapes)
    rng = np.random.default_rng(3)
    return rng.standard_normal(d), np.geomspace(1.0, 100.0, d), 0.3 * rng.standard_normal(d)


def _split(flat, shapes):
    out, off = [], 0
    for s in shapes:
        n = int(np.prod(s))
        out.append(np.asarray(flat[off:off + n]).reshape(s))
        off += n
    return out


def _gradient(loop, k, x, grads, curvatures, center):
    return grads[k] if loop == "open" else curvatures * (x - center)


def torch_run(make, x0, shapes, steps, loop, grads=None, curvatures=None, center=None, before_step=None):
    """A torch optimizer on one parameter tensor per shape, ``p.grad`` set by hand, in float64.
    ``before_step(opt, k, params, x)``, if given, returns keyword arguments of ``opt.step``."""
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        ps = [torch.nn.Parameter(torch.tensor(a)) for a in _split(x0, shapes)]
        opt = make(ps)
        flat = lambda: np.concatenate([p.detach().numpy().ravel() for p in ps])  # noqa: E731
        xs = [flat()]
        for k in range(steps):
            opt.zero_grad()
            x = flat()
            for p, g in zip(ps, _split(_gradient(loop, k, x, grads, curvatures, center), shapes)):
                p.grad = torch.tensor(np.ascontiguousarray(g))
            kw = before_step(opt, k, ps, x) if before_step is not None else {}
            opt.step(**kw)
            xs.append(flat())
    finally:
        torch.set_default_dtype(old)
    return np.array(xs)


def optax_run(opt, x0, shapes, steps, loop, grads=None, curvatures=None, center=None):
    """An optax transformation on a list of one array per shape, in float64."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    x = [jnp.asarray(a, dtype=jnp.float64) for a in _split(x0, shapes)]
    flat = lambda x: np.concatenate([np.asarray(a).ravel() for a in x])  # noqa: E731
    state = opt.init(x)
    xs = [flat(x)]
    for k in range(steps):
        g = [jnp.asarray(a, dtype=jnp.float64)
             for a in _split(_gradient(loop, k, flat(x), grads, curvatures, center), shapes)]
        upd, state = opt.update(g, state, x)
        x = optax.apply_updates(x, upd)
        xs.append(flat(x))
    return np.array(xs)


def _torch():
    return __import__("torch")


def _hf_adafactor(**kw):
    from transformers.optimization import Adafactor

    return lambda ps: Adafactor(ps, **kw)


# (case, library, reference text, optsim spec, make, shapes, rtol, note)
ADAFACTOR = [
    ("torch_adafactor", "torch", "torch.optim.Adafactor(lr=0.05, beta2_decay=-0.7, eps=(None, 1e-2), d=1.5, "
     "weight_decay=0.1)",
     {"name": "adafactor", "lr": 0.05, "beta2_decay": -0.7, "eps2": 1e-2, "d": 1.5, "weight_decay": 0.1},
     lambda ps: _torch().optim.Adafactor(ps, lr=0.05, beta2_decay=-0.7, eps=(None, 1e-2), d=1.5,
                                         weight_decay=0.1), SHAPES, 1e-12, ""),
    ("torch_adafactor_vector", "torch", "torch.optim.Adafactor(lr=0.02, eps=(1e-6, 1e-3), d=2.0)",
     {"name": "adafactor", "lr": 0.02, "eps1": 1e-6, "d": 2.0},
     lambda ps: _torch().optim.Adafactor(ps, lr=0.02, eps=(1e-6, 1e-3), d=2.0), None, 1e-12, ""),
    ("hf_adafactor", "transformers", "transformers.optimization.Adafactor(lr=None, eps=(1e-30, 1e-2), "
     "clip_threshold=1.5, decay_rate=-0.7, beta1=0.8, weight_decay=0.1, scale_parameter=True, "
     "relative_step=True, warmup_init=False)",
     {"name": "adafactor", "lr": 0.01, "beta2_decay": -0.7, "eps1": 1e-30, "eps2": 1e-2, "d": 1.5, "beta1": 0.8,
      "weight_decay": 0.1, "eps_mode": "add", "decay_scaling": "alpha"},
     _hf_adafactor(lr=None, eps=(1e-30, 1e-2), clip_threshold=1.5, decay_rate=-0.7, beta1=0.8, weight_decay=0.1,
                   scale_parameter=True, relative_step=True, warmup_init=False), SHAPES, 1e-12,
     "HF's relative step caps rho_t at the constant 0.01: optsim's lr=0.01"),
    ("hf_adafactor_fixed_lr", "transformers", "transformers.optimization.Adafactor(lr=0.01, "
     "scale_parameter=False, relative_step=False, warmup_init=False, weight_decay=0.05)",
     {"name": "adafactor", "lr": 0.01, "eps1": 1e-30, "relative_step": False, "scale_parameter": False,
      "weight_decay": 0.05, "eps_mode": "add", "decay_scaling": "alpha"},
     _hf_adafactor(lr=0.01, scale_parameter=False, relative_step=False, warmup_init=False, weight_decay=0.05),
     SHAPES, 1e-12, ""),
    ("hf_adafactor_warmup_init", "transformers", "transformers.optimization.Adafactor(lr=None, "
     "warmup_init=True, relative_step=True)",
     {"name": "adafactor", "eps1": 1e-30, "warmup_init": True, "eps_mode": "add", "decay_scaling": "alpha"},
     _hf_adafactor(lr=None, warmup_init=True, relative_step=True), SHAPES, 1e-12, ""),
]

OPTAX_ADAFACTOR = [
    ("optax_adafactor", "optax.adafactor(learning_rate=0.02, min_dim_size_to_factor=2, decay_rate=0.7, "
     "clipping_threshold=1.5, momentum=0.8, weight_decay_rate=0.01, eps=1e-30)",
     {"name": "adafactor", "lr": 0.02, "beta2_decay": -0.7, "eps1": 1e-30, "d": 1.5, "beta1": 0.8,
      "weight_decay": 0.01, "relative_step": False, "eps_mode": "add", "decay_scaling": "none",
      "min_dim_size_to_factor": 2},
     dict(learning_rate=0.02, min_dim_size_to_factor=2, decay_rate=0.7, clipping_threshold=1.5, momentum=0.8,
          weight_decay_rate=0.01, eps=1e-30, dtype_momentum="float64"), SHAPES),
    ("optax_adafactor_unclipped", "optax.adafactor(learning_rate=0.01, min_dim_size_to_factor=2, "
     "clipping_threshold=None, multiply_by_parameter_scale=False)",
     {"name": "adafactor", "lr": 0.01, "eps1": 1e-30, "d": None, "relative_step": False, "scale_parameter": False,
      "eps_mode": "add", "min_dim_size_to_factor": 2},
     dict(learning_rate=0.01, min_dim_size_to_factor=2, clipping_threshold=None, multiply_by_parameter_scale=False),
     SHAPES),
]
OPTAX_NOTE = ("optax evaluates the decay rate 1 - t^-0.8 in float32 (optax/_src/factorized.py, "
              "_decay_rate_pow) even for float64 parameters; optsim is float64 throughout")


def save_case(case, library, version, ref, spec, shapes, traj, rtol=1e-12, note="", rtol_closed=None,
              jax_version=None):
    """Write the open- and closed-loop files of one case; ``traj(loop, x0, grads, curv, center) -> xs``;
    ``rtol_closed``: the closed loop's tolerance, where it differs."""
    x0, curv, center = problem(shapes or [[15]])
    d = x0.shape[0]
    grads = drivers.gradient_sequence(STEPS, d=d)
    meta = dict(library=library, library_version=version, reference=ref, optimizer=spec, rtol=rtol, note=note)
    if shapes is not None:
        meta["param_shapes"] = {f"p{i}": list(s) for i, s in enumerate(shapes)}
    if library == "optax":
        meta["jax_version"] = jax_version
    xs = traj("open", x0, grads, None, None)
    fixtures.save("optimizers", dict(meta, case=case + "_open", loop="open"), x0=x0, grads=grads, xs=xs)
    xs = traj("closed", x0, None, curv, center)
    if rtol_closed is not None:
        meta["rtol"] = rtol_closed
    fixtures.save("optimizers", dict(meta, case=case + "_closed", loop="closed"),
                  x0=x0, curvatures=curv, center=center, xs=xs)


def adafactor_cases(version):
    import transformers

    for case, lib, ref, spec, make, shapes, rtol, note in ADAFACTOR:
        ver = version["torch"] if lib == "torch" else f"{transformers.__version__} (torch {version['torch']})"
        shp = shapes or [[15]]
        save_case(case, lib, ver, ref, spec, shapes,
                  lambda loop, x0, g, c, z: torch_run(make, x0, shp, STEPS, loop, g, c, z), rtol, note)
    import optax

    for case, ref, spec, kw, shapes in OPTAX_ADAFACTOR:
        save_case(case, "optax", version["optax"], ref, spec, shapes,
                  lambda loop, x0, g, c, z: optax_run(optax.adafactor(**kw), x0, shapes, STEPS, loop, g, c, z),
                  rtol=1e-7, note=OPTAX_NOTE, jax_version=version["jax"])


def _po(name, **kw):
    return lambda ps: getattr(__import__("pytorch_optimizer"), name)(ps, **kw)


SOAP_NOTE = ("pytorch_optimizer.SOAP casts the power iteration to float32 for torch.linalg.qr "
             "(get_orthogonal_matrix_qr) even for float64 parameters; optsim is float64 throughout. With that "
             "cast removed the library matches optsim to 1.1e-14 (open loop) and 6.2e-12 (closed loop, where the "
             "skipped first step makes the second gradient equal the first and rotated entries that are "
             "zero up to roundoff get divided by eps)")
# (case, reference text, optsim spec, make, shapes, rtol)
SOAP = [
    ("pytorch_optimizer_soap", "pytorch_optimizer.SOAP(lr=0.02, betas=(0.9, 0.99), shampoo_beta=0.8, "
     "weight_decay=0.05, precondition_frequency=4, eps=1e-3)",
     {"name": "soap", "lr": 0.02, "beta1": 0.9, "beta2": 0.99, "shampoo_beta": 0.8, "weight_decay": 0.05,
      "precondition_frequency": 4, "eps": 1e-3},
     _po("SOAP", lr=0.02, betas=(0.9, 0.99), shampoo_beta=0.8, weight_decay=0.05, precondition_frequency=4,
         eps=1e-3), SHAPES),
    ("pytorch_optimizer_soap_square", "pytorch_optimizer.SOAP(lr=0.01, precondition_frequency=3, eps=1e-4, "
     "normalize_gradient=True, correct_bias=False)",
     {"name": "soap", "lr": 0.01, "precondition_frequency": 3, "eps": 1e-4, "normalize_grads": True,
      "bias_correction": False},
     _po("SOAP", lr=0.01, precondition_frequency=3, eps=1e-4, normalize_gradient=True, correct_bias=False),
     [[3, 3], [2, 2]]),
]


def soap_cases(version):
    for case, ref, spec, make, shapes in SOAP:
        save_case(case, "pytorch_optimizer", version["pytorch_optimizer"], ref, spec, shapes,
                  lambda loop, x0, g, c, z: torch_run(make, x0, shapes, STEPS, loop, g, c, z), 1e-6, SOAP_NOTE,
                  rtol_closed=5e-4)


SOPHIA_K = 4


def sophia_run(make, x0, steps, curvatures, center, hutchinson=False):
    """pytorch_optimizer's SophiaH on the diagonal quadratic: the exact Hessian diagonal handed
    to ``step(hessian=...)`` on its refresh steps (1, k+1, ...), or its own Hutchinson estimate
    (autograd's Hessian-vector product; the gradient built with ``create_graph=True``)."""
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        p = torch.nn.Parameter(torch.tensor(np.asarray(x0, float)))
        c, z = torch.tensor(curvatures), torch.tensor(center)
        opt = make([p])
        xs = [p.detach().numpy().copy()]
        for k in range(steps):
            opt.zero_grad()
            if hutchinson:
                loss = 0.5 * torch.sum(c * (p - z) ** 2)
                loss.backward(create_graph=True)
                opt.step()
            else:
                p.grad = c * (p.detach() - z)
                opt.step(hessian=[c.clone()] if k % SOPHIA_K == 0 else None)
            xs.append(p.detach().numpy().copy())
    finally:
        torch.set_default_dtype(old)
    return np.array(xs)


SOPHIA = [
    ("pytorch_optimizer_sophiah_exact", "pytorch_optimizer.SophiaH(lr=0.02, betas=(0.9, 0.95), weight_decay=0.1, "
     f"p=0.05, update_period={SOPHIA_K}), step(hessian=[curvatures]) on its refresh steps",
     {"name": "sophia", "lr": 0.02, "beta1": 0.9, "beta2": 0.95, "weight_decay": 0.1, "rho": 1.0, "clip": 0.05,
      "eps": 1e-12, "update_period": SOPHIA_K, "hessian": "exact", "hessian_update": "before_step",
      "denominator": "max"},
     _po("SophiaH", lr=0.02, betas=(0.9, 0.95), weight_decay=0.1, p=0.05, update_period=SOPHIA_K), False),
    ("pytorch_optimizer_sophiah_hutchinson", "pytorch_optimizer.SophiaH(lr=0.05, p=0.1, update_period="
     f"{SOPHIA_K}, hessian_distribution='rademacher'), its Hutchinson estimate by autograd",
     {"name": "sophia", "lr": 0.05, "beta1": 0.96, "beta2": 0.99, "weight_decay": 0.0, "rho": 1.0, "clip": 0.1,
      "eps": 1e-12, "update_period": SOPHIA_K, "hessian": "hutchinson", "probe": "rademacher",
      "hessian_update": "before_step", "denominator": "max", "hvp_delta": 0.5},
     _po("SophiaH", lr=0.05, p=0.1, update_period=SOPHIA_K, hessian_distribution="rademacher"), True),
]
SOPHIA_NOTE = ("closed loop only: the estimate needs the Hessian. On the diagonal quadratic a Rademacher probe "
               "gives u * (H u) = diag(H) whatever u is, so the library's and optsim's probes agree; optsim's "
               "finite-difference product is exact on a quadratic up to roundoff")


def sophia_cases(version):
    x0, curv, center = problem([[6]])
    for case, ref, spec, make, hutch in SOPHIA:
        meta = dict(case=case + "_closed", library="pytorch_optimizer", library_version=version["pytorch_optimizer"],
                    reference=ref, optimizer=spec, loop="closed", note=SOPHIA_NOTE,
                    rtol=1e-12)
        xs = sophia_run(make, x0, STEPS, curv, center, hutch)
        fixtures.save("optimizers", meta, x0=x0, curvatures=curv, center=center, xs=xs)


def official_sophiag_run(sophia_py, x0, steps, curvatures, center, k, bs, **kw):
    """The authors' SophiaG (``sophia.py`` of github.com/Liuhong99/Sophia) on the diagonal
    quadratic in their training script's order: ``step(bs=bs)``, then after steps k, 2k, ...
    ``update_hessian()`` with ``p.grad = sqrt(curvatures)`` (its EMA of grad^2 then takes the
    exact Hessian diagonal in place of the Gauss-Newton-Bartlett estimate)."""
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location("official_sophia", sophia_py)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        p = torch.nn.Parameter(torch.tensor(np.asarray(x0, float)))
        c, z = torch.tensor(curvatures), torch.tensor(center)
        opt = mod.SophiaG([p], **kw)
        xs = [p.detach().numpy().copy()]
        for t in range(1, steps + 1):
            p.grad = c * (p.detach() - z)
            opt.step(bs=bs)
            if t % k == 0:
                p.grad = torch.sqrt(c)
                opt.update_hessian()
            xs.append(p.detach().numpy().copy())
    finally:
        torch.set_default_dtype(old)
    return np.array(xs)


def sophia_official_cases(version):
    """Needs the authors' file: ``SOPHIA_PY=/path/to/sophia.py SOPHIA_COMMIT=<sha> python
    tests/golden/make_matrix2.py sophia_official``."""
    import os

    path = os.environ.get("SOPHIA_PY")
    if not path:
        print("sophia_official: set SOPHIA_PY to the authors' sophia.py; skipped")
        return
    x0, curv, center = problem([[6]])
    k, bs, rho = 5, 10, 0.02
    kw = dict(lr=0.02, betas=(0.9, 0.95), rho=rho, weight_decay=0.1)
    xs = official_sophiag_run(path, x0, STEPS, curv, center, k, bs, **kw)
    meta = dict(case="official_sophiag_closed", library="Liuhong99/Sophia",
                library_version=f"sophia.py at {os.environ.get('SOPHIA_COMMIT', 'unknown')} "
                                f"(torch {version['torch']})",
                reference=f"SophiaG(lr=0.02, betas=(0.9, 0.95), rho={rho}, weight_decay=0.1), step(bs={bs}), "
                          f"update_hessian() after steps {k}, {2 * k}, ... with p.grad = sqrt(curvatures)",
                optimizer={"name": "sophia", "lr": 0.02, "beta1": 0.9, "beta2": 0.95, "rho": rho * bs,
                           "weight_decay": 0.1, "update_period": k, "hessian": "exact"},
                loop="closed", rtol=1e-12,
                note="the authors' code, not a package: its Hessian EMA is fed the exact diagonal as grad^2")
    fixtures.save("optimizers", meta, x0=x0, curvatures=curv, center=center, xs=xs)


if __name__ == "__main__":
    v = drivers.versions()
    which = sys.argv[1:] or ["adafactor", "soap", "sophia", "sophia_official"]
    for name in which:
        fn = globals().get(f"{name}_cases")
        if fn is not None:
            fn(v)
