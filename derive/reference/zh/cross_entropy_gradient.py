"""softmax 交叉熵损失及其梯度，用 NumPy 实现。"""
import numpy as np


def forward(z, y):
    """L = -sum_k y_k log sigma_k，log sigma 由减去最大值的 log-sum-exp 算出。"""
    shifted = z - np.max(z)
    log_sigma = shifted - np.log(np.exp(shifted).sum())
    return -np.dot(y, log_sigma)


def backward(z, y):
    """dL/dz = sigma - y（目标 y 之和为 1）。"""
    e = np.exp(z - np.max(z))
    return e / e.sum() - y
