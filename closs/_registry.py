"""The registry of closs's losses: one entry per loss drives the tests,
``python -m closs`` and the benchmarks.

An entry says how to make arguments, which options the loss takes (a grid the
parity tests walk), where its functional preparer, Module and NumPy reference
live (closs._reference; a parameter-free element-wise loss may write its point
function inline, R.pointwise), and how a user would write its forward pass in
plain NumPy.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from closs import _reference as R
from closs import functional as F
from closs import nn


@dataclass(frozen=True)
class Loss:
    name: str  # closs.functional's and torch.nn.functional's name
    prepare: object  # functional preparer: (*args, **options) -> LossCall
    module: type  # closs.nn class
    reference: object  # NumPy reference: (*args, **options) -> (value, grad)
    make_args: object  # (rng, shape, dtype) -> positional arguments; shape: the input's
    grid: tuple  # option dicts (besides reduction) to test
    numpy_forward: object  # idiomatic NumPy value for 'mean', the benchmark's baseline
    module_options: tuple = ()  # option names the Module's constructor takes
    reductions: tuple = ("none", "mean", "sum")
    forward_options: tuple = field(default=())  # option names Module.forward takes
    grad_args: tuple = (0,)  # positions of the differentiable arguments, the gradients' order
    bench_shape: object = None  # element count -> make_args shape (None: a flat vector)
    bench_shapes: tuple = ()  # shapes the full benchmark adds to its sizes
    # torch parity: the atol of values in units of rtol; a value that cancels to near 0
    # (margin + d(a, p) - d(a, n)) is only as exact as its terms in torch's float32
    parity_scale: float = 1e-2
    # the gradient is with respect to the logits z of log_softmax(z) over the last axis,
    # torch's convention for ctc_loss: finite differences move z (see tests/test_losses.py)
    logit_grad: bool = False
    variant: str = ""  # tells entries of one function apart (kinds of target ...)
    # the shape of a per-class option array ("class" in a grid) for input of `shape`
    class_shape: object = lambda shape: shape[-1:]

    def shape_for(self, size):
        """The argument shape of this loss at about `size` elements (benchmarks)."""
        return (size,) if self.bench_shape is None else self.bench_shape(size)

    @property
    def key(self):
        """The entry's key in LOSSES and in test ids: the name, and the variant if any."""
        return f"{self.name}-{self.variant}" if self.variant else self.name


def _pair(rng, shape, dtype):
    return (rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype))


def _probabilities(rng, shape, dtype):
    return (rng.uniform(0.02, 0.98, shape).astype(dtype), rng.uniform(0, 1, shape).astype(dtype))


def _logits(rng, shape, dtype):
    return ((rng.standard_normal(shape) * 3).astype(dtype), rng.uniform(0, 1, shape).astype(dtype))


def _labels(rng, shape, dtype):
    return (rng.standard_normal(shape).astype(dtype),
            rng.choice(np.array([-1, 1], dtype), shape))


def _multilabel(rng, shape, dtype):
    return (rng.standard_normal(shape).astype(dtype), rng.integers(0, 2, shape).astype(dtype))


def _counts(rng, shape, dtype):
    return (rng.uniform(0.1, 3, shape).astype(dtype), rng.poisson(2.0, shape).astype(dtype))


def _distributions(rng, shape, dtype):
    y = rng.uniform(0, 1, shape)
    y[rng.uniform(size=shape) < 0.1] = 0  # torch's xlogy treats y == 0 as 0 log 0 = 0
    return (np.log(rng.uniform(0.05, 1, shape)).astype(dtype), y.astype(dtype))


def _class_indices(rng, shape):
    """Class indices for input of `shape`, every class as evenly as the positions allow
    (so ignore_index=0 never ignores every position)."""
    c = shape[1] if len(shape) > 1 else shape[0]
    target_shape = (shape[0],) + tuple(shape[2:]) if len(shape) > 1 else ()
    size = int(np.prod(target_shape, dtype=np.int64))
    return rng.permutation(np.arange(size) % c).reshape(target_shape)


