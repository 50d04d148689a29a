"""A batch through a linear softmax classifier with mean cross-entropy, in NumPy.

Layout: rows are examples. X: N x D, Y: N x K (rows sum to one), W: K x D, b: K; Z =
X W^T + b."""
import numpy as np


def probabilities(W, b, X):
    Z = X @ W.T + b
    # Subtract each row's maximum: each row's softmax is shift-invariant.
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def forward(W, b, X, Y):
    """L = -(1/N) sum_n sum_k Y_nk log P_nk, log-softmax computed stably row by row."""
    Z = X @ W.T + b
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.sum(Y * log_probs) / X.shape[0]


def backward(W, b, X, Y):
    """(dL/dW, dL/db) = ((1/N) (P - Y)^T X, (1/N) (P - Y)^T 1): shapes K x D and K."""
    error = (probabilities(W, b, X) - Y) / X.shape[0]
    return error.T @ X, error.sum(axis=0)
