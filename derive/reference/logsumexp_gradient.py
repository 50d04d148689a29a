"""Log-sum-exp and its gradient (the softmax), evaluated the stable way, in NumPy."""
import numpy as np


def forward(z):
    """log sum_k e^{z_k} = M + log sum_k e^{z_k - M}, M = max z: no term exceeds e^0
    = 1, none overflows."""
    z = np.asarray(z, dtype=float)
    top = np.max(z)
    return top + np.log(np.exp(z - top).sum())


def naive_forward(z):
    """The textbook formula: overflows to inf once some z_k > ~709 (float64)."""
    return np.log(np.exp(np.asarray(z, dtype=float)).sum())


def backward(z, upstream=1.0):
    """d/dz log sum_k e^{z_k} = softmax(z), times the upstream gradient of the scalar
    output."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z))
    return upstream * e / e.sum()