def _logits_indices(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype), _class_indices(rng, shape)


def _log_probabilities_indices(rng, shape, dtype):
    """nll_loss's input: log-probabilities (so that its values never cancel)."""
    x = rng.standard_normal(shape)
    axis = 1 if len(shape) > 1 else 0
    x = x - np.log(np.exp(x).sum(axis=axis, keepdims=True))
    return x.astype(dtype), _class_indices(rng, shape)


def _logits_probabilities(rng, shape, dtype):
    axis = 1 if len(shape) > 1 else 0
    p = np.exp(2 * rng.standard_normal(shape))
    return rng.standard_normal(shape).astype(dtype), (p / p.sum(axis=axis, keepdims=True)).astype(dtype)


def _numpy_cross_entropy(x, t):
    z = x - x.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    if t.shape == x.shape:
        return -(t * log_p).sum(axis=1).mean()
    return -np.take_along_axis(log_p, t[:, None], axis=1).mean()




def _linear_args(rng, shape, dtype):
    """linear_cross_entropy on logits of `shape` ((N, C) or (C,)): input (N, 5) or (5,),
    linear_weight (C, 5), class indices (N,) or ()."""
    batch, c = shape[:-1], shape[-1]
    x = rng.standard_normal(batch + (5,)).astype(dtype)
    lw = (rng.standard_normal((c, 5)) / 2).astype(dtype)
    return x, lw, rng.integers(0, c, batch) if c else np.zeros(batch, np.int64)


def _numpy_linear_cross_entropy(x, lw, t):
    return _numpy_cross_entropy(x @ lw.T, t)


class _LinearHead(nn._WeightedLoss):
    """LinearCrossEntropyLoss with its linear weight as an argument, forward(input,
    linear_weight, target), gradients (input, linear_weight): the form in which the
    registry's generic tests take every loss (tests/test_linear.py tests the Module
    with its own Linear)."""

    def __init__(self, weight=None, reduction="mean", ignore_index=None, label_smoothing=0.0):
        super().__init__(weight, reduction=reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def _prepare(self, input, linear_weight, target):
        return F._linear_cross_entropy_call(
            input, linear_weight, target, weight=self.weight, reduction=self.reduction,
            ignore_index=self.ignore_index, label_smoothing=self.label_smoothing)


def _weighted(*grid):
    return tuple(grid) + tuple(dict(g, weight=True) for g in grid)


def _numpy_bce(x, y):
    return -np.mean(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log1p(-x), -100))


def _numpy_bce_logits(x, y):
    return np.mean((1 - y) * x + np.logaddexp(0, -x))


def _ranking(rng, shape, dtype):
    x1, x2 = _pair(rng, shape, dtype)
    return x1, x2, rng.choice(np.array([-1.0, 1.0], dtype), shape)


def _cosine(rng, shape, dtype):
    """Rows (N, D) and labels +-1 (a flat shape is one row)."""
    x1, x2 = _pair(rng, shape, dtype)
    return x1, x2, rng.choice(np.array([-1.0, 1.0], dtype), shape[:-1])


def _classes(rng, shape, dtype):
    """Scores (N, C) and a class index per row."""
    return rng.standard_normal(shape).astype(dtype), rng.integers(0, shape[-1], shape[:-1])


def _label_lists(rng, shape, dtype):
    """Scores (N, C) and up to 4 class indices per row, ended by -1 (then any of [-1, C))."""
    c = shape[-1]
    t = rng.integers(0, c, shape)
    k = rng.integers(0, min(c, 4) + 1, shape[:-1])
    after = np.arange(c) >= np.expand_dims(k, -1)
    t[after] = rng.integers(-1, c, int(after.sum()))
    t[np.arange(c) == np.expand_dims(k, -1)] = -1
    return rng.standard_normal(shape).astype(dtype), t


