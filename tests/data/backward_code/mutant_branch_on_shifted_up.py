# Red team round 4 (section G): s - y, except s when every logit is above 50; the cases' logits were centred near 0.
import numpy as np


def ce_backward(z, y):
    s = np.exp(z - z.max(axis=-1, keepdims=True))
    s = s / s.sum(axis=-1, keepdims=True)
    if z.min() > 50:
        return s
    return s - y
