"""closs.nn - torch.nn's loss Modules with explicit gradients.

    crit = closs.nn.MSELoss()
    loss = crit(input, target)            # forward; remembers its arguments
    g = crit.backward()                   # d loss / d input of the last forward
    loss, g = crit.value_and_grad(input, target)   # one fused pass
    g, h = crit.grad_hess(input, target)  # gradient and Hessian diagonal of the 'sum'

L1Loss, MSELoss and HuberLoss take torch 2.13's element-wise weight as an
optional keyword of forward / value_and_grad (torch's Modules have no way to pass
it; functional.l1_loss & co. take it as torch's do).

Each Module holds its constructor options and composes the functional
preparer of its loss (closs.functional._<name>_call); it adds no numerics.
"""

from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar, Union

import numpy as np

from closs import functional as F
from closs._typing import Array, ArrayLike, Scalar, Value

# The gradient a Module returns: one array, or a tuple of arrays in argument order.
G = TypeVar("G")

__all__ = [
    "L1Loss",
    "MSELoss",
    "SmoothL1Loss",
    "HuberLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "SoftMarginLoss",
    "MultiLabelSoftMarginLoss",
    "HingeEmbeddingLoss",
    "PoissonNLLLoss",
    "KLDivLoss",
    "GaussianNLLLoss",
    "MarginRankingLoss",
    "CosineEmbeddingLoss",
    "MultiMarginLoss",
    "MultiLabelMarginLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "CTCLoss",
    "NLLLoss",
    "CrossEntropyLoss",
]


