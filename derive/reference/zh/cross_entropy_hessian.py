"""softmax 交叉熵的黑塞矩阵，以及不构造矩阵的黑塞矩阵–向量积，用 NumPy 实现。"""
import numpy as np


def softmax(z):
    e = np.exp(np.asarray(z, dtype=float) - np.max(z))  # 平移不变；保证 exp() 不溢出
    return e / e.sum()


def gradient(z, y):
    """dL/dz = sigma - y（y 之和为 1）。"""
    return softmax(z) - np.asarray(y)


def hessian(z):
    """diag(sigma) - sigma sigma^T：与 y 无关；对称、半正定，H @ ones = 0。"""
    s = softmax(z)
    return np.diag(s) - np.outer(s, s)


def hessian_vector_product(z, v):
    """H v = sigma * (v - <sigma, v>)，计算量 O(K)：二阶优化方法用的就是它。"""
    s = softmax(z)
    return s * (v - np.dot(s, v))
