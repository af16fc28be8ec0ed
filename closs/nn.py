"""closs.nn - torch.nn's loss Modules with explicit gradients.

    crit = closs.nn.MSELoss()
    loss = crit(input, target)            # forward; remembers its arguments
    g = crit.backward()                   # d loss / d input of the last forward
    loss, g = crit.value_and_grad(input, target)   # one fused pass
    loss, (gx, gy) = crit.value_and_grad(input, target, wrt="all")  # and d loss / d target
    g, h = crit.grad_hess(input, target)  # gradient and Hessian diagonal of the 'sum'

L1Loss, MSELoss and HuberLoss take torch 2.13's element-wise weight as an
optional keyword of forward / value_and_grad (torch's Modules have no way to pass
it; functional.l1_loss & co. take it as torch's do).

Each Module holds its constructor options and composes the functional
preparer of its loss (closs.functional._<name>_call); it adds no numerics.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Generic, Literal, Sequence, TypeVar, Union, overload

import numpy as np

from closs import _api
from closs import functional as F
from closs._errors import DTypeError, ParameterError, ShapeError
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
    "LinearCrossEntropyLoss",
    "LinearCrossEntropyOptions",
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

    # The element-wise losses' lane (closs.functional's _*_lane for this Module's
    # options): forward and value_and_grad on arguments in the kernel's form go
    # straight to C, and the call that backward needs is prepared when it is asked.
    _lane: Callable[..., Any] | None = None

    def forward(self, *args: ArrayLike, **kwargs: Any) -> Value:
        if self._lane is not None:
            v = _api.lane_pointwise(*self._lane(*args, **kwargs), self.reduction)
            if v is not None:
                self._last = _Deferred(self, args, kwargs)
                return v
        call = self._prepare(*args, **kwargs)
        self._last = call
        return call.value()

    __call__ = forward

    @overload
    def backward(self, grad_output: ArrayLike | None = None, out: G | None = None,
                 wrt: None = None) -> G: ...
    @overload  # "all" is a str, a str a sequence of str: the narrower first
    def backward(  # type: ignore[overload-overlap]
            self, grad_output: ArrayLike | None = None, out: Any = None, *,
            wrt: Literal["all"]) -> tuple[Array, ...]: ...
    @overload
    def backward(  # type: ignore[overload-overlap]
            self, grad_output: ArrayLike | None = None, out: Array | None = None, *,
            wrt: str) -> Array: ...
    @overload
    def backward(self, grad_output: ArrayLike | None = None, out: Any = None, *,
                 wrt: Sequence[str]) -> tuple[Array, ...]: ...

    def backward(self, grad_output: ArrayLike | None = None, out: Any = None,
                 wrt: str | Sequence[str] | None = None) -> Any:
        """Gradient of the last forward (vector-Jacobian product with grad_output).

        wrt: which differentiable arguments, by torch's argument names ("input",
        "target", "weight", "var", "input1", "input2", "anchor", "positive",
        "negative", "log_probs", "linear_weight", "linear_bias"): None (the default)
        gives this Module's usual gradient(s); a name, that argument's gradient (an
        array); a sequence of names, theirs (a tuple in that order); "all", every
        differentiable argument's, in argument order (a tuple). Integer and bool
        arguments (labels, class indices) are not differentiable. out: an array (one
        name), else a tuple of arrays, written in place."""
        if self._last is None:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward()")
        return self._last.grad(grad_output, out, wrt)

    @overload
    def value_and_grad(self, *args: ArrayLike, out: G | None = None, wrt: None = None,
                       **kwargs: Any) -> tuple[Value, G]: ...
    @overload
    def value_and_grad(  # type: ignore[overload-overlap]
            self, *args: ArrayLike, out: Any = None, wrt: Literal["all"],
            **kwargs: Any) -> tuple[Value, tuple[Array, ...]]: ...
    @overload
    def value_and_grad(  # type: ignore[overload-overlap]
            self, *args: ArrayLike, out: Array | None = None, wrt: str,
            **kwargs: Any) -> tuple[Value, Array]: ...
    @overload
    def value_and_grad(self, *args: ArrayLike, out: Any = None, wrt: Sequence[str],
                       **kwargs: Any) -> tuple[Value, tuple[Array, ...]]: ...

    def value_and_grad(self, *args: ArrayLike, out: Any = None,
                       wrt: str | Sequence[str] | None = None, **kwargs: Any) -> Any:
        """The loss and its gradient(s) in one fused pass (grad_output = ones); wrt and
        out as backward's."""
        if self._lane is not None and wrt is None:
            r = _api.lane_pointwise(*self._lane(*args, **kwargs), self.reduction, True, out)
            if r is not None:
                self._last = _Deferred(self, args, kwargs)
                return r
        call = self._prepare(*args, **kwargs)
        self._last = call
        return call.value_and_grad(out, wrt)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class _Deferred:
    """The last forward of a Module that took the lane: its call, prepared when a
    gradient is first asked, from the Module's options at forward time."""

    __slots__ = ("module", "args", "kwargs", "call")

    def __init__(self, module: _Loss[Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        snapshot = object.__new__(type(module))
        snapshot.__dict__.update(module.__dict__)
        snapshot._last = None
        self.module, self.args, self.kwargs, self.call = snapshot, args, kwargs, None

    def grad(self, grad_output: Any, out: Any, wrt: Any) -> Any:
        if self.call is None:
            self.call = self.module._prepare(*self.args, **self.kwargs)
        return self.call.grad(grad_output, out, wrt)


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
    _lane = staticmethod(F._l1_lane)
    def _prepare(self, input, target, weight=None):
        return F._l1_call(input, target, reduction=self.reduction, weight=weight)


class MSELoss(_SecondOrder, _Loss[Array]):
    _lane = staticmethod(F._mse_lane)
    def _prepare(self, input, target, weight=None):
        return F._mse_call(input, target, reduction=self.reduction, weight=weight)


class SmoothL1Loss(_SecondOrder, _Loss[Array]):
    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def _prepare(self, input, target):
        return F._smooth_l1_call(input, target, reduction=self.reduction, beta=self.beta)

    def _lane(self, input, target):
        return F._smooth_l1_lane(input, target, self.beta)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, beta={self.beta}"


class HuberLoss(_SecondOrder, _Loss[Array]):
    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        _api.real(delta, "delta")  # torch checks the type here (the value at forward)
        self.delta = delta

    def _prepare(self, input, target, weight=None):
        return F._huber_call(input, target, reduction=self.reduction, delta=self.delta, weight=weight)

    def _lane(self, input, target, weight=None):
        return F._huber_lane(input, target, self.delta, weight)

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

    def _lane(self, input, target):
        return F._bce_lane(input, target, self.weight)


class BCEWithLogitsLoss(_SecondOrder, _WeightedLoss):
    def __init__(self, weight: ArrayLike | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean",
                 pos_weight: ArrayLike | None = None) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.pos_weight = pos_weight

    def _prepare(self, input, target):
        return F._bce_logits_call(input, target, self.weight, reduction=self.reduction,
                                  pos_weight=self.pos_weight)

    def _lane(self, input, target):
        return F._bce_logits_lane(input, target, self.weight, self.pos_weight)


class SoftMarginLoss(_SecondOrder, _Loss[Array]):
    _lane = staticmethod(F._soft_margin_lane)
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

    def _lane(self, input, target):
        return F._hinge_embedding_lane(input, target, self.margin)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, reduction={self.reduction!r}"


class PoissonNLLLoss(_SecondOrder, _Loss[Array]):
    def __init__(self, log_input: bool = True, full: bool = False, size_average: bool | None = None,
                 eps: float = 1e-8, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def _lane(self, input, target):
        return F._poisson_nll_lane(input, target, self.log_input, self.full, self.eps)

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

    @property
    def _lane(self):
        # reduction='mean' warns, on the general path
        return None if self.reduction == "mean" else self._kl_div_lane

    def _kl_div_lane(self, input, target):
        return F._kl_div_lane(input, target, self.log_target)

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


# ----------------------------------------------------------------- linear_cross_entropy


_ACC_DTYPES = ("float16", "bfloat16", "float32", "float64")


@dataclasses.dataclass(frozen=True)
class LinearCrossEntropyOptions:
    """torch.nn.LinearCrossEntropyOptions's fields and checks, for compatibility.

    closs always computes linear_cross_entropy a block of rows at a time, the blocks
    fixed by the number of classes (closs.h: about 2^24 logits a block), so that its
    results do not depend on any chunking: batch_chunk_size and chunking_method are
    checked as torch checks them but change neither the numbers nor closs's
    memory. acc_policy and acc_dtype concern
    float16/bfloat16 inputs, which closs does not take.
    """

    allow_retain_graph: bool = False
    batch_chunk_size: object = None
    chunking_method: object = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self) -> None:
        if self.acc_policy not in ("auto", "accurate", "balanced", "compact"):
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, sep, factor = str(self.chunking_method).partition(":")
            if not sep:
                factor = "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        bcs = self.batch_chunk_size
        if not (bcs is None or (isinstance(bcs, int) and not isinstance(bcs, bool) and bcs > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {bcs!r}")
        if self.acc_dtype is not None and str(self.acc_dtype).replace("torch.", "") not in _ACC_DTYPES:
            raise ValueError(
                "acc_dtype must be one of {None, float16, bfloat16, float32, float64}, "
                f"got {self.acc_dtype!r}")


class _Linear:
    """torch.nn.Linear's parameters as settable ndarrays: weight (out_features,
    in_features) and bias (out_features,) or None, initialised as torch initialises
    them, uniform in +-1/sqrt(in_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool, dtype: np.dtype[Any],
                 rng: np.random.Generator | None = None) -> None:
        rng = np.random.default_rng() if rng is None else rng
        bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0
        self.in_features, self.out_features = in_features, out_features
        self.weight: Array = rng.uniform(-bound, bound, (out_features, in_features)).astype(dtype)
        self.bias: Array | None = (rng.uniform(-bound, bound, out_features).astype(dtype)
                                   if bias else None)

    def __repr__(self) -> str:
        return (f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None})")


def _dtype(dtype: Any) -> np.dtype[Any]:
    """A Module's parameter dtype: None (float32, torch's default), a NumPy dtype or a
    torch dtype (by name)."""
    if dtype is None:
        return np.dtype(np.float32)
    name = str(dtype).replace("torch.", "") if type(dtype).__module__.startswith("torch") else dtype
    result = np.dtype(name)
    if result not in (np.float32, np.float64):
        raise DTypeError(f"dtype must be float32 or float64, got {dtype!r}")
    return result


class LinearCrossEntropyLoss(_Loss[tuple[Array, ...]]):
    """torch.nn.LinearCrossEntropyLoss: cross entropy of self.linear's logits.

    forward(input, target) with input (in_features,) or (N, in_features);
    backward() and value_and_grad() give the tuple (d loss / d input, d loss / d
    linear.weight) and, with bias=True, d loss / d linear.bias, in the shapes of
    those arrays. linear.weight is (num_classes * prod(out_features), in_features)
    as in torch (viewed as (num_classes, *out_features, in_features) for the loss).
    """

    def __init__(self, in_features: int, num_classes: int, *,
                 out_features: Sequence[int] = (), bias: bool = False, device: Any = None,
                 dtype: Any = None, reduction: str = "mean", weight: ArrayLike | None = None,
                 ignore_index: int | None = None, label_smoothing: float = 0.0,
                 options: LinearCrossEntropyOptions | Any = None) -> None:
        if device is not None and str(device) != "cpu":
            raise ValueError(f"closs runs on the CPU, not on device {device!r}")
        if weight is not None and np.shape(weight) != (num_classes,):
            raise ShapeError(
                f"expected weight shape to be {(num_classes,)}, got {tuple(np.shape(weight))}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ParameterError(
                f"expected label_smoothing to be in range [0, 1], got {label_smoothing}")
        super().__init__(reduction=reduction)
        self.weight = weight
        self.num_classes, self.out_features = num_classes, tuple(out_features)
        self.ignore_index, self.label_smoothing, self.options = ignore_index, label_smoothing, options
        self.linear = _Linear(in_features, math.prod(self.out_features, start=num_classes), bias,
                              _dtype(dtype))

    def _prepare(self, input: ArrayLike, target: ArrayLike) -> Any:
        lw, lb = self.linear.weight, self.linear.bias
        shape = (self.num_classes, *self.out_features)
        return F._linear_cross_entropy_call(
            input, lw.reshape(*shape, lw.shape[-1]), target,
            linear_bias=None if lb is None else lb.reshape(shape), weight=self.weight,
            reduction=self.reduction, ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing, options=self.options,
            _param_shapes=(lw.shape,) + (() if lb is None else (lb.shape,)))

    def extra_repr(self) -> str:
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
                f"reduction={self.reduction!r}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, options={self.options}")
