"""A multilayer perceptron classifier on real or synthetic data, trained from per-replicate
random initializations, with its metrics (accuracies, validation loss, gradient norms)."""

import math

import numpy as np
from numba import njit

from .. import datasets
from .._components import Param, ParameterError
from .._roles import Problem
from . import _mlp_data
from ._mlp_kernels import ACT, CFG, INIT, LOSS, MET, MET_TEST, mlp_batch, mlp_full, mlp_init, mlp_metrics_into

__all__ = ["MLP"]

_DATASETS = _mlp_data.REAL + _mlp_data.SYNTHETIC
_PARAMS = (
    Param("dataset", "digits", "the data: 'digits', 'iris', 'wine', 'breast_cancer' (optsim.datasets) or the "
          "synthetic 'teacher_student', 'spirals', 'gaussian_mixture'", kind="choice", choices=_DATASETS,
          dynamic=False),
    Param("hidden", (32,), "widths of the 1 to 3 hidden layers", kind="array", dynamic=False, ndim=(0, 1),
          low=1.0, high=4096.0),
    Param("activation", "tanh", "hidden activation: 'tanh', 'relu' or 'gelu' (exact erf form)", kind="choice",
          choices=("tanh", "relu", "gelu"), dynamic=False),
    Param("tanh", "libm", "how activation='tanh' is computed: 'libm', the C library's tanh (the numbers of "
          "earlier releases), or 'portable', optsim's own from rounded + - * / only (optsim._elementary: the same "
          "bits on every machine and C library, within 1.33 ulp, its loop vectorized)", kind="choice",
          choices=("libm", "portable"), dynamic=False),
    Param("loss", "cross_entropy", "'cross_entropy' (softmax, mean over examples) or 'squared' (0.5 squared "
          "error to one-hot targets, summed over classes, mean over examples)", kind="choice",
          choices=("cross_entropy", "squared"), dynamic=False),
    Param("bias", True, "a bias vector after every weight matrix", kind="bool", dynamic=False),
    Param("init", "glorot", "initial weights: 'glorot', 'he', 'lecun' (normal, zero biases) or 'torch' "
          "(torch.nn.Linear's uniform weights and biases)", kind="choice",
          choices=("glorot", "he", "lecun", "torch"), dynamic=False),
    Param("train_metrics", True, "with record=('metrics',): also the train accuracy and the per-layer norms "
          "of the full-batch gradient (a full forward and backward pass over the training set at every "
          "record); False: only test_accuracy, val_loss, val_accuracy", kind="bool", dynamic=False),
    Param("test_fraction", 0.2, "real data: fraction of the rows held out for testing", low=0.0, high=1.0,
          high_open=True, dynamic=False),
    Param("val_fraction", 0.0, "fraction of the rows (synthetic: of n_train) taken out of the training part for "
          "validation", low=0.0, high=1.0, high_open=True, dynamic=False),
    Param("split_seed", 0, "real data: seed of the permutation that splits the rows", kind="int", low=0,
          dynamic=False),
    Param("n_train", 1000, "synthetic data: training examples (validation ones included)", kind="int", low=1,
          high=10**7, dynamic=False),
    Param("n_test", 1000, "synthetic data: test examples", kind="int", low=0, high=10**7, dynamic=False),
    Param("n_features", 20, "teacher_student, gaussian_mixture: input dimension", kind="int", low=1, high=10**5,
          dynamic=False),
    Param("n_classes", 10, "teacher_student, gaussian_mixture: classes", kind="int", low=2, high=1000,
          dynamic=False),
    Param("data_seed", 0, "synthetic data: seed of the draw", kind="int", low=0, dynamic=False),
    Param("label_noise", 0.0, "synthetic data: fraction of training (and validation) labels moved to another "
          "class at random; test labels stay clean", low=0.0, high=1.0, dynamic=False),
    Param("teacher_width", 16, "teacher_student: hidden units of the teacher", kind="int", low=1, high=4096,
          dynamic=False),
    Param("separation", 1.0, "gaussian_mixture: standard deviation of the class means (unit-variance classes)",
          low=0.0, dynamic=False),
    Param("noise", 0.1, "spirals: standard deviation of the Gaussian noise on each coordinate", low=0.0,
          dynamic=False),
    Param("turns", 1.5, "spirals: turns of each spiral", low=0.0, low_open=True, high=100.0, dynamic=False),
)
_DEFAULTS = {p.name: p.default for p in _PARAMS}
_TWO = ("teacher_student", "gaussian_mixture")
_APPLIES = {
    "test_fraction": _mlp_data.REAL, "split_seed": _mlp_data.REAL,
    "n_train": _mlp_data.SYNTHETIC, "n_test": _mlp_data.SYNTHETIC, "data_seed": _mlp_data.SYNTHETIC,
    "label_noise": _mlp_data.SYNTHETIC, "n_features": _TWO, "n_classes": _TWO,
    "teacher_width": ("teacher_student",), "separation": ("gaussian_mixture",), "noise": ("spirals",),
    "turns": ("spirals",),
}
"""The datasets each dataset-specific parameter means something for; elsewhere it must keep
its default."""


