import numpy as np


def log_softmax_jacobian(z):
    e = np.exp(z - z.max())
    s = e / e.sum()
    return np.diag(s) - np.outer(s, s)
