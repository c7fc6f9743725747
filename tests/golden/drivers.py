"""Drive the reference libraries through one case, in float64 (for the ``make_*.py`` scripts).

Each driver returns ``xs``, the parameters before the first and after every update, shape
(T + 1, d).  Open loop: update ``k`` sees ``grads[k]``; closed loop: the gradient of the
diagonal quadratic ``0.5 * sum(curvatures * (x - center)**2)`` at the library's own point.
The libraries are imported when a driver runs, so this module imports with NumPy alone.
"""

import numpy as np

__all__ = ["gradient_sequence", "closed_loop_problem", "torch_run", "optax_run", "keras_run",
           "versions"]


def gradient_sequence(steps, d=3, seed=7):
    """Gradients of mixed scale and sign, with a run of zeros and a spike (where they fit)."""
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((steps, d)) * np.geomspace(0.01, 30.0, d)
    if steps > 50 and d > 1:
        G[40:50, 1] = 0.0
    if steps > 60:
        G[60, 0] = 5.0
    return G


def closed_loop_problem(d=3):
    """``(x0, curvatures, center)`` of the closed-loop cases: an ill-conditioned diagonal quadratic."""
    x0 = np.array([1.0, -0.5, 0.25, 2.0, -1.5, 0.75][:d])
    curvatures = np.geomspace(1.0, 100.0, d)
    center = np.array([0.1, 0.2, -0.3, 0.0, 0.4, -0.1][:d])
    return x0, curvatures, center


def _gradient(loop, k, x, grads, curvatures, center):
    return grads[k] if loop == "open" else curvatures * (x - center)


def torch_run(make, x0, steps, loop, grads=None, curvatures=None, center=None, scheduler=None):
    """``make(params) -> torch optimizer`` (torch.optim or pytorch-optimizer), stepped with
    ``p.grad`` set by hand; ``scheduler(opt)``, if given, is stepped after every update."""
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        p = torch.nn.Parameter(torch.tensor(np.asarray(x0, float)))
        opt = make([p])
        sched = scheduler(opt) if scheduler is not None else None
        xs = [p.detach().numpy().copy()]
        for k in range(steps):
            opt.zero_grad()
            x = p.detach().numpy().copy()
            p.grad = torch.tensor(_gradient(loop, k, x, grads, curvatures, center))
            opt.step()
            if sched is not None:
                sched.step()
            xs.append(p.detach().numpy().copy())
    finally:
        torch.set_default_dtype(old)
    return np.array(xs)


def optax_run(opt, x0, steps, loop, grads=None, curvatures=None, center=None):
    """An ``optax.GradientTransformation``, applied with ``optax.apply_updates``."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    x = jnp.asarray(np.asarray(x0, float), dtype=jnp.float64)
    state = opt.init(x)
    xs = [np.asarray(x)]
    for k in range(steps):
        g = jnp.asarray(_gradient(loop, k, np.asarray(x), grads, curvatures, center), dtype=jnp.float64)
        upd, state = opt.update(g, state, x)
        x = optax.apply_updates(x, upd)
        xs.append(np.asarray(x))
    return np.array(xs)


def keras_run(make, x0, steps, loop, grads=None, curvatures=None, center=None):
    """``make() -> keras optimizer``, applied to one float64 variable."""
    import keras

    var = keras.Variable(np.asarray(x0, float), dtype="float64")
    opt = make()
    xs = [np.asarray(var.numpy())]
    for k in range(steps):
        g = _gradient(loop, k, np.asarray(var.numpy()), grads, curvatures, center)
        opt.apply_gradients([(keras.ops.convert_to_tensor(g, dtype="float64"), var)])
        xs.append(np.asarray(var.numpy()))
    return np.array(xs)


def versions():
    """{library: version} of the reference libraries importable here."""
    out = {}
    for lib, mod in (("torch", "torch"), ("optax", "optax"), ("jax", "jax"),
                     ("pytorch_optimizer", "pytorch_optimizer"), ("keras", "keras")):
        try:
            out[lib] = _version(lib, mod)
        except Exception:  # not installed here
            pass
    return out


def _version(dist, module):
    """The installed version of a library (its distribution's metadata where the module has none)."""
    from importlib import metadata

    try:
        return metadata.version(dist.replace("_", "-"))
    except metadata.PackageNotFoundError:
        return __import__(module).__version__
