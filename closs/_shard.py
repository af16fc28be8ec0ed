"""A loss over a batch split into parts: each part's partial pair, the one combine
rule, the value from the combined pair, and a part's share of the gradient.

closs.dask (parts: the chunks of Dask arrays) and closs.stream (parts: batches from
an iterator) are both this module applied to their parts:

1. ``bind`` reads a call as closs.functional's function would (the same signature);
2. ``partial`` gives a part's pair (S, D) in float64 through the C core's partial
   reduction (LossCall.partial): the sum of its loss terms and its share of the
   denominator of 'mean';
3. ``Combiner`` adds the parts' pairs in one fixed tree (below), so that the result
   depends on the parts alone, never on the order in which they were computed;
4. ``finish`` turns the combined pair into the loss value, as torch's 'mean',
   'sum' or 'batchmean' of the whole batch;
5. ``grad`` gives a part's gradient of the whole batch's loss: its gradient of S
   times scale = 1 / D (the combined denominator; 1 for 'sum').

The combine tree over parts p_0 .. p_{n-1} in their order (chunk-grid order for
Dask, arrival order for a stream) is PAIRWISE(p) = p_0 for one part, else
PAIRWISE(p[:m]) + PAIRWISE(p[m:]) with m the largest power of two below n: full
binary trees over aligned runs of 2^k parts, which a stream builds with a stack of
at most log2(n) + 1 pairs (constant memory) and Dask as a graph of as many tasks.
"""

import inspect

import numpy as np

from closs import _api
from closs import functional as F

# closs.functional's name of each loss -> its preparer (the function's signature,
# returns a LossCall).
PREPARERS = F.PREPARERS


def function(name):
    """closs.functional's function `name`; ValueError for a name that is no loss of it."""
    if name not in PREPARERS:
        raise ValueError(f"unknown loss {name!r}; expected one of {', '.join(PREPARERS)}")
    return getattr(F, name)


def bind(name, args, kwargs):
    """The arguments of closs.functional.<name>(*args, **kwargs) by parameter name,
    defaults filled in, the deprecated size_average/reduce mapped onto `reduction`
    (with torch's DeprecationWarning) and removed."""
    bound = inspect.signature(function(name)).bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    size_average, reduce = arguments.pop("size_average", None), arguments.pop("reduce", None)
    allowed = ("none", "mean", "sum", "batchmean") if name == "kl_div" else ("none", "mean", "sum")
    code = _api.reduction_code(arguments["reduction"], size_average, reduce, allowed=allowed)
    arguments["reduction"] = _api.REDUCTION_NAMES[code]
    return arguments


def prepare(name, arguments, reduction):
    """The LossCall of one part, with `reduction` in place of the call's."""
    return PREPARERS[name](**dict(arguments, reduction=reduction))


def partial(name, arguments, reduction=None):
    """A part's pair [S, D] (float64) for `reduction` (default: the call's)."""
    return prepare(name, arguments, reduction or arguments["reduction"]).partial()


def grad(name, arguments, scale):
    """A part's gradient(s) of scale * S, S of the call's reduction: with scale = 1 / D
    of the whole batch, the part's gradient of its 'mean' ('sum': scale 1). As
    LossCall.grad: one array of the differentiable input's shape, or a tuple."""
    if name == "ctc_loss" and arguments["reduction"] == "mean":
        # S is the sum of loss / max(target length, 1): per-sample grad_output
        call = prepare(name, arguments, "none")
        lengths = np.maximum(call.tl, 1).astype(np.float64)
        return call.grad((np.float64(scale) / lengths).reshape(call.out_shape))
    call = prepare(name, arguments, "sum")
    return call.grad(np.asarray(scale, np.float64))


def finish(reduction, pair, dtype):
    """The loss value of the whole batch from its combined pair, as a NumPy scalar of
    the result dtype (S / D for 'mean' and 'batchmean', S for 'sum')."""
    s, d = float(pair[0]), float(pair[1])
    if reduction == "sum":
        return np.dtype(dtype).type(s)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.dtype(dtype).type(np.float64(s) / np.float64(d))


def add(a, b):
    """One node of the combine tree: the sum of two pairs, in float64."""
    return np.asarray(a, np.float64) + np.asarray(b, np.float64)


class Combiner:
    """The combine tree of the module docstring, fed one pair at a time: a stack of
    (count, pair) for the full subtrees built so far (counts strictly decreasing,
    powers of two), merged as soon as two have the same count."""

    __slots__ = ("stack",)

    def __init__(self):
        self.stack = []

    def push(self, pair):
        count, pair = 1, np.array(pair, np.float64)
        while self.stack and self.stack[-1][0] == count:
            left_count, left = self.stack.pop()
            count, pair = count + left_count, add(left, pair)
        self.stack.append((count, pair))

    def total(self):
        """PAIRWISE of every pair pushed ([0, 0] for none): the subtrees, right to left."""
        if not self.stack:
            return np.zeros(2)
        total = self.stack[-1][1]
        for _, pair in reversed(self.stack[:-1]):
            total = add(pair, total)
        return total

    @property
    def count(self):
        return sum(c for c, _ in self.stack)


def tree(items, node):
    """PAIRWISE over a list of items with node(a, b) as its +: the same tree as
    Combiner's for as many items (a graph builder's version: dask's tasks)."""
    n = len(items)
    if n == 1:
        return items[0]
    m = 1 << ((n - 1).bit_length() - 1)  # the largest power of two below n
    return node(tree(items[:m], node), tree(items[m:], node))
