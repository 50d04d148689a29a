"""log-softmax 的前向计算及其雅可比矩阵，用 NumPy 实现。"""
import numpy as np


def forward(z):
    """log sigma = z - logsumexp(z)，借助 max(z) 稳定地计算。"""
    shifted = z - np.max(z)
    return shifted - np.log(np.exp(shifted).sum())


def jacobian(log_sigma):
    """d log sigma_i / d z_j = delta_ij - sigma_j，即 I - 1 sigma^T。"""
    sigma = np.exp(log_sigma)
    return np.eye(sigma.size) - np.outer(np.ones_like(sigma), sigma)


def backward(log_sigma, grad_log_sigma):
    """由 dL/dlog sigma 求 dL/dz：g - sigma * sum(g)。"""
    return grad_log_sigma - np.exp(log_sigma) * grad_log_sigma.sum()
