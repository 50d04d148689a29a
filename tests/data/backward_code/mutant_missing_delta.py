import numpy as np


def softmax_jacobian(z):
    e = np.exp(z - np.max(z))
    s = e / e.sum()
    return s[:, None] * (1 - s[None, :])
