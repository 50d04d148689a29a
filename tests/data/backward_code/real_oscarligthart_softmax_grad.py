# Re-expressed from OscarLigthart/Deep-Learning, code/test.py: Jacobian as diagflat(s) - s s^T.
import numpy as np


def softmax_grad(softmax):
    s = softmax.reshape(-1, 1)
    return np.diagflat(s) - np.dot(s, s.T)
