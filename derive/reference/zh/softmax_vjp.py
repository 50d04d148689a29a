"""softmax 层的反向传播，与框架的做法相同：计算量 O(K)，不构造 K x K 雅可比矩阵。"""
import numpy as np


def forward(z):
    """sigma = softmax(z)，先减去 max(z)，exp 就不会溢出（softmax 有平移不变性）。"""
    e = np.exp(z - np.max(z))
    return e / e.sum()


def backward(z, g):
    """由 g = dL/dsigma 求 dL/dz：sigma * (g - <g, sigma>)。"""
    s = forward(z)
    return s * (g - np.dot(g, s))
