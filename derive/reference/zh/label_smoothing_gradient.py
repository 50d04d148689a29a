"""带标签平滑的 softmax 交叉熵，前向与反向计算，用 NumPy 实现。"""
import numpy as np


def forward(z, y, epsilon):
    """L = -sum_k q_k log sigma_k，q = (1 - epsilon) y + epsilon / K；
    稳定地计算 log-softmax。"""
    z = np.asarray(z, dtype=float)
    shifted = z - np.max(z)  # log-softmax 有平移不变性；直接算 exp(z) 会溢出
    log_probs = shifted - np.log(np.exp(shifted).sum())
    q = (1 - epsilon) * np.asarray(y) + epsilon / z.size
    return -np.dot(q, log_probs)


def backward(z, y, epsilon):
    """dL/dz = sigma - (1 - epsilon) y - epsilon / K（y 之和为 1）。"""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z))
    return e / e.sum() - (1 - epsilon) * np.asarray(y) - epsilon / z.size
