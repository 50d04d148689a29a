import numpy as np


def cross_entropy_backward(logits, y):
    e = np.exp(logits - logits.max())
    return e / e.sum() - 1
