import numpy as np


def linear_softmax_ce_backward(x, W, b, y):
    z = W @ x + b
    e = np.exp(z - z.max())
    s = e / e.sum()
    dz = s - y
    dW = np.outer(dz, x)
    db = dz
    dx = W.T @ dz
    return dW, db, dx
