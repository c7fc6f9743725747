"""Drive the reference libraries through one case, in float64 (for the ``make_*.py`` scripts).

Each driver returns ``xs``, the parameters before the first and after every update, shape
(T + 1, d).  Open loop: update ``k`` sees ``grads[k]``; closed loop: the gradient of the
diagonal quadratic ``0.5 * sum(curvatures * (x - center)**2)`` at the library's own point.
With ``shapes`` (``{name: shape}``, the golden files' ``param_shapes``) the library gets one
parameter per named array, cut from the flat vector in order, each row-major; without it,
one vector.  The libraries are imported when a driver runs, so this module imports with
NumPy alone.
"""

import os

import numpy as np

__all__ = ["gradient_sequence", "closed_loop_problem", "torch_run", "torch_sam_run", "optax_run",
           "keras_run", "split", "versions"]


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


def split(x, shapes=None):
    """The flat vector ``x`` as the list of arrays of ``shapes`` (``[x]`` without shapes)."""
    x = np.asarray(x, float)
    if not shapes:
        return [x.copy()]
    out, off = [], 0
    for shape in shapes.values():
        shape = tuple(shape)
        n = int(np.prod(shape, dtype=np.int64))
        out.append(x[off:off + n].reshape(shape).copy())
        off += n
    if off != x.size:
        raise ValueError(f"shapes {shapes} hold {off} numbers, x has {x.size}")
    return out


def _flat(arrays):
    return np.concatenate([np.asarray(a, float).ravel() for a in arrays])


def torch_run(make, x0, steps, loop, grads=None, curvatures=None, center=None, scheduler=None,
              shapes=None):
    """``make(params) -> torch optimizer`` (torch.optim or pytorch-optimizer), stepped with
    ``p.grad`` set by hand; ``scheduler(opt)``, if given, is stepped after every update."""
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        ps = [torch.nn.Parameter(torch.tensor(a)) for a in split(x0, shapes)]
        opt = make(ps)
        sched = scheduler(opt) if scheduler is not None else None
        xs = [_flat([p.detach().numpy() for p in ps])]
        for k in range(steps):
            opt.zero_grad()
            g = split(_gradient(loop, k, xs[-1], grads, curvatures, center), shapes)
            for p, gi in zip(ps, g):
                p.grad = torch.tensor(gi)
            opt.step()
            if sched is not None:
                sched.step()
            xs.append(_flat([p.detach().numpy() for p in ps]))
    finally:
        torch.set_default_dtype(old)
    return np.array(xs)


def torch_sam_run(make, x0, steps, loop, grads=None, curvatures=None, center=None):
    """A two-step SAM optimizer (``first_step`` to the ascent point, ``second_step`` back and
    the base update, as ``pytorch_optimizer.SAM``): the gradient at ``x``, then at the ascent
    point (open loop: ``grads[k]`` both times)."""
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        p = torch.nn.Parameter(torch.tensor(np.asarray(x0, float)))
        opt = make([p])
        xs = [p.detach().numpy().copy()]
        for k in range(steps):
            p.grad = torch.tensor(_gradient(loop, k, p.detach().numpy().copy(), grads, curvatures, center))
            opt.first_step(zero_grad=True)
            p.grad = torch.tensor(_gradient(loop, k, p.detach().numpy().copy(), grads, curvatures, center))
            opt.second_step(zero_grad=True)
            xs.append(p.detach().numpy().copy())
    finally:
        torch.set_default_dtype(old)
    return np.array(xs)


def optax_run(opt, x0, steps, loop, grads=None, curvatures=None, center=None, shapes=None, calls=1):
    """An ``optax.GradientTransformation``, applied with ``optax.apply_updates``; with
    ``shapes`` the parameters are the dict ``{name: array}``.  ``calls`` > 1: each update is
    that many calls of ``opt.update``, each with the gradient at the current point (open
    loop: ``grads[k]`` every time), as ``optax.contrib.sam`` takes its ascent and its
    descent; the parameters are recorded after the last."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    names = list(shapes) if shapes else ["x"]

    def tree(flat):
        return {n: jnp.asarray(a, dtype=jnp.float64) for n, a in zip(names, split(flat, shapes))}

    def flat(t):
        return _flat([np.asarray(t[n]) for n in names])

    x = tree(x0)
    state = opt.init(x)
    xs = [flat(x)]
    for k in range(steps):
        for _ in range(calls):
            g = tree(_gradient(loop, k, flat(x), grads, curvatures, center))
            upd, state = opt.update(g, state, x)
            x = optax.apply_updates(x, upd)
        xs.append(flat(x))
    return np.array(xs)


def keras_run(make, x0, steps, loop, grads=None, curvatures=None, center=None, shapes=None):
    """``make() -> keras optimizer``, applied to float64 variables (one per named array),
    with Keras's float type set to float64 so that its learning rate and step count are
    float64 too; the jax backend unless ``KERAS_BACKEND`` says otherwise."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import jax

    jax.config.update("jax_enable_x64", True)
    import keras

    keras.config.set_floatx("float64")
    vs = [keras.Variable(a, dtype="float64") for a in split(x0, shapes)]
    opt = make()
    xs = [_flat([v.numpy() for v in vs])]
    for k in range(steps):
        g = split(_gradient(loop, k, xs[-1], grads, curvatures, center), shapes)
        opt.apply_gradients([(keras.ops.convert_to_tensor(gi, dtype="float64"), v) for gi, v in zip(g, vs)])
        xs.append(_flat([v.numpy() for v in vs]))
    return np.array(xs)


def versions():
    """{library: version} of the reference libraries importable here."""
    out = {}
    for lib, mod in (("torch", "torch"), ("optax", "optax"), ("jax", "jax"),
                     ("pytorch_optimizer", "pytorch_optimizer"), ("keras", "keras"),
                     ("prodigyopt", "prodigyopt")):
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
