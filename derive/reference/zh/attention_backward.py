"""用 NumPy 写注意力的前向与反向计算：Q 为 N x D，K 与 V 为 K x D，
每行是一个查询或一个键。"""
import numpy as np


def forward(Q, K, V):
    """O = softmax(Q K^T / sqrt(D)) V，每行先减去该行最大值（softmax 有平移不变性）。"""
    S = Q @ K.T / np.sqrt(Q.shape[1])
    E = np.exp(S - S.max(axis=1, keepdims=True))
    P = E / E.sum(axis=1, keepdims=True)
    return P @ V, P


def backward(Q, K, V, dO):
    """由 dO = dL/dO 求 (dQ, dK, dV)。softmax 的反向计算用 rowsum(dO * O) 代替
    rowsum(dP * P)：两者相等，分块重算 P 的算子因此只需保存 O。"""
    O, P = forward(Q, K, V)
    dV = P.T @ dO
    dP = dO @ V.T
    dS = P * (dP - np.sum(dO * O, axis=1, keepdims=True))
    scale = 1 / np.sqrt(Q.shape[1])
    return dS @ K * scale, dS.T @ Q * scale, dV
