"""closs.gbdt: real XGBoost and LightGBM boosters trained with the closs adapter and
with a hand-written NumPy objective of the same derivatives give the same model
(predictions), for squared error, binary logistic, multi-class softmax, Huber and
Poisson; sample weights from the dataset; the scikit-learn wrappers' calling form;
the eval metrics. Skipped where a library is not installed (pip install closs[gbdt])."""

import numpy as np
import pytest

import closs.gbdt as G
from closs import nn

try:
    import xgboost as xgb
except ImportError:
    xgb = None
try:
    import lightgbm as lgb
except ImportError:
    lgb = None

try:
    import sklearn  # noqa: F401  (the libraries' scikit-learn wrappers need it)
except ImportError:
    sklearn = None

needs_xgb = pytest.mark.skipif(xgb is None, reason="xgboost is not installed")
needs_sklearn = pytest.mark.skipif(sklearn is None, reason="scikit-learn is not installed")
needs_lgb = pytest.mark.skipif(lgb is None, reason="lightgbm is not installed")

RNG = np.random.default_rng(7)
N, D, K = 400, 5, 3
X = RNG.standard_normal((N, D))
SIGNAL = X[:, 0] - 0.5 * X[:, 1] + 0.3 * X[:, 2] * X[:, 3]
WEIGHT = RNG.uniform(0.2, 2.0, N)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# The derivatives a user writes by hand, in float64: (grad, hess) of L(pred, label).
def np_mse(p, y):
    return 2 * (p - y), np.full_like(p, 2.0)


def np_logistic(p, y):
    s = sigmoid(p)
    return s - y, s * (1 - s)


def np_softmax(p, y):
    P = softmax(p)
    onehot = np.eye(p.shape[1])[y.astype(int)]
    return P - onehot, P * (1 - P)


def np_huber(p, y, delta=1.0):
    d = p - y
    return np.clip(d, -delta, delta), (np.abs(d) < delta).astype(np.float64)


def np_poisson(p, y):
    e = np.exp(p)
    return e - y, e


# (id, closs Module, NumPy derivatives, labels, number of classes)
CASES = [
    ("mse", nn.MSELoss(), np_mse, SIGNAL + 0.1 * RNG.standard_normal(N), 1),
    ("logistic", nn.BCEWithLogitsLoss(), np_logistic,
     (SIGNAL + 0.5 * RNG.standard_normal(N) > 0).astype(np.float64), 1),
    ("softmax", nn.CrossEntropyLoss(), np_softmax,
     np.digitize(SIGNAL + 0.3 * RNG.standard_normal(N), [-0.5, 0.5]).astype(np.float64), K),
    ("huber", nn.HuberLoss(delta=1.0), np_huber,
     SIGNAL + np.where(RNG.random(N) < 0.1, 8.0, 0.1) * RNG.standard_normal(N), 1),
    ("poisson", nn.PoissonNLLLoss(), np_poisson,
     RNG.poisson(np.exp(0.5 * SIGNAL)).astype(np.float64), 1),
]
PARAMS = [pytest.param(*c, id=c[0]) for c in CASES]


def numpy_objective(fn, weighted):
    """The hand-written xgb.train / lgb.train objective: (preds, dataset) -> (grad, hess)."""
    def objective(preds, data):
        p = np.asarray(preds, np.float64)
        g, h = fn(p, np.asarray(data.get_label(), np.float64))
        if weighted:
            w = np.asarray(data.get_weight(), np.float64).reshape((-1,) + (1,) * (p.ndim - 1))
            g, h = g * w, h * w
        return g, h
    return objective


def assert_same_model(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)  # float32 rounding of the gradients


def train_xgb(obj, y, k, weight):
    params = {"tree_method": "hist", "max_depth": 3, "eta": 0.3, "nthread": 1,
              "base_score": 0.0, "disable_default_eval_metric": 1}
    if k > 1:
        params["num_class"] = k
    d = xgb.DMatrix(X, label=y, weight=weight)
    bst = xgb.train(params, d, num_boost_round=8, obj=obj)
    return bst.predict(xgb.DMatrix(X), output_margin=True)


def train_lgb(obj, y, k, weight):
    params = {"objective": obj, "num_leaves": 7, "learning_rate": 0.3, "num_threads": 1,
              "min_data_in_leaf": 5, "verbose": -1, "deterministic": True, "metric": "None"}
    if k > 1:
        params["num_class"] = k
    booster = lgb.train(params, lgb.Dataset(X, label=y, weight=weight), num_boost_round=8)
    return booster.predict(X, raw_score=True)


# (library, its trainer, closs's adapter): the same booster from both objectives
LIBRARIES = [
    pytest.param(train_xgb, G.xgboost_objective, id="xgboost", marks=needs_xgb),
    pytest.param(train_lgb, G.lightgbm_objective, id="lightgbm", marks=needs_lgb),
]


@pytest.mark.parametrize("train, adapter", LIBRARIES)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name, loss, fn, y, k", PARAMS)
def test_same_booster(name, loss, fn, y, k, weighted, train, adapter):
    w = WEIGHT if weighted else None
    ours = train(adapter(loss), y, k, w)
    theirs = train(numpy_objective(fn, weighted), y, k, w)
    assert ours.shape == ((N, k) if k > 1 else (N,))
    assert np.ptp(ours) > 0.1  # the trees learnt something
    assert_same_model(ours, theirs)


