"""线性层 + softmax + 交叉熵，前向与反向计算，用 NumPy 实现
（W 为 K x D，z = W x + b）。"""
import numpy as np


def forward(W, b, x, y):
    """L = -sum_k y_k log softmax(W x + b)_k，log-softmax 先减去 max(z)（数值稳定）。"""
    z = W @ x + b
    shifted = z - np.max(z)
    return -np.dot(y, shifted - np.log(np.exp(shifted).sum()))


def backward(W, b, x, y):
    """(dL/dW, dL/db, dL/dx) = ((sigma - y) x^T, sigma - y, W^T (sigma - y))；
    y 之和为 1。"""
    z = W @ x + b
    e = np.exp(z - np.max(z))
    error = e / e.sum() - y
    return np.outer(error, x), error, W.T @ error