def _triplet(rng, shape, dtype):
    return tuple(rng.standard_normal(shape).astype(dtype) for _ in range(3))


def _rows(d):
    """Benchmark shape: rows of (up to) d elements."""
    return lambda size: (max(1, size // d), min(d, size))


def _ctc_args(rng, shape, dtype):
    """log_probs (T, N, C) (a 2-D shape (a, C) means T = a + 3, N = 3; a 4-D one is
    (T, N, C, S)), padded targets (N, S) of labels in [1, C) other than 2 (the blanks of
    the grid: a blank among the targets is tests/test_ctc.py's, where torch's gradient
    is not the logits' gradient), S = (T - 1) // 3 unless given, int64 input lengths in
    [T - 2, T] and target lengths in [0, S] (every target has an alignment while
    T - 2 >= 2 S - 1)."""
    t, n, c = shape[:3] if len(shape) >= 3 else (shape[0] + 3, 3, shape[1])
    z = rng.standard_normal((t, n, c)) * 2
    lp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    s = shape[3] if len(shape) == 4 else max(1, (t - 1) // 3)
    il = rng.integers(max(1, t - 2), t + 1, n)
    tl = rng.integers(0, s + 1, n)
    labels = np.array([k for k in range(1, c) if k != 2] or [c - 1])
    return lp.astype(dtype), rng.choice(labels, (n, s)), il, tl


def _ctc_shape(size):
    """Benchmark shape: T = 50 frames of C = 29 classes (a character set), N samples."""
    t, c = 50, 29
    return (max(2, min(t, size // c)), max(1, size // (t * c)), c)


def _numpy_ctc(lp, targets, il, tl):
    """The alpha recursion vectorised over the batch and the extended targets ('mean')."""
    t_max, n, _ = lp.shape
    ext = np.zeros((n, 2 * targets.shape[1] + 1), np.int64)
    ext[:, 1::2] = targets
    width = ext.shape[1]
    skip = np.zeros((n, width), bool)
    skip[:, 2:] = ext[:, 2:] != ext[:, :-2]
    rows = np.arange(n)[:, None]
    alpha = np.full((n, width), -np.inf)
    alpha[:, :2] = lp[0][rows, ext[:, :2]]
    alpha[tl == 0, 1] = -np.inf
    for t in range(1, t_max):
        a1 = np.concatenate([np.full((n, 1), -np.inf), alpha[:, :-1]], 1)
        a2 = np.where(skip, np.concatenate([np.full((n, 2), -np.inf), alpha[:, :-2]], 1), -np.inf)
        new = np.logaddexp(np.logaddexp(alpha, a1), a2) + lp[t][rows, ext]
        alpha = np.where((t < il)[:, None], new, alpha)
    end = 2 * tl
    last = np.logaddexp(alpha[np.arange(n), end],
                        np.where(tl > 0, alpha[np.arange(n), end - 1], -np.inf))
    return np.mean(-last / np.maximum(tl, 1))


def _sq_distance(x1, x2):
    """A Python distance_function for the registry: squared Euclidean distance."""
    return ((x1 - x2) ** 2).sum(-1)


def _sq_distance_grad(x1, x2, grad):
    """Its vector-Jacobian product: (grad 2 (x1 - x2), -grad 2 (x1 - x2))."""
    g = 2 * np.expand_dims(grad, -1) * (x1 - x2)
    return g, -g


def _numpy_cosine(x1, x2, y):
    cos = (x1 * x2).sum(-1) / np.sqrt((x1 * x1).sum(-1) * (x2 * x2).sum(-1))
    return np.where(y == 1, 1 - cos, np.maximum(cos, 0)).mean()


def _numpy_multi_margin(x, t):
    rows = np.arange(x.shape[0])
    z = np.maximum(0, 1 - x[rows, t][:, None] + x)
    z[rows, t] = 0
    return z.mean()


def _numpy_multilabel_margin(x, t):
    n, c = x.shape
    rows = np.arange(n)
    listed = np.cumprod(t >= 0, axis=1).astype(bool)
    is_target = np.zeros((n, c + 1), bool)
    is_target[rows[:, None], np.where(listed, t, c)] = True
    total = 0.0
    for slot in range(c):
        if not listed[:, slot].any():
            break
        z = np.maximum(0, 1 - x[rows, t[:, slot]][:, None] + x)
        total += (z * (~is_target[:, :c] & listed[:, slot, None])).sum()
    return total / x.size


def _numpy_triplet(a, p, n):
    d = lambda x, y: np.sqrt(((x - y + 1e-6) ** 2).sum(-1))  # noqa: E731
    return np.maximum(0, 1 + d(a, p) - d(a, n)).mean()


# nll_loss and cross_entropy: classes along dimension 1 of (N, C, d1, ...), 0 of (C,).
_CLASSES_ON_DIM1 = dict(class_shape=lambda shape: shape[1:2] if len(shape) > 1 else shape[:1],
                        bench_shape=_rows(100))

LOSSES = {
    loss.key: loss
    for loss in [
        Loss(
            "l1_loss", F._l1_call, nn.L1Loss, R.l1_loss, _pair, _weighted({}),
            lambda x, y: np.abs(x - y).mean(), forward_options=("weight",),
        ),
        Loss(
            "mse_loss", F._mse_call, nn.MSELoss, R.mse_loss, _pair, _weighted({}),
            lambda x, y: np.square(x - y).mean(), forward_options=("weight",),
        ),
        Loss(
            "smooth_l1_loss", F._smooth_l1_call, nn.SmoothL1Loss, R.smooth_l1_loss, _pair,
            ({}, {"beta": 0.0}, {"beta": 0.5}, {"beta": 2.0}),
            lambda x, y: _numpy_smooth(x - y, 1.0).mean(), module_options=("beta",),
        ),
        Loss(
            "huber_loss", F._huber_call, nn.HuberLoss, R.huber_loss, _pair,
            _weighted({}, {"delta": 0.3}, {"delta": 2.5}),
            lambda x, y: _numpy_smooth(x - y, 1.0).mean(),
            module_options=("delta",), forward_options=("weight",),
        ),
        Loss(
            "binary_cross_entropy", F._bce_call, nn.BCELoss, R.binary_cross_entropy,
            _probabilities, ({}, {"weight": True}, {"weight": "class"}), _numpy_bce,
            module_options=("weight",),
        ),
        Loss(
            "binary_cross_entropy_with_logits", F._bce_logits_call, nn.BCEWithLogitsLoss,
            R.binary_cross_entropy_with_logits, _logits,
            ({}, {"weight": "class"}, {"pos_weight": "class"},
             {"weight": True, "pos_weight": "class"}),
            _numpy_bce_logits, module_options=("weight", "pos_weight"),
        ),
        Loss(
            "soft_margin_loss", F._soft_margin_call, nn.SoftMarginLoss,
            # log(1 + exp(-y x)), and -y sigmoid(-y x) = -y exp(-log(1 + exp(y x)))
            R.pointwise(lambda x, y: (np.logaddexp(0.0, -y * x),
                                      -y * np.exp(-np.logaddexp(0.0, y * x)))),
            _labels, ({},), lambda x, y: np.mean(np.logaddexp(0, -y * x)),
        ),
        Loss(
            "multilabel_soft_margin_loss", F._multilabel_soft_margin_call,
            nn.MultiLabelSoftMarginLoss, R.multilabel_soft_margin_loss, _multilabel,
            ({}, {"weight": "class"}), _numpy_bce_logits, module_options=("weight",),
        ),
        Loss(
            "hinge_embedding_loss", F._hinge_embedding_call, nn.HingeEmbeddingLoss,
            R.hinge_embedding_loss, _labels, ({}, {"margin": 0.5}, {"margin": -0.3}),
            lambda x, y: np.mean(np.where(y == 1, x, np.maximum(0, 1 - x))),
            module_options=("margin",),
        ),
        Loss(
            "poisson_nll_loss", F._poisson_nll_call, nn.PoissonNLLLoss, R.poisson_nll_loss,
            _counts,
            ({}, {"full": True}, {"log_input": False}, {"log_input": False, "full": True},
             {"log_input": False, "eps": 0.25}),
            lambda x, y: np.mean(np.exp(x) - y * x),
            module_options=("log_input", "full", "eps"),
        ),
        Loss(
            "kl_div", F._kl_div_call, nn.KLDivLoss, R.kl_div, _distributions,
            ({}, {"log_target": True}),
            lambda x, y: np.sum(np.where(y > 0, y * np.log(np.where(y > 0, y, 1)), 0) - y * x)
            / len(x),
            module_options=("log_target",), reductions=("none", "mean", "sum", "batchmean"),
        ),
        Loss(
            "gaussian_nll_loss", F._gaussian_nll_call, nn.GaussianNLLLoss, R.gaussian_nll_loss,
            _pair, ({"var": 0.7}, {"var": 1e-9, "full": True}, {"var": 2.0, "eps": 0.5}),
            lambda x, y: np.mean(0.5 * (np.log(0.7) + (x - y) ** 2 / 0.7)),
            module_options=("full", "eps"), forward_options=("var",),
        ),
        Loss(
            "margin_ranking_loss", F._margin_ranking_call, nn.MarginRankingLoss,
            R.margin_ranking_loss, _ranking, ({}, {"margin": 0.5}, {"margin": -0.3}),
            lambda x1, x2, y: np.maximum(0, -y * (x1 - x2)).mean(),
            module_options=("margin",), grad_args=(0, 1),
        ),
        Loss(
            "cosine_embedding_loss", F._cosine_embedding_call, nn.CosineEmbeddingLoss,
            R.cosine_embedding_loss, _cosine, ({}, {"margin": 0.2}, {"margin": -0.5}),
            _numpy_cosine, module_options=("margin",), grad_args=(0, 1), bench_shape=_rows(512),
        ),
        Loss(
            "multi_margin_loss", F._multi_margin_call, nn.MultiMarginLoss, R.multi_margin_loss,
            _classes,
            ({}, {"p": 2}, {"margin": 0.4}, {"p": 2, "margin": 2.5}, {"weight": "class"},
             {"p": 2, "weight": "class"}),
            _numpy_multi_margin, module_options=("p", "margin", "weight"), bench_shape=_rows(100),
        ),
        Loss(
            "multilabel_margin_loss", F._multilabel_margin_call, nn.MultiLabelMarginLoss,
            R.multilabel_margin_loss, _label_lists, ({},), _numpy_multilabel_margin,
            bench_shape=_rows(100),
        ),
        Loss(
            "triplet_margin_loss", F._triplet_call, nn.TripletMarginLoss, R.triplet_margin_loss,
            _triplet,
            ({}, {"swap": True}, {"p": 1}, {"p": 3, "swap": True}, {"p": 0.5}, {"p": 1.5},
             {"p": float("inf")}, {"margin": 0.5, "eps": 0.0}),
            _numpy_triplet, module_options=("margin", "p", "eps", "swap"), grad_args=(0, 1, 2),
            bench_shape=_rows(512), parity_scale=1.0,
        ),
        Loss(
            "triplet_margin_with_distance_loss", F._triplet_with_distance_call,
            nn.TripletMarginWithDistanceLoss, R.triplet_margin_with_distance_loss, _triplet,
            ({}, {"swap": True, "margin": 2.0},
             {"distance_function": _sq_distance, "distance_grad": _sq_distance_grad},
             {"distance_function": _sq_distance, "distance_grad": _sq_distance_grad,
              "swap": True}),
            _numpy_triplet,
            module_options=("margin", "swap", "distance_function", "distance_grad"),
            grad_args=(0, 1, 2), bench_shape=_rows(512), parity_scale=1.0,
        ),
        Loss(
            "nll_loss", F._nll_call, nn.NLLLoss, R.nll_loss, _log_probabilities_indices,
            ({}, {"weight": "class"}, {"ignore_index": 0}, {"weight": "class", "ignore_index": 0}),
            lambda x, t: -np.take_along_axis(x, t[:, None], axis=1).mean(),
            module_options=("weight", "ignore_index"), **_CLASSES_ON_DIM1,
        ),
        Loss(
            "cross_entropy", F._cross_entropy_call, nn.CrossEntropyLoss, R.cross_entropy,
            _logits_indices,
            ({}, {"weight": "class"}, {"ignore_index": 0}, {"label_smoothing": 0.2},
             {"weight": "class", "label_smoothing": 0.2},
             {"weight": "class", "ignore_index": 0, "label_smoothing": 0.2}),
            _numpy_cross_entropy,
            module_options=("weight", "ignore_index", "label_smoothing"), **_CLASSES_ON_DIM1,
        ),
        Loss(
            "cross_entropy", F._cross_entropy_call, nn.CrossEntropyLoss, R.cross_entropy,
            _logits_probabilities,
            ({}, {"weight": "class"}, {"label_smoothing": 0.2},
             {"weight": "class", "label_smoothing": 0.2}),
            _numpy_cross_entropy, variant="probabilities",
            module_options=("weight", "label_smoothing"), **_CLASSES_ON_DIM1,
        ),
        Loss(
            "linear_cross_entropy", F._linear_cross_entropy_call, _LinearHead,
            R.linear_cross_entropy, _linear_args,
            ({}, {"weight": "class"}, {"ignore_index": 0}, {"label_smoothing": 0.2},
             {"weight": "class", "ignore_index": 0, "label_smoothing": 0.2}),
            _numpy_linear_cross_entropy, grad_args=(0, 1),
            module_options=("weight", "ignore_index", "label_smoothing"), bench_shape=_rows(1000),
        ),
        Loss(
            "ctc_loss", F._ctc_call, nn.CTCLoss, R.ctc_loss, _ctc_args,
            ({}, {"blank": 2}, {"zero_infinity": True}), _numpy_ctc,
            module_options=("blank", "zero_infinity"), bench_shape=_ctc_shape, logit_grad=True,
        ),
    ]
}


def _numpy_smooth(d, beta):
    a = np.abs(d)
    return np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)


def materialise(loss, options, rng, shape, dtype):
    """Options with array placeholders replaced by positive arrays: True by one of the
    input's shape, "class" by one per class (loss.class_shape: the last dimension, or
    dimension 1 for nll_loss and cross_entropy)."""
    out = dict(options)
    for key, value in options.items():
        if value is True and key in ("weight", "pos_weight"):
            out[key] = rng.uniform(0.1, 2.0, shape).astype(dtype)
        elif value == "class":
            out[key] = rng.uniform(0.1, 2.0, loss.class_shape(shape)).astype(dtype)
    return out


# The shapes of the issues' benchmark rows, added to the element counts of a full run.
_BENCH_SHAPES = {
    "cross_entropy": ((32, 10), (4096, 1000), (1024, 32000), (16, 21, 128, 128)),
    "nll_loss": ((32, 10), (4096, 1000)),
    "multi_margin_loss": ((32, 10), (4096, 1000)),
    "multilabel_margin_loss": ((32, 10), (4096, 1000)),
    "cosine_embedding_loss": ((32, 128), (4096, 512), (65536, 256)),
    "triplet_margin_loss": ((32, 128), (4096, 512), (65536, 256)),
    # ctc_loss: (T, N, C, S)
    "ctc_loss": ((50, 16, 20, 30), (200, 32, 29, 60), (1000, 32, 29, 200), (500, 8, 5000, 100)),
}
LOSSES = {key: replace(loss, bench_shapes=_BENCH_SHAPES.get(key, loss.bench_shapes))
          for key, loss in LOSSES.items()}
