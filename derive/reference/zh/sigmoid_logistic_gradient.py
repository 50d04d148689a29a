"""二元逻辑回归的输出：sigmoid 与二元交叉熵，前向与反向计算，用 NumPy 实现。"""
import numpy as np


def sigmoid(u):
    """1 / (1 + e^{-u})，|u| 很大时也不溢出（只在 u >= 0 时计算 e^{-u}）。"""
    u = np.asarray(u, dtype=float)
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, 1 / (1 + e), e / (1 + e))


def forward(u, y):
    """-y log s - (1 - y) log(1 - s)，借助 log s = -log(1 + e^{-u}) 计算
    （logaddexp，数值稳定）。"""
    return y * np.logaddexp(0, -u) + (1 - y) * np.logaddexp(0, u)


def backward(u, y):
    """dL/du = sigmoid(u) - y。"""
    return sigmoid(u) - y
