"""Independent NumPy reference implementations of closs's losses.

Written from the formulas in PyTorch's documentation, in float64, with no code
shared with the C core: the tests and ``python -m closs`` check the compiled
kernels against these. Each reference returns ``(value, grad)``: the loss as
closs returns it and d(sum of grad_output * loss)/d input for grad_output = ones.
"""

import numpy as np


def _reduce(loss, dloss, reduction, denominator):
    """Applies a reduction to per-element losses and their derivatives (one array,
    or a tuple of arrays for a loss of several inputs)."""
    if reduction == "none":
        return loss, dloss
    if reduction == "sum":
        return loss.sum(), dloss
    with np.errstate(invalid="ignore", divide="ignore"):
        if isinstance(dloss, tuple):
            return loss.sum() / denominator, tuple(g / denominator for g in dloss)
        return loss.sum() / denominator, dloss / denominator


def _sign(d):
    """torch's sgn: -1, 0 or 1, and 0 at NaN."""
    return np.where(d > 0, 1.0, np.where(d < 0, -1.0, 0.0))


def _of_difference(point):
    """A point function of (x, y) from one of d = x - y."""
    return lambda x, y: point(x - y)


def _weight_sum(weight):
    return None if weight is None else np.asarray(weight, np.float64).sum()


def l1_loss(input, target, reduction="mean", weight=None):
    point = _of_difference(lambda d: (np.abs(d), _sign(d)))
    return _elementwise(point, input, target, reduction, weight, _weight_sum(weight))


def mse_loss(input, target, reduction="mean", weight=None):
    point = _of_difference(lambda d: (d * d, 2 * d))
    return _elementwise(point, input, target, reduction, weight, _weight_sum(weight))


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    if beta == 0:
        return l1_loss(input, target, reduction)

    def point(d):
        quad = np.abs(d) < beta
        loss = np.where(quad, 0.5 * d * d / beta, np.abs(d) - 0.5 * beta)
        return loss, np.clip(d / beta, -1.0, 1.0)

    return _elementwise(_of_difference(point), input, target, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    def point(d):
        quad = np.abs(d) < delta
        loss = np.where(quad, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))
        return loss, np.clip(d, -delta, delta)

    return _elementwise(_of_difference(point), input, target, reduction, weight)


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def _sigmoid(x):
    return np.exp(_log_sigmoid(x))


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    def point(x, y):
        loss = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log(1 - x), -100))
        return loss, (x - y) / np.maximum(x * (1 - x), float(np.float32(1e-12)))  # as torch

    return _elementwise(point, input, target, reduction, weight)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    def point(x, y):
        p = 1.0 if pos_weight is None else np.asarray(pos_weight, np.float64)
        # -(p y log s(x) + (1 - y) log s(-x))
        loss = -(p * y * _log_sigmoid(x) + (1 - y) * _log_sigmoid(-x))
        return loss, -(p * y * _sigmoid(-x)) + (1 - y) * _sigmoid(x)

    return _elementwise(point, input, target, reduction, weight)


def multilabel_soft_margin_loss(input, target, weight=None, reduction="mean"):
    x = np.asarray(input, np.float64)
    y = np.asarray(target, np.float64)
    loss = -(y * _log_sigmoid(x) + (1 - y) * _log_sigmoid(-x))
    dloss = _sigmoid(x) - y
    if weight is not None:
        w = np.asarray(weight, np.float64)
        loss, dloss = loss * w, dloss * w
    c = x.shape[-1] if x.ndim else 1
    rows = loss.sum(axis=-1) / c
    if reduction == "none":
        return rows, dloss / c
    if reduction == "sum":
        return rows.sum(), dloss / c
    return rows.mean(), dloss / (c * max(rows.size, 1)) if rows.size else dloss


