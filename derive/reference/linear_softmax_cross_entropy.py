"""A linear layer + softmax + cross-entropy, forward and backward, in NumPy (W is K x
D: z = W x + b)."""
import numpy as np


def forward(W, b, x, y):
    """L = -sum_k y_k log softmax(W x + b)_k, log-softmax with max(z) subtracted
    (stable)."""
    z = W @ x + b
    shifted = z - np.max(z)
    return -np.dot(y, shifted - np.log(np.exp(shifted).sum()))


def backward(W, b, x, y):
    """(dL/dW, dL/db, dL/dx) = ((sigma - y) x^T, sigma - y, W^T (sigma - y)); y sums
    to one."""
    z = W @ x + b
    e = np.exp(z - np.max(z))
    error = e / e.sum() - y
    return np.outer(error, x), error, W.T @ error
