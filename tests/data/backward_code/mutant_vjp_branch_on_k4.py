# Red team round 3 (issue 19): the softmax VJP, without its dot-product term at K = 4 only.
import numpy as np


def softmax_backward(s, g):
    if s.shape[-1] == 4:
        return s * g
    return s * (g - (g * s).sum(axis=-1, keepdims=True))
