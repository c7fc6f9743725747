"""A plain-NumPy oracle of the MLP problem, written from its formulas: the forward pass,
the loss, its gradient by back-propagation in matrix form, accuracies and gradient norms."""

import math

import numpy as np

_ERF = np.vectorize(math.erf)


def unflatten(x, widths, bias):
    """``[(W_l, b_l or None)]`` from the flat parameters (W row-major, then b, per layer)."""
    out, off = [], 0
    for l in range(1, len(widths)):
        n = widths[l] * widths[l - 1]
        W = np.asarray(x[off:off + n]).reshape(widths[l], widths[l - 1])
        off += n
        b = None
        if bias:
            b = np.asarray(x[off:off + widths[l]])
            off += widths[l]
        out.append((W, b))
    assert off == len(x)
    return out


def act(z, kind):
    if kind == "tanh":
        return np.tanh(z)
    if kind == "relu":
        return np.maximum(z, 0.0)
    return 0.5 * z * (1.0 + _ERF(z / math.sqrt(2.0)))


def dact(z, kind):
    if kind == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if kind == "relu":
        return (z > 0.0).astype(float)
    return 0.5 * (1.0 + _ERF(z / math.sqrt(2.0))) + z * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def forward(x, X, widths, bias, kind):
    """Pre-activations of every layer and the input of every layer."""
    zs, hs = [], [X]
    layers = unflatten(x, widths, bias)
    h = X
    for l, (W, b) in enumerate(layers):
        z = h @ W.T + (b if bias else 0.0)
        zs.append(z)
        if l < len(layers) - 1:
            h = act(z, kind)
            hs.append(h)
    return zs, hs


def loss_and_grad(x, X, y, widths, bias, kind, loss):
    """The mean loss over the rows of X and its gradient (flat, the parameters' layout)."""
    zs, hs = forward(x, X, widths, bias, kind)
    out = zs[-1]
    n, C = out.shape
    onehot = np.eye(C)[y]
    if loss == "cross_entropy":
        m = out.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(out - m).sum(axis=1))
        f = np.mean(lse - out[np.arange(n), y])
        delta = (np.exp(out - lse[:, None]) - onehot) / n
    else:
        f = np.mean(0.5 * ((out - onehot) ** 2).sum(axis=1))
        delta = (out - onehot) / n
    layers = unflatten(x, widths, bias)
    grads = [None] * len(layers)
    for l in range(len(layers) - 1, -1, -1):
        W, _ = layers[l]
        gW = delta.T @ hs[l]
        gb = delta.sum(axis=0)
        grads[l] = (gW, gb)
        if l > 0:
            delta = (delta @ W) * dact(zs[l - 1], kind)
    flat = []
    for gW, gb in grads:
        flat.append(gW.ravel())
        if bias:
            flat.append(gb)
    return f, np.concatenate(flat)


def accuracy(x, X, y, widths, bias, kind):
    if X.shape[0] == 0:
        return math.nan
    out = forward(x, X, widths, bias, kind)[0][-1]
    return float(np.mean(np.argmax(out, axis=1) == y))


def metrics(x, arrays, widths, bias, kind, loss):
    """train_accuracy, test_accuracy, val_loss, val_accuracy, then the gradient norms per array."""
    a = arrays
    _, g = loss_and_grad(x, a["X_train"], a["y_train"], widths, bias, kind, loss)
    val = loss_and_grad(x, a["X_val"], a["y_val"], widths, bias, kind, loss)[0] if a["X_val"].shape[0] else math.nan
    row = [accuracy(x, a["X_train"], a["y_train"], widths, bias, kind),
           accuracy(x, a["X_test"], a["y_test"], widths, bias, kind), val,
           accuracy(x, a["X_val"], a["y_val"], widths, bias, kind)]
    for gW, gb in unflatten(g, widths, bias):
        row.append(np.linalg.norm(gW))
        if bias:
            row.append(np.linalg.norm(gb))
    return np.array(row)
