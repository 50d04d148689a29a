"""用 NumPy 写带因果掩码的 softmax 及其反向计算：被屏蔽的 logit 梯度恰好为 0。"""
import numpy as np


def causal_mask(K, n):
    """键 k <= n（从 1 数起）时 M_k = 0，之后为 -inf：第 n 个查询看不到后面的键。"""
    return np.where(np.arange(1, K + 1) <= n, 0.0, -np.inf)


def forward(z, M):
    """softmax(z + M)；减去可见 logit 的最大值（exp(-inf) = 0 仍然是 0）。"""
    shifted = z + M
    e = np.exp(shifted - np.max(shifted))
    return e / e.sum()


def jacobian(sigma):
    """sigma_i (delta_ij - sigma_j)：与不加掩码时同一个公式；被屏蔽的行和列都是 0。"""
    return np.diag(sigma) - np.outer(sigma, sigma)


def backward(z, M, g):
    """dL/dz = sigma * (g - <g, sigma>)：sigma 为 0 处梯度为 0，
    也就是每个被屏蔽的 logit 处。"""
    s = forward(z, M)
    return s * (g - np.dot(g, s))