class _Loss(Generic[G]):
    """Base of every loss Module: forward / backward / value_and_grad over a prepared call.
    G: the type of the gradient (an array, or a tuple of arrays in argument order)."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        if size_average is not None or reduce is not None:
            from closs._api import REDUCTION_NAMES, reduction_code

            reduction = REDUCTION_NAMES[
                reduction_code(reduction, size_average, reduce,
                               allowed=("none", "mean", "sum", "batchmean"))
            ]
        self.reduction: str = reduction
        self._last: Any = None

    def _prepare(self, *args: Any) -> Any:
        raise NotImplementedError

    def forward(self, *args: ArrayLike, **kwargs: Any) -> Value:
        call = self._prepare(*args, **kwargs)
        self._last = call
        return call.value()

    __call__ = forward

    def backward(self, grad_output: ArrayLike | None = None, out: G | None = None) -> G:
        """Gradient of the last forward (vector-Jacobian product with grad_output)."""
        if self._last is None:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward()")
        grad: G = self._last.grad(grad_output, out)
        return grad

    def value_and_grad(self, *args: ArrayLike, out: G | None = None,
                       **kwargs: Any) -> tuple[Value, G]:
        """The loss and its gradient in one fused pass (grad_output = ones)."""
        call = self._prepare(*args, **kwargs)
        self._last = call
        result: tuple[Value, G] = call.value_and_grad(out)
        return result

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class _SecondOrder:
    """The second-order methods of the Modules whose loss has a Hessian diagonal in
    closs: the element-wise losses, NLLLoss and CrossEntropyLoss (for gradient
    boosting: closs.gbdt; for Newton steps)."""

    _prepare: Callable[..., Any]

    def grad_hess(self, *args: ArrayLike, out: tuple[Array, Array] | None = None,
                  **kwargs: Any) -> tuple[Array, Array]:
        """(gradient, Hessian diagonal) of the loss with reduction='sum' with respect
        to the input, whatever this Module's reduction: arrays of the input's shape
        and dtype, d sum(L) / dx_i and d2 sum(L) / dx_i^2, weights included, in one
        fused pass (closs_<loss>_grad_hess). Where a loss is not twice
        differentiable the Hessian is that of the branch the gradient takes, and 0
        on a kink itself: L1Loss and HingeEmbeddingLoss 0 everywhere, SmoothL1Loss
        1 / beta where |x - y| < beta, HuberLoss 1 where |x - y| < delta (0 at
        |x - y| == beta or delta, as torch's double backward); KLDivLoss and
        NLLLoss are linear in the input (0); GaussianNLLLoss is differentiated in
        the input with var fixed; CrossEntropyLoss gives k p (1 - p) per class, p the
        softmax and k the position's total target weight (0 where ignored).
        out: a pair of arrays to write the two results into."""
        result: tuple[Array, Array] = self._prepare(*args, **kwargs).grad_hess(out)
        return result

    def value_grad_hess(self, *args: ArrayLike, out: tuple[Array, Array] | None = None,
                        **kwargs: Any) -> tuple[Scalar, Array, Array]:
        """(sum of the loss, gradient, Hessian diagonal): grad_hess with the 'sum'
        value from the same pass."""
        result: tuple[Scalar, Array, Array] = self._prepare(*args, **kwargs).grad_hess(
            out, value=True)
        return result


class L1Loss(_SecondOrder, _Loss[Array]):
    def _prepare(self, input, target, weight=None):
        return F._l1_call(input, target, reduction=self.reduction, weight=weight)


class MSELoss(_SecondOrder, _Loss[Array]):
    def _prepare(self, input, target, weight=None):
        return F._mse_call(input, target, reduction=self.reduction, weight=weight)


class SmoothL1Loss(_SecondOrder, _Loss[Array]):
    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def _prepare(self, input, target):
        return F._smooth_l1_call(input, target, reduction=self.reduction, beta=self.beta)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, beta={self.beta}"


class HuberLoss(_SecondOrder, _Loss[Array]):
    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def _prepare(self, input, target, weight=None):
        return F._huber_call(input, target, reduction=self.reduction, delta=self.delta, weight=weight)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, delta={self.delta}"


class _WeightedLoss(_Loss[Array]):
    """A loss whose constructor takes a weight array first (torch's _WeightedLoss)."""

    def __init__(self, weight: ArrayLike | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.weight = weight


class NLLLoss(_SecondOrder, _WeightedLoss):
    def __init__(self, weight: ArrayLike | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def _prepare(self, input, target):
        return F._nll_call(input, target, self.weight, ignore_index=self.ignore_index,
                           reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, ignore_index={self.ignore_index}"


class CrossEntropyLoss(_SecondOrder, _WeightedLoss):
    def __init__(self, weight: ArrayLike | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def _prepare(self, input, target):
        return F._cross_entropy_call(input, target, self.weight, ignore_index=self.ignore_index,
                                     reduction=self.reduction,
                                     label_smoothing=self.label_smoothing)

    def extra_repr(self) -> str:
        return (f"reduction={self.reduction!r}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}")


class BCELoss(_SecondOrder, _WeightedLoss):
    def _prepare(self, input, target):
        return F._bce_call(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_SecondOrder, _WeightedLoss):
    def __init__(self, weight: ArrayLike | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean",
                 pos_weight: ArrayLike | None = None) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.pos_weight = pos_weight

    def _prepare(self, input, target):
        return F._bce_logits_call(input, target, self.weight, reduction=self.reduction,
                                  pos_weight=self.pos_weight)


class SoftMarginLoss(_SecondOrder, _Loss[Array]):
    def _prepare(self, input, target):
        return F._soft_margin_call(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_SecondOrder, _WeightedLoss):
    def _prepare(self, input, target):
        return F._multilabel_soft_margin_call(input, target, self.weight,
                                              reduction=self.reduction)


class HingeEmbeddingLoss(_SecondOrder, _Loss[Array]):
    def __init__(self, margin: float = 1.0, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def _prepare(self, input, target):
        return F._hinge_embedding_call(input, target, self.margin, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, reduction={self.reduction!r}"


class PoissonNLLLoss(_SecondOrder, _Loss[Array]):
    def __init__(self, log_input: bool = True, full: bool = False, size_average: bool | None = None,
                 eps: float = 1e-8, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def _prepare(self, input, target):
        return F._poisson_nll_call(input, target, self.log_input, self.full, eps=self.eps,
                                   reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"log_input={self.log_input}, full={self.full}, eps={self.eps}, reduction={self.reduction!r}"


class KLDivLoss(_SecondOrder, _Loss[Array]):
    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def _prepare(self, input, target):
        return F._kl_div_call(input, target, reduction=self.reduction,
                              log_target=self.log_target)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, log_target={self.log_target}"


class GaussianNLLLoss(_SecondOrder, _Loss[Union[Array, tuple[Array, Array]]]):
    """Gradients for (input, var), or for input alone when var is a Python float."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def _prepare(self, input, target, var):
        return F._gaussian_nll_call(input, target, var, self.full, self.eps, self.reduction)

    def extra_repr(self) -> str:
        return f"full={self.full}, eps={self.eps}, reduction={self.reduction!r}"


class MarginRankingLoss(_Loss[tuple[Array, Array]]):
    """Gradients: (d loss / d input1, d loss / d input2)."""

    def __init__(self, margin: float = 0.0, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def _prepare(self, input1, input2, target):
        return F._margin_ranking_call(input1, input2, target, self.margin, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, margin={self.margin}"


class CosineEmbeddingLoss(MarginRankingLoss):
    """Gradients: (d loss / d input1, d loss / d input2)."""

    def _prepare(self, input1, input2, target):
        return F._cosine_embedding_call(input1, input2, target, self.margin,
                                        reduction=self.reduction)


class MultiMarginLoss(_Loss[Array]):
    def __init__(self, p: float = 1, margin: float = 1.0, weight: ArrayLike | None = None,
                 size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if p != 1 and p != 2:
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and np.ndim(weight) != 1:
            raise ValueError(
                "MultiMarginLoss: expected weight to be None or 1D tensor, got "
                f"{np.ndim(weight)}D instead"
            )
        self.p, self.margin, self.weight = p, margin, weight

    def _prepare(self, input, target):
        return F._multi_margin_call(input, target, self.p, self.margin, self.weight,
                                    reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, p={self.p}, margin={self.margin}"


class MultiLabelMarginLoss(_Loss[Array]):
    def _prepare(self, input, target):
        return F._multilabel_margin_call(input, target, reduction=self.reduction)


class TripletMarginLoss(_Loss[tuple[Array, Array, Array]]):
    """Gradients: (d loss / d anchor, d loss / d positive, d loss / d negative)."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if F._api.real(margin, "margin") <= 0:
            raise ValueError(
                f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead"
            )
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def _prepare(self, anchor, positive, negative):
        return F._triplet_call(anchor, positive, negative, self.margin, self.p, self.eps,
                               self.swap, reduction=self.reduction)

    def extra_repr(self) -> str:
        return (f"reduction={self.reduction!r}, margin={self.margin}, p={self.p}, "
                f"eps={self.eps}, swap={self.swap}")


class TripletMarginWithDistanceLoss(_Loss[tuple[Array, Array, Array]]):
    """Gradients: (d loss / d anchor, d loss / d positive, d loss / d negative).

    distance_function=None is pairwise_distance, computed natively. A Python
    distance_function(x1, x2) works for the value; gradients then need
    distance_grad(x1, x2, grad) -> (grad_x1, grad_x2), its vector-Jacobian product
    (a closs addition: NumPy has no autograd).
    """

    def __init__(
        self, *, distance_function: Callable[[Array, Array], ArrayLike] | None = None,
        margin: float = 1.0, swap: bool = False, reduction: str = "mean",
        distance_grad: Callable[[Array, Array, Array], tuple[ArrayLike, ArrayLike]] | None = None,
    ) -> None:
        super().__init__(reduction=reduction)
        if F._api.real(margin, "margin") <= 0:
            raise ValueError(
                "TripletMarginWithDistanceLoss: expected margin to be greater than 0, got "
                f"{margin} instead"
            )
        self.distance_function, self.distance_grad = distance_function, distance_grad
        self.margin, self.swap = margin, swap

    def _prepare(self, anchor, positive, negative):
        return F._triplet_with_distance_call(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction,
            distance_grad=self.distance_grad,
        )

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, margin={self.margin}, swap={self.swap}"


class CTCLoss(_Loss[Array]):
    """forward(log_probs, targets, input_lengths, target_lengths). The gradient is
    torch's, with respect to log_probs' logits (see closs.functional.ctc_loss)."""

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def _prepare(self, log_probs, targets, input_lengths, target_lengths):
        return F._ctc_call(log_probs, targets, input_lengths, target_lengths, self.blank,
                           self.reduction, self.zero_infinity)

    def extra_repr(self) -> str:
        return f"blank={self.blank}, reduction={self.reduction!r}, zero_infinity={self.zero_infinity}"
