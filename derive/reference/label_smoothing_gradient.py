"""Softmax cross-entropy with label smoothing, forward and backward, in NumPy."""
import numpy as np


def forward(z, y, epsilon):
    """L = -sum_k q_k log sigma_k, q = (1 - epsilon) y + epsilon / K; log-softmax
    computed stably."""
    z = np.asarray(z, dtype=float)
    shifted = z - np.max(z)  # log-softmax is shift-invariant; exp(z) would overflow
    log_probs = shifted - np.log(np.exp(shifted).sum())
    q = (1 - epsilon) * np.asarray(y) + epsilon / z.size
    return -np.dot(q, log_probs)


def backward(z, y, epsilon):
    """dL/dz = sigma - (1 - epsilon) y - epsilon / K (y sums to one)."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z))
    return e / e.sum() - (1 - epsilon) * np.asarray(y) - epsilon / z.size
