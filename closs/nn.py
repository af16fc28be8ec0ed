"""closs.nn - torch.nn's loss Modules with explicit gradients.

    crit = closs.nn.MSELoss()
    loss = crit(input, target)            # forward; remembers its arguments
    g = crit.backward()                   # d loss / d input of the last forward
    loss, g = crit.value_and_grad(input, target)   # one fused pass

L1Loss, MSELoss and HuberLoss take torch 2.13's element-wise weight as an
optional keyword of forward / value_and_grad (torch's Modules have no way to pass
it; functional.l1_loss & co. take it as torch's do).

Each Module holds its constructor options and composes the functional
preparer of its loss (closs.functional._<name>_call); it adds no numerics.
"""

from closs import functional as F

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
    "NLLLoss",
    "CrossEntropyLoss",
]


class _Loss:
    """Base of every loss Module: forward / backward / value_and_grad over a prepared call."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        if size_average is not None or reduce is not None:
            from closs._api import reduction_code

            reduction = {0: "none", 1: "mean", 2: "sum"}[
                reduction_code(reduction, size_average, reduce,
                               allowed=("none", "mean", "sum", "batchmean"))
            ]
        self.reduction = reduction
        self._last = None

    def _prepare(self, *args):
        raise NotImplementedError

    def forward(self, *args, **kwargs):
        call = self._prepare(*args, **kwargs)
        self._last = call
        return call.value()

    __call__ = forward

    def backward(self, grad_output=None, out=None):
        """Gradient of the last forward (vector-Jacobian product with grad_output)."""
        if self._last is None:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward()")
        return self._last.grad(grad_output, out)

    def value_and_grad(self, *args, out=None, **kwargs):
        """The loss and its gradient in one fused pass (grad_output = ones)."""
        call = self._prepare(*args, **kwargs)
        self._last = call
        return call.value_and_grad(out)

    def extra_repr(self):
        return f"reduction={self.reduction!r}"

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"


class L1Loss(_Loss):
    def _prepare(self, input, target, weight=None):
        return F._l1_call(input, target, reduction=self.reduction, weight=weight)


class MSELoss(_Loss):
    def _prepare(self, input, target, weight=None):
        return F._mse_call(input, target, reduction=self.reduction, weight=weight)


class SmoothL1Loss(_Loss):
    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def _prepare(self, input, target):
        return F._smooth_l1_call(input, target, reduction=self.reduction, beta=self.beta)

    def extra_repr(self):
        return f"reduction={self.reduction!r}, beta={self.beta}"


class HuberLoss(_Loss):
    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def _prepare(self, input, target, weight=None):
        return F._huber_call(input, target, reduction=self.reduction, delta=self.delta, weight=weight)

    def extra_repr(self):
        return f"reduction={self.reduction!r}, delta={self.delta}"


class NLLLoss(_Loss):
    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.weight = weight
        self.ignore_index = ignore_index

    def _prepare(self, input, target):
        return F._nll_call(input, target, self.weight, ignore_index=self.ignore_index,
                           reduction=self.reduction)

    def extra_repr(self):
        return f"reduction={self.reduction!r}, ignore_index={self.ignore_index}"


class CrossEntropyLoss(_Loss):
    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(size_average, reduce, reduction)
        self.weight = weight
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def _prepare(self, input, target):
        return F._cross_entropy_call(input, target, self.weight, ignore_index=self.ignore_index,
                                     reduction=self.reduction,
                                     label_smoothing=self.label_smoothing)

    def extra_repr(self):
        return (f"reduction={self.reduction!r}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}")


class _WeightedLoss(_Loss):
    """A loss whose constructor takes a weight array first (torch's _WeightedLoss)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.weight = weight


class BCELoss(_WeightedLoss):
    def _prepare(self, input, target):
        return F._bce_call(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(weight, size_average, reduce, reduction)
        self.pos_weight = pos_weight

    def _prepare(self, input, target):
        return F._bce_logits_call(input, target, self.weight, reduction=self.reduction,
                                  pos_weight=self.pos_weight)


class SoftMarginLoss(_Loss):
    def _prepare(self, input, target):
        return F._soft_margin_call(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    def _prepare(self, input, target):
        return F._multilabel_soft_margin_call(input, target, self.weight,
                                              reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def _prepare(self, input, target):
        return F._hinge_embedding_call(input, target, self.margin, reduction=self.reduction)

    def extra_repr(self):
        return f"margin={self.margin}, reduction={self.reduction!r}"


class PoissonNLLLoss(_Loss):
    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def _prepare(self, input, target):
        return F._poisson_nll_call(input, target, self.log_input, self.full, eps=self.eps,
                                   reduction=self.reduction)

    def extra_repr(self):
        return f"log_input={self.log_input}, full={self.full}, eps={self.eps}, reduction={self.reduction!r}"


class KLDivLoss(_Loss):
    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def _prepare(self, input, target):
        return F._kl_div_call(input, target, reduction=self.reduction,
                              log_target=self.log_target)

    def extra_repr(self):
        return f"reduction={self.reduction!r}, log_target={self.log_target}"


class GaussianNLLLoss(_Loss):
    """Gradients for (input, var), or for input alone when var is a Python float."""

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def _prepare(self, input, target, var):
        return F._gaussian_nll_call(input, target, var, self.full, self.eps, self.reduction)

    def extra_repr(self):
        return f"full={self.full}, eps={self.eps}, reduction={self.reduction!r}"
