"""closs.stream - a loss over a stream of batches, exact at the end, in constant memory.

    acc = closs.stream.Loss("cross_entropy", weight=class_weights, ignore_index=-1)
    for logits, labels in batches:          # any iterator: a data loader, memmap slices
        acc.update(logits, labels)
    acc.value()                             # torch's 'mean' over every batch at once

``update`` takes the arguments of closs.functional.<name> that vary per batch (the
positional ones, or any by keyword); the options given to the constructor are
fixed for the stream. Each batch adds its partial pair (the C core's partial
reduction: the sum of its loss terms and its share of the 'mean' denominator: the
element count, the summed class weights of the kept targets, the rows, the batch
size for 'batchmean'), so the value is exact whatever the batch sizes, weights or
ignored targets. Pairs combine in float64 in the fixed tree of closs._shard (as
closs.dask combines chunks): the result depends on the batches and their order
alone, and the same batches as Dask chunks give the same bits.

Batches split the batch axis (axis 0; axis 1 of ctc_loss's (T, N, C) log_probs).
Arguments that are not split (linear_cross_entropy's linear_weight and
linear_bias, class weights) are the same for every batch: give them to the
constructor (or by keyword to every update).

Gradients of the whole stream's mean need its denominator before any batch's
gradient: ``grad(*args)`` gives a batch's share once the stream is complete (a
second pass over the batches: its 'sum' gradient over the stream's denominator).
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np
from numpy.typing import NDArray

from closs import _shard
from closs._typing import Array, Scalar

__all__ = ["Loss", "Mean"]


class Loss:
    """The loss `name` of closs.functional over a stream of batches.

    reduction: 'mean' (default), 'sum', or 'batchmean' (kl_div); options: the
    function's keyword arguments that are the same for every batch.
    """

    def __init__(self, name: str, *, reduction: str = "mean", **options: Any) -> None:
        _shard.function(name)  # the name is a loss
        if reduction == "none":
            raise ValueError("a stream reduces: reduction is 'mean', 'sum' or 'batchmean'")
        self.name, self.reduction, self.options = name, reduction, options
        self._combiner = _shard.Combiner()
        self._dtype = None

    def _arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        arguments = _shard.bind(self.name, args, {**self.options, **kwargs,
                                                  "reduction": self.reduction})
        if arguments["reduction"] == "none":
            raise ValueError("a stream reduces: reduction is 'mean', 'sum' or 'batchmean'")
        return arguments

    def update(self, *args: Any, **kwargs: Any) -> Loss:
        """Adds one batch: the loss's per-batch arguments (as closs.functional takes them)."""
        arguments = self._arguments(args, kwargs)
        call = _shard.prepare(self.name, arguments, arguments["reduction"])
        if self._dtype is None:
            self._dtype = call.dtype
        self._combiner.push(call.partial())
        return self

    @property
    def batches(self) -> int:
        """How many batches were added."""
        return self._combiner.count

    def pair(self) -> NDArray[np.float64]:
        """The combined pair [S, D] (float64) of every batch so far."""
        return self._combiner.total()

    def value(self) -> Scalar:
        """The loss of every batch so far, as one call on their concatenation would give
        it (within float64 rounding of the combine): a NumPy scalar of the result dtype
        (NaN for 'mean' over no element, as torch)."""
        return _shard.finish(self.reduction, self.pair(), self._dtype or np.float32)

    def grad(self, *args: Any, **kwargs: Any) -> Union[Array, tuple[Array, ...]]:
        """One batch's gradient of the whole stream's loss (its 'sum' gradient times
        1 / D of every batch added): call after the stream is complete, on each batch
        again. Returns what closs.nn's backward returns for the loss. For an
        argument that every batch shares (linear_cross_entropy's linear_weight and
        linear_bias), this is the batch's share: the whole stream's gradient is the
        sum of the batches' shares."""
        arguments = self._arguments(args, kwargs)
        pair = self.pair()
        scale = 1.0 if self.reduction == "sum" else 1.0 / pair[1]
        return _shard.grad(self.name, arguments, scale)

    def reset(self) -> None:
        """Forgets every batch."""
        self._combiner = _shard.Combiner()
        self._dtype = None

    def __repr__(self) -> str:
        return (f"closs.stream.Loss({self.name!r}, reduction={self.reduction!r}, "
                f"batches={self.batches})")


def Mean(name: str, **options: Any) -> Loss:  # noqa: N802 - a class-like factory
    """Loss(name, reduction='mean', **options): the stream's mean."""
    return Loss(name, reduction="mean", **options)