def hinge_embedding_loss(input, target, margin=1.0, reduction="mean"):
    def point(x, y):
        hinge = np.where(margin - x < 0, 0.0, margin - x)
        loss = np.where(y != 1, hinge, 0.0) + np.where(y != -1, x, 0.0)
        grad = np.where(y != -1, 1.0, 0.0) - np.where((y != 1) & (margin - x >= 0), 1.0, 0.0)
        return loss, grad

    return _elementwise(point, input, target, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
    def point(x, y):
        if log_input:
            loss, grad = np.exp(x) - y * x, np.exp(x) - y
        else:
            loss, grad = x - y * np.log(x + eps), 1 - y / (x + eps)
        if full:
            ys = np.where(y > 1, y, 2.0)
            loss = loss + np.where(y > 1, ys * np.log(ys) - ys + 0.5 * np.log(2 * np.pi * ys), 0)
        return loss, grad

    return _elementwise(point, input, target, reduction)


def kl_div(input, target, reduction="mean", log_target=False):
    def point(x, y):
        if log_target:
            return np.exp(y) * (y - x), -np.exp(y)
        ylogy = np.where(y == 0, 0.0, y * np.log(np.where(y == 0, 1.0, y)))
        return ylogy - y * x, -y

    if reduction == "batchmean":
        x = np.asarray(input)
        loss, grad = _elementwise(point, input, target, "sum")
        batch = x.shape[0] if x.ndim else 1
        return loss / batch, grad / batch
    return _elementwise(point, input, target, reduction)


def _elementwise(point, input, target, reduction, weight=None, denominator=None):
    """A loss of (x, y) on their broadcast shape, weighted, reduced; 'mean' divides
    by the denominator when given, else by the element count."""
    x = np.asarray(input, np.float64)
    y = np.asarray(target, np.float64)
    x, y = np.broadcast_arrays(x, y)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        loss, dloss = point(x, y)
        if weight is not None:
            w = np.broadcast_to(np.asarray(weight, np.float64), x.shape)
            loss, dloss = loss * w, dloss * w
    return _reduce(loss, dloss, reduction, x.size if denominator is None else denominator)


def pointwise(point):
    """The reference of a parameter-free element-wise loss from its point function
    (x, y) -> (loss, d loss / dx) on float64 arrays, for a registry entry that
    writes the point function inline (soft_margin_loss)."""
    return lambda input, target, reduction="mean": _elementwise(point, input, target, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Returns (value, grad of input) for a float var, (value, (grad of input, grad of
    var)) for an array var of the input's shape or one with a dimension of size 1."""
    x = np.asarray(input, np.float64)
    y = np.asarray(target, np.float64)
    scalar = np.ndim(var) == 0
    v = np.asarray(var, np.float64)
    if not scalar and v.ndim == x.ndim - 1:
        v = v[..., None]
    s = np.maximum(v, eps)
    d = x - y
    loss = 0.5 * (np.log(s) + d * d / s) + (0.5 * np.log(2 * np.pi) if full else 0.0)
    dvar = 0.5 * (1 / s - d * d / (s * s))
    loss, dx, dvar = np.broadcast_arrays(loss, d / s, dvar)
    value, dx = _reduce(loss, dx, reduction, loss.size)
    if scalar:
        return value, dx
    _, dvar = _reduce(loss, dvar, reduction, loss.size)
    axes = tuple(i for i, n in enumerate(v.shape) if n == 1 and loss.shape[i] != 1)
    return value, (dx, dvar.sum(axis=axes, keepdims=True).reshape(np.shape(var)))


# --------------------------------------------------------------------------- margins and embeddings


def _f64(*arrays):
    return [np.asarray(a, np.float64) for a in arrays]


def _sum_to(g, shape):
    """g summed down to an argument of `shape` that was broadcast to g's shape."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    x1, x2, y = _f64(input1, input2, target)
    a, b, t = np.broadcast_arrays(x1, x2, y)
    with np.errstate(invalid="ignore"):
        v = -t * (a - b) + margin
        loss = np.where(v < 0, 0.0, v)
        g = np.where(v >= 0, 1.0, 0.0) * -t
    return _reduce(loss, (_sum_to(g, x1.shape), _sum_to(-g, x2.shape)), reduction, loss.size)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    x1, x2 = _f64(input1, input2)
    y = np.asarray(target)
    eps = float(np.float32(1e-12))  # torch's float constant EPSILON
    dot = (x1 * x2).sum(-1)
    m1, m2 = (x1 * x1).sum(-1) + eps, (x2 * x2).sum(-1) + eps
    den = np.sqrt(m1 * m2)
    cos = dot / den
    loss = np.where(y == 1, 1 - cos, np.where(y == -1, np.maximum(cos - margin, 0.0), 0.0))
    dcos = np.where(y == 1, -1.0, np.where((y == -1) & (cos - margin >= 0), 1.0, 0.0))
    e = lambda a: np.expand_dims(a, -1)  # noqa: E731
    g1 = e(dcos) * (x2 / e(den) - e(cos) * x1 / e(m1))
    g2 = e(dcos) * (x1 / e(den) - e(cos) * x2 / e(m2))
    return _reduce(loss, (_sum_to(g1, x1.shape), _sum_to(g2, x2.shape)), reduction, loss.size)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    (x,) = _f64(input)
    t = np.asarray(target).reshape(-1)
    c = x.shape[-1] if x.ndim else 1
    rows = x.reshape(-1, c)
    n = rows.shape[0]
    xt = rows[np.arange(n), t][:, None]
    z = margin - xt + rows
    hinge = (z > 0) & (np.arange(c) != t[:, None])
    wt = (np.ones(c) if weight is None else np.asarray(weight, np.float64))[t][:, None]
    loss = (np.where(hinge, z**p, 0.0) * wt).sum(1) / c
    g = np.where(hinge, p * z ** (p - 1), 0.0) * wt / c
    g[np.arange(n), t] = -g.sum(1)
    loss = loss if np.ndim(target) else loss.reshape(())
    return _reduce(loss, g.reshape(x.shape), reduction, n)


def multilabel_margin_loss(input, target, reduction="mean"):
    (x,) = _f64(input)
    c = x.shape[-1] if x.ndim else 1
    rows, t = x.reshape(-1, c), np.asarray(target).reshape(-1, c)
    n = rows.shape[0]
    listed = np.cumprod(t >= 0, axis=1).astype(bool)  # each row's targets end at its first -1
    counts = np.zeros((n, c + 1))
    np.add.at(counts, (np.arange(n)[:, None], np.where(listed, t, c)), 1)
    is_target = counts[:, :c] > 0
    loss, g = np.zeros(n), np.zeros((n, c))
    for slot in range(c):  # the slot-th target of every row that has one
        has = listed[:, slot]
        if not has.any():
            break
        ts = np.where(has, t[:, slot], 0)
        z = 1 - rows[np.arange(n), ts][:, None] + rows
        hit = (z > 0) & ~is_target & has[:, None]
        loss += np.where(hit, z, 0.0).sum(1)
        g += hit
        g[np.arange(n), ts] -= hit.sum(1)
    loss = loss / c if np.ndim(target) == 2 else loss.reshape(()) / c
    return _reduce(loss, g.reshape(x.shape) / c, reduction, n)


def _pnorm(v, p):
    """||v||_p over the last axis, and d||v||_p / dv (torch's subgradients: 0 at a zero
    distance, the max norm's gradient shared by the elements that reach it)."""
    a = np.abs(v)
    if np.isinf(p):
        dist = a.max(-1)
        top = a == dist[..., None]
        return dist, np.sign(v) * top / np.maximum(top.sum(-1, keepdims=True), 1)
    dist = (a**p).sum(-1) ** (1.0 / p)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = np.sign(v) * (a / dist[..., None]) ** (p - 1)
    return dist, np.where((v == 0) | (dist[..., None] == 0), 0.0, grad)


def _triplet(a, p, n, dist, margin, swap, reduction):
    """The triplet loss from a distance returning (d(x1, x2), vjp(g) -> (g1, g2))."""
    (dp, vjp_p), (dn, vjp_n) = dist(a, p), dist(a, n)
    loss_an = dn
    if swap:
        ds, vjp_s = dist(p, n)
        loss_an = np.minimum(dn, ds)
    pre = margin + dp - loss_an
    loss = np.where(pre < 0, 0.0, pre)
    k = np.where(pre >= 0, 1.0, 0.0)
    ga, gp = vjp_p(k)
    if swap:
        tie = np.where(dn == ds, 0.5, 1.0)
        ga2, gn = vjp_n(np.where(dn > ds, 0.0, -k * tie))
        gp2, gn2 = vjp_s(np.where(dn < ds, 0.0, -k * tie))
        ga, gp, gn = ga + ga2, gp + gp2, gn + gn2
    else:
        ga2, gn = vjp_n(-k)
        ga = ga + ga2
    grads = tuple(_sum_to(np.broadcast_to(g, np.broadcast_shapes(g.shape, x.shape)), x.shape)
                  for g, x in zip((ga, gp, gn), (a, p, n)))
    return _reduce(loss, grads, reduction, loss.size)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        reduction="mean"):
    a, pos, neg = _f64(anchor, positive, negative)

    def dist(x1, x2):
        v = x1 - x2 + eps
        squeeze = v.ndim == 0
        d, dv = _pnorm(np.atleast_1d(v), p)
        if squeeze:
            dv = dv.reshape(())
        return d.reshape(v.shape[:-1]), lambda g: (np.expand_dims(g, -1) * dv,
                                                   -np.expand_dims(g, -1) * dv)

    return _triplet(a, pos, neg, dist, margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean",
                                      distance_grad=None):
    if distance_function is None:
        return triplet_margin_loss(anchor, positive, negative, margin, 2, 1e-6, swap, reduction)
    a, pos, neg = _f64(anchor, positive, negative)

    def dist(x1, x2):
        return np.asarray(distance_function(x1, x2), np.float64), lambda g: distance_grad(x1, x2, g)

    return _triplet(a, pos, neg, dist, margin, swap, reduction)


def _logsumexp(a, axis):
    """log(sum(exp(a))) along axis, -inf where every term is -inf."""
    m = a.max(axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return (np.log(np.exp(a - m).sum(axis, keepdims=True)) + m).squeeze(axis)


def _shift(a, k, fill=-np.inf):
    """a moved k places along the last axis (right for k > 0, left for k < 0), filled."""
    out = np.full_like(a, fill)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """CTC loss (Graves et al., 2006, eqs. 6-16) in log space, vectorised over the batch
    and the extended targets l' = (blank, l1, blank, ..., blank), with torch's gradient
    convention (the gradient with respect to the logits of log_softmax; see
    closs.functional.ctc_loss): exp(lp) - sum over s with l'_s = k of
    exp(alpha + beta - lp) / p for frames below the input length."""
    lp = np.asarray(log_probs, np.float64)
    batched = lp.ndim == 3
    if not batched:
        lp = lp[:, None, :]
    n_t, n, n_c = lp.shape
    il = np.asarray(input_lengths).reshape(-1).astype(np.int64)
    tl = np.asarray(target_lengths).reshape(-1).astype(np.int64)
    tg = np.asarray(targets)
    if batched and tg.ndim == 1:
        starts = np.concatenate([[0], np.cumsum(tl)[:-1]]).astype(np.int64)
        seqs = [tg[starts[b]:starts[b] + tl[b]] for b in range(n)]
    else:
        seqs = [tg.reshape(n, -1)[b, :tl[b]] for b in range(n)]
    width = 2 * int(tl.max(initial=0)) + 1
    ext = np.full((n, width), blank, np.int64)
    for b in range(n):
        ext[b, 1:2 * tl[b]:2] = seqs[b]
    pos = np.arange(width)
    valid = pos[None, :] <= 2 * tl[:, None]
    skip = (pos[None, :] >= 2) & (ext != _shift(ext, 2, -1))  # alpha's s - 2 -> s
    rows = np.arange(n)[:, None]
    emit = np.where(valid, lp[:, rows, ext], -np.inf)  # (T, n, width): lp of l'_s at t
    frames = np.arange(n_t)[:, None, None]

    alpha = np.full((n_t, n, width), -np.inf)
    alpha[0, :, :2] = emit[0, :, :2]
    for t in range(1, n_t):
        a = alpha[t - 1]
        terms = np.stack([a, _shift(a, 1), np.where(skip, _shift(a, 2), -np.inf)])
        alpha[t] = _logsumexp(terms, 0) + emit[t]
    last = np.maximum(il - 1, 0)
    end = alpha[last, np.arange(n)]  # (n, width) at each sample's last frame
    two = np.stack([end[np.arange(n), 2 * tl],
                    np.where(tl > 0, end[np.arange(n), np.maximum(2 * tl - 1, 0)], -np.inf)])
    nll = -_logsumexp(two, 0)
    nll = np.where(il == 0, np.where(tl == 0, 0.0, np.inf), nll)

    # beta from each sample's last frame il - 1, where only the last two positions start
    beta = np.full((n_t, n, width), -np.inf)
    start = np.where((pos[None, :] >= 2 * tl[:, None] - 1) & valid, 1.0, 0.0)
    skip_back = _shift(skip, -2, False)  # beta's s + 2 -> s
    for t in range(n_t - 1, -1, -1):
        if t < n_t - 1:
            b1 = beta[t + 1]
            terms = np.stack([b1, _shift(b1, -1), np.where(skip_back, _shift(b1, -2), -np.inf)])
            inner = _logsumexp(terms, 0) + emit[t]
        else:
            inner = np.full((n, width), -np.inf)
        first = np.where(start > 0, emit[t], -np.inf)
        beta[t] = np.where((t == il - 1)[:, None], first, np.where((t < il - 1)[:, None], inner,
                                                                     -np.inf))

    ab = alpha + beta
    lab = np.stack([_logsumexp(np.where(ext[None] == k, ab, -np.inf), 2) for k in range(n_c)], 2)
    # torch's kernel sets the last frame's two terms without adding them, so where the
    # last label is the blank only the second one counts
    quirk = (tl > 0) & (ext[np.arange(n), np.maximum(2 * tl - 1, 0)] == blank) & (il > 0)
    for b in np.flatnonzero(quirk):
        lab[il[b] - 1, b, blank] = ab[il[b] - 1, b, 2 * tl[b] - 1]
    with np.errstate(invalid="ignore", over="ignore"):
        grad = np.exp(lp) - np.exp(lab + nll[None, :, None] - lp)
    grad = np.where(frames < il[None, :, None], grad, 0.0)
    if zero_infinity:
        inf = nll == np.inf
        nll = np.where(inf, 0.0, nll)
        grad[:, inf] = 0.0
    if reduction == "mean":
        scale = 1.0 / (np.maximum(tl, 1) * n)
        value = (nll / np.maximum(tl, 1)).mean()
    else:
        scale = np.ones(n)
        value = nll.sum() if reduction == "sum" else (nll if batched else nll[0])
    with np.errstate(invalid="ignore"):
        grad = grad * scale[None, :, None]
    return value, grad if batched else grad[:, 0]
# ----------------------------------------------------------------- classification


def _classes_last(input, target, probabilities):
    """(C,) or (N, C, d1, ...) input as (M, C) rows; the target as (M,) or (M, C)."""
    x = np.asarray(input, np.float64)
    t = np.asarray(target, np.float64 if probabilities else np.int64)
    if x.ndim == 1:
        x, t = x[None], (t[None] if probabilities else t.reshape(1))
    x = np.moveaxis(x, 1, -1)
    out_shape = np.shape(input)[:0] if np.ndim(input) == 1 else x.shape[:-1]
    t = np.moveaxis(t, 1, -1).reshape(-1, x.shape[-1]) if probabilities else t.reshape(-1)
    return x.reshape(-1, x.shape[-1]), t, out_shape


def _from_rows(loss, grad_rows, input, out_shape):
    """Per-row losses and gradient rows back in the input's layout."""
    shape = np.shape(input)
    if len(shape) == 1:
        return loss.reshape(()), grad_rows.reshape(shape)
    moved = (shape[0],) + shape[2:] + (shape[1],)
    return loss.reshape(out_shape), np.moveaxis(grad_rows.reshape(moved), -1, 1)


def _index_target(t, c, weight, ignore_index):
    """One-hot rows of the kept targets, and their weights (0 where ignored)."""
    w = np.ones(c) if weight is None else np.asarray(weight, np.float64)
    kept = t != ignore_index
    tk = np.where(kept, t, 0)
    onehot = np.zeros((t.size, c))
    onehot[np.arange(t.size), tk] = 1.0
    onehot *= kept[:, None]
    return onehot, w[tk] * kept, w, kept


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-w[t] x[t]; 'mean' divides by the sum of w[t] over the targets kept."""
    x, t, out_shape = _classes_last(input, target, False)
    onehot, wt, _, _ = _index_target(t, x.shape[1], weight, ignore_index)
    loss = -wt * (onehot * x).sum(axis=1)
    grad = -wt[:, None] * onehot
    loss, grad = _from_rows(loss, grad, input, out_shape)
    return _reduce(loss, grad, reduction, wt.sum())


def _log_softmax(x):
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """-sum_j u_j log_softmax(x)_j for the target distribution u:
    indices        u = (1 - eps) w[t] onehot(t) + eps / C w   (0 where t is ignored)
    probabilities  u = w ((1 - eps) t + eps / C)
    'mean' divides by the summed w[t] of the kept targets (indices) or by the
    number of rows (probabilities). The gradient is softmax(x) sum_j u_j - u."""
    probabilities = np.shape(target) == np.shape(input)
    x, t, out_shape = _classes_last(input, target, probabilities)
    c, eps = x.shape[1], label_smoothing
    if probabilities:
        w = np.ones(c) if weight is None else np.asarray(weight, np.float64)
        u = w * (t * (1 - eps) + eps / c)
        denominator = x.shape[0]
    else:
        onehot, wt, w, kept = _index_target(t, c, weight, ignore_index)
        u = (1 - eps) * wt[:, None] * onehot + (eps / c) * w * kept[:, None]
        denominator = wt.sum()
    log_p = _log_softmax(x)
    loss = -(u * log_p).sum(axis=1)
    grad = np.exp(log_p) * u.sum(axis=1, keepdims=True) - u
    loss, grad = _from_rows(loss, grad, input, out_shape)
    return _reduce(loss, grad, reduction, denominator)


def linear_cross_entropy(input, linear_weight, target, linear_bias=None, weight=None,
                         ignore_index=None, reduction="mean", label_smoothing=0.0,
                         grad_output=None):
    """cross_entropy of the logits input W^T + b (W: linear_weight as (C d1 ... dK,
    in_features), logits (N, C, d1, ..., dK)), and the chain rule through the
    linear map: d/d input = G W, d/d W = G^T input, d/d b = column sums of G for the
    logits' gradient G (times grad_output, ones when None). Returns the value and
    the gradients (input, linear_weight[, linear_bias])."""
    x = np.asarray(input, np.float64)
    w = np.asarray(linear_weight, np.float64)
    flat_w = w.reshape(-1, x.shape[-1])
    logits = x @ flat_w.T
    if linear_bias is not None:
        logits = logits + np.asarray(linear_bias, np.float64).reshape(-1)
    logits = logits.reshape(x.shape[:-1] + w.shape[:-1])
    value, g = cross_entropy(logits, target, weight, -100 if ignore_index is None else ignore_index,
                             reduction, label_smoothing)
    if grad_output is not None:
        go = np.asarray(grad_output, np.float64)
        g = g * (go.reshape(go.shape[:1] + (1,) + go.shape[1:]) if go.ndim and x.ndim == 2 else go)
    g_rows = np.atleast_2d(g.reshape(x.shape[:-1] + (flat_w.shape[0],)))
    grads = ((g_rows @ flat_w).reshape(x.shape), (g_rows.T @ np.atleast_2d(x)).reshape(w.shape))
    if linear_bias is not None:
        grads += (g_rows.sum(axis=0).reshape(np.shape(linear_bias)),)
    return value, grads


def numeric_gradient(f, x, h=1e-4):
    """d f / d x of a scalar function of a float64 array, by 5-point central
    differences (error O(h^4)): the tests' finite-difference check."""
    grad = np.empty_like(x)
    for i in np.ndindex(x.shape):
        xs = [x.copy() for _ in range(4)]
        for xk, step in zip(xs, (-2, -1, 1, 2)):
            xk[i] += step * h
        fm2, fm1, fp1, fp2 = map(f, xs)
        grad[i] = (fm2 - 8 * fm1 + 8 * fp1 - fp2) / (12 * h)
    return grad