# -- the kernels (data: X_train, y_train, X_test, y_test, X_val, y_val, cfg) ---------------


@njit(cache=True)
def mlp_value_and_grad(x, g, t, pp, data, rng):
    return mlp_full(x, g, data[0], data[1], data[6], True)[0]


@njit(cache=True)
def mlp_objective(x, pp, data):
    return mlp_full(x, x[:0], data[0], data[1], data[6], False)[0]


@njit(cache=True)
def mlp_batch_value_and_grad(x, g, idx, nb, pp, data):
    return mlp_batch(x, g, data[0], data[1], idx, nb, data[6])


@njit(cache=True)
def mlp_test_loss(x, pp, data):
    return mlp_full(x, x[:0], data[2], data[3], data[6], False)[0]


@njit(cache=True)
def mlp_metrics(x, out, pp, data):
    mlp_metrics_into(x, out, data[0], data[1], data[2], data[3], data[4], data[5], data[6])


@njit(cache=True)
def mlp_initial_point(x, pp, data, rng):
    mlp_init(x, data[6], rng)


class MLP(Problem):
    r"""A multilayer perceptron classifier, :math:`L(\theta) = \frac1n \sum_{i=1}^n \ell(f_\theta(a_i), c_i)`.

    The network, with :math:`h_0 = a` and :math:`L` = ``len(hidden) + 1`` layers:

    .. math::

        z_l = W_l h_{l-1} + b_l, \quad h_l = \sigma(z_l) \ (l < L), \quad f_\theta(a) = z_L,

    :math:`\sigma` = ``activation``: :math:`\tanh`, :math:`\max(z, 0)` (derivative 0 at 0)
    or the exact GELU :math:`z\,\Phi(z)`; ``tanh="portable"`` computes :math:`\tanh` with
    optsim's own :func:`optsim._elementary.tanh` in place of the C library's: the same bits on
    every machine, within 1.33 ulp of the exact value (glibc's tanh: 1.19), and on one x86-64 core
    a step of W5 (``benchmarks/profile_mlp.py``) about a fifth shorter.  The loss ``cross_entropy`` is
    :math:`\ell(z, c) = \log\sum_k e^{z_k} - z_c`; ``squared`` is
    :math:`\ell(z, c) = \tfrac12 \sum_k (z_k - [k = c])^2`.  Both are means over examples
    (a minibatch's over its examples).  ``bias=False`` drops every :math:`b_l`.

    Symbols: :math:`W_l` is ``W{l}`` (``w_l x w_{l-1}``), :math:`b_l` is ``b{l}``, the widths
    :math:`w_0` = the features, :math:`w_1 .. w_{L-1}` = ``hidden``, :math:`w_L` = the
    classes.  ``param_shapes()`` is ``{"W1": (w_1, w_0), "b1": (w_1,), "W2": ...}``, stored
    flat, W row-major then b, layer after layer: matrix rules (Muon, SOAP) act on the
    :math:`W_l` as matrices.

    Initialization (``initial_point``, per replicate from its own ``init`` stream, so every
    optimizer of a sweep starts from the same networks): ``glorot``
    :math:`W \sim N(0, 2/(w_{in} + w_{out}))`, ``he`` :math:`N(0, 2/w_{in})`, ``lecun``
    :math:`N(0, 1/w_{in})`, biases 0; ``torch``: :math:`W` and :math:`b` uniform on
    :math:`\pm 1/\sqrt{w_{in}}` (``torch.nn.Linear``'s default).  Draws go layer after layer,
    W row-major, then b.

    Data.  Real (``optsim.datasets``): one permutation
    ``np.random.default_rng(split_seed).permutation(n)``; its first ``round(test_fraction n)``
    rows are the test set, the next ``round(val_fraction n)`` the validation set, the rest
    train.  Synthetic (from ``data_seed``; ``n_train + n_test`` examples, the first
    ``round(val_fraction n_train)`` of the training ones for validation):
    ``teacher_student``: :math:`a \sim N(0, I)` in ``n_features`` dimensions labelled by the
    argmax of a random tanh teacher with ``teacher_width`` hidden units (weights and biases
    :math:`N(0, 1/\text{fan-in})`; the student may be wider); ``spirals``: two interleaved
    spirals in the plane (radius :math:`t \sim U(0,1)`, angle :math:`2\pi\,` ``turns``
    :math:`t + \pi c`, plus :math:`N(0,` ``noise`` :math:`^2)`); ``gaussian_mixture``:
    :math:`a \sim N(\mu_c, I)`, :math:`\mu_c \sim N(0,` ``separation`` :math:`^2 I)`, classes
    uniform.  ``label_noise`` moves that fraction of the training and validation labels to
    another class at random (memorization when the net is large); test labels stay clean.
    Features are standardized with the training rows' mean and standard deviation (a
    constant feature is only centred).  A dataset-specific parameter must keep its default
    for a dataset it does not apply to.  :meth:`arrays` returns the prepared arrays.

    Records: ``loss`` is the full training loss (``objective``); ``test_loss`` the test
    loss; ``record=("metrics",)`` adds, in this order, ``train_accuracy``,
    ``test_accuracy``, ``val_loss``, ``val_accuracy`` (NaN without a validation set) and the
    Euclidean norm of each parameter array's full-batch training gradient
    (``grad_norm_W1``, ``grad_norm_b1``, ...); with ``train_metrics=False`` only
    ``test_accuracy``, ``val_loss``, ``val_accuracy`` (no pass over the training set: the
    records of a long sweep then cost a pass over the test and validation rows).  Accuracy is the argmax's (the first on ties).
    Minibatch gradients (:class:`~optsim.noise.Minibatch`) are means over the batch.

    No state rows (a problem).  Memory: the data, shared by every trajectory; per pass over
    :math:`m` examples (a minibatch, or :data:`~optsim.problems._mlp_kernels.CHUNK` examples
    of a full-batch evaluation) one scratch array of
    :math:`2m \sum_l w_l + 2 m \max_l w_l + \max_l w_l w_{l-1} + m w_0` numbers, allocated once per
    call: O(parameters + batch x width) per trajectory.

    References: X. Glorot, Y. Bengio, "Understanding the difficulty of training deep
    feedforward neural networks", AISTATS 2010; K. He, X. Zhang, S. Ren, J. Sun, "Delving
    deep into rectifiers", ICCV 2015; Y. LeCun, L. Bottou, G. Orr, K.-R. Müller, "Efficient
    BackProp", in Neural Networks: Tricks of the Trade, Springer 1998; D. Hendrycks,
    K. Gimpel, "Gaussian Error Linear Units (GELUs)", arXiv:1606.08415, 2016; K. Lang,
    M. Witbrock, "Learning to tell two spirals apart", Connectionist Models Summer School
    1988; D. Saad, S. Solla, "On-line learning in soft committee machines", Physical
    Review E 52, 1995 (teacher-student); C. Zhang, S. Bengio, M. Hardt, B. Recht,
    O. Vinyals, "Understanding deep learning requires rethinking generalization", ICLR 2017
    (label noise and memorization).
    """

    name = "mlp"
    params = _PARAMS
    kernels = {
        "value_and_grad": mlp_value_and_grad,
        "objective": mlp_objective,
        "batch_value_and_grad": mlp_batch_value_and_grad,
        "test_loss": mlp_test_loss,
        "metrics": mlp_metrics,
        "initial_point": mlp_initial_point,
    }

    # -- checks ---------------------------------------------------------------------------
    def _validate(self):
        h = np.atleast_1d(self._values["hidden"])
        if not 1 <= h.size <= 3 or np.any(h != np.floor(h)):
            raise ParameterError(f"MLP: hidden={h.tolist()} gives widths of 1 to 3 hidden layers, each a whole "
                                 f"number in [1, 4096]")
        if self.activation != "tanh" and self.tanh != "libm":
            raise ParameterError(f"MLP: tanh={self.tanh!r} applies to activation='tanh' only, not to "
                                 f"activation={self.activation!r}; leave it at its default 'libm'")
        ds = self.dataset
        for name, where in _APPLIES.items():
            v = self._values[name]
            if ds not in where and v != _DEFAULTS[name]:
                raise ParameterError(f"MLP: {name}={v!r} does not apply to dataset={ds!r} (only to "
                                     f"{', '.join(where)}); leave it at its default {_DEFAULTS[name]!r}")
        n_tr, n_va, n_te = self._split_sizes()
        if n_tr < 1:
            raise ParameterError(f"MLP: with dataset={ds!r}, test_fraction={self.test_fraction} and "
                                 f"val_fraction={self.val_fraction} leave no training rows; give smaller fractions")

    def _split_sizes(self):
        """(train, validation, test) rows."""
        if self.dataset in _mlp_data.REAL:
            n = datasets.info(self.dataset)["examples"]
            n_te = round(self.test_fraction * n)
            n_va = round(self.val_fraction * n)
            return n - n_te - n_va, n_va, n_te
        n_va = round(self.val_fraction * self.n_train)
        return self.n_train - n_va, n_va, self.n_test

    # -- shapes ---------------------------------------------------------------------------
    def widths(self):
        """``(features, hidden..., classes)``."""
        ds = self.dataset
        if ds in _mlp_data.REAL:
            info = datasets.info(ds)
            n_in, n_out = info["features"], info["classes"]
        elif ds == "spirals":
            n_in, n_out = 2, 2
        else:
            n_in, n_out = self.n_features, self.n_classes
        return (int(n_in), *(int(v) for v in np.atleast_1d(self._values["hidden"])), int(n_out))

    def param_shapes(self):
        w = self.widths()
        shapes = {}
        for l in range(1, len(w)):
            shapes[f"W{l}"] = (w[l], w[l - 1])
            if self.bias:
                shapes[f"b{l}"] = (w[l],)
        return shapes

    def dimension(self):
        w = self.widths()
        return sum(w[l] * w[l - 1] + (w[l] if self.bias else 0) for l in range(1, len(w)))

    def coord_names(self):
        return self.param_names()

    def start_point(self):
        return np.zeros(self.dimension())  # replaced per replicate by initial_point

    def n_samples(self):
        return self._split_sizes()[0]

    def loss_floor(self):
        return 0.0  # a mean of cross-entropies or of squares

    def metric_names(self):
        if not self.train_metrics:
            return tuple(MET_TEST._fields)
        return tuple(MET._fields[:MET.grad_norms]) + tuple(f"grad_norm_{k}" for k in self.param_shapes())

    # -- data -----------------------------------------------------------------------------
    def _config(self):
        w = self.widths()
        act = "tanh_portable" if self.activation == "tanh" and self.tanh == "portable" else self.activation
        head = {CFG.layers: len(w) - 1, CFG.activation: getattr(ACT, act),
                CFG.loss: getattr(LOSS, self.loss), CFG.bias: int(self.bias), CFG.init: getattr(INIT, self.init),
                CFG.train_metrics: int(self.train_metrics)}
        cfg = np.zeros(CFG.widths + len(w), dtype=np.int64)
        for k, v in head.items():
            cfg[k] = v
        cfg[CFG.widths:] = w
        return cfg

    def arrays(self):
        """The prepared arrays the kernels see: ``X_train, y_train, X_val, y_val, X_test,
        y_test`` (features float64, standardized; labels int64)."""
        if self.dataset in _mlp_data.REAL:
            X, y = datasets.load(self.dataset)
            parts = _mlp_data.split_real(X, y, self.test_fraction, self.val_fraction, self.split_seed)
        else:
            parts = _mlp_data.synthetic(self)
        Xtr, ytr, Xva, yva, Xte, yte = parts
        Xtr, Xva, Xte = _mlp_data.standardize(Xtr, Xva, Xte)
        lab = lambda a: np.ascontiguousarray(a, dtype=np.int64)  # noqa: E731
        return {"X_train": Xtr, "y_train": lab(ytr), "X_val": Xva, "y_val": lab(yva),
                "X_test": Xte, "y_test": lab(yte)}

    def data(self):
        a = self.arrays()
        return (a["X_train"], a["y_train"], a["X_test"], a["y_test"], a["X_val"], a["y_val"], self._config())

    def data_bytes(self):
        n_tr, n_va, n_te = self._split_sizes()
        n = n_tr + n_va + n_te
        p = self.widths()[0]
        return 8 * (3 * n * p + 3 * n) + 8 * 16  # the raw draw or file, the split, the standardized copies

    def describe_init(self):
        """The standard deviation (normal rules) or half-width (``torch``) of each layer's weights."""
        w = self.widths()
        out = {}
        for l in range(1, len(w)):
            fi, fo = w[l - 1], w[l]
            out[f"W{l}"] = {"glorot": math.sqrt(2.0 / (fi + fo)), "he": math.sqrt(2.0 / fi),
                            "lecun": math.sqrt(1.0 / fi), "torch": 1.0 / math.sqrt(fi)}[self.init]
        return out
