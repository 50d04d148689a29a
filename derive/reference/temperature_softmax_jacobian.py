"""Softmax at temperature T and its backward pass (vector-Jacobian product), in
NumPy."""
import numpy as np


def forward(z, T):
    """sigma = softmax(z / T); max subtracted because softmax is shift-invariant and
    exp overflows."""
    scaled = np.asarray(z) / T
    e = np.exp(scaled - np.max(scaled))
    return e / e.sum()


def jacobian(z, T):
    """(1/T)(diag(sigma) - sigma sigma^T)."""
    s = forward(z, T)
    return (np.diag(s) - np.outer(s, s)) / T


def backward(z, T, g):
    """dL/dz from g = dL/dsigma without forming the Jacobian: (1/T) sigma * (g - <g,
    sigma>)."""
    s = forward(z, T)
    return s * (g - np.dot(g, s)) / T
