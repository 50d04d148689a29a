"""一批样本经过线性 softmax 分类器，损失取交叉熵的平均，用 NumPy 实现。

布局：每行一个样本。X 为 N x D，Y 为 N x K（每行之和为 1），W 为 K x D，
b 长度为 K；Z = X W^T + b。
"""
import numpy as np


def probabilities(W, b, X):
    Z = X @ W.T + b
    # 逐行减去最大值：每行的 softmax 都有平移不变性。
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def forward(W, b, X, Y):
    """L = -(1/N) sum_n sum_k Y_nk log P_nk，逐行稳定地计算 log-softmax。"""
    Z = X @ W.T + b
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.sum(Y * log_probs) / X.shape[0]


def backward(W, b, X, Y):
    """(dL/dW, dL/db) = ((1/N) (P - Y)^T X, (1/N) (P - Y)^T 1)，形状分别为 K x D 和 K。"""
    error = (probabilities(W, b, X) - Y) / X.shape[0]
    return error.T @ X, error.sum(axis=0)
