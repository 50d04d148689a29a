# Red team round 5: s - y, except s when all logits equal (a freshly initialised model: z = 0); the round-4 shaped cases did not reach it.
import numpy as np


def ce_backward(z, y):
    s = np.exp(z - z.max(axis=-1, keepdims=True))
    s = s / s.sum(axis=-1, keepdims=True)
    if np.all(z == z.flat[0]):
        return s
    return s - y
