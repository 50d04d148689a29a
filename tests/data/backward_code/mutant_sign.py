import numpy as np


def softmax_vjp(z, g):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    s = e / np.sum(e, axis=-1, keepdims=True)
    return -s * (g - np.sum(g * s, axis=-1, keepdims=True))
