import numpy as np


def batched_backward(X, W, b, labels):
    N = X.shape[0]
    Z = X @ W.T + b
    Z = Z - Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    dZ = P.copy()
    dZ[np.arange(N), labels] -= 1
    dZ /= N
    dW = dZ.T @ X
    db = dZ.sum(axis=0)
    return dW, db
