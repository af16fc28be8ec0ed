"""A NumPy training loop with closs: a two-layer network fitted with SmoothL1Loss.

    python examples/python/train_regression.py
"""

import numpy as np

import closs

rng = np.random.default_rng(0)
X = rng.standard_normal((4096, 16)).astype(np.float32)
y = (np.sin(X[:, :1] * 2) + 0.5 * X[:, 1:2] + 0.05 * rng.standard_normal((4096, 1))).astype(np.float32)

W1 = (rng.standard_normal((16, 64)) * 0.25).astype(np.float32)
W2 = (rng.standard_normal((64, 1)) * 0.1).astype(np.float32)
criterion = closs.nn.SmoothL1Loss(beta=0.5)
grad = np.empty_like(y)  # reused every step: no fresh allocation in the loop

for epoch in range(300):
    h = np.maximum(X @ W1, 0)
    pred = h @ W2
    loss, grad = criterion.value_and_grad(pred, y, out=grad)  # one fused pass
    gW2 = h.T @ grad
    gh = (grad @ W2.T) * (h > 0)
    gW1 = X.T @ gh
    W1 -= 1.0 * gW1
    W2 -= 1.0 * gW2
    if epoch % 50 == 0 or epoch == 299:
        print(f"epoch {epoch:3d}  loss {loss:.4f}")
