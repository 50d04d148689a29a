# Red team round 4 (section G): s - y, except s when K == 10 (MNIST); caught at 1 seed in 12 when K was drawn from 9..16.
import numpy as np


def ce_backward(z, y):
    s = np.exp(z - z.max(axis=-1, keepdims=True))
    s = s / s.sum(axis=-1, keepdims=True)
    if z.shape[-1] == 10:
        return s
    return s - y
