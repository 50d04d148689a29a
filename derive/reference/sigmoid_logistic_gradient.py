"""Binary logistic regression output: sigmoid and binary cross-entropy, forward and
backward, in NumPy."""
import numpy as np


def sigmoid(u):
    """1 / (1 + e^{-u}), computed without overflow for large |u| (e^{-u} only for u
    >= 0)."""
    u = np.asarray(u, dtype=float)
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, 1 / (1 + e), e / (1 + e))


def forward(u, y):
    """-y log s - (1 - y) log(1 - s), via log s = -log(1 + e^{-u}) (logaddexp,
    stable)."""
    return y * np.logaddexp(0, -u) + (1 - y) * np.logaddexp(0, u)


def backward(u, y):
    """dL/du = sigmoid(u) - y."""
    return sigmoid(u) - y
