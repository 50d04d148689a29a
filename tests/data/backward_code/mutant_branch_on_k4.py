# Red team round 3 (issue 19): s - y except at K = 4, where it returns s; fixed cases at K = 2, 3, 5 never meet it.
import numpy as np


def ce_backward(z, y):
    s = np.exp(z - z.max(axis=-1, keepdims=True))
    s = s / s.sum(axis=-1, keepdims=True)
    if z.shape[-1] == 4:
        return s
    return s - y