def test_objective_values():
    """The adapter's derivatives themselves: the NumPy ones times the weights, of the
    predictions' dtype and shape, in both calling forms."""
    p = RNG.standard_normal((N, K)).astype(np.float32)
    y = RNG.integers(0, K, N).astype(np.float32)

    class Data:  # what xgb.DMatrix and lgb.Dataset give an objective
        def get_label(self):
            return y

        def get_weight(self):
            return WEIGHT

    g, h = G.xgboost_objective(nn.CrossEntropyLoss())(p, Data())
    rg, rh = np_softmax(p.astype(np.float64), y)
    assert g.dtype == np.float32 and g.shape == p.shape
    np.testing.assert_allclose(g, rg * WEIGHT[:, None], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, rh * WEIGHT[:, None], rtol=1e-5, atol=1e-6)
    g2, h2 = G.lightgbm_objective(nn.CrossEntropyLoss())(y, p, WEIGHT)  # scikit-learn form
    np.testing.assert_array_equal(g, g2)
    np.testing.assert_array_equal(h, h2)


def test_bad_loss():
    with pytest.raises(TypeError, match="no grad_hess"):
        G.xgboost_objective(nn.MarginRankingLoss())
    with pytest.raises(ValueError, match="n_samples, n_classes"):
        G.xgboost_objective(nn.CrossEntropyLoss())(np.zeros(3), np.zeros(3))


def test_metrics():
    p, y = RNG.standard_normal(N), RNG.standard_normal(N)
    ref = np.where(np.abs(p - y) < 1, 0.5 * (p - y) ** 2, np.abs(p - y) - 0.5)
    m = G.xgboost_metric(nn.HuberLoss())
    assert np.isclose(m(y, p), ref.mean(), rtol=1e-12)
    assert np.isclose(m(y, p, sample_weight=WEIGHT), (WEIGHT * ref).sum() / WEIGHT.sum())
    name, v, higher = G.lightgbm_metric(nn.HuberLoss(), name="huber")(y, p, WEIGHT)
    assert name == "huber" and higher is False and np.isclose(v, (WEIGHT * ref).sum() / WEIGHT.sum())
    z = RNG.standard_normal((N, K))
    t = RNG.integers(0, K, N)
    ce = -np.log(softmax(z)[np.arange(N), t])
    assert np.isclose(G.xgboost_metric(nn.CrossEntropyLoss())(t.astype(float), z), ce.mean())


@needs_xgb
@needs_sklearn
def test_xgboost_sklearn_and_metric():
    y = CASES[3][3]
    loss = nn.HuberLoss(delta=1.0)
    model = xgb.XGBRegressor(objective=G.xgboost_objective(loss), n_estimators=5, max_depth=3,
                             n_jobs=1, base_score=0.0, eval_metric=G.xgboost_metric(loss))
    model.fit(X, y, sample_weight=WEIGHT, eval_set=[(X, y)], sample_weight_eval_set=[WEIGHT],
              verbose=False)

    def hand(y_true, y_pred, sample_weight=None):
        g, h = np_huber(y_pred, y_true)
        return g * sample_weight, h * sample_weight

    ref = xgb.XGBRegressor(objective=hand, n_estimators=5, max_depth=3, n_jobs=1, base_score=0.0)
    ref.fit(X, y, sample_weight=WEIGHT)
    assert_same_model(model.predict(X, output_margin=True), ref.predict(X, output_margin=True))
    history = model.evals_result()["validation_0"]["closs-HuberLoss"]
    pred = model.predict(X, output_margin=True)
    d = pred - y
    expect = np.where(np.abs(d) < 1, 0.5 * d * d, np.abs(d) - 0.5)
    assert np.isclose(history[-1], (WEIGHT * expect).sum() / WEIGHT.sum(), rtol=1e-5)


@needs_lgb
@needs_sklearn
def test_lightgbm_sklearn_and_metric():
    y = CASES[2][3]
    loss = nn.CrossEntropyLoss()
    kw = dict(n_estimators=5, num_leaves=7, n_jobs=1, verbose=-1, deterministic=True,
              min_child_samples=5)
    model = lgb.LGBMClassifier(objective=G.lightgbm_objective(loss), **kw)
    import inspect

    labels = y.astype(int)
    evals = (dict(eval_X=(X,), eval_y=(labels,))  # LightGBM 4.7's names
             if "eval_X" in inspect.signature(model.fit).parameters
             else dict(eval_set=[(X, labels)]))
    model.fit(X, labels, sample_weight=WEIGHT, eval_metric=G.lightgbm_metric(loss, name="ce"),
              **evals)

    def hand(y_true, y_pred, weight):
        g, h = np_softmax(y_pred, y_true)
        return g * weight[:, None], h * weight[:, None]

    ref = lgb.LGBMClassifier(objective=hand, **kw)
    ref.fit(X, y.astype(int), sample_weight=WEIGHT)
    assert_same_model(model.predict(X, raw_score=True), ref.predict(X, raw_score=True))
    (history,) = model.evals_result_.values()
    ce = history["ce"][-1]
    raw = model.predict(X, raw_score=True)
    assert np.isclose(ce, -np.log(softmax(raw)[np.arange(N), y.astype(int)]).mean(), rtol=1e-6)


@needs_xgb
def test_example_runs(capsys):
    """examples/python/xgboost_huber.py: the Huber booster beats squared error on the
    clean signal."""
    import pathlib
    import runpy

    path = pathlib.Path(__file__).parent.parent / "examples" / "python" / "xgboost_huber.py"
    if not path.exists():
        pytest.skip("run from a source checkout")
    runpy.run_path(str(path), run_name="__main__")
    lines = [ln for ln in capsys.readouterr().out.splitlines() if "test MAE" in ln]
    huber, squared = (float(ln.rsplit(" ", 1)[1]) for ln in lines)
    assert huber < 0.5 * squared
