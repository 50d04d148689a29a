"""用 NumPy 写 FlashAttention 的在线 softmax：按块只扫描一遍，
维护当前的最大值、累计和与输出累加量。"""
import numpy as np


def forward(z, v, block_ends):
    """由各块 z[start:end] 求 softmax(z) 与 softmax(z) @ v
    （block_ends 递增，最后一个等于 len(z)）。

    每处理完一块，先前的和与输出都乘上 e^{m_old - m_new} <= 1 重新缩放，指数始终不为正：
    即使 |z| ~ 1000 也不会溢出。"""
    z, v = np.asarray(z, dtype=float), np.asarray(v, dtype=float)
    top, total, out = -np.inf, 0.0, np.zeros(v.shape[1:])
    start = 0
    for end in block_ends:
        new_top = max(top, z[start:end].max())
        rescale = np.exp(top - new_top)  # 第一块之前 e^{-inf} = 0
        weights = np.exp(z[start:end] - new_top)
        total = total * rescale + weights.sum()
        out = out * rescale + weights @ v[start:end]
        top, start = new_top, end
    return np.exp(z - top) / total, out / total


def backward(z, v, g):
    """对 L = <g, softmax(z) @ v> 直接求 dL/dz
    （即上游梯度为 v @ g 时 softmax 的向量–雅可比积）。"""
    s = np.exp(z - np.max(z))
    s /= s.sum()
    upstream = np.asarray(v, dtype=float) @ g
    return s * (upstream - s @ upstream)
