"""closs losses as custom objectives and eval metrics of XGBoost and LightGBM.

    import closs.nn, closs.gbdt, xgboost as xgb
    loss = closs.nn.HuberLoss(delta=2.0)
    bst = xgb.train(params, dtrain, num_boost_round=100,
                    obj=closs.gbdt.xgboost_objective(loss),
                    custom_metric=closs.gbdt.xgboost_metric(loss))
    booster = lgb.train({"objective": closs.gbdt.lightgbm_objective(loss),
                         "metric": "None"}, train_set,
                        feval=closs.gbdt.lightgbm_metric(loss))

An objective returns the gradient and the Hessian diagonal of the weighted sum of
the loss terms, sum_i w_i L(prediction_i, label_i), with respect to the raw
predictions (margins): the Module's ``grad_hess`` (one fused C pass), each
sample's pair times its weight from the dataset. Any Module with ``grad_hess``
works: the element-wise losses (the prediction is the loss's input, the label its
target: ``BCEWithLogitsLoss`` for binary logistic, ``PoissonNLLLoss()`` for
Poisson regression with a log link) and ``CrossEntropyLoss`` / ``NLLLoss`` for
multi-class, whose (n_samples, n_classes) margins are the libraries' layout for a
custom multi-class objective (labels are class indices, stored as floats). The
Module's reduction does not matter; its options (delta, pos_weight, class weights,
label_smoothing ...) do.

Every callable here takes either form its library calls: ``(predictions,
dataset)`` from ``xgb.train`` / ``lgb.train`` (labels and weights from the
DMatrix or Dataset), or the scikit-learn wrappers' ``(y_true, y_pred,
sample_weight=None)`` (``XGBRegressor(objective=...)``,
``LGBMClassifier(objective=...)``, ``eval_metric=...``). closs imports neither
library: ``pip install closs[gbdt]`` installs both.

Convention: where a loss has a kink the Hessian is that of the branch the
gradient takes, 0 on the kink (see ``Module.grad_hess``); a loss whose Hessian
is 0 (L1Loss) gives trees whose leaves XGBoost and LightGBM cannot weigh (their
leaf value is -sum(g) / (sum(h) + lambda)). The Hessians are exact: the
libraries' built-in multi-class objectives scale theirs (XGBoost's softprob
takes 2 p (1 - p), LightGBM's multiclass K / (K - 1) p (1 - p)), so a
CrossEntropyLoss booster is not the built-in one, only close to it.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Optional

import numpy as np

from closs import nn

__all__ = ["xgboost_objective", "lightgbm_objective", "xgboost_metric", "lightgbm_metric"]

_CLASS_INDEX_LOSSES = (nn.CrossEntropyLoss, nn.NLLLoss)


def _check(loss: Any) -> None:
    if not hasattr(loss, "grad_hess"):
        raise TypeError(f"{type(loss).__name__} has no grad_hess: closs.gbdt takes the "
                        "element-wise losses, CrossEntropyLoss and NLLLoss")


def _split(a: Any, b: Any, sample_weight: Any) -> tuple[Any, Any, Any]:
    """(predictions, labels, weights or None) from either calling form."""
    if hasattr(b, "get_label"):  # xgb.train / lgb.train: (predictions, DMatrix or Dataset)
        w = b.get_weight()
        return a, b.get_label(), None if w is None or np.size(w) == 0 else w
    return b, a, sample_weight  # scikit-learn wrappers: (y_true, y_pred, sample_weight)


def _target(loss: Any, pred: np.ndarray, label_like: Any) -> np.ndarray:
    label: np.ndarray = np.asarray(label_like)
    if isinstance(loss, _CLASS_INDEX_LOSSES):
        if pred.ndim != 2:
            raise ValueError(f"{type(loss).__name__} needs (n_samples, n_classes) predictions "
                             f"(num_class / num_classes > 1), got shape {pred.shape}")
        return label.astype(np.int64).reshape(-1)
    return label.reshape(pred.shape)


def _weigh(a: np.ndarray, weight: Optional[np.ndarray]) -> np.ndarray:
    if weight is None:
        return a
    w = np.asarray(weight, a.dtype)
    a *= w.reshape((-1,) + (1,) * (a.ndim - 1))
    return a


class _Objective:
    """The objective of a closs Module (see the module's docstring)."""

    def __init__(self, loss: Any) -> None:
        _check(loss)
        self.loss = loss

    def __call__(self, a: Any, b: Any, sample_weight: Any = None) -> tuple[np.ndarray, np.ndarray]:
        pred, label, weight = _split(a, b, sample_weight)
        pred = np.asarray(pred)
        g, h = self.loss.grad_hess(pred, _target(self.loss, pred, label))
        return _weigh(g, weight), _weigh(h, weight)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.loss!r})"


class _Metric:
    """The weighted mean of a Module's loss terms (per sample: a row's loss for
    the multi-class losses), sum_i w_i L_i / sum_i w_i; lower is better."""

    def __init__(self, loss: Any, name: Optional[str], lightgbm: bool) -> None:
        _check(loss)
        self.loss = copy.copy(loss)
        self.loss.reduction = "none"
        self.name = self.__name__ = name or f"closs-{type(loss).__name__}"  # XGBoost's key
        self.lightgbm = lightgbm

    def value(self, pred: Any, label: Any, weight: Any) -> float:
        pred = np.asarray(pred)
        terms = np.asarray(self.loss(pred, _target(self.loss, pred, label)), np.float64)
        terms = terms.reshape(terms.shape[0], -1).sum(axis=1) if terms.ndim > 1 else terms
        if weight is None:
            return float(terms.mean())
        w = np.asarray(weight, np.float64)
        return float((w * terms).sum() / w.sum())

    def __call__(self, a: Any, b: Any, sample_weight: Any = None) -> Any:
        train_form = hasattr(b, "get_label")
        pred, label, weight = _split(a, b, sample_weight)
        v = self.value(pred, label, weight)
        if self.lightgbm:
            return self.name, v, False
        return (self.name, v) if train_form else v

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.loss!r}, name={self.name!r})"


def xgboost_objective(loss: Any) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """The custom objective of a closs Module for XGBoost: ``xgb.train(obj=...)``
    (``(predt, dtrain)``: labels and weights from the DMatrix) or the scikit-learn
    wrappers' ``objective=`` (``(y_true, y_pred, sample_weight=None)``). Returns
    (grad, hess) of the predictions' shape: those of sum_i w_i L_i."""
    return _Objective(loss)


def lightgbm_objective(loss: Any) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """The custom objective of a closs Module for LightGBM 4:
    ``lgb.train(params={"objective": ...})`` (``(preds, train_data)``) or the
    scikit-learn wrappers' ``objective=`` (``(y_true, y_pred, weight)``). Returns
    (grad, hess) of the predictions' shape ((n_samples, n_classes) for multi-class)."""
    return _Objective(loss)


def xgboost_metric(loss: Any, name: Optional[str] = None) -> Callable[..., Any]:
    """An XGBoost eval metric, the weighted mean loss: ``xgb.train(custom_metric=...)``
    gets (name, value); the scikit-learn wrappers' ``eval_metric=`` gets the value.
    Pass ``disable_default_eval_metric=1`` in params to see this one alone."""
    return _Metric(loss, name, lightgbm=False)


def lightgbm_metric(loss: Any, name: Optional[str] = None) -> Callable[..., Any]:
    """A LightGBM eval metric, the weighted mean loss: ``lgb.train(feval=...)`` and
    the scikit-learn wrappers' ``eval_metric=`` get (name, value, False)."""
    return _Metric(loss, name, lightgbm=True)
