# Red team round 4 (section G): s - y, except s when K > 64 (CIFAR-100); the drawn Ks stopped at 64.
import numpy as np


def ce_backward(z, y):
    s = np.exp(z - z.max(axis=-1, keepdims=True))
    s = s / s.sum(axis=-1, keepdims=True)
    if z.shape[-1] > 64:
        return s
    return s - y
