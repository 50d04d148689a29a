"""softmax 的前向计算及其雅可比矩阵，用 NumPy 实现。"""
import numpy as np


def forward(z):
    """sigma = softmax(z)；先减去 max(z)，exp 就不会溢出。"""
    e = np.exp(z - np.max(z))
    return e / e.sum()


def jacobian(sigma):
    """d sigma_i / d z_j = sigma_i (delta_ij - sigma_j)，
    即 diag(sigma) - sigma sigma^T。"""
    return np.diag(sigma) - np.outer(sigma, sigma)


def backward(sigma, grad_sigma):
    """由 dL/dsigma 求 dL/dz，不构造 K x K 矩阵：sigma * (g - <g, sigma>)。"""
    return sigma * (grad_sigma - np.dot(grad_sigma, sigma))
