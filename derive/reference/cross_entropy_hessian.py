"""The Hessian of softmax cross-entropy and its matrix-free product, in NumPy."""
import numpy as np


def softmax(z):
    # Softmax is shift-invariant: subtracting the maximum keeps exp() finite.
    e = np.exp(np.asarray(z, dtype=float) - np.max(z))
    return e / e.sum()


def gradient(z, y):
    """dL/dz = sigma - y (y sums to one)."""
    return softmax(z) - np.asarray(y)


def hessian(z):
    """diag(sigma) - sigma sigma^T: independent of y; symmetric, PSD, H @ ones = 0."""
    s = softmax(z)
    return np.diag(s) - np.outer(s, s)


def hessian_vector_product(z, v):
    """H v = sigma * (v - <sigma, v>) in O(K): what second-order optimisers use."""
    s = softmax(z)
    return s * (v - np.dot(s, v))
