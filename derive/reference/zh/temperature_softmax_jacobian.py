"""温度为 T 的 softmax 及其反向传播（向量–雅可比积），用 NumPy 实现。"""
import numpy as np


def forward(z, T):
    """sigma = softmax(z / T)；softmax 有平移不变性，而 exp 会溢出，所以先减去最大值。"""
    scaled = np.asarray(z) / T
    e = np.exp(scaled - np.max(scaled))
    return e / e.sum()


def jacobian(z, T):
    """(1/T)(diag(sigma) - sigma sigma^T)。"""
    s = forward(z, T)
    return (np.diag(s) - np.outer(s, s)) / T


def backward(z, T, g):
    """由 g = dL/dsigma 求 dL/dz，不构造雅可比矩阵：(1/T) sigma * (g - <g, sigma>)。"""
    s = forward(z, T)
    return s * (g - np.dot(g, s)) / T
