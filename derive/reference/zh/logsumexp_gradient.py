"""log-sum-exp 及其梯度（即 softmax），以数值稳定的方式计算，用 NumPy 实现。"""
import numpy as np


def forward(z):
    """log sum_k e^{z_k} = M + log sum_k e^{z_k - M}，M = max z：
    每一项都不超过 e^0 = 1，不会溢出。"""
    z = np.asarray(z, dtype=float)
    top = np.max(z)
    return top + np.log(np.exp(z - top).sum())


def naive_forward(z):
    """教科书上的公式：一旦某个 z_k 超过约 709（float64），就会溢出为 inf。"""
    return np.log(np.exp(np.asarray(z, dtype=float)).sum())


def backward(z, upstream=1.0):
    """d/dz log sum_k e^{z_k} = softmax(z)，再乘以标量输出的上游梯度。"""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z))
    return upstream * e / e.sum()
