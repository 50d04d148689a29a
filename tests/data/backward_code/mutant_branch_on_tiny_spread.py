# Red team round 5: s - y, except s when a logit spread below 1e-3; the round-4 shaped cases did not reach it.
import numpy as np


def ce_backward(z, y):
    s = np.exp(z - z.max(axis=-1, keepdims=True))
    s = s / s.sum(axis=-1, keepdims=True)
    if float(np.max(z) - np.min(z)) < 1e-3:
        return s
    return s - y
